"""Near me and now: what support a person can reach from a place, at a time. Pure functions.

``search(index, query)`` answers from a ``SearchIndex`` with vectorised candidate filtering;
``finder.search_naive`` answers the same question by brute force, to prove this path right.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from . import search_online
from .query import (  # noqa: F401 - the public search API is re-exported here
    DEFAULT_KINDS,
    DEFAULT_RADIUS_KM,
    EMPTY_INT,
    GROUPS,
    IN_PROGRESS,
    KM_PER_MILE,
    LATER,
    NEARBY,
    ONLINE_NOW,
    OPEN_NOW,
    STARTING_SOON,
    Candidates,
    Hit,
    Query,
    Results,
    empty,
    untimed,
)
from .ranking import distinct_count, rank
from .schedule import MINUTES_PER_WEEK
from .search_index import DURATION_CLASSES, SearchIndex, cells_around, haversine_km, type_mask
from .service_areas import serves
from .vocabulary import ATTENDANCE, KINDS
from .zones import utc_minutes

MIN_NEARBY = 5  # fewer in-person results than this widens the radius
MAX_WIDENINGS = 3
_MEETING = list(KINDS).index("meeting")


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
    hybrids = int(
        np.count_nonzero(index.fast_online[near.resource] & (index.attendance[near.resource] == 2))
    )
    online, counts = collect_online(index, plan, query.limit + hybrids)
    results = answer(index, plan, radius, [near, online], counts)
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

    @property
    def t0_utc_minute(self) -> int:
        """Whole minutes from the Sunday epoch to t0."""
        return utc_minutes(self.t0)

    @property
    def fraction(self) -> float:
        """Seconds past t0's whole minute, in minutes."""
        return (self.t0.second + self.t0.microsecond / 1e6) / 60

    @classmethod
    def at(cls, index: SearchIndex, window) -> "Clock":
        """Offsets and DST changes for the window (lookback covers the longest duration class)."""
        t0, _, t1 = window
        horizon = minutes_ceil(t1 - t0)
        changes = index.clock.transitions(
            t0 - timedelta(minutes=DURATION_CLASSES[-1] + 60), t1 + timedelta(minutes=60)
        )
        offsets = index.clock.offsets(t0)
        return cls(t0, horizon, offsets, (utc_minutes(t0) + offsets) % MINUTES_PER_WEEK, changes)


@dataclass
class Plan:
    """Everything about a query that does not depend on the candidates, computed once."""

    query: Query
    clock: Clock | None
    kinds: np.ndarray  # bool per kind code
    attendance: np.ndarray  # bool per attendance code
    programs: np.ndarray | None  # bool per program number, None = any
    include: tuple | None  # (low, high) type bits that must all be set
    exclude: tuple | None  # (low, high) type bits that must all be clear

    @classmethod
    def of(cls, index: SearchIndex, query: Query) -> "Plan":
        """Lookup tables for the filters and the clock for the window."""
        window = query.window
        return cls(query, Clock.at(index, window) if window else None, *_filters(index, query))

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
        if len(index.filter_cache) > 256:
            index.filter_cache.clear()
        index.filter_cache[key] = (
            np.array([k in query.kinds for k in KINDS]),
            np.array(attendance),
            np.array([p in query.programs for p in index.programs]) if query.programs else None,
            *words,
        )
    return index.filter_cache[key]


def _allowed(plan: "Plan", index: SearchIndex, positions: np.ndarray) -> np.ndarray:
    mask = plan.kinds[index.kind[positions]] & plan.attendance[index.attendance[positions]]
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

    :param counts: group -> occurrences the fast online path counted but did not all hand over
    """
    parts = [p for p in [*parts, always_open(index, plan, radius_km)] if len(p.resource)]
    if len(parts) == 1:
        merged = parts[0]
    else:
        merged = Candidates(
            *(
                np.concatenate([getattr(p, f) for p in parts] or [EMPTY_INT])
                for f in Candidates.__dataclass_fields__
            )
        )
    return rank(index, plan.query, merged, radius_km, counts)


def collect_near(index: SearchIndex, plan: Plan, radius_km: float) -> Candidates:
    """In-person candidates: one binary search per (grid cell, duration class, zone) range."""
    query = plan.query
    if not query.has_point or not query.in_person:
        return empty()
    if plan.clock is None:
        return anytime_near(index, plan, radius_km)
    cells = cells_around(query.latitude, query.longitude, radius_km)
    return _occurrences(index, index.near, plan, cells, radius_km)


def collect_online(index: SearchIndex, plan: Plan, need: int) -> tuple[Candidates, dict | None]:
    """Online candidates in the window, wherever they are, and the fast path's counts if used.

    :param need: how many of the soonest the fast path must hand over (the limit, plus room for
        hybrid meetings already listed in person)
    """
    if plan.clock is None or not plan.query.online:
        return empty(), None
    if not search_online.usable(index, plan, plan.clock):
        return _occurrences(index, index.online, plan, [-1], None), None
    t0, soon, t1 = plan.query.window
    soon_minutes = (soon - t0).total_seconds() / 60
    picked, now_count, later_count = search_online.window(
        index, plan.clock, soon_minutes, (t1 - t0).total_seconds() / 60, need
    )
    fast = _fast_candidates(index.online, picked, plan.clock, soon_minutes)
    slow = _occurrences(index, index.online_slow, plan, [-1], None)
    if not len(slow.resource):
        return fast, {ONLINE_NOW: now_count, LATER: later_count}
    merged = Candidates(
        *(
            np.concatenate([getattr(fast, f), getattr(slow, f)])
            for f in Candidates.__dataclass_fields__
        )
    )
    return merged, {ONLINE_NOW: now_count, LATER: later_count}


def _fast_candidates(occ, picked: np.ndarray, clock: Clock, soon_minutes: float) -> Candidates:
    """Candidates from the fast online path: all in the window, no zone changing its offset."""
    zone = occ.zone[picked]
    wall = (occ.start[picked] - clock.lows[zone]) % MINUTES_PER_WEEK
    until = np.where(wall > clock.horizon + 60, wall - MINUTES_PER_WEEK, wall) - clock.fraction
    count = len(picked)
    return Candidates(
        occ.resource[picked],
        np.where(until <= soon_minutes, ONLINE_NOW, LATER),
        np.full(count, np.nan),
        until,
        occ.start[picked],
        occ.duration[picked],
        zone,
        np.ones(count, dtype=bool),
    )


def _occurrences(index, occ, plan: Plan, buckets, radius_km) -> Candidates:
    if not len(occ.key):
        return empty()
    clock = plan.clock
    margins = {zone: 60 for zone, *_ in clock.transitions}
    picked = index.window_candidates(occ, buckets, clock.lows, clock.horizon, margins)
    return _materialize(index, occ, plan, picked, radius_km)


def _materialize(index, occ, plan: Plan, picked: np.ndarray, radius_km) -> Candidates:
    """Filter picked occurrences, measure distances and times, and group them."""
    clock, query = plan.clock, plan.query
    resource = occ.resource[picked]
    keep = plan.allowed(index, resource)
    picked, resource = picked[keep], resource[keep]
    distance = np.full(len(picked), np.nan)
    if radius_km is not None:
        distance = haversine_km(
            query.latitude, query.longitude, index.latitude[resource], index.longitude[resource]
        )
        keep = distance <= radius_km
        picked, resource, distance = picked[keep], resource[keep], distance[keep]
    until = minutes_until(occ, picked, clock)
    return classify(
        index,
        query,
        resource,
        distance,
        until,
        occ.start[picked],
        occ.duration[picked],
        occ.zone[picked],
        online=radius_km is None,
    )


def minutes_until(occ, picked: np.ndarray, clock: Clock) -> np.ndarray:
    """Exact minutes from t0 to the start of each candidate's occurrence.

    Local wall-clock offsets are exact while a zone keeps its UTC offset. Where it changes in
    the window (a DST weekend), the wall time's own offset is applied: before the change (or in
    the hour skipped in spring, as zoneinfo's fold=0 does) the old one, after it the new one.
    """
    zone = occ.zone[picked]
    wall = (occ.start[picked] - clock.lows[zone]) % MINUTES_PER_WEEK
    wall = np.where(wall > clock.horizon + 60, wall - MINUTES_PER_WEEK, wall)
    fraction = (clock.t0.second + clock.t0.microsecond / 1e6) / 60
    until = wall - fraction
    t0_wall = utc_minutes(clock.t0)
    for z, instant, before, after in clock.transitions:
        chosen = zone == z
        if not chosen.any():
            continue
        offset_now = int(clock.offsets[z])
        threshold = (instant + before) - (t0_wall + offset_now) + max(0, after - before)
        offset_then = np.where(wall[chosen] < threshold, before, after)
        until[chosen] = wall[chosen] - fraction + (offset_now - offset_then)
    return until


def classify(
    index, query, resource, distance, until, start, duration, zone, online: bool
) -> Candidates:
    """Group each occurrence: in progress, starting soon, later, online now or open now."""
    t0, soon, t1 = query.window
    soon_minutes = (soon - t0).total_seconds() / 60
    keep = (until + duration > 0) & (until <= (t1 - t0).total_seconds() / 60)
    if index.areas:
        for i in np.flatnonzero(keep & index.has_area[resource]):
            keep[i] = serves(index.areas[int(resource[i])], query)
    resource, until = resource[keep], until[keep]
    if online:
        group = np.where(until <= soon_minutes, ONLINE_NOW, LATER)
    else:
        now = np.where(index.kind[resource] == _MEETING, IN_PROGRESS, OPEN_NOW)
        group = np.where(until <= 0, now, np.where(until <= soon_minutes, STARTING_SOON, LATER))
    return Candidates(
        resource,
        group,
        distance[keep],
        until,
        start[keep],
        duration[keep],
        zone[keep],
        np.zeros(len(resource), dtype=bool),
    )


def anytime_near(index: SearchIndex, plan: Plan, radius_km: float) -> Candidates:
    """Located resources within the radius, whatever their hours."""
    query = plan.query
    positions = index.resources_near(query.latitude, query.longitude, radius_km)
    positions = positions[plan.allowed(index, positions)]
    distance = haversine_km(
        query.latitude, query.longitude, index.latitude[positions], index.longitude[positions]
    )
    keep = distance <= radius_km
    return untimed(positions[keep], distance[keep], NEARBY)


def always_open(index: SearchIndex, plan: Plan, radius_km: float) -> Candidates:
    """24/7 resources open to this searcher: inside the radius, or serving the searcher's area."""
    query = plan.query
    positions = index.always_open_positions
    if not len(positions):
        return empty()
    positions = positions[plan.allowed(index, positions)]
    distance = np.full(len(positions), np.nan)
    keep = np.ones(len(positions), dtype=bool)
    for i, p in enumerate(positions.tolist()):
        if query.has_point and not np.isnan(index.latitude[p]):
            distance[i] = haversine_km(
                query.latitude, query.longitude, index.latitude[p], index.longitude[p]
            )
            keep[i] = distance[i] <= radius_km
        keep[i] = keep[i] and serves(index.areas.get(p), query)
    return untimed(positions[keep], distance[keep], OPEN_NOW)


def minutes_ceil(delta: timedelta) -> int:
    """Whole minutes, rounded up."""
    return int(-(-delta.total_seconds() // 60))
