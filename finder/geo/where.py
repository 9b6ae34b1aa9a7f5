"""Turn what a person typed (a ZIP, "City, ST", an address, or coordinates) into a point."""

import re
from dataclasses import dataclass

from geopy.geocoders.base import Geocoder
from geopy.location import Location

from finder.errors import GeocodeError
from finder.vocabulary import N_

MAX_LENGTH = 200
YOUR_LOCATION = N_("your location")
_COORDINATES = re.compile(r"^\s*(-?\d{1,2}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)\s*$")
_ZIP = re.compile(r"^(\d{5})(?:-\d{4})?$")
_DIGITS = re.compile(r"^\d+$")
# "1500 Market St, ...", "12B Elm Road": a house number, then a word.
_STREET = re.compile(r"^\d+[A-Za-z]?\s+[^\W\d]", re.UNICODE)
# Of several towns with the typed name, the largest is taken when it has this many times the
# people of the next ("Philadelphia": PA 1.5 M, MS 7 k); closer than that, the person chooses
# ("Springfield": MO 170 k, MA 154 k).
DOMINANT_RATIO = 3
MAX_ALTERNATIVES = 3
MAX_CANDIDATES = 6


@dataclass(frozen=True)
class Place:
    """A searched place: where, what to call it, and whether it is only approximate."""

    latitude: float
    longitude: float
    label: str  # "ZIP 19103", "Denver, CO", "your location"
    precision: str  # rooftop | zip | city | county | state
    approximate: bool
    alternatives: tuple[str, ...] = ()  # other towns of the typed name ("Philadelphia, MS")
    street: bool = False  # a street address was typed: ``precision`` says how near it is placed


class AmbiguousPlace(GeocodeError):
    """A town's name alone that we will not guess from: several towns of a size have it, or the
    one that has it is small (under 5,000 people). The person chooses from ``candidates``."""

    def __init__(self, text: str, candidates: tuple[str, ...]):
        if len(candidates) == 1:
            template = N_(
                "We could not find “%(text)s” on its own. If you mean %(example)s, "
                "choose it below or add the state."
            )
        else:
            template = N_(
                "There is more than one “%(text)s”. Choose one below, or add the state, "
                "like “%(example)s”."
            )
        super().__init__(template, text=text, example=candidates[0])
        self.candidates = candidates


def locate(text: str, geocoder: Geocoder) -> Place:
    """Resolve typed text to a place; raises GeocodeError with a message for the person
    (AmbiguousPlace, with the candidates, when a town's name alone could be several)."""
    text = (text or "").strip()
    if not text:
        raise GeocodeError("Enter a ZIP code, a city and state, or an address.")
    if len(text) > MAX_LENGTH:
        raise GeocodeError(
            "That is too long to be a place (over %(most)s characters).", most=MAX_LENGTH
        )
    if match := _COORDINATES.match(text):
        latitude, longitude = float(match.group(1)), float(match.group(2))
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise GeocodeError("Those coordinates are not on Earth.")
        return Place(latitude, longitude, YOUR_LOCATION, "rooftop", False)
    found = _matches(geocoder.geocode(text, exactly_one=False))
    if not found:
        raise not_found(text)
    chosen, alternatives = choose_town(text, found)
    raw = chosen.raw if isinstance(chosen.raw, dict) else {}
    precision = raw.get("precision", "rooftop")
    label = chosen.address if precision in ("zip", "city", "county", "state") else text
    return Place(
        chosen.latitude,
        chosen.longitude,
        label,
        precision,
        precision != "rooftop",
        alternatives,
        street=bool(_STREET.match(text)) and precision != "rooftop",
    )


def _matches(found) -> list[Location]:
    """A geocoder's answer as a list (a cached or online one may give one Location)."""
    if found is None:
        return []
    return [found] if isinstance(found, Location) else list(found)


def choose_town(text: str, found: list[Location]) -> tuple[Location, tuple[str, ...]]:
    """The match to use and the other towns of that name to offer. Only matches that say how
    many people live there are towns to choose from: AmbiguousPlace when no known town (5,000
    people or more) has DOMINANT_RATIO times the people of the next."""
    people = [m.raw.get("population") if isinstance(m.raw, dict) else None for m in found]
    if people[0] is None:
        return found[0], ()
    labels = tuple(m.address for m in found)
    runner_up = people[1] if len(found) > 1 else 0
    if people[0] and people[0] >= DOMINANT_RATIO * runner_up:
        return found[0], labels[1 : 1 + MAX_ALTERNATIVES]
    raise AmbiguousPlace(text, labels[:MAX_CANDIDATES])


def not_found(text: str) -> GeocodeError:
    """Why typed text is no place we know, as precisely as its shape tells."""
    if match := _ZIP.match(text):
        return GeocodeError(
            "%(zip)s is not a US ZIP code in use. Check the number, or type a city and state, "
            "like “Denver, CO”.",
            zip=match.group(1),
        )
    if _DIGITS.match(text):
        return GeocodeError(
            "A US ZIP code has 5 digits; “%(text)s” has %(count)s.", text=text, count=len(text)
        )
    if _STREET.match(text):
        return GeocodeError(
            "We could not place “%(text)s”. Add the city and state or the ZIP code, "
            "like “1500 Market St, Philadelphia, PA 19103”.",
            text=text,
        )
    return GeocodeError(
        "We could not find “%(text)s”. Try a 5-digit ZIP code or a city and state, "
        "like “Denver, CO”.",
        text=text,
    )
