"""The site's pages over real imported feeds: content, languages, weight and privacy headers.

Browser behaviour (axe, keyboard, geolocation, the map) is in test_site_browser.py.
"""

import re

import pytest
from icalendar import Calendar

from finder import ROOT


@pytest.fixture
def site(tuesday_evening):
    return tuesday_evening


def text_of(response) -> str:
    return response.get_data(as_text=True)


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
    assert "Tue 7:00\u202fPM EST, starting now, ends in 1 hr" in page
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
    assert "En curso ahora" in page and "mar 7:00\u202fp.m. EST, empieza ahora" in page
    assert "Llame o envíe un mensaje de texto al" in page  # the crisis banner


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
