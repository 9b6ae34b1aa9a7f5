"""Write normalised records into the database: all or nothing, idempotent, with a report.

``load_source`` geocodes and resolves time zones first (no writes), then applies every change in
one transaction: a failure anywhere leaves the database exactly as it was.
"""

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache

from geopy.geocoders.base import Geocoder
from sqlite_utils import Database
from sqlite_utils.db import quote_identifier

from .geo import Geocode, normalise_state, normalise_zip, resolve_position, timezone_for
from .importers import Rejected
from .schedule import schedule_row
from .vocabulary import ATTENDANCE, KINDS

LOCATION_COLUMNS = (
    "name",
    "address",
    "city",
    "state",
    "postal_code",
    "country",
    "formatted_address",
    "latitude",
    "longitude",
    "geocode_precision",
    "geocode_source",
    "geocode_note",
    "timezone",
    "timezone_source",
    "notes",
    "transportation",
    "accessibility_text",
)


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

    def top_reasons(self, severity: str, limit: int = 5) -> list[tuple[str, int]]:
        """The most frequent reasons for rejected or repaired rows."""
        reasons = Counter(
            _reason_family(i["reason"]) for i in self.issues if i["severity"] == severity
        )
        return reasons.most_common(limit)


@dataclass
class Prepared:
    """A record turned into rows, ready to write."""

    source_id: str
    resource: dict
    location: dict | None
    organization: dict | None
    schedules: list[dict]
    types: list[tuple[str, str]]
    contacts: list[dict]
    service_areas: list[dict]
    content_hash: str


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _reason_family(reason: str) -> str:
    """Group reasons that differ only in quoted values or numbers ('UTF-8' keeps its 8)."""
    return re.sub(r"'[^']*'|\"[^\"]*\"|(?<![\w-])-?\d+(\.\d+)?(?![\w-])", "…", reason)


def load_source(
    db: Database,
    source: dict,
    records: Iterable,
    geocoder: Geocoder,
    progress: Callable[[Iterable], Iterable] | None = None,
) -> ImportSummary:
    """Import one source's records in a single transaction and log the run.

    :param db: the database (migrations applied)
    :param source: the source's registry entry: id, name, format, program, default_timezone...
    :param records: what an importer's ``parse`` yielded (records and ``Rejected`` rows)
    :param geocoder: a geopy geocoder used when a record has no trustworthy coordinates
    :param progress: optional wrapper (e.g. a click progress bar) over the records being prepared
    """
    summary = ImportSummary(source["id"])
    items = list(records)
    summary.records_in = len(items)
    prepared: dict[str, Prepared] = {}
    rejected_ids: set[str] = set()
    geocodes: dict[tuple, Geocode] = {}
    for item in progress(items) if progress else items:
        if isinstance(item, Rejected):
            summary.rejected += 1
            rejected_ids.add(item.source_id or "")
            summary.issues.append(
                _issue(item.source_id, "rejected", item.field, item.reason, item.row)
            )
            continue
        try:
            rows = prepare(item, source, geocoder, geocodes)
        except ValueError as error:
            summary.rejected += 1
            summary.issues.append(_issue(item.get("source_id"), "rejected", None, str(error)))
            continue
        repairs = [_issue(rows.source_id, s, f, r) for s, f, r in item.get("issues", [])]
        if rows.location and rows.location["_issue"]:
            repairs.append(
                _issue(rows.source_id, "repaired", "coordinates", rows.location["_issue"])
            )
        summary.issues.extend(repairs)
        summary.repaired += any(r["severity"] == "repaired" for r in repairs)
        summary.precision[rows.location["geocode_precision"] if rows.location else "none"] += 1
        prepared[rows.source_id] = rows
    with db.atomic():
        _write(db, source, prepared, rejected_ids, summary)
    return summary


def _issue(source_id, severity, field_name, reason, row=None) -> dict:
    return {
        "source_id": source_id,
        "severity": severity,
        "field": field_name,
        "reason": reason,
        "row": row,
    }


def prepare(record: dict, source: dict, geocoder: Geocoder, geocodes: dict) -> Prepared:
    """Validate one record, geocode it and resolve its time zone; raises ValueError if unusable."""
    source_id = str(record.get("source_id") or "").strip()
    name = str(record.get("name") or "").strip()
    if record.get("test_entry"):
        raise ValueError("the source marks this entry as test data; not listed")
    kind = record.get("kind")
    if not source_id or not name:
        raise ValueError("record has no id or no name")
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    attendance = record.get("attendance")
    if attendance is not None and attendance not in ATTENDANCE:
        raise ValueError(f"unknown attendance {attendance!r}")
    location = _location_row(record.get("location"), geocoder, geocodes)
    zone, zone_source = _timezone(record, location, source)
    if location is not None:
        location["timezone"], location["timezone_source"] = zone, zone_source
    resource = {
        "kind": kind,
        "name": name,
        "program": record.get("program") or source.get("program"),
        "description": record.get("description") or "",
        "attendance": attendance or _default_attendance(record, location),
        "timezone": zone,
        "timezone_source": zone_source,
        "always_open": int(bool(record.get("always_open"))),
        "by_appointment": int(bool(record.get("by_appointment"))),
        "regions": json.dumps(record.get("regions") or []),
        "languages": json.dumps(record.get("languages") or []),
        **{
            key: record.get(key) or ""
            for key in (
                "conference_url",
                "conference_url_notes",
                "conference_phone",
                "conference_phone_notes",
                "url",
                "hours_text",
                "languages_text",
            )
        },
        "updated": record.get("updated"),
        "last_verified": record.get("last_verified"),
    }
    schedules = [schedule_row(s) for s in record.get("schedules") or []]
    types = sorted({code: claim for code, claim in record.get("types") or []}.items())
    contacts = [
        {k: str(c.get(k) or "") for k in ("kind", "value", "extension", "description")}
        for c in record.get("contacts") or []
        if c.get("value")
    ]
    areas = [
        {
            **{k: a.get(k) or "" for k in ("kind", "code", "name", "state", "description")},
            "geometry": json.dumps(a["geometry"]) if a.get("geometry") else None,
        }
        for a in record.get("service_areas") or []
    ]
    organization = _organization_row(record.get("organization"))
    content = [resource, location, organization, schedules, types, contacts, areas]
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()
    return Prepared(
        source_id, resource, location, organization, schedules, types, contacts, areas, digest
    )


def _default_attendance(record: dict, location: dict | None) -> str:
    online = bool(record.get("conference_url") or record.get("conference_phone"))
    in_person = location is not None and location.get("latitude") is not None
    if online and in_person:
        return "hybrid"
    if online or location is None:
        return "online"
    return "in_person"


def _location_row(location: dict | None, geocoder: Geocoder, geocodes: dict) -> dict | None:
    if not location:
        return None
    key = tuple(
        str(location.get(k))
        for k in (
            "source_id",
            "address",
            "city",
            "state",
            "postal_code",
            "latitude",
            "longitude",
            "virtual",
        )
    )
    if key not in geocodes:
        if location.get("virtual"):
            geocodes[key] = Geocode(None, None, "none", "", "online meeting: no place to go")
        else:
            geocodes[key] = resolve_position(location, geocoder)
    found = geocodes[key]
    row = {
        k: (location.get(k) or "")
        for k in (
            "name",
            "address",
            "city",
            "country",
            "formatted_address",
            "notes",
            "transportation",
            "accessibility_text",
        )
    }
    row["source_id"] = str(location.get("source_id") or "|".join(key[1:5]))
    row["state"] = normalise_state(location.get("state")) or (location.get("state") or "")
    row["postal_code"] = normalise_zip(location.get("postal_code")) or ""
    row.update(
        latitude=found.latitude,
        longitude=found.longitude,
        geocode_precision=found.precision,
        geocode_source=found.source,
        geocode_note=found.note,
    )
    row["_raw_latlon"] = (location.get("latitude"), location.get("longitude"))
    row["_issue"] = found.issue
    return row


def _timezone(record: dict, location: dict | None, source: dict) -> tuple[str | None, str]:
    stated = record.get("timezone")
    lat = lon = state = postal = None
    if location is not None:
        lat, lon = location["latitude"], location["longitude"]
        if lat is None:  # an online meeting's area still tells its zone
            lat, lon = _floats(*location["_raw_latlon"])
        state, postal = location["state"] or None, location["postal_code"] or None
    zone, how = timezone_for(stated, lat, lon, state, postal)
    if stated and how != "feed":
        record.setdefault("issues", []).append(
            ("repaired", "timezone", f"time zone {stated!r} is not an IANA zone; used the {how}'s")
        )
    if zone is None and source.get("default_timezone"):
        return source["default_timezone"], "source default"
    return zone, how


def _floats(lat, lon) -> tuple[float | None, float | None]:
    try:
        lat, lon = float(lat), float(lon)
    except (TypeError, ValueError):
        return None, None
    if lat == 0 or lon == 0 or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None, None
    return lat, lon


def _organization_row(organization: dict | None) -> dict | None:
    if not organization or not organization.get("name"):
        return None
    return {
        "source_id": str(organization.get("source_id") or organization["name"]),
        **{k: organization.get(k) or "" for k in ("name", "description", "url")},
    }


def _write(db: Database, source: dict, prepared: dict, rejected_ids: set, summary) -> None:
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


def _replace_children(db: Database, resource_id: int, rows: Prepared) -> None:
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


def _log_run(db: Database, source: dict, summary: ImportSummary, now: str) -> None:
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
