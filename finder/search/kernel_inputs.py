"""The one boundary between Python and the compiled kernels (``finder.search.kernels``).

As h3-py keeps one ``_internal_api`` between its compiled core and Python, every call into the
kernels goes through here, and their inputs are built here as named tuples (numba takes named
tuples as they are), so no module assembles positional tuples or knows an argument order.
"""

from typing import NamedTuple

import numpy as np

from finder.search import kernels

# Plain helpers the rest of the search uses as they are.
place_row, place_rows, distances = kernels.place_row, kernels.place_rows, kernels.distances


class Filters(NamedTuple):
    """A query's kind, attendance, program and type filters as lookup tables."""

    everything: bool  # every resource of the index passes: no check needed
    codes: np.ndarray  # bool per resource code (kind and attendance)
    programs: np.ndarray  # bool per program number; empty: any program
    program: np.ndarray  # each resource's program number
    words: np.ndarray  # uint64: type bits that must be set (low, high), must be clear (low, high)
    types_low: np.ndarray  # each resource's type bits 0-63
    types_high: np.ndarray  # and 64-127


class Window(NamedTuple):
    """The searched window in every zone's wall-clock minutes (from ``engine.Clock``)."""

    lows: np.ndarray  # per zone number, the window start as a local minute of the week
    horizon: int  # whole minutes from the window start to its end
    fraction: float  # minutes already past the window start's whole minute
    changes: np.ndarray  # (zone, threshold, now - before, now - after) per offset change near


class Reach(NamedTuple):
    """Where and how soon: the searcher's position and the window's group boundaries."""

    point: np.ndarray  # the searcher's ``place_row``; empty for online (no distance)
    radius: float  # km; infinite for online
    soon: float  # minutes to the end of "starting soon"
    end: float  # minutes to the end of the window


NO_POINT = np.empty(0)


def window_of(clock) -> Window:
    """The kernels' view of an ``engine.Clock``."""
    return Window(clock.lows, clock.horizon, clock.fraction, clock.changes)


def reach_of(plan, radius_km: float | None) -> Reach:
    """Near a point within radius_km, or (radius_km None) anywhere: online occurrences."""
    if radius_km is None:
        return Reach(NO_POINT, np.inf, plan.soon, plan.end)
    return Reach(plan.point, radius_km, plan.soon, plan.end)


def scan_window(occurrences, groups, window: Window, reach: Reach, now_group, filters: Filters):
    """Occurrences of the searched buckets in the window, within reach and allowed, grouped."""
    return kernels.scan_window(
        occurrences.key, occurrences.rows, occurrences.places, groups, window, reach, now_group,
        filters,
    )  # fmt: skip


class OnlineSpan(NamedTuple):
    """The window in UTC minutes of the week, for the fast online path."""

    start: int  # the window start's UTC minute of the week
    soon_last: int  # last UTC minute of "starting soon"
    end_last: int  # last UTC minute of the window
    need: int  # how many of each kind of occurrence to take


def online_soonest(directory, bases, span: OnlineSpan, rows, window: Window, soon):
    """The fast online path's candidates and counts (``kernels.online_soonest``).

    :param directory: an ``online.Regime`` (a named tuple of its two orderings)
    """
    return kernels.online_soonest(directory, bases, span, rows, window, soon)


def rank_groups(times, group, ids, nearest: bool, limit: int, groups: int):
    """Each resource's best candidate, the best ``limit`` of each group, and group totals."""
    return kernels.rank_groups(times, group, ids, nearest, limit, groups)
