"""The registry of sources (data/sources.toml) and running an import for one of them."""

import hashlib
import importlib
import re
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path

from geopy.geocoders.base import Geocoder
from sqlite_utils import Database

from finder.errors import SourceFormatError
from finder.ingest.formats.common import read_toml_entries
from finder.ingest.load import ImportSummary, load_source
from finder.ingest.prepare import phone_number

FORMATS = ("meeting_guide", "bmlt", "bmlt_export", "hsds", "ohana", "csv_template", "samhsa")
REQUIRED_KEYS = ("id", "name", "format")
# A list's date: a TOML date (2025-04-18), or a string: a day, or a month when that is all we know.
_AS_OF = re.compile(r"\d{4}-\d{2}(-\d{2})?")


def read_registry(path: str | Path) -> list[dict]:
    """Sources listed in a TOML registry, with paths made absolute; raises SourceFormatError."""
    path = Path(path)
    entries = read_toml_entries(path, "source")
    sources = []
    for number, entry in enumerate(entries, start=1):
        missing = [k for k in REQUIRED_KEYS if not entry.get(k)]
        if missing:
            raise SourceFormatError(f"{path}: source #{number} lacks {', '.join(missing)}")
        if not entry.get("path") and not entry.get("url"):
            raise SourceFormatError(f"{path}: source {entry['id']!r} has neither a path nor a url")
        if entry["format"] not in FORMATS:
            raise SourceFormatError(
                f"{path}: source {entry['id']!r} has unknown format {entry['format']!r}; "
                f"expected one of {', '.join(FORMATS)}"
            )
        resolved = str((path.parent / entry["path"]).resolve()) if entry.get("path") else None
        sources.append(
            {
                **entry,
                "path": resolved,
                "as_of": _as_of(path, entry),
                "office_phone": _office_phone(path, entry),
            }
        )
    return sources


def _as_of(path: Path, entry: dict) -> str | None:
    """The source's snapshot or feed date as ISO text ("2025-04-18" or "2026-11"), if given."""
    value = entry.get("as_of")
    if value is None:
        return None
    text = value.isoformat() if isinstance(value, date) else str(value)
    try:
        date.fromisoformat(text if len(text) > 7 else f"{text}-01")
    except ValueError:
        text = ""
    if not _AS_OF.fullmatch(text):
        raise SourceFormatError(
            f"{path}: source {entry['id']!r} has as_of {value!r}; expected YYYY-MM-DD or YYYY-MM"
        )
    return text


def _office_phone(path: Path, entry: dict) -> str | None:
    """The source's office line as the rest of the site writes numbers, if given; a number
    phonenumbers cannot read as a dialable one is refused, never shown."""
    value = entry.get("office_phone")
    if value is None:
        return None
    number = phone_number(value, "US") if isinstance(value, str) else None
    if number is None:
        raise SourceFormatError(
            f"{path}: source {entry['id']!r} has office_phone {value!r}, which is not a phone "
            'number; write it as text with its area code, like "+1 215 555 0134"'
        )
    return number


def feed_office_phone(source: dict) -> str | None:
    """The office line the feed itself publishes for its whole list, where its format has one
    (a format module's ``office_phone(path)``), written as the site writes numbers."""
    module = importlib.import_module(f"finder.ingest.formats.{source['format']}")
    read = getattr(module, "office_phone", None)
    found = read(Path(source["path"])) if read else None
    return phone_number(found, "US") if found else None


def content_hash(path: str | Path) -> str:
    """SHA-256 over a file, or over every file of a folder in name order."""
    path = Path(path)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


def parse_source(source: dict) -> Iterable:
    """The records of a source, read by its format's importer."""
    module = importlib.import_module(f"finder.ingest.formats.{source['format']}")
    return module.parse(Path(source["path"]))


def import_source(
    db: Database,
    source: dict,
    geocoder: Geocoder,
    progress: Callable | None = None,
    records: Iterable | None = None,
    overrides: list | None = None,
) -> ImportSummary:
    """Parse, geocode and load one source in one transaction.

    :param records: what ``parse_source`` already yielded for this path (refresh validates a
        fetched feed before importing it), so it is not read twice
    :param overrides: local corrections (``finder.ingest.overrides``); this source's are applied
    """
    if not source.get("path"):
        raise SourceFormatError(
            f"source {source['id']!r} has no file yet: run `flask --app finder refresh "
            f"{source['id']}` to fetch it from {source.get('url')}"
        )
    if not Path(source["path"]).exists():
        raise SourceFormatError(f"{source['path']} does not exist")
    source = {**source, "content_hash": content_hash(source["path"])}
    if records is None:
        records = parse_source(source)
    mine = [o for o in overrides or [] if o.source == source["id"]]
    summary = load_source(db, source, records, geocoder, progress=progress, overrides=mine)
    # The list's own date (kept apart from the import date, which says nothing about its age),
    # the short name listings are "Listed by", and the office line: the registry's, else the
    # feed's own (a maintainer's entry corrects a feed, as overrides do).
    office = source.get("office_phone") or feed_office_phone(source)
    with db.atomic():
        names = {"as_of": source.get("as_of"), "short_name": source.get("short_name")}
        db.table("sources").update(source["id"], {**names, "office_phone": office})
    return summary
