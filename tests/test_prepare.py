"""The ingest rules every format shares (finder/prepare.py), through real imports (issue #9)."""

import json
import shutil

import pytest

from finder.geo.positions import read_position
from finder.ingest.formats import bmlt, csv_template, hsds, meeting_guide, ohana
from finder.ingest.load import load_source
from finder.ingest.prepare import dial_in, phone_number, plain_text, same_clock

from .conftest import DATA, FIXTURES

SOURCE = {"id": "fixture", "name": "Fixture", "format": "meeting_guide", "program": "AA"}


def import_rows(db, geocoder, rows, **source):
    """Import Meeting Guide rows (fictional, shaped as the spec describes) into db."""
    path = source.pop("tmp_path") / "feed.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    return load_source(db, {**SOURCE, **source}, meeting_guide.parse(path), geocoder)


def listing(db, source_id):
    return next(
        db.query(
            "select r.*, l.latitude, l.longitude from resources r "
            "left join locations l on l.id = r.location_id where r.source_id = ?",
            [source_id],
        )
    )


def online(slug, name, **fields):
    return {"slug": slug, "name": name, "day": 1, "time": "05:00",
            "conference_url": "https://zoom.us/j/123456789", **fields}  # fmt: skip


BERLIN = {"latitude": 52.52, "longitude": 13.405}  # an online meeting's placeholder position


# ---- time zones: the record's, then the source's, then the place's ----


def test_online_meeting_with_placeholder_coordinates_keeps_the_sources_zone(tmp_path, db, geocoder):
    rows = [
        online("early", "Early Birds 5am Eastern", formatted_address="Berlin, Germany", **BERLIN)
    ]
    import_rows(db, geocoder, rows, tmp_path=tmp_path, default_timezone="America/New_York")
    found = listing(db, "early")
    assert (found["timezone"], found["timezone_source"]) == ("America/New_York", "source")


def test_the_records_own_zone_comes_first(tmp_path, db, geocoder):
    rows = [online("west", "West", timezone="America/Los_Angeles", **BERLIN)]
    import_rows(db, geocoder, rows, tmp_path=tmp_path, default_timezone="America/New_York")
    assert listing(db, "west")["timezone"] == "America/Los_Angeles"


EL_PASO = {
    "slug": "ep", "name": "Desert Group", "day": 2, "time": "19:00",
    "formatted_address": "1 Example St, El Paso, TX 79901, USA",
    "latitude": 31.7587, "longitude": -106.4869,
}  # fmt: skip


def test_single_zone_source_keeps_its_zone_and_reports_the_disagreement(tmp_path, db, geocoder):
    summary = import_rows(
        db, geocoder, [EL_PASO], tmp_path=tmp_path, default_timezone="America/Chicago"
    )
    assert listing(db, "ep")["timezone"] == "America/Chicago"
    [issue] = [i for i in summary.issues if i["field"] == "timezone"]
    assert "America/Denver" in issue["reason"] and "kept" in issue["reason"]


def test_multi_zone_source_takes_the_zone_at_the_coordinates(tmp_path, db, geocoder):
    import_rows(
        db, geocoder, [EL_PASO], tmp_path=tmp_path,
        default_timezone="America/Chicago", single_zone=False,
    )  # fmt: skip
    found = listing(db, "ep")
    assert (found["timezone"], found["timezone_source"]) == ("America/Denver", "coordinates")


def test_a_zone_with_the_same_clock_is_no_disagreement():
    assert same_clock("America/Detroit", "America/New_York")
    assert not same_clock("America/Phoenix", "America/Denver")  # no DST in Arizona


def test_a_meeting_whose_zone_cannot_be_known_is_rejected(tmp_path, db, geocoder):
    rows = [online("nowhere", "Nowhere"), online("berlin", "Berlin Online", **BERLIN)]
    summary = import_rows(db, geocoder, rows, tmp_path=tmp_path)
    assert summary.rejected == 1
    [issue] = [i for i in summary.issues if i["severity"] == "rejected"]
    assert issue["source_id"] == "nowhere" and "no time zone" in issue["reason"]
    assert listing(db, "berlin")["timezone"] == "Europe/Berlin"


# ---- one rule for duplicate ids, links and positions in every format ----


def test_duplicate_bmlt_ids_keep_the_first_and_reject_the_rest(tmp_path, db, geocoder):
    rows = [
        {"id_bigint": "7", "meeting_name": "First", "weekday_tinyint": "2", "venue_type": "1",
         "start_time": "19:00:00", "latitude": "40.75", "longitude": "-73.99",
         "location_street": "1 Example St", "location_municipality": "New York",
         "location_province": "NY", "location_postal_code_1": "10001"},
    ]  # fmt: skip
    rows.append({**rows[0], "meeting_name": "Second"})
    path = tmp_path / "GetSearchResults.json"
    path.write_text(json.dumps(rows))
    source = {**SOURCE, "format": "bmlt", "default_timezone": "America/New_York"}
    summary = load_source(db, source, bmlt.parse(path), geocoder)
    assert (summary.added, summary.rejected) == (1, 1)
    assert listing(db, "7")["name"] == "First"
    assert "duplicate id '7'" in summary.issues[0]["reason"]


SCRIPT = "javascript:alert(document.cookie)"


def _hsds_with_script(tmp_path):
    service = json.loads((FIXTURES / "hsds-examples" / "service_full.json").read_text())
    service["url"] = SCRIPT
    path = tmp_path / "service.json"
    path.write_text(json.dumps(service))
    return hsds.parse(path)


def _csv_with_script(tmp_path):
    path = tmp_path / "lines.csv"
    path.write_text(f"name,kind,url,conference_url\nLine,warmline,{SCRIPT},{SCRIPT}\n")
    return csv_template.parse(path)


def _bmlt_with_script(tmp_path):
    row = {"id_bigint": "1", "meeting_name": "M", "weekday_tinyint": "2", "venue_type": "2",
           "start_time": "19:00:00", "virtual_meeting_link": SCRIPT}  # fmt: skip
    path = tmp_path / "GetSearchResults.json"
    path.write_text(json.dumps([row]))
    return bmlt.parse(path)


def _meeting_guide_with_script(tmp_path):
    row = online("m", "M", url=SCRIPT, feedback_url=SCRIPT, conference_url=SCRIPT)
    path = tmp_path / "feed.json"
    path.write_text(json.dumps([row]))
    return meeting_guide.parse(path)


@pytest.mark.parametrize(
    "records", [_hsds_with_script, _csv_with_script, _bmlt_with_script, _meeting_guide_with_script]
)
def test_script_links_never_reach_the_database(tmp_path, db, geocoder, records):
    source = {**SOURCE, "default_timezone": "America/New_York"}
    summary = load_source(db, source, records(tmp_path), geocoder)
    assert summary.added >= 1
    stored = list(db.query("select url, conference_url, feedback_url from resources"))
    stored += list(db.query("select url from organizations"))
    assert not [row for row in stored if any("javascript" in (v or "") for v in row.values())]
    assert any("not a web address" in i["reason"] for i in summary.issues)


@pytest.mark.parametrize(
    "latitude, longitude, usable",
    [
        (39.95, -75.16, True),
        ("39.95", "-75.16", True),
        ("0", "0", False),
        (0, -75.16, False),
        ("95", "10", False),
        ("nan", "10", False),
        ("1e400", "10", False),
        ("9" * 400, "10", False),
        ("39.95", "", False),
        ("", "", False),
        (None, None, False),
        ("north", "10", False),
    ],
)
def test_one_rule_for_a_usable_position(latitude, longitude, usable):
    position, problem = read_position(latitude, longitude)
    assert (position is not None) == usable
    assert (problem is None) == (usable or latitude in ("", None))


# ---- phone numbers ----


@pytest.mark.parametrize(
    "raw, expected, reported",
    [
        ("+16465588656,,901964988#", "+16465588656,,901964988#", False),
        ("+1 646 876 9923", "+16468769923", False),
        ("+19292056099,,921-7689-9954#,,,,,##", "+19292056099,,92176899954#,,,,,##", False),
        # aasepia.json: two dial strings run together; the fuller one of the same number is kept
        (
            "+16465588656,,901964988#+16465588656,,901964988#,,1#,417417#",
            "+16465588656,,901964988#,,1#,417417#",
            True,
        ),
        ("+16465588656,,1# +13126266799,,2#", "+16465588656,,1#", True),  # two numbers: the first
        ("+11", "", True),  # al-anon.json: not a number
        ("call the office", "", True),
    ],
)
def test_dial_ins(raw, expected, reported):
    issues = []
    assert dial_in(raw, "US", issues) == expected
    assert bool(issues) is reported


@pytest.mark.parametrize(
    "raw, region, expected",
    [
        ("1-800-662-4357", "US", "(800) 662-4357"),
        ("988", "US", "988"),
        ("+44 20 7946 0958", "US", "+44 20 7946 0958"),
        ("020 7946 0958", "GB", "020 7946 0958"),
        ("555-0100 and 555-0199", "US", None),
        ("12", "US", None),
    ],
)
def test_contact_numbers(raw, region, expected):
    assert phone_number(raw, region) == expected


def test_unreadable_contact_number_is_dropped_with_a_reason(tmp_path, db, geocoder):
    path = tmp_path / "lines.csv"
    path.write_text("name,kind,phone\nLine,warmline,555-0100 and 555-0199\n")
    source = {**SOURCE, "format": "csv_template"}
    summary = load_source(db, source, csv_template.parse(path), geocoder)
    assert list(db.query("select * from contacts")) == []
    assert any("not a phone number" in i["reason"] for i in summary.issues)


def test_canadian_feed_with_addresses_only_and_12_hour_times(db, geocoder):
    """Issue #9: a feed abroad with no coordinates is placed, zoned and timed as published."""
    path = FIXTURES / "meeting_guide_canada.json"
    source = {**SOURCE, "default_timezone": "America/Edmonton", "single_zone": False}
    summary = load_source(db, source, meeting_guide.parse(path), geocoder)
    assert (summary.added, summary.rejected) == (3, 0)
    rows = {
        row["source_id"]: row
        for row in db.query(
            "select r.source_id, r.attendance, r.timezone, s.time, s.end_time, l.country,"
            " l.postal_code, l.latitude, l.longitude, l.geocode_precision from resources r"
            " join locations l on l.id = r.location_id join schedules s on s.resource_id = r.id"
        )
    }
    edmonton, calgary, toronto = (
        rows[k] for k in ("downtown-hope-tue", "noon-serenity-wed", "early-risers-sat")
    )
    assert {row["attendance"] for row in rows.values()} == {"in_person"}
    assert (edmonton["time"], edmonton["end_time"]) == ("19:30", "20:30")
    assert (calgary["time"], toronto["time"]) == ("12:00", "07:00")
    assert {row["country"] for row in rows.values()} == {"CA"}
    assert edmonton["postal_code"] == "T5J 0A1"  # never read as a US ZIP
    assert 53.3 < edmonton["latitude"] < 53.7 and -113.7 < edmonton["longitude"] < -113.3
    assert 43.5 < toronto["latitude"] < 43.9 and -79.6 < toronto["longitude"] < -79.2
    assert {row["geocode_precision"] for row in rows.values()} <= {"zip", "city"}
    assert (edmonton["timezone"], calgary["timezone"]) == ("America/Edmonton",) * 2
    assert toronto["timezone"] == "America/Toronto"


def test_online_meeting_at_an_address_does_not_unplace_the_in_person_one(tmp_path, db, geocoder):
    """A temporarily closed group meeting online keeps no position, while the in-person meeting
    at the same address keeps its own (aasepia.json has both at one church)."""
    place = {"formatted_address": "1 Main St, Dover, DE 19901, USA",
             "latitude": 39.1582, "longitude": -75.5244}  # fmt: skip
    rows = [
        {"slug": "here", "name": "Here", "day": 1, "time": "19:00", **place},
        online("there", "There", types=["TC"], **place),
    ]
    import_rows(db, geocoder, rows, tmp_path=tmp_path, default_timezone="America/New_York")
    assert listing(db, "here")["latitude"] == 39.1582
    assert listing(db, "there")["latitude"] is None


def test_script_link_in_an_ohana_export_never_reaches_the_database(tmp_path, db, geocoder):
    folder = tmp_path / "ohana"
    shutil.copytree(DATA / "ohana-san-mateo", folder)
    table = folder / "organizations.csv"
    table.write_text(
        table.read_text(encoding="utf-8").replace(
            ",Peninsula Family Service,,,", f",Peninsula Family Service,,,{SCRIPT}", 1
        ),
        encoding="utf-8",
    )
    source = {**SOURCE, "format": "ohana", "default_timezone": "America/Los_Angeles"}
    summary = load_source(db, source, ohana.parse(folder), geocoder)
    assert summary.added > 10
    stored = [*db.query("select url from resources"), *db.query("select url from organizations")]
    assert not [row for row in stored if "javascript" in (row["url"] or "")]
    assert any("not a web address" in i["reason"] for i in summary.issues)


def test_a_plus_before_a_national_number_reads_as_the_regions():
    # aasepia.json: Zoom's US dial-in written "+3017158592" (no country code after the plus)
    issues = []
    assert dial_in("+3017158592,83153365392#,,#,,19135459#", "US", issues) == (
        "+13017158592,83153365392#,,#,,19135459#"
    )
    assert dial_in("+15935154760,,274634005#", "US", issues) == ""  # no such US area code
    assert any("no country code; read as +13017158592" in reason for _, _, reason in issues)


# ---- text: what feeds copied from web pages, as a reader should see it ----


@pytest.mark.parametrize(
    "written, shown",
    [
        ("GR's &amp; interested members", "GR's & interested members"),
        ("Men&#8217;s Stag &amp; Big Book", "Men\u2019s Stag & Big Book"),
        ("Men&amp;#8217;s Stag", "Men\u2019s Stag"),  # escaped twice
        ("Caf&eacute; &#x2615;", "Caf\u00e9 \u2615"),
        ("Stop &amp; Shop-upstairs", "Stop & Shop-upstairs"),
        ("First floor<br>Room 2<br />Ring the bell", "First floor\nRoom 2\nRing the bell"),
        (
            "<p>Open to all.</p><p>Bring a friend&nbsp;along.</p>",
            "Open to all.\n\nBring a friend along.",
        ),
        ("<b>Closed</b> <a href='https://example.org' target=_blank>meeting</a>", "Closed meeting"),
        ("Zoom ID: 864\n\npasscode", "Zoom ID: 864\n\npasscode"),
        # not markup: kept as written
        ("AA <Big Book> study", "AA <Big Book> study"),
        ("<A New Beginning>", "<A New Beginning>"),
        ("Q&A &reg and &region", "Q&A &reg and &region"),
        ("5 < 6 > 4", "5 < 6 > 4"),
        (
            "&lt;script&gt;alert(1)&lt;/script&gt;",
            "<script>alert(1)</script>",
        ),  # text, escaped on pages
        ("<a" + " " * 20_000 + "x", "<a x"),  # a long run of spaces after "<a"
        ("< br>Not a tag", "< br>Not a tag"),
        ("<B>Closed</B> <i>Big Book</i>", "Closed Big Book"),
        ("Room <A>", "Room <A>"),
        ("Room <S>-12, door <b>", "Room <S>-12, door <b>"),
        ("R&notes; here, x&ampx;y", "R&notes; here, x&ampx;y"),  # not references HTML defines
    ],
)
def test_plain_text(written, shown):
    assert plain_text(written) == shown


def test_a_real_feeds_character_references_and_tags_are_stored_as_plain_text(
    tmp_path, db, geocoder
):
    """The Al-Anon feed writes "GR's &amp; interested members"; a page showed "&amp;amp;"."""
    summary = load_source(
        db,
        {**SOURCE, "id": "al-anon", "program": "Al-Anon"},
        meeting_guide.parse(DATA / "meeting-guide" / "al-anon.json"),
        geocoder,
    )
    assert summary.rejected == 0
    texts = [
        " ".join(str(v) for v in row.values())
        for table in ("resources", "locations", "organizations")
        for row in db.query(f"select * from {table}")
    ]
    assert not [t for t in texts if "&amp;" in t or "&#" in t]
    assert any("for GR's & interested members" in t for t in texts)
    reasons = {r["reason"] for r in db.query("select reason from import_issues")}
    assert "HTML markup or character references made plain text" in reasons


def test_identifiers_are_never_rewritten(tmp_path, db, geocoder):
    import_rows(db, geocoder, [online("a&amp;b", "Early &amp; Late")], tmp_path=tmp_path,
                default_timezone="America/New_York")  # fmt: skip
    row = listing(db, "a&amp;b")
    assert row["name"] == "Early & Late"


NEW_YORK = {"formatted_address": "1 Example St, New York, NY 10001, USA",
            "latitude": 40.7506, "longitude": -73.9972}  # fmt: skip


@pytest.mark.parametrize(
    "stated, place, zone, repaired",
    [
        ("EST", NEW_YORK, "America/New_York", True),  # EST keeps no daylight saving
        ("EST5EDT", NEW_YORK, "EST5EDT", False),  # the same clock all year
        ("US/Eastern", NEW_YORK, "US/Eastern", False),
        ("America/Chicago", NEW_YORK, "America/Chicago", False),  # a place's zone is believed
        ("EST", {}, "EST", False),  # no place to tell
    ],
)
def test_a_legacy_zone_name_gives_way_to_the_places_clock(
    tmp_path, db, geocoder, stated, place, zone, repaired
):
    rows = [{"slug": "m", "name": "Midtown", "day": 2, "time": "19:00", "timezone": stated,
             "conference_url": "https://zoom.us/j/123456789", **place}]  # fmt: skip
    import_rows(db, geocoder, rows, tmp_path=tmp_path)
    assert listing(db, "m")["timezone"] == zone
    reasons = [r["reason"] for r in db.query("select reason from import_issues")]
    assert any("names no place" in reason for reason in reasons) is repaired


def test_text_without_markup_is_stored_as_written_and_not_reported(tmp_path, db, geocoder):
    row = online("q", "Q&As;  bring questions", notes="Bring  Q&As; <your own>")
    import_rows(db, geocoder, [row], tmp_path=tmp_path, default_timezone="America/New_York")
    stored = listing(db, "q")
    assert (stored["name"], stored["description"]) == (row["name"], row["notes"])
    reasons = [r["reason"] for r in db.query("select reason from import_issues")]
    assert "HTML markup or character references made plain text" not in reasons
