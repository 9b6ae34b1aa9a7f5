"""A listing's weekly schedule as an iCalendar file: one weekly event per meeting time, in the
listing's own time zone (with its VTIMEZONE), so calendars keep it at local time across DST."""

from datetime import date, datetime, timedelta

from icalendar import Calendar, Event

from finder.errors import NoWeeklyTimes
from finder.web.listing import next_times

PRODID = "-//Recovery Support Finder//EN"


def listing_calendar(listing: dict, now: datetime, page_url: str) -> bytes:
    """The .ics file for a listing with weekly times; raises NoWeeklyTimes when it has none."""
    return calendar_of([(listing, page_url)], now)


def calendar_of(listings: list[tuple[dict, str]], now: datetime) -> bytes:
    """The .ics file of several listings (a referral sheet), each with its page's URL; raises
    NoWeeklyTimes when none has weekly times."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    for listing, page_url in listings:
        for start, end in next_times(listing, now):
            calendar.add_component(_event(listing, start, end, now, page_url))
    if not calendar.subcomponents:
        raise NoWeeklyTimes(", ".join(listing.get("name", "") for listing, _ in listings))
    calendar.add_missing_timezones(first_date=date(now.year - 1, 1, 1))
    return calendar.to_ical()


def _event(listing: dict, start: datetime, end: datetime, now: datetime, page_url: str) -> Event:
    event = Event()
    event.add("uid", f"{listing['id']}-{start:%a%H%M}@recovery-support-finder")
    event.add("dtstamp", now)
    event.add("summary", listing["name"])
    event.add("dtstart", start)
    event.add("duration", timedelta(seconds=(end - start).total_seconds()))
    event.add("rrule", {"freq": "weekly"})
    where = _place(listing)
    if where:
        event.add("location", where)
    event.add("url", listing["conference_url"] or page_url)
    event.add("description", _description(listing, page_url))
    return event


def _place(listing: dict) -> str:
    if listing["attendance"] == "online":
        return listing["conference_url"] or ""
    parts = [listing["location_name"], listing["formatted_address"] or listing["address"]]
    return ", ".join(p for p in parts if p)


def _description(listing: dict, page_url: str) -> str:
    lines = []
    if listing["conference_url"]:
        lines.append(f"Join: {listing['conference_url']}")
    if listing["conference_phone"]:
        lines.append(f"By phone: {listing['conference_phone']}")
    lines.append(f"Details and changes: {page_url}")
    lines.append(f"Listed by: {listing['source_name']}")
    return "\n".join(lines)
