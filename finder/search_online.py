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

from dataclasses import dataclass

import numpy as np

from .schedule import MINUTES_PER_WEEK
from .search_index import SearchIndex, ranges_to_indices

_SPAN = 16384
_POSITION_BITS = 26  # resource positions below 67 million
MAX_DURATIONS = 16  # more distinct durations than this: the general path is as good


@dataclass
class Regime:
    """Fast online occurrences keyed by (duration number, UTC minute of the week)."""

    key: np.ndarray
    rows: np.ndarray  # indices into index.online


def regime(index: SearchIndex, offsets: np.ndarray) -> Regime:
    """The fast key for one set of zone offsets (built once per offsets, then cached)."""
    fast = index.online_fast
    cache_key = offsets.tobytes()
    if cache_key not in fast.regimes:
        occ, rows = index.online, fast.rows
        utc = (occ.start[rows] - offsets[occ.zone[rows]]) % MINUTES_PER_WEEK
        slot = np.searchsorted(fast.durations, occ.duration[rows]) * _SPAN + utc
        # Within a minute, by resource position (= id order): the ranking's last tie-breaker.
        key = (slot << _POSITION_BITS) | occ.resource[rows].astype(np.int64)
        order = np.argsort(key)
        if len(fast.regimes) >= 8:
            fast.regimes.pop(next(iter(fast.regimes)))
        fast.regimes[cache_key] = Regime(key[order], rows[order])
    return fast.regimes[cache_key]


def window(index: SearchIndex, clock, soon: float, end: float, need: int):
    """Counts and the best-placed occurrences of the fast online set in the query window.

    :param soon: minutes from t0 to the end of "starting soon"
    :param end: minutes from t0 to the end of the window (>= soon)
    :param need: how many of the soonest occurrences each range must hand over (ties included)
    :returns: (indices into index.online, occurrences in progress or soon, occurrences later)
    """
    fast = index.online_fast
    table = regime(index, clock.offsets)
    t0u = clock.t0_utc_minute % MINUTES_PER_WEEK
    fraction = clock.fraction
    soon_last = t0u + int(np.floor(fraction + soon))
    end_last = t0u + int(np.floor(fraction + end))
    pieces = []  # (first minute key, last minute key + 1, side, later?)
    for number, duration in enumerate(fast.durations.tolist()):
        base = number * _SPAN
        spans = [
            (t0u - duration + 1, t0u, "tail", 0),
            (t0u + 1, soon_last, "head", 0),
            (soon_last + 1, end_last, "head", 1),
        ]
        pieces += [
            (base + lo, base + hi + 1, side, later)
            for low, high, side, later in spans
            for lo, hi in _pieces(low, high)
        ]
    bounds = np.array([(p[0], p[1]) for p in pieces], dtype=np.int64) << _POSITION_BITS
    found = np.searchsorted(table.key, bounds.ravel()).reshape(-1, 2)
    left, right = found[:, 0], found[:, 1]
    later = np.array([p[3] for p in pieces], dtype=bool)
    tail = np.array([p[2] == "tail" for p in pieces], dtype=bool)
    counts = right - left
    lefts, rights = _best_ends(table.key, left, right, tail, need)
    picked = table.rows[ranges_to_indices(lefts, rights)]
    return picked, int(counts[~later].sum()), int(counts[later].sum())


def _best_ends(key, left, right, tail, need: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``need`` best entries of each [left, right): the first ones (heads: soonest), or the
    latest minute first and lowest id first within it (tails: most recently started first)."""
    lefts = [left[~tail]]
    rights = [np.minimum(left[~tail] + need, right[~tail])]
    low, high = left[tail], right[tail]
    remaining = np.full(len(low), need)
    while True:
        active = (remaining > 0) & (high > low)
        if not active.any():
            break
        low, high, remaining = low[active], high[active], remaining[active]
        minute = key[high - 1] >> _POSITION_BITS
        start = np.maximum(np.searchsorted(key, minute << _POSITION_BITS), low)
        lefts.append(start)
        rights.append(np.minimum(start + remaining, high))
        remaining = remaining - np.minimum(remaining, high - start)
        high = start
    return np.concatenate(lefts), np.concatenate(rights)


def _pieces(low: int, high: int) -> list[tuple[int, int]]:
    """A [low, high] span of minutes of the week, split where it wraps past Saturday midnight."""
    if high < low:
        return []
    if high - low >= MINUTES_PER_WEEK - 1:
        return [(0, MINUTES_PER_WEEK - 1)]
    low_w, high_w = low % MINUTES_PER_WEEK, high % MINUTES_PER_WEEK
    if low_w <= high_w:
        return [(low_w, high_w)]
    return [(low_w, MINUTES_PER_WEEK - 1), (0, high_w)]


def usable(index: SearchIndex, plan, clock) -> bool:
    """Whether the fast path gives exactly the general path's answer for this query."""
    fast = index.online_fast
    if fast is None or clock.transitions:
        return False
    if plan.include is not None or plan.exclude is not None or plan.programs is not None:
        return False
    if not (plan.kinds[fast.kinds].all() and plan.attendance[fast.attendance].all()):
        return False
    # One occurrence per resource per window: otherwise counts would count a resource twice.
    return clock.horizon + int(fast.durations.max()) < fast.min_gap
