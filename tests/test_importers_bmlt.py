"""Tests for the BMLT importer: the real GNYR sample, then small fictional rows."""

import json
from collections import Counter
from pathlib import Path

import pytest

from finder.errors import SourceFormatError
from finder.ingest.formats import Rejected
from finder.ingest.formats.bmlt import FORMAT_CODES, WORLD_ID_CODES, parse
from finder.vocabulary import types

DATA = Path(__file__).resolve().parent.parent / "data" / "bmlt-gnyr"


@pytest.fixture(scope="module")
def results():
    """Everything parse yields for the real sample."""
    return list(parse(DATA / "GetSearchResults.json"))


@pytest.fixture(scope="module")
def by_id(results):
    """The real records by source_id."""
    return {r["source_id"]: r for r in results if not isinstance(r, Rejected)}


def make_row(**overrides) -> dict:
    """A fictional BMLT row, every value a string as the API sends it."""
    row = {
        "id_bigint": "9001", "meeting_name": "Hope Fictional", "weekday_tinyint": "2",
        "venue_type": "1", "start_time": "19:00:00", "duration_time": "01:00:00",
        "time_zone": "", "formats": "O,WC", "service_body_bigint": "77",
        "service_body_name": "Example Area", "latitude": "40.5", "longitude": "-74.5",
        "location_text": "Example Hall", "location_street": "1 Sample St",
        "location_municipality": "Exampleton", "location_province": "NY",
        "location_postal_code_1": "10001", "location_nation": "USA",
    }  # fmt: skip
    row.update(overrides)
    return row


def write_rows(tmp_path: Path, rows) -> Path:
    """Write a GetSearchResults file (no GetFormats beside it) and return its path."""
    path = tmp_path / "GetSearchResults.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    return path


def test_real_sample_parses_completely(results):
    assert len(results) == 1513
    assert not [r for r in results if isinstance(r, Rejected)]


def test_real_sample_attendance_and_formats(results):
    assert Counter(r["attendance"] for r in results) == {"in_person": 1513}
    issues = [i for r in results for i in r["issues"] if i[1] == "formats"]
    assert issues == []


def test_saturday_is_day_six(by_id):
    meeting = by_id["2"]
    assert meeting["name"] == "Nothing Macho"
    assert meeting["schedules"] == [{"day": 6, "time": "14:00", "end_time": "15:30"}]
    assert meeting["organization"]["name"] == "Bronx Area Service"
    assert meeting["regions"] == ["Bronx", "Norwood"]


def test_sunday_is_day_zero_and_wheelchair_is_x(by_id):
    meeting = by_id["7"]
    assert meeting["name"] == "Beginner Meeting on Sunday"
    assert meeting["schedules"] == [{"day": 0, "time": "10:45", "end_time": "12:15"}]
    assert ("X", "BMLT format WC: Wheelchair") in meeting["types"]
    assert ("BE", "BMLT format B: Beginners") in meeting["types"]


@pytest.mark.parametrize(
    "source_id, name, schedule",
    [
        ("112", "Our Primary Purpose ( O.P.P)", {"day": 5, "time": "23:00", "end_time": "00:30"}),
        ("751", "Midnight Hope", {"day": 5, "time": "23:59", "end_time": "01:29"}),
    ],
)
def test_meetings_crossing_midnight(by_id, source_id, name, schedule):
    assert by_id[source_id]["name"] == name
    assert by_id[source_id]["schedules"] == [schedule]


def test_real_location_and_language(by_id):
    location = by_id["2"]["location"]
    assert location["formatted_address"] == "3424 Kossuth Ave., New York, NY 10467"
    assert location["latitude"] == pytest.approx(40.8806192784682)
    assert location["country"] == "US"
    assert by_id["32"]["languages"] == ["es"]
    assert ("S", "BMLT format ES: Espanol") in by_id["32"]["types"]


def test_bmlt_field_prompts_are_removed(by_id):
    transport = by_id["37"]["location"]["transportation"]
    assert transport == "Bus: Bus Bx 12 hasta Jerome Ave; Train: Tren D o 4 hasta Fordham Rd"
    assert ("repaired", "bus_lines", "BMLT field prompt removed") in by_id["37"]["issues"]


def test_long_duration_is_kept_as_published(by_id):
    # issue #9: a long meeting keeps its published length (no silent 60-minute truncation)
    assert by_id["2676"]["schedules"] == [{"day": 5, "time": "20:30", "end_time": "08:30"}]


@pytest.mark.parametrize(
    "duration, end_time",
    [("01:30:00", "20:30"), ("24:00:00", "18:59"), ("25:00:00", None), ("soon", None)],
)
def test_durations(tmp_path, duration, end_time):
    (record,) = parse(
        write_rows(tmp_path, [make_row(start_time="19:00:00", duration_time=duration)])
    )
    assert record["schedules"][0]["end_time"] == end_time


def test_twelve_hour_start_time_is_read(tmp_path):
    (record,) = parse(write_rows(tmp_path, [make_row(start_time="7:30 PM")]))
    assert record["schedules"][0]["time"] == "19:30"


def test_street_only_in_location_text_is_moved(by_id):
    location = by_id["2677"]["location"]
    assert location["address"] == "230 South 7th Ave"
    assert location["name"] is None


def test_every_english_format_is_known_and_mapped_to_vocabulary():
    formats = json.loads((DATA / "GetFormats.json").read_text(encoding="utf-8"))
    keys = {f["key_string"] for f in formats if f["lang"] == "en"}
    assert keys <= set(FORMAT_CODES)
    codes = {c for mapped in [*FORMAT_CODES.values(), *WORLD_ID_CODES.values()] for c in mapped}
    assert codes <= set(types())


def test_invalid_json_is_a_source_format_error(tmp_path):
    path = tmp_path / "GetSearchResults.json"
    path.write_text('[{"id_bigint": "1",', encoding="utf-8")
    with pytest.raises(SourceFormatError, match="not valid JSON"):
        parse(path)


def test_object_instead_of_array_is_a_source_format_error(tmp_path):
    path = write_rows(tmp_path, {"meetings": [make_row()]})
    with pytest.raises(
        SourceFormatError, match="expected a JSON array of objects, found an object"
    ):
        parse(path)


def test_array_item_that_is_not_an_object_is_a_source_format_error(tmp_path):
    with pytest.raises(SourceFormatError, match="item 1 is a string"):
        parse(write_rows(tmp_path, [make_row(), "9002"]))


def test_bad_weekday_rejects_only_that_row(tmp_path):
    rows = [make_row(), make_row(id_bigint="9002", weekday_tinyint="9"), make_row(id_bigint="9003")]
    results = list(parse(write_rows(tmp_path, rows)))
    rejected = results[1]
    assert isinstance(rejected, Rejected)
    assert "weekday" in rejected.reason
    assert (rejected.source_id, rejected.row, rejected.field) == ("9002", 1, "weekday_tinyint")
    assert [r["source_id"] for r in (results[0], results[2])] == ["9001", "9003"]


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"id_bigint": ""}, "id_bigint"),
        ({"start_time": "9"}, "start_time"),
        ({"start_time": "25:00:00"}, "start_time"),
        ({"weekday_tinyint": ""}, "weekday_tinyint"),
    ],
)
def test_unusable_rows_are_rejected(tmp_path, overrides, field):
    (result,) = parse(write_rows(tmp_path, [make_row(**overrides)]))
    assert isinstance(result, Rejected)
    assert result.field == field


def test_virtual_meeting_without_address(tmp_path):
    row = make_row(
        venue_type="2", location_street="", location_text="", location_municipality="",
        virtual_meeting_link="https://example.org/join", phone_meeting_number="+1 555 0100",
    )  # fmt: skip
    (record,) = parse(write_rows(tmp_path, [row]))
    assert record["attendance"] == "online"
    assert record["location"] is None
    assert record["conference_url"] == "https://example.org/join"
    assert record["conference_phone"] == "+1 555 0100"


@pytest.mark.parametrize(
    "venue_type, attendance", [("1", "in_person"), ("3", "hybrid"), ("4", "inactive"), ("9", None)]
)
def test_venue_types(tmp_path, venue_type, attendance):
    (record,) = parse(write_rows(tmp_path, [make_row(venue_type=venue_type)]))
    assert record["attendance"] == attendance
    assert (attendance is None) == any(i[1] == "venue_type" for i in record["issues"])


def test_zero_latitude_is_dropped_with_an_issue(tmp_path):
    (record,) = parse(write_rows(tmp_path, [make_row(latitude="0")]))
    assert (record["location"]["latitude"], record["location"]["longitude"]) == (None, None)
    assert record["issues"] == [
        ("repaired", "latitude", "coordinates (0, -74.5) have a zero latitude; ignored")
    ]


@pytest.mark.parametrize("duration", ["", "00:00:00"])
def test_missing_duration_means_no_end_time(tmp_path, duration):
    (record,) = parse(write_rows(tmp_path, [make_row(duration_time=duration)]))
    assert record["schedules"] == [{"day": 1, "time": "19:00", "end_time": None}]


def test_format_keys_without_getformats(tmp_path):
    (record,) = parse(write_rows(tmp_path, [make_row(formats="SD, WC,XYZ,To")]))
    assert record["types"] == [
        ("SP", "BMLT format SD"),
        ("D", "BMLT format SD"),
        ("X", "BMLT format WC"),
    ]
    assert record["issues"] == [("repaired", "formats", "unknown format key 'XYZ' ignored")]


def test_unknown_key_falls_back_to_world_id(tmp_path):
    formats = tmp_path / "formats.json"
    entry = {"key_string": "RC", "name_string": "Rollstuhl", "lang": "en", "world_id": "WCHR"}
    formats.write_text(json.dumps([entry]), encoding="utf-8")
    (record,) = parse(write_rows(tmp_path, [make_row(formats="RC")]), formats_path=formats)
    assert record["types"] == [("X", "BMLT format RC: Rollstuhl")]


def test_unpublished_meeting_is_never_listed(tmp_path):
    # issue #9: what a source marks as not for the public never appears
    (result,) = parse(write_rows(tmp_path, [make_row(published="0")]))
    assert isinstance(result, Rejected) and result.field == "published"
