"""Ranking: group candidates, keep each resource once, order soonest-then-nearest, cut."""

import math
from itertools import repeat

import numpy as np

from . import kernels
from .query import (
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
from .search_index import SearchIndex

_new = tuple.__new__
_SCALES = np.array([[1e9], [1e6]])  # rounding of the (distance, until) keys: 9 and 6 decimals


def distinct_count(values: np.ndarray) -> int:
    """How many different values (a set for a few, else sort-based: NumPy 2.4's hash-based
    unique is slower here)."""
    if len(values) < 64:
        return len(set(values.tolist()))
    ordered = np.sort(values)
    return 1 + int(np.count_nonzero(ordered[1:] != ordered[:-1]))


def first_of_each(order: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """``order`` without repeated ids, keeping each id's first (best-ranked) position."""
    ranked = ids.take(order)
    by_id = ranked.argsort(kind="stable")
    ordered = ranked.take(by_id)
    keep = np.ones(len(order), dtype=bool)
    keep[by_id[1:][ordered[1:] == ordered[:-1]]] = False
    return order[keep]


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
    ids = found.resource  # positions are in id order (see SearchIndex): ties break as ids
    nearest = query.order == "nearest"
    if len(ids) <= LARGE:
        chosen, sizes, totals = kernels.rank_groups(
            found.times, found.group, ids, nearest, query.limit, len(GROUPS)
        )
        sizes, totals = sizes.tolist(), totals.tolist()
    else:
        ranked = _rank_large(found, ids, _keys(found, nearest), query.limit)
        chosen = np.concatenate([members for members, _ in ranked])
        sizes, totals = [len(members) for members, _ in ranked], [n for _, n in ranked]
    groups = _hits(index, query, found, chosen, sizes)
    totals = dict(zip(GROUPS, totals, strict=True))
    if counts:
        totals.update(_fast_totals(index, handed, counts))
    return Results(query, groups, totals, radius_km)


def _keys(found: Candidates, nearest: bool) -> tuple[np.ndarray, np.ndarray]:
    """(primary, secondary) ranking keys, as ``finder.kernels.rank_key`` makes them.

    As np.fmax(np.abs(x).round(decimals), 0.0) (round is x * 10**d, rint, / 10**d), on both
    columns at once (abs changes no distance: they are never negative).
    """
    keys = np.abs(found.times.T, order="C")  # (2, n): each key contiguous
    np.multiply(keys, _SCALES, out=keys)
    np.rint(keys, out=keys)
    np.divide(keys, _SCALES, out=keys)
    np.fmax(keys, 0.0, out=keys)
    distance_key, time_key = keys
    # soonest: in progress, most recently started first; then soonest to start; then nearest
    return (distance_key, time_key) if nearest else (time_key, distance_key)


LARGE = 3000  # above this many candidates, select per group before sorting


def _rank_large(found: Candidates, ids, keys, limit: int) -> list[tuple[np.ndarray, int]]:
    """Per group: drop resources shown in an earlier group, count, and sort only the front."""
    ranked, seen = [], np.empty(0, dtype=np.int64)
    for number in range(len(GROUPS)):
        members = np.flatnonzero(found.group == number)
        members = members[~member_of(ids[members], seen)]
        distinct = distinct_count(ids[members])
        seen = np.concatenate([seen, ids[members]])
        ranked.append((_best(members, ids, keys, limit, len(members) - distinct), distinct))
    return ranked


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


def _best(
    members: np.ndarray, ids: np.ndarray, keys: tuple, limit: int, repeats: int
) -> np.ndarray:
    """The first ``limit`` distinct resources by (primary key, secondary key, id).

    Only candidates whose primary key is within the (limit + repeats)-th smallest can be among
    them, so the full sort runs on those few rather than on every candidate.
    """
    primary, secondary = keys
    enough = limit + repeats
    if len(members) > enough:
        cut = np.partition(primary[members], enough - 1)[enough - 1]
        members = members[primary[members] <= cut]
    order = members[np.lexsort((ids[members], secondary[members], primary[members]))]
    return first_of_each(order, ids)[:limit]


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
