"""Near me and now: what support a person can reach from a place, at a time. Pure functions.

``search(index, query)`` answers from a ``SearchIndex`` with vectorised candidate filtering;
``finder.search_naive`` answers the same question by brute force, to prove this path right.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from . import search_online
from .schedule import MINUTES_PER_WEEK, occurrence
from .search_index import DURATION_CLASSES, SearchIndex, cells_around, haversine_km, type_mask
from .service_areas import serves
from .vocabulary import ATTENDANCE, KINDS
from .zones import utc_minutes

KM_PER_MILE = 1.609344
DEFAULT_RADIUS_KM = 10 * KM_PER_MILE
DEFAULT_KINDS = frozenset(k for k in KINDS if k != "treatment")
GROUPS = ("in_progress", "starting_soon", "online_now", "open_now", "later", "nearby")
IN_PROGRESS, STARTING_SOON, ONLINE_NOW, OPEN_NOW, LATER, NEARBY = range(len(GROUPS))
MIN_NEARBY = 5  # fewer in-person results than this widens the radius
MAX_WIDENINGS = 3
_MEETING = list(KINDS).index("meeting")


@dataclass(frozen=True)
class Query:
    """What a person asked for. Times are absolute (aware) instants."""

    now: datetime
    latitude: float | None = None
    longitude: float | None = None
    place: str | None = None  # how to name the place: "ZIP 19103", "Denver, CO"
    approximate: bool = False  # the place is a ZIP/city centroid, not an exact point
    radius_km: float = DEFAULT_RADIUS_KM
    unit: str = "mi"
    when: str = "now"  # now | today | at | any
    at: datetime | None = None  # with when="at": the chosen day and time
    until: datetime | None = None  # with today/at: end of the searcher's day
    hours: float = 2.0
    grace_minutes: int = 10
    kinds: frozenset = DEFAULT_KINDS
    attendance: frozenset = frozenset(ATTENDANCE[:3])
    programs: frozenset = frozenset()
    include_types: frozenset = frozenset()
    exclude_types: frozenset = frozenset()
    order: str = "soonest"  # soonest | nearest
    limit: int = 25
    widen: bool = True

    @property
    def has_point(self) -> bool:
        """Whether a location was given."""
        return self.latitude is not None and self.longitude is not None

    @property
    def window(self) -> tuple[datetime, datetime, datetime] | None:
        """(start, end of "soon", end) of the time window; None for any time."""
        if self.when == "any":
            return None
        start = self.at if self.when == "at" and self.at else self.now
        soon = start + timedelta(hours=self.hours)
        end = max(self.until, soon) if self.until and self.when in ("today", "at") else soon
        return start, soon, end

    @property
    def in_person(self) -> bool:
        """Whether places to go to are wanted."""
        return bool({"in_person", "hybrid"} & self.attendance)

    @property
    def online(self) -> bool:
        """Whether online meetings and lines are wanted (hybrid ones count as both)."""
        return "online" in self.attendance


class Hit:
    """One resource that matched, and why."""

    __slots__ = (
        "resource_id",
        "group",
        "distance_km",
        "start_minute",
        "duration",
        "zone",
        "minutes_until_start",
        "query",
        "_times",
    )

    def __init__(
        self,
        resource_id,
        group,
        distance_km,
        start_minute=None,
        duration=None,
        zone=None,
        minutes_until_start=None,
        query=None,
    ):
        self.resource_id, self.group, self.distance_km = resource_id, group, distance_km
        self.start_minute, self.duration, self.zone = start_minute, duration, zone
        self.minutes_until_start, self.query, self._times = minutes_until_start, query, None

    def __repr__(self) -> str:
        return f"Hit({self.resource_id}, {self.group!r}, {self.distance_km}, {self.minutes_until_start})"  # noqa: E501

    @property
    def times(self) -> tuple[datetime, datetime] | None:
        """Local start and end of the matching occurrence, in the resource's own zone."""
        if self._times is None and self.start_minute is not None and self.zone:
            zone = ZoneInfo(self.zone)
            horizon = max(int(self.minutes_until_start) + 120, 0)
            start, end = occurrence(
                self.start_minute, self.duration, zone, self.query.window[0], horizon
            )
            self._times = start.astimezone(zone), end.astimezone(zone)
        return self._times

    @property
    def minutes_until_end(self) -> float | None:
        """Minutes from the query time to the end of the occurrence."""
        if self.minutes_until_start is None:
            return None
        return self.minutes_until_start + self.duration

    @property
    def joinable(self) -> bool:
        """Not started yet, or started no more than the grace period ago."""
        until = self.minutes_until_start
        return until is not None and until >= -self.query.grace_minutes

    @property
    def why(self) -> dict:
        """A short machine-readable reason: group, distance, time and the filters it passed."""
        why = {"group": self.group}
        if self.distance_km is not None:
            why["distance_km"] = round(self.distance_km, 2)
        if self.minutes_until_start is not None:
            why["minutes_until_start"] = round(self.minutes_until_start, 1)
        query = self.query
        if query.include_types or query.exclude_types:
            why["types"] = sorted(query.include_types) + [
                f"not {c}" for c in sorted(query.exclude_types)
            ]
        if query.programs:
            why["programs"] = sorted(query.programs)
        if query.kinds != DEFAULT_KINDS:
            why["kinds"] = sorted(query.kinds)
        return why


@dataclass
class Results:
    """Hits by group (each cut to the query's limit), with full counts and any widening."""

    query: Query
    groups: dict[str, list[Hit]]
    totals: dict[str, int]
    radius_km: float
    widened_from_km: float | None = None

    def ids(self) -> list[tuple[str, int]]:
        """(group, resource id) in order: handy for comparing two answers."""
        return [(g, h.resource_id) for g in GROUPS for h in self.groups[g]]


@dataclass
class Candidates:
    """Matching occurrences (or resources) as parallel arrays, before ranking."""

    resource: np.ndarray
    group: np.ndarray
    distance: np.ndarray  # NaN where there is no distance (online)
    until: np.ndarray  # minutes from the window start to the occurrence start (NaN: no time)
    start: np.ndarray
    duration: np.ndarray
    zone: np.ndarray
    fast: np.ndarray  # from the fast online path, which counts more than it hands over

    def where(self, mask: np.ndarray) -> "Candidates":
        """The candidates where ``mask`` is true."""
        return Candidates(*(getattr(self, f)[mask] for f in Candidates.__dataclass_fields__))


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


def distinct_count(values: np.ndarray) -> int:
    """How many different values (sort-based: NumPy 2.4's hash-based unique is slower here)."""
    if len(values) < 2:
        return len(values)
    ordered = np.sort(values)
    return 1 + int(np.count_nonzero(ordered[1:] != ordered[:-1]))


def first_of_each(order: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """``order`` without repeated ids, keeping each id's first (best-ranked) position."""
    ranked = ids[order]
    by_id = np.argsort(ranked, kind="stable")
    keep = np.ones(len(order), dtype=bool)
    keep[by_id[1:][ranked[by_id[1:]] == ranked[by_id[:-1]]]] = False
    return order[keep]


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
        words = [
            tuple(np.uint64(w) for w in type_mask(t)) if t else None
            for t in (query.include_types, query.exclude_types)
        ]
        return cls(
            query,
            Clock.at(index, window) if window else None,
            np.array([k in query.kinds for k in KINDS]),
            np.array(
                [
                    a in query.attendance or (a == "hybrid" and bool(query.attendance))
                    for a in ATTENDANCE
                ]
            ),
            np.array([p in query.programs for p in index.programs]) if query.programs else None,
            *words,
        )

    def allowed(self, index: SearchIndex, positions: np.ndarray) -> np.ndarray:
        """Which of these resources pass the kind, attendance, program and type filters."""
        mask = self.kinds[index.kind[positions]] & self.attendance[index.attendance[positions]]
        if self.programs is not None:
            mask &= self.programs[index.program[positions]]
        if self.include is not None:
            low, high = self.include
            mask &= ((index.types_low[positions] & low) == low) & (
                (index.types_high[positions] & high) == high
            )
        if self.exclude is not None:
            low, high = self.exclude
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
    picked, now_count, later_count = search_online.window(
        index, plan.clock, (soon - t0).total_seconds() / 60, (t1 - t0).total_seconds() / 60, need
    )
    fast = _materialize(index, index.online, plan, picked, None, filtered=True)
    fast.fast[:] = True
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


def _occurrences(index, occ, plan: Plan, buckets, radius_km) -> Candidates:
    if not len(occ.key):
        return empty()
    clock = plan.clock
    margins = {zone: 60 for zone, *_ in clock.transitions}
    picked = index.window_candidates(occ, buckets, clock.lows, clock.horizon, margins)
    return _materialize(index, occ, plan, picked, radius_km)


def _materialize(
    index, occ, plan: Plan, picked: np.ndarray, radius_km, filtered: bool = False
) -> Candidates:
    """Filter picked occurrences (unless ``filtered``), measure distances and times, group them."""
    clock, query = plan.clock, plan.query
    resource = occ.resource[picked]
    if not filtered:
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
    end_minutes = (t1 - t0).total_seconds() / 60
    in_progress = (until <= 0) & (until + duration > 0)
    starting = (until > 0) & (until <= soon_minutes)
    later = (until > soon_minutes) & (until <= end_minutes)
    group = np.full(len(until), -1, dtype=np.int64)
    if online:
        group[in_progress | starting] = ONLINE_NOW
    else:
        meeting = index.kind[resource] == _MEETING
        group[in_progress & meeting] = IN_PROGRESS
        group[in_progress & ~meeting] = OPEN_NOW
        group[starting] = STARTING_SOON
    group[later] = LATER
    keep = group >= 0
    if index.areas:
        scoped = np.flatnonzero(keep & index.has_area[resource])
        for i in scoped:
            keep[i] = serves(index.areas[int(resource[i])], query)
    return Candidates(
        resource[keep],
        group[keep],
        distance[keep],
        until[keep],
        start[keep],
        duration[keep],
        zone[keep],
        np.zeros(int(keep.sum()), dtype=bool),
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


def untimed(positions: np.ndarray, distance: np.ndarray, group: int) -> Candidates:
    """Candidates without a time (always open, or any-time searches)."""
    n = len(positions)
    return Candidates(
        positions,
        np.full(n, group),
        distance,
        np.full(n, np.nan),
        np.full(n, -1),
        np.zeros(n, dtype=np.int64),
        np.full(n, -1),
        np.zeros(n, dtype=bool),
    )


EMPTY_INT = np.empty(0, dtype=np.int64)


def empty() -> Candidates:
    """No candidates."""
    return _EMPTY


_EMPTY = untimed(EMPTY_INT, np.empty(0), NEARBY)


def rank(
    index: SearchIndex,
    query: Query,
    found: Candidates,
    radius_km: float,
    counts: dict | None = None,
) -> Results:
    """Group candidates, keep each resource once (its best occurrence), order, cut to the limit."""
    # Rounded so that two exact ways of computing the same instant sort alike.
    time_key = np.where(np.isnan(found.until), 0.0, np.round(np.abs(found.until), 6))
    distance_key = np.where(np.isnan(found.distance), 0.0, np.round(found.distance, 9))
    ids = index.ids[found.resource]
    # soonest: in progress, most recently started first; then soonest to start; then nearest
    keys = (distance_key, time_key) if query.order == "nearest" else (time_key, distance_key)
    ranked = (_rank_small if len(ids) <= LARGE else _rank_large)(found, ids, keys, query.limit)
    groups, totals = {}, {}
    for number, name in enumerate(GROUPS):
        chosen, totals[name] = ranked[number]
        groups[name] = _hits(index, query, found, chosen, name)
    for number, counted in (counts or {}).items():
        totals[GROUPS[number]] = _fast_total(index, found, ids, number, counted)
    return Results(query, groups, totals, radius_km)


LARGE = 3000  # above this many candidates, select per group before sorting


def _rank_small(found: Candidates, ids, keys, limit: int) -> list[tuple[np.ndarray, int]]:
    """One sort of everything: (best members, distinct count) per group."""
    primary, secondary = keys
    order = first_of_each(np.lexsort((ids, secondary, primary, found.group)), ids)
    bounds = np.searchsorted(found.group[order], np.arange(len(GROUPS) + 1))
    return [
        (order[bounds[n] : bounds[n + 1]][:limit], int(bounds[n + 1] - bounds[n]))
        for n in range(len(GROUPS))
    ]


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


def _fast_total(
    index: SearchIndex, found: Candidates, ids: np.ndarray, number: int, counted: int
) -> int:
    """A group's true size when the fast online path counted occurrences it did not hand over.

    ``counted`` includes hybrid meetings also listed in person: for "online now" those in an
    earlier group (in progress, starting soon), for "later" those in this group.
    """
    handed = ~found.fast
    earlier = ids[handed & (found.group < number)]
    mine = ids[handed & (found.group == number)]
    mine = mine[~member_of(mine, earlier)]
    listed = earlier if number == ONLINE_NOW else mine
    positions = np.searchsorted(index.ids, listed)
    hybrids = listed[index.fast_online[positions] & (index.attendance[positions] == 2)]
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


def _hits(
    index: SearchIndex, query: Query, found: Candidates, chosen: np.ndarray, group: str
) -> list[Hit]:
    if not len(chosen):
        return []
    ids = index.ids[found.resource[chosen]].tolist()
    distances = found.distance[chosen].tolist()
    untils = found.until[chosen].tolist()
    starts = found.start[chosen].tolist()
    durations = found.duration[chosen].tolist()
    zones = found.zone[chosen].tolist()
    hits = []
    for rid, distance, until, start, duration, zone in zip(
        ids, distances, untils, starts, durations, zones, strict=True
    ):
        if until != until:  # NaN: no time (always open, or an any-time search)
            hits.append(Hit(rid, group, None if distance != distance else distance, query=query))
        else:
            hits.append(
                Hit(
                    rid,
                    group,
                    None if distance != distance else distance,
                    start,
                    duration,
                    index.zones[zone],
                    until,
                    query,
                )
            )
    return hits


def minutes_ceil(delta: timedelta) -> int:
    """Whole minutes, rounded up."""
    return int(-(-delta.total_seconds() // 60))
