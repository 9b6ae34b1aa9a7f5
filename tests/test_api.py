"""The JSON search API: answers over real data, and clear 400s for bad parameters."""

import pytest

from finder import create_app


@pytest.fixture
def api(tuesday_evening):
    return tuesday_evening


def test_tuesday_evening_in_philadelphia(api):
    answer = api.get("/api/search?q=19103&kind=meeting&limit=5").get_json()
    assert answer["ok"] and answer["place"]["label"] == "ZIP 19103"
    assert answer["place"]["timezone"] == "America/New_York"
    assert answer["summary"].startswith("Meetings in progress or starting in the next 2 hours")
    first = answer["groups"]["in_progress"][0]
    assert first["start"] == "2026-11-24T19:00:00-05:00" and first["zone"] == "EST"
    assert first["joinable"] and first["distance_mi"] < 1
    assert answer["totals"]["in_progress"] >= len(answer["groups"]["in_progress"]) == 5
    assert answer["groups"]["online_now"], "online meetings are listed without a distance"
    assert all(h["distance_km"] is None for h in answer["groups"]["online_now"])


def test_lines_open_now_for_everyone_with_their_numbers(api):
    answer = api.get("/api/search?attendance=online").get_json()
    lines = {h["name"]: h for h in answer["groups"]["open_now"]}
    assert "California Peer-Run Warm Line" not in lines  # serves California only
    contacts = lines["988 Suicide & Crisis Lifeline"]["contacts"]
    assert {"kind": "voice", "value": "988"} in contacts
    assert {"kind": "text", "value": "988"} in contacts


@pytest.mark.parametrize(
    "query, label",
    [
        ("Philadelphia, PA", "Philadelphia, PA"),
        ("39.95, -75.16", "your location"),
        ("1500 Market St, Philadelphia, PA 19102", "ZIP 19102"),
    ],
)
def test_places_with_commas(api, query, label):
    answer = api.get("/api/search", query_string={"q": query}).get_json()
    assert answer["ok"] and answer["place"]["label"] == label


def test_groups_keep_their_order_and_times_name_their_zone(api):
    answer = api.get("/api/search?q=19103").get_json()
    assert list(answer["groups"]) == [
        "in_progress",
        "starting_soon",
        "online_now",
        "open_now",
        "later",
        "nearby",
    ]
    assert answer["groups"]["in_progress"][0]["timezone"] == "America/New_York"


def test_empty_answer_suggests_any_time(api):
    answer = api.get("/api/search?q=19103&kind=treatment").get_json()
    assert not any(answer["totals"].values())
    assert "when=any" in answer["hint"]


def test_today_and_a_chosen_time(api):
    today = api.get("/api/search?q=19103&when=today").get_json()
    assert today["totals"]["later"] > 0
    chosen = api.get("/api/search?q=19103&when=at&day=saturday&time=09:00").get_json()
    starts = [h["start"] for h in chosen["groups"]["starting_soon"]]
    assert starts and all(s.startswith("2026-11-28T") for s in starts)


@pytest.mark.parametrize(
    "query, message",
    [
        ("radius=abc", "radius must be a number"),
        ("radius=100000", "radius must be a number between 0.1 and 311"),
        ("q=Atlantis", "could not find"),
        ("q=" + "x" * 5000, "too long"),
        ("lat=91&lon=0", "lat must be between -90 and 90"),
        ("lat=39", "Give both lat and lon"),
        ("when=today", "needs a place or a time zone"),
        ("when=yesterday", "when must be one of"),
        ("q=19103&when=at&day=funday", "day must be a day of the week"),
        ("q=19103&when=at&day=monday&time=25:00", "time must be HH:MM"),
        ("type=BOGUS", "Unknown type"),
        ("kind=casino", "Unknown kind"),
        ("tz=Mars/Olympus", "tz must be an IANA time zone"),
        ("limit=0", "limit must be a whole number"),
        ("limit=2.5", "limit must be a whole number"),
        ("radius=900", "between 0.1 and 311 mi"),
        ("type=X&not=X", "both wanted and excluded"),
        ("q=19103&when=at&day=monday", "needs a time too"),
        ("q=19103&q=19104", "Give q only once"),
        ("q=%27%3B%20drop%20table%20resources%3B--", "could not find"),
    ],
)
def test_bad_parameters_are_400_with_a_reason(api, db_path, query, message):
    before = db_path.read_bytes()
    response = api.get(f"/api/search?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["ok"] is False and message in body["error"]
    assert db_path.read_bytes() == before


def test_unknown_api_path_is_json_404(api):
    response = api.get("/api/nowhere")
    assert response.status_code == 404 and response.get_json()["ok"] is False


def test_searched_places_never_leave_the_machine_nor_enter_the_database(db_path, import_bundled):
    import_bundled("sussexaa")
    before = db_path.read_bytes()
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(db_path),
            "GEOCODER": "nominatim",
            "GEOCODER_USER_AGENT": "recovery-support-finder-tests",
        }
    )
    answer = app.test_client().get("/api/search?q=Rehoboth Beach, DE").get_json()
    assert answer["ok"] and answer["place"]["label"] == "Rehoboth Beach, DE"  # offline lookup
    assert db_path.read_bytes() == before  # no geocode_cache row, nothing else written


def test_outside_coverage_the_answer_says_so_and_does_not_widen(api):
    # Issue #9: Denver has no local lists here; widening to 80 miles would only find nothing
    # (or another state's meetings), so the radius stays and the national finders are given.
    answer = api.get("/api/search?q=80202").get_json()
    coverage = answer["coverage"]
    assert coverage["state"] == "CO" and coverage["local_meeting_lists"] == []
    programs = [f["program"] for f in coverage["national_finders"]]
    assert programs == ["AA", "NA", "Al-Anon", "SMART", "treatment"]
    assert all(f["url"].startswith("https://") for f in coverage["national_finders"])
    assert answer["widened_from_km"] is None and answer["radius_km"] == pytest.approx(16.093)
    assert answer["groups"]["online_now"] and answer["groups"]["open_now"]


def test_inside_coverage_names_the_local_lists(api):
    coverage = api.get("/api/search?q=19103").get_json()["coverage"]
    assert coverage["state"] == "PA" and coverage["local_meeting_lists"] == ["AA"]
    assert "AA" not in [f["program"] for f in coverage["national_finders"]]
    assert api.get("/api/search?attendance=online").get_json()["coverage"] is None


def test_every_result_says_its_hours_and_its_date(api):
    answer = api.get("/api/search?q=19103&limit=5").get_json()
    items = [i for group in answer["groups"].values() for i in group]
    assert items
    for item in items:
        assert item["hours"]["status"] in {"always_open", "weekly", "by_appointment", "text"}
        assert item["listed"]["basis"] in {"updated", "verified", "list"}
        assert item["source_name"]


def test_coverage_follows_the_program_asked_for(api):
    # Pennsylvania has AA lists here but no Al-Anon list: an Al-Anon search is told so and
    # given Al-Anon's own finder, not widened into other meetings.
    answer = api.get("/api/search?q=19103&program=Al-Anon").get_json()
    assert answer["coverage"]["local_meeting_lists"] == []
    assert [f["program"] for f in answer["coverage"]["national_finders"]] == ["Al-Anon"]
    assert answer["widened_from_km"] is None
    page = api.get("/search?q=19103&program=Al-Anon").get_data(as_text=True)
    assert "have local Al-Anon Family Groups meeting lists for Pennsylvania yet" in page
