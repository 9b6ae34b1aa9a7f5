"""Ohana CSV importer over the real San Mateo County sample (data/ohana-san-mateo)."""

import csv
import json
import shutil
from pathlib import Path

import pytest

from finder.errors import SourceFormatError
from finder.ingest.formats import Rejected, ohana

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "ohana-san-mateo"


@pytest.fixture(scope="module")
def parsed() -> list:
    return list(ohana.parse(SAMPLE))


@pytest.fixture(scope="module")
def by_id(parsed) -> dict[str, dict]:
    return {r["source_id"]: r for r in parsed if isinstance(r, dict)}


def copy_sample(tmp_path) -> Path:
    folder = tmp_path / "ohana"
    shutil.copytree(SAMPLE, folder)
    return folder


def rewrite(path: Path, change) -> None:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, list(reader)
    change(rows)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def test_one_record_per_location_and_nothing_rejected(parsed):
    assert len(parsed) == 22
    assert [r for r in parsed if isinstance(r, Rejected)] == []
    assert [r["source_id"] for r in parsed] == [str(n) for n in range(1, 23)]


def test_fair_oaks_accessibility_is_coded_with_the_ohana_text(by_id):
    record = by_id["1"]
    assert record["name"] == "Fair Oaks Adult Activity Center"
    assert dict(record["types"]) == {
        "X": "Ohana accessibility: wheelchair",
        "XB": "Ohana accessibility: restroom",
        "PARKING": "Ohana accessibility: disabled_parking",
        "RAMP": "Ohana accessibility: ramp",
    }
    assert record["location"]["accessibility_text"] == (
        "disabled_parking, ramp, restroom, wheelchair"
    )


def test_fair_oaks_place_and_phones(by_id):
    record = by_id["1"]
    location = record["location"]
    assert (location["latitude"], location["longitude"]) == (37.477227, -122.213221)
    assert location["formatted_address"] == "2600 Middlefield Road, Redwood City, CA 94063, US"
    assert location["transportation"] == "SAMTRANS stops in front."
    assert record["contacts"] == [
        {"kind": "voice", "value": "650 780-7525", "extension": "", "description": ""},
        {"kind": "fax", "value": "650 701-0856", "extension": "", "description": ""},
    ]
    assert record["organization"]["name"] == "Peninsula Family Service"
    assert record["languages"] == ["es", "tl"]
    assert record["kind"] == "center" and record["program"] == "community"
    assert record["timezone"] is None


def test_fair_oaks_hours_closing_before_opening_are_kept_as_text(by_id):
    # regular_schedules row 13: Monday opens "9am", closes "03:00". Issue #9: unreadable hours
    # are shown as the source wrote them, never turned into an invented one-hour slot.
    record = by_id["1"]
    assert record["schedules"] == []
    assert record["hours_text"] == "Monday 9am-03:00"
    reason = "Monday closes '03:00' before it opens '9am'; kept as text"
    assert ("repaired", "closes_at", reason) in record["issues"]


def test_location_hours_use_sunday_zero(by_id):
    schedules = by_id["22"]["schedules"]
    assert {"day": 1, "time": "08:00", "end_time": "17:00"} in schedules
    assert schedules[0] == {"day": 0, "time": "11:00", "end_time": "17:00"}
    assert schedules[-1] == {"day": 6, "time": "10:00", "end_time": "18:00"}
    assert len(schedules) == 7  # the Passport Photos service's own hours are not merged in
    assert any(field == "schedules" for _, field, _ in by_id["22"]["issues"])


def test_no_phone_of_a_contact_person_appears(parsed):
    with (SAMPLE / "phones.csv").open(encoding="utf-8") as handle:
        phones = list(csv.DictReader(handle))
    personal = {p["number"] for p in phones if p["contact_id"]}
    organisational = {p["number"] for p in phones if not p["contact_id"]}
    only_personal = personal - organisational
    assert only_personal  # e.g. 703-555-1212, 703-444-1234, 650-555-1212
    values = {c["value"] for r in parsed for c in r["contacts"]}
    assert not values & only_personal
    assert not any(v.startswith("+1") for v in values)  # only contact phones carry a country prefix


def test_contacts_csv_is_never_read(tmp_path):
    folder = copy_sample(tmp_path)
    (folder / "contacts.csv").write_text(
        "id,location_id,name,title,email\n1,1,Ann Persona,Director,ann@example.org\n",
        encoding="utf-8",
    )
    assert "Ann Persona" not in json.dumps(list(ohana.parse(folder)))


def test_phone_kinds_departments_and_placeholders(by_id):
    contacts = by_id["22"]["contacts"]
    assert {
        "kind": "hotline",
        "value": "800 372-6200",
        "extension": "",
        "description": "Hotline",
    } in contacts
    assert {
        "kind": "tty",
        "value": "650 372-6200",
        "extension": "202",
        "description": "Rental Assistance",
    } in contacts
    assert {
        "kind": "text",
        "value": "650-222-5555",
        "extension": "",
        "description": "Passport Help via SMS",
    } in contacts
    assert "123-456-7890" not in {c["value"] for c in contacts}


def test_other_accessibility_values(by_id):
    assert dict(by_id["10"]["types"])["BRAILLE"] == "Ohana accessibility: tape_braille"
    assert dict(by_id["10"]["types"])["ELEVATOR"] == "Ohana accessibility: elevator"
    assert {code for code, _ in by_id["18"]["types"]} == {"X", "XB"}  # "cd" stays text only
    assert by_id["18"]["location"]["accessibility_text"] == "cd, restroom, wheelchair"


def test_languages_are_iso_codes(by_id):
    assert by_id["2"]["languages"] == ["zh", "tl", "it", "es"]  # "Chinese (Mandarin), Tagalog, ..."
    assert by_id["22"]["languages"] == ["zh", "ru", "es", "tl"]  # Cantonese and Taiwanese -> zh
    assert by_id["16"]["languages"] == ["ko"]
    # the source's own words keep what ISO 639-1 cannot (Mandarin vs Cantonese)
    assert by_id["2"]["languages_text"] == "Chinese (Mandarin), Tagalog, Italian, Spanish"
    assert by_id["22"]["languages_text"] == "Cantonese, Russian, Spanish, Tagalog, Taiwanese"


def test_service_areas(by_id):
    assert by_id["1"]["service_areas"] == [{"kind": "place", "name": "Colma", "state": "CA"}]
    assert by_id["15"]["service_areas"] == [
        {"kind": "county", "name": "Alameda County", "state": "CA"},
        {"kind": "county", "name": "San Mateo County", "state": "CA"},
    ]


def test_kinds(by_id):
    kinds = {source_id: r["kind"] for source_id, r in by_id.items()}
    assert kinds.pop("15") == "treatment"  # residential treatment for substance abuse
    assert kinds.pop("3") == "peer_organization"  # Senior Peer Counseling
    assert set(kinds.values()) == {"center"}
    assert by_id["15"]["program"] == "treatment" and by_id["3"]["program"] == "peer"


def test_services_are_listed_by_name(by_id):
    assert by_id["22"]["services"] == ["Passport Photos", "Example Service Name"]


def test_inactive_virtual_and_test_entries(by_id):
    # 20: its only service is defunct, and it is "virtual" with no address
    assert by_id["20"]["attendance"] == "inactive" and by_id["20"]["location"] is None
    assert by_id["21"]["attendance"] == "inactive"
    assert by_id["1"]["attendance"] == "in_person"
    marker = ("warning", "description", "the source marks this entry as test data")
    assert marker in by_id["22"]["issues"]


def test_missing_locations_file_raises(tmp_path):
    folder = copy_sample(tmp_path)
    (folder / "locations.csv").unlink()
    with pytest.raises(SourceFormatError, match=r"locations\.csv"):
        list(ohana.parse(folder))


def test_missing_column_raises_naming_the_file(tmp_path):
    folder = copy_sample(tmp_path)
    text = (folder / "regular_schedules.csv").read_text(encoding="utf-8")
    (folder / "regular_schedules.csv").write_text(
        text.replace("weekday", "day", 1), encoding="utf-8"
    )
    message = r"regular_schedules\.csv: missing column\(s\) weekday"
    with pytest.raises(SourceFormatError, match=message):
        list(ohana.parse(folder))


def test_row_problems_are_repaired_or_rejected_without_stopping(tmp_path):
    folder = copy_sample(tmp_path)

    def break_locations(rows):
        rows[0]["accessibility"] += ", moat"
        rows[1]["name"] = ""
        rows[2]["latitude"] = "north"

    def break_hours(rows):
        rows[0]["weekday"] = "Funday"

    rewrite(folder / "locations.csv", break_locations)
    rewrite(folder / "regular_schedules.csv", break_hours)
    found = list(ohana.parse(folder))
    assert len(found) == 22
    assert found[1] == Rejected("2", "location has no name", row=2, field="name")
    assert any("'moat'" in reason for _, _, reason in found[0]["issues"])
    assert found[2]["location"]["latitude"] is None
    monday = {"day": 1, "time": "08:00", "end_time": "17:00"}
    assert monday not in found[21]["schedules"] and len(found[21]["schedules"]) == 6
