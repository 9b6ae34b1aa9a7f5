"""Near me and now: what support a person can reach from a place, at a time. Pure functions.

``search(index, query)`` answers from a ``SearchIndex`` with vectorised candidate filtering;
``finder.search_naive`` answers the same question by brute force, to prove this path right.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import numpy as np

from finder.geo.areas import serves
from finder.schedule import DST_MARGIN_MINUTES, MINUTES_PER_WEEK
from finder.search import kernel_inputs
from finder.search import online as search_online
from finder.search.index import (
    CODE,
    DURATION_CLASSES,
    SearchIndex,
    cells_around,
    type_mask,
)
from finder.search.query import (
    DURATION,
    GROUP,
    LATER,
    NEARBY,
    ONLINE_NOW,
    OPEN_NOW,
    RESOURCE,
    STARTING_SOON,
    Candidates,
    Query,
    Results,
    empty,
    untimed,
)
from finder.search.ranking import distinct_count, rank
from finder.search.zones import utc_minutes
from finder.vocabulary import ATTENDANCE, KINDS

MIN_NEARBY = 5  # fewer in-person results than this widens the radius
MAX_WIDENINGS = 3


def search(index: SearchIndex, query: Query) -> Results:
    """Answer a query from the index, widening the radius when little is nearby."""
    plan = Plan.of(index, query)
    radius = query.radius_km
    near = collect_near(index, plan, radius)
    widened = None
    if query.widen and query.has_point and query.in_person and _distinct(near) < MIN_NEARBY:
        # Doubling up to MAX_WIDENINGS times: collect once at the widest radius (cheap where
        # little is nearby, which is when this runs), then keep the first radius that is enough.
        wide = collect_near(index, plan, radius * 2**MAX_WIDENINGS)
        for step in range(1, MAX_WIDENINGS + 1):
            near = wide.where(wide.distance <= radius * 2**step)
            if _distinct(near) >= MIN_NEARBY:
                break
        radius, widened = radius * 2**step, query.radius_km
    hybrids = int(np.count_nonzero(index.fast_hybrid.take(near.resource)))
    online, counts = collect_online(index, plan, query.limit + hybrids)
    results = answer(index, plan, radius, [near, *online], counts)
    results.widened_from_km = widened
    return results


def _distinct(found: "Candidates") -> int:
    return distinct_count(found.resource)


@dataclass
class Clock:
    """The query window as every zone sees it."""

    t0: datetime
    horizon: int  # minutes from t0 to the window's end
    offsets: np.ndarray  # each zone's UTC offset at t0, minutes
    lows: np.ndarray  # each zone's local minute of the week at t0
    transitions: list  # (zone, UTC minute, offset before, offset after) near the window
    t0_utc_minute: int  # whole minutes from the Sunday epoch to t0
    fraction: float  # seconds past t0's whole minute, in minutes
    changes: np.ndarray  # the transitions as kernel_inputs.Window carries them

    @classmethod
    def at(cls, index: SearchIndex, window) -> "Clock":
        """Offsets and DST changes for the window (lookback covers the longest duration class)."""
        t0, _, t1 = window
        horizon = minutes_ceil(t1 - t0)
        lookback = DURATION_CLASSES[-1] + DST_MARGIN_MINUTES
        end = utc_minutes(t1) + DST_MARGIN_MINUTES
        minute, offsets, transitions = index.clock.around(t0, utc_minutes(t0) - lookback, end)
        lows = (minute + offsets) % MINUTES_PER_WEEK
        return cls(
            t0,
            horizon,
            offsets,
            lows,
            transitions,
            minute,
            (t0.second + t0.microsecond / 1e6) / 60,
            _changes(transitions, offsets, minute) if transitions else NO_CHANGES,
        )


NO_CHANGES = np.empty((0, 4), dtype=np.int64)


def _changes(transitions: list, offsets: np.ndarray, t0_minute: int) -> np.ndarray:
    """Per offset change near the window: (zone, threshold, offset now - offset before, offset
    now - offset after). A wall-clock minute (from t0's, in t0's offset) below the threshold
    has the offset before the change (so does the hour skipped in spring, as zoneinfo's fold=0
    does), any other the offset after it."""
    rows = []
    for zone, instant, before, after in transitions:
        now = int(offsets[zone])
        threshold = (instant + before) - (t0_minute + now) + max(0, after - before)
        rows.append((zone, threshold, now - before, now - after))
    return np.array(rows, dtype=np.int64)


@dataclass
class Plan:
    """Everything about a query that does not depend on the candidates, computed once."""

    query: Query
    clock: Clock | None
    soon: float | None  # minutes from the window start to the end of "starting soon"
    end: float | None  # minutes from the window start to the window's end
    point: np.ndarray | None  # the searcher's kernel_inputs.place_row
    codes: np.ndarray  # bool per resource code (kind and attendance, see SearchIndex.code)
    programs: np.ndarray | None  # bool per program number, None = any
    include: tuple | None  # (low, high) type bits that must all be set
    exclude: tuple | None  # (low, high) type bits that must all be clear
    everything: bool  # every resource of the index passes the filters
    filters: kernel_inputs.Filters  # all of these as the kernels take them

    @classmethod
    def of(cls, index: SearchIndex, query: Query) -> "Plan":
        """Lookup tables for the filters and the clock for the window."""
        window = query.window
        clock = soon = end = point = None
        if window:
            t0, soon_at, t1 = window
            clock = Clock.at(index, window)
            soon = (soon_at - t0).total_seconds() / 60
            end = (t1 - t0).total_seconds() / 60
        if query.has_point:
            point = np.array(kernel_inputs.place_row(float(query.latitude), float(query.longitude)))
        return cls(query, clock, soon, end, point, *_filters(index, query))

    def allowed(self, index: SearchIndex, positions: np.ndarray) -> np.ndarray:
        """Which of these resources pass the kind, attendance, program and type filters."""
        return _allowed(self, index, positions)


def _filters(index: SearchIndex, query: Query) -> tuple:
    """Lookup tables for a query's filters (cached: few distinct filter sets are ever used)."""
    key = (query.kinds, query.attendance, query.programs, query.include_types, query.exclude_types)
    if key not in index.filter_cache:
        words = [
            tuple(np.uint64(w) for w in type_mask(t)) if t else None
            for t in (query.include_types, query.exclude_types)
        ]
        attendance = [
            a in query.attendance or (a == "hybrid" and bool(query.attendance)) for a in ATTENDANCE
        ]
        codes = np.array([k in query.kinds and a for k in KINDS for a in attendance])
        programs = (
            np.array([p in query.programs for p in index.programs]) if query.programs else None
        )
        everything = bool(programs is None and words == [None, None] and codes[index.code].all())
        compiled = kernel_inputs.Filters(
            everything,
            codes,
            np.zeros(0, dtype=bool) if programs is None else programs,
            index.program,
            np.array([w for pair in words for w in (pair or (0, 0))], dtype=np.uint64),
            index.types_low,
            index.types_high,
        )
        if len(index.filter_cache) > 256:
            index.filter_cache.clear()
        index.filter_cache[key] = (codes, programs, *words, everything, compiled)
    return index.filter_cache[key]


def _allowed(plan: "Plan", index: SearchIndex, positions: np.ndarray) -> np.ndarray:
    mask = plan.codes[index.code[positions]]
    if plan.programs is not None:
        mask &= plan.programs[index.program[positions]]
    if plan.include is not None:
        low, high = plan.include
        mask &= ((index.types_low[positions] & low) == low) & (
            (index.types_high[positions] & high) == high
        )
    if plan.exclude is not None:
        low, high = plan.exclude
        mask &= ((index.types_low[positions] & low) == 0) & (
            (index.types_high[positions] & high) == 0
        )
    return mask


def answer(
    index: SearchIndex, plan: Plan, radius_km: float, parts: list, counts: dict | None = None
) -> Results:
    """Rank found candidates (plus always-open resources) into grouped results.

    :param parts: candidates, each part either all from the fast online path or none of it
    :param counts: group -> occurrences the fast online path counted but did not all hand over
    """
    parts = [p for p in [*parts, always_open(index, plan, radius_km)] if len(p.fast)]
    handed = None
    if counts:  # the rows of the candidates that did not come from the fast path
        slow = [p.rows for p in parts if not p.fast[0]]
        handed = np.concatenate(slow) if len(slow) > 1 else slow[0] if slow else EMPTY_ROWS
    return rank(index, plan.query, Candidates.joined(parts), radius_km, counts, handed)


EMPTY_ROWS = empty().rows


def collect_near(index: SearchIndex, plan: Plan, radius_km: float) -> Candidates:
    """In-person candidates: one binary search per (grid cell, duration class, zone) range."""
    query = plan.query
    if not query.has_point or not query.in_person:
        return empty()
    if plan.clock is None:
        return anytime_near(index, plan, radius_km)
    cells = cells_around(query.latitude, query.longitude, radius_km)
    return _occurrences(index, index.near, plan, cells, radius_km)


def collect_online(index: SearchIndex, plan: Plan, need: int) -> tuple[list, dict | None]:
    """Online candidates in the window, wherever they are (in parts: those of the fast path and
    the rest), and the fast path's counts if it was used.

    :param need: how many of the soonest the fast path must hand over (the limit, plus room for
        hybrid meetings already listed in person)
    """
    if plan.clock is None or not plan.query.online:
        return [], None
    if not search_online.usable(index, plan, plan.clock):
        return [_occurrences(index, index.online, plan, [-1], None)], None
    rows, times, now_count, later_count = search_online.window(
        index, plan.clock, plan.soon, plan.end, need
    )
    fast = Candidates(rows, times, np.ones(len(rows), dtype=bool))
    slow = _occurrences(index, index.online_slow, plan, [-1], None)
    return [fast, slow], {ONLINE_NOW: now_count, LATER: later_count}


def _occurrences(index, occ, plan: Plan, buckets, radius_km) -> Candidates:
    """Occurrences in the window (and within the radius, if given) that pass the filters."""
    if not len(occ.key):
        return empty()
    clock = plan.clock
    located = radius_km is not None
    rows, times = kernel_inputs.scan_window(
        occ,
        index.groups_of(occ, tuple(buckets)),
        kernel_inputs.window_of(clock),
        kernel_inputs.reach_of(plan, radius_km if located else None),
        index.now_group,
        plan.filters,
    )
    if index.areas:
        rows, times = _serving(index, plan.query, rows, times)
    return Candidates(rows, times, np.zeros(len(rows), dtype=bool))


def _serving(index: SearchIndex, query: Query, rows: np.ndarray, times: np.ndarray) -> tuple:
    """The candidates whose resources serve the searcher's area, if they name one."""
    keep = np.ones(len(rows), dtype=bool)
    for i in np.flatnonzero(index.has_area[rows[:, RESOURCE]]):
        keep[i] = serves(index.areas[int(rows[i, RESOURCE])], query)
    return rows[keep], times[keep]


def classify(index, plan: Plan, rows, distance, until) -> Candidates:
    """Keep the occurrences in the window (serving the searcher's area, if they name one) and
    group them: in progress, starting soon, later, online now or open now. (The naive scan's
    counterpart of ``kernels.scan_window``.)

    :param rows: the occurrences, as in ``Occurrences.rows``
    :param distance: km from the searcher; None for online occurrences
    :param until: minutes from the window start to each occurrence's start
    """
    times = np.empty((len(rows), 2))
    times[:, 0], times[:, 1] = np.nan if distance is None else distance, until
    inside = (times[:, 1] + rows[:, DURATION] > 0) & (times[:, 1] <= plan.end)
    rows, times = rows[inside], times[inside]
    if index.areas:
        rows, times = _serving(index, plan.query, rows, times)
    until = times[:, 1]
    if distance is None:
        rows[:, GROUP] = np.where(until <= plan.soon, ONLINE_NOW, LATER)
    else:
        now = index.now_group.take(rows[:, CODE])
        rows[:, GROUP] = np.where(
            until <= 0, now, np.where(until <= plan.soon, STARTING_SOON, LATER)
        )
    return Candidates(rows, times, np.zeros(len(rows), dtype=bool))


def anytime_near(index: SearchIndex, plan: Plan, radius_km: float) -> Candidates:
    """Located resources within the radius, whatever their hours."""
    query = plan.query
    positions = index.resources_near(query.latitude, query.longitude, radius_km)
    positions = positions[plan.allowed(index, positions)]
    distance = kernel_inputs.distances(plan.point, index.places[positions])
    keep = distance <= radius_km
    return untimed(positions[keep], distance[keep], NEARBY)


def any_placed_within(index: SearchIndex, query: Query, radius_km: float) -> bool:
    """Whether any placed resource that passes the query's kind, attendance, program and type
    filters is within ``radius_km`` of its point, at any time: what an any-time search would
    list as nearby, without ranking it."""
    if not query.has_point or not query.in_person:
        return False
    plan = Plan.of(index, replace(query, when="any"))
    positions = index.resources_near(query.latitude, query.longitude, radius_km)
    positions = positions[plan.allowed(index, positions)]
    if not len(positions):
        return False
    return bool(np.any(kernel_inputs.distances(plan.point, index.places[positions]) <= radius_km))


def always_open(index: SearchIndex, plan: Plan, radius_km: float) -> Candidates:
    """24/7 resources open to this searcher: inside the radius, or serving the searcher's area."""
    query = plan.query
    positions = index.always_open_positions
    if not len(positions):
        return empty()
    positions = positions[plan.allowed(index, positions)]
    distance = np.full(len(positions), np.nan)
    keep = np.ones(len(positions), dtype=bool)
    if query.has_point:  # those without a position (NaN) are kept
        distance = kernel_inputs.distances(plan.point, index.places[positions])
        keep = np.isnan(index.latitude[positions]) | (distance <= radius_km)
    for i, p in enumerate(positions.tolist()):
        keep[i] = keep[i] and serves(index.areas.get(p), query)
    return untimed(positions[keep], distance[keep], OPEN_NOW)


def minutes_ceil(delta: timedelta) -> int:
    """Whole minutes, rounded up."""
    return int(-(-delta.total_seconds() // 60))
