"""A place's week (issues #11 and #12): every listing with weekly times near a place, each group
and place once, with its days and times this week, day by day or nearest first, ready to print;
and the listings of any search as one calendar.

The search is the site's own (``when=week``, see params._week); this module only lays out its
answer: times in the searched place's zone, with a listing's own time and zone where they differ.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_interval, get_timezone_name
from flask import url_for
from markupsafe import Markup
from sqlite_utils import Database
from werkzeug.datastructures import MultiDict

from finder.schedule import MINUTES_PER_WEEK, occurrence
from finder.search.query import GROUPS
from finder.web import i18n
from finder.web.answers import Answer
from finder.web.api import sources
from finder.web.calendar import calendar_of, search_description
from finder.web.listing import fetch_listing
from finder.web.params import ParamError

# What a week's search finds: each listing by its next start (24/7 ones have no weekly times).
TIMED_GROUPS = ("in_progress", "starting_soon", "later")
DAYS_SHOWN = 7
MAX_CALENDAR_LISTINGS = 100  # a calendar file stays small enough for any calendar app
# A results page's "when" choices that a week's list replaces.
NOT_FOR_WEEK = ("when", "day", "time")

SCHEDULES_SQL = """
select resource_id, start_minute, duration_minutes, r.timezone
from schedules s join resources r on r.id = s.resource_id
where resource_id in ({marks}) and r.timezone is not null
order by resource_id, start_minute
"""


@dataclass(frozen=True)
class Time:
    """One meeting time this week: start and end in the searched place's zone, and the start in
    the listing's own zone when its clock differs (None when it does not)."""

    start: datetime
    end: datetime
    own: datetime | None = None


@dataclass
class Entry:
    """A group at a place, once: the nearest of its listings, and all their times this week."""

    item: dict
    ids: list[int]
    times: list[Time] = field(default_factory=list)


@dataclass
class Day:
    date: date
    rows: list[tuple[Time, Entry]]


@dataclass
class Week:
    """A place's week, ready to show: its entries nearest first and its days in order."""

    entries: list[Entry]
    days: list[Day]
    zone: str
    shown: int  # listings in the list
    total: int  # listings the search found (more than shown when the list was cut)
    sources: list[dict]

    @property
    def first(self) -> date:
        return self.days[0].date

    @property
    def last(self) -> date:
        return self.days[-1].date


def week_args(args) -> MultiDict:
    """A results page's parameters as a week's search: when=week, without the day and time of
    the form's other choices; ParamError for another when."""
    given = [value for value in args.getlist("when") if value]
    if any(value != "week" for value in given):
        raise ParamError(
            "This list is of a whole week: leave out when, or give when=week "
            "(for a day and a time, search with when=at)."
        )
    week = MultiDict(args)
    for name in NOT_FOR_WEEK:
        week.poplist(name)
    week["when"] = "week"
    return week


def without_when(args) -> dict[str, list[str]]:
    """The parameters of a search without its when, day and time, nor the form's empty fields
    (its defaults): for a link to its week."""
    kept = {name: [v for v in values if v] for name, values in args.lists()}
    return {name: values for name, values in kept.items() if values and name not in NOT_FOR_WEEK}


def week_of(answer: Answer, db: Database) -> Week:
    """Lay out a when=week answer: the nearest listings (up to the query's limit), grouped, with
    their times from today's midnight in the searched place's zone, for seven days."""
    found, shown = _nearest(answer)
    zone = ZoneInfo(answer.found.zone)
    today = answer.found.query.now.astimezone(zone).date()
    midnight = datetime(today.year, today.month, today.day, tzinfo=zone)
    schedules = _schedules(db, [item["id"] for item in shown])
    entries = _grouped(shown)
    for entry in entries:
        rows = [row for i in entry.ids for row in schedules.get(i, [])]
        entry.times = _times(rows, midnight, zone)
    listed = {item["source"] for item in shown}
    return Week(
        entries=[e for e in entries if e.times],
        days=_days(entries, today),
        zone=answer.found.zone,
        shown=len(shown),
        total=found,
        sources=[s for s in sources() if s["id"] in listed],
    )


def _nearest(answer: Answer) -> tuple[int, list[dict]]:
    """How many listings the search found, and the nearest of them up to its limit (each group
    is cut to the limit on its own: the nearest overall are among them)."""
    items = [item for group in TIMED_GROUPS for item in answer.groups[group]]
    items.sort(key=lambda item: (item["distance_km"], item["id"]))
    total = sum(answer.results.totals[group] for group in TIMED_GROUPS)
    return total, items[: answer.found.query.limit]


def _grouped(items: list[dict]) -> list[Entry]:
    """One entry per group and place (feeds list each weekday of a group on its own), in the
    order of its nearest listing."""
    entries: dict[tuple, Entry] = {}
    for item in items:
        key = (item["name"].casefold(), item["program"], item["address"], item["kind"])
        if key in entries:
            entries[key].ids.append(item["id"])
        else:
            entries[key] = Entry(item, [item["id"]])
    return list(entries.values())


def _schedules(db: Database, ids: list[int]) -> dict[int, list[tuple[int, int, str]]]:
    """Each listing's weekly (start minute, duration, zone)."""
    found: dict[int, list[tuple[int, int, str]]] = {}
    if not ids:
        return found
    for row in db.query(SCHEDULES_SQL.format(marks=", ".join("?" * len(ids))), ids):
        found.setdefault(row["resource_id"], []).append(
            (row["start_minute"], row["duration_minutes"], row["timezone"])
        )
    return found


def _times(rows: list[tuple[int, int, str]], midnight: datetime, zone: ZoneInfo) -> list[Time]:
    """Each weekly time's start in the seven days from midnight (DST-exact, at its own local
    time), once each, in order."""
    end_of_week = midnight + timedelta(days=DAYS_SHOWN)
    starts: dict[datetime, Time] = {}
    for start_minute, duration, own_zone in rows:
        own = ZoneInfo(own_zone)
        # The horizon keeps each start in [midnight, midnight + a week) on the listing's clock.
        start, end = occurrence(start_minute, duration, own, midnight, MINUTES_PER_WEEK - 1)
        if not midnight <= start < end_of_week:
            continue
        local, theirs = start.astimezone(zone), start.astimezone(own)
        different = theirs.utcoffset() != local.utcoffset()
        starts[start] = Time(local, end.astimezone(zone), theirs if different else None)
    return [starts[start] for start in sorted(starts)]


def _days(entries: list[Entry], today: date) -> list[Day]:
    """The week day by day: each day's times in order, nearest first at the same time."""
    days = [Day(today + timedelta(days=n), []) for n in range(DAYS_SHOWN)]
    for rank, entry in enumerate(entries):
        for time in entry.times:
            offset = (time.start.date() - today).days
            if 0 <= offset < DAYS_SHOWN:
                days[offset].rows.append((rank, time, entry))
    for day in days:
        day.rows = [(time, entry) for _, time, entry in sorted(day.rows, key=_by_clock)]
    return days


def _by_clock(row: tuple) -> tuple:
    rank, time, _ = row
    return time.start, rank


def time_text(time: Time) -> Markup:
    """ "7:00 PM", or "8:00 PM (5:00 PM PST)" where the listing keeps another zone's clock."""
    shown = i18n.time_tag(time.start)
    if time.own is None:
        return shown
    return Markup("%s (%s)") % (shown, i18n.time_tag(time.own, zone=True))


def day_heading(day: date) -> str:
    """ "Tuesday, November 24, 2026" / "martes, 24 de noviembre de 2026"."""
    return format_date(day, "full", locale=i18n.format_locale())


def range_text(week: Week) -> str:
    """ "Tue, Nov 24 – Mon, Nov 30, 2026" in the page's language."""
    return format_interval(week.first, week.last, "yMMMEd", locale=i18n.format_locale())


def zone_text(week: Week) -> str:
    """ "Eastern Time" / "hora oriental": the zone the list's times are in."""
    return get_timezone_name(ZoneInfo(week.zone), "long", locale=i18n.format_locale())


def data_as_of(week: Week) -> str | None:
    """The oldest date among the lists this week's listings come from (the data is at least as
    recent as that), or None when no source gives a date."""
    dates = sorted(s["as_of"] for s in week.sources if s["as_of"])
    return dates[0] if dates else None


def calendar_items(answer: Answer) -> tuple[list[dict], int]:
    """The listings with weekly times of a search, for its calendar: in the order shown (a
    week's nearest first), once each, at most MAX_CALENDAR_LISTINGS; and how many it found."""
    if answer.found.query.when == "week":
        total, items = _nearest(answer)
        return items[:MAX_CALENDAR_LISTINGS], total
    seen, timed = set(), []
    for group in GROUPS:
        for item in answer.groups[group]:
            if item["id"] not in seen and item["hours"]["status"] == "weekly":
                seen.add(item["id"])
                timed.append(item)
    return timed[:MAX_CALENDAR_LISTINGS], len(timed)


def search_calendar(answer: Answer, db: Database, now: datetime) -> bytes:
    """A search's calendar: its listings' weekly times (see ``calendar_items``), named by its
    summary, each event and the calendar naming the sources and their licences; raises
    NoWeeklyTimes when none has weekly times."""
    items, found = calendar_items(answer)
    listings = [
        (
            fetch_listing(db, item["id"]),
            url_for("views.resource", resource_id=item["id"], _external=True),
        )
        for item in items
    ]
    listed = {item["source"] for item in items}
    described = [s for s in sources() if s["id"] in listed]
    description = search_description(answer.summary, described, len(items), found)
    return calendar_of(listings, now, answer.summary, description)
