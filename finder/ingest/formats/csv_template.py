"""The documented CSV template for resources kept in spreadsheets (data/templates/README.md).

One row is one resource: an online forum, a warmline, helpline or crisis line, a local group
with its weekly meeting times, a peer-run organization. Only ``name`` and ``kind`` are required,
so narrower spreadsheets such as data/national-lines/lines.csv import as they are.
"""

import codecs
import csv
import re
from collections.abc import Iterator
from datetime import date
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale

from finder.errors import HoursFormatError, SourceFormatError
from finder.geo.us_places import census_counties
from finder.ingest.formats import Rejected
from finder.ingest.formats.common import (
    RowError,
    check_sizes,
    coordinates,
    fold,
    numbered_rows,
    slugify,
)
from finder.ingest.formats.hours import parse_hours
from finder.ingest.prepare import web_link
from finder.paths import DATA_DIR
from finder.vocabulary import (
    ATTENDANCE,
    KINDS,
    PROGRAMS,
    accessibility_codes,
    normalise_type_code,
    types,
)  # fmt: skip

COLUMNS = (
    "id", "name", "kind", "program", "description", "phone", "text", "url", "conference_url",
    "hours", "timezone", "languages", "serves", "location_name", "address", "city", "state",
    "postal_code", "country", "latitude", "longitude", "attendance", "types", "accessibility",
    "last_verified",
)  # fmt: skip
REQUIRED_COLUMNS = ("name", "kind")
KIND_ALIASES = {"online_meetings_directory": "online_directory"}  # data/national-lines/SOURCE.md
CENSUS_DIR = DATA_DIR / "census-counties"
UNSPECIFIED_LANGUAGES = {"multiple", "many", "various"}
# Only the name is read, and only when unambiguous; Al-Anon first so it never reads as AA.
PROGRAM_NAMES = [
    (re.compile(r"\bAl-?Anon\b", re.I), "Al-Anon"),
    (re.compile(r"\bAlcoholics Anonymous\b|\bAA\b"), "AA"),
    (re.compile(r"\bNarcotics Anonymous\b|\bNA\b"), "NA"),
    (re.compile(r"\bSMART Recovery\b", re.I), "SMART"),
]

_DECIMAL_COMMA = re.compile(r"[+-]?\d{1,3},\d+")


def parse(path: str | Path) -> Iterator[dict | Rejected]:
    """Check the header, then yield a record or a Rejected for every data row.

    :param path: a CSV file (UTF-8, or UTF-16 with a byte order mark; cells separated by ",",
        ";" or tabs) whose header includes ``name`` and ``kind``
    """
    lines = _decoded(Path(path)).splitlines(keepends=True)
    delimiter = _delimiter(lines[:1])
    rows = csv.reader(lines, delimiter=delimiter)
    header = [column.strip().lower() for column in next(rows, [])]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        reason = f"{path} is not a resources CSV: missing column(s) {', '.join(missing)}"
        raise SourceFormatError(reason)
    return _records(rows, header, decimal_comma=delimiter == ";")


def _delimiter(first_line: list[str]) -> str:
    """The first of ",", ";" and tab that gives a header with name and kind: spreadsheets save
    "CSV" with ";" where the comma is the decimal mark, and "Unicode text" with tabs."""
    for delimiter in ",;\t":
        header = {c.strip().lower() for c in next(csv.reader(first_line, delimiter=delimiter), [])}
        if header >= set(REQUIRED_COLUMNS):
            return delimiter
    return ","


def _decoded(path: Path) -> str:
    """UTF-8 (with or without a byte order mark), or UTF-16 with one (Excel's "Unicode text")."""
    data = path.read_bytes()
    utf16 = data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    try:
        return data.decode("utf-16" if utf16 else "utf-8-sig")
    except UnicodeDecodeError as error:
        reason = (
            f"{path} is not {'UTF-16' if utf16 else 'UTF-8'} text ({error.reason} at byte "
            f'{error.start}); save it from the spreadsheet as "CSV UTF-8"'
        )
        raise SourceFormatError(reason) from None


def _records(
    rows: Iterator[list[str]], header: list[str], decimal_comma: bool = False
) -> Iterator[dict | Rejected]:
    """Turn data rows into records, numbering rows as a spreadsheet does (header = row 1).

    :param decimal_comma: coordinates are written "52,3676" (a ";"-separated file)
    """
    first_row = {}
    for number, cells in numbered_rows(rows):
        # Descriptions keep their line breaks; every other cell is one line.
        row = {
            col: _clean(cell, col != "description")
            for col, cell in zip(header, cells, strict=False)
        }
        if decimal_comma:
            for column in ("latitude", "longitude"):
                if _DECIMAL_COMMA.fullmatch(row.get(column, "")):
                    row[column] = row[column].replace(",", ".")
        try:
            check_sizes(row)
            record = _record(row)
        except RowError as error:
            yield Rejected(row.get("id") or None, str(error), number, error.field)
            continue
        source_id = record["source_id"]
        if source_id in first_row:
            reason = f"duplicate id {source_id!r} (first used on row {first_row[source_id]})"
            yield Rejected(source_id, reason, number, "id")
            continue
        first_row[source_id] = number
        yield record


def _record(row: dict[str, str]) -> dict:
    """A normalised record from one row (column -> cleaned text); RowError rejects it."""
    if not row.get("name"):
        raise RowError("name", "name is required")
    name, kind, issues = row["name"], _kind(row.get("kind", "")), []
    source_id = row.get("id") or slugify(f"{name} {kind}")
    if "id" in row and not row["id"]:
        issues.append(("repaired", "id", f"no id; used {source_id!r} from name and kind"))
    record = {
        "source_id": source_id, "kind": kind, "name": name,
        "program": _program(row.get("program", ""), kind, name, row.get("description", ""), issues),
        "description": row.get("description", ""),
        "attendance": _attendance(row.get("attendance", ""), issues),
        "url": web_link(row.get("url"), "url", issues),
        "conference_url": web_link(row.get("conference_url"), "conference_url", issues),
        "contacts": _contacts(row.get("phone", ""), row.get("text", "")),
        "languages": _languages(row.get("languages", ""), issues),
        "service_areas": _service_areas(row.get("serves", ""), issues),
        "types": _types(row.get("types", ""), row.get("accessibility", ""), issues),
        "last_verified": _date(row.get("last_verified", ""), "last_verified", issues),
        "location": _location(row, source_id, issues),
        "issues": issues,
    }  # fmt: skip
    record.update(_hours(row.get("hours", ""), row.get("timezone", ""), issues))
    if record["languages"] == [] and row.get("languages"):
        record["languages_text"] = row["languages"]
    return record


def _hours(text: str, timezone: str, issues: list) -> dict:
    """Hours fields for a record, keeping unreadable hours as text with an issue."""
    zone = _zone(timezone, "timezone") if timezone else None
    hours = {"always_open": False, "by_appointment": False, "schedules": [], "timezone": None}
    try:
        hours = parse_hours(text) if text else hours
    except HoursFormatError:
        issues.append(("repaired", "hours", f"could not read hours {text!r}; kept as text"))
        hours = hours | {"hours_text": text}
    if hours["timezone"]:
        _zone(hours["timezone"], "hours")
    if zone and hours["timezone"] and zone != hours["timezone"]:
        raise RowError("timezone", f"timezone {zone!r} disagrees with the zone in hours {text!r}")
    hours["timezone"] = hours["timezone"] or zone
    return hours


def _zone(name: str, field: str) -> str:
    """A valid IANA time zone name, or RowError."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise RowError(field, f"unknown time zone {name!r}") from None
    return name


def _kind(raw: str) -> str:
    """A vocabulary kind (aliases accepted), or RowError."""
    kind = re.sub(r"[\s-]+", "_", raw.lower())
    kind = KIND_ALIASES.get(kind, kind)
    if not kind:
        raise RowError("kind", "kind is required")
    if kind not in KINDS:
        raise RowError("kind", f"unknown kind {raw!r}; use one of {', '.join(KINDS)}")
    return kind


def _program(raw: str, kind: str, name: str, description: str, issues: list) -> str | None:
    """The stated program, else by kind, else from the name, else peer (none for helplines)."""
    for code, full_name in PROGRAMS.items():
        if raw.lower() in (code.lower(), full_name.lower()):
            return code
    if raw:
        issues.append(("repaired", "program", f"unknown program {raw!r} ignored"))
    if kind in ("crisis_line", "treatment"):
        return {"crisis_line": "crisis", "treatment": "treatment"}[kind]
    # A helpline is peer support only when it says so (NAMI's is "peer-staffed"; SAMHSA's is not).
    default = None if kind == "helpline" and not re.search(r"\bpeer", description, re.I) else "peer"
    return next((code for pattern, code in PROGRAM_NAMES if pattern.search(name)), default)


def _attendance(raw: str, issues: list) -> str | None:
    """in_person / online / hybrid / inactive, or None to let the loader derive it."""
    value = re.sub(r"[\s-]+", "_", raw.lower())
    if value and value not in ATTENDANCE:
        issues.append(("repaired", "attendance", f"unknown attendance {raw!r} ignored"))
    return value if value in ATTENDANCE else None


def _contacts(phone: str, text: str) -> list[dict]:
    """Voice contacts (several separated by ";") and one text-message contact."""
    voices = [("voice", number.strip()) for number in phone.split(";") if number.strip()]
    pairs = voices + ([("text", text)] if text else [])
    return [{"kind": kind, "value": value, "description": ""} for kind, value in pairs]


def _languages(raw: str, issues: list) -> list[str]:
    """Language codes from "en,es" or "English; Spanish"; "multiple" gives [] (text kept)."""
    codes = []
    for token in _tokens(raw):
        code = _language_codes().get(token.lower())
        if code and code not in codes:
            codes.append(code)
        elif not code and token.lower() not in UNSPECIFIED_LANGUAGES:
            issues.append(("repaired", "languages", f"unknown language {token!r}; kept as text"))
    return codes


@cache
def _language_codes() -> dict[str, str]:
    """Lower-cased language code or English name -> code, from the CLDR data babel ships."""
    names = Locale("en").languages
    by_name = {name.lower(): code for code, name in names.items() if code.isalpha()}
    return by_name | {code.lower(): code for code in names if code.isalpha()}


def _service_areas(raw: str, issues: list) -> list[dict]:
    """Service areas from "US", "US-CA", "US-CA-San Mateo County" or "worldwide" (";"-separated)."""
    areas = []
    for token in _tokens(raw):
        area = service_area(token)
        if area:
            areas.append(area)
        else:
            issues.append(("repaired", "serves", f"could not read service area {token!r}; ignored"))
    return areas


def service_area(token: str) -> dict | None:
    """One service area: worldwide, a country, a US state or a US county (code = census GEOID)."""
    if token.lower() == "worldwide":
        return {"kind": "worldwide", "code": None, "name": "Worldwide"}
    parts = token.split("-", 2)
    country = parts[0].upper()
    if len(parts) == 1:
        name = Locale("en").territories.get(country) if re.fullmatch(r"[A-Z]{2}", country) else None
        return {"kind": "country", "code": country, "name": name} if name else None
    states, counties = _census()
    state = parts[1].upper()
    if country != "US" or state not in states:
        return None
    if len(parts) == 2:
        return {"kind": "state", "code": state, "name": states[state]}
    county = counties.get((state, fold(parts[2])))
    return {"kind": "county", "code": county[0], "name": county[1]} if county else None


@cache
def _census() -> tuple[dict, dict]:
    """State code -> name, and (state, folded county name, "County" optional) -> (GEOID, name)."""
    lines = (CENSUS_DIR / "states.txt").read_text(encoding="utf-8").splitlines()
    states = {fields[1]: fields[2] for fields in (line.split("|") for line in lines)}
    full, short = {}, {}
    for state, geoid, name, *_ in census_counties():
        full[(state, fold(name))] = (geoid, name)
        key = (state, fold(name.rsplit(" ", 1)[0]))
        short[key] = None if key in short else (geoid, name)  # "Baltimore" is a county and a city
    return states, {key: value for key, value in short.items() if value} | full


def _types(raw_types: str, accessibility: str, issues: list) -> list[tuple[str, str]]:
    """(code, what the row said) for type codes and accessibility codes or phrases."""
    found = []
    for token in _tokens(raw_types):
        code = normalise_type_code(token)
        if code:
            found.append((code, token))
        else:
            issues.append(("repaired", "types", f"unknown type code {token!r} ignored"))
    for token in _tokens(accessibility):
        code = normalise_type_code(token)
        if code and types()[code]["category"] == "accessibility":
            found.append((code, token))
        else:
            found += accessibility_codes(token)
    unique = {}
    for code, said in found:
        unique.setdefault(code, said)
    return list(unique.items())


def _location(row: dict[str, str], source_id: str, issues: list) -> dict | None:
    """The venue, or None when the row has no address, place name or coordinates."""
    latitude, longitude = coordinates(row.get("latitude"), row.get("longitude"), issues)
    fields = ("location_name", "address", "city", "state", "postal_code", "country")
    if latitude is None and not any(row.get(field) for field in fields):
        if row.get("accessibility"):
            issues.append(("repaired", "accessibility", "no location; only coded features kept"))
        return None
    return {
        "source_id": source_id, "name": row.get("location_name", ""),
        "address": row.get("address", ""), "city": row.get("city", ""),
        "state": row.get("state", "").upper(), "postal_code": row.get("postal_code", ""),
        "country": row.get("country", "").upper() or None,
        "latitude": latitude, "longitude": longitude,
        "accessibility_text": row.get("accessibility", ""),
    }  # fmt: skip


def _date(raw: str, field: str, issues: list) -> str | None:
    """An ISO date (YYYY-MM-DD), or None with an issue."""
    try:
        return date.fromisoformat(raw).isoformat() if raw else None
    except ValueError:
        issues.append(("repaired", field, f"{field} {raw!r} is not a YYYY-MM-DD date; ignored"))
        return None


def _tokens(raw: str) -> list[str]:
    """Non-empty items of a ";" or ","-separated cell."""
    return [token.strip() for token in re.split(r"[;,]", raw) if token.strip()]


def _clean(value: str | None, collapse: bool = True) -> str:
    """Cell text stripped, with runs of whitespace collapsed unless collapse is False."""
    return " ".join((value or "").split()) if collapse else (value or "").strip()
