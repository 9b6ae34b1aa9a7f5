"""Importer for the BMLT aggregator's daily export: every current NA meeting of every root server.

The export (described in the aggregator's responsible-use guide, ``docs/responsible-use.md`` of
``bmlt-enabled/aggregator``) is a folder: ``manifest.json`` lists each file with its size, SHA-256
and record count, each root server's last successful import, and the *stale* root servers (not
imported for over 14 days: their meetings may no longer exist). Meetings are NDJSON, gzipped, one
file per root server (``meetings/root-<id>.ndjson.gz``); each line holds the fields BMLT's
``GetSearchResults`` returns, so the rows are read by the BMLT importer's rules.

The manifest's layout we read (the guide names its parts, not its spelling; an unknown
``schema_version`` stops the import rather than guessing)::

    {"schema_version": 1,
     "files": [{"path": "meetings/root-3.ndjson.gz", "size": 1234, "sha256": "…",
                "records": 210}, …],
     "root_servers": [{"id": 3, "name": "…", "lastSuccessfulImport": "…"}, …],
     "stale_root_servers": [{"id": 9, "name": "…", "lastSuccessfulImport": "…"}]}

This module only reads a folder already fetched and checked (finder/ingest/refresh.py fetches).
"""

import gzip
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from finder.errors import SourceFormatError
from finder.ingest.formats import Rejected, bmlt, bmlt_formats
from finder.ingest.formats.common import read_json

SCHEMA_VERSIONS = (1,)
FORMATS_FILE = "formats.json.gz"
SERVICE_BODIES_FILE = "service_bodies.json.gz"
_ROOT_FILE = re.compile(r"meetings/root-(\d+)\.ndjson\.gz")
_SHA256 = re.compile(r"[0-9a-f]{64}")
MAX_LINE_BYTES = 256 * 1024  # one meeting; a longer line is rejected, not read
MAX_UNPACKED_BYTES = 512 * 1024 * 1024  # a gzip bomb stops here


@dataclass(frozen=True)
class ExportFile:
    """One file the manifest vouches for."""

    path: str
    size: int
    sha256: str
    records: int | None


@dataclass(frozen=True)
class Manifest:
    """What the export holds: the current root servers' meeting files, the shared lookups, and
    the stale root servers left out."""

    meetings: tuple[ExportFile, ...]
    lookups: tuple[ExportFile, ...]
    stale: tuple[dict, ...]

    @property
    def files(self) -> tuple[ExportFile, ...]:
        return self.meetings + self.lookups


def read_manifest(path: Path) -> Manifest:
    """The manifest at path, checked; SourceFormatError saying what is wrong."""
    data = read_json(path)
    if not isinstance(data, dict):
        raise SourceFormatError(f"{path.name}: expected a JSON object")
    version = data.get("schema_version")
    if version not in SCHEMA_VERSIONS:
        raise SourceFormatError(
            f"{path.name}: schema_version {version!r} is not one we read "
            f"({', '.join(map(str, SCHEMA_VERSIONS))}); the export's layout changed"
        )
    files = {f.path: f for f in map(_export_file, _list(data, "files", path))}
    stale = tuple(s for s in _list(data, "stale_root_servers", path) if isinstance(s, dict))
    stale_ids = {str(s.get("id")) for s in stale}
    current = [str(s.get("id")) for s in _list(data, "root_servers", path) if isinstance(s, dict)]
    meetings = []
    for root in current:
        file = files.get(f"meetings/root-{root}.ndjson.gz")
        if root not in stale_ids and file is not None:
            meetings.append(file)
    if not meetings:
        raise SourceFormatError(f"{path.name}: lists no meeting file of a current root server")
    lookups = tuple(files[name] for name in (FORMATS_FILE, SERVICE_BODIES_FILE) if name in files)
    return Manifest(tuple(meetings), lookups, stale)


def _list(data: dict, key: str, path: Path) -> list:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise SourceFormatError(f"{path.name}: {key} must be a list")
    return value


def _export_file(entry) -> ExportFile:
    if not isinstance(entry, dict):
        raise SourceFormatError("manifest.json: every entry of files must be an object")
    name, size, digest = entry.get("path"), entry.get("size"), entry.get("sha256")
    if not isinstance(name, str) or ".." in name.split("/") or name.startswith("/"):
        raise SourceFormatError(f"manifest.json: file path {name!r} is not a relative path")
    if not isinstance(size, int) or size < 0:
        raise SourceFormatError(f"manifest.json: {name}: size {size!r} is not a byte count")
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest.lower()):
        raise SourceFormatError(f"manifest.json: {name}: sha256 {digest!r} is not a SHA-256")
    records = entry.get("records")
    return ExportFile(name, size, digest.lower(), records if isinstance(records, int) else None)


def parse(path: str | Path) -> Iterator[dict | Rejected]:
    """Yield a record or a Rejected for each meeting of the export's current root servers.

    :param path: the export's manifest.json, with the files it lists beside it
    """
    path = Path(path)
    manifest = read_manifest(path)
    folder = path.parent
    # English entries only: root servers number their formats independently, so one id may
    # name different formats in the export's one file.
    english = [e for e in _entries(folder / FORMATS_FILE) if str(e.get("lang", "en")) == "en"]
    formats = bmlt_formats.format_lookup(english, one_server=False)
    bodies = {str(e.get("id", "")).strip(): e for e in _entries(folder / SERVICE_BODIES_FILE)}
    for file in manifest.meetings:
        root = _ROOT_FILE.fullmatch(file.path).group(1)
        rows, rejected = _read_ndjson(folder / file.path)
        yield from rejected
        for record in bmlt.records(rows, formats, bodies):
            if isinstance(record, Rejected):
                yield record
            else:
                # Root servers number their meetings independently.
                yield {**record, "source_id": f"{root}-{record['source_id']}"}


def _entries(path: Path) -> list[dict]:
    """A gzipped JSON array's objects (none when the export has no such file)."""
    if not path.is_file():
        return []
    return [e for e in _json_array(_unpacked(path), path) if isinstance(e, dict)]


def _json_array(data: bytes, path: Path) -> list:
    try:
        value = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise SourceFormatError(f"{path.name}: not readable JSON ({error})") from None
    if not isinstance(value, list):
        raise SourceFormatError(f"{path.name}: expected a JSON array")
    return value


def _unpacked(path: Path) -> bytes:
    try:
        with gzip.open(path, "rb") as stream:
            data = stream.read(MAX_UNPACKED_BYTES + 1)
    except (OSError, EOFError) as error:
        raise SourceFormatError(f"{path.name}: not a readable gzip file ({error})") from None
    if len(data) > MAX_UNPACKED_BYTES:
        raise SourceFormatError(f"{path.name}: unpacks to over {MAX_UNPACKED_BYTES} bytes")
    return data


def _read_ndjson(path: Path) -> tuple[list[dict], list[Rejected]]:
    """The objects of a gzipped NDJSON file, and a Rejected for each line that is not one."""
    rows, rejected = [], []
    for number, line in enumerate(_unpacked(path).splitlines(), start=1):
        if not line.strip():
            continue
        if len(line) > MAX_LINE_BYTES:
            rejected.append(Rejected(None, f"{path.name} line {number} is over 256 KB", row=number))
            continue
        try:
            row = json.loads(line.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError, RecursionError) as error:
            reason = f"{path.name} line {number} is not a JSON object ({error})"
            rejected.append(Rejected(None, reason, row=number))
            continue
        if not isinstance(row, dict):
            rejected.append(
                Rejected(None, f"{path.name} line {number} is not an object", row=number)
            )
            continue
        rows.append(row)
    return rows, rejected
