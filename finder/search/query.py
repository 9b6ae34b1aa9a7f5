"""What a search asks and what it answers: Query, Hit, Results, and candidate arrays."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property, lru_cache
from operator import itemgetter
from zoneinfo import ZoneInfo

import numpy as np

from finder.vocabulary import ATTENDANCE, KINDS

KM_PER_MILE = 1.609344
DEFAULT_RADIUS_KM = 10 * KM_PER_MILE
DEFAULT_KINDS = frozenset(k for k in KINDS if k != "treatment")
GROUPS = ("in_progress", "starting_soon", "online_now", "open_now", "later", "nearby")
IN_PROGRESS, STARTING_SOON, ONLINE_NOW, OPEN_NOW, LATER, NEARBY = range(len(GROUPS))
# A week's search looks a week and an hour ahead: every weekly time then has exactly one start in
# the window (a scan wraps a start back a week only beyond the window's end plus the DST margin),
# so a meeting that started a few minutes ago is listed by its next start rather than lost.
WEEK_AHEAD = timedelta(days=7, hours=1)


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
    when: str = "now"  # now | today | at | week | any
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

    @cached_property  # asked for by every hit of a search
    def window(self) -> tuple[datetime, datetime, datetime] | None:
        """(start, end of "soon", end) of the time window; None for any time."""
        if self.when == "any":
            return None
        start = self.at if self.when == "at" and self.at else self.now
        soon = start + timedelta(hours=self.hours)
        if self.when == "week":
            return start, soon, start + WEEK_AHEAD
        end = max(self.until, soon) if self.until and self.when in ("today", "at") else soon
        return start, soon, end

    @cached_property  # the same for every hit of a search
    def why_filters(self) -> dict:
        """The filters a hit passed, for its "why": types, programs and kinds when narrowed."""
        why = {}
        if self.include_types or self.exclude_types:
            why["types"] = sorted(self.include_types) + [
                f"not {c}" for c in sorted(self.exclude_types)
            ]
        if self.programs:
            why["programs"] = sorted(self.programs)
        if self.kinds != DEFAULT_KINDS:
            why["kinds"] = sorted(self.kinds)
        return why

    @property
    def in_person(self) -> bool:
        """Whether places to go to are wanted."""
        return bool({"in_person", "hybrid"} & self.attendance)

    @property
    def online(self) -> bool:
        """Whether online meetings and lines are wanted (hybrid ones count as both)."""
        return "online" in self.attendance


class Hit(tuple):
    """One resource that matched, and why.

    A tuple of its fields underneath, read by attribute: the search makes up to a hundred per
    query, and ``tuple.__new__(Hit, fields)`` makes one without running any Python code.
    """

    def __new__(
        cls,
        resource_id,
        group,
        distance_km,
        start_minute=None,
        duration=None,
        zone=None,
        minutes_until_start=None,
        query=None,
    ):
        fields = (resource_id, group, distance_km, start_minute, duration, zone)
        return tuple.__new__(cls, (*fields, minutes_until_start, query))

    resource_id = property(itemgetter(0))
    group = property(itemgetter(1))
    distance_km = property(itemgetter(2))
    start_minute = property(itemgetter(3))  # local minute of the week
    duration = property(itemgetter(4))
    zone = property(itemgetter(5))
    minutes_until_start = property(itemgetter(6))
    query = property(itemgetter(7))

    def __repr__(self) -> str:
        return f"Hit({self.resource_id}, {self.group!r}, {self.distance_km}, {self.minutes_until_start})"  # noqa: E501

    @property
    def times(self) -> tuple[datetime, datetime] | None:
        """Local start and end of the matching occurrence, in the resource's own zone."""
        if self.start_minute is None or not self.zone:
            return None
        return local_times(self.query.window[0], self.minutes_until_start, self.duration, self.zone)

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
        return until is not None and joinable(until, self.query.grace_minutes)

    @property
    def why(self) -> dict:
        """A short machine-readable reason: group, distance, time and the filters it passed."""
        why = {"group": self.group}
        if self.distance_km is not None:
            why["distance_km"] = round(self.distance_km, 2)
        if self.minutes_until_start is not None:
            why["minutes_until_start"] = round(self.minutes_until_start, 1)
        why.update(self.query.why_filters)
        return why


def joinable(minutes_until_start: float, grace_minutes: int) -> bool:
    """Whether an occurrence this far from its start can still be joined: not started yet, or
    started no more than the grace period ago."""
    return minutes_until_start >= -grace_minutes


@lru_cache(maxsize=8192)  # searches in one minute around one town share their occurrences
def local_times(
    start: datetime, minutes_after: float, duration: int, zone: str
) -> tuple[datetime, datetime]:
    """Local start and end, in ``zone``, of an occurrence a search found ``minutes_after`` its
    window's ``start``, DST changes included (the instant ``schedule.occurrence`` gives, which the
    tests check); occurrences start on whole minutes, which undoes the float's rounding."""
    found = start + timedelta(minutes=minutes_after)
    begins = (found + timedelta(seconds=30)).replace(second=0, microsecond=0)
    local = ZoneInfo(zone)
    return begins.astimezone(local), (begins + timedelta(minutes=duration)).astimezone(local)


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


RESOURCE, START, DURATION, ZONE, GROUP = range(5)  # columns of Candidates.rows


class RowColumns:
    """The first columns of an integer ``rows`` matrix, by name (occurrences and candidates)."""

    rows: np.ndarray

    @property
    def resource(self) -> np.ndarray:
        """Position in the resource arrays."""
        return self.rows[:, RESOURCE]

    @property
    def start(self) -> np.ndarray:
        """Local minute of the week."""
        return self.rows[:, START]

    @property
    def duration(self) -> np.ndarray:
        return self.rows[:, DURATION]

    @property
    def zone(self) -> np.ndarray:
        return self.rows[:, ZONE]


@dataclass
class Candidates(RowColumns):
    """Matching occurrences (or resources) before ranking, one row each in two matrices (so
    that choosing some is one ``take`` per matrix, however many columns there are)."""

    rows: np.ndarray  # (n, 5) int64: resource position, start minute, duration, zone, group
    times: np.ndarray  # (n, 2) float64: km away (NaN: online), minutes to start (NaN: no time)
    fast: np.ndarray  # bool: from the fast online path, which counts more than it hands over

    @property
    def group(self) -> np.ndarray:
        return self.rows[:, GROUP]

    @property
    def distance(self) -> np.ndarray:
        return self.times[:, 0]

    @property
    def until(self) -> np.ndarray:
        """Minutes from the window start to the occurrence start."""
        return self.times[:, 1]

    def where(self, mask: np.ndarray) -> "Candidates":
        """The candidates where ``mask`` is true."""
        return Candidates(self.rows[mask], self.times[mask], self.fast[mask])

    @staticmethod
    def joined(parts: list["Candidates"]) -> "Candidates":
        """All the parts' candidates, one part after the other."""
        parts = [p for p in parts if len(p.fast)]
        if len(parts) < 2:
            return parts[0] if parts else empty()
        return Candidates(
            np.concatenate([p.rows for p in parts]),
            np.concatenate([p.times for p in parts]),
            np.concatenate([p.fast for p in parts]),
        )


def untimed(positions: np.ndarray, distance: np.ndarray, group: int) -> Candidates:
    """Candidates without a time (always open, or any-time searches)."""
    rows = np.tile(np.array([0, -1, 0, -1, group], dtype=np.int64), (len(positions), 1))
    rows[:, RESOURCE] = positions
    times = np.column_stack([distance, np.full(len(positions), np.nan)])
    return Candidates(rows, times, np.zeros(len(positions), dtype=bool))


EMPTY_INT = np.empty(0, dtype=np.int64)


def empty() -> Candidates:
    """No candidates."""
    return _EMPTY


_EMPTY = untimed(EMPTY_INT, np.empty(0), NEARBY)
