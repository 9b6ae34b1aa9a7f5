"""Offline geocoding, coordinate validation and time zones."""

import math
import types
import unicodedata

import numpy
import pytest
from geopy.location import Location
from hypothesis import given
from hypothesis import strategies as st

from finder.errors import GeocodeError
from finder.geo.areas import area_contains
from finder.geo.offline import (
    OfflineGeocoder,
    check_coordinates,
    normalise_state,
    normalise_zip,
    parse_place_text,
    resolve_position,
    timezone_for,
)
from finder.geo.online import CachedGeocoder, build_geocoder
from finder.geo.positions import EARTH_RADIUS_KM, distance_km
from finder.geo.us_places import NEAREST_COUNTY_KM, _county_points, region_of


@pytest.mark.parametrize(
    "query, precision, near",
    [
        ("19103", "zip", (39.95, -75.17)),
        ("1 Main St, Philadelphia, PA 19103", "zip", (39.95, -75.17)),
        ("Denver, CO", "city", (39.74, -104.99)),
        ({"city": "Amarillo", "state": "TX"}, "city", (35.2, -101.8)),
        ({"county": "San Mateo", "state": "CA"}, "county", (37.4, -122.3)),
        ("Delaware", "state", (39.0, -75.5)),
    ],
)
def test_offline_geocoder_falls_back_zip_city_county_state(query, precision, near):
    found = OfflineGeocoder().geocode(query)
    assert found.raw["precision"] == precision
    assert abs(found.latitude - near[0]) < 0.6 and abs(found.longitude - near[1]) < 0.6


def test_offline_geocoder_says_nothing_for_nowhere():
    # "Atlantis" alone is a town (Atlantis, FL): finder.geo.where decides whether to assume it.
    assert OfflineGeocoder().geocode("Nowhere Special") is None
    assert OfflineGeocoder().geocode({"city": "Atlantis"}) is None


def test_zip_in_another_state_is_not_trusted():
    found = OfflineGeocoder().geocode({"postalcode": "19103", "city": "Dallas", "state": "TX"})
    assert found.raw["precision"] == "city" and found.longitude < -96


@pytest.mark.parametrize(
    "text, parts",
    [
        ("19103", {"postalcode": "19103"}),
        ("Denver, CO", {"city": "Denver", "state": "CO"}),
        (
            "1937 West MacDade Boulevard, Woodlyn, PA 19094, USA",
            {"postalcode": "19094", "state": "PA", "city": "Woodlyn", "country": "US"},
        ),
        ("Kansas City, Missouri", {"city": "Kansas City", "state": "Missouri"}),
    ],
)
def test_parse_place_text(text, parts):
    assert parse_place_text(text) == parts


@pytest.mark.parametrize(
    "raw, expected",
    [(".TX", "TX"), ("tx", "TX"), ("Texas", "TX"), ("PA.", "PA"), ("Narnia", None), ("", None)],
)
def test_normalise_state(raw, expected):
    assert normalise_state(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("19103", "19103"),
        (19103, "19103"),
        ("19103-1234", "19103"),
        (2134, "02134"),
        ("ABC 123", None),
        (None, None),
    ],
)
def test_normalise_zip(raw, expected):
    assert normalise_zip(raw) == expected


@pytest.mark.parametrize(
    "lat, lon, state, postal, city, problem",
    [
        (39.95, -75.17, "PA", "19103", None, None),
        (0, 0, "TX", "79401", None, "(0, 0)"),
        (33.58, 0.0, "TX", "79401", None, "zero longitude"),
        (95, -75, None, None, None, "out of range"),
        ("abc", -75, None, None, None, "not numbers"),
        (40.92, -73.86, "NY", "12414", "Catskill", "from ZIP 12414"),
        (47.6, -122.3, "TX", None, None, "outside TX"),
    ],
)
def test_check_coordinates(lat, lon, state, postal, city, problem):
    found, _ = check_coordinates(lat, lon, state, postal, city)
    assert (found is None) if problem is None else (problem in found)


def test_wrong_zip_with_coordinates_matching_the_city_is_trusted():
    problem, note = check_coordinates(34.3834519, -102.1130008, "TX", "79226", "Hart")
    assert problem is None and "coordinates match Hart" in note


def test_resolve_position_replaces_bad_coordinates():
    found = resolve_position(
        {"latitude": 0, "longitude": 0, "postal_code": "79401", "state": "TX", "city": "Lubbock"},
        OfflineGeocoder(),
    )
    assert found.precision == "zip" and found.issue.startswith("coordinates are (0, 0)")
    assert 33 < found.latitude < 34


@pytest.mark.parametrize(
    "stated, lat, lon, state, postal, expected",
    [
        ("America/Denver", None, None, None, None, ("America/Denver", "feed")),
        ("Etc/GMT+7", 39.74, -104.99, None, None, ("America/Denver", "coordinates")),
        ("Mountain Time", 33.45, -112.07, None, None, ("America/Phoenix", "coordinates")),
        (None, None, None, None, "79401", ("America/Chicago", "zip")),
        (None, None, None, "OR", None, ("America/Los_Angeles", "state")),
        (None, None, None, None, None, (None, "unknown")),
    ],
)
def test_timezone_for(stated, lat, lon, state, postal, expected):
    assert timezone_for(stated, lat, lon, state, postal) == expected


def test_nominatim_needs_a_user_agent():
    with pytest.raises(GeocodeError, match="USER_AGENT"):
        build_geocoder("nominatim", None)


def test_online_answers_are_cached(db):
    calls = []

    def online(query):
        calls.append(query)
        return Location("1 Main St", (39.1, -75.5), {"addresstype": "house"})

    geocoder = CachedGeocoder(online, "fake", db, OfflineGeocoder())
    first = geocoder.geocode({"street": "1 Main St", "city": "Dover", "state": "DE"})
    second = geocoder.geocode({"street": "1 Main St", "city": "Dover", "state": "DE"})
    assert len(calls) == 1
    assert first.raw["precision"] == second.raw["precision"] == "rooftop"
    assert (second.latitude, second.longitude) == (39.1, -75.5)


@pytest.mark.parametrize(
    "latitude, longitude, state, county",
    [
        (39.9526, -75.1652, "PA", "Philadelphia County"),
        (37.9735, -122.5311, "CA", "Marin County"),
        (61.2181, -149.9003, "AK", "Anchorage Municipality"),
        (21.3069, -157.8583, "HI", "Honolulu County"),
        (18.0111, -66.6141, "PR", "Ponce Municipio"),
        (32.3199, -106.7637, "NM", "Doña Ana County"),  # Las Cruces (the file says "Dońa")
        (18.4417, -66.1456, "PR", "Cataño Municipio"),
    ],
)
def test_a_point_is_placed_in_its_state_and_county(latitude, longitude, state, county):
    region = region_of(latitude, longitude)
    assert (region.state, region.county) == (state, county)


DONA_ANA = [
    "Doña Ana County",
    "Dona Ana County",  # as SAMHSA's data spells it
    unicodedata.normalize("NFD", "Doña Ana County"),  # ñ as n and a combining tilde
    "DOÑA ANA",
    "Doña Ana",
]


@pytest.mark.parametrize("name", DONA_ANA)
def test_a_service_area_named_by_its_county_serves_it_however_the_n_tilde_is_written(name):
    las_cruces = types.SimpleNamespace(has_point=True, latitude=32.3199, longitude=-106.7637)
    assert area_contains({"kind": "county", "state": "NM", "name": name}, las_cruces)
    assert not area_contains({"kind": "county", "state": "NM", "name": "Luna County"}, las_cruces)


@pytest.mark.parametrize("name", DONA_ANA)
def test_a_county_is_placed_however_its_n_tilde_is_written(name, geocoder):
    found = geocoder.geocode({"county": name, "state": "NM"})
    assert found.raw["precision"] == "county"
    assert distance_km(found.latitude, found.longitude, 32.35, -106.83) < 5


@pytest.mark.parametrize("latitude, longitude", [(35.0, -40.0), (-33.87, 151.21), (89.9, 0.0)])
def test_a_point_far_from_every_us_county_has_no_region(latitude, longitude):
    assert region_of(latitude, longitude) is None


@pytest.mark.properties
@given(st.floats(-90, 90), st.floats(-180, 180))
def test_the_region_is_the_nearest_county_point_within_150_km(latitude, longitude):
    """The search over a band of latitude names the county the nearest of all points names."""
    rows, lat, lon = _county_points()
    lat0, lon0 = math.radians(latitude), math.radians(longitude)
    squared = (lat - lat0) ** 2 + ((lon - lon0) * math.cos(lat0)) ** 2
    best = int(numpy.argmin(squared))
    near = EARTH_RADIUS_KM * math.sqrt(squared[best]) <= NEAREST_COUNTY_KM
    expected = rows[best][:3] if near else None
    found = region_of.__wrapped__(latitude, longitude)
    assert (found and (found.state, found.county, found.county_geoid)) == expected
