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
    assert isinstance(feed, list)  # the spec: "a simple array of meetings"
    assert {row["source"] for row in feed} == {source_id}
    assert {row["license"] for row in feed} == {registry[source_id]["license"]}
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(feed))

    again = connect(str(tmp_path / "again.db"))
    init_db(again)
    summary = import_source_again(again, registry[source_id], path, geocoder)
    before, after = meetings(db), meetings(again)
    assert sum(map(len, after.values())) == sum(map(len, before.values())) > 0
    assert after == before
    print(f"{source_id}: {len(feed)} rows, {summary}")


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


def test_the_feed_of_one_region_holds_its_meetings_only(site):
    everything = site.get("/api/v1/meetings.json").get_json()
    delaware = site.get("/api/v1/meetings.json?region=delaware+county").get_json()
    expected = [m for m in everything if "Delaware County" in m["regions"]]
    assert delaware and len(delaware) < len(everything)
    assert [m["slug"] for m in delaware] == [m["slug"] for m in expected]
    unknown = site.get("/api/v1/meetings.json?region=Atlantis")
    assert unknown.status_code == 400
    assert "No meeting lists the region Atlantis" in unknown.get_json()["error"]


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


# A search as a calendar (issue #12): /search.ics with the search's own parameters.


def calendar_of(site, query: str):
    import icalendar

    response = site.get(f"/search.ics?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "text/calendar"
    assert response.headers["Content-Disposition"] == 'attachment; filename="search.ics"'
    return response, icalendar.Calendar.from_ical(response.data)


def test_a_weeks_calendar_round_trips(site, philadelphia_db):
    """Every weekly time of the week's listings, once, weekly, at local time in its zone."""
    import sqlite3

    week = site.get("/api/v1/search?q=19103&when=week&type=S").get_json()
    ids = {i["id"] for g in ("in_progress", "starting_soon", "later") for i in week["groups"][g]}
    with sqlite3.connect(philadelphia_db) as db:
        marks = ", ".join("?" * len(ids))
        times = db.execute(
            f"select count(*) from schedules where resource_id in ({marks})", list(ids)
        ).fetchone()[0]
    _, calendar = calendar_of(site, "q=19103&when=week&type=S")
    events = calendar.walk("VEVENT")
    assert len(events) == times > 20
    assert {int(str(e["uid"]).split("-")[0]) for e in events} == ids
    assert all(e["rrule"]["FREQ"] == ["WEEKLY"] for e in events)
    assert all(str(e["dtstart"].dt.tzinfo) == "America/New_York" for e in events)
    assert [str(z["tzid"]) for z in calendar.walk("VTIMEZONE")] == ["America/New_York"]
    camino = [e for e in events if str(e["summary"]) == "Nuevo Camino"]
    assert sorted(e["dtstart"].dt.strftime("%a %H:%M") for e in camino) == [
        "Mon 19:00", "Sat 19:00", "Sun 10:00", "Thu 19:00", "Wed 19:00",
    ]  # fmt: skip
    assert str(calendar["name"]) == week["summary"]


def test_a_search_calendar_carries_its_sources_licence(site, registry):
    _, calendar = calendar_of(site, "q=19103&when=week&type=W")
    licence = registry["aasepia"]["license"]
    description = str(calendar["description"])
    assert "Southeastern Pennsylvania Intergroup Association (AA)" in description
    assert f"Licence: {licence}" in description
    assert all(f"Licence: {licence}" in str(e["description"]) for e in calendar.walk("VEVENT"))


def test_a_search_calendar_is_bounded(site):
    """However much a search finds, at most 100 listings, and the calendar says so."""
    response, calendar = calendar_of(site, "q=19103&when=week&radius=50")
    listings = {str(e["uid"]).split("-")[0] for e in calendar.walk("VEVENT")}
    assert len(listings) == 100
    assert "The first 100 of " in str(calendar["description"])
    assert len(response.data) < 200_000
    print(f"search.ics, 100 listings within 50 miles: {len(response.data)} bytes")


def test_any_search_has_a_calendar_of_what_it_found(site):
    """A search for now: the listings it found that have weekly times (not the 24/7 lines)."""
    found = site.get("/api/v1/search?q=19103&kind=meeting&limit=5").get_json()
    ids = {i["id"] for items in found["groups"].values() for i in items}
    _, calendar = calendar_of(site, "q=19103&kind=meeting&limit=5")
    assert {int(str(e["uid"]).split("-")[0]) for e in calendar.walk("VEVENT")} == ids


@pytest.mark.parametrize(
    "query, status, message",
    [
        ("q=19103&format=ics", 400, "Unknown parameter: &#39;format&#39;"),
        ("when=week", 400, "give a place"),
        ("kind=crisis_line&attendance=online", 404, "Nothing this search found has weekly times."),
    ],
)
def test_unusable_search_calendars(site, query, status, message):
    response = site.get(f"/search.ics?{query}")
    assert response.status_code == status
    assert message in response.get_data(as_text=True)


def test_the_week_links_to_its_calendar(site):
    page = site.get("/week?q=19103&type=S").get_data(as_text=True)
    assert 'href="/search.ics?q=19103&amp;type=S&amp;when=week" download' in page
