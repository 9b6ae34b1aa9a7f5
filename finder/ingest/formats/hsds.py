"""Open Referral HSDS 3, as JSON API objects or a CSV folder: one record per service at a location.

Spec: https://docs.openreferral.org/en/latest/hsds/ (schema/*.json). HSDS 1.x/2.x CSV packages are
read too, nested into the same objects by ``hsds_csv``. Named contacts are never
read (anonymity): a phone that belongs to a contact person is skipped. Helpers shared with
``ohana`` (HSDS's ancestor format) live in ``common``.
"""

import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

from finder.errors import SourceFormatError
from finder.geo.offline import valid_timezone
from finder.ingest.formats import Rejected
from finder.ingest.formats.common import (
    INACTIVE_STATUSES,
    WEEKDAY_NAMES,
    Issues,
    RowError,
    add_language,
    address_fields,
    attendance_fields,
    check_sizes,
    classify,
    clock,
    coordinates,
    organization_of,
    phone_contacts,
    read_json,
    text,
)
from finder.ingest.formats.hsds_csv import read_package
from finder.schedule import settle_end
from finder.vocabulary import accessibility_codes

# ---- HSDS 3 JSON objects (a CSV package is nested into the same shape first: hsds_csv) ----

# An organization nests services, their locations, schedules and phones: deeper than a row.
HSDS_MAX_DEPTH = 12
HSDS_MAX_ITEMS = 10_000
WEEKDAYS = {"SU": 0, "MO": 1, "TU": 2, "WE": 3, "TH": 4, "FR": 5, "SA": 6}
# HSDS 1.x regular_schedule.weekday: a number, ISO 8601's 1 = Monday to 7 = Sunday (spec 1.1.1,
# openreferral/specification#164), or the day's name as HSDS 1.0 shows it ("Monday", "Mon").
NAMED_WEEKDAYS = {name.upper(): day for name, day in WEEKDAY_NAMES.items()}
OLDER_WEEKDAYS = {str(number): number % 7 for number in range(1, 8)} | NAMED_WEEKDAYS
# byday as RFC 5545 writes it ("TH"), or as feeds and HSDS 3.0's example do ("THU", "Thursday").
BYDAY_WEEKDAYS = WEEKDAYS | NAMED_WEEKDAYS
# Recurrence parts our weekly schedules cannot express; ignored with an issue.
IGNORED_RRULE_PARTS = ("byweekno", "bymonthday", "byyearday", "count", "until", "valid_to")
# Lists an object holds under HSDS 3's name, else Open Referral UK's (its API, built on HSDS 1.x:
# service.regular_schedules, service_at_locations[].regular_schedule, location.physical_addresses).
SCHEDULE_KEYS = ("schedules", "regular_schedules", "regular_schedule")
ADDRESS_KEYS = ("addresses", "physical_addresses")
ACCESSIBILITY_KEYS = ("accessibility", "accessibility_for_disabilities")


def parse(path: str | Path) -> Iterator[dict | Rejected]:
    """Yield one record (or Rejected) per service at a location, from HSDS 3 JSON or CSV.

    :param path: a JSON file (organization, service or service_at_location object, a list of
        them, or a page with ``contents``, or Open Referral UK's ``content``), a folder of HSDS
        CSV files with services.csv, or a zip file holding them (a data package, as published
        for download)
    """
    path = Path(path)
    if path.is_dir() or (path.is_file() and zipfile.is_zipfile(path)):
        items = read_package(path)
    elif path.is_file():
        items = _read_json(path)
    else:
        raise SourceFormatError(f"{path}: no such file or folder")
    seen: dict[str, int] = {}
    for row, item in enumerate(items, start=1):
        yield from _item_records(item, row, seen)


def _read_json(path: Path) -> list:
    data = read_json(path)
    for key in ("contents", "content"):  # an HSDS 3 page; Open Referral UK's
        if isinstance(data, dict) and isinstance(data.get(key), list):
            return data[key]
    if isinstance(data, list):
        return data
    if isinstance(data, dict) and _object_kind(data):
        return [data]
    raise SourceFormatError(
        f"{path.name}: not an HSDS organization, service or "
        "service_at_location object, nor a list or page of them"
    )


def _object_kind(item: dict) -> str | None:
    if isinstance(item.get("service"), dict):
        return "service_at_location"
    if isinstance(item.get("services"), list) or any(
        k in item for k in ("website", "legal_status", "year_incorporated", "locations")
    ):
        return "organization"
    if any(k in item for k in ("status", "service_at_locations", "organization")):
        return "service"
    return None


def _item_records(item, row: int, seen: dict[str, int]) -> Iterator[dict | Rejected]:
    try:
        check_sizes(item, max_depth=HSDS_MAX_DEPTH, max_items=HSDS_MAX_ITEMS)
    except RowError as error:
        source_id = text(item.get("id")) if isinstance(item, dict) else ""
        yield Rejected(source_id or None, str(error), row=row, field=error.field)
        return
    if not isinstance(item, dict) or _object_kind(item) is None:
        source_id = text(item.get("id")) if isinstance(item, dict) else ""
        yield Rejected(
            source_id or None, "not an HSDS organization, service or service_at_location", row=row
        )
        return
    for service, sal, org in _units(item):
        try:
            record = _record(service, sal, org)
        except RowError as error:
            source_id = text((sal or service).get("id")) or None
            yield Rejected(source_id, str(error), row=row, field=error.field)
            continue
        if record["source_id"] in seen:
            first = seen[record["source_id"]]
            yield Rejected(
                record["source_id"], f"duplicate id (first at row {first})", row=row, field="id"
            )
            continue
        seen[record["source_id"]] = row
        yield record


def _units(item: dict) -> list[tuple[dict, dict | None, dict | None]]:
    """(service, service_at_location or None, organization) for each record an object holds."""
    kind = _object_kind(item)
    if kind == "service_at_location":
        return [(item["service"], item, item["service"].get("organization"))]
    pairs = (
        [(s, item) for s in item.get("services") or [] if isinstance(s, dict)]
        if kind == "organization"
        else [(item, item.get("organization"))]
    )
    return [
        (service, sal, org)
        for service, org in pairs
        for sal in _dicts(service.get("service_at_locations")) or [None]
    ]


def _dicts(items) -> list[dict]:
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _listed(owner: dict | None, keys: tuple[str, ...]) -> list[dict]:
    """The objects owner lists under the first of keys that has any."""
    return next((found for key in keys if (found := _dicts((owner or {}).get(key)))), [])


def _record(service: dict, sal: dict | None, org: dict | None) -> dict:
    issues: Issues = []
    name = text(service.get("name"))
    if not name:
        raise RowError("name", "service has no name")
    source_id = text((sal or {}).get("id")) or text(service.get("id"))
    if not source_id:
        raise RowError("id", "service has no id")
    place = _sal_location(sal, org, issues)
    location = _location(place, issues) if place else None
    program = service["program"] if isinstance(service.get("program"), dict) else {}
    kind, program_code = classify(
        name,
        " ".join(
            text(v)
            for v in (service.get("description"), program.get("name"), program.get("description"))
        ),
    )
    schedules, timezone, hours = _schedules(
        next((s for o in (sal, service, place) if (s := _listed(o, SCHEDULE_KEYS))), []), issues
    )
    access = accessibility_codes((location or {}).get("accessibility_text", ""))
    return {
        "source_id": source_id,
        "kind": kind,
        "name": name,
        "program": program_code,
        "description": text(service.get("description")),
        **_attendance(service, place, location, issues),
        "location": location,
        "organization": organization_of(org),
        "schedules": schedules,
        "always_open": False,
        "by_appointment": not schedules and "appointment" in hours.lower(),
        "hours_text": hours,
        "timezone": timezone,
        "types": [(code, f"HSDS accessibility: {phrase}") for code, phrase in access],
        "contacts": phone_contacts(_phones(sal, service, place, org), issues),
        "url": text(service.get("url")),
        "updated": _date(service.get("last_modified")),
        "last_verified": _date(service.get("assured_date")),
        "languages": _languages(service, place, issues),
        "service_areas": _service_areas(service.get("service_areas"), issues),
        "issues": issues,
    }


def _sal_location(sal: dict | None, org: dict | None, issues: Issues) -> dict | None:
    if not sal:
        return None
    if isinstance(sal.get("location"), dict):
        return sal["location"]
    wanted = text(sal.get("location_id"))
    for place in _dicts((org or {}).get("locations")):
        if text(place.get("id")) == wanted:
            return place
    issues.append(("repaired", "location", f"location {wanted!r} of the service not found"))
    return None


def _location(place: dict, issues: Issues) -> dict | None:
    place_type = text(place.get("location_type")).lower()
    if place_type == "postal":
        issues.append(("warning", "location", "location is only a postal address; no place"))
    if place_type in ("virtual", "postal"):
        return None
    lat, lon = coordinates(place.get("latitude"), place.get("longitude"), issues)
    access = [
        text(a.get(k))
        for a in _listed(place, ACCESSIBILITY_KEYS)
        for k in ("description", "accessibility", "details")  # 3.x, then 1.x/2.x
    ]
    return {
        "source_id": text(place.get("id")),
        "name": text(place.get("name")),
        **address_fields(_pick_address(_listed(place, ADDRESS_KEYS), issues)),
        "latitude": lat,
        "longitude": lon,
        "approximate": False,
        "transportation": text(place.get("transportation")),
        "accessibility_text": " ".join(a for a in access if a),
    }


def _pick_address(rows: list[dict], issues: Issues) -> dict | None:
    physical = [a for a in rows if text(a.get("address_type")).lower() in ("physical", "")]
    if rows and not physical:
        issues.append(("warning", "location", "only a postal address is given; used as the place"))
    return (physical or rows or [None])[0]


def _schedules(items: list, issues: Issues) -> tuple[list[dict], str | None, str]:
    entries: list[dict] = []
    zones: list[str] = []
    notes: list[str] = []
    for item in _dicts(items):
        zone = _zone(item.get("timezone"), issues)
        if zone and zone not in zones:
            zones.append(zone)
        entries.extend(e for e in _schedule_entries(item, issues) if e not in entries)
        notes.extend(
            t
            for t in (text(item.get("description")), text(item.get("notes")))
            if t and t not in notes
        )
    if len(zones) > 1:
        issues.append(
            ("repaired", "timezone", f"schedules disagree on the zone {zones}; first used")
        )
    entries.sort(key=lambda e: (e["day"], e["time"]))
    return entries, (zones[0] if zones else None), " ".join(notes)


def _schedule_entries(item: dict, issues: Issues) -> list[dict]:
    days = _weekly_days(item, issues)
    if not days:
        return []
    opens = clock(item.get("opens_at"), "opens_at", issues, "that schedule was skipped")
    if opens is None:
        return []
    closes, changed = settle_end(
        opens, clock(item.get("closes_at"), "closes_at", issues, "end time ignored")
    )
    if changed:
        issues.append(("repaired", "closes_at", changed))
    ignored = [k for k in IGNORED_RRULE_PARTS if text(item.get(k))]
    if ignored:
        issues.append(("repaired", "schedules", f"{', '.join(ignored)} ignored; read as weekly"))
    return [{"day": day, "time": opens, "end_time": closes} for day in days]


def _weekly_days(item: dict, issues: Issues) -> list[int]:
    byday, field, days_read = text(item.get("byday")).upper(), "byday", BYDAY_WEEKDAYS
    if not byday and text(item.get("weekday")):  # HSDS 1.x: one day a row
        byday, field, days_read = text(item.get("weekday")).upper(), "weekday", OLDER_WEEKDAYS
    freq, interval = text(item.get("freq")).upper(), text(item.get("interval"))
    if not byday:
        return []
    if freq not in ("WEEKLY", "") or interval not in ("", "1", "1.0"):
        issues.append(
            (
                "repaired",
                "schedules",
                f"{freq} schedule, interval {interval or 1}, kept as text only",
            )
        )
        return []
    days: list[int] = []
    for token in (t for t in re.split(r"[,\s]+", byday) if t):
        day = days_read.get(token)
        if day is None:
            issues.append(("repaired", "schedules", f"{field} {token!r} is not a weekday; ignored"))
        elif day not in days:
            days.append(day)
    return days


def _zone(value, issues: Issues) -> str | None:
    if text(value) == "":
        return None
    zone = valid_timezone(text(value))
    if zone is None:
        issues.append(
            (
                "repaired",
                "timezone",
                f"timezone {text(value)!r} is not an IANA zone "
                "name; ignored (the loader derives the zone from the location)",
            )
        )
    return zone


def _attendance(service: dict, place: dict | None, location: dict | None, issues: Issues) -> dict:
    """attendance and attendance_note: the service status, the location type, else inferred."""
    status = text(service.get("status")).lower()
    if status in INACTIVE_STATUSES:
        issues.append(("warning", "status", f"service status is {status!r}"))
        return attendance_fields("inactive", f"the source's service status {status!r}")
    if place and text(place.get("location_type")).lower() == "virtual":
        return attendance_fields("online", "the source's location_type 'virtual'")
    if location:
        return attendance_fields("in_person", "inferred: the service has a physical location")
    return attendance_fields(None, None)


def _phones(*owners: dict | None) -> list[dict]:
    return [p for owner in owners if isinstance(owner, dict) for p in _dicts(owner.get("phones"))]


def _languages(service: dict, place: dict | None, issues: Issues) -> list[str]:
    found: list[str] = []
    for item in _dicts(service.get("languages")) + _dicts((place or {}).get("languages")):
        value = next(
            (text(item.get(k)) for k in ("code", "name", "language") if text(item.get(k))), ""
        )
        add_language(found, value, "HSDS", issues)
    return found


def _service_areas(items, issues: Issues) -> list[dict]:
    areas: list[dict] = []
    for item in _dicts(items):
        name = text(item.get("name")) or text(item.get("service_area"))  # 3.x, else 1.x/2.x
        description = text(item.get("description"))
        if text(item.get("extent_type")).lower() == "geojson":
            geometry = _geojson(item.get("extent"))
            if geometry:
                areas.append({"kind": "geojson", "name": name, "geometry": geometry})
                continue
            issues.append(
                (
                    "repaired",
                    "service_areas",
                    f"extent of area {name[:40]!r} is not GeoJSON; kept as text",
                )
            )
        if name or description:
            areas.append({"kind": "text", "name": name, "description": description})
    return areas


def _geojson(extent) -> dict | None:
    try:
        value = extent if isinstance(extent, dict) else json.loads(text(extent))
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) and isinstance(value.get("type"), str) else None


def _date(value) -> str | None:
    match = re.match(r"^(\d{4}-\d{2}-\d{2})", text(value))
    return match.group(1) if match else None
