"""Geocoding and time zones that work offline, behind geopy's Geocoder interface.

The default geocoder resolves a US address to its ZIP centroid, else its city, else its state, from
gazetteers shipped as Python packages (zipcodes, us) and the Census county file in data/; an address
in another country goes to finder.world (GeoNames cities, Canadian FSAs, UK postcode areas). It
never touches the network. An online geocoder (Nominatim) is opt-in, rate limited and cached.
"""

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import tzfpy
import us
from geopy.geocoders.base import Geocoder
from geopy.location import Location

from finder.geo import world
from finder.geo.positions import distance_km, read_position
from finder.geo.us_places import (
    Place,
    city_places,
    county_places,
    fold_name,
    normalise_state,
    normalise_zip,
    state_boxes,
    state_places,
    state_timezone,
    towns_named,
    zip_places,
)
from finder.geo.us_places import region_of as region_of  # where callers have always found it

PRECISIONS = ("rooftop", "zip", "city", "county", "state", "none")
# A source coordinate further than this from its stated ZIP's centroid is not trusted.
MAX_KM_FROM_ZIP = 60
ZIP_SOURCE = "zipcodes package ZIP centroid"
CITY_SOURCE = "zipcodes city centroid"


@dataclass(frozen=True)
class Geocode:
    """A resolved position with how precise it is and where it came from."""

    latitude: float | None
    longitude: float | None
    precision: str
    source: str
    note: str = ""
    issue: str = ""  # set when the feed's coordinates or ZIP were wrong: a repair to report


def normalise_postcode(value, country: str | None) -> str | None:
    """A postcode in its country's form: a ZIP for the US (or no known country), 'T5J 2Z1' for
    Canada, 'SW1A 1AA' for the UK, as written elsewhere; None if it is not one.

    :param value: the postcode as the feed gives it
    :param country: ISO 3166 alpha-2 code from ``country_of``, or None
    """
    if country in (None, "US"):
        return normalise_zip(value)
    return world.normalise_foreign_postcode(value, country)


def country_of(location: dict) -> str | None:
    """ISO 3166 alpha-2 code of a record's country, from what the record says; never a default.

    In order: the ``country`` field, the end of ``formatted_address`` (a country named, or a
    postcode or province only one country uses), the state or province, the coordinates (the
    nearest GeoNames town), then a postcode's shape or a known US ZIP.

    :param location: the record's ``location`` dict
    """
    if code := world.country_code(location.get("country")):
        return code
    formatted = location.get("formatted_address")
    if formatted and (code := parse_place_text(str(formatted)).get("country")):
        return code
    state = location.get("state")
    if normalise_state(state):
        return "US"
    if world.province_of("CA", state):
        return "CA"
    problem, point = _sound_point(location.get("latitude"), location.get("longitude"))
    if problem is None and (code := world.country_at(*point)):
        return code
    postal = location.get("postal_code")
    if code := world.postcode_country(str(postal or "")):
        return code
    return "US" if normalise_zip(postal) in zip_places() else None


@cache
def _valid_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def valid_timezone(name: str | None) -> str | None:
    """The IANA zone name if it is a real, specific zone; ``Etc/*`` and unknown names -> None."""
    if not name or not isinstance(name, str):
        return None
    name = name.strip()
    if name.startswith("Etc/") or name in ("UTC", "GMT") or name not in _valid_zones():
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def timezone_for(
    stated, latitude, longitude, state, postal_code=None, country=None
) -> tuple[str | None, str]:
    """The resource's IANA zone and where it came from: feed, coordinates, ZIP or state.

    ZIP and state are only read for the US (or no known country): "10119" in Berlin is no ZIP.
    """
    if zone := valid_timezone(stated):
        return zone, "feed"
    if latitude is not None and longitude is not None:
        if zone := valid_timezone(tzfpy.get_tz(longitude, latitude)):
            return zone, "coordinates"
    if country not in (None, "US"):
        return None, "unknown"
    place = zip_places().get(normalise_zip(postal_code) or "")
    if place and (zone := valid_timezone(place.timezone)):
        return zone, "zip"
    if state and (zone := valid_timezone(state_timezone(state))):
        return zone, "state"
    return None, "unknown"


def _sound_point(lat, lon) -> tuple[str | None, tuple[float, float] | None]:
    """(why these are not a position or None, the position as floats)."""
    point, problem = read_position(lat, lon)
    return (problem or "coordinates missing", None) if point is None else (None, point)


def check_coordinates(lat, lon, state=None, postal_code=None, city=None) -> tuple[str | None, str]:
    """(why source coordinates cannot be trusted or None, a note about what else disagrees)."""
    problem, point = _sound_point(lat, lon)
    if problem:
        return problem, ""
    lat, lon = point
    if place := zip_places().get(postal_code or ""):
        km = distance_km(lat, lon, place.latitude, place.longitude)
        if km <= MAX_KM_FROM_ZIP:
            return None, ""
        # Real feeds have wrong ZIPs on right coordinates (nwta.json: Hart, TX filed under
        # Clarendon's ZIP): the stated city breaks the tie.
        town = city_places().get((fold_name(city or ""), state or place.state))
        if town and distance_km(lat, lon, town.latitude, town.longitude) <= MAX_KM_FROM_ZIP:
            return None, f"ZIP {postal_code} is {km:.0f} km away; coordinates match {city}"
        return f"coordinates are {km:.0f} km from ZIP {postal_code}", ""
    if state and state in state_boxes():
        south, west, north, east = state_boxes()[state]
        if not (south <= lat <= north and west <= lon <= east):
            return f"coordinates ({lat:.4f}, {lon:.4f}) are outside {state}", ""
    return None, ""


def check_coordinates_abroad(
    lat, lon, country: str, city=None, region=None, postal_code=None
) -> tuple[str | None, str]:
    """(why coordinates outside the US cannot be trusted or None, a note), like check_coordinates.

    They are kept when within MAX_KM_FROM_PLACE of the stated city or Canadian FSA, or, when
    neither is known, when they lie in the stated country (nearest GeoNames town).
    """
    problem, point = _sound_point(lat, lon)
    if problem:
        return problem, ""
    stated = [
        world.locate_abroad(parts, country)
        for parts in ({"postalcode": postal_code, "state": region}, {"city": city, "state": region})
    ]
    places = [p for p in stated if p and p.precision in ("zip", "city")]
    if places:
        far = [(distance_km(*point, p.latitude, p.longitude), p.label) for p in places]
        if min(km for km, _ in far) <= world.MAX_KM_FROM_PLACE:
            return None, ""
        return "coordinates are {:.0f} km from {}".format(*min(far)), ""
    found = world.country_at(*point)
    if found not in (None, country):
        name, stated_name = world.country_name(found), world.country_name(country)
        return f"coordinates ({lat}, {lon}) are in {name}, not {stated_name}", ""
    return None, ""


class OfflineGeocoder(Geocoder):
    """A geopy geocoder over local gazetteers: ZIP centroid, else city, else county, else state.

    Queries are either a dict with ``postalcode``, ``city``, ``county``, ``state`` keys (as geopy's
    structured queries) or free text such as "19103", "Denver, CO" or "1 Main St, Dover, DE 19901".
    ``Location.raw`` carries ``precision`` and ``source``. Places outside the US (a ``country``
    key, or text naming a country, a Canadian province or a Canadian/UK postcode) are looked up
    in finder.world: FSA, else city, else UK postcode area, else province.
    """

    def __init__(self):
        super().__init__()

    def geocode(self, query, *, exactly_one=True, timeout=None):
        """Resolve ``query`` offline; None when nothing matches.

        Typed text naming a US city without its state ("Philadelphia") matches every city of
        that name, the most populous first (``raw["population"]``): ``exactly_one`` gives that
        one, else all of them. Structured queries (feeds) never guess a state.
        """
        parts = query if isinstance(query, dict) else parse_place_text(str(query))
        if isinstance(query, dict) or not (matches := self._towns(parts)):
            match = self._lookup(parts)
            matches = [] if match is None else [(*match, None)]
        if not matches:
            return None
        locations = [_location(*match) for match in matches]
        return locations[0] if exactly_one else locations

    @staticmethod
    def _towns(parts: dict) -> list[tuple]:
        if set(parts) != {"city"}:
            return []
        return [
            (f"{town.name}, {town.state}", town.place, "city", CITY_SOURCE, town.population)
            for town in towns_named(parts["city"])
        ]

    def _lookup(self, parts: dict):
        country = _parts_country(parts)
        if country not in (None, "US"):
            spot = world.locate_abroad(parts, country)
            if spot is None:
                return None
            place = Place(spot.latitude, spot.longitude, spot.region, spot.timezone)
            return spot.label, place, spot.precision, spot.source
        state = normalise_state(parts.get("state"))
        postal = normalise_zip(parts.get("postalcode"))
        if postal and (place := zip_places().get(postal)):
            if state is None or place.state == state:
                return f"ZIP {postal}", place, "zip", ZIP_SOURCE
        city = fold_name(parts.get("city") or "")
        if city and state and (place := city_places().get((city, state))):
            return f"{parts['city'].strip()}, {state}", place, "city", CITY_SOURCE
        county = fold_name(parts.get("county") or "")
        if county and state:
            for key in (county, f"{county} COUNTY"):
                if place := county_places().get((key, state)):
                    return (
                        f"{parts['county']}, {state}",
                        place,
                        "county",
                        "Census 2017 county internal point",
                    )
        if state and (place := state_places().get(state)):
            return (
                us.states.lookup(state).name,
                place,
                "state",
                "Census 2017 county points (state mean)",
            )
        return None


def _location(label: str, place: Place, precision: str, source: str, population) -> Location:
    raw = {"precision": precision, "source": source, "state": place.state}
    raw["timezone"] = place.timezone
    if population is not None:
        raw["population"] = population
    return Location(label, (place.latitude, place.longitude), raw)


def _parts_country(parts: dict) -> str | None:
    """The country structured parts name or imply: a country, a Canadian province, a postcode."""
    if code := world.country_code(parts.get("country")):
        return code
    state = parts.get("state")
    if state and not normalise_state(state) and world.province_of("CA", state):
        return "CA"
    return world.postcode_country(str(parts.get("postalcode") or ""))


_ZIP_AT_END = re.compile(r"\b(\d{5})(?:-\d{4})?\b(?!.*\b\d{5}\b)")


def parse_place_text(text: str) -> dict:
    """Split free text into geopy-style structured parts: postalcode, city, state, country.

    ``country`` is set when the text names a country ("..., Canada", "..., UK", "..., USA") or
    has a postcode or province that only one country uses ("T5J 2Z1", "Edmonton, AB"). A ZIP is
    read only when the country is the US or unknown, so "10119 Berlin, Germany" has none.
    """
    return dict(_parse_place((text or "").strip()))


@lru_cache(maxsize=4096)  # each feed address is parsed by the importer, country_of and resolve
def _parse_place(text: str) -> tuple[tuple[str, str], ...]:
    pieces = [p.strip() for p in (text or "").split(",") if p.strip()]
    parts: dict = {}
    if pieces and not normalise_state(pieces[-1]):
        if code := world.country_code(pieces[-1], codes=False):
            parts["country"] = code
            pieces.pop()
    text = ", ".join(pieces)
    country = parts.get("country")
    match = None
    if found := world.find_postcode(text, country):
        parts["postalcode"], parts["country"], match = found
    elif country in (None, "US") and (match := _ZIP_AT_END.search(text)):
        parts["postalcode"] = match.group(1)
    elif country and (match := world.postcode_in(text, country)):
        parts["postalcode"] = match.group(0).upper()
    if match:
        text = text[: match.start()] + text[match.end() :]
    pieces = [p.strip() for p in text.split(",") if p.strip()]
    if pieces:
        _take_state(pieces, parts)
    if parts.get("country") not in (None, "US"):
        _county_after_the_town(pieces, parts)
    if pieces:
        parts["city"] = pieces[-1]
    return tuple(parts.items())


# Abroad, a county can follow the town: "Killorglin, Co. Kerry, Ireland".
_COUNTY = re.compile(r"(?:Co\.?|County)\s+(\S.*)", re.I)


def _county_after_the_town(pieces: list[str], parts: dict) -> None:
    county = len(pieces) > 1 and _COUNTY.fullmatch(pieces[-1])
    if county and world.province_of(parts["country"], county.group(1)):  # not "County Hall"
        parts["county"] = county.group(1)
        pieces.pop()


def _take_state(pieces: list[str], parts: dict) -> None:
    """Move a trailing US state or Canadian province from ``pieces`` into ``parts``."""
    country = parts.get("country")

    def is_state(text: str) -> bool:
        us_state = country in (None, "US") and normalise_state(text)
        return bool(us_state or (country in (None, "CA") and world.province_of("CA", text)))

    last_words = pieces[-1].split()
    word = last_words[-1] if last_words else ""
    if country not in (None, "US", "CA"):
        _take_region_code(pieces, parts, country)
        return
    if len(word) == 2 and is_state(word):
        parts["state"] = word
        rest = " ".join(last_words[:-1])
        pieces[-1:] = [rest] if rest else []
    elif is_state(pieces[-1]):
        parts["state"] = pieces.pop()
    if "state" in parts and not (country == "US" or normalise_state(parts["state"])):
        parts["country"] = "CA"


def _take_region_code(pieces: list[str], parts: dict, country: str) -> None:
    """Abroad, a region's code written after the town ("Melbourne VIC", "Sydney NSW 2000",
    "Melbourne, VIC")."""
    words = pieces[-1].split()
    code = words[-1] if len(words) > 1 or len(pieces) > 1 else ""
    if (
        2 <= len(code) <= 3
        and code.isupper()
        and (world.province_of(country, code) or ("",))[0] == code
    ):
        parts["state"] = code
        pieces[-1] = " ".join(words[:-1])
        if not pieces[-1]:
            pieces.pop()


def resolve_position(location: dict, geocoder: Geocoder) -> Geocode:
    """Trusted coordinates for a record's location: the feed's own if sound, else a fallback.

    :param location: the record's ``location`` dict (address parts, latitude, longitude...)
    :param geocoder: a geopy geocoder taking structured dict queries
    """
    country = country_of(location)
    abroad = country not in (None, "US")
    # Fields a feed left empty are read from its formatted address ("..., Edmonton, AB T5J 2Z1").
    parsed = parse_place_text(location.get("formatted_address") or "")
    city = location.get("city") or parsed.get("city")
    state = location.get("state") or parsed.get("state")
    state = state if abroad else normalise_state(state)
    postal = normalise_postcode(location.get("postal_code") or parsed.get("postalcode"), country)
    lat, lon = location.get("latitude"), location.get("longitude")
    problem = None
    if lat not in (None, "") or lon not in (None, ""):
        if abroad:
            problem, note = check_coordinates_abroad(lat, lon, country, city, state, postal)
        else:
            problem, note = check_coordinates(lat, lon, state, postal, city)
        if problem is None:
            if location.get("approximate"):
                return Geocode(
                    float(lat), float(lon), "city", "feed", "feed marks the location as approximate"
                )
            return Geocode(float(lat), float(lon), "rooftop", "feed", note, issue=note)
    query = {
        "street": location.get("address"),
        "postalcode": postal,
        "city": city,
        "state": state,
        "county": location.get("county"),
        "country": country if abroad else None,  # absent for the US: cache keys stay as they were
    }
    found = geocoder.geocode({k: v for k, v in query.items() if v})
    note = f"{problem}; replaced by the address's position" if problem else ""
    if found is None:
        return Geocode(
            None,
            None,
            "none",
            "",
            note or "no coordinates and no usable address",
            issue=note or "no coordinates and no usable address",
        )
    raw = found.raw if isinstance(found.raw, dict) else {}
    return Geocode(
        found.latitude,
        found.longitude,
        raw.get("precision", "rooftop"),
        raw.get("source", type(geocoder).__name__),
        note,
        issue=note,
    )
