"""Open data out (issue #12): the Meeting Guide feed re-imports losslessly with our own importer,
and any search comes out as GeoJSON or CSV, each with its sources' licence and attribution."""

import csv
import io
import json

import pytest

from finder import create_app
from finder.store import connect, init_db

NOW = "2026-11-24T19:00:00-05:00"
MEETING_GUIDE = ("aasepia", "aasfmarin", "nwta", "al-anon", "kc", "sussexaa", "michigan")


def meetings(db) -> dict[tuple, tuple]:
    """Every active meeting as what a person relies on: name, times, zone, types, attendance
    and coordinates (keyed by its name, times and place, as slugs change on export)."""
    found = {}
    for row in db.query(
        "select r.id, r.name, r.timezone, r.attendance, r.conference_url, r.conference_phone, "
        "round(l.latitude, 5) as lat, round(l.longitude, 5) as lon from resources r "
        "left join locations l on l.id = r.location_id where r.kind = 'meeting' "
        "and r.status = 'active'"
    ):
        times = tuple(
            (s["day"], s["time"], s["end_time"])
            for s in db.query(
                "select day, time, end_time from schedules where resource_id = ? "
                "order by day, time",
                [row["id"]],
            )
        )
        types = tuple(
            r["code"]
            for r in db.query(
                "select code from resource_types where resource_id = ? order by code", [row["id"]]
            )
        )
        value = (row["timezone"], types, row["attendance"], row["lat"], row["lon"])
        found.setdefault((row["name"], times, row["lat"], row["lon"]), []).append(value)
    return {key: sorted(values) for key, values in found.items()}


@pytest.mark.parametrize("source_id", MEETING_GUIDE)
def test_the_meeting_guide_feed_reimports_losslessly(
    source_id, import_bundled, db, db_path, registry, geocoder, tmp_path
):
    import_bundled(source_id)
    app = create_app({"TESTING": True, "DATABASE": str(db_path), "FROZEN_NOW": NOW})
    response = app.test_client().get(f"/api/v1/meetings.json?source={source_id}")
    assert response.status_code == 200
    feed = response.get_json()
    assert [s["id"] for s in feed["sources"]] == [source_id]
    assert feed["sources"][0]["license"] == registry[source_id]["license"]
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(feed))

    again = connect(str(tmp_path / "again.db"))
    init_db(again)
    summary = import_source_again(again, registry[source_id], path, geocoder)
    before, after = meetings(db), meetings(again)
    assert sum(map(len, after.values())) == sum(map(len, before.values())) > 0
    assert after == before
    print(f"{source_id}: {len(feed['meetings'])} rows, {summary}")


def import_source_again(db, source: dict, path, geocoder):
    from finder.ingest.registry import import_source

    return import_source(db, {**source, "id": "again", "path": str(path)}, geocoder)


@pytest.fixture(scope="module")
def site(philadelphia_db):
    app = create_app({"TESTING": True, "DATABASE": str(philadelphia_db), "FROZEN_NOW": NOW})
    return app.test_client()


def test_an_unknown_source_is_400(site):
    response = site.get("/api/v1/meetings.json?source=atlantis")
    assert response.status_code == 400
    assert "Unknown source: atlantis" in response.get_json()["error"]


def test_a_search_as_geojson(site):
    response = site.get("/api/v1/search.geojson?q=19103&limit=5")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    body = json.loads(response.data)
    assert body["type"] == "FeatureCollection" and body["features"]
    first = body["features"][0]
    assert first["geometry"]["type"] == "Point"
    longitude, latitude = first["geometry"]["coordinates"]
    assert 39.8 < latitude < 40.1 and -75.4 < longitude < -75.0
    assert first["properties"]["license"] and first["properties"]["source"] == "aasepia"
    online = [f for f in body["features"] if f["properties"]["attendance"] == "online"]
    assert online and all(f["geometry"] is None for f in online)
    assert {s["id"] for s in body["sources"]} == {"aasepia", "national-lines"}


def test_a_search_as_csv(site):
    response = site.get("/api/v1/search.csv?q=19103&limit=5&kind=meeting")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert rows and rows[0]["start"] == "2026-11-24T19:00:00-05:00"
    assert all(r["license"] and r["attribution"] for r in rows)
    assert rows[0]["source_name"] == "Southeastern Pennsylvania Intergroup Association (AA)"


def test_exports_refuse_unknown_parameters(site):
    response = site.get("/api/v1/search.csv?q=19103&format=xml")
    assert response.status_code == 400 and "'format'" in response.get_json()["error"]
