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
from typing import NamedTuple

import numpy as np

from finder.schedule import DST_MARGIN_MINUTES, MINUTES_PER_WEEK
from finder.search import kernel_inputs
from finder.search.index import KEY_SPAN, SearchIndex

_POSITION_BITS = 26  # resource positions below 67 million


class Regime(NamedTuple):
    """Fast online occurrences keyed by (duration number, UTC minute of the week, resource
    position), twice: by minute ascending (the soonest to start first) and by minute descending
    (the most recently started first); within a minute, by resource position (= id order, the
    ranking's last tie-breaker) in both. The best of any range are then its first entries.

    ``*_at`` is a directory of each ordering: entry ``number * (MINUTES_PER_WEEK + 1) + minute``
    is the position of the first key of that duration number at or after that minute, so a
    query finds its ranges by lookups rather than binary searches."""

    soonest_at: np.ndarray
    soonest_rows: np.ndarray  # indices into index.online, in key order
    latest_at: np.ndarray
    latest_rows: np.ndarray  # keys with minutes counted backwards from the end of the week


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
            [(n * KEY_SPAN + minutes) << _POSITION_BITS for n in range(len(fast.durations))]
        )

        def ordered(minute: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            key = ((number * KEY_SPAN + minute) << _POSITION_BITS) | position
            order = np.argsort(key)
            return key[order].searchsorted(edges), rows[order]

        if len(fast.regimes) >= 8:
            fast.regimes.pop(next(iter(fast.regimes)))
        fast.regimes[cache_key] = Regime(*ordered(utc), *ordered(MINUTES_PER_WEEK - 1 - utc))
    return fast.regimes[cache_key]


def window(index: SearchIndex, clock, soon: float, end: float, need: int):
    """Counts and the best-placed occurrences of the fast online set in the query window.

    :param soon: minutes from t0 to the end of "starting soon"
    :param end: minutes from t0 to the end of the window (>= soon)
    :param need: how many of the best occurrences each range must hand over (ties included)
    :returns: (candidate rows and times as ``kernels.online_soonest`` makes them,
        occurrences in progress or soon, occurrences later)
    """
    t0u = clock.t0_utc_minute % MINUTES_PER_WEEK
    span = kernel_inputs.OnlineSpan(
        t0u,
        t0u + math.floor(clock.fraction + soon),
        t0u + math.floor(clock.fraction + end),
        need,
    )
    return kernel_inputs.online_soonest(
        regime(index, clock.offsets),
        index.online_fast.bases,
        span,
        index.online.rows,
        kernel_inputs.window_of(clock),
        soon,
    )


def usable(index: SearchIndex, plan, clock) -> bool:
    """Whether the fast path gives exactly the general path's answer for this query."""
    fast = index.online_fast
    if fast is None:
        return False
    # An offset change matters if an occurrence in the window can start or run across it (with
    # an hour's margin, as for the in-person ranges); one that happened earlier does not.
    since = clock.t0_utc_minute - int(fast.durations[-1]) - DST_MARGIN_MINUTES
    if any(instant >= since for _, instant, *_ in clock.transitions):
        return False
    if plan.include is not None or plan.exclude is not None or plan.programs is not None:
        return False
    if not (plan.everything or plan.codes[fast.codes].all()):
        return False
    # One occurrence per resource per window: otherwise counts would count a resource twice.
    return clock.horizon + int(fast.durations[-1]) < fast.min_gap
