"""The US gazetteers, offline: ZIP centroids and cities (the zipcodes package), counties (the
Census file in data/), states (the us package), and the state and county a point lies in.

Each table loads on first use and is kept for the life of the process.
"""

import csv
import math
import re
import statistics
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import NamedTuple

import us
import zipcodes

from finder.geo import world
from finder.geo.positions import EARTH_RADIUS_KM
from finder.paths import DATA_DIR

COUNTIES_FILE = DATA_DIR / "census-counties" / "counties.txt"
STATE_BOX_MARGIN_DEG = 0.5


@dataclass(frozen=True)
class Place:
    """A gazetteer entry."""

    latitude: float
    longitude: float
    state: str
    timezone: str | None = None


def _mean_place(places: list[Place]) -> Place:
    return Place(
        statistics.fmean(p.latitude for p in places),
        statistics.fmean(p.longitude for p in places),
        places[0].state,
        statistics.mode(p.timezone for p in places),
    )


@cache
def zip_places() -> dict[str, Place]:
    """ZIP code -> centroid, state and time zone (every US ZIP the zipcodes package knows)."""
    places = {}
    for row in zipcodes.list_all():
        try:
            lat, lon = float(row["lat"]), float(row["long"])
        except (TypeError, ValueError):
            continue
        places[row["zip_code"]] = Place(lat, lon, row["state"], row.get("timezone") or None)
    return places


@cache
def city_places() -> dict[tuple[str, str], Place]:
    """(CITY, ST) -> mean of the city's ZIP centroids."""
    by_city = defaultdict(list)
    for row in zipcodes.list_all():
        place = zip_places().get(row["zip_code"])
        if place is None:
            continue
        for city in [row["city"], *row.get("acceptable_cities", [])]:
            by_city[(fold_name(city), row["state"])].append(place)
    return {key: _mean_place(value) for key, value in by_city.items()}


class County(NamedTuple):
    """A row of the Census counties file."""

    state: str
    geoid: str
    name: str
    latitude: float  # its internal point
    longitude: float


@cache
def census_counties() -> tuple[County, ...]:
    """Every county (and equivalent: parish, borough, municipio) the Census file lists."""
    with COUNTIES_FILE.open(encoding="utf-8") as f:
        return tuple(
            County(row[0], row[1], _county_name(row[3]), float(row[8]), float(row[9]))
            for row in csv.reader(f, delimiter="|")
        )


@cache
def county_places() -> dict[tuple[str, str], Place]:
    """(COUNTY NAME, ST) -> the Census internal point of that county."""
    places = {}
    for county in census_counties():
        zone = state_timezone(county.state)
        place = Place(county.latitude, county.longitude, county.state, zone)
        places[(fold_name(county.name), county.state)] = place
    return places


def _county_name(census: str) -> str:
    """A county's name as the Census 2017 gazetteer file spells it, with its ñ restored: the
    file has ń wherever ñ belongs ("Dońa Ana County", "Catańo Municipio"), the same byte read
    as Latin-2 rather than Latin-1; its other accents came through right."""
    return census.replace("ń", "ñ").replace("Ń", "Ñ")


@dataclass(frozen=True)
class Region:
    """The US state and county a point lies in (nearest Census county internal point)."""

    state: str
    county: str
    county_geoid: str


@cache
def _county_points() -> tuple:
    """The county internal points, ordered by latitude (radians), with their rows."""
    import numpy as np

    rows = sorted(
        ((c.state, c.name, c.geoid, c.latitude, c.longitude) for c in census_counties()),
        key=lambda r: (r[3], r[4]),
    )
    lat = np.radians(np.array([r[3] for r in rows]))
    lon = np.radians(np.array([r[4] for r in rows]))
    return rows, lat, lon


NEAREST_COUNTY_KM = 150  # beyond this from every county's internal point: outside the US


@lru_cache(maxsize=4096)
def region_of(latitude: float, longitude: float) -> Region | None:
    """State and county of a point, approximated by the nearest county internal point.

    Counties are small enough that this is right away from borders; near a border it may name
    the neighbour. Points more than 150 km from any US county are outside the US (None).
    """
    import numpy as np

    rows, lat, lon = _county_points()
    lat0, lon0 = math.radians(latitude), math.radians(longitude)
    # Only points within the distance in latitude alone can be near enough (a search of a few
    # hundred counties, not all 3,200).
    band = NEAREST_COUNTY_KM / EARTH_RADIUS_KM
    low, high = np.searchsorted(lat, (lat0 - band, lat0 + band))
    if low == high:
        return None
    # Equirectangular distance is plenty to pick the nearest point, and 10x cheaper.
    squared = (lat[low:high] - lat0) ** 2 + ((lon[low:high] - lon0) * math.cos(lat0)) ** 2
    best = int(np.argmin(squared))
    if EARTH_RADIUS_KM * math.sqrt(squared[best]) > NEAREST_COUNTY_KM:
        return None
    state, name, geoid = rows[low + best][:3]
    return Region(state, name, geoid)


@cache
def state_places() -> dict[str, Place]:
    """ST -> mean of the state's county internal points."""
    by_state = defaultdict(list)
    for (_, state), place in county_places().items():
        by_state[state].append(place)
    return {state: _mean_place(places) for state, places in by_state.items()}


@cache
def state_boxes() -> dict[str, tuple[float, float, float, float]]:
    """ST -> (min lat, min lon, max lat, max lon) of its ZIP centroids, with a margin."""
    by_state = defaultdict(list)
    for place in zip_places().values():
        by_state[place.state].append(place)
    m = STATE_BOX_MARGIN_DEG
    return {
        st: (
            min(p.latitude for p in ps) - m,
            min(p.longitude for p in ps) - m,
            max(p.latitude for p in ps) + m,
            max(p.longitude for p in ps) + m,
        )
        for st, ps in by_state.items()
    }


def fold_name(text: str) -> str:
    """A place name as a key: capitals without accents or punctuation ("Doña Ana" and "Dona
    Ana" -> "DONA ANA", "Saint Louis" -> "ST LOUIS")."""
    text = text or ""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Z0-9 ]", "", text.upper().replace("SAINT ", "ST ")).strip()


def normalise_state(value: str | None) -> str | None:
    """'.TX', 'tx', 'Texas' -> 'TX'; None if it is not a US state or territory."""
    return _state_abbr(str(value)) if value else None


@lru_cache(maxsize=4096)
def _state_abbr(value: str) -> str | None:
    cleaned = re.sub(r"[^A-Za-z ]", "", value).strip()
    found = us.states.lookup(cleaned) if cleaned else None
    return found.abbr if found else None


def normalise_zip(value) -> str | None:
    """'19103', 19103, '19103-1234', 2134 (lost zero) -> a five-digit ZIP, or None."""
    if value is None:
        return None
    match = re.match(r"^\s*(\d{3,5})(?:-\d{4})?\s*$", str(value))
    return match.group(1).zfill(5) if match else None


@cache
def state_timezone(state: str) -> str | None:
    found = us.states.lookup(state)
    return getattr(found, "capital_tz", None) if found else None


@dataclass(frozen=True)
class Town:
    """A US city of a given name, with how many people live there (0 when GeoNames does not
    list it: it has fewer than 5,000)."""

    name: str
    state: str
    place: Place
    population: int


@cache
def _states_by_city() -> dict[str, dict[str, str]]:
    """CITY -> {ST: the city's name as the zipcodes package spells it}."""
    names = defaultdict(dict)
    for row in zipcodes.list_all():
        for city in [row["city"], *row.get("acceptable_cities", [])]:
            names[fold_name(city)].setdefault(row["state"], city.title())
    return dict(names)


def towns_named(name: str) -> list[Town]:
    """Every US city called ``name``, the most populous first (then by name of state)."""
    key = fold_name(name)
    states = _states_by_city().get(key, {})
    people = world.populations("US", name) if states else {}
    towns = [
        Town(spelt, state, city_places()[(key, state)], people.get(state, 0))
        for state, spelt in states.items()
        if (key, state) in city_places()
    ]
    return sorted(towns, key=lambda town: (-town.population, town.state))
