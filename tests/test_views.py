"""The site's pages over real imported feeds: content, languages, weight and privacy headers.

Browser behaviour (axe, keyboard, geolocation, the map) is in test_site_browser.py.
"""

import re

import pytest
from icalendar import Calendar

from finder.paths import ROOT


@pytest.fixture
def site(tuesday_evening):
    return tuesday_evening


def text_of(response) -> str:
    return response.get_data(as_text=True)


def words_of(response) -> str:
    """What a reader sees: the page's text without its tags."""
    return re.sub(r"<[^>]+>", "", text_of(response))


def first_meeting_id(site, query="q=19103") -> int:
    found = site.get(f"/api/search?{query}").get_json()
    return next(items[0]["id"] for items in found["groups"].values() if items)


def test_about_lists_kinds_and_sources(import_bundled, client):
    import_bundled("sussexaa")
    import_bundled("national-lines")
    page = text_of(client.get("/about"))
    assert "Meeting: 123" in page and "/api/search?q=" in page
    assert "Sussex County, Delaware (AA)" in page
    assert 'href="tel:988"' in page


def test_imported_html_is_shown_as_text(import_bundled, db, client):
    import_bundled("sussexaa")
    with db.atomic():
        db.execute("update sources set name = '<script>alert(1)</script>' where id = 'sussexaa'")
    page = text_of(client.get("/about"))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_home_asks_one_question_with_quick_choices(site):
    page = text_of(site.get("/"))
    assert '<label for="q">ZIP code, city and state, or address</label>' in page
    for choice in ("Now or soon", "Today", "Any time", "In person", "Online", "Wheelchair Access"):
        assert choice in page
    assert 'action="/search"' in page and 'method="get"' in page
    # "Use my location" exists only once JavaScript reveals it.
    assert re.search(r'<div class="actions locate" hidden>', page)


def test_results_are_grouped_and_complete_without_javascript(site):
    page = text_of(site.get("/search?q=19103&type=X"))
    assert "within 10 miles of ZIP 19103, with wheelchair access" in page
    assert "In progress now" in page and "Starting soon" in page and "Online now" in page
    # In the searcher's zone, which is the meeting's: no zone to read (issue #11).
    assert "Tonight 7:00\u202fPM, starting now, ends in 1 hr" in re.sub(r"<[^>]+>", "", page)
    assert '<time datetime="2026-11-24T19:00:00-05:00">7:00\u202fPM</time>' in page
    assert re.search(r"starts in \d+ min", page)
    assert "Accessibility: Wheelchair Access" in page
    assert re.search(r"\d+\.\d miles away", page)
    assert 'value="19103"' in page and 'value="X" checked' in page
    assert re.search(r'href="/resource/\d+"', page)


def test_a_chosen_day_and_time_names_its_groups_for_that_time(site):
    page = text_of(site.get("/search?q=19103&when=at&day=wednesday&time=18:00"))
    assert "on Wednesday from 6:00\u202fPM" in page
    assert "In progress at that time" in page and "Later that day" in page
    assert "In progress now" not in page


def test_online_lines_show_their_numbers(site):
    page = text_of(site.get("/search?attendance=online"))
    assert "988 Suicide &amp; Crisis Lifeline" in page
    assert 'href="tel:988"' in page


def test_no_results_suggests_what_to_widen(site):
    response = site.get("/search?q=19103&type=ASL&type=LOOP&attendance=in_person")
    page = text_of(response)
    assert response.status_code == 200
    assert "Nothing found for this search" in page
    assert re.search(r"Search within \d+ miles", page) and "Show listings at any time" in page
    assert "Remove the filters" in page and 'href="/lines"' in page


def test_bad_place_is_announced_and_keeps_what_was_typed(site):
    response = site.get("/search?q=%3Cscript%3Ealert(1)%3C/script%3E")
    page = text_of(response)
    assert response.status_code == 400
    assert 'role="alert"' in page and 'aria-invalid="true"' in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<title>Error:" in page


def test_spanish_from_accept_language(site):
    response = site.get("/search?q=19103", headers={"Accept-Language": "es-MX,es;q=0.9"})
    page = text_of(response)
    assert '<html lang="es">' in page
    assert (
        "Apoyo en curso o que empiezan en las próximas 2 horas a menos de 10 millas del código "
        "postal 19103" in page
    )
    assert "En curso ahora" in page
    assert "Esta noche 7:00\u202fp.m., empieza ahora" in re.sub(r"<[^>]+>", "", page)
    # The crisis bar gives 988's Spanish option (988lifeline.org: press 2, or text AYUDA).
    assert "Llamar al 988" in page and "llame y marque 2, o envíe AYUDA" in page
    assert 'href="sms:988?&amp;body=AYUDA"' in page


@pytest.mark.parametrize(
    "accept_language, shown",
    [
        ("es-MX,es;q=0.9", "es"),
        ("es", "es"),
        ("fr-FR,fr;q=0.9,es;q=0.5,en;q=0.1", "es"),  # the first one we have, by weight
        ("en;q=0.2,es;q=0.8", "es"),
        ("en-GB", "en"),
        ("fr, de", "en"),  # none we have: English
        ("", "en"),
        (";;;q=x, es;q=nonsense", "en"),  # unreadable weights are not trusted
    ],
)
def test_the_browser_language_picks_the_page_language(site, accept_language, shown):
    page = text_of(site.get("/lines", headers={"Accept-Language": accept_language}))
    assert f'<html lang="{shown}">' in page


def test_language_switch_keeps_the_search_and_wins_over_the_browser(site):
    page = text_of(site.get("/search?q=19103&when=today", headers={"Accept-Language": "es"}))
    switch = re.search(r'<a href="([^"]+)" lang="en" hreflang="en">English</a>', page).group(1)
    assert switch == "/search?q=19103&amp;when=today&amp;lang=en"
    english = text_of(site.get(switch.replace("&amp;", "&"), headers={"Accept-Language": "es"}))
    assert '<html lang="en">' in english and "in progress now or later today" in english
    # The choice travels with links and the form, without a cookie.
    assert 'href="/lines?lang=en"' in english and 'name="lang" value="en"' in english


def test_errors_are_translated(site):
    page = text_of(site.get("/search?q=zzzz&lang=es"))
    assert "No encontramos “zzzz”" in page
    page = text_of(site.get("/search?q=19103&radius=9999&lang=es"))
    assert "radius debe ser un número entre 0.1 y 311 mi." in page


def test_detail_page_says_everything_known(site):
    meeting = first_meeting_id(site)
    page = text_of(site.get(f"/resource/{meeting}"))
    assert "What to expect" in page and "You do not have to speak" in page
    assert "https://www.openstreetmap.org/directions?to=" in page
    assert f'href="/resource/{meeting}.ics"' in page
    assert "Southeastern Pennsylvania Intergroup Association (AA)" in page  # the source
    assert "License" in page and "Updated by the source" in page
    assert f'href="/resource/{meeting}/report"' in page
    assert "Tuesday, 7:00\u202fPM to 8:00\u202fPM EST" in page


def test_detail_page_explains_types_and_cites_accessibility_claims(site, db):
    row = next(
        db.query(
            "select r.id from resources r join resource_types o on o.resource_id = r.id "
            "and o.code = 'O' join resource_types x on x.resource_id = r.id and x.code = 'X' "
            "where r.source = 'aasepia' limit 1"
        )
    )
    page = text_of(site.get(f"/resource/{row['id']}"))
    assert "Open: anyone is welcome" in page
    assert "Wheelchair Access" in page and "the source says: “Meeting Guide type X”" in page
    spanish = text_of(site.get(f"/resource/{row['id']}?lang=es"))
    assert "Abierta: todos son bienvenidos" in spanish and "Acceso en silla de ruedas" in spanish


def test_calendar_file_repeats_weekly_in_the_meeting_zone(site):
    meeting = first_meeting_id(site)
    response = site.get(f"/resource/{meeting}.ics")
    assert response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    event = calendar.walk("VEVENT")[0]
    start = event.decoded("dtstart")
    assert str(start.tzinfo) == "America/New_York" and (start.hour, start.minute) == (19, 0)
    assert start.strftime("%A") == "Tuesday"
    assert event["rrule"]["FREQ"] == ["WEEKLY"]
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["America/New_York"]
    assert f"/resource/{meeting}" in event["description"]


def test_lines_without_weekly_times_have_no_calendar(site, db):
    line = next(db.query("select id from resources where kind = 'crisis_line' limit 1"))["id"]
    assert site.get(f"/resource/{line}.ics").status_code == 404


def test_report_link_goes_to_the_source_correction_form(site, db):
    meeting = first_meeting_id(site)
    feedback = next(db.query("select feedback_url from resources where id = ?", [meeting]))
    page = text_of(site.get(f"/resource/{meeting}/report"))
    assert feedback["feedback_url"].startswith("https://")
    assert f'href="{feedback["feedback_url"]}"' in page


def test_lines_page_lists_24_7_support_with_numbers(site):
    page = text_of(site.get("/lines"))
    assert "988 Suicide &amp; Crisis Lifeline" in page and 'href="tel:988"' in page
    assert "Open 24/7" in page and "call 911" in page
    assert 'href="sms:988"' in page  # text lines open the phone's messages app
    assert '<a href="sms:741741?&amp;body=HOME">Text HOME to 741741</a>' in page


def section_of(page: str, heading: str) -> str:
    """The text of the lines page's section under heading."""
    start = page.index(f">{heading}</h2>")
    end = page.find("</section>", start)
    return page[start:end]


def test_lines_page_groups_lines_by_what_they_are_for(site):
    page = text_of(site.get("/lines"))
    headings = re.findall(r"<h2 id=\"section-\d\">([^<]+)</h2>", page)
    assert headings == [
        "Crisis: call or text any time",
        "For families and friends",
        "Helplines: information and referral",
        "Talk to a peer",
        "Online meetings and forums",
    ]
    assert "The Trevor Project" in section_of(page, "Crisis: call or text any time")
    assert "Al-Anon Electronic Meetings" in section_of(page, "For families and friends")
    assert "Al-Anon" not in section_of(page, "Online meetings and forums")
    assert "California Peer-Run Warm Line" in section_of(page, "Talk to a peer")
    helplines = section_of(page, "Helplines: information and referral")
    assert "SAMHSA National Helpline" in helplines and "also in Spanish" in helplines


def test_spanish_pages_mark_the_sources_english_words(site):
    lines = text_of(site.get("/lines?lang=es"))
    assert '<a href="sms:741741?&amp;body=HOME" lang="en">Text HOME to 741741</a>' in lines
    assert '<p class="written" lang="en">Crisis support for LGBTQ+ young people.</p>' in lines
    assert '<h2 id="section-1">Crisis: llame o envíe un mensaje' in lines
    listing = text_of(site.get(f"/resource/{first_meeting_id(site)}?lang=es"))
    assert re.search(r'<h1 lang="en">[^<]+</h1>', listing)
    english = text_of(site.get(f"/resource/{first_meeting_id(site)}"))
    assert "<h1>" in english and 'lang="en"' not in english.split("<main")[1]


def test_privacy_page_says_what_is_and_is_not_kept(site):
    page = text_of(site.get("/privacy"))
    assert "We do not store the places you type" in page
    assert "tile.openstreetmap.org" in page  # the only third party, and only on the map


def test_unknown_pages_are_pages_and_api_errors_stay_json(site):
    response = site.get("/resource/999999999", headers={"Accept-Language": "es"})
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "No hay ningún anuncio con ese número." in text_of(response)
    for path in ("/resource/99999999999999999999999", "/resource/99999999999999999999999.ics"):
        assert site.get(path).status_code == 404  # beyond SQLite's integers: not a 500
    api = site.get("/api/nothing")
    assert api.status_code == 404 and api.get_json()["ok"] is False


@pytest.mark.parametrize(
    "path",
    ["/", "/search?q=19103", "/map?q=19103", "/lines", "/privacy", "/about", "/nowhere"],
)
def test_pages_set_no_cookies_and_load_nothing_from_elsewhere(site, path):
    response = site.get(path)
    page = text_of(response)
    assert "Set-Cookie" not in response.headers
    assert response.headers["Referrer-Policy"] == "no-referrer"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert not re.search(r'<(script|link|img|iframe)[^>]+(src|href)="(https?:)?//', page)
    assert "<style" not in page and " style=" not in page


def test_only_the_map_page_allows_tiles(site):
    assert "tile.openstreetmap.org" in site.get("/map?q=19103").headers["Content-Security-Policy"]
    assert (
        "tile.openstreetmap.org"
        not in site.get("/search?q=19103").headers["Content-Security-Policy"]
    )


def test_map_page_pins_in_person_results_and_keeps_the_list(site):
    page = text_of(site.get("/map?q=19103"))
    pins = re.findall(r'data-lat="(-?\d+\.\d+)" data-lon="(-?\d+\.\d+)"', page)
    assert len(pins) >= 10
    assert all(39.5 < float(lat) < 40.5 and -76 < float(lon) < -74.5 for lat, lon in pins)
    assert "vendor/leaflet/leaflet.js" in page
    assert "vendor/leaflet/leaflet.js" not in text_of(site.get("/search?q=19103"))


def test_results_page_of_25_items_is_under_60_kb(site):
    response = site.get("/search?q=19103&when=any&limit=25")
    page = text_of(response)
    items = len(re.findall(r'<li data-lat=|<li id="r', page))
    css = (ROOT / "static" / "site.css").read_bytes()
    assert items >= 25
    assert len(response.data) + len(css) < 60_000, len(response.data) + len(css)
    assert "<script src" in page and page.count("<script") == 1  # only "use my location"


def test_more_results_link_when_a_group_is_cut(site):
    page = text_of(site.get("/search?q=19103&when=any&limit=5"))
    assert "Show more results" in page and "limit=30" in page


# Issue #9, section 6: never state what is not known.


@pytest.fixture
def treatment_and_centers(db_path, import_bundled):
    """Real SAMHSA opioid treatment programs and San Mateo community services, any time."""
    import_bundled("samhsa-otp")
    import_bundled("san-mateo")
    from finder import create_app

    app = create_app(
        {"TESTING": True, "DATABASE": str(db_path), "FROZEN_NOW": "2026-11-24T19:00:00-05:00"}
    )
    return app.test_client()


@pytest.mark.parametrize(
    "lang, unknown, always",
    [
        ("en", "Hours not published — call first", "Open 24/7"),
        ("es", "Horario no publicado — llame antes de ir", "Abierto 24/7"),
    ],
)
def test_treatment_without_hours_is_never_open_24_7(treatment_and_centers, lang, unknown, always):
    query = f"q=19103&when=any&kind=treatment&limit=5&lang={lang}"
    page = text_of(treatment_and_centers.get(f"/search?{query}"))
    assert page.count(unknown) == 5
    assert always not in page
    # SAMHSA's list gives no phone or website: say so, and where to look them up.
    assert page.count('<a href="https://findtreatment.gov/" rel="noopener noreferrer">') == 5
    answer = treatment_and_centers.get(f"/api/search?{query}").get_json()
    items = [i for group in answer["groups"].values() for i in group]
    assert items and all(i["hours"] == {"status": "unknown", "text": None} for i in items)


def test_garbled_source_hours_are_shown_as_text_not_as_an_hour(treatment_and_centers, db):
    # Ohana regular_schedules row 13: Fair Oaks Adult Activity Center, Monday "9am" to "03:00".
    (row,) = db.query("select id from resources where name = 'Fair Oaks Adult Activity Center'")
    assert not list(db.query("select * from schedules where resource_id = ?", [row["id"]]))
    detail = words_of(treatment_and_centers.get(f"/resource/{row['id']}"))
    assert "“Monday 9am-03:00”" in detail and "could not be read as times" in detail
    assert "Monday, 9:00" not in detail and "Add to calendar" not in detail
    found = text_of(treatment_and_centers.get("/search?q=94063&when=any&kind=center&limit=50"))
    assert "Hours as the source wrote them: “Monday 9am-03:00” — call first" in found


def test_a_listing_over_a_year_old_carries_a_caution(site):
    page = text_of(site.get("/search?q=19103&kind=meeting&limit=5"))
    listed = re.findall(
        r"Listed by SEPIA · "
        r"updated (\w{3} \d{4})",
        page,
    )
    assert len(listed) >= 5 and all(int(m[-4:]) <= 2023 for m in listed)
    assert "<strong>Over a year old:</strong> check with them before you go." in page
    assert 'href="/about#freshness">Why?</a>' in page
    meeting = first_meeting_id(site, "q=19103&kind=meeting")
    detail = text_of(site.get(f"/resource/{meeting}"))
    assert "Listed by SEPIA · updated" in detail and "Over a year old:" in detail
    # The 24/7 lines are dated by their list (November 2026): no caution.
    lines = site.get("/api/search?attendance=online&limit=50").get_json()["groups"]["open_now"]
    assert lines and all(i["listed"]["basis"] == "list" and not i["listed"]["stale"] for i in lines)


def test_age_is_counted_from_the_searchs_now_not_the_import(db_path, import_bundled):
    import_bundled("aasepia")
    from finder import create_app

    then = create_app(
        {"TESTING": True, "DATABASE": str(db_path), "FROZEN_NOW": "2022-11-01T19:00:00-04:00"}
    ).test_client()
    found = then.get("/api/search?q=19103&when=any&kind=meeting&limit=50").get_json()
    listed = {i["listed"]["date"]: i["listed"] for g in found["groups"].values() for i in g}
    assert any(not d["stale"] for d in listed.values()), "updated in 2022: fresh in 2022"
    assert all(d["stale"] == (d["days"] > 365) for d in listed.values())


@pytest.mark.parametrize(
    "updated, verified, as_of, expected",
    [
        ("2021-09-14 06:00:08", None, "2025-04-18", ("2021-09-14", "updated", True)),
        (None, "2026-10-01", "2021-01-01", ("2026-10-01", "verified", False)),
        ("2020-01-01", "2026-10-01", None, ("2026-10-01", "verified", False)),
        (None, None, "2026-11", ("2026-11-01", "list", False)),
        (None, None, "2025-11-23", ("2025-11-23", "list", True)),
        (None, None, "2025-11-24", ("2025-11-24", "list", False)),
        ("not a date", None, None, None),
    ],
)
def test_freshness_table(updated, verified, as_of, expected):
    from datetime import datetime

    from finder.web.listing import freshness

    now = datetime.fromisoformat("2026-11-24T19:00:00-05:00")
    found = freshness(updated, verified, as_of, now)
    assert (found and (found["date"], found["basis"], found["stale"])) == expected


def test_about_shows_each_lists_own_date_not_the_import_date(import_bundled, client):
    from datetime import UTC, datetime

    from babel.dates import format_date

    import_bundled("aasfmarin")
    import_bundled("national-lines")
    page = text_of(client.get("/about"))
    assert "List dated" in page and "Imported" not in page
    assert "October 30, 2021" in page and "Nov 2026" in page
    assert format_date(datetime.now(UTC).date(), "long", locale="en_US") not in page
    assert 'id="freshness"' in page and "more than 365 days old" in page


@pytest.mark.parametrize("lang", ["en", "es"])
def test_outside_coverage_says_so_first_and_links_the_national_finders(site, lang):
    page = text_of(site.get(f"/search?q=80202&lang={lang}")).replace("&#39;", "'")
    heading = {
        "en": "We don't have local meeting lists for Colorado yet",
        "es": "Todavía no tenemos listas locales de reuniones para Colorado",
    }[lang]
    first = page.index(heading)
    # Right under the heading (the summary, issue #11), before the form and any result.
    assert page.index('id="summary"') < first < page.index("<form"), "said before anything else"
    finders = re.findall(r'<a href="(https://[^"]+)" rel="noopener noreferrer">', page[first:])
    assert finders[:5] == [
        "https://www.aa.org/find-aa",
        "https://www.na.org/meetingsearch/",
        "https://al-anon.org/al-anon-meetings/find-an-al-anon-meeting/",
        "https://meetings.smartrecovery.org/meetings/",
        "https://findtreatment.gov/",
    ]
    assert "widened" not in page and "ampliado" not in page
    # Online meetings and 24/7 lines are still there, below.
    assert 'id="group-online_now"' in page and 'id="group-open_now"' in page


def test_inside_coverage_has_no_such_note(site):
    page = text_of(site.get("/search?q=19103")).replace("&#39;", "'")
    assert "don't have local meeting lists" not in page
    assert "Local meeting lists here: Alcoholics Anonymous" in page


def test_every_bundled_source_is_dated_as_its_attribution_says(registry):
    for source in registry.values():
        assert source["as_of"], f"{source['id']} has no as_of"
        if stated := re.search(r"\((\d{4}-\d{2}-\d{2}) snapshot\)", source["attribution"]):
            assert source["as_of"] == stated.group(1), source["id"]


@pytest.mark.parametrize("as_of", ['"last year"', '"2021-13-01"', "2021"])
def test_a_source_date_must_be_a_day_or_a_month(tmp_path, as_of):
    from finder.errors import SourceFormatError
    from finder.ingest.registry import read_registry

    registry = tmp_path / "sources.toml"
    registry.write_text(
        f'[[source]]\nid = "x"\nname = "X"\nformat = "bmlt"\npath = "x.json"\nas_of = {as_of}\n'
    )
    with pytest.raises(SourceFormatError, match="expected YYYY-MM-DD or YYYY-MM"):
        read_registry(registry)


def test_a_covered_state_with_no_meeting_near_says_so_for_this_area(site):
    # Pennsylvania has local AA lists (SE Pennsylvania), but none reaches Pittsburgh.
    page = text_of(site.get("/search?q=15222")).replace("&#39;", "'")
    first = page.index("We don't have local meeting lists for this area yet")
    assert page.index('id="summary"') < first < page.index("<form")
    assert 'href="https://www.aa.org/find-aa"' in page[first:]


# Issue #11: times without arithmetic, in the searcher's zone, with relative days.
TUESDAY_7PM = "2026-11-24T19:00:00-05:00"


def timed(start: str, zone: str, until: float, length: float = 60) -> dict:
    return {
        "start": start,
        "timezone": zone,
        "minutes_until_start": until,
        "minutes_until_end": until + length,
    }


def searcher(zone: str | None, when: str = "now"):
    from datetime import datetime
    from types import SimpleNamespace

    query = SimpleNamespace(now=datetime.fromisoformat(TUESDAY_7PM), when=when)
    return SimpleNamespace(zone=zone, query=query)


NY, LA = "America/New_York", "America/Los_Angeles"


@pytest.mark.parametrize(
    "item, found, expected",
    [
        (
            timed("2026-11-24T19:00:00-05:00", NY, 0),
            searcher(NY),
            "Tonight 7:00 PM, starting now, ends in 1 hr",
        ),
        # An online meeting on Pacific time, read in Philadelphia: your time first, then theirs.
        (
            timed("2026-11-24T17:15:00-08:00", LA, 75),
            searcher(NY),
            "Tonight 8:15 PM your time · 5:15 PM PST, starts in 1 hr 15 min",
        ),
        (
            timed("2026-11-24T18:30:00-05:00", NY, -30),
            searcher(NY),
            "Tonight 6:30 PM, started 30 min ago, ends in 30 min",
        ),
        # A chosen day and time gives start and end, never "starting now".
        (
            timed("2026-11-25T10:00:00-05:00", NY, 0),
            searcher(NY, "at"),
            "Tomorrow 10:00 AM, until 11:00 AM",
        ),
        (
            timed("2026-11-28T19:00:00-05:00", NY, 0, 90),
            searcher(NY, "at"),
            "Sat, Nov 28 7:00 PM, until 8:30 PM",
        ),
        (
            timed("2026-11-24T13:00:00-05:00", NY, 0),
            searcher(NY, "at"),
            "Today 1:00 PM, until 2:00 PM",
        ),
        # No place searched, so no zone of the searcher's: the meeting's own, named.
        (timed("2026-11-24T19:00:00-05:00", NY, 5), None, "Tonight 7:00 PM EST, starts in 5 min"),
    ],
)
def test_times_read_in_the_searchers_zone_with_relative_days(app, item, found, expected):
    from finder.web.i18n import when_text

    with app.test_request_context("/search"):
        shown = when_text(item, found)
    assert re.sub(r"<[^>]+>", "", str(shown)).replace("\u202f", " ") == expected
    assert f'<time datetime="{datetime_of(item)}">' in str(shown)


def datetime_of(item: dict) -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(item["start"]).astimezone(ZoneInfo(item["timezone"])).isoformat()


@pytest.mark.parametrize(
    "args, widen",
    [
        ({"q": "19601"}, True),
        ({"q": "19601", "radius": ""}, True),
        ({"q": "19601", "radius": "10"}, False),
        ({"q": "19601", "radius": "5", "widen": "yes"}, True),
        ({"q": "19601", "widen": "no"}, False),
    ],
)
def test_only_the_default_radius_widens(args, widen):
    from datetime import datetime

    from finder.geo.offline import OfflineGeocoder
    from finder.web.params import parse_search

    found = parse_search(args, OfflineGeocoder(), datetime.fromisoformat(TUESDAY_7PM))
    assert found.query.widen is widen


def test_a_chosen_radius_is_kept_and_the_form_shows_the_summarys_radius(site):
    # Reading, PA: little within 10 miles, so the default radius widens, and the form says so.
    page = text_of(site.get("/search?q=19601"))
    assert "within 40 miles of ZIP 19601 (widened from 10 miles" in page
    assert '<option value="" selected>Automatic: 40 miles</option>' in page
    chosen = text_of(site.get("/search?q=19601&radius=10"))
    assert "within 10 miles of ZIP 19601" in chosen and "widened" not in chosen
    assert '<option value="10" selected>10 miles</option>' in chosen


def test_the_form_offers_days_from_today_in_the_searchers_zone(site):
    page = text_of(site.get("/search?q=19103&when=at&day=thursday&time=20:00"))
    days = re.findall(r'<option value="(\w+day)"( selected)?>([^<]+)</option>', page)
    assert [label for _, _, label in days[:3]] == [
        "Today (Tuesday)",
        "Tomorrow (Wednesday)",
        "Thursday",
    ]
    assert [value for value, selected, _ in days if selected] == ["thursday"]
    assert 'name="time" type="time" value="20:00"' in page
    assert 'value="at" checked' in page
    assert "starting now" not in page


def test_meetings_over_before_you_could_get_there_are_last_and_say_why(site):
    # Reading, PA, widened to 40 miles at 7 PM: many meetings in progress are far away.
    found = site.get("/api/search?q=19601").get_json()["groups"]["in_progress"]
    in_person = [item for item in found if item["attendance"] == "in_person"]
    late = [item for item in in_person if not item["reach"]["in_time"]]
    assert late, "some in-person meetings are too far to reach in time"
    flags = [item.get("reach", {}).get("in_time", True) for item in found]
    assert flags == sorted(flags, reverse=True), "every reachable meeting comes first"
    for item in late:  # ends before you would be there with 10 minutes of it left
        assert item["minutes_until_end"] - item["reach"]["travel_minutes"] < 10.5
    page = words_of(site.get("/search?q=19601"))
    miles = f"{late[0]['distance_mi']:.1f} miles away is about"
    assert f"Ending soon: {miles}" in page


def test_starting_soon_is_ranked_by_when_you_could_arrive(site):
    found = site.get("/api/search?q=19103").get_json()["groups"]["starting_soon"]
    arrivals = [(item["reach"]["arrive_minutes"], item["distance_km"]) for item in found]
    assert len(arrivals) > 3 and arrivals == sorted(arrivals)


def cards_of(page: str, group: str) -> list[str]:
    section = page.split(f'id="group-{group}"')[1].split("</section>")[0]
    return section.split("<li")[1:]


def test_one_card_per_meeting_group_and_place_with_all_its_weekly_times(site):
    # SE Pennsylvania publishes each weekday of a group as its own listing.
    page = text_of(site.get("/search?q=19103&when=any&limit=100"))
    cards = cards_of(page, "nearby")
    names = [
        (
            re.search(r'href="/resource/\d+">([^<]+)</a>', c).group(1),
            re.search(r"<p>(\d+[^<]*, PA[^<]*)</p>", c),
        )
        for c in cards
    ]
    places = [(name, address.group(1)) for name, address in names if address]
    assert len(places) > 20 and len(places) == len(set(places)), "one card per group and place"
    weekly = [re.sub(r"<[^>]+>", "", c) for c in cards if "Every week:" in c]
    assert weekly and any(re.search(r"Every week: Sun [^·]+ · Mon", c) for c in weekly)


def test_online_now_shows_the_next_few_and_links_to_all(site):
    page = text_of(site.get("/search?q=19103"))
    assert len(cards_of(page, "online_now")) == 3
    link = re.search(r'<a href="([^"]+)">Show all (\d+) online meetings</a>', page)
    assert link and int(link.group(2)) > 3
    every = text_of(site.get(link.group(1).replace("&amp;", "&")))
    assert "attendance=online" in link.group(1)
    assert len(cards_of(every, "online_now")) > 3


@pytest.mark.parametrize(
    "dial, shown",
    [
        ("+13017158592,,3267796359#,,#,,#", "Call (301) 715-8592, meeting ID 326 779 6359"),
        ("+19292056099,,85128522363,#,,#,,#", "Call (929) 205-6099, meeting ID 851 2852 2363"),
        ("+13017158592,,876406386#,,1#,526452#", "Call (301) 715-8592, meeting ID 876 406 386"),
        ("215-555-1234", "Call (215) 555-1234"),
        ("+442071234567,,123#", "+442071234567,,123#"),  # not a US number: as the source wrote it
    ],
)
def test_dial_in_reads_as_a_number_and_a_meeting_id(app, dial, shown):
    from finder.web.i18n import dial_in_text

    with app.test_request_context("/search"):
        assert dial_in_text(dial) == shown


def test_dial_in_links_and_source_language_on_the_page(site):
    page = text_of(site.get("/search?q=19103&lang=es"))
    # English feed names on a Spanish page say so (WCAG 3.1.2).
    assert re.search(r'<h3><a href="/resource/\d+\?lang=es" lang="en">', page)
    online = text_of(site.get("/search?attendance=online"))
    link = re.search(
        r'<a href="tel:(\+1\d{10},,[^"]+)">Call \(\d{3}\) \d{3}-\d{4}, meeting ID [\d ]+<', online
    )
    assert link, "the whole dial string stays in the href; the text is a number and an ID"


def test_a_zone_shown_is_expanded_for_screen_readers(app):
    from finder.web.i18n import when_text

    item = timed("2026-11-24T17:15:00-08:00", LA, 75)
    with app.test_request_context("/search"):
        shown = str(when_text(item, searcher(NY)))
    assert '5:15\u202fPM <abbr title="Pacific Standard Time">PST</abbr></time>' in shown
    with app.test_request_context("/search?lang=es"):
        shown = str(when_text(item, searcher(NY)))
    assert '<abbr title="hora estándar del Pacífico">PST</abbr>' in shown
    summer = timed("2026-07-14T17:15:00-07:00", LA, 75)  # the same zone's other name
    with app.test_request_context("/search"):
        shown = str(when_text(summer, None))
    assert '<abbr title="Pacific Daylight Time">PDT</abbr>' in shown


def test_spanish_pages_put_meetings_in_spanish_first_with_a_one_tap_filter(site):
    search = "/search?q=19140&when=any&limit=40"
    spanish = text_of(site.get(search + "&lang=es"))
    link = re.search(r'<a href="([^"]+)">Ver solo reuniones en español</a>', spanish)
    assert link and "type=S" in link.group(1).replace("&amp;", "&")
    first_group = spanish.split('<ol class="results">')[1].split("</ol>")[0]
    cards = re.findall(r'<li[^>]* id="r(\d+)">', first_group)
    api = site.get("/api/search?q=19140&when=any&limit=40&lang=es").get_json()
    spoken = {
        item["id"]
        for items in api["groups"].values()
        for item in items
        if any(t["code"] == "S" for t in item["types"]) or "es" in item["languages"]
    }
    flags = [int(card) in spoken for card in cards]
    assert True in flags and False in flags
    assert flags == sorted(flags, reverse=True)  # every Spanish card before the others
    only = text_of(site.get(link.group(1).replace("&amp;", "&")))
    assert "Ver solo reuniones en español" not in only
    assert "Ver solo reuniones en español" not in text_of(site.get(search))
