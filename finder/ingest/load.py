"""Write normalised records into the database: all or nothing, idempotent, with a report.

``load_source`` geocodes and resolves time zones first (no writes), then applies every change in
one transaction: a failure anywhere leaves the database exactly as it was.
"""

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from geopy.geocoders.base import Geocoder
from sqlite_utils import Database

from finder.errors import RecordRejected, SourceFormatError
from finder.geo.offline import Geocode, valid_timezone
from finder.ingest import overrides as corrections
from finder.ingest.formats import Rejected
from finder.ingest.prepare import Prepared, prepare
from finder.ingest.write import write


@dataclass
class ImportSummary:
    """What one import run did."""

    source: str
    records_in: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    repaired: int = 0
    rejected: int = 0
    precision: Counter = field(default_factory=Counter)
    issues: list[dict] = field(default_factory=list)
    run_id: int | None = None

    @property
    def changed(self) -> int:
        """Records added, updated or removed."""
        return self.added + self.updated + self.removed

    def top_reasons(self, severity: str, limit: int = 5) -> list[tuple[str, int, str]]:
        """The most frequent kinds of reason for rejected or repaired rows, with an example."""
        reasons, examples = Counter(), {}
        for issue in self.issues:
            if issue["severity"] == severity:
                family = reason_family(issue["reason"])
                reasons[family] += 1
                examples.setdefault(family, issue["reason"])
        return [(r, n, examples[r]) for r, n in reasons.most_common(limit)]


def reason_family(reason: str) -> str:
    """Group reasons that differ only in quoted values or numbers ('UTF-8' keeps its 8)."""
    return re.sub(r"'[^']*'|\"[^\"]*\"|(?<![\w-])-?\d+(\.\d+)?(?![\w-])", "…", reason)


def load_source(
    db: Database,
    source: dict,
    records: Iterable,
    geocoder: Geocoder,
    progress: Callable[[Iterable], Iterable] | None = None,
    overrides: list[corrections.Override] | None = None,
) -> ImportSummary:
    """Import one source's records in a single transaction and log the run.

    :param db: the database (migrations applied)
    :param source: the source's registry entry: id, name, format, program, default_timezone...
    :param records: what an importer's ``parse`` yielded (records and ``Rejected`` rows)
    :param geocoder: a geopy geocoder used when a record has no trustworthy coordinates
    :param progress: optional wrapper (e.g. a click progress bar) over the records being prepared
    :param overrides: this source's local corrections (data/overrides.toml), applied to each
        record before the shared rules, and logged
    """
    zone = source.get("default_timezone")
    if zone and valid_timezone(zone) is None:
        raise SourceFormatError(f"source {source['id']!r}: {zone!r} is not an IANA time zone")
    summary = ImportSummary(source["id"])
    items = list(records)
    summary.records_in = len(items)
    prepared: dict[str, Prepared] = {}
    first_at: dict[str, int] = {}
    rejected_ids: set[str] = set()
    geocodes: dict[tuple, Geocode] = {}
    local = _by_listing(overrides or [])
    for position, item in enumerate(progress(items) if progress else items, start=1):
        if isinstance(item, Rejected):
            _reject(summary, rejected_ids, item.source_id, item.field, item.reason, item.row)
            continue
        source_id = str(item.get("source_id") or "").strip()
        if source_id in first_at:
            reason = f"duplicate id {source_id!r}: the feed's record {first_at[source_id]} has it"
            summary.rejected += 1
            summary.issues.append(_issue(source_id, "rejected", "id", reason, position))
            continue
        if source_id in local:
            item, notes = corrections.apply(item, local.pop(source_id))
            summary.issues.extend(_issue(source_id, s, f, r, position) for s, f, r in notes)
            if item is None:  # corrected as no longer listed: marked removed like a lost row
                continue
        try:
            rows = prepare(item, source, geocoder, geocodes)
        except RecordRejected as error:
            _reject(summary, rejected_ids, source_id, error.field, str(error), position)
            continue
        first_at[source_id] = position
        repairs = [_issue(rows.source_id, s, f, r) for s, f, r in rows.issues]
        summary.issues.extend(repairs)
        summary.repaired += any(r["severity"] == "repaired" for r in repairs)
        summary.precision[rows.precision] += 1
        prepared[rows.source_id] = rows
    for source_id, unused in local.items():
        for override in unused:
            reason = f"local correction of {override.field} for a listing not in this feed"
            summary.issues.append(_issue(source_id, "warning", override.field, reason))
    with db.atomic():
        write(db, source, prepared, rejected_ids, summary)
    return summary


def _by_listing(overrides: list) -> dict[str, list]:
    found: dict[str, list] = {}
    for override in overrides:
        found.setdefault(str(override.source_id), []).append(override)
    return found


def _reject(summary: ImportSummary, rejected_ids: set, source_id, field_name, reason, row) -> None:
    summary.rejected += 1
    rejected_ids.add(source_id or "")
    summary.issues.append(_issue(source_id, "rejected", field_name, reason, row))


def _issue(source_id, severity, field_name, reason, row=None) -> dict:
    return {
        "source_id": source_id,
        "severity": severity,
        "field": field_name,
        "reason": reason,
        "row": row,
    }
