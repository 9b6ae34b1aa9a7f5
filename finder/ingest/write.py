"""Writing prepared records: rows changed only when their content changed, and the import log."""

import json
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING

from sqlite_utils import Database
from sqlite_utils.db import quote_identifier

if TYPE_CHECKING:
    from finder.ingest.load import ImportSummary
    from finder.ingest.prepare import Prepared

LOCATION_COLUMNS = (
    "name", "address", "city", "state", "postal_code", "country", "formatted_address", "latitude",
    "longitude", "geocode_precision", "geocode_source", "geocode_note", "timezone",
    "timezone_source", "notes", "transportation", "accessibility_text",
)  # fmt: skip


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def write(db: Database, source: dict, prepared: dict, rejected_ids: set, summary) -> None:
    """Apply prepared records inside the caller's transaction: add, update, mark removed, log."""
    now = _now()
    db.table("sources").upsert(_source_row(source, now), pk="id")
    ids = _KeyCache(db, source["id"])
    existing = {
        row["source_id"]: row
        for row in db.query(
            "select id, source_id, content_hash, status from resources where source = ?",
            [source["id"]],
        )
    }
    for source_id, rows in prepared.items():
        old = existing.get(source_id)
        if old and old["content_hash"] == rows.content_hash and old["status"] == "active":
            summary.unchanged += 1
            continue
        resource = {
            **rows.resource,
            "location_id": ids.location(rows.location),
            "organization_id": ids.organization(rows.organization),
            "content_hash": rows.content_hash,
            "status": "active",
            "removed_at": None,
            "last_changed": now,
        }
        if old:
            _update(db, "resources", old["id"], resource)
            _replace_children(db, old["id"], rows)
            summary.updated += 1
        else:
            new_id = _insert(
                db,
                "resources",
                {**resource, "source": source["id"], "source_id": source_id, "first_seen": now},
            )
            _replace_children(db, new_id, rows)
            summary.added += 1
    gone = [
        row["id"]
        for sid, row in existing.items()
        if sid not in prepared and sid not in rejected_ids and row["status"] == "active"
    ]
    for resource_id in gone:
        _update(
            db,
            "resources",
            resource_id,
            {"status": "removed", "removed_at": now, "last_changed": now},
        )
    summary.removed = len(gone)
    _log_run(db, source, summary, now)


class _KeyCache:
    """Ids of the source's locations and organisations, writing a row only when it changed."""

    def __init__(self, db: Database, source: str):
        self.db, self.source = db, source
        self.locations = self._existing("locations")
        self.organizations = self._existing("organizations")

    def _existing(self, table: str) -> dict:
        sql = f"select * from {quote_identifier(table)} where source = ?"
        return {row["source_id"]: row for row in self.db.query(sql, [self.source])}

    def location(self, row: dict | None) -> int | None:
        """Id of this location row, inserted or updated as needed."""
        if row is None:
            return None
        return self._ensure(
            "locations",
            self.locations,
            {k: v for k, v in row.items() if not k.startswith("_")},
            LOCATION_COLUMNS,
        )

    def organization(self, row: dict | None) -> int | None:
        """Id of this organisation row, inserted or updated as needed."""
        if row is None:
            return None
        return self._ensure(
            "organizations", self.organizations, row, ("name", "description", "url")
        )

    def _ensure(self, table: str, known: dict, row: dict, columns: tuple) -> int:
        old = known.get(row["source_id"])
        if old is None:
            new_id = _insert(self.db, table, {**row, "source": self.source})
            known[row["source_id"]] = {**row, "id": new_id}
            return new_id
        changes = {c: row.get(c) for c in columns if old.get(c) != row.get(c)}
        if changes:
            _update(self.db, table, old["id"], changes)
            old.update(changes)
        return old["id"]


@cache
def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    names = ", ".join(quote_identifier(c) for c in columns)
    return (
        f"insert into {quote_identifier(table)} ({names}) values ({', '.join('?' * len(columns))})"
    )


def _insert(db: Database, table: str, row: dict) -> int:
    return db.conn.execute(_insert_sql(table, tuple(row)), list(row.values())).lastrowid


def _update(db: Database, table: str, row_id: int, changes: dict) -> None:
    assignments = ", ".join(f"{quote_identifier(c)} = ?" for c in changes)
    db.execute(
        f"update {quote_identifier(table)} set {assignments} where id = ?",
        [*changes.values(), row_id],
    )


def _replace_children(db: Database, resource_id: int, rows: "Prepared") -> None:
    for table in ("schedules", "resource_types", "contacts", "service_areas"):
        db.execute(f"delete from {quote_identifier(table)} where resource_id = ?", [resource_id])
    for schedule in rows.schedules:
        _insert(db, "schedules", {**schedule, "resource_id": resource_id})
    for code, claim in rows.types:
        _insert(db, "resource_types", {"resource_id": resource_id, "code": code, "claim": claim})
    for contact in rows.contacts:
        _insert(db, "contacts", {**contact, "resource_id": resource_id})
    for area in rows.service_areas:
        _insert(db, "service_areas", {**area, "resource_id": resource_id})


def _source_row(source: dict, now: str) -> dict:
    keys = (
        "id",
        "name",
        "format",
        "path",
        "url",
        "program",
        "default_timezone",
        "attribution",
        "license",
        "content_hash",
    )
    return {**{k: source.get(k) for k in keys}, "last_imported": now}


def _log_run(db: Database, source: dict, summary: "ImportSummary", now: str) -> None:
    summary.run_id = _insert(
        db,
        "import_runs",
        {
            "source": source["id"],
            "started": now,
            "finished": _now(),
            "content_hash": source.get("content_hash"),
            "records_in": summary.records_in,
            "added": summary.added,
            "updated": summary.updated,
            "unchanged": summary.unchanged,
            "removed": summary.removed,
            "repaired": summary.repaired,
            "rejected": summary.rejected,
            "geocode_precision": json.dumps(dict(summary.precision)),
        },
    )
    for issue in summary.issues:
        _insert(db, "import_issues", {**issue, "run_id": summary.run_id, "source": source["id"]})
