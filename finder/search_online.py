"""Online meetings "now" at national scale: counts and the soonest few, without touching them all.

At 1M meetings, thousands of online meetings are in progress or starting soon at any moment;
a person sees the first 25 and a count. While no zone changes its UTC offset near the query
window (all but a few hours a year), every online occurrence has a fixed UTC minute of the week.
Keyed by (exact duration, UTC minute), the occurrences in progress are one contiguous range per
duration and those starting soon another, so counts are range lengths and the soonest are at
the ranges' ends. The general path in ``finder.search`` covers everything else (DST weekends,
type or program filters, service areas, resources with two occurrences close together), and
``finder.search_naive`` checks both.
"""

import math
from dataclasses import dataclass

import numpy as np

from .schedule import MINUTES_PER_WEEK, week_pieces
from .search_index import SearchIndex

_SPAN = 16384
_POSITION_BITS = 26  # resource positions below 67 million
MAX_DURATIONS = 16  # more distinct durations than this: the general path is as good


@dataclass
class Regime:
    """Fast online occurrences keyed by (duration number, UTC minute of the week, resource
    position), twice: by minute ascending (the soonest to start first) and by minute descending
    (the most recently started first); within a minute, by resource position (= id order, the
    ranking's last tie-breaker) in both. The best of any range are then its first entries.

    ``*_at`` is a directory of each ordering: entry ``number * (MINUTES_PER_WEEK + 1) + minute``
    is the position of the first key of that duration number at or after that minute, so a
    query finds its ranges by list lookups rather than binary searches."""

    soonest_rows: np.ndarray  # indices into index.online, in key order
    soonest_at: list[int]
    latest_rows: np.ndarray  # keys with minutes counted backwards from the end of the week
    latest_at: list[int]


def regime(index: SearchIndex, offsets: np.ndarray) -> Regime:
    """The fast keys for one set of zone offsets (built once per offsets, then cached)."""
    fast = index.online_fast
    cache_key = offsets.tobytes()
    if cache_key not in fast.regimes:
        occ, rows = index.online, fast.rows
        utc = (occ.start[rows] - offsets[occ.zone[rows]]) % MINUTES_PER_WEEK
        number = np.searchsorted(fast.durations, occ.duration[rows])
        position = occ.resource[rows]
        minutes = np.arange(MINUTES_PER_WEEK + 1)
        edges = np.concatenate(
            [(n * _SPAN + minutes) << _POSITION_BITS for n in range(len(fast.durations))]
        )

        def ordered(minute: np.ndarray) -> tuple[np.ndarray, list[int]]:
            key = ((number * _SPAN + minute) << _POSITION_BITS) | position
            order = np.argsort(key)
            return rows[order], key[order].searchsorted(edges).tolist()

        if len(fast.regimes) >= 8:
            fast.regimes.pop(next(iter(fast.regimes)))
        fast.regimes[cache_key] = Regime(*ordered(utc), *ordered(MINUTES_PER_WEEK - 1 - utc))
    return fast.regimes[cache_key]


def window(index: SearchIndex, clock, soon: float, end: float, need: int):
    """Counts and the best-placed occurrences of the fast online set in the query window.

    :param soon: minutes from t0 to the end of "starting soon"
    :param end: minutes from t0 to the end of the window (>= soon)
    :param need: how many of the best occurrences each range must hand over (ties included)
    :returns: (indices into index.online, occurrences in progress or soon, occurrences later)
    """
    table = regime(index, clock.offsets)
    soonest, latest = table.soonest_at, table.latest_at
    t0u = clock.t0_utc_minute % MINUTES_PER_WEEK
    soon_last = t0u + math.floor(clock.fraction + soon)
    end_last = t0u + math.floor(clock.fraction + end)
    now, later, behind = [], [], []  # [first, last + 1) positions of each range
    for base, duration in index.online_fast.bases:
        now += _ranges(soonest, base, t0u + 1, soon_last)
        later += _ranges(soonest, base, soon_last + 1, end_last)
        # in progress: started in [t0u - duration + 1, t0u], counted backwards from the week's end
        behind += _ranges(
            latest, base, MINUTES_PER_WEEK - 1 - t0u, MINUTES_PER_WEEK - 2 - t0u + duration
        )
    rows = table.soonest_rows
    parts = [rows[a : min(a + need, b)] for a, b in now + later]
    rows = table.latest_rows
    parts += [rows[a : min(a + need, b)] for a, b in behind]
    picked = np.concatenate(parts) if parts else rows[:0]
    counted = sum(b - a for a, b in now) + sum(b - a for a, b in behind)
    return picked, counted, sum(b - a for a, b in later)


def _ranges(at: list[int], base: int, low: int, high: int) -> list[tuple[int, int]]:
    """Non-empty [first, last + 1) positions of the minutes [low, high] (of the week, wrapping) of
    one duration number, whose directory entries start at ``base``."""
    found = []
    for first, last in week_pieces(low, high):
        a, b = at[base + first], at[base + last + 1]
        if b > a:
            found.append((a, b))
    return found


def usable(index: SearchIndex, plan, clock) -> bool:
    """Whether the fast path gives exactly the general path's answer for this query."""
    fast = index.online_fast
    if fast is None:
        return False
    # An offset change matters if an occurrence in the window can start or run across it (with
    # an hour's margin, as for the in-person ranges); one that happened earlier does not.
    since = clock.t0_utc_minute - int(fast.durations[-1]) - 60
    if any(instant >= since for _, instant, *_ in clock.transitions):
        return False
    if plan.include is not None or plan.exclude is not None or plan.programs is not None:
        return False
    if not (plan.everything or plan.codes[fast.codes].all()):
        return False
    # One occurrence per resource per window: otherwise counts would count a resource twice.
    return clock.horizon + int(fast.durations[-1]) < fast.min_gap
