"""Import semantics over the real bundled feeds: counts, repairs, idempotence, atomicity."""

import json
import sqlite3

import pytest

from finder.ingest.formats.meeting_guide import parse
from finder.ingest.load import load_source

from .conftest import DATA


def count(db, sql, params=()):
    return db.execute(sql, params).fetchone()[0]


@pytest.mark.parametrize(
    "source_id, added",
    [
        ("aasepia", 2038),
        ("aasfmarin", 658),
        ("nwta", 613),
        ("al-anon", 360),
        ("kc", 206),
        ("sussexaa", 123),
        ("michigan", 46),
    ],
)
def test_real_meeting_guide_feeds_import(import_bundled, db, source_id, added):
    summary = import_bundled(source_id)
    assert (summary.added, summary.rejected) == (added, 0)
    assert (
        count(
            db, "select count(*) from resources where source = ? and status = 'active'", [source_id]
        )
        == added
    )
    no_zone = count(
        db, "select count(*) from resources where source = ? and timezone is null", [source_id]
    )
    assert no_zone == 0


def test_nwta_zero_coordinates_are_regeocoded_to_texas(import_bundled, db):
    summary = import_bundled("nwta")
    bad = [
        r
        for r in json.loads((DATA / "meeting-guide" / "nwta.json").read_text())
        if not r["latitude"] or not r["longitude"]
    ]
    assert len(bad) == 66  # 53 at (0,0), 13 with longitude 0
    rows = list(
        db.query(
            "select l.* from resources r join locations l on l.id = r.location_id "
            "where r.source = 'nwta' and r.source_id in ({})".format(",".join("?" * len(bad))),
            [str(r["slug"]) for r in bad],
        )
    )
    assert len(rows) == 66
    for row in rows:
        assert 25.8 < row["latitude"] < 36.6 and -106.7 < row["longitude"] < -93.5  # Texas
        assert row["geocode_precision"] == "zip"
        assert "replaced" in row["geocode_note"]
        assert row["timezone"] == "America/Chicago"
    reasons = [i["reason"] for i in summary.issues if i["field"] == "coordinates"]
    assert sum("(0, 0)" in r for r in reasons) == 53
    assert sum("zero longitude" in r for r in reasons) == 13


def test_nwta_wrong_zip_keeps_right_coordinates(import_bundled, db):
    import_bundled("nwta")
    hart = next(
        db.query(
            "select l.* from resources r join locations l on l.id = r.location_id "
            "where r.name = 'The Hart Group'"
        )
    )
    assert (hart["latitude"], hart["longitude"]) == (34.3834519, -102.11300080000001)
    assert "coordinates match Hart" in hart["geocode_note"]


def test_online_only_marin_meetings_have_no_coordinates(import_bundled, db):
    import_bundled("aasfmarin")
    online = list(
        db.query(
            "select r.attendance, l.latitude, r.timezone from resources r "
            "left join locations l on l.id = r.location_id "
            "where r.source = 'aasfmarin' and r.attendance = 'online'"
        )
    )
    assert len(online) > 400
    assert all(row["latitude"] is None for row in online)
    assert {row["timezone"] for row in online} == {"America/Los_Angeles"}


def test_reimport_changes_nothing(import_bundled, db):
    import_bundled("aasepia")
    before = count(db, "select count(*) from resources")
    again = import_bundled("aasepia")
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, 2038)
    assert count(db, "select count(*) from resources") == before


def feed_copy(tmp_path, change):
    rows = json.loads((DATA / "meeting-guide" / "sussexaa.json").read_text())
    change(rows)
    path = tmp_path / "sussexaa.json"
    path.write_text(json.dumps(rows))
    return path


def test_updates_in_place_and_marks_removed(import_bundled, db, registry, tmp_path):
    import_bundled("sussexaa")
    first_id = count(db, "select id from resources where source_id = 'rehoboth-beach-speaker'")

    def edit(rows):
        rows[0]["time"] = "19:30"
        del rows[1]

    summary = import_bundled("sussexaa", path=str(feed_copy(tmp_path, edit)))
    assert (summary.added, summary.updated, summary.removed) == (0, 1, 1)
    row = next(
        db.query("select id, status from resources where source_id = 'rehoboth-beach-speaker'")
    )
    assert row == {"id": first_id, "status": "active"}
    assert count(db, "select time from schedules where resource_id = ?", [first_id]) == "19:30"
    assert count(db, "select count(*) from resources where status = 'removed'") == 1


def test_one_broken_row_is_rejected_and_the_rest_imported(import_bundled, db, tmp_path):
    def break_one(rows):
        rows[5]["day"] = "Funday"

    summary = import_bundled("sussexaa", path=str(feed_copy(tmp_path, break_one)))
    assert (summary.added, summary.rejected) == (122, 1)
    issue = next(db.query("select * from import_issues where severity = 'rejected'"))
    assert issue["row"] == 6 and issue["field"] == "day"
    assert "'Funday' is not 0 (Sunday) to 6 (Saturday)" in issue["reason"]


def test_rejected_row_keeps_its_previous_version(import_bundled, db, tmp_path):
    import_bundled("sussexaa")

    def break_one(rows):
        rows[0]["time"] = "noonish"

    summary = import_bundled("sussexaa", path=str(feed_copy(tmp_path, break_one)))
    assert (summary.rejected, summary.removed) == (1, 0)
    assert count(db, "select count(*) from resources where status = 'active'") == 123


def test_failure_midway_leaves_database_byte_for_byte(
    import_bundled, db, db_path, registry, geocoder
):
    import_bundled("kc")
    before = db_path.read_bytes()

    def poisoned():
        for number, record in enumerate(parse(DATA / "meeting-guide" / "aasepia.json")):
            if number == 1500:
                record["types"] = [("NOT-A-CODE", "test")]  # violates the types foreign key
            yield record

    with pytest.raises(sqlite3.IntegrityError):
        load_source(db, registry["aasepia"], poisoned(), geocoder)
    assert db_path.read_bytes() == before
    assert count(db, "select count(*) from resources where source = 'aasepia'") == 0


def test_unreadable_feed_leaves_database_byte_for_byte(import_bundled, db_path, tmp_path):
    import_bundled("kc")
    before = db_path.read_bytes()
    truncated = tmp_path / "kc.json"
    truncated.write_bytes((DATA / "meeting-guide" / "kc.json").read_bytes()[:50000])
    with pytest.raises(Exception, match="not valid JSON"):
        import_bundled("kc", path=str(truncated))
    assert db_path.read_bytes() == before


def test_entries_the_source_marks_as_test_data_are_never_listed(import_bundled, db):
    summary = import_bundled("san-mateo")
    rejected = {i["source_id"]: i["reason"] for i in summary.issues if i["severity"] == "rejected"}
    assert set(rejected) == {"20", "21", "22"}  # "Fake Org", "Admin Test Org", "The Test Spot"
    assert all("marks this entry as test data" in reason for reason in rejected.values())
    names = {r["name"] for r in db.query("select name from resources")}
    assert len(names) == 19 and not {n for n in names if "Test" in n or "Example" in n}
