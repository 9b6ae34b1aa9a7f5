"""An in-memory index for "near me and now": weekly occurrences keyed by place and local time.

Every weekly occurrence is keyed by (grid cell, duration class, time zone, local start minute of
the week), sorted, in NumPy arrays. A query turns the searcher's window into each zone's *local*
wall-clock minutes, so one binary search per (cell, duration class, zone) finds every
occurrence that can be in progress or starting in the window; distance and filters are then
checked over those few candidates in one compiled pass (``finder.search.kernels``). Keys are local
wall-clock minutes, not UTC, so a 19:00 meeting stays at 19:00 all year; zones whose offset
changes inside the window take the exact (per-candidate zoneinfo) path in ``finder.search``.
"""

import functools
import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from sqlite_utils import Database

from finder.schedule import MINUTES_PER_WEEK
from finder.search import kernel_inputs
from finder.search.query import GROUP, IN_PROGRESS, OPEN_NOW, RowColumns
from finder.search.zones import ZoneClock
from finder.vocabulary import ATTENDANCE, KINDS, types

CELL_DEGREES = 0.5
CELLS_PER_ROW = int(360 / CELL_DEGREES)
CELL_ROW = 1000  # a cell number is row * CELL_ROW + column (columns < CELL_ROW)
DURATION_CLASSES = (90, 180, 600, 1440, MINUTES_PER_WEEK // 2)
KM_PER_DEGREE = 111.195
_CLASS_BOUNDS = np.array(DURATION_CLASSES, dtype=np.int64)
# Keys pack (bucket, duration class, zone, local start minute): a start takes KEY_SPAN values
# (more than the minutes of a week), so packed keys never collide and sort in that order.
KEY_SPAN = 16384
# More distinct online durations than this: the fast online path gains nothing over the general.
MAX_FAST_DURATIONS = 16
_ATTENDANCE_CODES = {value: number for number, value in enumerate(ATTENDANCE)}
_MEETING = list(KINDS).index("meeting")


def type_bits() -> dict[str, int]:
    """Vocabulary code -> bit number (stable: codes in sorted order)."""
    return {code: bit for bit, code in enumerate(sorted(types()))}


def type_mask(codes) -> tuple[int, int]:
    """Two 64-bit words with the bits of the given type codes set."""
    bits = type_bits()
    value = sum(1 << bits[c] for c in codes if c in bits)
    return value & 0xFFFFFFFFFFFFFFFF, value >> 64


def cells_around(lat: float, lon: float, radius_km: float) -> list[int]:
    """Cells that overlap the bounding box of a circle."""
    dlat = radius_km / KM_PER_DEGREE
    dlon = radius_km / (
        KM_PER_DEGREE * max(math.cos(math.radians(min(abs(lat) + dlat, 89.9))), 0.01)
    )
    rows = range(int((lat - dlat + 90) // CELL_DEGREES), int((lat + dlat + 90) // CELL_DEGREES) + 1)
    cols = range(
        int((lon - dlon + 180) // CELL_DEGREES), int((lon + dlon + 180) // CELL_DEGREES) + 1
    )
    return [r * CELL_ROW + (c % CELLS_PER_ROW) for r in rows for c in cols]


def cell_of(latitude, longitude):
    """The grid cell of positions (arrays): row of CELL_DEGREES from the south pole, times
    CELL_ROW, plus column from the antimeridian; ``cells_around`` numbers cells the same way."""
    row = ((latitude + 90) // CELL_DEGREES).astype(np.int64)
    return row * CELL_ROW + ((longitude + 180) // CELL_DEGREES).astype(np.int64) % CELLS_PER_ROW


@dataclass
class Occurrences(RowColumns):
    """Weekly occurrences sorted by key, with their columns gathered per occurrence so that a
    query reads all it needs about its few candidates with one ``take``."""

    key: np.ndarray
    rows: np.ndarray  # (n, 5) int64: resource position, local start minute, duration, zone, code
    places: np.ndarray  # (n, 3) kernel_inputs.place_row of each; online: none
    present: np.ndarray  # (m, 4) int64: bucket, zone, duration class bound, key base; by bucket
    groups: dict = field(init=False)  # bucket (cell or -1) -> [(zone, class bound, key base)]
    cache: dict = field(default_factory=dict)  # bucket sets -> their groups, concatenated

    ARRAYS = ("key", "rows", "places", "present")  # all it holds (finder.search.sidecar)

    def __post_init__(self):
        self.groups = {}
        for bucket, *group in self.present.tolist():
            self.groups.setdefault(bucket, []).append(tuple(group))


CODE = GROUP  # Occurrences.rows: the resource's code where candidates have their group


@dataclass
class OnlineFast:
    """Online occurrences the fast path may count (see finder.search.online)."""

    rows: np.ndarray  # indices into SearchIndex.online
    durations: np.ndarray  # the distinct durations, sorted
    codes: np.ndarray  # resource codes present (see SearchIndex.code)
    min_gap: int  # smallest gap between two occurrences of one resource, minutes
    regimes: dict  # zone offsets -> online.Regime
    bases: np.ndarray = field(init=False)  # (directory start, duration) per duration number

    def __post_init__(self):
        step = MINUTES_PER_WEEK + 1  # a regime's directory has an entry per minute and one past
        starts = np.arange(len(self.durations), dtype=np.int64) * step
        self.bases = np.stack([starts, self.durations.astype(np.int64)], axis=1)


class SearchIndex:
    """Resources and their weekly occurrences, ready for fast window and radius queries."""

    RESOURCE_COLUMNS = (
        "id",
        "kind",
        "attendance",
        "program",
        "timezone",
        "always_open",
        "latitude",
        "longitude",
    )

    def __init__(
        self,
        resources: list[tuple],
        schedules: list[tuple],
        resource_types: list[tuple],
        service_areas: list[dict] = (),
    ):
        """
        :param resources: tuples in ``RESOURCE_COLUMNS`` order, active resources only
        :param schedules: (resource id, local start minute of the week, duration minutes)
        :param resource_types: (resource id, vocabulary code)
        :param service_areas: rows of the service_areas table
        """
        # In id order, so that positions order and tell resources apart as ids do (the ranking
        # and the fast online keys rely on it).
        resources = sorted(resources, key=lambda row: row[0])
        columns = list(zip(*resources, strict=True)) or [()] * len(self.RESOURCE_COLUMNS)
        rid, kind, attendance, program, zone, always, lat, lon = columns
        self._set_names(sorted({z for z in zone if z}), sorted({p or "" for p in program}))
        self.ids = np.array(rid, dtype=np.int64)
        self.kind = _codes(kind, {k: n for n, k in enumerate(KINDS)}, np.int8)
        self.attendance = _codes(attendance, _ATTENDANCE_CODES, np.int8, default=3)
        self.program = _codes(
            [p or "" for p in program], {p: n for n, p in enumerate(self.programs)}, np.int16
        )
        self.zone = _codes(zone, {z: n for n, z in enumerate(self.zones)}, np.int16, default=-1)
        self.code = self.kind.astype(np.int64) * len(ATTENDANCE) + self.attendance
        meetings = np.arange(len(KINDS) * len(ATTENDANCE)) // len(ATTENDANCE) == _MEETING
        self.now_group = np.where(meetings, IN_PROGRESS, OPEN_NOW)  # by code, for what is on
        self.latitude = np.array([np.nan if v is None else v for v in lat], dtype=np.float64)
        self.longitude = np.array([np.nan if v is None else v for v in lon], dtype=np.float64)
        self.always_open = np.array(always, dtype=bool)
        self.always_open_positions = np.flatnonzero(self.always_open)
        self.places = kernel_inputs.place_rows(self.latitude, self.longitude)
        position = dict(zip(rid, range(len(rid)), strict=True))
        self._set_types(position, resource_types)
        self._set_areas(service_areas)
        located = ~np.isnan(self.latitude) & np.isin(self.attendance, [0, 2])
        online = np.isin(self.attendance, [1, 2])
        sched = np.array(
            [(position.get(r, -1), s, d) for r, s, d in schedules], dtype=np.int64
        ).reshape(-1, 3)
        sched = sched[sched[:, 0] >= 0]
        self.near = self._occurrences(sched[located[sched[:, 0]]], by_cell=True)
        online_rows = sched[online[sched[:, 0]]]
        self.online = self._occurrences(online_rows, by_cell=False)
        self._set_online_fast(online_rows)
        self._set_resource_cells(located)

    def _set_names(self, zones: list[str], programs: list[str]) -> None:
        self.zones = zones
        self.zone_names = np.array([*self.zones, None], dtype=object)  # zone -1 (none): None
        self.clock = _clock(tuple(zones))
        self.filter_cache: dict = {}  # query filters -> lookup tables (finder.search)
        self.programs = programs

    def _set_online_fast(self, online_rows: np.ndarray) -> None:
        """Split online occurrences: those the fast path (search.online) may count, the rest."""
        hybrid_other = (self.attendance == 2) & (self.kind != _MEETING)
        self.fast_online = ~self.has_area & ~hybrid_other & (self.zone >= 0)
        self.fast_hybrid = self.fast_online & (self.attendance == _ATTENDANCE_CODES["hybrid"])
        self.online_slow = self._occurrences(
            online_rows[~self.fast_online[online_rows[:, 0]]], by_cell=False
        )
        rows = np.flatnonzero(self.fast_online[self.online.resource])
        durations = np.unique(self.online.duration[rows])
        if not len(rows) or len(durations) > MAX_FAST_DURATIONS:
            self.online_fast = None
            return
        resource = self.online.resource[rows]
        self.online_fast = OnlineFast(
            rows,
            durations,
            np.unique(self.code[resource]),
            _min_gap(resource, self.online.start[rows]),
            {},
        )

    def _set_areas(self, service_areas) -> None:
        areas = defaultdict(list)
        for area in service_areas:
            position = int(np.searchsorted(self.ids, area["resource_id"]))  # ids are sorted
            if position < len(self.ids) and self.ids[position] == area["resource_id"]:
                areas[position].append(_prepared_area(area))
        self.areas = dict(areas)
        self.has_area = np.zeros(len(self.ids), dtype=bool)
        self.has_area[list(self.areas)] = True

    def _set_types(self, position: dict, resource_types: list[tuple]) -> None:
        bits = type_bits()
        pairs = np.array(
            [(position.get(rid, -1), bits.get(code, -1)) for rid, code in resource_types],
            dtype=np.int64,
        ).reshape(-1, 2)
        pairs = pairs[(pairs[:, 0] >= 0) & (pairs[:, 1] >= 0)]
        self.types_low = np.zeros(len(self.ids), dtype=np.uint64)
        self.types_high = np.zeros(len(self.ids), dtype=np.uint64)
        for target, bit in ((self.types_low, pairs[:, 1]), (self.types_high, pairs[:, 1] - 64)):
            chosen = (bit >= 0) & (bit < 64)
            values = np.left_shift(np.uint64(1), bit[chosen].astype(np.uint64))
            np.bitwise_or.at(target, pairs[chosen, 0], values)

    def _occurrences(self, rows: np.ndarray, by_cell: bool) -> Occurrences:
        count = len(rows)
        resource, start, duration = (rows[:, i] for i in range(3))
        zone = self.zone[resource].astype(np.int64)
        dclass = np.searchsorted(np.array(DURATION_CLASSES), duration).astype(np.int64)
        if by_cell:
            bucket = cell_of(self.latitude[resource], self.longitude[resource])
        else:
            bucket = np.full(count, -1, dtype=np.int64)
        key = _key(bucket, dclass, zone, start, len(self.zones))
        order = np.argsort(key, kind="stable")
        combos = np.unique(np.stack([bucket, dclass, zone], axis=1), axis=0).reshape(-1, 3)
        b, c, z = combos[:, 0], combos[:, 1], combos[:, 2]
        present = np.stack([b, z, _CLASS_BOUNDS[c], _key(b, c, z, 0, len(self.zones))], axis=1)
        columns = np.stack([resource, start, duration, zone, self.code[resource]], axis=1)
        places = self.places[resource[order] if by_cell else resource[:0]]
        return Occurrences(key[order], columns[order], places, present.reshape(-1, 4))

    def _set_resource_cells(self, located: np.ndarray) -> None:
        positions = np.flatnonzero(located)
        cells = cell_of(self.latitude[positions], self.longitude[positions])
        order = np.argsort(cells, kind="stable")
        self.cell_keys, self.cell_positions = cells[order], positions[order]

    def groups_of(self, occurrences: Occurrences, buckets: tuple) -> np.ndarray:
        """(zone, duration class bound, key base) rows present in these buckets (cached per set)."""
        cache = occurrences.cache
        if buckets not in cache:
            if len(cache) > 8192:
                cache.clear()
            found = [g for b in buckets for g in occurrences.groups.get(b, [])]
            cache[buckets] = np.array(found, dtype=np.int64).reshape(-1, 3)
        return cache[buckets]

    def resources_near(self, lat: float, lon: float, radius_km: float) -> np.ndarray:
        """Located resources in the grid cells around a circle (not yet filtered by distance)."""
        parts = []
        for cell in cells_around(lat, lon, radius_km):
            a, b = np.searchsorted(self.cell_keys, [cell, cell + 1])
            if b > a:
                parts.append(self.cell_positions[a:b])
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)

    # Everything an index holds, apart from its names and service areas: what
    # finder.search.sidecar stores beside the database and maps back.
    ARRAYS = (
        "ids", "kind", "attendance", "program", "zone", "code", "now_group", "latitude",
        "longitude", "always_open", "always_open_positions", "places", "types_low", "types_high",
        "fast_online", "fast_hybrid", "cell_keys", "cell_positions",
    )  # fmt: skip
    OCCURRENCES = ("near", "online", "online_slow")

    def stored_parts(self) -> tuple[dict[str, np.ndarray], dict]:
        """This index as named arrays, and the plain values (JSON) that ``from_stored`` needs
        besides them; the service areas stay in the database."""
        arrays = {name: getattr(self, name) for name in self.ARRAYS}
        for part in self.OCCURRENCES:
            for name in Occurrences.ARRAYS:
                arrays[f"{part}.{name}"] = getattr(getattr(self, part), name)
        plain = {"zones": self.zones, "programs": self.programs, "online_min_gap": None}
        if self.online_fast is not None:
            for name in ("rows", "durations", "codes"):
                arrays[f"online_fast.{name}"] = getattr(self.online_fast, name)
            plain["online_min_gap"] = self.online_fast.min_gap
        return arrays, plain

    @classmethod
    def from_stored(cls, arrays: dict, plain: dict, service_areas) -> "SearchIndex":
        """The index that ``stored_parts`` gave these arrays and values for (the arrays used
        as they are: memory-mapped ones stay mapped)."""
        index = cls.__new__(cls)
        index._set_names(plain["zones"], plain["programs"])
        for name in cls.ARRAYS:
            setattr(index, name, arrays[name])
        for part in cls.OCCURRENCES:
            setattr(index, part, Occurrences(*(arrays[f"{part}.{n}"] for n in Occurrences.ARRAYS)))
        index.online_fast = None
        if plain["online_min_gap"] is not None:
            parts = (arrays[f"online_fast.{n}"] for n in ("rows", "durations", "codes"))
            index.online_fast = OnlineFast(*parts, plain["online_min_gap"], {})
        index._set_areas(service_areas)
        return index

    @classmethod
    def from_db(cls, db: Database) -> "SearchIndex":
        """Load every active resource with its schedules and types."""
        resources = db.execute(
            "select r.id, r.kind, r.attendance, r.program, r.timezone, r.always_open, "
            "l.latitude, l.longitude from resources r "
            "left join locations l on l.id = r.location_id where r.status = 'active' order by r.id"
        ).fetchall()
        schedules = db.execute(
            "select s.resource_id, s.start_minute, s.duration_minutes from schedules s "
            "join resources r on r.id = s.resource_id where r.status = 'active'"
        ).fetchall()
        resource_types = db.execute(
            "select t.resource_id, t.code from resource_types t join resources r "
            "on r.id = t.resource_id where r.status = 'active'"
        ).fetchall()
        index = cls(resources, schedules, resource_types, service_areas(db))
        index.warm_up()
        return index

    def warm_up(self, year: int | None = None) -> None:
        """Build the zone tables of last, this and next year, and the fast online keys for this
        year's winter and summer offsets, ahead of time (not on someone's search)."""
        from datetime import UTC, datetime

        from finder.search.online import regime

        year = year or datetime.now(UTC).year
        for nearby in (year - 1, year, year + 1):
            self.clock.offsets(datetime(nearby, 6, 1, tzinfo=UTC))
        if self.online_fast is None:
            return
        for month in (1, 7):
            regime(self, self.clock.offsets(datetime(year, month, 15, tzinfo=UTC)))


@functools.lru_cache(maxsize=4)
def _clock(zones: tuple[str, ...]) -> ZoneClock:
    """One clock per list of zones in a process: the next generation of a file (same zones, as
    a rule) finds this year's transitions already worked out."""
    return ZoneClock(list(zones))


def service_areas(db: Database) -> list[dict]:
    """The service areas of active resources."""
    return list(
        db.query(  # each area looks up its resource (a join may scan every resource instead)
            "select a.* from service_areas a where exists (select 1 from resources r "
            "where r.id = a.resource_id and r.status = 'active')"
        )
    )


def _key(bucket, dclass, zone, start, nzones):
    return ((bucket * len(DURATION_CLASSES) + dclass) * max(nzones, 1) + zone) * KEY_SPAN + start


def _min_gap(resource: np.ndarray, start: np.ndarray) -> int:
    """Smallest wall-clock gap between two weekly starts of the same resource (a week if none)."""
    order = np.lexsort((start, resource))
    resource, start = resource[order], start[order]
    same = resource[1:] == resource[:-1]
    gaps = (start[1:] - start[:-1])[same]
    first = np.flatnonzero(np.r_[True, ~same])
    last = np.r_[first[1:] - 1, len(resource) - 1]
    several = last > first
    wraps = start[first[several]] + MINUTES_PER_WEEK - start[last[several]]
    return int(min(gaps.min(initial=MINUTES_PER_WEEK), wraps.min(initial=MINUTES_PER_WEEK)))


def _codes(values, numbering: dict, dtype, default: int | None = None) -> np.ndarray:
    """Small integer codes for a column of strings."""
    if default is None:
        return np.array([numbering[v] for v in values], dtype=dtype)
    return np.array([numbering.get(v, default) for v in values], dtype=dtype)


def _prepared_area(area: dict) -> dict:
    """A service area with its GeoJSON geometry parsed and prepared for point tests."""
    area = dict(area)
    if area.get("geometry"):
        import json

        import shapely

        try:
            geometry = shapely.geometry.shape(json.loads(area["geometry"]))
        except (ValueError, TypeError, AttributeError, shapely.errors.GEOSException):
            geometry = None
        if geometry is not None:
            shapely.prepare(geometry)
        area["shape"] = geometry
    return area
