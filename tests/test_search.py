"""Near me and now: table-driven cases with a frozen `now`, and the real bundled data."""

import json
import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from finder.errors import GeocodeError
from finder.geo.offline import OfflineGeocoder
from finder.geo.positions import EARTH_RADIUS_KM, distance_km
from finder.geo.where import locate
from finder.schedule import minutes, occurrence
from finder.search import online as search_online
from finder.search.describe import describe
from finder.search.engine import Plan, any_placed_within, search
from finder.search.index import SearchIndex
from finder.search.naive import search_naive
from finder.search.query import Query

from .conftest import DATA

DENVER = (39.7392, -104.9903)
PHILLY = (39.9526, -75.1652)
NY, LA, CHICAGO = (
    ZoneInfo("America/New_York"),
    ZoneInfo("America/Los_Angeles"),
    ZoneInfo("America/Chicago"),
)
DAYS = {"Sun": 0, "Mon": 1, "Tue": 2, "Wed": 3, "Thu": 4, "Fri": 5, "Sat": 6}


def meeting(
    rid,
    when,
    duration=60,
    zone="America/Denver",
    at=DENVER,
    attendance="in_person",
    kind="meeting",
    types=(),
    always_open=False,
    areas=(),
):
    """A resource: ``when`` is "Tue 19:00" (or a list of them) in the resource's own zone."""
    slots = [when] if isinstance(when, str) else list(when)
    return {
        "id": rid,
        "kind": kind,
        "attendance": attendance,
        "zone": zone,
        "at": at,
        "slots": [(DAYS[s.split()[0]] * 1440 + minutes(s.split()[1]), duration) for s in slots],
        "types": types,
        "always_open": always_open,
        "areas": areas,
    }


def index_of(*resources) -> SearchIndex:
    rows, schedules, types, areas = [], [], [], []
    for r in resources:
        lat, lon = r["at"] if r["at"] else (None, None)
        rows.append(
            (
                r["id"],
                r["kind"],
                r["attendance"],
                "AA",
                r["zone"],
                r["always_open"],
                lat,
                lon,
            )
        )
        schedules += [(r["id"], start, duration) for start, duration in r["slots"]]
        types += [(r["id"], code) for code in r["types"]]
        areas += [{"resource_id": r["id"], **area} for area in r["areas"]]
    return SearchIndex(rows, schedules, types, areas)


def at(zone, *args) -> datetime:
    return datetime(*args, tzinfo=zone)


def query(now, point=DENVER, **options) -> Query:
    lat, lon = point if point else (None, None)
    return Query(now=now, latitude=lat, longitude=lon, **options)


def found(results) -> dict[int, str]:
    return {h.resource_id: h.group for g in results.groups.values() for h in g}


DENVER_TZ = ZoneInfo("America/Denver")
POINT_NEAR_DENVER = json.dumps({"type": "Point", "coordinates": [-104.8, 39.9]})


def warmline(area: dict):
    """A 24/7 warmline with no office, serving one area."""
    return meeting(
        1, [], kind="warmline", at=None, attendance="online", always_open=True, areas=(area,)
    )


CASES = [
    # (what it shows, resources, now, query options, expected {id: group})
    (
        "19:00 in Denver is 19:00 in winter",
        [meeting(1, "Tue 19:00")],
        at(DENVER_TZ, 2026, 1, 13, 19, 5),
        {},
        {1: "in_progress"},
    ),
    (
        "19:00 in Denver is 19:00 in summer too",
        [meeting(1, "Tue 19:00")],
        at(DENVER_TZ, 2026, 7, 14, 19, 5),
        {},
        {1: "in_progress"},
    ),
    (
        "an hour after it ended it is gone",
        [meeting(1, "Tue 19:00")],
        at(DENVER_TZ, 2026, 7, 14, 20, 0),
        {},
        {},
    ),
    (
        "starting within 2 hours",
        [meeting(1, "Tue 19:00"), meeting(2, "Tue 21:30")],
        at(DENVER_TZ, 2026, 7, 14, 17, 30),
        {},
        {1: "starting_soon"},
    ),
    (
        "spring forward: 03:30 is 45 real minutes after 01:45",
        [meeting(1, "Sun 03:30", zone="America/New_York", at=PHILLY)],
        at(NY, 2026, 3, 8, 1, 45),
        {"hours": 0.8, "point": PHILLY},
        {1: "starting_soon"},
    ),
    (
        "spring forward: a 01:30 meeting runs until 03:30 wall time",
        [meeting(1, "Sun 01:30", zone="America/New_York", at=PHILLY)],
        datetime(2026, 3, 8, 7, 20, tzinfo=UTC),
        {"point": PHILLY},
        {1: "in_progress"},
    ),
    (
        "fall back: 01:30 means its first occurrence",
        [meeting(1, "Sun 01:30", zone="America/New_York", at=PHILLY)],
        datetime(2026, 11, 1, 5, 0, tzinfo=UTC),
        {"hours": 0.6, "point": PHILLY},
        {1: "starting_soon"},
    ),
    (
        "midnight crossing: 23:30-00:30 is in progress at 00:10",
        [meeting(1, "Tue 23:30")],
        at(DENVER_TZ, 2026, 7, 15, 0, 10),
        {},
        {1: "in_progress"},
    ),
    (
        "week wrap: Saturday 23:30 is in progress on Sunday 00:15",
        [meeting(1, "Sat 23:30")],
        at(DENVER_TZ, 2026, 7, 19, 0, 15),
        {},
        {1: "in_progress"},
    ),
    (
        "week wrap: Sunday 00:30 starts soon on Saturday 23:00",
        [meeting(1, "Sun 00:30")],
        at(DENVER_TZ, 2026, 7, 18, 23, 0),
        {},
        {1: "starting_soon"},
    ),
    (
        "missing end time counts as 60 minutes",
        [meeting(1, "Tue 19:00", duration=60)],
        at(DENVER_TZ, 2026, 7, 14, 19, 59),
        {},
        {1: "in_progress"},
    ),
    (
        "several days per meeting",
        [meeting(1, ["Mon 12:00", "Thu 12:00"])],
        at(DENVER_TZ, 2026, 7, 16, 11, 0),
        {},
        {1: "starting_soon"},
    ),
    (
        "exclude filter drops closed meetings",
        [meeting(1, "Tue 19:00", types=("C",)), meeting(2, "Tue 19:00", types=("O",))],
        at(DENVER_TZ, 2026, 7, 14, 19, 0),
        {"exclude_types": frozenset({"C"})},
        {2: "in_progress"},
    ),
    (
        "include filter needs every type",
        [meeting(1, "Tue 19:00", types=("O", "X")), meeting(2, "Tue 19:00", types=("O",))],
        at(DENVER_TZ, 2026, 7, 14, 19, 0),
        {"include_types": frozenset({"O", "X"})},
        {1: "in_progress"},
    ),
    (
        "online now without a location, any distance",
        [meeting(1, "Tue 18:30", zone="America/Los_Angeles", at=None, attendance="online")],
        at(DENVER_TZ, 2026, 7, 14, 19, 40),
        {"point": None},
        {1: "online_now"},
    ),
    (
        "far-away in-person meetings are not online",
        [meeting(1, "Tue 19:00", zone="America/New_York", at=PHILLY)],
        at(DENVER_TZ, 2026, 7, 14, 17, 0),
        {},
        {},
    ),
    (
        "a hybrid meeting nearby counts as in person",
        [meeting(1, "Tue 19:00", attendance="hybrid")],
        at(DENVER_TZ, 2026, 7, 14, 19, 0),
        {},
        {1: "in_progress"},
    ),
    (
        "a hybrid meeting far away is online now",
        [meeting(1, "Tue 21:00", zone="America/New_York", at=PHILLY, attendance="hybrid")],
        at(DENVER_TZ, 2026, 7, 14, 19, 0),
        {},
        {1: "online_now"},
    ),
    (
        "a 24/7 forum is open now, whenever",
        [meeting(1, [], kind="online_forum", at=None, attendance="online", always_open=True)],
        at(DENVER_TZ, 2026, 7, 14, 3, 0),
        {"point": None},
        {1: "open_now"},
    ),
    (
        "a center open 09:00-17:00 is open now at 10:00",
        [meeting(1, "Tue 09:00", duration=480, kind="center")],
        at(DENVER_TZ, 2026, 7, 14, 10, 0),
        {},
        {1: "open_now"},
    ),
    (
        "a center opening soon says so",
        [meeting(1, "Tue 09:00", duration=480, kind="center")],
        at(DENVER_TZ, 2026, 7, 14, 8, 0),
        {},
        {1: "starting_soon"},
    ),
    (
        "a state warmline serves people in that state",
        [
            meeting(
                1,
                [],
                kind="warmline",
                at=None,
                attendance="online",
                always_open=True,
                areas=({"kind": "state", "code": "CO"},),
            )
        ],
        at(DENVER_TZ, 2026, 7, 14, 3, 0),
        {},
        {1: "open_now"},
    ),
    (
        "and not people elsewhere",
        [
            meeting(
                1,
                [],
                kind="warmline",
                at=None,
                attendance="online",
                always_open=True,
                areas=({"kind": "state", "code": "CA"},),
            )
        ],
        at(DENVER_TZ, 2026, 7, 14, 3, 0),
        {},
        {},
    ),
    (
        "a polygon service area matches although the office is far away",
        [
            meeting(
                1,
                [],
                kind="peer_organization",
                at=(35.0, -80.0),
                attendance="in_person",
                always_open=True,
                areas=(
                    {
                        "kind": "geojson",
                        "geometry": json.dumps(
                            {
                                "type": "Polygon",
                                "coordinates": [
                                    [[-106, 39], [-104, 39], [-104, 41], [-106, 41], [-106, 39]]
                                ],
                            }
                        ),
                    },
                ),
            )
        ],
        at(DENVER_TZ, 2026, 7, 14, 3, 0),
        {"widen": False, "radius_km": 3000},
        {1: "open_now"},
    ),
    (
        "a radius service area (GeoJSON point, km) matches inside it",
        [warmline(area={"kind": "radius", "code": "50", "geometry": POINT_NEAR_DENVER})],
        at(DENVER_TZ, 2026, 7, 14, 3, 0),
        {},
        {1: "open_now"},
    ),
    (
        "and not outside it",
        [warmline(area={"kind": "radius", "code": "5", "geometry": POINT_NEAR_DENVER})],
        at(DENVER_TZ, 2026, 7, 14, 3, 0),
        {},
        {},
    ),
    (
        "by-appointment resources have no 'now'",
        [meeting(1, [], kind="center")],
        at(DENVER_TZ, 2026, 7, 14, 10, 0),
        {},
        {},
    ),
    (
        "but are listed for any time",
        [meeting(1, [], kind="center")],
        at(DENVER_TZ, 2026, 7, 14, 10, 0),
        {"when": "any"},
        {1: "nearby"},
    ),
    (
        "today includes later meetings",
        [meeting(1, "Tue 21:30")],
        at(DENVER_TZ, 2026, 7, 14, 12, 0),
        {"when": "today", "until": at(DENVER_TZ, 2026, 7, 15, 0, 0)},
        {1: "later"},
    ),
    (
        "any time returns places by distance",
        [meeting(1, "Fri 07:00")],
        at(DENVER_TZ, 2026, 7, 14, 12, 0),
        {"when": "any"},
        {1: "nearby"},
    ),
]


@pytest.mark.parametrize(
    "resources, now, options, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_near_me_and_now(resources, now, options, expected):
    index = index_of(*resources)
    options = dict(options)
    point = options.pop("point", DENVER)
    q = query(now, point, **options)
    results = search(index, q)
    assert found(results) == expected
    assert results.ids() == search_naive(index, q, results.radius_km).ids()


def test_grace_period_marks_just_started_meetings_joinable():
    index = index_of(meeting(1, "Tue 19:00"), meeting(2, "Tue 18:45"))
    results = search(index, query(at(DENVER_TZ, 2026, 7, 14, 19, 5)))
    hits = {h.resource_id: h for h in results.groups["in_progress"]}
    assert hits[1].joinable and not hits[2].joinable
    assert hits[1].minutes_until_start == pytest.approx(-5)
    assert hits[1].minutes_until_end == pytest.approx(55)


def test_local_times_carry_their_zone_abbreviation():
    index = index_of(meeting(1, "Tue 19:00", zone="America/New_York", at=None, attendance="online"))
    results = search(index, query(at(DENVER_TZ, 2026, 1, 13, 16, 30), None))
    start, end = results.groups["online_now"][0].times
    assert (start.strftime("%H:%M %Z"), end.strftime("%H:%M %Z")) == ("19:00 EST", "20:00 EST")


def test_soonest_then_nearest_order():
    near, far = (39.74, -104.99), (39.80, -105.05)
    index = index_of(
        meeting(1, "Tue 19:30", at=far),
        meeting(2, "Tue 19:30", at=near),
        meeting(3, "Tue 19:15", at=far),
    )
    results = search(index, query(at(DENVER_TZ, 2026, 7, 14, 19, 0)))
    assert [h.resource_id for h in results.groups["starting_soon"]] == [3, 2, 1]
    nearest = search(index, query(at(DENVER_TZ, 2026, 7, 14, 19, 0), order="nearest"))
    assert [h.resource_id for h in nearest.groups["starting_soon"]][0] == 2


def test_radius_widens_when_little_is_near_and_says_so():
    close = [meeting(i, "Tue 19:00", at=(39.74 + i * 0.01, -104.99)) for i in range(2)]
    farther = [meeting(10 + i, "Tue 19:00", at=(40.05 + i * 0.01, -104.99)) for i in range(4)]
    index = index_of(*close, *farther)
    results = search(index, query(at(DENVER_TZ, 2026, 7, 14, 19, 0)))
    assert results.widened_from_km == pytest.approx(16.09, abs=0.01)
    assert results.radius_km == pytest.approx(64.37, abs=0.01)
    assert len(results.groups["in_progress"]) == 6
    fixed = search(index, query(at(DENVER_TZ, 2026, 7, 14, 19, 0), widen=False))
    assert len(fixed.groups["in_progress"]) == 2 and fixed.widened_from_km is None


def test_why_says_distance_time_and_filters():
    index = index_of(meeting(1, "Tue 19:00", types=("O", "X")))
    results = search(
        index,
        query(
            at(DENVER_TZ, 2026, 7, 14, 19, 0),
            include_types=frozenset({"X"}),
            exclude_types=frozenset({"SM"}),
        ),
    )
    why = results.groups["in_progress"][0].why
    assert why["group"] == "in_progress" and why["distance_km"] < 1
    assert why["minutes_until_start"] == 0 and why["types"] == ["X", "not SM"]


@pytest.mark.parametrize(
    "text, label, approximate",
    [
        ("19103", "ZIP 19103", True),
        ("Denver, CO", "Denver, CO", True),
        ("1500 Market St, Philadelphia, PA 19103", "ZIP 19103", True),
        ("39.95, -75.16", "your location", False),
    ],
)
def test_text_locations(text, label, approximate):
    place = locate(text, OfflineGeocoder())
    assert (place.label, place.approximate) == (label, approximate)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "Enter a ZIP code"),
        ("Atlantis", "could not find"),
        ("x" * 500, "too long"),
        ("95, 200", "not on Earth"),
    ],
)
def test_text_locations_that_fail_say_why(text, message):
    with pytest.raises(GeocodeError, match=message):
        locate(text, OfflineGeocoder())


def test_summary_for_headings_and_screen_readers():
    q = query(
        datetime(2026, 7, 14, tzinfo=UTC),
        PHILLY,
        place="ZIP 19103",
        kinds=frozenset({"meeting"}),
        include_types=frozenset({"X"}),
    )
    assert describe(q) == (
        "Meetings in progress or starting in the next 2 hours within 10 miles "
        "of ZIP 19103, with wheelchair access"
    )


def test_tuesday_7pm_in_philadelphia_over_the_real_feed(import_bundled, db):
    import_bundled("aasepia")
    index = SearchIndex.from_db(db)
    place = locate("19103", OfflineGeocoder())
    now = at(NY, 2026, 11, 24, 19, 0)  # a Tuesday
    q = Query(
        now=now,
        latitude=place.latitude,
        longitude=place.longitude,
        place=place.label,
        kinds=frozenset({"meeting"}),
        limit=500,
        widen=False,
    )
    results = search(index, q)
    feed = json.loads((DATA / "meeting-guide" / "aasepia.json").read_text())
    expected = set()
    for row in feed:
        # A full address has street, city and state parts; it need not start with a house
        # number (issue #9: "St John's Baptist Church, 1232 Tasker Street, ..." meets in person).
        parts = [p for p in row["formatted_address"].split(",") if p.strip()]
        if row["day"] != 2 or "TC" in row["types"] or len(parts[:-1]) < 3:
            continue
        start, end = minutes(row["time"]), minutes(row["end_time"]) if row["end_time"] else None
        distance = distance_km(
            place.latitude, place.longitude, float(row["latitude"]), float(row["longitude"])
        )
        if distance <= q.radius_km and start <= 19 * 60 < (end or start + 60):
            expected.add(row["slug"])
    in_progress = results.groups["in_progress"]
    slugs = {
        r["source_id"]
        for r in db.query(
            "select source_id from resources where id in ({})".format(
                ",".join("?" * len(in_progress))
            ),
            [h.resource_id for h in in_progress],
        )
    }
    assert len(expected) >= 5 and slugs == expected
    starting = results.groups["starting_soon"]
    assert starting and all(0 < h.minutes_until_start <= 120 for h in starting)
    times = [h.minutes_until_start for h in starting]
    assert times == sorted(times)  # soonest first, then nearest within the same start


def test_fast_path_equals_naive_scan_across_dst_weekends(import_bundled, db, no_numpy_trigonometry):
    for source in ("aasfmarin", "nwta", "na-gnyr", "national-lines"):
        import_bundled(source)
    index = SearchIndex.from_db(db)
    points = [(37.77, -122.42), (35.2, -101.8), (40.75, -73.99), (41.0, -100.0)]
    starts = [datetime(2026, 3, 8, 3, 0, tzinfo=UTC), datetime(2026, 11, 1, 3, 0, tzinfo=UTC)]
    for number in range(96):
        now = starts[number % 2] + timedelta(minutes=37 * number)
        lat, lon = points[number % 4]
        q = Query(
            now=now,
            latitude=lat,
            longitude=lon,
            when=("now", "today")[number % 2],
            until=now + timedelta(hours=9),
        )
        fast = search(index, q)
        assert fast.ids() == search_naive(index, q, fast.radius_km).ids(), now


@pytest.mark.parametrize(
    ("point", "radius_km", "options"),
    [
        ((39.9526, -75.1652), 1.0, {}),  # centre of Philadelphia
        ((39.9526, -75.1652), 0.05, {}),
        ((40.5, -77.5), 5.0, {}),  # rural central Pennsylvania
        ((40.5, -77.5), 80.0, {}),
        ((39.9526, -75.1652), 2.0, {"programs": frozenset({"na"})}),
        ((39.9526, -75.1652), 2.0, {"include_types": frozenset({"X"})}),
        ((39.9526, -75.1652), 2.0, {"attendance": frozenset({"online"})}),
        ((38.0, -40.0), 200.0, {}),  # the Atlantic
    ],
)
def test_any_placed_within_says_what_an_any_time_search_lists_nearby(
    import_bundled, db, point, radius_km, options
):
    import_bundled("aasepia")
    index = SearchIndex.from_db(db)
    q = Query(
        now=at(NY, 2026, 11, 24, 19, 0),
        latitude=point[0],
        longitude=point[1],
        when="any",
        kinds=frozenset({"meeting"}),
        radius_km=radius_km,
        widen=False,
        **options,
    )
    nearby = search(index, q).totals["nearby"]
    assert any_placed_within(index, q, radius_km) is (nearby > 0)


def test_a_hits_local_times_are_its_weekly_occurrence_across_dst_weekends(import_bundled, db):
    """Hit.times reads the occurrence the search found (minutes after the window's start): the
    same start and end, in the same offset, as schedule.occurrence gives by wall-clock time."""
    for source in ("aasfmarin", "nwta", "na-gnyr", "national-lines"):
        import_bundled(source)
    index = SearchIndex.from_db(db)
    points = [(37.77, -122.42), (35.2, -101.8), (40.75, -73.99), (41.0, -100.0)]
    starts = [datetime(2026, 3, 8, 3, 0, tzinfo=UTC), datetime(2026, 11, 1, 3, 0, tzinfo=UTC)]
    checked = 0
    for number in range(48):
        now = starts[number % 2] + timedelta(minutes=37 * number, seconds=number % 7 * 8.5)
        lat, lon = points[number % 4]
        q = Query(now=now, latitude=lat, longitude=lon, when=("now", "today", "week")[number % 3])
        for hits in search(index, q).groups.values():
            for hit in (h for h in hits if h.times):
                zone = ZoneInfo(hit.zone)
                horizon = max(int(hit.minutes_until_start) + 120, 0)
                start, end = occurrence(hit.start_minute, hit.duration, zone, now, horizon)
                assert hit.times == (start.astimezone(zone), end.astimezone(zone)), hit
                assert hit.times[0].utcoffset() == start.astimezone(zone).utcoffset(), hit
                checked += 1
    assert checked > 500


def test_fast_online_counts_and_ties_match_the_naive_scan():
    zones = ["America/New_York", "America/Chicago", "America/Los_Angeles", "America/Phoenix"]
    online = [
        meeting(
            i,
            f"{'Tue' if i % 3 else 'Wed'} {18 + i % 4}:{'00' if i % 2 else '30'}",
            duration=(60, 90, 45)[i % 3],
            zone=zones[i % 4],
            at=None,
            attendance="online",
        )
        for i in range(1, 400)
    ]
    hybrid = [
        meeting(1000 + i, "Tue 19:30", duration=60, zone="America/Denver", attendance="hybrid")
        for i in range(6)
    ]
    index = index_of(*online, *hybrid)
    for now, limit in [
        (at(DENVER_TZ, 2026, 7, 14, 18, 10), 5),
        (at(DENVER_TZ, 2026, 1, 13, 19, 31), 1),
        (at(NY, 2026, 7, 14, 23, 59, 30), 25),
    ]:
        q = query(now, limit=limit)
        plan = Plan.of(index, q)
        assert search_online.usable(index, plan, plan.clock)
        fast = search(index, q)
        assert fast.totals["online_now"] > limit
        naive = search_naive(index, q, fast.radius_km)
        assert (fast.ids(), fast.totals) == (naive.ids(), naive.totals)


@pytest.fixture
def no_numpy_trigonometry(monkeypatch):
    """NumPy's sin, cos and arcsin are SIMD code that differs from the C library's in the last
    bit on CPUs with AVX-512: nothing the search decides may call them, whatever this CPU."""

    def refuse(*args, **kwargs):
        raise AssertionError("NumPy trigonometry: results would depend on the CPU")

    search(index_of(meeting(1, "Tue 19:00")), query(at(DENVER_TZ, 2026, 1, 13, 19, 5)))
    # (numba's set-up, done by then, reads NumPy's ufuncs; the kernels use the math module)
    for name in ("sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2", "hypot"):
        monkeypatch.setattr(np, name, refuse)


def ring(center, km, count):
    """Positions ``km`` from a center on bearings all round: their computed distances are
    ``km`` give or take a rounding, either way."""
    lat, lon = (math.radians(v) for v in center)
    angle = km / EARTH_RADIUS_KM
    out = []
    for k in range(count):
        bearing = 2 * math.pi * k / count
        lat2 = math.asin(
            math.sin(lat) * math.cos(angle) + math.cos(lat) * math.sin(angle) * math.cos(bearing)
        )
        lon2 = lon + math.atan2(
            math.sin(bearing) * math.sin(angle) * math.cos(lat),
            math.cos(angle) - math.sin(lat) * math.sin(lat2),
        )
        out.append((math.degrees(lat2), math.degrees(lon2)))
    return out


def radius_warmline(rid, center, km):
    """A 24/7 warmline serving the circle of ``km`` around ``center``."""
    point = {"type": "Point", "coordinates": [center[1], center[0]]}
    area = {"kind": "radius", "code": repr(float(km)), "geometry": json.dumps(point)}
    return meeting(
        rid, [], kind="warmline", at=None, attendance="online", always_open=True, areas=(area,)
    )


def test_places_at_the_radius_edge_are_in_or_out_alike_in_both_paths(no_numpy_trigonometry):
    places = ring(DENVER, 8.0, 40)
    located = [meeting(i, "Tue 19:00", at=p) for i, p in enumerate(places[::2], 1)] + [
        meeting(100 + i, [], kind="center", at=p, always_open=True)
        for i, p in enumerate(places[1::2], 1)
    ]
    km = {r["id"]: distance_km(*DENVER, *r["at"]) for r in located}
    edge = km[1]  # meeting 1 at the edge, then just inside it, then just outside it
    served = [  # Denver on the edge of a service area, and just outside one
        radius_warmline(998, places[2], km[2]),
        radius_warmline(999, places[2], np.nextafter(km[2], 0)),
    ]
    index = index_of(*located, *served)
    radii = [(edge, True), (np.nextafter(edge, math.inf), True), (np.nextafter(edge, 0), False)]
    for radius, inside in [*radii, (8.0, None), (edge / 2, True)]:
        for when in ("now", "any"):
            q = query(
                at(DENVER_TZ, 2026, 1, 13, 19, 5),
                radius_km=float(radius),
                when=when,
                widen=radius == edge / 2,  # doubles to exactly the edge (or beyond)
                limit=100,
            )
            fast = search(index, q)
            assert fast.ids() == search_naive(index, q, fast.radius_km).ids()
            within = {rid for rid, d in km.items() if d <= fast.radius_km}
            assert set(found(fast)) == within | {998}
            assert inside is None or (1 in within) == inside
