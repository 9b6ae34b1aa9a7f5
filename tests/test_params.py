"""URL parameters into a Query (finder/web/params.py): a table of cases, as Datasette's
test_filters.py, with a frozen `now` (issue #10)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from finder.geo.offline import OfflineGeocoder
from finder.search.query import DEFAULT_KINDS, KM_PER_MILE
from finder.web.params import ParamError, parse_search

NY = ZoneInfo("America/New_York")
# Saturday 7 March 2026, 12:00 in New York: the next day, Sunday 8 March, clocks spring forward
# at 02:00 (02:00-02:59 does not exist); on Sunday 1 November 2026 they fall back at 02:00
# (01:00-01:59 happens twice).
BEFORE_SPRING = datetime(2026, 3, 7, 12, 0, tzinfo=NY)
BEFORE_FALL = datetime(2026, 10, 31, 12, 0, tzinfo=NY)


@pytest.fixture(scope="module")
def geocoder():
    return OfflineGeocoder()


@pytest.mark.parametrize(
    "args, expected",
    [
        ({}, {"when": "now", "radius_km": 10 * KM_PER_MILE, "kinds": DEFAULT_KINDS, "limit": 25}),
        ({"q": "19103"}, {"place": "ZIP 19103", "approximate": True}),
        ({"radius": "5", "unit": "km"}, {"radius_km": 5.0, "unit": "km"}),
        ({"radius": "2"}, {"radius_km": 2 * KM_PER_MILE}),
        ({"kind": "meeting"}, {"kinds": {"meeting"}}),
        ({"attendance": "in_person"}, {"attendance": {"in_person", "hybrid"}}),
        ({"attendance": "online"}, {"attendance": {"online", "hybrid"}}),
        ({"type": "W,X", "not": "SM"}, {"include_types": {"W", "X"}, "exclude_types": {"SM"}}),
        ({"order": "nearest", "limit": "5"}, {"order": "nearest", "limit": 5}),
        ({"widen": "no"}, {"widen": False}),
        ({"when": "any"}, {"when": "any"}),
        (
            {"when": "today", "tz": "America/New_York"},
            {"when": "today", "until": datetime(2026, 3, 8, 0, 0, tzinfo=NY)},
        ),
        (
            {"when": "at", "day": "saturday", "time": "19:00", "tz": "America/New_York"},
            {"when": "at", "at": datetime(2026, 3, 7, 19, 0, tzinfo=NY)},
        ),
        (
            {"when": "at", "day": "friday", "time": "08:00", "tz": "America/New_York"},
            {"at": datetime(2026, 3, 13, 8, 0, tzinfo=NY)},  # the next Friday, not yesterday's
        ),
        # A place's week (issue #12): places to go, nearest first, up to 100 per group; the
        # form's day and time do not apply.
        (
            {"when": "week", "q": "19103", "day": "monday", "time": "18:00"},
            {
                "when": "week",
                "at": None,
                "attendance": {"in_person", "hybrid"},
                "order": "nearest",
                "limit": 100,
            },
        ),
        ({"when": "week", "q": "19103", "limit": "10"}, {"limit": 10}),
        ({"when": "week", "q": "19103", "order": "soonest"}, {"order": "nearest"}),
        (
            {"when": "week", "q": "19103", "attendance": "in_person"},
            {"attendance": {"in_person", "hybrid"}},
        ),
        ({"when": "week", "q": "19103", "attendance": "hybrid"}, {"attendance": {"hybrid"}}),
        (
            {"when": "week", "lat": "39.95", "lon": "-75.16", "type": "S,W"},
            {"include_types": {"S", "W"}},
        ),
        ({"when": "week", "lat": "0", "lon": "0", "tz": "Africa/Abidjan"}, {"when": "week"}),
    ],
)
def test_parameters_become_query_fields(geocoder, args, expected):
    query = parse_search(args, geocoder, BEFORE_SPRING).query
    for name, value in expected.items():
        assert getattr(query, name) == value, name


# A chosen wall time that does not exist or happens twice (decided here, README "Search"):
# - 02:30 on the day clocks spring forward does not exist; it is read with the offset before
#   the change (fold=0), which is 03:30 on the new clock: the instant a 02:30 meeting would
#   have meant, an hour after 01:30;
# - 01:30 on the day clocks fall back happens twice; it is the first of the two (EDT).
@pytest.mark.parametrize(
    "now, day, time, utc",
    [
        (BEFORE_SPRING, "sunday", "01:30", datetime(2026, 3, 8, 6, 30, tzinfo=UTC)),
        (BEFORE_SPRING, "sunday", "02:30", datetime(2026, 3, 8, 7, 30, tzinfo=UTC)),
        (BEFORE_SPRING, "sunday", "03:30", datetime(2026, 3, 8, 7, 30, tzinfo=UTC)),
        (BEFORE_FALL, "sunday", "00:30", datetime(2026, 11, 1, 4, 30, tzinfo=UTC)),
        (BEFORE_FALL, "sunday", "01:30", datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
        (BEFORE_FALL, "sunday", "02:30", datetime(2026, 11, 1, 7, 30, tzinfo=UTC)),
    ],
)
def test_chosen_wall_times_across_dst(geocoder, now, day, time, utc):
    args = {"when": "at", "day": day, "time": time, "tz": "America/New_York"}
    assert parse_search(args, geocoder, now).query.at.astimezone(UTC) == utc


@pytest.mark.parametrize(
    "args, message",
    [
        ({"radius": "0"}, "radius must be a number between"),
        ({"radius": "lots"}, "radius must be a number between"),
        ({"limit": "2.5"}, "limit must be a whole number"),
        ({"kind": "castle"}, "Unknown kind"),
        ({"type": "W", "not": "W"}, "both wanted and excluded"),
        ({"lat": "39.9"}, "Give both lat and lon"),
        ({"lat": "91", "lon": "0"}, "lat must be between -90 and 90"),
        ({"lat": "north", "lon": "west"}, "must be numbers"),
        ({"when": "at", "day": "funday", "time": "19:00", "tz": "UTC"}, "tz must be an IANA"),
        ({"when": "at", "day": "funday", "time": "19:00", "tz": "America/Denver"}, "day must be"),
        ({"when": "today"}, "needs a place or a time zone"),
        ({"q": "Atlantis, XX"}, "We could not find"),
        ({"q": ["19103", "19104"]}, "only once"),
        ({"when": "week"}, r"when=week lists what meets near a place each week: give a place \(q"),
        ({"when": "week", "tz": "America/New_York"}, "when=week lists what meets near a place"),
        ({"when": "week", "q": "19103", "attendance": "online"}, "online meetings have none"),
        ({"when": "week", "lat": "0", "lon": "0"}, r"when=week needs the place's time zone.*tz="),
        ({"when": "week", "q": "19103", "limit": "101"}, "limit must be a whole number"),
        ({"when": "weekly", "q": "19103"}, "when must be one of: now, today, at, week, any"),
    ],
)
def test_unusable_parameters_are_param_errors(geocoder, args, message):
    with pytest.raises(ParamError, match=message):
        parse_search(args, geocoder, BEFORE_SPRING)


def test_a_weeks_window_holds_every_weekly_time_once(geocoder):
    """A week and an hour from now: a meeting that started minutes ago is found by its next
    start (a week less those minutes), not lost."""
    query = parse_search({"when": "week", "q": "19103"}, geocoder, BEFORE_SPRING).query
    start, soon, end = query.window
    assert start == BEFORE_SPRING
    assert (end - start).total_seconds() == (7 * 24 + 1) * 3600
    assert (soon - start).total_seconds() == 2 * 3600
