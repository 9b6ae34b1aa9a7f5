"""Turn what a person typed (a ZIP, "City, ST", an address, or coordinates) into a point."""

import re
from dataclasses import dataclass

from geopy.geocoders.base import Geocoder

from finder.errors import GeocodeError
from finder.vocabulary import N_

MAX_LENGTH = 200
YOUR_LOCATION = N_("your location")
_COORDINATES = re.compile(r"^\s*(-?\d{1,2}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class Place:
    """A searched place: where, what to call it, and whether it is only approximate."""

    latitude: float
    longitude: float
    label: str  # "ZIP 19103", "Denver, CO", "your location"
    precision: str  # rooftop | zip | city | county | state
    approximate: bool


def locate(text: str, geocoder: Geocoder) -> Place:
    """Resolve typed text to a place; raises GeocodeError with a message for the person."""
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
    found = geocoder.geocode(text)
    if found is None:
        raise GeocodeError(
            "We could not find “%(text)s”. Try a 5-digit ZIP code or a city and state, "
            "like “Denver, CO”.",
            text=text,
        )
    raw = found.raw if isinstance(found.raw, dict) else {}
    precision = raw.get("precision", "rooftop")
    label = found.address if precision in ("zip", "city", "county", "state") else text
    return Place(found.latitude, found.longitude, label, precision, precision != "rooftop")
