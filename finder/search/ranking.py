"""Ranking: group candidates, keep each resource once, order soonest-then-nearest, cut."""

import math
from itertools import repeat

import numpy as np

from finder.search import kernel_inputs
from finder.search.index import SearchIndex
from finder.search.query import (
    DURATION,
    GROUP,
    GROUPS,
    ONLINE_NOW,
    RESOURCE,
    START,
    ZONE,
    Candidates,
    Hit,
    Query,
    Results,
)

_new = tuple.__new__


def distinct_count(values: np.ndarray) -> int:
    """How many different values (a set for a few, else sort-based: NumPy 2.4's hash-based
    unique is slower here)."""
    if len(values) < 64:
        return len(set(values.tolist()))
    ordered = np.sort(values)
    return 1 + int(np.count_nonzero(ordered[1:] != ordered[:-1]))


def rank(
    index: SearchIndex,
    query: Query,
    found: Candidates,
    radius_km: float,
    counts: dict | None = None,
    handed: np.ndarray | None = None,
) -> Results:
    """Group candidates, keep each resource once (its best occurrence), order, cut to the limit.

    :param counts: group -> occurrences the fast online path counted but did not all hand over
    :param handed: with counts, the rows of the candidates that did not come from the fast path
    """
    # Positions are in id order (see SearchIndex), so they break ties as ids would.
    chosen, sizes, totals = kernel_inputs.rank_groups(
        found.times, found.group, found.resource, query.order == "nearest", query.limit, len(GROUPS)
    )
    groups = _hits(index, query, found, chosen, sizes.tolist())
    totals = dict(zip(GROUPS, totals.tolist(), strict=True))
    if counts:
        totals.update(_fast_totals(index, handed, counts))
    return Results(query, groups, totals, radius_km)


def member_of(values: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """Whether each value is in ``pool`` (binary search; pool is usually small)."""
    if not len(pool) or not len(values):
        return np.zeros(len(values), dtype=bool)
    pool = np.sort(pool)
    at = np.minimum(np.searchsorted(pool, values), len(pool) - 1)
    return pool[at] == values


def _fast_totals(index: SearchIndex, handed: np.ndarray, counts: dict) -> dict[str, int]:
    """The true sizes of the groups the fast online path counted (see ``_fast_total``).

    (Sets of Python ints were tried for the usual few dozen rows: twice as slow.)
    """
    return {GROUPS[n]: _fast_total(index, handed, n, c) for n, c in counts.items()}


def _fast_total(index: SearchIndex, handed: np.ndarray, number: int, counted: int) -> int:
    """A group's true size when the fast online path counted occurrences it did not hand over.

    ``counted`` includes hybrid meetings also listed in person: for "online now" those in an
    earlier group (in progress, starting soon), for "later" those in this group.

    :param handed: rows of the candidates that did not come from the fast path
    """
    group, resource = handed[:, GROUP], handed[:, RESOURCE]
    mine = resource[group == number]
    if not len(mine) and number != ONLINE_NOW:
        return counted
    earlier = resource[group < number]
    mine = mine[~member_of(mine, earlier)]
    listed = earlier if number == ONLINE_NOW else mine
    hybrids = listed[index.fast_hybrid[listed]]
    return distinct_count(mine) + counted - distinct_count(hybrids)


def _hits(index: SearchIndex, query: Query, found: Candidates, chosen, sizes: list) -> dict:
    """Hit objects for the chosen candidates (group after group, ``sizes`` of each), with one
    conversion for all groups."""
    rows = found.rows.take(chosen, 0)
    ids = index.ids.take(rows[:, RESOURCE]).tolist()
    zones = index.zone_names.take(rows[:, ZONE]).tolist()
    columns = rows.T.tolist()
    starts, durations = columns[START], columns[DURATION]
    distances, untils = found.times.take(chosen, 0).T.tolist()
    if math.isnan(sum(distances)):  # NaN: no distance (online)
        distances = [None if d != d else d for d in distances]
    if math.isnan(sum(untils)):  # NaN: no time (always open, or an any-time search)
        for i in (i for i, until in enumerate(untils) if until != until):
            starts[i] = durations[i] = zones[i] = untils[i] = None
    groups, first = {}, 0
    for name, size in zip(GROUPS, sizes, strict=True):
        last = first + size
        fields = zip(
            ids[first:last],
            repeat(name),
            distances[first:last],
            starts[first:last],
            durations[first:last],
            zones[first:last],
            untils[first:last],
            repeat(query),
        )
        groups[name] = list(map(_new, repeat(Hit), fields))  # as Hit(*fields), in C
        first = last
    return groups
