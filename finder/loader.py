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

from geopy.geocoders.base import Geocoder
from sqlite_utils import Database

from .geo import (
    Geocode,
    country_of,
    normalise_postcode,
    normalise_state,
    resolve_position,
    timezone_for,
)
from .importers import Rejected
from .schedule import schedule_row
from .vocabulary import ATTENDANCE, KINDS
from .writer import write


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
                family = _reason_family(issue["reason"])
                reasons[family] += 1
                examples.setdefault(family, issue["reason"])
        return [(r, n, examples[r]) for r, n in reasons.most_common(limit)]


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
        write(db, source, prepared, rejected_ids, summary)
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
                "feedback_url",
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
    row["country"] = country_of(location) or ""
    row["postal_code"] = (
        normalise_postcode(location.get("postal_code"), row["country"] or None) or ""
    )
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
    lat = lon = state = postal = country = None
    if location is not None:
        lat, lon = location["latitude"], location["longitude"]
        if lat is None:  # an online meeting's area still tells its zone
            lat, lon = _floats(*location["_raw_latlon"])
        state, postal = location["state"] or None, location["postal_code"] or None
        country = location["country"] or None
    zone, how = timezone_for(stated, lat, lon, state, postal, country)
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
