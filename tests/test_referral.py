"""Referral sheets (issue #12): picked from results with a plain GET form, one page with what a
person needs, in the language chosen on the sheet, shared by link and QR code, no patient data."""

import re
import shutil
from html import unescape

import numpy
import pytest
import segno
import zxingcpp

from finder import create_app
from finder.ingest.registry import import_source
from finder.store import connect, init_db

NOW = "2026-11-24T19:00:00-05:00"  # a Tuesday evening in Philadelphia


@pytest.fixture(scope="module")
def site(philadelphia_db):
    app = create_app({"TESTING": True, "DATABASE": str(philadelphia_db), "FROZEN_NOW": NOW})
    return app.test_client()


@pytest.fixture(scope="module")
def picked(site):
    """Three meetings in progress near ZIP 19103 and the 988 line, as the API finds them."""
    meetings = site.get("/api/v1/search?q=19103&kind=meeting&limit=3").get_json()
    lines = site.get("/api/v1/search?attendance=online&kind=crisis_line").get_json()
    crisis = next(h for h in lines["groups"]["open_now"] if h["name"].startswith("988"))
    return [*meetings["groups"]["in_progress"], crisis]


def text_of(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def test_results_have_boxes_of_one_get_form(site):
    page = site.get("/search?q=19103").get_data(as_text=True)
    assert '<form id="referral" class="referral" action="/referral" method="get">' in page
    boxes = re.findall(r'<input type="checkbox" name="id" value="(\d+)" form="referral">', page)
    assert len(boxes) >= 10
    assert "Make a referral sheet" in page


def test_a_detail_page_links_to_a_sheet(site, picked):
    page = site.get(f"/resource/{picked[0]['id']}").get_data(as_text=True)
    assert f'href="/referral?id={picked[0]["id"]}"' in page


def test_the_sheet_has_what_a_person_needs(site, picked):
    ids = "&".join(f"id={h['id']}" for h in picked)
    response = site.get(f"/referral?{ids}")
    assert response.status_code == 200
    text = text_of(response.get_data(as_text=True))
    first = picked[0]
    assert first["name"] in text
    assert "Alcoholics Anonymous · Meeting · In person" in text
    assert "Tuesday, 7:00 PM to 8:00 PM EST" in text  # local time and zone
    assert first["address"] in text
    assert "Updated by the source:" in text
    assert "Open 24 hours a day, 7 days a week." in text  # the 988 line
    assert "Call 988" in text
    assert "Accessibility:" in text
    assert "Peer support is help from people who have lived through" in text
    assert "No personal information was asked for or kept" in text
    assert "988" in text and "1-800-662-4357" in text  # the crisis lines


def test_hours_not_published(philadelphia_db, tmp_path, picked):
    """A listing whose source publishes no hours says so, rather than showing nothing."""
    path = tmp_path / "finder.db"
    shutil.copy(philadelphia_db, path)
    with connect(str(path)) as db:
        db.execute("delete from schedules where resource_id = ?", [picked[0]["id"]])
        db.conn.commit()
    app = create_app({"TESTING": True, "DATABASE": str(path), "FROZEN_NOW": NOW})
    html = app.test_client().get(f"/referral?id={picked[0]['id']}").get_data(as_text=True)
    assert "When: Hours not published — call first" in text_of(html)


def test_the_sheet_in_spanish_whatever_the_browser_language(site, picked):
    ids = "&".join(f"id={h['id']}" for h in picked)
    html = site.get(f"/referral?{ids}&lang=es", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    text = text_of(html)
    assert "martes, de 7:00 p.m. a 8:00 p.m. EST" in text
    assert "El apoyo entre pares" in text
    assert "lang=es" in re.search(r'class="share-link">([^<]+)<', html).group(1)


def test_share_link_qr_code_and_text_link_reopen_the_same_sheet(site, picked):
    ids = [h["id"] for h in picked[:2]]
    html = site.get(f"/referral?id={ids[0]}&id={ids[1]}").get_data(as_text=True)
    share = unescape(re.search(r'class="share-link">([^<]+)<', html).group(1))
    assert share == f"http://localhost/referral?id={ids[0]}&id={ids[1]}&lang=en"
    # The QR code is drawn here (a data: URI, no request elsewhere) and decodes to the link.
    assert re.search(r'<img class="qr" src="data:image/svg\+xml', html)
    assert decode_qr(share) == share
    assert 'href="sms:?&amp;body=http%3A%2F%2Flocalhost%2Freferral%3Fid%3D' in html
    again = site.get(share.removeprefix("http://localhost")).get_data(as_text=True)
    assert text_of(again).count("Remove from this sheet") == 2


def decode_qr(text: str) -> str:
    """What a phone's camera reads from the sheet's QR code (segno's matrix, zxing's reader)."""
    matrix = numpy.array(segno.make(text, error="m").matrix, dtype=numpy.uint8)
    image = numpy.pad((1 - matrix) * 255, 4, constant_values=255).astype(numpy.uint8)
    image = numpy.kron(image, numpy.ones((4, 4), dtype=numpy.uint8))
    found = zxingcpp.read_barcodes(image)
    assert len(found) == 1
    return found[0].text


@pytest.mark.parametrize(
    "query, status, message",
    [
        ("id=abc", 400, "id must be a listing number"),
        ("id=" + "&id=".join(str(i) for i in range(1, 10)), 400, "at most 8 listings"),
        ("id=999999", 404, "no listing with the number 999999"),
        ("id=1&patient=Jane", 400, "Unknown parameter: 'patient'"),
    ],
)
def test_bad_selections_are_refused_plainly(site, query, status, message):
    response = site.get(f"/referral?{query}")
    assert response.status_code == status
    assert message in text_of(response.get_data(as_text=True))


def test_an_empty_sheet_says_how_to_pick(site):
    text = text_of(site.get("/referral").get_data(as_text=True))
    assert "No listings are chosen yet" in text


def test_the_sheet_as_a_calendar_of_weekly_local_times(site, picked):
    from icalendar import Calendar

    ids = "&".join(f"id={h['id']}" for h in picked)
    html = site.get(f"/referral?{ids}").get_data(as_text=True)
    assert f'href="/referral.ics?{ids.replace("&", "&amp;")}"' in html
    response = site.get(f"/referral.ics?{ids}")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    events = calendar.walk("VEVENT")
    # The three meetings meet weekly; the 988 line has no weekly times and adds no event.
    assert sorted(str(e["summary"]) for e in events) == sorted(h["name"] for h in picked[:3])
    first = next(e for e in events if str(e["summary"]) == picked[0]["name"])
    assert first["rrule"]["FREQ"] == ["WEEKLY"]
    assert first.decoded("dtstart").isoformat() == "2026-11-24T19:00:00-05:00"  # in progress now
    assert str(first.decoded("dtstart").tzinfo) == "America/New_York"
    assert [str(z["tzid"]) for z in calendar.walk("VTIMEZONE")] == ["America/New_York"]


def test_a_calendar_of_listings_without_weekly_times_is_404(site, picked):
    response = site.get(f"/referral.ics?id={picked[3]['id']}")
    assert response.status_code == 404


@pytest.fixture(scope="module")
def treatment_site(tmp_path_factory, registry, geocoder):
    """Two real facilities from the bundled SAMHSA list (no phones in the federal files)."""
    folder = tmp_path_factory.mktemp("treatment")
    bundled = registry["samhsa-sut"]["path"]
    with open(bundled, encoding="utf-8") as whole:
        (folder / "facilities.csv").write_text("".join(next(whole) for _ in range(3)))
    path = folder / "finder.db"
    with connect(str(path)) as db:
        init_db(db)
        import_source(
            db, {**registry["samhsa-sut"], "path": str(folder / "facilities.csv")}, geocoder
        )
        found = db.execute("select id from resources where name = 'A New Beginning'").fetchone()
    app = create_app({"TESTING": True, "DATABASE": str(path), "FROZEN_NOW": NOW})
    return app.test_client(), found[0]


@pytest.mark.parametrize(
    "lang, words",
    [
        ("en", "Search FindTreatment.gov for “A New Beginning” near 35630"),
        ("es", "Busque “A New Beginning” cerca del código postal 35630 en FindTreatment.gov"),
    ],
)
def test_treatment_without_a_phone_says_what_to_search_on_findtreatment(
    treatment_site, lang, words
):
    """Issue #12: the facility's FindTreatment.gov search by name and ZIP. No deep-link format
    is published, so the link says exactly what to search for (name and ZIP from the address)."""
    site, facility = treatment_site
    pages = {
        "card": f"/search?q=35630&when=any&kind=treatment&lang={lang}",
        "listing": f"/resource/{facility}?lang={lang}",
        "sheet": f"/referral?id={facility}&lang={lang}",
    }
    for where, url in pages.items():
        html = site.get(url).get_data(as_text=True)
        links = re.findall(r'<a href="https://findtreatment\.gov/?"[^>]*>([^<]+)</a>', html)
        assert words in [unescape(text) for text in links], where
