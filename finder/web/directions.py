"""Directions to a listing in the person's own maps app: a ``geo:`` URI (the phone's default
maps app) and links to Apple Maps, Google Maps and OpenStreetMap (issue #11).

Plain links: nothing is requested from any of them until the person taps one. A place placed
only near its ZIP or town is sent as its address, so the app routes to the door, not to the
middle of the ZIP.
"""

from dataclasses import dataclass
from urllib.parse import quote, urlencode


@dataclass(frozen=True)
class Directions:
    """One place's directions links, one per maps app."""

    maps_app: str  # geo: URI, opened by the device's default maps app
    apple: str
    google: str
    openstreetmap: str


def directions(
    latitude: float,
    longitude: float,
    name: str,
    address: str | None = None,
    approximate: bool = False,
) -> Directions:
    """Links to the place at ``latitude, longitude`` called ``name``.

    :param address: its street address, used as the destination when ``approximate``
    :param approximate: the position is only the centre of its ZIP or town
    """
    point = f"{latitude:.5f},{longitude:.5f}"
    by_address = bool(approximate and address)
    destination = address if by_address else point
    if by_address:
        maps_app = "geo:0,0?" + _query(q=address)
    else:
        # Android reads a label in brackets after the point: geo:0,0?q=lat,lng(label)
        maps_app = f"geo:{point}?" + _query(q=f"{point}({_label(name)})", safe=",()")
    return Directions(
        maps_app=maps_app,
        apple="https://maps.apple.com/?" + _query(daddr=destination),
        google="https://www.google.com/maps/dir/?" + _query(api="1", destination=destination),
        openstreetmap="https://www.openstreetmap.org/directions?" + _query(to=point),
    )


def _query(safe: str = ",", **values: str) -> str:
    return urlencode(values, quote_via=quote, safe=safe)


def _label(name: str) -> str:
    """A name as a geo: URI label: its brackets would end the label early."""
    return name.replace("(", "[").replace(")", "]")
