"""Search parameters from a URL (the site's GET form and the JSON API share them), validated.

Every problem raises ``ParamError`` with a message meant for the person: the edges turn it into
a 400 response. Nothing here is logged or stored.
"""

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from geopy.geocoders.base import Geocoder

from finder.errors import GeocodeError
from finder.geo.offline import timezone_for, valid_timezone
from finder.geo.where import YOUR_LOCATION, Place, locate
from finder.messages import PersonMessage
from finder.schedule import minutes
from finder.search.query import DEFAULT_KINDS, KM_PER_MILE, Query
from finder.vocabulary import ATTENDANCE, KINDS, PROGRAMS, types

DAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
MAX_RADIUS_KM = 500
MAX_LIMIT = 100
MAX_CODES = 30
WHEN = ("now", "today", "at", "week", "any")
# Every parameter the search understands (the site's form and the API): anything else is a 400
# in the versioned API.
NAMES = (
    "q", "lat", "lon", "tz", "radius", "unit", "hours", "kind", "attendance", "program", "type",
    "not", "order", "limit", "widen", "when", "day", "time", "lang",
)  # fmt: skip


class ParamError(PersonMessage, ValueError):
    """A search parameter that cannot be used, with a message for the person."""


@dataclass(frozen=True)
class Search:
    """A validated search: the query, the place it was resolved to, and the searcher's zone."""

    query: Query
    place: Place | None
    zone: str | None


def parse_search(args, geocoder: Geocoder, now: datetime) -> Search:
    """Build a Query from request arguments (a MultiDict or a dict of lists/strings)."""
    place = _place(args, geocoder)
    zone = _zone(args, place)
    query = Query(
        now=now,
        latitude=place.latitude if place else None,
        longitude=place.longitude if place else None,
        place=place.label if place else None,
        approximate=place.approximate if place else False,
        radius_km=_radius(args),
        unit=_choice(args, "unit", ("mi", "km"), "mi"),
        hours=_number(args, "hours", 2, 0.25, 24),
        kinds=_codes(args, "kind", KINDS) or DEFAULT_KINDS,
        attendance=_attendance(args),
        programs=_codes(args, "program", PROGRAMS),
        include_types=_codes(args, "type", types()),
        exclude_types=_codes(args, "not", types()),
        order=_choice(args, "order", ("soonest", "nearest"), "soonest"),
        limit=int(_number(args, "limit", _default_limit(args), 1, MAX_LIMIT, whole=True)),
        # A radius the person chose is kept; only the default one widens (issue #11).
        widen=_choice(args, "widen", ("yes", "no"), "no" if _one(args, "radius") else "yes")
        == "yes",
    )
    both = query.include_types & query.exclude_types
    if both:
        raise ParamError(
            "A type cannot be both wanted and excluded: %(codes)s.", codes=", ".join(sorted(both))
        )
    return Search(_when(args, query, zone, now), place, zone)


def check_names(args, allowed=NAMES) -> None:
    """Refuse parameters that nothing reads, naming them (a typo must not widen a search)."""
    unknown = sorted({name for name in args if name not in allowed})
    if unknown:
        raise ParamError(
            "Unknown parameter: %(names)s. Use: %(allowed)s.",
            names=", ".join(repr(n[:20]) for n in unknown[:5]),
            allowed=", ".join(allowed) or "none",
        )


def _raw(args, name: str) -> list[str]:
    raw = args.getlist(name) if hasattr(args, "getlist") else args.get(name, [])
    return [raw] if isinstance(raw, str) else [str(v) for v in raw]


def _one(args, name: str) -> str:
    """A single-valued parameter, as given (commas are part of it: "Denver, CO")."""
    values = [v.strip() for v in _raw(args, name) if v.strip()]
    if len(values) > 1:
        raise ParamError("Give %(name)s only once.", name=name)
    return values[0] if values else ""


def _many(args, name: str) -> list[str]:
    """A multi-valued parameter: repeated (type=O&type=X) or comma-separated (type=O,X)."""
    values = [part.strip() for v in _raw(args, name) for part in v.split(",") if part.strip()]
    if len(values) > MAX_CODES:
        raise ParamError(
            "Too many values for %(name)s (at most %(most)s).", name=name, most=MAX_CODES
        )
    return values


def _place(args, geocoder: Geocoder) -> Place | None:
    text, lat, lon = _one(args, "q"), _one(args, "lat"), _one(args, "lon")
    if lat or lon:
        if not (lat and lon):
            raise ParamError("Give both lat and lon, or neither.")
        return Place(
            coordinate(lat, -90, 90), coordinate(lon, -180, 180), YOUR_LOCATION, "rooftop", False
        )
    if not text:
        return None
    try:
        return locate(text, geocoder)
    except GeocodeError as error:
        raise ParamError(error.template, **error.values) from error


# A decimal number as people and programs write one: 40, -75.16, +5, 40., .5, 1e1 (no nan, inf,
# hex or digit separators). What this accepts is exactly what ``coordinate`` reads.
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def coordinate(text: str, low: float, high: float) -> float:
    """A latitude or longitude from a URL parameter, within [low, high]; else ``ParamError``."""
    text = text.strip()
    if len(text) > 40 or not _DECIMAL.fullmatch(text):
        raise ParamError("lat and lon must be numbers, like lat=39.95&lon=-75.16.")
    value = float(text)
    if not low <= value <= high:
        raise ParamError("lat must be between -90 and 90 and lon between -180 and 180.")
    return value


def _zone(args, place: Place | None) -> str | None:
    stated = _one(args, "tz")
    if stated:
        if len(stated) > 64 or not valid_timezone(stated):
            raise ParamError("tz must be an IANA time zone name, like America/Denver.")
        return stated
    if place is None:
        return None
    return timezone_for(None, place.latitude, place.longitude, None)[0]


def _number(
    args, name: str, default: float, low: float, high: float, unit: str = "", whole: bool = False
) -> float:
    text = _one(args, name)
    if not text:
        return default
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        bounds = {"name": name, "low": f"{low:g}", "high": f"{high:g}{unit}"}
        if whole:
            raise ParamError(
                "%(name)s must be a whole number between %(low)s and %(high)s.", **bounds
            )
        raise ParamError("%(name)s must be a number between %(low)s and %(high)s.", **bounds)
    return value


def _radius(args) -> float:
    unit = _choice(args, "unit", ("mi", "km"), "mi")
    per_unit = KM_PER_MILE if unit == "mi" else 1.0
    top = MAX_RADIUS_KM / per_unit
    default = 10 if unit == "mi" else 16
    return _number(args, "radius", default, 0.1, round(top), f" {unit}") * per_unit


def _choice(args, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = _one(args, name) or default
    if value not in allowed:
        raise ParamError(
            "%(name)s must be one of: %(allowed)s.", name=name, allowed=", ".join(allowed)
        )
    return value


def _codes(args, name: str, known) -> frozenset:
    values = _many(args, name)
    unknown = [v for v in values if v not in known]
    if unknown:
        shown = ", ".join(repr(v[:20]) for v in unknown[:3])
        if len(known) <= 12:
            raise ParamError(
                "Unknown %(name)s: %(shown)s. Use one of: %(allowed)s.",
                name=name,
                shown=shown,
                allowed=", ".join(known),
            )
        raise ParamError("Unknown %(name)s: %(shown)s.", name=name, shown=shown)
    return frozenset(values)


def _attendance(args) -> frozenset:
    """In person and online each include hybrid meetings; nothing chosen means all."""
    values = _codes(args, "attendance", ATTENDANCE[:3])
    if not values:
        return frozenset(ATTENDANCE[:3])
    return values | {"hybrid"} if values & {"in_person", "online"} else values


def _default_limit(args) -> int:
    """A week's list is a place's whole week (up to the most a search returns); else 25."""
    return MAX_LIMIT if _choice(args, "when", WHEN, "now") == "week" else 25


def _when(args, query: Query, zone: str | None, now: datetime) -> Query:
    when = _choice(args, "when", WHEN, "now")
    if when in ("now", "any"):
        return replace(query, when=when)
    if when == "week":
        return _week(args, query, zone)
    if zone is None:
        raise ParamError(
            "when=%(when)s needs a place or a time zone (tz) to know your day.", when=when
        )
    tz = ZoneInfo(zone)
    if when == "today":
        midnight = (now.astimezone(tz) + timedelta(days=1)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        return replace(query, when="today", until=midnight)
    start = _chosen_time(args, tz, now)
    end_of_day = (start.astimezone(tz) + timedelta(days=1)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return replace(query, when="at", at=start, until=end_of_day)


def _chosen_time(args, tz: ZoneInfo, now: datetime) -> datetime:
    day, clock = _one(args, "day").lower(), _one(args, "time")
    if day not in DAYS:
        raise ParamError("day must be a day of the week, like tuesday.")
    if not clock:
        raise ParamError("when=at needs a time too, like time=19:00.")
    try:
        minute = minutes(clock)
    except ValueError as error:
        raise ParamError("time must be HH:MM, like 19:00.") from error
    if not (len(clock) <= 5 and 0 <= minute < 24 * 60 and clock[-3:-2] == ":"):
        raise ParamError("time must be HH:MM, like 19:00.")
    local = now.astimezone(tz)
    days_ahead = (DAYS.index(day) - local.isoweekday() % 7) % 7
    wall = local.replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    wall += timedelta(days=days_ahead, minutes=minute)
    return wall.replace(tzinfo=tz)


def _week(args, query: Query, zone: str | None) -> Query:
    """The week's listings near a place (issue #12): in person and hybrid (online-only meetings
    have no place), the nearest first, so that a cut list still covers the place's surroundings.
    Times are each listing's next start; the day and time of when=at do not apply."""
    if not query.has_point:
        raise ParamError(
            "when=week lists what meets near a place each week: give a place (q, or lat and lon)."
        )
    if zone is None:  # the week's days begin at the place's midnight
        raise ParamError(
            "when=week needs the place's time zone, which is not known here: add tz, "
            "like tz=America/New_York."
        )
    if _codes(args, "attendance", ATTENDANCE[:3]) == {"online"}:
        raise ParamError(
            "when=week lists places to go near you, and online meetings have none: "
            "for online meetings use when=now, today or any."
        )
    return replace(query, when="week", attendance=query.attendance - {"online"}, order="nearest")
