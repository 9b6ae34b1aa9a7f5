"""HSDS 3 importer over the Open Referral examples (fictional data) and small edited copies."""

import copy
import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest

from finder.errors import SourceFormatError
from finder.ingest.formats import Rejected, common, hsds

EXAMPLES = Path(__file__).parent / "fixtures" / "hsds-examples"
SAL_ID = "e94c9f38-1e8f-4564-91d4-d53501ab1765"
THURSDAY_FRIDAY = [
    {"day": 4, "time": "10:00", "end_time": "18:00"},
    {"day": 5, "time": "10:00", "end_time": "18:00"},
]


def records(path) -> list:
    return list(hsds.parse(path))


def only_record(path) -> dict:
    found = records(path)
    assert len(found) == 1 and isinstance(found[0], dict), found
    return found[0]


def service_full() -> dict:
    return json.loads((EXAMPLES / "service_full.json").read_text(encoding="utf-8"))


def write_json(tmp_path, data, name="feed.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def with_schedule(tmp_path, **changes) -> dict:
    data = service_full()
    for owner in (data, data["service_at_locations"][0]):
        owner["schedules"][0].update(changes)
    return only_record(write_json(tmp_path, data))


@pytest.mark.parametrize(
    "name", ["service_full.json", "organization_full.json", "service_at_location_full.json", "csv"]
)
def test_every_example_shape_gives_the_same_service_at_location(name):
    record = only_record(EXAMPLES / name)
    assert record["source_id"] == SAL_ID
    assert record["name"] == "Community Counselling"
    assert record["location"]["name"] == "MyCity Civic Center"
    assert record["organization"]["name"] == "Example Organization Inc."
    assert record["schedules"] == THURSDAY_FRIDAY
    assert record["languages"] == ["ur"]
    assert record["program"] in {"community", "treatment"}


@pytest.mark.parametrize("name", ["service_full.json", "csv"])
def test_accessibility_text_is_kept_and_mapped(name):
    record = only_record(EXAMPLES / name)
    assert "induction loops" in record["location"]["accessibility_text"]
    assert dict(record["types"]) == {
        "LOOP": "HSDS accessibility: induction loops",
        "X": "HSDS accessibility: Wheelchair",
    }


def test_json_example_fields():
    record = only_record(EXAMPLES / "service_full.json")
    assert record["kind"] == "treatment"  # its programme is "Comprehensive Mental Health Services"
    assert record["updated"] == "2023-03-15"
    assert record["last_verified"] == "2005-01-01"
    assert record["url"] == "http://example.com/counselling"
    assert record["location"]["city"] == "MyCity"
    assert record["location"]["transportation"].startswith("MyCity Civic Center is serviced")
    assert record["contacts"] == [
        {
            "kind": "voice",
            "value": "+44 1234 234567",
            "extension": "100",
            "description": record["contacts"][0]["description"],
        }
    ]


def test_example_oddities_become_issues_not_rejections():
    record = only_record(EXAMPLES / "service_full.json")
    issues = {(field, reason) for _, field, reason in record["issues"]}
    # latitude 100 / longitude 101 is not a position; timezone 3 is a UTC offset, not IANA
    assert record["location"]["latitude"] is None and record["location"]["longitude"] is None
    assert any(field == "latitude" and "(100, 101)" in reason for field, reason in issues)
    assert record["timezone"] is None
    assert any(field == "timezone" and "'3'" in reason for field, reason in issues)
    assert any("quotes removed" in reason for _, reason in issues)
    assert record["service_areas"][0]["kind"] == "text"  # its extent is the word "extent"


def test_named_contacts_are_never_imported():
    for name in ("service_full.json", "organization_full.json", "csv"):
        assert "Ann Persona" not in json.dumps(records(EXAMPLES / name))


def test_csv_phone_linked_to_a_contact_person_is_skipped():
    record = only_record(EXAMPLES / "csv")
    assert record["contacts"] == []
    assert any(f == "contacts" and "named person" in reason for _, f, reason in record["issues"])


def test_paginated_list_of_services_without_locations():
    record = only_record(EXAMPLES / "service_list.json")
    assert record["source_id"] == "ac148810-d857-441c-9679-408f346de14b"
    assert record["location"] is None and record["attendance"] is None


def test_organizations_without_services_give_no_records():
    assert records(EXAMPLES / "organization_list.json") == []


def test_malformed_json_raises_naming_the_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"id": "1", "name": ', encoding="utf-8")
    with pytest.raises(SourceFormatError, match=r"broken\.json"):
        records(path)


def test_json_that_is_not_a_service_raises():
    with pytest.raises(SourceFormatError, match=r"taxonomy\.json"):
        records(EXAMPLES / "taxonomy.json")


def test_csv_folder_without_services_raises(tmp_path):
    folder = tmp_path / "csv"
    shutil.copytree(EXAMPLES / "csv", folder)
    (folder / "services.csv").unlink()
    with pytest.raises(SourceFormatError, match=r"services\.csv"):
        records(folder)


def test_csv_missing_required_column_raises_naming_file(tmp_path):
    folder = tmp_path / "csv"
    shutil.copytree(EXAMPLES / "csv", folder)
    lines = (folder / "service_at_location.csv").read_text(encoding="utf-8").splitlines()
    (folder / "service_at_location.csv").write_text(
        "\n".join([lines[0].replace("location_id", "place_id"), *lines[1:]]), encoding="utf-8"
    )
    message = r"service_at_location\.csv: missing column\(s\) location_id"
    with pytest.raises(SourceFormatError, match=message):
        records(folder)


def test_bad_opens_at_keeps_the_record_with_an_issue(tmp_path):
    record = with_schedule(tmp_path, opens_at="25:99")
    assert record["schedules"] == []
    assert (
        "repaired",
        "opens_at",
        "opens_at '25:99' is not a time; that schedule was skipped",
    ) in record["issues"]


def test_bad_closes_at_keeps_the_start(tmp_path):
    record = with_schedule(tmp_path, closes_at="late")
    assert [s["end_time"] for s in record["schedules"]] == [None, None]


def test_iana_timezone_is_kept(tmp_path):
    assert with_schedule(tmp_path, timezone="Europe/London")["timezone"] == "Europe/London"


def test_schedule_without_times_keeps_its_description(tmp_path):
    record = with_schedule(
        tmp_path, opens_at=None, closes_at=None, description="By appointment on weekday mornings."
    )
    assert record["schedules"] == []
    assert record["by_appointment"] is True
    assert record["hours_text"] == (
        "By appointment on weekday mornings. " + service_full()["schedules"][0]["notes"]
    )
    assert record["description"] == service_full()["description"].strip()


def test_monthly_schedule_is_kept_as_text(tmp_path):
    record = with_schedule(tmp_path, freq="MONTHLY", byday="1MO")
    assert record["schedules"] == []
    assert record["hours_text"].startswith("The service is available from 10 am to 6pm weekdays.")
    assert record["by_appointment"] is False


def test_unknown_byday_token_is_dropped(tmp_path):
    record = with_schedule(tmp_path, byday="MO,XX")
    assert [s["day"] for s in record["schedules"]] == [1]
    assert any("'XX'" in reason for _, _, reason in record["issues"])


def test_geojson_service_area(tmp_path):
    data = service_full()
    polygon = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}
    data["service_areas"][0]["extent"] = json.dumps(polygon)
    area = only_record(write_json(tmp_path, data))["service_areas"][0]
    assert area["kind"] == "geojson" and area["geometry"] == polygon


def test_inactive_service_and_virtual_location(tmp_path):
    data = service_full()
    data["status"] = "defunct"
    data["service_at_locations"][0]["location"]["location_type"] = "virtual"
    record = only_record(write_json(tmp_path, data))
    assert record["attendance"] == "inactive" and record["location"] is None


def test_rows_that_cannot_be_records_are_rejected(tmp_path):
    nameless = copy.deepcopy(service_full())
    nameless["name"] = " "
    feed = [service_full(), nameless, "not an object", service_full()]
    found = records(write_json(tmp_path, feed))
    assert isinstance(found[0], dict)
    assert found[1] == Rejected(SAL_ID, "service has no name", row=2, field="name")
    assert isinstance(found[2], Rejected) and found[2].row == 3
    assert found[3].reason.startswith("duplicate id") and found[3].row == 4


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("10:00:00", "10:00"),
        ("08:00", "08:00"),
        ("9am", "09:00"),
        ("4:00 PM", "16:00"),
        ("3pm", "15:00"),
        ("12am", "00:00"),
        ("12 p.m.", "12:00"),
        ("09:00-05:00", "09:00"),
        ("24:00", "00:00"),
        ("", None),
        ("25:00", None),
        ("9", None),
        ("noon", "12:00"),
        ("13pm", None),
    ],
)
def test_clock(raw, expected):
    assert common.clock(raw, "opens_at", []) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("es", "es"),
        ("en-US", "en"),
        ("Spanish", "es"),
        ("Tagalog", "tl"),
        ("Chinese (Mandarin)", "zh"),
        ("Cantonese", "zh"),
        ("Farsi", "fa"),
        ("Klingonese", None),
        ("", None),
    ],
)
def test_language_code(raw, expected):
    assert common.language_code(raw) == expected


@pytest.mark.parametrize(
    "name, description, expected",
    [
        ("Peer Support Warmline", "", ("warmline", "community")),
        ("County Crisis Line", "", ("crisis_line", "crisis")),
        ("Recovery Helpline", "", ("helpline", "community")),
        ("Recovery Community Center", "A peer-run center.", ("peer_organization", "peer")),
        (
            "Adult Rehabilitation Center",
            "Residential treatment for substance abuse.",
            ("treatment", "treatment"),
        ),
        (
            "Little House",
            "A multipurpose senior center; call our hotline.",
            ("center", "community"),
        ),
    ],
)
def test_classify(name, description, expected):
    assert common.classify(name, description) == expected


def zipped(folder: Path, target: Path, prefix: str = "datapackage/") -> Path:
    """The CSV folder as a zip file, its files under a folder as data packages hold them."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.glob("*.csv")):
            archive.write(path, prefix + path.name)
    return target


def test_a_zipped_csv_package_reads_as_its_folder(tmp_path):
    package = zipped(EXAMPLES / "csv", tmp_path / "hsds.zip")
    assert records(package) == records(EXAMPLES / "csv")


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"datapackage.json": b"{}"}, "holds no services.csv"),
        ({"services.csv": b"\xff\xfe not utf-8"}, "not readable as UTF-8 CSV"),
        ({"services.csv": b"name\nNo id\n"}, "missing column(s) id"),
        ({"../../services.csv": b"id,name\n"}, None),  # a path is never followed: read by name
    ],
)
def test_unusable_zips_are_one_clear_error(tmp_path, members, message):
    package = tmp_path / "hsds.zip"
    with zipfile.ZipFile(package, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    if message is None:
        assert list(hsds.parse(package)) == []
        assert not (tmp_path.parent / "services.csv").exists()
    else:
        with pytest.raises(SourceFormatError, match=re.escape(message)):
            list(hsds.parse(package))


def test_a_damaged_zip_is_a_clear_error(tmp_path):
    package = zipped(EXAMPLES / "csv", tmp_path / "hsds.zip")
    package.write_bytes(package.read_bytes()[:200] + b"\0" * 100 + package.read_bytes()[300:])
    with pytest.raises(SourceFormatError, match="hsds.zip"):
        list(hsds.parse(package))


# ---- HSDS 1.x/2.x CSV packages (their file names differ from 3.x) ----

OLDER_EXAMPLES = Path(__file__).parent / "fixtures" / "hsds-2-examples"
WEEKDAYS_9_TO_5 = [{"day": day, "time": "09:00", "end_time": "17:00"} for day in (1, 2, 3)]


@pytest.mark.parametrize(
    "name, place, address, schedules, contacts, attendance",
    [
        (
            "Never Homeless Helpline",
            "Sanctuary on 5th Street",
            "Address 1, Address 2, New York City, NY 10001, US",
            WEEKDAYS_9_TO_5,  # regular_schedules.csv, weekday 1-3 = Monday-Wednesday
            [],
            "in_person",
        ),
        ("Al-Anon Family Group", "The Example Center", "", [], [], "in_person"),
        ("Shop Assist", "Example City Silvers Building", "", [], [], "in_person"),
        (
            "Dear Teacher Skills Refresh",
            "The Roz Bernstein Building",
            "",
            [],
            [("voice", "(0123) 4567 8900", "42")],  # a phone of the location
            "inactive",
        ),
    ],
)
def test_an_hsds_2_package_keeps_places_hours_and_phones(
    name, place, address, schedules, contacts, attendance
):
    record = {r["name"]: r for r in records(OLDER_EXAMPLES)}[name]
    assert record["location"]["name"] == place
    assert record["location"]["formatted_address"] == address
    assert record["schedules"] == schedules
    assert [(c["kind"], c["value"], c["extension"]) for c in record["contacts"]] == contacts
    assert record["attendance"] == attendance
    assert record["organization"]["url"] == "http://example.com"


def test_an_hsds_2_package_keeps_languages_areas_and_access():
    record = next(r for r in records(OLDER_EXAMPLES) if r["name"] == "Never Homeless Helpline")
    assert record["languages"] == ["en", "es"]
    assert record["service_areas"] == [
        {
            "kind": "text",
            "name": "Sample service area",
            "description": "A description about the service area",
        }
    ]
    assert record["location"]["accessibility_text"] == (
        "disabled_parking Some details regarding the parking lot"
    )
    assert record["location"]["transportation"] == "On the Number 41 bus route."


def test_a_zipped_hsds_2_package_reads_as_its_folder(tmp_path):
    package = zipped(OLDER_EXAMPLES, tmp_path / "hsds2.zip")
    assert records(package) == records(OLDER_EXAMPLES)


@pytest.mark.parametrize(
    "weekday, days",
    [
        ("1", [1]),  # ISO 8601: 1 = Monday (HSDS 1.1.1, openreferral/specification#164)
        ("5", [5]),
        ("7", [0]),  # Sunday
        ("Monday", [1]),  # HSDS 1.0 wrote the day's name
        ("sat", [6]),
        ("Tue, Thursday", [2, 4]),
        ("0", []),
        ("8", []),
        ("Funday", []),
    ],
)
def test_hsds_1_weekday(tmp_path, weekday, days):
    record = with_schedule(tmp_path, byday=None, freq=None, weekday=weekday)
    assert [s["day"] for s in record["schedules"]] == days
    assert [s["time"] for s in record["schedules"]] == ["10:00"] * len(days)
    if not days:
        assert any(f"weekday {weekday.upper()!r}" in reason for _, _, reason in record["issues"])


# ---- Open Referral UK JSON (HSDS-based: older list names, its own page shape) ----


def oruk_service() -> dict:
    """A FICTIONAL service in Open Referral UK's shape (its API's service object)."""
    return {
        "id": "oruk-svc-1",
        "name": "Recovery Peer Support Group",
        "description": "A peer-led group.",
        "status": "active",
        "service_areas": [{"uri": None, "service_area": "Exampleshire"}],
        "languages": [{"id": "l1", "language": "Welsh"}],
        "regular_schedules": [
            {"id": "rs1", "freq": "WEEKLY", "interval": 1, "byday": "MO", "opens_at": "10:00"}
        ],
        "organization": {
            "id": "org-1",
            "name": "Example Recovery Trust",
            "url": "https://example.org",
        },
        "service_at_locations": [
            {
                "id": "sal-1",
                "regular_schedule": [
                    {
                        "id": "rs2",
                        "freq": "WEEKLY",
                        "interval": 1,
                        "byday": "WE",
                        "opens_at": "18:00",
                        "closes_at": "20:00",
                    }
                ],
                "location": {
                    "id": "loc-1",
                    "name": "Example Community Hall",
                    "latitude": 51.45,
                    "longitude": -2.58,
                    "physical_addresses": [
                        {
                            "id": "pa-1",
                            "address_1": "1 Example Road",
                            "city": "Exampleton",
                            "state_province": "",
                            "postal_code": "EX1 1AA",
                            "country": "GB",
                        }
                    ],
                },
            }
        ],
    }


@pytest.mark.parametrize(
    "shape",
    [
        lambda s: s,
        lambda s: [s],
        lambda s: {"totalElements": 1, "totalPages": 1, "number": 1, "size": 1, "content": [s]},
    ],
    ids=["service", "list", "page"],
)
def test_an_open_referral_uk_service_keeps_its_place_and_hours(tmp_path, shape):
    record = only_record(write_json(tmp_path, shape(oruk_service())))
    assert record["source_id"] == "sal-1"
    assert record["location"]["name"] == "Example Community Hall"
    assert record["location"]["formatted_address"] == "1 Example Road, Exampleton, EX1 1AA, GB"
    assert (record["location"]["latitude"], record["location"]["longitude"]) == (51.45, -2.58)
    # the service at its location's schedule, not the service's own
    assert record["schedules"] == [{"day": 3, "time": "18:00", "end_time": "20:00"}]
    assert record["attendance"] == "in_person"
    assert record["languages"] == ["cy"]
    assert record["service_areas"][0]["name"] == "Exampleshire"
    assert record["organization"]["url"] == "https://example.org"
    assert record["issues"] == []


def test_an_open_referral_uk_service_schedule_is_used_without_a_location_one(tmp_path):
    data = oruk_service()
    del data["service_at_locations"][0]["regular_schedule"]
    record = only_record(write_json(tmp_path, data))
    assert record["schedules"] == [{"day": 1, "time": "10:00", "end_time": None}]


# ---- HSDS 3.0's first CSV names (singular) and byday day names ----


def test_a_csv_package_with_singular_file_names_reads_as_the_plural_one(tmp_path):
    folder = tmp_path / "csv"
    folder.mkdir()
    singular = {  # as HSDS 3.0's examples/csv named them first
        "services.csv": "service.csv",
        "organizations.csv": "organization.csv",
        "programs.csv": "program.csv",
        "locations.csv": "location.csv",
        "addresses.csv": "address.csv",
        "phones.csv": "phone.csv",
        "schedules.csv": "schedule.csv",
        "languages.csv": "language.csv",
        "service_areas.csv": "service_area.csv",
    }
    for path in (EXAMPLES / "csv").glob("*.csv"):
        shutil.copy(path, folder / singular.get(path.name, path.name))
    assert (folder / "service.csv").is_file() and (folder / "schedule.csv").is_file()
    assert records(folder) == records(EXAMPLES / "csv")


@pytest.mark.parametrize(
    "byday, days",
    [
        ("TH", [4]),
        ("THU", [4]),  # as HSDS 3.0's examples/csv/schedule.csv writes it
        ("Thursday", [4]),
        ("mo,thu", [1, 4]),
        ("SUN", [0]),
        ("1", []),  # a bare number is no RFC 5545 day
    ],
)
def test_byday_day_names(tmp_path, byday, days):
    assert [s["day"] for s in with_schedule(tmp_path, byday=byday)["schedules"]] == days
