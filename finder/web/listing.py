"""Everything known about one listing, for its detail page and its calendar file."""

import json
import re
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from finder.geo.positions import distance_km
from finder.schedule import MINUTES_PER_WEEK, occurrence
from finder.vocabulary import types

LISTING_SQL = """
select r.*, l.name as location_name, l.formatted_address, l.address, l.city, l.state,
       l.postal_code, l.latitude, l.longitude, l.geocode_precision, l.geocode_source,
       l.geocode_note, l.notes as location_notes, l.transportation, l.accessibility_text,
       o.name as organization_name, o.description as organization_description,
       o.url as organization_url, s.name as source_name, s.short_name as source_short_name,
       s.attribution as source_attribution,
       s.license as source_license, s.url as source_url, s.last_imported,
       s.as_of as source_as_of
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


STALE_AFTER_DAYS = 365  # a listing older than this carries a visible caution (issue #9)


def freshness(
    updated: str | None, last_verified: str | None, as_of: str | None, now: datetime
) -> dict | None:
    """How old a listing is, from the newest date its source gave it, else the list's own date.

    :param updated: when the source last changed the listing (feed field), ISO text
    :param last_verified: when the source last checked it, ISO text
    :param as_of: the date of the source's list we hold ("2025-04-18" or "2026-11")
    :param now: the search's instant (never the import date)
    Returns {"date": "2021-09-14", "basis": "updated" | "verified" | "list", "days": n,
    "stale": bool}, or None when nothing is dated.
    """
    return age(dated_by(updated, last_verified, as_of), now)


def dated_by(
    updated: str | None, last_verified: str | None, as_of: str | None
) -> tuple[date, str] | None:
    """The newest date the source gave a listing and its basis, else the list's own date."""
    dated = [
        (d, basis)
        for d, basis in ((_day(updated), "updated"), (_day(last_verified), "verified"))
        if d
    ]
    if not dated and (day := _day(as_of)):
        dated = [(day, "list")]
    return max(dated) if dated else None


def age(dated: tuple[date, str] | None, now: datetime) -> dict | None:
    """freshness() of a date dated_by() gave (one dict per date and day, shared: never change
    it)."""
    return None if dated is None else _age(dated, now.date())


@lru_cache(maxsize=8192)
def _age(dated: tuple[date, str], today: date) -> dict:
    day, basis = dated
    days = (today - day).days
    return {"date": day.isoformat(), "basis": basis, "days": days, "stale": days > STALE_AFTER_DAYS}


def _day(text: str | None) -> date | None:
    """The date at the start of ISO text ("2021-09-14 06:00:08", "2021-09-14", "2026-11")."""
    text = (text or "").strip()[:10]
    try:
        return date.fromisoformat(text if len(text) == 10 else f"{text}-01")
    except ValueError:
        return None


# Feeds often publish each weekday of a group as its own listing: on a results page they are one
# card per group and place, with all its weekly times (issue #11).
WEEKLY_SQL = """
select r0.id, s.day, s.time
from resources r0
join resources r on r.location_id = r0.location_id and r.name = r0.name and r.status = 'active'
join schedules s on s.resource_id = r.id
where r0.id in ({marks}) and r0.location_id is not null
group by r0.id, s.day, s.time
order by r0.id, s.start_minute
"""


def weekly_times(db: Database, ids: list[int]) -> dict[int, list[tuple[int, str]]]:
    """Each listing's weekly (day, "HH:MM") times together with those of every listing with the
    same name at the same place, in week order (Sunday first)."""
    if not ids:
        return {}
    times: dict[int, list[tuple[int, str]]] = {}
    for row in db.query(WEEKLY_SQL.format(marks=", ".join("?" * len(ids))), ids):
        times.setdefault(row["id"], []).append((row["day"], row["time"]))
    return times


def speaks_spanish(item: dict) -> bool:
    """A meeting held in Spanish (type S), or a service that says it serves in Spanish."""
    return any(t["code"] == "S" for t in item["types"]) or "es" in (item["languages"] or [])


def spanish_first(cards: list[dict]) -> list[dict]:
    """The cards with those in Spanish first, each part in its own order."""
    return sorted(cards, key=lambda card: not speaks_spanish(card))


SAME_PLACE_KM = 0.1  # two sources' geocodes of one street address differ by a few metres
HOUSE_NUMBER = re.compile(r"\s*(\d+[A-Za-z]?)\b")


def one_card_each(items: list[dict], times: dict[int, list]) -> list[dict]:
    """The items as cards: one per meeting group and place (the first, best-ranked, stays, with
    "weekly": its group's times when there is more than one), and one per place listed by two
    sources (the first stays, with "also_listed": the other sources' listings)."""
    seen, cards = set(), []
    for item in items:
        key = (item["name"].casefold(), item["program"], item["address"])
        if item["kind"] == "meeting" and key in seen:
            continue
        seen.add(key)
        same = None
        if item["kind"] != "meeting":  # the comparison below never joins meetings
            same = next((card for card in cards if same_place_elsewhere(card, item)), None)
        if same is not None:
            same["also_listed"].append({"id": item["id"], "source_name": item["source_name"]})
            continue
        weekly = times.get(item["id"], [])
        cards.append({**item, "weekly": weekly if len(weekly) > 1 else [], "also_listed": []})
    return cards


def same_place_elsewhere(card: dict, item: dict) -> bool:
    """Whether item is card's place as another source lists it: not a meeting, the same name,
    the same house number and within SAME_PLACE_KM (a name shared by two buildings of one
    provider, or placed at one ZIP's centre, stays two cards)."""
    if "meeting" in (card["kind"], item["kind"]) or card["kind"] != item["kind"]:
        return False
    if card["source"] == item["source"] or any(
        other["source_name"] == item["source_name"] for other in card.get("also_listed", [])
    ):
        return False
    if card["name"].casefold() != item["name"].casefold():
        return False
    numbers = [_house_number(card["address"]), _house_number(item["address"])]
    if None in numbers or numbers[0] != numbers[1]:
        return False
    points = [card["latitude"], card["longitude"], item["latitude"], item["longitude"]]
    return None not in points and distance_km(*points) <= SAME_PLACE_KM


def _house_number(address: str | None) -> str | None:
    match = HOUSE_NUMBER.match(address or "")
    return match.group(1).casefold() if match else None
