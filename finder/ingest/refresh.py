"""Refreshing live sources: fetch each feed, check it, import it into a draft copy of the served
database, and publish the draft only when every refreshed source succeeded (issue #13).

A source that fails (HTTP error, unreadable feed, or a feed that lost more than half its
records) keeps its previous data; when others succeeded, the attempts and errors are published
in ``feed_health`` (a copy of the served file with only that changed). When every source failed
nothing is published at all: the served file, its stored index and its modification time stay
exactly as they were (the site keeps serving the same generation instead of rebuilding its index
for data that did not change); those failures are recorded beside the served file instead
(``finder/ingest/failures.py``), so the site can still say that its lists could not be updated.
"""

import hashlib
import json
import shutil
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from geopy.geocoders.base import Geocoder
from sqlite_utils import Database

from finder.errors import FeedError, SourceFormatError
from finder.ingest import failures
from finder.ingest.fetch import USER_AGENT, FetchSettings, fetch
from finder.ingest.formats import Rejected, bmlt, bmlt_export
from finder.ingest.load import ImportSummary
from finder.ingest.publish import discard, draft_copy, publish
from finder.ingest.registry import import_source, parse_source
from finder.store import connect

# The file each format's feed is saved as (the format readers take a path).
_FEED_FILES = {
    "meeting_guide": "feed.json",
    "hsds": "feed.json",
    "csv_template": "feed.csv",
    "samhsa": "feed.csv",
    "bmlt": "GetSearchResults.json",
    "bmlt_export": "manifest.json",
}
# A feed that suddenly holds fewer than this share of the listings we have is not published.
MIN_SHARE_KEPT = 0.5


@dataclass
class Outcome:
    """What refreshing one source did (or why it did nothing)."""

    source: str
    url: str
    status: str = "failed"  # updated | unchanged | failed | not applied
    http_status: int | None = None
    records: int | None = None
    summary: ImportSummary | None = None
    error: str | None = None
    seconds: float = 0.0
    attempts: int = 0
    note: str | None = None  # what the feed itself left out, e.g. stale BMLT root servers
    validators: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """The source refreshed (with new data or none needed)."""
        return self.status in ("updated", "unchanged")


def feed_urls(source: dict) -> list[tuple[str, str]]:
    """(file name, URL) pairs to fetch for a source; the first is the feed itself.

    A BMLT source's ``url`` is its root server (``https://host/main_server/``): we ask its
    ``client_interface/json/`` for GetSearchResults (limited to ``bmlt_services`` when given,
    with their child service bodies) and GetFormats, in the server's own language (that of the
    meetings' format keys) and in English (whose world ids say what a format means where the
    server's own translation has none).
    """
    url = source["url"]
    if source["format"] == "bmlt_export" and not url.endswith(".json"):
        return [("manifest.json", url.rstrip("/") + "/manifest.json")]
    if source["format"] == "hsds" and urllib.parse.urlsplit(url).path.endswith(".zip"):
        return [("feed.zip", url)]  # HSDS CSV files, zipped (a data package)
    if source["format"] != "bmlt":
        if source["format"] not in _FEED_FILES:
            raise SourceFormatError(f"source {source['id']!r}: {source['format']} has no feed URL")
        return [(_FEED_FILES[source["format"]], url)]
    base = url if "client_interface" in url else url.rstrip("/") + "/client_interface/json/"
    base = base.split("?", 1)[0]
    query = [("switcher", "GetSearchResults")]
    query += [("services[]", str(s)) for s in source.get("bmlt_services", [])]
    if source.get("bmlt_services"):
        query.append(("recursive", "1"))
    return [
        ("GetSearchResults.json", f"{base}?{urllib.parse.urlencode(query)}"),
        ("GetFormats.json", f"{base}?switcher=GetFormats"),
        (bmlt.ENGLISH_FORMATS, f"{base}?switcher=GetFormats&lang_enum=en"),
    ]


def with_kept_feeds(sources: list[dict], feeds_dir: str | Path) -> list[dict]:
    """Sources whose feed lives only at a URL read the copy the last good refresh kept."""
    result = []
    for source in sources:
        if not source.get("path") and source.get("url"):
            kept = Path(feeds_dir) / source["id"] / feed_urls(source)[0][0]
            source = {**source, "path": str(kept) if kept.exists() else None}
        result.append(source)
    return result


def refresh(
    served: str | Path,
    sources: list[dict],
    geocoder_for: Callable[[Database], Geocoder],
    feeds_dir: str | Path,
    settings: FetchSettings,
    dry_run: bool = False,
    allow_shrink: bool = False,
    overrides: list | None = None,
) -> list[Outcome]:
    """Refresh sources with a ``url`` into a draft of ``served``; publish it only when all
    succeeded, otherwise publish only the record of the attempts (the data stays as it was), or
    nothing when every source failed.

    :param served: the database file the site and Datasette read
    :param sources: registry entries, each with a ``url``
    :param geocoder_for: builds the geocoder over the draft database (its cache lives there)
    :param feeds_dir: where each source's last good feed is kept (``<feeds_dir>/<id>/``)
    :param dry_run: fetch and import into a throwaway draft, report, change nothing
    :param allow_shrink: accept a feed that lost more than half its records
    :param overrides: local corrections applied to every import
    """
    feeds_dir = Path(feeds_dir)
    feeds_dir.mkdir(parents=True, exist_ok=True)
    draft = draft_copy(served)
    db = connect(str(draft))
    outcomes = []
    try:
        geocoder = geocoder_for(db)
        for source in sources:
            how = _How(geocoder, settings, allow_shrink, overrides or [])
            outcomes.append(_refresh_one(db, source, feeds_dir, how))
        failed = [o.source for o in outcomes if not o.ok]
        for outcome in outcomes:
            if failed and outcome.ok:
                outcome.status = "not applied"
                outcome.error = f"not applied: {', '.join(failed)} failed in the same refresh"
        if not dry_run and not failed:
            _record_health(db, outcomes)
            _keep_feeds(feeds_dir, outcomes)
    except BaseException:
        db.close()
        discard(draft)
        raise
    finally:
        db.close()
        _drop_staging(feeds_dir, outcomes)
    if dry_run or len(failed) == len(outcomes):
        discard(draft)  # nothing to publish: the served file and its index stay as they are
        if not dry_run:
            _record_failures(served, outcomes)
        return outcomes
    if not failed:
        publish(draft, served)
    else:
        discard(draft)
        _publish_health_only(served, outcomes)
    failures.forget(served, [o.source for o in outcomes])  # feed_health has newer attempts now
    return outcomes


@dataclass(frozen=True)
class _How:
    """How every source of one refresh is fetched and imported."""

    geocoder: Geocoder
    settings: FetchSettings
    allow_shrink: bool
    overrides: list


def _refresh_one(db: Database, source: dict, feeds_dir: Path, how: _How) -> Outcome:
    outcome = Outcome(source["id"], source.get("url") or "")
    started = time.perf_counter()
    try:
        if not source.get("url"):
            raise FeedError(f"source {source['id']!r} has no url to refresh from")
        outcome.validators = _previous_validators(db, source["id"])
        if source["format"] == "bmlt_export":
            staging = _fetch_export(source, feeds_dir, how.settings, outcome)
        else:
            staging = _fetch_all(source, feeds_dir, how.settings, outcome)
        if outcome.status != "unchanged":
            _import(db, source, staging, how, outcome)
    except (FeedError, SourceFormatError, OSError) as error:
        outcome.status, outcome.error = "failed", str(error)
    outcome.seconds = round(time.perf_counter() - started, 3)
    return outcome


def _fetch_all(source: dict, feeds_dir: Path, settings: FetchSettings, outcome: Outcome) -> Path:
    """Fetch every file of the feed into a staging folder; 304s copy the kept file."""
    kept, staging = feeds_dir / source["id"], feeds_dir / f"{source['id']}.new"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    unchanged = True
    for name, url in feed_urls(source):
        # Validators are sent only while the file they vouch for is still kept.
        previous = outcome.validators.get(url, {}) if (kept / name).exists() else {}
        got = fetch(url, settings, previous.get("etag"), previous.get("last_modified"))
        outcome.attempts += got.attempts
        outcome.http_status = got.status
        if got.unchanged:
            shutil.copyfile(kept / name, staging / name)
            continue
        unchanged = False
        (staging / name).write_bytes(got.body or b"")
        outcome.validators[url] = {"etag": got.etag, "last_modified": got.last_modified}
    outcome.status = "unchanged" if unchanged else "fetched"
    return staging


def _fetch_export(source: dict, feeds_dir: Path, settings: FetchSettings, outcome: Outcome) -> Path:
    """The BMLT aggregator's export, as its responsible-use guide asks: say who we are, ask for
    the manifest with If-None-Match, and fetch only the files whose checksum changed since the
    copy we keep (a root server's file changes only when that server did); every fetched file is
    checked against the manifest's size and SHA-256. Stale root servers are left out."""
    if settings.user_agent == USER_AGENT:
        raise FeedError(
            "the BMLT aggregator asks every client for a contact: set FINDER_REFRESH_USER_AGENT "
            "to name your project and an email or page where its maintainers can reach you"
        )
    (name, url), kept = feed_urls(source)[0], feeds_dir / source["id"]
    staging = feeds_dir / f"{source['id']}.new"
    shutil.rmtree(staging, ignore_errors=True)
    previous = outcome.validators.get(url, {}) if (kept / name).exists() else {}
    got = fetch(url, settings, previous.get("etag"), previous.get("last_modified"))
    outcome.attempts, outcome.http_status = got.attempts, got.status
    if got.unchanged:
        shutil.copytree(kept, staging)
        outcome.status = "unchanged"
        return staging
    staging.mkdir()
    (staging / name).write_bytes(got.body or b"")
    outcome.validators = {url: {"etag": got.etag, "last_modified": got.last_modified}}
    manifest = bmlt_export.read_manifest(staging / name)
    base = url.rsplit("/", 1)[0]
    for file in manifest.files:
        target = staging / file.path
        target.parent.mkdir(parents=True, exist_ok=True)
        if _sha256(kept / file.path) == file.sha256:
            shutil.copyfile(kept / file.path, target)
            continue
        part = fetch(f"{base}/{file.path}", settings)
        outcome.attempts += part.attempts
        body = part.body or b""
        if len(body) != file.size or hashlib.sha256(body).hexdigest() != file.sha256:
            raise FeedError(
                f"{file.path}: {len(body)} bytes that do not match the manifest's size "
                f"({file.size}) and SHA-256; kept the previous data"
            )
        target.write_bytes(body)
    if manifest.stale:
        outcome.note = (
            "left out stale root servers (not imported by the aggregator for over 14 days): "
            + ", ".join(
                f"{s.get('name') or s.get('id')} (last import {s.get('lastSuccessfulImport', '?')})"
                for s in manifest.stale
            )
        )
    outcome.status = "fetched"
    return staging


def _sha256(path: Path) -> str | None:
    if not path.is_file():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _import(db: Database, source: dict, staging: Path, how: _How, outcome: Outcome) -> None:
    entry = {**source, "path": str(staging / feed_urls(source)[0][0])}
    records = list(parse_source(entry))  # SourceFormatError for invalid JSON or CSV
    outcome.records = sum(not isinstance(r, Rejected) for r in records)
    before = db.execute(
        "select count(*) from resources where source = ? and status = 'active'", [source["id"]]
    ).fetchone()[0]
    if not how.allow_shrink and before and outcome.records < before * MIN_SHARE_KEPT:
        raise FeedError(
            f"suspicious feed: {outcome.records} records where {before} are listed now "
            "(lost more than half); kept the previous data (--allow-shrink accepts it)"
        )
    as_of = datetime.now(UTC).date().isoformat()
    outcome.summary = import_source(
        db, {**entry, "as_of": as_of}, how.geocoder, records=records, overrides=how.overrides
    )
    outcome.status = "updated"


def _previous_validators(db: Database, source_id: str) -> dict:
    row = db.execute("select validators from feed_health where source = ?", [source_id]).fetchone()
    return json.loads(row[0]) if row and row[0] else {}


def _record_health(db: Database, outcomes: list[Outcome]) -> None:
    """Write each source's attempt into feed_health (inside the draft that will be published)."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    health = db.table("feed_health")
    with db.atomic():
        for outcome in outcomes:
            previous = {r["source"]: r for r in health.rows_where("source = ?", [outcome.source])}
            row = previous.get(outcome.source, {})
            update = {
                "source": outcome.source,
                "url": outcome.url,
                "last_attempt": now,
                "http_status": outcome.http_status,
                "attempts": outcome.attempts,
                "seconds": outcome.seconds,
                "last_error": outcome.error,
                "note": outcome.note,
            }
            if outcome.ok:
                records = outcome.records if outcome.records is not None else row.get("records")
                update |= {
                    "last_success": now,
                    "records": records,
                    "change": _change(records, row.get("records"), outcome),
                    "validators": json.dumps(outcome.validators),
                }
                if outcome.status == "unchanged":
                    db.execute(
                        "update sources set as_of = ? where id = ?", [now[:10], outcome.source]
                    )
            health.upsert({**row, **update}, pk="source")


def _record_failures(served: str | Path, outcomes: list[Outcome]) -> None:
    """Record a refresh's failures beside the served file (a note on each when that fails)."""
    try:
        failures.record(
            served, {o.source: failures.Failure(o.http_status, o.error or "") for o in outcomes}
        )
    except OSError as error:
        for outcome in outcomes:
            outcome.note = f"not recorded beside the database ({error})"


def _change(records, before, outcome: Outcome) -> int | None:
    if outcome.status == "unchanged":
        return 0
    if records is None or before is None:
        return None
    return records - before


def _publish_health_only(served: str | Path, outcomes: list[Outcome]) -> None:
    """Record failed attempts in a fresh copy of the served file (its data unchanged)."""
    draft = draft_copy(served)
    db = connect(str(draft))
    try:
        _record_health(db, outcomes)
    finally:
        db.close()
    publish(draft, served)


def _keep_feeds(feeds_dir: Path, outcomes: list[Outcome]) -> None:
    """The fetched files become the kept copies (the next conditional GET vouches for them)."""
    for outcome in outcomes:
        staging = feeds_dir / f"{outcome.source}.new"
        if outcome.status == "updated" and staging.exists():
            kept = feeds_dir / outcome.source
            shutil.rmtree(kept, ignore_errors=True)
            staging.rename(kept)


def _drop_staging(feeds_dir: Path, outcomes: list[Outcome]) -> None:
    for outcome in outcomes:
        shutil.rmtree(feeds_dir / f"{outcome.source}.new", ignore_errors=True)
