"""Weekly schedules as iCalendar files: one weekly event per meeting time, in the listing's own
time zone (with its VTIMEZONE), so calendars keep it at local time across DST. Each event names
its source and licence; a search's calendar says which sources it holds and when it was cut."""

from collections.abc import Callable
from datetime import date, datetime, timedelta

from flask import Response, abort
from icalendar import Calendar, Event, vText

from finder.errors import NoWeeklyTimes
from finder.web.listing import next_times

PRODID = "-//Recovery Support Finder//EN"


def calendar_response(build: Callable[[], bytes], filename: str, nothing: str) -> Response:
    """An .ics download of what ``build`` makes, or a 404 saying ``nothing`` when it raises
    NoWeeklyTimes (none of its listings has weekly times).

    :param filename: the name the browser saves it under, like "search.ics"
    :param nothing: the translated message of the 404
    """
    try:
        body = build()
    except NoWeeklyTimes:
        abort(404, description=nothing)
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def listing_calendar(listing: dict, now: datetime, page_url: str) -> bytes:
    """The .ics file for a listing with weekly times; raises NoWeeklyTimes when it has none."""
    return calendar_of([(listing, page_url)], now)


def calendar_of(
    listings: list[tuple[dict, str]],
    now: datetime,
    name: str | None = None,
    description: str | None = None,
) -> bytes:
    """The .ics file of several listings (a referral sheet, a search), each with its page's URL;
    raises NoWeeklyTimes when none has weekly times.

    :param name: the calendar's name, as calendar apps show it
    :param description: what it holds, with the sources' licences
    """
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if name:  # RFC 7986's NAME, and the X-WR-CALNAME most calendar apps read
        calendar.add("name", name)
        calendar.add("x-wr-calname", vText(name))
    if description:
        calendar.add("description", description)
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
    lines.append(licence_text(listing["source_license"], listing["source_attribution"]))
    return "\n".join(lines)


def licence_text(licence: str | None, attribution: str | None) -> str:
    """ "Licence: CC BY 4.0. Credit: ..." as the source asks (its terms travel with its data)."""
    text = f"Licence: {licence or 'as published by the source'}."
    return f"{text} Credit: {attribution}" if attribution else text


def search_description(summary: str, sources: list[dict], shown: int, found: int) -> str:
    """A search calendar's description: what was searched, how much it holds, and each source
    with its licence and credit."""
    lines = [f"Recovery Support Finder: {summary}."]
    if found > shown:
        lines.append(f"The first {shown} of {found} listings found; narrow the search for others.")
    for source in sources:
        dated = f" (list dated {source['as_of']})" if source["as_of"] else ""
        lines.append(
            f"{source['name']}{dated}. " + licence_text(source["license"], source["attribution"])
        )
    return "\n".join(lines)
