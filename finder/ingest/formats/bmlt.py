"""Importer for a BMLT root server's public JSON API (Narcotics Anonymous meetings).

Reads ``?switcher=GetSearchResults`` output, with ``GetFormats`` (format names and NAWS world ids;
GetFormats.json in the server's language, GetFormats-en.json asked with ``lang_enum=en``) and the
service bodies list when they sit beside it. Every BMLT value is a string.

What a meeting's format keys mean, in any language, is read in ``bmlt_formats``.
"""

import re
from collections.abc import Iterator
from pathlib import Path

from finder.errors import SourceFormatError, TimeFormatError
from finder.ingest.formats import Rejected
from finder.ingest.formats.bmlt_formats import Formats, format_lookup, read_types
from finder.ingest.formats.common import (
    RowError,
    check_sizes,
    coordinates,
    read_json,
    temporarily_closed,
    text,
)
from finder.schedule import MINUTES_PER_DAY, minutes, parse_time

# Vocabulary language codes -> ISO 639-1, for the languages BMLT formats can imply.
LANGUAGE_CODES = {"EN": "en", "S": "es", "FI": "fi", "FA": "fa", "LT": "lt", "RUS": "ru"}


# The English formats, asked for beside the server's own (finder/ingest/refresh.py): their world
# ids say what a translated format means where its own entry has none (Italian "D", Donne, is
# id 32, which in English is W, Women).
ENGLISH_FORMATS = "GetFormats-en.json"

VENUE_TYPES = {"1": "in_person", "2": "online", "3": "hybrid", "4": "inactive"}

US_NAMES = {"US", "USA", "U.S.", "U.S.A", "U.S.A.", "UNITED STATES", "UNITED STATES OF AMERICA"}

_DURATION = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_HOUSE_NUMBER = re.compile(r"\d+[A-Za-z]?\s+\w")
# BMLT stores some fields as "prompt#@-@#value", sometimes nested; the prompt is not data.
_PROMPT_SEPARATOR = "#@-@#"


_JSON_NAMES = {dict: "an object", list: "an array", str: "a string", int: "a number",
               float: "a number", bool: "a boolean", type(None): "null"}  # fmt: skip


def parse(
    path: str | Path,
    formats_path: str | Path | None = None,
    service_bodies_path: str | Path | None = None,
) -> Iterator[dict | Rejected]:
    """Yield a normalised record or a Rejected for each meeting in a GetSearchResults file.

    :param path: the GetSearchResults JSON array (or get_used_formats object)
    :param formats_path: GetFormats JSON; defaults to GetFormats.json beside ``path`` if present
        (GetFormats-en.json beside ``path``, the English translations, is read as well)
    :param service_bodies_path: service bodies JSON; defaults to service_bodies.json likewise
    """
    path = Path(path)
    rows, used_formats = _read_results(path)
    own = formats_path or _sibling(path, "GetFormats.json")
    english = _sibling(path, ENGLISH_FORMATS)
    formats = format_lookup([*used_formats, *_read_optional(own)], _read_optional(english))
    bodies = _read_lookup(service_bodies_path or _sibling(path, "service_bodies.json"), "id")
    return records(rows, formats, bodies)


def office_phone(path: str | Path) -> str | None:
    """The helpline of the top service body (BMLT's GetServiceBodies gives each body a
    ``helpline``): the source's office line when the server's bodies have one top body with one,
    from service_bodies.json beside ``path``; None otherwise."""
    found = _sibling(Path(path), "service_bodies.json")
    bodies = _read_array(found) if found else []
    ids = {str(body.get("id", "")).strip() for body in bodies}
    tops = [body for body in bodies if str(body.get("parent_id") or "").strip() not in ids]
    lines = {str(body.get("helpline") or "").strip() for body in tops} - {""}
    return lines.pop() if len(tops) == 1 and len(lines) == 1 else None


def _sibling(path: Path, name: str) -> Path | None:
    """The file called ``name`` next to ``path``, if it exists."""
    candidate = path.with_name(name)
    return candidate if candidate.is_file() else None


def _read_array(path: str | Path) -> list[dict]:
    """Load a file that must be a JSON array of objects."""
    return _objects(read_json(Path(path)), f"{path}")


def _read_results(path: Path) -> tuple[list[dict], list[dict]]:
    """GetSearchResults' meetings, and the formats they use when it was asked with
    ``get_used_formats`` (then an object: {"meetings": [...], "formats": [...]})."""
    data = read_json(path)
    if isinstance(data, dict) and "meetings" in data:
        meetings = _objects(data["meetings"], f"{path}: meetings")
        return meetings, _objects(data.get("formats", []), f"{path}: formats")
    if isinstance(data, dict):
        raise SourceFormatError(
            f"{path}: expected a JSON array of objects (or an object of meetings and formats, as "
            "get_used_formats answers), found an object without meetings"
        )
    return _objects(data, f"{path}"), []


def _objects(data, where: str) -> list[dict]:
    """``data`` if it is a JSON array of objects; SourceFormatError saying where otherwise."""
    if not isinstance(data, list):
        found = _JSON_NAMES.get(type(data), "a value")
        raise SourceFormatError(f"{where}: expected a JSON array of objects, found {found}")
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            found = _JSON_NAMES.get(type(item), "a value")
            raise SourceFormatError(f"{where}: item {index} is {found}, expected an object")
    return data


def _read_optional(path: str | Path | None) -> list[dict]:
    """A JSON array of objects, or none when there is no file."""
    return _read_array(path) if path else []


def _read_lookup(path: str | Path | None, key: str) -> dict[str, dict]:
    """An optional JSON array's entries by ``key`` (service bodies); of translated entries, only
    English."""
    entries = [e for e in _read_optional(path) if str(e.get("lang", "en")) == "en"]
    return {str(e.get(key, "")).strip(): e for e in entries}


def records(rows: list[dict], formats: Formats, bodies: dict) -> Iterator[dict | Rejected]:
    """Convert each row, rejecting only the rows that cannot become a record."""
    for index, row in enumerate(rows):
        problem = _problem(row)
        if problem:
            field, reason = problem
            yield Rejected(_text(row, "id_bigint") or None, reason, row=index, field=field)
        else:
            yield _record(row, formats, bodies)


def _problem(row: dict) -> tuple[str, str] | None:
    """(field, reason) for the first fault that makes a row unusable, or None."""
    try:
        check_sizes(row)
    except RowError as error:
        return error.field, str(error)
    if not _text(row, "id_bigint"):
        return "id_bigint", "missing id_bigint"
    if _text(row, "published") == "0":
        return "published", "the server marks this meeting unpublished; not listed"
    if not _text(row, "meeting_name"):
        return "meeting_name", "missing meeting_name"
    weekday = _text(row, "weekday_tinyint")
    if weekday not in {"1", "2", "3", "4", "5", "6", "7"}:
        return "weekday_tinyint", f"weekday_tinyint {weekday!r} is not a weekday 1-7 (1=Sunday)"
    try:
        parse_time(_text(row, "start_time"))
    except TimeFormatError as error:
        return "start_time", f"start_time {error}"
    return None


def _record(row: dict, formats: Formats, bodies: dict) -> dict:
    """Build the normalised record for a row that passed ``_problem``."""
    issues = []
    types, world_ids = _types(row, formats, issues)
    attendance, attendance_note = _attendance(row, world_ids, issues)
    location = _location(row, attendance, issues)
    if location is not None and attendance == "online":
        location["virtual"] = True  # keep the area for its time zone, but there is nowhere to go
    body_id = _text(row, "service_body_bigint")
    body = bodies.get(body_id, {})
    return {
        "source_id": _text(row, "id_bigint"),
        "kind": "meeting",
        "program": "NA",
        "name": _text(row, "meeting_name"),
        "description": _text(row, "comments") or None,
        "attendance": attendance,
        "attendance_note": attendance_note,
        "location": location,
        "organization": {
            "source_id": body_id or None,
            "name": _text(row, "service_body_name") or str(body.get("name", "")).strip() or None,
            "description": str(body.get("description", "")).strip() or None,
        },
        "schedules": [_schedule(row, issues)],
        "timezone": _text(row, "time_zone") or None,
        "types": types,
        "languages": _languages(row, types),
        "conference_url": _text(row, "virtual_meeting_link") or None,
        "conference_url_notes": _text(row, "virtual_meeting_additional_info") or None,
        "conference_phone": _text(row, "phone_meeting_number") or None,
        "conference_phone_notes": _text(row, "phone_meeting_additional_info") or None,
        "regions": _regions(row),
        "issues": issues,
    }


def _text(row: dict, key: str) -> str:
    """A field as stripped text ('' when absent)."""
    return text(row.get(key))


def _duration(value: str) -> int | None:
    """Minutes in an "HH:MM[:SS]" duration, or None if it is not one."""
    match = _DURATION.fullmatch(value)
    if not match or int(match[2]) > 59 or int(match[3] or 0) > 59:
        return None
    return int(match[1]) * 60 + int(match[2])


def _schedule(row: dict, issues: list) -> dict:
    """The weekly slot: BMLT 1=Sunday becomes day 0; the end is the start plus the duration.

    Any duration up to a day is kept (marathons, all-day online rooms); a whole day is stored as
    ending a minute before the start, since an end equal to the start says nothing.
    """
    start = parse_time(_text(row, "start_time"))
    duration_text = _text(row, "duration_time")
    duration = _duration(duration_text) if duration_text else 0
    if duration is None or duration > MINUTES_PER_DAY:
        issues.append(("repaired", "duration_time", f"duration {duration_text!r} ignored"))
        duration = None
    end = _hhmm(minutes(start) + min(duration, MINUTES_PER_DAY - 1)) if duration else None
    return {"day": int(_text(row, "weekday_tinyint")) - 1, "time": start, "end_time": end}


def _hhmm(minutes: int) -> str:
    """Minutes since midnight as "HH:MM", wrapping into the next day."""
    hours, mins = divmod(minutes % (24 * 60), 60)
    return f"{hours:02d}:{mins:02d}"


def _attendance(row: dict, world_ids: set[str], issues: list) -> tuple[str | None, str | None]:
    """(in_person / online / hybrid / inactive, why) from venue_type and the formats TC (a place
    temporarily closed), HYBR and VM (only without a venue_type); (None, None) when unknown."""
    venue = _text(row, "venue_type")
    if "TC" in world_ids and venue not in {"2", "4"}:
        online = _text(row, "virtual_meeting_link") or _text(row, "phone_meeting_number")
        return temporarily_closed(bool(online), "format TC")
    if venue in VENUE_TYPES:
        return VENUE_TYPES[venue], f"the feed's venue_type {venue} ({VENUE_TYPES[venue]})"
    for world_id, attendance in (("HYBR", "hybrid"), ("VM", "online")):
        if world_id in world_ids:
            return attendance, f"the feed's format {world_id} ({attendance}), no venue_type"
    issues.append(("repaired", "venue_type", f"unknown venue_type {venue!r}; attendance unset"))
    return None, None


def _format_keys(row: dict) -> list[str]:
    """The meeting's format keys, in order, without blanks or repeats."""
    return list(dict.fromkeys(k.strip() for k in _text(row, "formats").split(",") if k.strip()))


def _types(row: dict, formats: Formats, issues: list) -> tuple[list[tuple[str, str]], set[str]]:
    """(vocabulary code, "BMLT format KEY: Name") for each mapped format key, and the formats'
    world ids."""
    ids = {i.strip() for i in _text(row, "format_shared_id_list").split(",")} - {""}
    return read_types(_format_keys(row), ids, formats, issues)


def _languages(row: dict, types: list[tuple[str, str]]) -> list[str]:
    """ISO 639-1 codes implied by the meeting's formats."""
    languages = [LANGUAGE_CODES[code] for code, _ in types if code in LANGUAGE_CODES]
    if "BL" in _format_keys(row):
        languages.append("en")
    return list(dict.fromkeys(languages))


def _regions(row: dict) -> list[str]:
    """County and neighbourhood, where given."""
    names = [_text(row, "location_sub_province"), _text(row, "location_neighborhood")]
    return list(dict.fromkeys(name for name in names if name))


def _location(row: dict, attendance: str | None, issues: list) -> dict | None:
    """The venue, or None for online meetings and rows with no place at all."""
    street, name = _text(row, "location_street"), _text(row, "location_text")
    if not street and _HOUSE_NUMBER.match(name):
        street, name = name, ""
        issues.append(("repaired", "location_street", "street taken from location_text"))
    city = _text(row, "location_municipality") or _text(row, "location_city_subsection")
    if attendance == "online" and not street:
        return None
    latitude, longitude = _coordinates(row, issues)
    if not (street or name or city or latitude is not None):
        return None
    state, postal_code = _text(row, "location_province"), _text(row, "location_postal_code_1")
    formatted = ", ".join(p for p in (street, city, f"{state} {postal_code}".strip()) if p)
    return {
        "source_id": formatted or name or f"{latitude},{longitude}",
        "name": name or None,
        "address": street or None,
        "city": city or None,
        "state": state or None,
        "postal_code": postal_code or None,
        "country": _country(_text(row, "location_nation")),
        "formatted_address": formatted or None,
        "latitude": latitude,
        "longitude": longitude,
        "notes": _text(row, "location_info") or None,
        "transportation": _transportation(row, issues),
    }


def _coordinates(row: dict, issues: list) -> tuple[float | None, float | None]:
    """Latitude and longitude as floats, or (None, None) unless both are a real position."""
    return coordinates(_text(row, "latitude"), _text(row, "longitude"), issues)


def _country(nation: str) -> str | None:
    """ISO code for the spellings of the United States; other values as given."""
    return "US" if nation.upper() in US_NAMES else nation or None


def _transportation(row: dict, issues: list) -> str | None:
    """Bus and train lines, labelled, without BMLT's stored field prompts."""
    lines = []
    for key, label in (("bus_lines", "Bus"), ("train_lines", "Train")):
        value = _text(row, key)
        if _PROMPT_SEPARATOR in value:
            value = value.rsplit(_PROMPT_SEPARATOR, 1)[1].strip()
            issues.append(("repaired", key, "BMLT field prompt removed"))
        if value:
            lines.append(f"{label}: {value}")
    return "; ".join(lines) or None
