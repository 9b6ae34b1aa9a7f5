"""Tests for the BMLT importer: the real GNYR sample, then small fictional rows."""

import json
from collections import Counter
from pathlib import Path

import pytest

from finder.errors import SourceFormatError
from finder.ingest.formats import Rejected
from finder.ingest.formats.bmlt import parse
from finder.ingest.formats.bmlt_formats import FORMAT_CODES, WORLD_ID_CODES
from finder.ingest.load import load_source
from finder.vocabulary import types

DATA = Path(__file__).resolve().parent.parent / "data" / "bmlt-gnyr"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


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


@pytest.mark.parametrize(
    "answer, message",
    [
        ({"error": "no such switcher"}, "found an object without meetings"),
        ({}, "found an object without meetings"),
        ({"meetings": {"1": {}}}, "meetings: expected a JSON array of objects, found an object"),
        ({"meetings": [], "formats": ["O"]}, "formats: item 0 is a string, expected an object"),
        ("GetSearchResults", "expected a JSON array of objects, found a string"),
    ],
)
def test_answers_that_are_not_meetings_are_a_source_format_error(tmp_path, answer, message):
    with pytest.raises(SourceFormatError, match=message):
        parse(write_rows(tmp_path, answer))


def test_get_used_formats_answer_is_read(tmp_path):
    # ?switcher=GetSearchResults&get_used_formats=1 answers {"meetings": [...], "formats": [...]}
    sweden = FIXTURES / "bmlt-sweden"
    answer = {
        "meetings": json.loads((sweden / "GetSearchResults.json").read_text(encoding="utf-8")),
        "formats": json.loads((sweden / "GetFormats.json").read_text(encoding="utf-8")),
    }
    records = list(parse(write_rows(tmp_path, answer)))
    assert [(r["source_id"], r["types"]) for r in records] == [
        ("201", [("C", "BMLT format S: Slutet möte")]),
        ("202", [("O", "BMLT format Ö: Öppet möte")]),
    ]
    # with a GetFormats file as well, both are read
    formats = [{"key_string": "WC", "lang": "sv", "id": "33", "world_id": "WCHR",
                "name_string": "Rullstol"}]  # fmt: skip
    answer["meetings"][0]["formats"] = "S,WC"
    answer["meetings"][0]["format_shared_id_list"] += ",33"
    path = write_rows(tmp_path, answer)
    first = next(parse(path, formats_path=write_formats(tmp_path, formats)))
    assert [code for code, _ in first["types"]] == ["C", "X"]


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


def parse_by_id(path: Path, **files) -> dict:
    """The records parse yields for a GetSearchResults file, by source_id."""
    return {r["source_id"]: r for r in parse(path, **files)}


def write_formats(tmp_path: Path, entries: list[dict]) -> Path:
    """Write a GetFormats file and return its path."""
    path = tmp_path / "formats.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    return path


# An Italian server's answers (tests/fixtures/bmlt-italy, the BMLT root server's stock Italian and
# English formats): keys in Italian without world ids, the English of the same ids with them.
@pytest.mark.parametrize(
    "source_id, types, issues",
    [
        (
            "101",
            [("O", "BMLT format Ap.: Aperta"), ("W", "BMLT format D: Donne"),
             ("X", "BMLT format SR: Sedia a rotelle")],
            [],
        ),
        (
            # "C" is Concetti (id 45, Concepts: no vocabulary type), not Closed; "M" is
            # Maratona (id 35, Open-Ended, no world id in any language), not Men.
            "102",
            [("C", "BMLT format Ch.: Chiusa"), ("M", "BMLT format U: Uomini")],
            [("repaired", "formats", "format key 'M' (Maratona, it) has no world id; ignored")],
        ),
        (
            # The same server's other "M", Meditazione, is id 42: Restricted Attendance (RA).
            "103",
            [("O", "BMLT format Ap.: Aperta"), ("D", "BMLT format Disc.: Discussione")],
            [],
        ),
    ],
)  # fmt: skip
def test_italian_server_formats_mean_what_their_ids_mean(source_id, types, issues):
    record = parse_by_id(FIXTURES / "bmlt-italy" / "GetSearchResults.json")[source_id]
    assert record["types"] == types
    assert [i for i in record["issues"] if i[1] == "formats"] == issues


def test_italian_keys_without_english_formats_are_never_read_as_english(tmp_path):
    for name in ("GetSearchResults.json", "GetFormats.json"):
        (tmp_path / name).write_bytes((FIXTURES / "bmlt-italy" / name).read_bytes())
    records = parse_by_id(tmp_path / "GetSearchResults.json")
    assert [records[i]["types"] for i in ("101", "102", "103")] == [[], [], []]
    assert ("repaired", "formats", "format key 'D' (Donne, it) has no world id; ignored") in (
        records["101"]["issues"]
    )


def test_italian_keys_with_only_english_formats_are_never_read_as_english(tmp_path):
    """English "D" is id 4 (Discussion); the Italian meeting's "D" is id 32 (Donne)."""
    (tmp_path / "GetSearchResults.json").write_bytes(
        (FIXTURES / "bmlt-italy" / "GetSearchResults.json").read_bytes()
    )
    english = FIXTURES / "bmlt-italy" / "GetFormats-en.json"
    records = parse_by_id(tmp_path / "GetSearchResults.json", formats_path=english)
    assert ("D", "BMLT format D: Discussion") not in records["101"]["types"]
    reason = "format key 'D' has none of the meeting's format ids in GetFormats; ignored"
    assert ("repaired", "formats", reason) in records["101"]["issues"]


@pytest.mark.parametrize(
    "source_id, types",
    [("201", [("C", "BMLT format S: Slutet möte")]), ("202", [("O", "BMLT format Ö: Öppet möte")])],
)
def test_swedish_server_formats_are_read_by_world_id(source_id, types):
    # tests/fixtures/bmlt-sweden: the server answers GetFormats in Swedish only.
    record = parse_by_id(FIXTURES / "bmlt-sweden" / "GetSearchResults.json")[source_id]
    assert record["types"] == types
    assert record["issues"] == []


@pytest.mark.parametrize(
    "entries, row, types, issue",
    [
        # the world id decides, whatever the key would mean on an English server
        ([{"key_string": "D", "lang": "en", "id": "32", "world_id": "W"}], {}, ["W"], None),
        ([{"key_string": "C", "lang": "de", "id": "4", "world_id": "CLOSED"}], {}, ["C"], None),
        # an English key says more than its world id (GNYR's SD, Speaker/Discussion, is SPK)
        (
            [{"key_string": "SD", "lang": "en", "id": "22", "world_id": "SPK"}], {}, ["SP", "D"],
            None,
        ),
        # no world id, or LANG (which language?): an English key is read as such
        ([{"key_string": "NC", "lang": "en", "id": "16", "world_id": ""}], {}, ["NOKIDS"], None),
        ([{"key_string": "ES", "lang": "en", "id": "9", "world_id": "LANG"}], {}, ["S"], None),
        # no world id in any language and not English: not read
        (
            [{"key_string": "D", "lang": "it", "id": "32", "name_string": "Donne"}], {}, [],
            "format key 'D' (Donne, it) has no world id; ignored",
        ),
        (
            [{"key_string": "Q", "lang": "en", "id": "70", "world_id": "ZZZ"}], {}, [],
            "format key 'Q' has world id 'ZZZ', which is not known; ignored",
        ),
        # a key spelt in two languages is the one among the meeting's format ids
        (
            [{"key_string": "C", "lang": "en", "id": "4", "world_id": "CLOSED"},
             {"key_string": "C", "lang": "it", "id": "45"},
             {"key_string": "CP", "lang": "en", "id": "45", "world_id": "CPT"}],
            {"format_shared_id_list": "45"}, [], None,
        ),
        (
            [{"key_string": "C", "lang": "it", "id": "45"},
             {"key_string": "C", "lang": "en", "id": "4", "world_id": "CLOSED"}],
            {"format_shared_id_list": "4"}, ["C"], None,
        ),
        # a translation's world id, English first, tells what the server's own entry means
        (
            [{"key_string": "D", "lang": "it", "id": "32"},
             {"key_string": "F", "lang": "fr", "id": "32", "world_id": "DISC"},
             {"key_string": "W", "lang": "en", "id": "32", "world_id": "W"}],
            {"format_shared_id_list": "32"}, ["W"], None,
        ),
    ],
)  # fmt: skip
def test_what_a_format_means(tmp_path, entries, row, types, issue):
    key = entries[0]["key_string"]
    rows = [make_row(formats=key, **row)]
    (record,) = parse(write_rows(tmp_path, rows), formats_path=write_formats(tmp_path, entries))
    assert [code for code, _ in record["types"]] == types
    assert [i[2] for i in record["issues"] if i[1] == "formats"] == ([issue] if issue else [])


LINK = "https://meet.example.org/j/1"


# Attendance formats (BMLT's VM, HY with world id HYBR, TC): a place temporarily closed is
# inactive unless there is an online option, as for Meeting Guide's type TC; VM and HY tell
# attendance only on servers older than venue_type. make_row has a street and a city.
@pytest.mark.parametrize(
    "venue_type, formats, link, attendance, types",
    [
        ("1", "O,TC", "", "inactive", ["O", "TC"]),
        ("1", "TC", LINK, "online", ["TC"]),
        ("3", "TC", LINK, "online", ["TC"]),
        ("2", "TC,VM", LINK, "online", ["TC", "ONL"]),
        ("4", "O", "", "inactive", ["O"]),
        ("1", "VM", LINK, "in_person", ["ONL"]),  # the server's venue_type decides
        ("3", "HY,VM", LINK, "hybrid", ["ONL"]),
        ("", "VM,O", LINK, "online", ["ONL", "O"]),  # not hybrid, though it has a city
        ("", "HY", LINK, "hybrid", []),
        ("", "VM,HY", LINK, "hybrid", ["ONL"]),
        ("", "TC", "", "inactive", ["TC"]),
        ("", "O", LINK, None, ["O"]),  # unknown: the shared rules infer it from link and place
    ],
)
def test_attendance_formats(tmp_path, venue_type, formats, link, attendance, types):
    row = make_row(venue_type=venue_type, formats=formats, virtual_meeting_link=link)
    (record,) = parse(write_rows(tmp_path, [row]))
    assert (record["attendance"], [c for c, _ in record["types"]]) == (attendance, types)
    assert [i for i in record["issues"] if i[1] == "formats"] == []


@pytest.mark.parametrize(
    "source_id, attendance, types",
    [
        ("104", "online", [("O", "BMLT format Ap.: Aperta"),
                           ("ONL", "BMLT format VM: Virtual Meeting")]),
        ("105", "inactive", [("C", "BMLT format Ch.: Chiusa"),
                             ("TC", "BMLT format TC: Temporarily Closed Facility")]),
    ],
)  # fmt: skip
def test_italian_server_attendance_formats(source_id, attendance, types):
    record = parse_by_id(FIXTURES / "bmlt-italy" / "GetSearchResults.json")[source_id]
    assert (record["attendance"], record["types"]) == (attendance, types)


def test_old_server_attendance_as_stored(tmp_path, db, geocoder):
    # A server without venue_type: its formats say how each meeting is attended.
    rows = [
        make_row(id_bigint="1", venue_type="", formats="VM,O", virtual_meeting_link=LINK),
        make_row(id_bigint="2", venue_type="", formats="HY,O", virtual_meeting_link=LINK),
        make_row(id_bigint="3", venue_type="", formats="TC,O"),
        make_row(id_bigint="4", venue_type="", formats="O", virtual_meeting_link=LINK),
    ]
    source = {"id": "na-old", "name": "NA (old server)", "format": "bmlt", "program": "NA",
              "default_timezone": "America/New_York"}  # fmt: skip
    load_source(db, source, parse(write_rows(tmp_path, rows)), geocoder)
    stored = db.query(
        "select r.source_id, r.attendance, group_concat(t.code, ' ') as codes from resources r "
        "left join resource_types t on t.resource_id = r.id group by r.id order by r.source_id"
    )
    assert [(r["source_id"], r["attendance"], sorted(r["codes"].split())) for r in stored] == [
        ("1", "online", ["O", "ONL"]),
        ("2", "hybrid", ["O"]),
        ("3", "inactive", ["O", "TC"]),
        ("4", "hybrid", ["O"]),  # nothing said: a link and a place, inferred hybrid
    ]


@pytest.mark.parametrize(
    "venue_type, formats, link, placed",
    [
        ("2", "O", LINK, False),  # online: the street is no place to go
        ("", "VM", LINK, False),
        ("1", "TC", LINK, False),  # closed building, meeting online
        ("1", "TC", "", True),  # inactive: still shown where it meets
        ("3", "O", LINK, True),
    ],
)
def test_online_meetings_are_not_placed_at_their_street(
    tmp_path, db, geocoder, venue_type, formats, link, placed
):
    row = make_row(venue_type=venue_type, formats=formats, virtual_meeting_link=link)
    source = {"id": "na-x", "name": "NA (example)", "format": "bmlt", "program": "NA",
              "default_timezone": "America/New_York"}  # fmt: skip
    load_source(db, source, parse(write_rows(tmp_path, [row])), geocoder)
    (stored,) = db.query(
        "select l.latitude from resources r left join locations l on l.id = r.location_id"
    )
    assert (stored["latitude"] is not None) == placed
