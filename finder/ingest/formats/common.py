"""Helpers the importers share: text, times, coordinates, languages, phones, kinds, addresses.

Most began in ``hsds`` and serve ``ohana`` too (HSDS's ancestor format); the file readers, row
numbering and slugs were each written twice before. Nothing here imports an importer module.
"""

import csv
import io
import json
import re
import tomllib
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path

from babel import Locale

from finder.errors import SourceFormatError, TimeFormatError
from finder.geo.positions import read_position
from finder.schedule import parse_time

Issues = list[tuple[str, str, str]]

DAY_NAMES = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
# "monday" and "mon" -> 1 (0 = Sunday, as everywhere here)
WEEKDAY_NAMES = {name[:n]: day for day, name in enumerate(DAY_NAMES) for n in (3, len(name))}
# Limits on one row's values (issue #14): far above anything real, far below what stalls a run.
MAX_TEXT = 20_000
MAX_NUMBER = 10**15
MAX_CSV_CELL = 1_000_000
# How feeds end an address with its country (folded); the part is not a city or region.
COUNTRY_NAMES = {
    "us", "usa", "u.s.", "u.s.a.", "united states", "united states of america", "canada",
    "uk", "united kingdom", "great britain", "england", "scotland", "wales", "northern ireland",
    "ireland", "australia", "new zealand", "south africa", "germany", "deutschland", "france",
    "espana", "spain", "mexico", "italia", "italy", "nederland", "netherlands",
}  # fmt: skip
INACTIVE_STATUSES = {"inactive", "defunct", "temporarily closed"}
PHONE_KINDS = {
    "voice": "voice",
    "cell": "voice",
    "fax": "fax",
    "text": "text",
    "sms": "text",
    "textphone": "tty",
    "tty": "tty",
    "hotline": "hotline",
}
# Names babel has no ISO 639-1 code for; Chinese varieties fall back to the macrolanguage "zh".
LANGUAGE_ALIASES = {
    "cantonese": "zh",
    "mandarin": "zh",
    "taiwanese": "zh",
    "toishanese": "zh",
    "farsi": "fa",
    "filipino": "tl",
    "haitian creole": "ht",
    "creole": "ht",
}
# An ISO 8601 time's zone designator ("10:00:00Z", "09:00-05:00"), not part of the clock time.
_UTC_OFFSET = re.compile(r"(?<=\d)\s*(Z|[+-]\d{2}(?::?\d{2})?)$", re.I)
_PLACEHOLDER_PHONES = ("1234567890", "0000000000")
_WARMLINE = re.compile(r"\bwarm\s?line\b", re.I)
_CRISIS_LINE = re.compile(
    r"\bcrisis\s+(hot\s?line|line|text\s?line|chat)\b|\b988\b|\bsuicide\b", re.I
)
_HELPLINE = re.compile(r"\b(help\s?line|hot\s?line|phone\s?line|talk\s?line)\b", re.I)
_PEER = re.compile(r"\bpeer[- ](run|led|support\w*|counsel\w*|specialists?|respite)\b", re.I)
_TREATMENT = re.compile(
    r"\b(residential treatment|substance (use|abuse)|alcoholism|drug abuse|addiction treatment|"
    r"detox\w*|methadone|opioid treatment|psychiatric|psychotherapy|"
    r"mental health (services|treatment|clinic))\b",
    re.I,
)


class RowError(ValueError):
    """A value that makes the whole row unusable."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def text(value) -> str:
    """A source value as stripped text ('' for None)."""
    return "" if value is None else str(value).strip()


def clock(value, field: str, issues: Issues, consequence: str = "ignored") -> str | None:
    """'10:00:00', '9am', '4:00 PM', '09:00-05:00' -> 'HH:MM'; None (and an issue) if unreadable."""
    raw = text(value)
    if not raw:
        return None
    offset = _UTC_OFFSET.search(raw)
    try:
        hhmm = parse_time(raw[: offset.start()] if offset else raw)
    except TimeFormatError:
        issues.append(("repaired", field, f"{field} {raw!r} is not a time; {consequence}"))
        return None
    if offset:
        issues.append(("repaired", field, f"{field} {raw!r}: UTC offset ignored, read as local"))
    return hhmm


def attendance_fields(attendance: str | None, why: str | None) -> dict:
    """A record's attendance and why (the source's word, or how it was inferred)."""
    return {"attendance": attendance, "attendance_note": why}


def temporarily_closed(online: bool, what: str) -> tuple[str, str]:
    """(attendance, why) for a meeting whose source marks its place temporarily closed (``what``,
    e.g. "format TC"): online when it has a link or dial-in, else inactive, which only the
    source ever says (README, "Attendance follows the source")."""
    if online:
        return "online", f"inferred: temporarily closed ({what}) with an online option"
    return "inactive", f"the feed's {what} (temporarily closed) and no online option"


def coordinates(latitude, longitude, issues: Issues) -> tuple[float | None, float | None]:
    """Both coordinates as floats, or (None, None) with an issue if they are not a position."""
    position, problem = read_position(latitude, longitude)
    if problem:
        issues.append(("repaired", "latitude", f"{problem}; ignored"))
    return position or (None, None)


@cache
def _language_names() -> dict[str, str]:
    names = {name.lower(): code for code, name in Locale("en").languages.items() if len(code) == 2}
    return names | LANGUAGE_ALIASES


def language_code(value) -> str | None:
    """ISO 639-1 code of a language code or English name ('es', 'Spanish', 'Chinese (Mandarin)')."""
    raw = text(value).lower()
    base = re.split(r"[-_]", raw)[0]
    if len(base) == 2 and base in Locale("en").languages:
        return base
    names = _language_names()
    for candidate in [raw, *re.findall(r"[a-z][a-z ]*[a-z]", raw)]:
        if candidate in names:
            return names[candidate]
    return None


def add_language(found: list[str], value, source: str, issues: Issues) -> None:
    """Append the language's code to found, or note that it could not be coded."""
    code = language_code(value)
    if code is None and text(value):
        issues.append(
            (
                "repaired",
                "languages",
                f"{source} language {text(value)!r} has no ISO 639-1 code; ignored",
            )
        )
    elif code and code not in found:
        found.append(code)


def phone_contacts(
    rows: Iterable[dict],
    issues: Issues,
    kind_key: str = "type",
    description_key: str = "description",
) -> list[dict]:
    """Organisational phones as record contacts; phones of a named contact person are skipped."""
    found: list[dict] = []
    seen: set[str] = set()
    for row in rows:
        phone_id = text(row.get("id"))
        if phone_id and phone_id in seen:
            continue
        seen.add(phone_id)
        if text(row.get("contact_id")):
            issues.append(
                ("repaired", "contacts", f"phone {phone_id} is a named person's; skipped")
            )
            continue
        item = _contact(row, kind_key, description_key, issues)
        if item and all(
            (item["kind"], item["value"], item["extension"])
            != (f["kind"], f["value"], f["extension"])
            for f in found
        ):
            found.append(item)
    return found


def _contact(row: dict, kind_key: str, description_key: str, issues: Issues) -> dict | None:
    raw = text(row.get("number"))
    number = raw.strip("\"' ")
    kind = text(row.get(kind_key)).lower() or "voice"
    if number != raw:
        issues.append(("repaired", "contacts", f"quotes removed from phone number {raw!r}"))
    if not number:
        return None
    if re.sub(r"\D", "", number)[-10:] in _PLACEHOLDER_PHONES:
        issues.append(("repaired", "contacts", f"placeholder phone number {number} skipped"))
        return None
    if kind not in PHONE_KINDS:
        issues.append(("repaired", "contacts", f"phone type {kind!r} unknown; {number} skipped"))
        return None
    value = f"{text(row.get('country_prefix'))} {number}".strip()
    return {
        "kind": PHONE_KINDS[kind],
        "value": value,
        "extension": text(row.get("extension")),
        "description": text(row.get(description_key)),
    }


def classify(name: str, description: str = "") -> tuple[str, str]:
    """(kind, program): phone lines by their name, then peer-run or treatment by any text."""
    both = f"{name} {description}"
    if _WARMLINE.search(name):
        return "warmline", "community"
    if _CRISIS_LINE.search(name):
        return "crisis_line", "crisis"
    if _HELPLINE.search(name):
        return "helpline", "community"
    if _PEER.search(both):
        return "peer_organization", "peer"
    if _TREATMENT.search(both):
        return "treatment", "treatment"
    return "center", "community"


def address_fields(row: dict | None) -> dict:
    """Location address fields from an HSDS/Ohana address row (address_2 also goes to notes)."""
    parts = {
        k: text((row or {}).get(k))
        for k in ("address_1", "address_2", "city", "state_province", "postal_code", "country")
    }
    region = f"{parts['state_province']} {parts['postal_code']}".strip()
    formatted = ", ".join(
        p
        for p in (parts["address_1"], parts["address_2"], parts["city"], region, parts["country"])
        if p
    )
    return {
        "address": parts["address_1"],
        "city": parts["city"],
        "state": parts["state_province"],
        "postal_code": parts["postal_code"],
        "country": parts["country"],
        "formatted_address": formatted,
        "notes": parts["address_2"],
    }


def organization_of(org: dict | None) -> dict | None:
    """The record's organization from an HSDS/Ohana organization row."""
    if not isinstance(org, dict) or not text(org.get("name")):
        return None
    return {
        "source_id": text(org.get("id")) or text(org.get("name")),
        "name": text(org.get("name")),
        "description": text(org.get("description")),
        "url": text(org.get("website")) or text(org.get("url")),  # HSDS 3 / Ohana, else HSDS 1-2
    }


def read_csv_table(path: Path, columns: Iterable[str]) -> list[dict]:
    """Rows of one CSV file; SourceFormatError naming the file if it or a column is unusable."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return _csv_rows(path.name, handle, columns)
    except UnicodeDecodeError as error:
        raise SourceFormatError(f"{path.name}: not readable as UTF-8 CSV ({error})") from error


def read_csv_bytes(name: str, data: bytes, columns: Iterable[str]) -> list[dict]:
    """Rows of CSV held in memory (a member of a zip file), checked as read_csv_table does."""
    try:
        return _csv_rows(name, io.StringIO(data.decode("utf-8-sig"), newline=""), columns)
    except UnicodeDecodeError as error:
        raise SourceFormatError(f"{name}: not readable as UTF-8 CSV ({error})") from error


def _csv_rows(name: str, handle, columns: Iterable[str]) -> list[dict]:
    try:
        reader = csv.DictReader(handle)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise SourceFormatError(f"{name}: missing column(s) {', '.join(missing)}")
        return list(reader)
    except csv.Error as error:
        raise SourceFormatError(f"{name}: not readable as UTF-8 CSV ({error})") from error


def group_by(rows: list[dict], key: str) -> dict[str, list[dict]]:
    """Rows by the value of one column (rows with it empty are left out)."""
    grouped: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        if text(row.get(key)):
            grouped[text(row.get(key))].append(row)
    return grouped


def read_toml_entries(path: Path, table: str) -> list[dict]:
    """The ``[[table]]`` entries of a TOML file; SourceFormatError naming the file if unreadable."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")).get(table, [])
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise SourceFormatError(f"{path}: {error}") from error


def read_json(path: Path) -> object:
    """A JSON file's value (a byte-order mark is allowed); SourceFormatError naming the file if
    it is not UTF-8 JSON, or nests or spells numbers beyond what can be read."""
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as error:
        raise SourceFormatError(f"{path.name}: not UTF-8 text ({error.reason})") from error
    except json.JSONDecodeError as error:
        raise SourceFormatError(f"{path.name}: not valid JSON ({error})") from error
    except RecursionError:
        raise SourceFormatError(f"{path.name}: JSON nested too deeply to read") from None
    except ValueError as error:  # an integer of over 4,300 digits
        raise SourceFormatError(f"{path.name}: not readable JSON ({error})") from error


def check_sizes(row, max_depth: int = 4, max_items: int = 500) -> None:
    """RowError if a row holds absurd values: text over MAX_TEXT characters, lists of over
    max_items entries or nesting deeper than max_depth, so one hostile row cannot stall an import.
    """
    _check_value(row, "row", max_depth, max_items)


def _check_value(value, field: str, depth: int, max_items: int) -> None:
    if isinstance(value, str) and len(value) > MAX_TEXT:
        raise RowError(field, f"{field} is {len(value):,} characters long; at most {MAX_TEXT:,}")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_NUMBER:
        raise RowError(field, f"{field} is a number of {len(str(abs(value)))} digits")
    if isinstance(value, dict | list):
        if depth <= 0:
            raise RowError(field, f"{field} is nested too deeply")
        if len(value) > max_items:
            raise RowError(field, f"{field} has {len(value):,} entries; at most {max_items:,}")
        pairs = value.items() if isinstance(value, dict) else ((field, v) for v in value)
        for key, item in pairs:
            _check_value(item, str(key)[:40], depth - 1, max_items)


def numbered_rows(rows: Iterable[list[str]]) -> Iterator[tuple[int, list[str]]]:
    """(row number as a spreadsheet shows it, header = row 1; cells) for each non-blank data row.

    Cells up to MAX_CSV_CELL characters are read (rows then check their sizes); a longer one
    stops the file with a SourceFormatError naming the row.
    """
    csv.field_size_limit(max(csv.field_size_limit(), MAX_CSV_CELL))
    numbered = enumerate(rows, start=2)
    number = 1
    while True:
        try:
            number, cells = next(numbered)
        except StopIteration:
            return
        except csv.Error as error:
            raise SourceFormatError(f"row {number + 1}: {error}") from error
        if any(cell.strip() for cell in cells):
            yield number, cells


def slugify(text: str) -> str:
    """Lower-case ASCII words joined by hyphens: "Al-Anon Éxito" -> "al-anon-exito"."""
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")


def fold(text: str) -> str:
    """Lower-case, accent-free text for comparisons."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().strip()
