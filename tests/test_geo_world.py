"""Places outside the US and postcodes that are not ZIP codes (issue #9, section 2)."""

import collections
import json
import types

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finder import create_app
from finder.geo import world
from finder.geo.areas import area_contains
from finder.geo.offline import (
    OfflineGeocoder,
    country_of,
    distance_km,
    normalise_postcode,
    parse_place_text,
    resolve_position,
    timezone_for,
)
from finder.geo.where import locate
from finder.ingest.formats.meeting_guide import parse
from finder.ingest.load import load_source

from .conftest import FIXTURES

DUBLIN = (53.35, -6.26)
EDMONTON = (53.55, -113.47)
BERLIN = (52.52, 13.40)


@pytest.mark.parametrize(
    "text, parts",
    [
        (
            "10025 102A Ave NW, Edmonton, AB T5J 2Z1, Canada",
            {"postalcode": "T5J 2Z1", "city": "Edmonton", "state": "AB", "country": "CA"},
        ),
        ("Edmonton, AB", {"city": "Edmonton", "state": "AB", "country": "CA"}),
        ("Halifax, Nova Scotia", {"city": "Halifax", "state": "Nova Scotia", "country": "CA"}),
        ("t5j2r7", {"postalcode": "T5J 2R7", "country": "CA"}),
        ("SW1A 1AA", {"postalcode": "SW1A 1AA", "country": "GB"}),
        ("sw1a 1aa", {"postalcode": "SW1A 1AA", "country": "GB"}),
        (
            "1 High St, Manchester M1 1AE, UK",
            {"postalcode": "M1 1AE", "city": "Manchester", "country": "GB"},
        ),
        # A German postcode is never a US ZIP, in English or in German.
        ("10119 Berlin, Germany", {"postalcode": "10119", "city": "Berlin", "country": "DE"}),
        (
            "Torstraße 1, 10119 Berlin, Deutschland",
            {"postalcode": "10119", "city": "Berlin", "country": "DE"},
        ),
        # US states whose codes are also country codes stay states.
        ("Denver, CO", {"city": "Denver", "state": "CO"}),
        ("Atlanta, Georgia", {"city": "Atlanta", "state": "Georgia"}),
        ("19103", {"postalcode": "19103"}),
        # Irish addresses: a county after the town, an Eircode.
        (
            "Main St, Killorglin, Co. Kerry, Ireland",
            {"city": "Killorglin", "county": "Kerry", "country": "IE"},
        ),
        (
            "Church St, Dublin 7, D07 KX5K, Ireland",
            {"postalcode": "D07 KX5K", "city": "Dublin 7", "country": "IE"},
        ),
        ("Cork, County Cork, Ireland", {"city": "Cork", "county": "Cork", "country": "IE"}),
        # Australia writes the state's code after the town.
        (
            "100 Queen St, Melbourne VIC 3000, Australia",
            {"postalcode": "3000", "state": "VIC", "city": "Melbourne", "country": "AU"},
        ),
        ("Sydney NSW, Australia", {"state": "NSW", "city": "Sydney", "country": "AU"}),
        ("Melbourne, VIC, Australia", {"state": "VIC", "city": "Melbourne", "country": "AU"}),
        ("Unit 4, County Hall, Ireland", {"city": "County Hall", "country": "IE"}),  # no county
    ],
)
def test_parse_place_text_abroad(text, parts):
    assert parse_place_text(text) == parts


@pytest.mark.parametrize(
    "value, country, expected",
    [
        ("t5j2z1", "CA", "T5J 2Z1"),
        ("T5J  2Z1", "CA", "T5J 2Z1"),
        ("T5J", "CA", "T5J"),
        ("19103", "CA", None),
        ("sw1a1aa", "GB", "SW1A 1AA"),
        ("M1 1AE", "GB", "M1 1AE"),
        ("10119", "DE", "10119"),
        ("1011", "DE", None),
        ("19103-1234", "US", "19103"),
        ("2134", None, "02134"),
        ("T5J 2Z1", "US", None),
        ("", "GB", None),
    ],
)
def test_normalise_postcode(value, country, expected):
    assert normalise_postcode(value, country) == expected


@pytest.mark.properties
@given(st.text(max_size=12), st.sampled_from([None, "US", "CA", "GB", "DE", "FR", "ZZ"]))
def test_normalised_postcodes_are_fixed_points(value, country):
    once = normalise_postcode(value, country)
    assert once is None or normalise_postcode(once, country) == once


@pytest.mark.parametrize(
    "location, expected",
    [
        ({"country": "Canada"}, "CA"),
        ({"country": "UK", "state": "CA"}, "GB"),  # the field wins over anything else
        ({"country": "USA"}, "US"),
        ({"formatted_address": "10119 Berlin, Germany"}, "DE"),
        ({"formatted_address": "10025 102A Ave NW, Edmonton, AB T5J 2Z1"}, "CA"),
        ({"formatted_address": "1 Main St, Philadelphia, PA 19103, USA"}, "US"),
        ({"state": "ON", "city": "London"}, "CA"),
        ({"state": "CA", "city": "San Mateo"}, "US"),
        ({"latitude": 52.53, "longitude": 13.40}, "DE"),
        ({"latitude": 0, "longitude": 0}, None),
        ({"postal_code": "SW1A 1AA"}, "GB"),
        ({"postal_code": "19103"}, "US"),
        ({"city": "Springfield"}, None),  # never a default
    ],
)
def test_country_of(location, expected):
    assert country_of(location) == expected


@pytest.mark.parametrize(
    "query, precision, label, near",
    [
        ("Edmonton, AB", "city", "Edmonton, Alberta (city centre)", EDMONTON),
        ("T5J 2R7", "zip", "Postal code area T5J: Edmonton (North Downtown), Alberta", EDMONTON),
        ("London, ON", "city", "London, Ontario (city centre)", (42.98, -81.23)),
        ("Quebec City, Quebec", "city", "Québec, Quebec (city centre)", (46.81, -71.21)),
        ("Alberta", "state", "Alberta (whole province)", (53.0, -113.6)),
        ("SW1A 1AA", "county", "Postcode area SW: London South West", (51.46, -0.17)),
        ("London, UK", "city", "London, United Kingdom (city centre)", (51.51, -0.13)),
        ("10119 Berlin, Germany", "city", "Berlin, Germany (city centre)", BERLIN),
        ({"city": "Red Deer", "state": "AB", "country": "CA"}, "city", None, (52.27, -113.8)),
        # A city's postal district is the city; a county after the town is no town.
        ("Church St, Dublin 7, D07 KX5K, Ireland", "city", "Dublin, Ireland (city centre)", DUBLIN),
        ({"city": "Dublin 6W", "country": "IE"}, "city", None, DUBLIN),
        ("12 High St, Limerick, Co. Limerick, Ireland", "city", None, (52.66, -8.62)),
        (
            "Brisbane QLD 4000, Australia",
            "city",
            "Brisbane, Queensland (city centre)",
            (-27.47, 153.03),
        ),
    ],
)
def test_offline_geocoder_abroad(query, precision, label, near):
    found = OfflineGeocoder().geocode(query)
    assert found.raw["precision"] == precision
    assert label is None or found.address == label
    assert distance_km(found.latitude, found.longitude, *near) < 50


@pytest.mark.parametrize(
    "text, precision, label",
    [
        ("Edmonton, AB", "city", "Edmonton, Alberta (city centre)"),
        ("T5J 2R7", "zip", "Postal code area T5J: Edmonton (North Downtown), Alberta"),
        ("M1 1AE", "county", "Postcode area M: Manchester"),
    ],
)
def test_searched_places_abroad_say_how_precise_they_are(text, precision, label):
    place = locate(text, OfflineGeocoder())
    assert (place.precision, place.label, place.approximate) == (precision, label, True)


def test_search_from_edmonton_answers_in_edmonton_time(db_path):
    app = create_app(
        {"TESTING": True, "DATABASE": str(db_path), "FROZEN_NOW": "2026-11-24T19:00:00-07:00"}
    )
    answer = app.test_client().get("/api/search?q=Edmonton, AB").get_json()
    assert answer["ok"], answer
    assert answer["place"]["label"] == "Edmonton, Alberta (city centre)"
    assert answer["place"]["timezone"] == "America/Edmonton"


@pytest.mark.parametrize(
    "location, precision, source, issue",
    [
        # Feed coordinates abroad that agree with the stated city are kept.
        (
            {"formatted_address": "Torstraße 1, 10119 Berlin, Germany", "city": "Berlin"}
            | {"latitude": 52.529, "longitude": 13.401},
            "rooftop",
            "feed",
            "",
        ),
        # ... and replaced when they are in another country.
        (
            {"formatted_address": "10119 Berlin, Germany", "latitude": 48.86, "longitude": 2.35},
            "city",
            world.CITY_SOURCE,
            "coordinates are 878 km from Berlin, Germany (city centre)",
        ),
        (
            {"address": "1 Example Street", "city": "Red Deer", "state": "AB", "country": "CA"},
            "city",
            world.CITY_SOURCE,
            "",
        ),
        (
            {"formatted_address": "10025 102A Ave NW, Edmonton, AB T5J 2Z1, Canada"},
            "zip",
            world.FSA_SOURCE,
            "",
        ),
    ],
)
def test_resolve_position_abroad(location, precision, source, issue):
    found = resolve_position(location, OfflineGeocoder())
    assert (found.precision, found.source) == (precision, source)
    assert found.issue.startswith(issue)


@pytest.mark.parametrize(
    "stated, lat, lon, postal, country, expected",
    [
        (None, 52.53, 13.40, "10119", "DE", ("Europe/Berlin", "coordinates")),
        (None, None, None, "10119", "DE", (None, "unknown")),  # not New York's ZIP 10119
        (None, None, None, "10119", None, ("America/New_York", "zip")),
    ],
)
def test_timezone_for_abroad(stated, lat, lon, postal, country, expected):
    assert timezone_for(stated, lat, lon, None, postal, country) == expected


def test_a_feed_abroad_is_put_on_the_map(db, registry, geocoder):
    """A Canadian, German and UK feed with addresses only (or coordinates) imports with places."""
    source = {**registry["aasepia"], "id": "abroad", "default_timezone": None}
    summary = load_source(db, source, parse(FIXTURES / "meeting_guide_abroad.json"), geocoder)
    assert (summary.added, summary.rejected) == (5, 0)
    rows = {
        r["slug"]: r
        for r in db.query(
            "select r.source_id slug, l.* from resources r join locations l on l.id = r.location_id"
        )
    }
    expected = {
        "fictional-edmonton-downtown": ("CA", "T5J 2Z1", "zip", "America/Edmonton"),
        "fictional-red-deer": ("CA", "", "city", "America/Edmonton"),
        "fictional-berlin-mitte": ("DE", "10119", "rooftop", "Europe/Berlin"),
        "fictional-berlin-misplaced": ("DE", "10119", "city", "Europe/Berlin"),
        "fictional-manchester-area": ("GB", "M4 1AA", "county", "Europe/London"),
    }
    for slug, (country, postal, precision, zone) in expected.items():
        row = rows[slug]
        got = (row["country"], row["postal_code"], row["geocode_precision"], row["timezone"])
        assert got == (country, postal, precision, zone), slug
        assert row["latitude"] is not None and row["geocode_source"]
    repaired = [i["reason"] for i in summary.issues if i["severity"] == "repaired"]
    assert repaired == [
        "coordinates are 878 km from Berlin, Germany (city centre); replaced by the address's "
        "position"
    ]


def test_canadian_province_codes_match_geonames():
    """CA_ADMIN1 agrees with the data: the towns nearest each province's FSAs are in it."""
    votes = collections.defaultdict(collections.Counter)
    for area in world.postcode_areas("CA").values():
        town, km = world.nearest_town(area.latitude, area.longitude)
        if km < 300:  # Nunavut's FSA points are 600 km from any town of 5,000
            votes[area.region][town.admin1] += 1
    found = {region: v.most_common(1)[0][0] for region, v in votes.items()}
    assert len(found) >= 12 and found.items() <= world.CA_ADMIN1.items()
    assert world.find_city("Iqaluit", "CA").admin1 == world.CA_ADMIN1["NU"]


def test_postcode_area_files_are_complete():
    assert len(world.postcode_areas("CA")) == 1644
    assert len(world.postcode_areas("GB")) == 121
    source = (FIXTURES.parent.parent / "data" / "postcode-areas" / "SOURCE.md").read_text()
    assert "ODbL" in source


def test_fixture_is_meeting_guide_json():
    meetings = json.loads((FIXTURES / "meeting_guide_abroad.json").read_text())
    assert all({"slug", "name", "day", "time"} <= m.keys() for m in meetings)


@pytest.mark.parametrize(
    "code, point, expected",
    [
        ("CA", EDMONTON, True),
        ("US", EDMONTON, False),
        ("US", (47.61, -122.33), True),  # Seattle
        ("CA", (47.61, -122.33), False),
        ("DE", BERLIN, True),
    ],
)
def test_country_wide_services_abroad(code, point, expected):
    searcher = types.SimpleNamespace(has_point=True, latitude=point[0], longitude=point[1])
    assert area_contains({"kind": "country", "code": code}, searcher) is expected


@pytest.mark.properties
@given(
    st.one_of(
        st.tuples(st.floats(-90, 90), st.floats(-180, 180)),
        # where towns are sparse: edges of the 100 km reach are met often
        st.tuples(st.floats(55, 75), st.floats(-170, -50)),
        st.tuples(st.floats(-60, -40), st.floats(-80, -60)),
    )
)
def test_the_country_at_a_point_is_that_of_the_nearest_town_of_all(point):
    town, km = world.nearest_town(*point)
    assert world.country_at(*point) == (town.country if km <= world.MAX_KM_FROM_TOWN else None)


def test_a_town_exactly_100_km_north_or_south_still_counts():
    """A town on the edge of the band of latitudes searched (found by the review: Muzayri',
    UAE, 99.99999999999996 km due north of this point)."""
    point = (22.244229636275463, 53.7881)
    town, km = world.nearest_town(*point)
    assert km <= world.MAX_KM_FROM_TOWN and world.country_at(*point) == town.country == "AE"


STREET = {"address": "1 Example Street", "city": "Edmonton"}


@pytest.mark.parametrize(
    "location",
    [
        # BMLT: location_nation, location_province, location_postal_code_1, built address
        STREET
        | {"state": "AB", "postal_code": "T5J 2Z1", "country": "CA"}
        | {"formatted_address": "1 Example Street, Edmonton, AB T5J 2Z1"},
        # CSV template: the columns as written
        STREET | {"state": "AB", "postal_code": "T5J 2Z1", "country": "CA"},
        # HSDS / Ohana address rows: state_province and country spelt out
        STREET
        | {"state": "Alberta", "postal_code": "T5J 2Z1", "country": "Canada"}
        | {"formatted_address": "1 Example Street, Edmonton, Alberta T5J 2Z1, Canada"},
        # No country at all: the province and the postcode's shape say it
        STREET | {"state": "AB", "postal_code": "t5j2z1"},
    ],
)
def test_every_format_places_a_canadian_address(location):
    assert country_of(location) == "CA"
    found = resolve_position(location, OfflineGeocoder())
    assert (found.precision, found.source, found.issue) == ("zip", world.FSA_SOURCE, "")
    assert distance_km(found.latitude, found.longitude, *EDMONTON) < 10


@pytest.mark.parametrize(
    "q, label",
    [
        ("t5j 2r7", "Postal code area T5J: Edmonton (North Downtown), Alberta"),
        ("SW1A 1AA", "Postcode area SW: London South West"),
    ],
)
def test_search_page_names_the_postcode_area(db_path, q, label):
    app = create_app({"TESTING": True, "DATABASE": str(db_path)})
    page = app.test_client().get("/search", query_string={"q": q})
    assert page.status_code == 200 and label in page.get_data(as_text=True)
