"""The CSV template importer, over the real national lines file and small fictional files."""

import csv
from pathlib import Path

import pytest

from finder.errors import HoursFormatError, SourceFormatError
from finder.ingest.formats import Rejected, common
from finder.ingest.formats.csv_template import COLUMNS, parse, service_area
from finder.ingest.formats.hours import parse_hours

DATA = Path(__file__).resolve().parent.parent / "data"
LINES = DATA / "national-lines" / "lines.csv"
WEEKDAYS = [1, 2, 3, 4, 5]


def write_csv(tmp_path: Path, rows: list[dict], name: str = "resources.csv") -> Path:
    """A template file whose columns are the union of the rows' keys, in first-seen order."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    path = tmp_path / name
    with path.open("w", encoding="utf-8", newline="") as fp:
        writer = csv.DictWriter(fp, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def parse_one(tmp_path: Path, **row: str) -> dict | Rejected:
    """Parse a file holding one row."""
    (result,) = parse(
        write_csv(tmp_path, [{"name": "Harbor Lights Group", "kind": "meeting"} | row])
    )
    return result


@pytest.fixture(scope="module")
def lines() -> dict[str, dict]:
    """The national lines by name."""
    return {record["name"]: record for record in parse(LINES)}


def test_national_lines_all_import(lines):
    assert len(lines) == 16
    assert all(isinstance(record, dict) for record in lines.values())
    assert len({record["source_id"] for record in lines.values()}) == 16


def test_988(lines):
    record = lines["988 Suicide & Crisis Lifeline"]
    assert record["kind"] == "crisis_line"
    assert record["program"] == "crisis"
    assert record["always_open"] is True
    assert record["schedules"] == []
    assert {"kind": "voice", "value": "988", "description": ""} in record["contacts"]
    assert {"kind": "text", "value": "988", "description": ""} in record["contacts"]
    assert record["service_areas"] == [{"kind": "country", "code": "US", "name": "United States"}]
    assert record["languages"] == ["en", "es"]
    assert record["url"] == "https://988lifeline.org"
    assert record["location"] is None
    assert record["issues"] == []


def test_crisis_text_line_has_only_a_text_contact(lines):
    contacts = lines["Crisis Text Line"]["contacts"]
    assert contacts == [{"kind": "text", "value": "Text HOME to 741741", "description": ""}]


def test_nami_helpline_hours(lines):
    record = lines["NAMI HelpLine"]
    assert [s["day"] for s in record["schedules"]] == WEEKDAYS
    assert {(s["time"], s["end_time"]) for s in record["schedules"]} == {("10:00", "22:00")}
    assert record["timezone"] == "America/New_York"
    assert record["always_open"] is False


def test_california_warm_line_serves_the_state(lines):
    record = lines["California Peer-Run Warm Line"]
    assert record["kind"] == "warmline"
    assert record["service_areas"] == [{"kind": "state", "code": "CA", "name": "California"}]


def test_unreadable_hours_are_kept_as_text(lines):
    record = lines["Depression and Bipolar Support Alliance (DBSA) Online Support Groups"]
    assert record["schedules"] == []
    assert record["always_open"] is False
    assert record["hours_text"] == "weekly schedule"
    assert record["issues"] == [
        ("repaired", "hours", "could not read hours 'weekly schedule'; kept as text")
    ]


@pytest.mark.parametrize(
    "name,program",
    [
        ("988 Suicide & Crisis Lifeline", "crisis"),
        ("Online Intergroup of Alcoholics Anonymous", "AA"),
        ("Virtual NA", "NA"),
        ("Al-Anon Electronic Meetings", "Al-Anon"),
        ("SMART Recovery Online", "SMART"),
        ("NAMI HelpLine", "peer"),
        ("SAMHSA National Helpline", None),
        ("7 Cups", "peer"),
    ],
)
def test_program_is_inferred_only_when_obvious(lines, name, program):
    assert lines[name]["program"] == program


def test_directory_alias_and_unspecified_languages(lines):
    record = lines["Virtual NA"]
    assert record["kind"] == "online_directory"
    assert record["languages"] == []
    assert record["languages_text"] == "multiple"
    assert record["service_areas"] == [{"kind": "worldwide", "code": None, "name": "Worldwide"}]


def test_ids_are_stable_slugs_when_there_is_no_id_column(lines):
    assert lines["NAMI HelpLine"]["source_id"] == "nami-helpline-helpline"
    assert [r["source_id"] for r in parse(LINES)] == [r["source_id"] for r in lines.values()]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("24/7", {"always_open": True, "schedules": [], "timezone": None}),
        ("by appointment", {"by_appointment": True, "schedules": []}),
        (
            "Mon,Wed 18:00-19:00; Sat 09:00-12:00",
            {"schedules": [(1, "18:00", "19:00"), (3, "18:00", "19:00"), (6, "09:00", "12:00")]},
        ),
        (
            "Fri-Sun 22:00-02:00 America/Chicago",
            {
                "schedules": [(0, "22:00", "02:00"), (5, "22:00", "02:00"), (6, "22:00", "02:00")],
                "timezone": "America/Chicago",
            },
        ),
        ("Tu 7:30", {"schedules": [(2, "07:30", None)]}),
        (
            "Thurs 09:00-12:00,13:00-17:00",
            {"schedules": [(4, "09:00", "12:00"), (4, "13:00", "17:00")]},
        ),
        ("Daily 08:00-20:00 UTC", {"schedules": [(d, "08:00", "20:00") for d in range(7)]}),
    ],
)
def test_parse_hours(text, expected):
    hours = parse_hours(text)
    hours["schedules"] = [(s["day"], s["time"], s["end_time"]) for s in hours["schedules"]]
    assert hours | expected == hours


@pytest.mark.parametrize(
    "text",
    ["weekly schedule", "Mon 7", "Mon 25:00-26:00", "M 10:00-11:00", "Mon 10:00-10:00", "Mon"],
)
def test_parse_hours_refuses_what_it_cannot_read(text):
    with pytest.raises(HoursFormatError):
        parse_hours(text)


def test_hours_crossing_midnight(tmp_path):
    record = parse_one(tmp_path, hours="Fri,Sat 22:00-02:00", timezone="America/Denver")
    assert record["schedules"] == [
        {"day": 5, "time": "22:00", "end_time": "02:00"},
        {"day": 6, "time": "22:00", "end_time": "02:00"},
    ]
    assert record["timezone"] == "America/Denver"


def test_by_appointment(tmp_path):
    record = parse_one(tmp_path, kind="peer_organization", hours="By appointment")
    assert record["by_appointment"] is True
    assert record["always_open"] is False
    assert record["schedules"] == []


def test_bad_kind_is_rejected_with_spreadsheet_row_number(tmp_path):
    rows = [
        {"name": "Harbor Lights Group", "kind": "meeting"},
        {"name": "Lighthouse Chat", "kind": "chatroom"},
    ]
    first, second = parse(write_csv(tmp_path, rows))
    assert first["name"] == "Harbor Lights Group"
    assert isinstance(second, Rejected)
    assert (second.row, second.field) == (3, "kind")
    assert "chatroom" in second.reason


@pytest.mark.parametrize(
    "row,field",
    [
        ({"timezone": "America/Atlantis"}, "timezone"),
        ({"hours": "Mon 19:00-20:00 Mars/Olympus_Mons"}, "hours"),
        ({"hours": "Mon 19:00 America/Denver", "timezone": "America/Chicago"}, "timezone"),
        ({"name": ""}, "name"),
        ({"kind": ""}, "kind"),
    ],
)
def test_rows_are_rejected(tmp_path, row, field):
    result = parse_one(tmp_path, **row)
    assert isinstance(result, Rejected)
    assert (result.row, result.field) == (2, field)


def test_missing_kind_column_is_a_format_error(tmp_path):
    path = write_csv(tmp_path, [{"name": "Harbor Lights Group", "hours": "24/7"}])
    with pytest.raises(SourceFormatError, match="missing column.*kind"):
        parse(path)


def test_a_file_that_is_not_utf8_is_a_format_error(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("name,kind\nGrupo Añoranza,meeting\n".encode("latin-1"))
    with pytest.raises(SourceFormatError, match='not UTF-8 text .*save it .* as "CSV UTF-8"'):
        parse(path)


@pytest.mark.parametrize(
    "written",
    [
        "Name,Kind,Hours\r\nGrupo Añoranza,Meeting,24/7\r\n".encode(),
        "Name;Kind;Hours\r\nGrupo Añoranza;Meeting;24/7\r\n".encode(),  # where 1,5 is a number
        "Name\tKind\tHours\r\nGrupo Añoranza\tMeeting\t24/7\r\n".encode("utf-16"),  # "Unicode text"
        "\ufeffName,Kind,Hours\nGrupo Añoranza,Meeting,24/7\n".encode("utf-16-le"),
    ],
)
def test_what_spreadsheets_save_as_csv_is_read(tmp_path, written):
    path = tmp_path / "sheet.csv"
    path.write_bytes(written)
    (record,) = parse(path)
    assert (record["name"], record["kind"], record["always_open"]) == (
        "Grupo Añoranza",
        "meeting",
        True,
    )


def test_excel_byte_order_mark_and_header_case(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffName,Kind\r\nHarbor Lights Group,Meeting\r\n".encode())
    (record,) = parse(path)
    assert (record["name"], record["kind"]) == ("Harbor Lights Group", "meeting")


def test_id_column_is_used_and_duplicates_rejected(tmp_path):
    rows = [
        {"id": "hl-1", "name": "Harbor Lights Group", "kind": "meeting"},
        {"id": "", "name": "Lighthouse Forum", "kind": "online_forum"},
        {"id": "hl-1", "name": "Harbor Lights Again", "kind": "meeting"},
    ]
    first, second, third = parse(write_csv(tmp_path, rows))
    assert first["source_id"] == "hl-1"
    assert second["source_id"] == "lighthouse-forum-online-forum"
    assert second["issues"][0][1] == "id"
    assert isinstance(third, Rejected)
    assert (third.row, third.field, third.source_id) == (4, "id", "hl-1")


def test_local_group_with_venue_types_and_accessibility(tmp_path):
    record = parse_one(
        tmp_path,
        hours="Tue 19:00-20:00",
        timezone="America/Los_Angeles",
        address="600 Elm Street",
        city="Redwood City",
        state="ca",
        postal_code="94063",
        latitude="37.4852",
        longitude="-122.2364",
        types="O; W; ZZ",
        accessibility="wheelchair accessible; LOOP",
        serves="US-CA-San Mateo",
        attendance="in person",
        last_verified="2026-11-02",
    )
    assert record["types"] == [("O", "O"), ("W", "W"), ("X", "wheelchair"), ("LOOP", "LOOP")]
    assert ("repaired", "types", "unknown type code 'ZZ' ignored") in record["issues"]
    assert record["location"]["state"] == "CA"
    assert record["location"]["latitude"] == 37.4852
    assert record["location"]["accessibility_text"] == "wheelchair accessible; LOOP"
    assert record["service_areas"] == [
        {"kind": "county", "code": "06081", "name": "San Mateo County"}
    ]
    assert record["attendance"] == "in_person"
    assert record["last_verified"] == "2026-11-02"
    assert record["program"] == "peer"


@pytest.mark.parametrize(
    "latitude, longitude, reason",
    [
        ("95", "-122.2", "out of range"),
        ("37.4", "east", "not numbers"),
        ("37.4", "", "lack a longitude"),
    ],
)
def test_unusable_coordinates_are_dropped_for_geocoding(tmp_path, latitude, longitude, reason):
    record = parse_one(tmp_path, latitude=latitude, longitude=longitude, city="Dover", state="DE")
    assert (record["location"]["latitude"], record["location"]["longitude"]) == (None, None)
    assert any(reason in text for _, _, text in record["issues"])


def test_only_http_links_are_kept(tmp_path):
    record = parse_one(tmp_path, url="javascript:alert(1)", conference_url="https://zoom.us/j/1")
    assert record["url"] == ""
    assert record["conference_url"] == "https://zoom.us/j/1"
    assert record["issues"][0][1] == "url"


@pytest.mark.parametrize(
    "token,expected",
    [
        ("worldwide", {"kind": "worldwide", "code": None, "name": "Worldwide"}),
        ("US", {"kind": "country", "code": "US", "name": "United States"}),
        ("US-NY", {"kind": "state", "code": "NY", "name": "New York"}),
        ("US-CA-San Mateo County", {"kind": "county", "code": "06081", "name": "San Mateo County"}),
        ("US-CA-Atlantis County", None),
        ("XX", None),
    ],
)
def test_service_area(token, expected):
    assert service_area(token) == expected


def test_template_header_matches_the_importer_and_readme():
    template = DATA / "templates" / "resources.csv"
    header = template.read_text(encoding="utf-8").splitlines()
    assert header == [",".join(COLUMNS)]
    assert list(parse(template)) == []
    readme = (DATA / "templates" / "README.md").read_text(encoding="utf-8")
    assert [c for c in COLUMNS if f"| `{c}` |" not in readme] == []


def test_slugify_folds_accents():
    assert common.slugify("Grupo Añoranza (en línea)") == "grupo-anoranza-en-linea"


@pytest.mark.parametrize(
    "hours, expected",
    [
        ("Mon 9am-5pm America/Chicago", ("09:00", "17:00")),
        ("Mon 9:00 AM - 5:00 PM America/Chicago", ("09:00", "17:00")),
        ("Mon noon-3pm America/Chicago", ("12:00", "15:00")),
        ("Mon 10:00-22:00 America/Chicago", ("10:00", "22:00")),
    ],
)
def test_hours_in_12_or_24_hour_form(tmp_path, hours, expected):
    # issue #9: one time parser for every format
    record = parse_one(tmp_path, hours=hours)
    [schedule] = record["schedules"]
    assert (schedule["time"], schedule["end_time"]) == expected


def test_semicolons_inside_a_comma_files_header_do_not_make_it_a_semicolon_file(tmp_path):
    path = tmp_path / "sheet.csv"
    path.write_text(
        'name,kind,"hours (Mon 9-5; Tue 9-5)"\nHarbor Lights Group,meeting,\n', encoding="utf-8"
    )
    (record,) = parse(path)
    assert (record["name"], record["kind"]) == ("Harbor Lights Group", "meeting")


def test_a_semicolon_files_decimal_comma_coordinates_are_read(tmp_path):
    path = tmp_path / "sheet.csv"
    path.write_text(
        "name;kind;latitude;longitude;city;country\n"
        "Herstelgroep Centrum;meeting;52,3676;4,9041;Amsterdam;NL\n",
        encoding="utf-8",
    )
    (record,) = parse(path)
    assert (record["location"]["latitude"], record["location"]["longitude"]) == (52.3676, 4.9041)
