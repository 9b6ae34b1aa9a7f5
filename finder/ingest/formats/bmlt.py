"""Importer for a BMLT root server's public JSON API (Narcotics Anonymous meetings).

Reads ``?switcher=GetSearchResults`` output, with ``GetFormats`` (format names and NAWS world ids;
GetFormats.json in the server's language, GetFormats-en.json asked with ``lang_enum=en``) and the
service bodies list when they sit beside it. Every BMLT value is a string.

A meeting's ``formats`` are keys in the server's own language ("D" is Discussion on an English
server, Donne on an Italian one); ``format_shared_id_list`` gives their ids, which are the same
in every language. A format's world id (OPEN, CLOSED, W, M, WCHR, VM...) is what it means
wherever one is given, in any language; a key alone is read only as an English server's key.
"""

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from finder.errors import SourceFormatError, TimeFormatError
from finder.ingest.formats import Rejected
from finder.ingest.formats.common import (
    RowError,
    check_sizes,
    coordinates,
    read_json,
    temporarily_closed,
    text,
)
from finder.schedule import MINUTES_PER_DAY, minutes, parse_time

# English BMLT format key -> vocabulary codes, checked against each format's English name and
# description in GetFormats; read only for English formats without a world id, or where the key
# says more than its world id (GNYR's SD, Speaker/Discussion, has world id SPK). An empty tuple
# means "known, no vocabulary equivalent": dropped silently.
FORMAT_CODES = {
    "BK": ("LIT",), "BT": ("BT",), "C": ("C",), "CL": ("CAN",), "CW": ("CF",), "D": ("D",),
    "ENG": ("EN",), "ES": ("S",), "FIN": ("FI",), "ID": ("IDREQ",), "IL": ("ILL",), "IP": ("IP",),
    "IW": ("IW",), "JT": ("JFT",), "L/R": ("LT", "RUS"), "LC": ("LC",), "M": ("M",),
    "ME": ("MED",), "NC": ("NOKIDS",), "NS": ("NOSMOKE",), "O": ("O",), "PER": ("FA",),
    "QA": ("QA",), "RF": ("RF",), "SC": ("CAMERAS",), "SG": ("SWG",), "So": ("SP",),
    "St": ("ST",), "TW": ("TR",), "Tr": ("TR",), "W": ("W",), "WC": ("X",), "WEB": ("ONL",),
    "YP": ("Y",),
    "AB": ("QA",),  # Ask-It-Basket: NAWS gives it world_id QA
    "Ag": ("A",),  # Agnostic: Meeting Guide's A (Secular) began as "Atheist / Agnostic"
    "B": ("BE",),  # Beginners; Meeting Guide's B is Big Book
    "CS": ("CF",),  # Children under Supervision: "supervised children are welcome"
    "FD": ("ST",),  # Five and Dime: a study of Steps 5 and 10
    "GL": ("LGBTQ",),  # Gay/Lesbian/Transgender
    "SD": ("SP", "D"),  # Speaker/Discussion: a speaker, then open sharing
    "SL": ("ASL",),  # an ASL interpreter; Meeting Guide's SL is Slovenian
    # No equivalent: Topic, Timer, Pitch, Round Robin, Open-Ended, Closed Holidays, Concepts,
    # Restricted Attendance (restriction unstated), Bi-Lingual (second language unstated).
    "To": (), "Ti": (), "Pi": (), "Rr": (), "OE": (), "CH": (), "CP": (), "RA": (), "BL": (),
}  # fmt: skip

# NAWS world_id -> vocabulary codes: what a format means in any language. The ids are those of
# the BMLT root server's stock formats (bmlt-enabled/bmlt-root-server, database migrations).
# LANG is absent on purpose: it does not say which language, so an English key ("ES") is read
# instead; another language's key for a language is ignored and reported.
WORLD_ID_CODES = {
    "BEG": ("BE",), "BT": ("BT",), "CAN": ("CAN",), "CH": (), "CLOSED": ("C",), "CPT": (),
    "CW": ("CF",), "DISC": ("D",), "GL": ("LGBTQ",), "GP": ("LIT",), "IP": ("IP",),
    "IW": ("IW",), "JFT": ("JFT",), "LC": ("LC",), "LIT": ("LIT",), "M": ("M",), "MED": ("MED",),
    "NC": ("NOKIDS",), "NS": ("NOSMOKE",), "OPEN": ("O",), "QA": ("QA",), "RA": (),
    "S-D": ("SP", "D"), "SPAD": ("LIT",), "SPK": ("SP",), "STEP": ("ST",), "SWG": ("SWG",),
    "TOP": (), "TRAD": ("TR",), "VAR": ("RF",), "W": ("W",), "WCHR": ("X",), "Y": ("Y",),
    # Attendance, added for COVID-19: a hybrid meeting has no vocabulary type of its own.
    "VM": ("ONL",), "HYBR": (), "TC": ("TC",),
}  # fmt: skip

# English keys of the attendance formats -> their world ids, for servers whose GetFormats lacks
# them (older servers, before venue_type); WEB is GNYR's own "Online Meeting".
KEY_WORLD_IDS = {"VM": "VM", "HY": "HYBR", "TC": "TC", "WEB": "VM"}

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
_NO_MEANING = {"", "LANG"}  # world ids that do not say what a format is


class Formats(NamedTuple):
    """GetFormats entries: the server's own by key_string, with their translations by id."""

    by_key: dict[str, list[dict]]
    by_id: dict[str, list[dict]]
    by_key_and_id: dict[tuple[str, str], dict]  # empty when ids are not comparable (the export)


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


def format_lookup(
    entries: Sequence[dict], english: Sequence[dict] = (), one_server: bool = True
) -> Formats:
    """GetFormats entries by key_string and by id, English ones first.

    :param entries: the server's own answer, in the language of its meetings' format keys
    :param english: the same formats asked for in English, read for their world ids only
    :param one_server: False for formats of many root servers, whose ids name different formats
    """
    by_key: dict[str, list[dict]] = {}
    by_id: dict[str, list[dict]] = {}
    for entry in sorted(entries or english, key=lambda e: text(e.get("lang")) != "en"):
        by_key.setdefault(text(entry.get("key_string")), []).append(entry)
    if not one_server:
        return Formats(by_key, {}, {})
    for entry in sorted([*entries, *english], key=lambda e: text(e.get("lang")) != "en"):
        by_id.setdefault(text(entry.get("id")), []).append(entry)
    by_key_and_id = {
        (key, text(entry.get("id"))): entry
        for key, keyed in by_key.items()
        for entry in reversed(keyed)  # the first entry of a key and id wins
    }
    return Formats(by_key, by_id, by_key_and_id)


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
    found, world_ids = [], set()
    ids = {i.strip() for i in _text(row, "format_shared_id_list").split(",")} - {""}
    for key in _format_keys(row):
        entry = _entry(key, ids, formats)
        world_id, codes = _meaning(key, entry, formats)
        world_ids.add(world_id)
        name = text(entry.get("name_string"))
        if codes is None:
            issues.append(("repaired", "formats", _unknown(key, entry, world_id)))
            continue
        claim = f"BMLT format {key}: {name}" if name else f"BMLT format {key}"
        found += [(code, claim) for code in codes if code not in {c for c, _ in found}]
    return found, world_ids


def _entry(key: str, ids: set[str], formats: Formats) -> dict:
    """The GetFormats entry a meeting's key names: the one of the meeting's format ids (Italian
    "C" is id 45, Concetti; English "C" is id 4, Closed). When the meeting's ids name none of the
    key's entries, the key is of a language we were not given: an entry of no known meaning."""
    entries = formats.by_key.get(key, [])
    if not ids or not formats.by_key_and_id:
        return entries[0] if entries else {}
    found = (formats.by_key_and_id.get((key, i)) for i in sorted(ids))
    return next((e for e in found if e), {"key_string": key, "lang": "?"} if entries else {})


def _meaning(key: str, entry: dict, formats: Formats) -> tuple[str, tuple[str, ...] | None]:
    """(world id, vocabulary codes) of a format: its world id, else its translations' (English
    first); else an English key's meaning. Codes are None when neither is known."""
    translations = formats.by_id.get(text(entry.get("id")), []) if entry else []
    world_ids = [text(e.get("world_id")).upper() for e in (entry, *translations)]
    english = not entry or text(entry.get("lang")) in {"", "en"}
    world_id = next((w for w in world_ids if w not in _NO_MEANING), "")
    world_id = world_id or (KEY_WORLD_IDS.get(key, "") if english else "")
    by_key = FORMAT_CODES.get(key) if english else None
    if world_id not in WORLD_ID_CODES:
        return world_id, None if world_id else by_key
    by_world_id = WORLD_ID_CODES[world_id]
    return world_id, by_key if by_key and set(by_key) >= set(by_world_id) else by_world_id


def _unknown(key: str, entry: dict, world_id: str) -> str:
    """Why a format key was ignored, for the import report."""
    if world_id:
        return f"format key {key!r} has world id {world_id!r}, which is not known; ignored"
    if entry and text(entry.get("lang")) not in {"", "en"}:
        name, lang = text(entry.get("name_string")), text(entry.get("lang"))
        return f"format key {key!r} ({name}, {lang}) has no world id; ignored"
    return f"unknown format key {key!r} ignored"


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
