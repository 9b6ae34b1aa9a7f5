"""A place's week (issues #11 and #12): /week lists each group near a place once with its days
and times this week, day by day or nearest first, with the search's filters, in the place's zone
(with a listing's own clock where it differs), titled with the place, filters, dates and data's
age, and the crisis lines below; /search?when=week and the results page lead to it."""

import re
import shutil
import sqlite3
from datetime import datetime
from html import unescape
from zoneinfo import ZoneInfo

import pytest

from finder import create_app
from finder.schedule import MINUTES_PER_DAY
from finder.web.week import _times

NOW = "2026-11-24T19:00:00-05:00"  # a Tuesday evening in Philadelphia
NY, CHICAGO, LA = (
    ZoneInfo(z) for z in ("America/New_York", "America/Chicago", "America/Los_Angeles")
)


@pytest.fixture(scope="module")
def site(philadelphia_db):
    app = create_app({"TESTING": True, "DATABASE": str(philadelphia_db), "FROZEN_NOW": NOW})
    return app.test_client()


def text_of(html: str) -> str:
    """The text a person reads: inline tags leave nothing, others a space."""
    inline = re.sub(r"</?(?:a|time|abbr|span|strong)\b[^>]*>", "", html)
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", inline)))


def main_of(response) -> str:
    """The list itself: from the page's heading to the end of its own footer."""
    html = response.get_data(as_text=True)
    return html[html.index("<article") : html.index("</article>")]


def cards(html: str) -> list[str]:
    """The nearest-first view's entries, as text."""
    return [text_of(c).strip() for c in re.findall(r"<li>\s*<h3>(.*?)</li>", html, re.S)]


def test_each_group_once_with_all_its_times(site):
    """Nuevo Camino lists each weekday as its own listing (five of them): one entry, five times,
    from today on, each on its weekday."""
    response = site.get("/week?q=19103&type=S&order=nearest")
    assert response.status_code == 200
    entries = cards(main_of(response))
    names_and_places = [entry.split(" · ")[0] for entry in entries]
    assert len(names_and_places) == len(set(names_and_places)), "a group is listed twice"
    camino = [e for e in entries if e.startswith("Nuevo Camino ")]
    assert len(camino) == 1
    assert camino[0].endswith(
        "Wednesday 7:00 PM · Thursday 7:00 PM · Saturday 7:00 PM · Sunday 10:00 AM · Monday 7:00 PM"
    )
    assert "1924 S 7th St" in camino[0] and "2 miles" in camino[0]


def test_day_by_day_from_today_for_seven_days(site):
    page = main_of(site.get("/week?q=19103&type=S"))
    days = re.findall(r'<h2 id="day-\d">(.*?)</h2>', page)
    assert days == [
        f"{day}, November {date}, 2026"
        for day, date in zip(
            ("Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "Monday"),
            range(24, 31),
            strict=True,
        )
    ]
    sections = re.split(r'<h2 id="day-\d">', page)[1:]
    sunday = text_of(sections[5])
    assert "10:00 AM Nuevo Camino, 1924 S 7th St" in sunday
    for section in sections:  # each day in clock order
        clocks = re.findall(r'<time datetime="([^"]+)"', section)
        assert clocks == sorted(clocks)
        assert all(c.startswith(f"2026-11-{int(sections.index(section)) + 24:02d}") for c in clocks)


def test_the_title_states_place_filters_dates_and_age(site):
    page = text_of(main_of(site.get("/week?q=19103&type=W"))).strip()
    assert page.startswith(
        "This week: In-person support with weekly times within 10 miles of ZIP 19103, women "
        "Tue, Nov 24 – Mon, Nov 30, 2026 · Times are Eastern Time. · Data as of April 18, 2025."
    )
    title = re.search(r"<title>(.*?)</title>", site.get("/week?q=19103&type=W").get_data(True))
    assert "ZIP 19103, women, Tue, Nov 24 – Mon, Nov 30, 2026" in text_of(title.group(1))


def test_the_crisis_lines_and_the_sources_licence_are_in_the_lists_footer(site):
    footer = text_of(main_of(site.get("/week?q=19103")).split('<footer class="week-foot">')[1])
    assert "In crisis? 988 Suicide & Crisis Lifeline, any time: call or text 988" in footer
    assert "SAMHSA National Helpline: 1-800-662-4357" in footer
    assert "Source: Southeastern Pennsylvania Intergroup Association (AA)" in footer
    assert "Licence: Published meeting list" in footer


def listed_ids(site, query: str) -> set[int]:
    page = site.get(f"/week?{query}&order=nearest").get_data(as_text=True)
    return {int(i) for i in re.findall(r'<h3><a href="/resource/(\d+)"', page)}


@pytest.mark.parametrize(
    "query, rule",
    [
        ("type=S", "select resource_id from resource_types where code = 'S'"),
        ("type=W", "select resource_id from resource_types where code = 'W'"),
        ("type=X", "select resource_id from resource_types where code = 'X'"),
        ("not=C", "select id from resources where id not in "
                  "(select resource_id from resource_types where code = 'C')"),
        ("attendance=in_person", "select id from resources where attendance != 'online'"),
        ("program=AA", "select id from resources where program = 'AA'"),
    ],
)  # fmt: skip
def test_filters_apply_as_in_every_search(site, philadelphia_db, query, rule):
    ids = listed_ids(site, f"q=19103&{query}")
    assert ids
    with sqlite3.connect(philadelphia_db) as db:
        allowed = {row[0] for row in db.execute(rule)}
    assert ids <= allowed


def test_a_filter_lists_fewer(site):
    assert len(listed_ids(site, "q=19103&type=S")) < len(listed_ids(site, "q=19103"))


def test_a_cut_list_says_so(site):
    page = text_of(main_of(site.get("/week?q=19103&limit=20")))
    found = re.search(r"This list holds the nearest 20 of the (\d+) listings found", page)
    assert found and int(found.group(1)) > 20


def test_online_only_meetings_are_not_in_a_places_week(site, philadelphia_db):
    with sqlite3.connect(philadelphia_db) as db:
        online = {
            row[0] for row in db.execute("select id from resources where attendance = 'online'")
        }
    assert online and not listed_ids(site, "q=19103") & online


@pytest.mark.parametrize(
    "query, message",
    [
        ("type=S", "when=week lists what meets near a place each week: give a place"),
        ("q=19103&attendance=online", "online meetings have none"),
        ("q=19103&when=now", "This list is of a whole week: leave out when, or give when=week"),
        ("q=Atlantis%2C+XX", "We could not find"),
    ],
)
def test_unusable_weeks_are_400_with_the_reason(site, query, message):
    response = site.get(f"/week?{query}")
    assert response.status_code == 400
    assert message in unescape(response.get_data(as_text=True))


def test_the_forms_this_week_leads_to_the_week(site):
    """The form sends its day and time whatever is chosen: the week leaves them out."""
    response = site.get("/search?q=19103&when=week&day=monday&time=18:00&type=S")
    assert response.status_code == 302
    assert response.headers["Location"] == "/week?q=19103&type=S"
    page = site.get("/week?q=19103&type=S").get_data(as_text=True)
    assert '<input type="radio" name="when" value="week" checked>' in page


def test_the_results_link_to_their_week(site):
    page = site.get("/search?q=19103&type=W&when=today").get_data(as_text=True)
    assert '<a href="/week?q=19103&amp;type=W">See this week\'s list for this place' in page
    assert "See this week" not in site.get("/search?attendance=online").get_data(as_text=True)


def test_spanish(site):
    page = text_of(main_of(site.get("/week?q=19103&type=S&lang=es")))
    assert "Esta semana: Apoyo en persona con horarios semanales" in page
    assert "mar, 24 de nov – lun, 30 de nov de 2026" in page
    assert "domingo, 29 de noviembre de 2026" in page
    assert "en español, llame y marque 2" in page


def test_the_api_answers_a_week(site):
    answer = site.get("/api/v1/search?q=19103&when=week&type=S").get_json()
    assert answer["summary"].startswith("In-person support with weekly times within 10 miles")
    items = [i for g in ("in_progress", "starting_soon", "later") for i in answer["groups"][g]]
    assert items and all(i["attendance"] != "online" for i in items)
    assert [i["distance_km"] for i in answer["groups"]["later"]] == sorted(
        i["distance_km"] for i in answer["groups"]["later"]
    )
    starts = [datetime.fromisoformat(i["start"]) for i in items]
    now = datetime.fromisoformat(NOW)
    assert all(0 <= (s - now).total_seconds() < 7 * 86400 + 3600 for s in starts)


def test_a_listing_on_another_zones_clock(philadelphia_db, tmp_path):
    """A group keeping Chicago's clock: its time in Philadelphia's zone, and its own after it."""
    path = tmp_path / "finder.db"
    shutil.copy(philadelphia_db, path)
    with sqlite3.connect(path) as db:
        db.execute("update resources set timezone = 'America/Chicago' where name = 'Nuevo Camino'")
    app = create_app({"TESTING": True, "DATABASE": str(path), "FROZEN_NOW": NOW})
    page = main_of(app.test_client().get("/week?q=19103&type=S"))
    sunday = text_of(re.split(r'<h2 id="day-\d">', page)[6])
    assert "11:00 AM (10:00 AM CST) Nuevo Camino" in sunday


def start(day: int, clock: str) -> int:
    hours, minutes = clock.split(":")
    return day * MINUTES_PER_DAY + int(hours) * 60 + int(minutes)


# The week from a place's midnight: each weekly time once, at its own wall-clock time, in the
# place's zone; across the autumn change (Sunday 1 November 2026, 02:00 back to 01:00 in New
# York) and with listings on other zones' clocks.
@pytest.mark.parametrize(
    "midnight, rows, expected",
    [
        (
            datetime(2026, 11, 24, tzinfo=NY),
            [(start(2, "07:15"), 60, "America/New_York")],  # a Tuesday meeting, today
            [("2026-11-24T07:15:00-05:00", None)],
        ),
        (
            datetime(2026, 10, 31, tzinfo=NY),
            [
                (start(0, "01:30"), 60, "America/New_York"),  # happens twice: the first
                (start(1, "19:00"), 60, "America/New_York"),
            ],
            [("2026-11-01T01:30:00-04:00", None), ("2026-11-02T19:00:00-05:00", None)],
        ),
        (
            datetime(2026, 11, 24, tzinfo=NY),
            [(start(3, "16:00"), 90, "America/Los_Angeles")],
            [("2026-11-25T19:00:00-05:00", "2026-11-25T16:00:00-08:00")],
        ),
        (
            datetime(2026, 11, 24, tzinfo=NY),  # Monday 22:30 in LA is Tuesday 01:30 here
            [(start(1, "22:30"), 60, "America/Los_Angeles")],
            [("2026-11-24T01:30:00-05:00", "2026-11-23T22:30:00-08:00")],
        ),
        (
            datetime(2026, 11, 24, tzinfo=NY),  # the same time twice (two listings): once
            [(start(4, "19:00"), 60, "America/New_York")] * 2,
            [("2026-11-26T19:00:00-05:00", None)],
        ),
    ],
)
def test_times_of_a_week(midnight, rows, expected):
    found = _times(rows, midnight, NY)
    shown = [(t.start.isoformat(), t.own.isoformat() if t.own else None) for t in found]
    assert shown == expected
    assert all(t.start.tzinfo == NY for t in found)


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 11, 24, 19, 0, tzinfo=NY),
        datetime(2026, 11, 24, 19, 10, tzinfo=NY),  # ten minutes into the 7 PM meetings
        datetime(2026, 3, 7, 23, 30, tzinfo=NY),  # clocks spring forward tonight
        datetime(2026, 10, 31, 22, 0, tzinfo=NY),  # and fall back
    ],
)
def test_a_weeks_search_finds_every_listing_with_weekly_times_once(philadelphia_db, now):
    """The core's week: exactly the in-person and hybrid listings with weekly times within the
    radius (as an any-time search and the schedules table say), each once, as the naive scan."""
    from dataclasses import replace

    from finder.search.engine import search
    from finder.search.index import SearchIndex
    from finder.search.naive import search_naive
    from finder.search.query import Query
    from finder.store import connect

    with connect(str(philadelphia_db)) as db:
        index = SearchIndex.from_db(db)
        scheduled = {row["resource_id"] for row in db.query("select resource_id from schedules")}
    week = Query(
        now=now,
        latitude=39.9522,
        longitude=-75.1639,
        when="week",
        attendance=frozenset({"in_person", "hybrid"}),
        order="nearest",
        limit=5000,
        widen=False,
    )
    found = search(index, week)
    ids = [
        h.resource_id for g in ("in_progress", "starting_soon", "later") for h in found.groups[g]
    ]
    anytime = search(index, replace(week, when="any"))
    expected = {h.resource_id for h in anytime.groups["nearby"]} & scheduled
    assert len(ids) == len(set(ids)) and set(ids) == expected and len(expected) > 400
    assert found.ids() == search_naive(index, week, found.radius_km).ids()
    assert all(
        0 <= h.minutes_until_start + 1 < 7 * 24 * 60 + 1
        for g in found.groups.values()
        for h in g
        if h.minutes_until_start is not None
    )
