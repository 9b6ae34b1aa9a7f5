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
    table = regime(index, clock.offsets)
    t0u = clock.t0_utc_minute % MINUTES_PER_WEEK
    soon_last = t0u + math.floor(clock.fraction + soon)
    end_last = t0u + math.floor(clock.fraction + end)
    heads, later, tails = [], [], []  # [first minute key, last minute key + 1) of each range
    for number, duration in enumerate(index.online_fast.durations.tolist()):
        base = number * _SPAN
        for spans, low, high in (
            (tails, t0u - duration + 1, t0u),
            (heads, t0u + 1, soon_last),
            (later, soon_last + 1, end_last),
        ):
            spans += [(base + lo, base + hi + 1) for lo, hi in week_pieces(low, high)]
    bounds = np.array(heads + later + tails, dtype=np.int64).reshape(-1, 2) << _POSITION_BITS
    found = np.searchsorted(table.key, bounds.ravel())
    left, right = found[0::2], found[1::2]
    counts = (right - left).tolist()
    split = len(heads) + len(later)
    lefts, rights = _best_ends(table.key, left, right, split, need)
    picked = table.rows.take(ranges_to_indices(lefts, rights))
    now = sum(counts[: len(heads)]) + sum(counts[split:])
    return picked, now, sum(counts[len(heads) : split])


def _best_ends(key, left, right, split: int, need: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``need`` best entries of each [left, right): the first ones for the ranges before
    ``split`` (soonest first), the latest minute first and lowest id first within it for the
    others (tails: most recently started first)."""
    low, high = left[split:], right[split:]
    # The minute of the need-th entry from the end: every later minute is taken whole, then as
    # many of its lowest ids as are still needed. (An empty range's bounds fall outside it.)
    nth = np.minimum(np.maximum(low, high - need), len(key) - 1)
    minute = key.take(nth) >> _POSITION_BITS
    block = np.searchsorted(key, np.concatenate([minute, minute + 1]) << _POSITION_BITS)
    first, after = block[: len(low)], block[len(low) :]
    lefts = np.concatenate([left[:split], after, first])
    rights = np.concatenate(
        [
            np.minimum(left[:split] + need, right[:split]),
            high,
            np.minimum(first + (need - (high - after)), np.minimum(after, high)),
        ]
    )
    return lefts, rights


def usable(index: SearchIndex, plan, clock) -> bool:
    """Whether the fast path gives exactly the general path's answer for this query."""
    fast = index.online_fast
    if fast is None or clock.transitions:
        return False
    if plan.include is not None or plan.exclude is not None or plan.programs is not None:
        return False
    if not (plan.everything or plan.codes[fast.codes].all()):
        return False
    # One occurrence per resource per window: otherwise counts would count a resource twice.
    return clock.horizon + int(fast.durations.max()) < fast.min_gap
