"""Ohana API CSV (Code for America's format, the direct ancestor of Open Referral HSDS 1.x).

One record per location: a location is a place a person can go (a community or senior center,
a clinic, a library branch), which is what the search is about. The services offered there are
listed by name under ``services``. contacts.csv (named staff) is never read, and phones that belong
to a contact person are skipped. Ohana has no time zone field; the loader derives it.
"""

import re
from collections.abc import Iterator
from pathlib import Path

from finder.errors import SourceFormatError
from finder.ingest.formats import Rejected
from finder.ingest.formats.common import (
    INACTIVE_STATUSES,
    WEEKDAY_NAMES,
    Issues,
    RowError,
    add_language,
    address_fields,
    attendance_fields,
    classify,
    clock,
    coordinates,
    group_by,
    organization_of,
    phone_contacts,
    read_csv_table,
    text,
)

# The Ohana accessibility enum (ohana-api app/models/location.rb; labels: config/locales/en.yml).
ACCESSIBILITY = {
    "wheelchair": "X",  # "Wheelchair"
    "restroom": "XB",  # "Disabled Restroom"
    "disabled_parking": "PARKING",  # "Disabled Parking"
    "ramp": "RAMP",
    "elevator": "ELEVATOR",
    "tape_braille": "BRAILLE",  # "Information on tape or in Braille"
    "deaf_interpreter": "ASL",  # "Interpreter for the deaf"
    "tty": None,  # "TTY": kept as text; a TTY number, if any, is a contact
    "wheelchair_van": None,  # "Wheelchair-accessible van": no code yet
    "cd": None,  # "Information on CD": no code
}
# Files read, with the columns each must have; the first two must exist.
FILES = {
    "organizations.csv": ("id", "name"),
    "locations.csv": ("id", "organization_id", "name"),
    "addresses.csv": ("location_id",),
    "services.csv": ("id", "location_id", "name"),
    "phones.csv": ("number",),
    "regular_schedules.csv": ("weekday", "opens_at", "closes_at"),
}
REQUIRED_FILES = ("organizations.csv", "locations.csv")
_TEST_ENTRY = re.compile(
    r"\bNOT A REAL (ENTRY|SERVICE|ORGANI[SZ]ATION)\b|\bFOR TEST+ING PURPOSES\b"
    r"|\bcreated for testing purposes\b",
    re.I,
)
_LIST_SPLIT = re.compile(r",(?![^()]*\))")  # commas outside parentheses: "Chinese (Hakka, Min)"


def parse(folder: str | Path) -> Iterator[dict | Rejected]:
    """Yield one record (or Rejected) per location of an Ohana CSV folder.

    :param folder: folder with organizations.csv and locations.csv, and optionally addresses.csv,
        services.csv, phones.csv and regular_schedules.csv
    """
    tables = _read_tables(Path(folder))
    index = _index(tables)
    seen: dict[str, int] = {}
    for row, location in enumerate(tables["locations.csv"], start=1):
        try:
            record = _record(location, index)
        except RowError as error:
            yield Rejected(text(location.get("id")) or None, str(error), row=row, field=error.field)
            continue
        if record["source_id"] in seen:
            first = seen[record["source_id"]]
            yield Rejected(
                record["source_id"],
                f"duplicate location id (first at row {first})",
                row=row,
                field="id",
            )
            continue
        seen[record["source_id"]] = row
        yield record


def _read_tables(folder: Path) -> dict[str, list[dict]]:
    for name in REQUIRED_FILES:
        if not (folder / name).is_file():
            raise SourceFormatError(f"{folder.name}/{name}: missing; an Ohana CSV folder needs it")
    return {
        name: read_csv_table(folder / name, columns)
        for name, columns in FILES.items()
        if (folder / name).is_file()
    }


def _index(tables: dict[str, list[dict]]) -> dict[str, dict]:
    phones = tables.get("phones.csv", [])
    hours = tables.get("regular_schedules.csv", [])
    return {
        "organizations": {text(r.get("id")): r for r in tables["organizations.csv"]},
        "addresses": group_by(tables.get("addresses.csv", []), "location_id"),
        "services": group_by(tables.get("services.csv", []), "location_id"),
        "location_phones": group_by(phones, "location_id"),
        "service_phones": group_by(phones, "service_id"),
        "organization_phones": group_by(phones, "organization_id"),
        "location_hours": group_by(hours, "location_id"),
        "service_hours": group_by(hours, "service_id"),
    }


def _record(row: dict, index: dict) -> dict:
    issues: Issues = []
    source_id, name = text(row.get("id")), text(row.get("name"))
    if not source_id:
        raise RowError("id", "location has no id")
    if not name:
        raise RowError("name", "location has no name")
    services = index["services"].get(source_id, [])
    organization = _organization(row, index, issues)
    summary, description = text(row.get("short_desc")), text(row.get("description"))
    service_names = [text(s.get("name")) for s in services if text(s.get("name"))]
    kind, program = classify(name, " ".join([summary, description, *service_names]))
    org_description = (organization or {}).get("description") or ""
    test_entry = bool(_TEST_ENTRY.search(f"{summary} {description} {org_description}"))
    if test_entry:
        issues.append(("warning", "description", "the source marks this entry as test data"))
    location = _location(row, index["addresses"].get(source_id, []), issues)
    schedules, unread = _schedules(source_id, services, index, issues)
    return {
        "source_id": source_id,
        "kind": kind,
        "name": name,
        "program": program,
        "description": description or summary,
        **_attendance(row, services, issues),
        "location": location,
        "organization": organization,
        "schedules": schedules,
        "test_entry": test_entry,
        "always_open": False,
        "by_appointment": False,
        "timezone": None,
        # Free-text hours of older Ohana exports, and any hours that could not be read as times.
        "hours_text": "; ".join(filter(None, [text(row.get("hours")), *unread])),
        "types": _types(row.get("accessibility"), issues),
        "contacts": phone_contacts(
            _phones(source_id, services, organization, index),
            issues,
            kind_key="number_type",
            description_key="department",
        ),
        "url": text(row.get("website")) or (organization or {}).get("url", ""),
        "updated": None,
        "last_verified": None,
        "languages": _languages(row, services, issues),
        "languages_text": text(row.get("languages")),  # names keep Mandarin vs Cantonese
        "service_areas": _service_areas(services, location),
        "services": service_names,
        "issues": issues,
    }


def _organization(row: dict, index: dict, issues: Issues) -> dict | None:
    org_id = text(row.get("organization_id"))
    found = index["organizations"].get(org_id)
    if found is None:
        issues.append(("repaired", "organization", f"organization {org_id!r} is not listed"))
    return organization_of(found)


def _location(row: dict, addresses: list[dict], issues: Issues) -> dict | None:
    lat, lon = coordinates(row.get("latitude"), row.get("longitude"), issues)
    if text(row.get("virtual")).lower() == "true" and not addresses and lat is None:
        return None  # Ohana's "virtual" location: no physical place
    if len(addresses) > 1:
        issues.append(("repaired", "location", f"{len(addresses)} addresses; the first is used"))
    return {
        "source_id": text(row.get("id")),
        "name": text(row.get("name")),
        **address_fields(addresses[0] if addresses else None),
        "latitude": lat,
        "longitude": lon,
        "approximate": False,
        "transportation": text(row.get("transportation")),
        "accessibility_text": text(row.get("accessibility")),
    }


def _attendance(row: dict, services: list[dict], issues: Issues) -> dict:
    """attendance and attendance_note: inactive when every service here is, else by the flag."""
    statuses = {text(s.get("status")).lower() for s in services}
    if statuses and statuses <= INACTIVE_STATUSES:
        states = " or ".join(sorted(statuses))
        issues.append(("warning", "status", f"all services here are {states}"))
        return attendance_fields("inactive", f"the source's service status: {states}")
    if text(row.get("virtual")).lower() == "true":
        return attendance_fields("online", "the source's location flag virtual = true")
    return attendance_fields("in_person", "the source's location flag virtual is not set")


def _types(value, issues: Issues) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for raw in (t.strip() for t in text(value).split(",")):
        key = re.sub(r"[\s-]+", "_", raw.lower())
        if key and key not in ACCESSIBILITY:
            issues.append(
                ("repaired", "types", f"accessibility {raw!r} is not an Ohana value; kept as text")
            )
        elif key and ACCESSIBILITY[key] and ACCESSIBILITY[key] not in {c for c, _ in found}:
            found.append((ACCESSIBILITY[key], f"Ohana accessibility: {raw}"))
    return found


def _schedules(
    location_id: str, services: list[dict], index: dict, issues: Issues
) -> tuple[list[dict], list[str]]:
    own = index["location_hours"].get(location_id, [])
    of_services = [r for s in services for r in index["service_hours"].get(text(s.get("id")), [])]
    if own and of_services:
        issues.append(
            (
                "repaired",
                "schedules",
                f"{len(of_services)} service-specific hours kept out of the location's own hours",
            )
        )
    elif of_services:
        issues.append(("repaired", "schedules", "the location has no hours; its services' used"))
    return _weekly(own or of_services, issues)


def _weekly(rows: list[dict], issues: Issues) -> tuple[list[dict], list[str]]:
    """Weekly opening hours, and the rows that could not be read, as the source wrote them.

    An opening needs a readable start and end: a missing, unreadable or earlier closing time is
    kept as text ("Monday 9am-03:00"), never turned into a one-hour slot (issue #9).
    """
    entries: list[dict] = []
    unread: list[str] = []
    for row in rows:
        weekday = text(row.get("weekday"))
        written = " ".join(filter(None, [weekday, _span(row)]))
        day = WEEKDAY_NAMES.get(weekday.lower())
        if day is None:
            issues.append(
                ("repaired", "schedules", f"weekday {weekday!r} is not a day; kept as text")
            )
            unread.append(written)
            continue
        opens = clock(row.get("opens_at"), "opens_at", issues, f"{weekday} kept as text")
        closes = clock(row.get("closes_at"), "closes_at", issues, f"{weekday} kept as text")
        if opens and closes and closes < opens and closes != "00:00":
            # Ohana hours are typed by hand ('9am', '03:00'); a close before the open is a typo more
            # often than an overnight opening, so neither is guessed.
            raw_open, raw_close = text(row.get("opens_at")), text(row.get("closes_at"))
            written_times = f"closes {raw_close!r} before it opens {raw_open!r}"
            issues.append(("repaired", "closes_at", f"{weekday} {written_times}; kept as text"))
            closes = None
        elif opens and not closes and not text(row.get("closes_at")):
            issues.append(("repaired", "closes_at", f"{weekday} has no closing time; kept as text"))
        if opens is None or closes is None:
            unread.append(written)
            continue
        entry = {"day": day, "time": opens, "end_time": closes}
        if entry not in entries:
            entries.append(entry)
    return sorted(entries, key=lambda e: (e["day"], e["time"])), unread


def _span(row: dict) -> str:
    """ "9am-03:00" as written in the row (either end may be missing)."""
    opens, closes = text(row.get("opens_at")), text(row.get("closes_at"))
    return f"{opens}-{closes}" if opens and closes else opens or closes


def _phones(
    location_id: str, services: list[dict], organization: dict | None, index: dict
) -> list[dict]:
    rows = list(index["location_phones"].get(location_id, []))
    for service in services:
        rows += index["service_phones"].get(text(service.get("id")), [])
    if organization:
        rows += index["organization_phones"].get(organization["source_id"], [])
    return rows


def _languages(row: dict, services: list[dict], issues: Issues) -> list[str]:
    found: list[str] = []
    for value in [row.get("languages"), *(s.get("languages") for s in services)]:
        for name in _LIST_SPLIT.split(text(value)):
            add_language(found, name, "Ohana", issues)
    return found


def _service_areas(services: list[dict], location: dict | None) -> list[dict]:
    state = (location or {}).get("state") or None
    areas: list[dict] = []
    for service in services:
        for name in (n.strip() for n in text(service.get("service_areas")).split(",")):
            kind = "county" if re.search(r"\bcounty$", name, re.I) else "place"
            area = {"kind": kind, "name": name, "state": state}
            if name and area not in areas:
                areas.append(area)
    return areas
