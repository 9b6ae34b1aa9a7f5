"""Everything known about one listing, for its detail page and its calendar file."""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from .schedule import MINUTES_PER_WEEK, occurrence
from .vocabulary import types

LISTING_SQL = """
select r.*, l.name as location_name, l.formatted_address, l.address, l.city, l.state,
       l.postal_code, l.latitude, l.longitude, l.geocode_precision, l.geocode_source,
       l.geocode_note, l.notes as location_notes, l.transportation, l.accessibility_text,
       o.name as organization_name, o.description as organization_description,
       o.url as organization_url, s.name as source_name, s.attribution as source_attribution,
       s.license as source_license, s.url as source_url, s.last_imported
from resources r
left join locations l on l.id = r.location_id
left join organizations o on o.id = r.organization_id
left join sources s on s.id = r.source
where r.id = ?
"""


def fetch_listing(db: Database, resource_id: int) -> dict | None:
    """The listing with its schedules, contacts, types (each with its source's claim) and areas."""
    if not 0 < resource_id < 2**63:  # beyond SQLite's integers: no such listing
        return None
    rows = list(db.query(LISTING_SQL, [resource_id]))
    if not rows:
        return None
    listing = rows[0]
    listing["schedules"] = list(
        db.query(
            "select day, time, end_time, start_minute, duration_minutes from schedules "
            "where resource_id = ? order by start_minute",
            [resource_id],
        )
    )
    listing["contacts"] = list(
        db.query(
            "select kind, value, extension, description from contacts "
            "where resource_id = ? order by id",
            [resource_id],
        )
    )
    vocab = types()
    listing["types"] = [
        {**vocab.get(row["code"], {"category": "format", "en": row["code"]}), **row}
        for row in db.query(
            "select code, claim from resource_types where resource_id = ? order by code",
            [resource_id],
        )
    ]
    listing["service_areas"] = list(
        db.query(
            "select kind, code, name, state, description from service_areas "
            "where resource_id = ? order by id",
            [resource_id],
        )
    )
    listing["languages"] = json.loads(listing["languages"] or "[]")
    return listing


def next_times(listing: dict, now: datetime) -> list[tuple[datetime, datetime]]:
    """The coming occurrence of each weekly schedule, soonest first, in the listing's zone."""
    if not listing["schedules"] or not listing["timezone"]:
        return []
    zone = ZoneInfo(listing["timezone"])
    times = []
    for schedule in listing["schedules"]:
        start, end = occurrence(
            schedule["start_minute"], schedule["duration_minutes"], zone, now, MINUTES_PER_WEEK
        )
        times.append((start.astimezone(zone), end.astimezone(zone)))
    return sorted(times)


def is_approximate(listing: dict) -> bool:
    """Whether the pin is a ZIP/city centre or was moved, rather than the stated address."""
    return listing["latitude"] is not None and listing["geocode_precision"] != "rooftop"
