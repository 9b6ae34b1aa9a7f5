"""The SAMHSA treatment list importer, over the real OEPS files and small fictional ones."""

from pathlib import Path

import pytest

from finder.errors import SourceFormatError
from finder.ingest.formats import Rejected
from finder.ingest.formats.samhsa import facility_name, parse, postal_code_for

DATA = Path(__file__).resolve().parent.parent / "data" / "samhsa-treatment"
FACILITY_HEADER = "name1,name2,street1,street2,city,state,zip,zip4,county,latitude,longitude\n"


def split(path: Path) -> tuple[list[dict], list[Rejected]]:
    """(records, rejected) from one file."""
    results = list(parse(path))
    return [r for r in results if isinstance(r, dict)], [
        r for r in results if isinstance(r, Rejected)
    ]


@pytest.fixture(scope="module")
def facilities() -> tuple[list[dict], list[Rejected]]:
    """The substance use treatment facility list."""
    return split(DATA / "SubstanceUseTreatment_Geocoded.csv")


@pytest.fixture(scope="module")
def programs() -> tuple[list[dict], list[Rejected]]:
    """The opioid treatment program list."""
    return split(DATA / "OpioidTreatmentProgram_Geocoded.csv")


def padded(records: list[dict]) -> list[dict]:
    """Records whose ZIP code lost its leading zeros."""
    return [r for r in records if any("leading zeros" in message for _, _, message in r["issues"])]


def by_id(records: list[dict]) -> dict[str, dict]:
    """Records by source_id."""
    return {record["source_id"]: record for record in records}


def test_facility_counts(facilities):
    records, rejected = facilities
    assert (len(records), len(rejected)) == (14_027, 7)  # 14,034 rows
    assert len(by_id(records)) == len(records)
    assert all(r.reason.startswith(f"duplicate of {r.source_id!r} (row ") for r in rejected)
    assert [r.row for r in rejected] == [925, 3021, 3835, 5260, 8144, 10594, 13174]


def test_program_counts(programs):
    records, rejected = programs
    # SOURCE.md says 1,830 programs; the file has 1,831 rows, one an exact repeat.
    assert (len(records), len(rejected)) == (1_830, 1)
    assert len(by_id(records)) == len(records)
    assert rejected[0].row == 1548
    assert (
        rejected[0].source_id == "start-treatment-recovery-centers-inc-119-121-west-124th-st-10027"
    )


def test_a_facility(facilities):
    record = by_id(facilities[0])[
        "aids-action-coalition-dba-thrive-alabama-600-saint-clair-avenue-building-9-suite-23-35801"
    ]
    assert record["kind"] == "treatment"
    assert record["program"] == "treatment"
    assert record["name"] == "AIDS Action Coalition"
    assert record["description"] == (
        "Substance use treatment facility listed by SAMHSA (also known as Thrive Alabama)"
    )
    assert record["regions"] == ["Madison"]
    assert record["issues"] == []
    assert (
        record["location"]
        | {
            "address": "600 Saint Clair Avenue, Building 9 Suite 23",
            "city": "Huntsville",
            "state": "AL",
            "postal_code": "35801",
            "country": "US",
            "latitude": 34.7226273,
            "longitude": -86.5873927,
        }
        == record["location"]
    )


def test_a_program(programs):
    record = by_id(programs[0])["14th-st-clinic-1124-international-blvd-94606"]
    assert record["name"] == "14th St. Clinic"
    assert record["description"] == "Opioid treatment program listed by SAMHSA"
    assert record["location"]["formatted_address"] == "1124 International Blvd., Oakland, CA 94606"
    assert (record["location"]["latitude"], record["location"]["longitude"]) == (
        37.7910289,
        -122.2484527,
    )


def test_facility_zip_codes_regain_leading_zeros(facilities):
    records = padded(facilities[0])
    assert len(records) == 1_382
    states = {r["location"]["state"] for r in records}
    assert states == {"CT", "MA", "ME", "NH", "NJ", "PR", "RI", "VT"}
    waltham = next(r for r in records if r["name"] == "Spectrum Health Systems Inc - Waltham")
    assert waltham["location"]["postal_code"] == "02451"
    message = "postal code '2451' lost its leading zeros; read as 02451"
    assert ("repaired", "postal_code", message) in waltham["issues"]


def test_program_zip_codes_regain_leading_zeros_and_lose_plus_four(programs):
    records = by_id(programs[0])
    assert len(padded(programs[0])) == 232
    south_amboy = records["5034-atlantic-ave-opco-llc-901-ernston-road-08879"]
    assert south_amboy["location"]["postal_code"] == "08879"
    assert all(len(r["location"]["postal_code"]) == 5 for r in records.values())


def test_windows_1252_name_and_three_digit_zip(programs):
    (record,) = [r for r in programs[0] if r["name"].startswith("Clínica de Tratamiento")]
    assert record["location"]["postal_code"] == "00736"
    assert [field for _, field, _ in record["issues"]] == ["ID", "postal_code"]


def test_placeholder_streets_are_dropped(facilities):
    records = [r for r in facilities[0] if any(f == "address" for _, f, _ in r["issues"])]
    assert len(records) == 18
    assert {r["location"]["address"] for r in records} == {""}


@pytest.mark.parametrize(
    "name1,name2,expected",
    [
        ("A New Beginning", "", ("A New Beginning", "")),
        (
            "AIDS Action Coalition",
            "DBA Thrive Alabama",
            ("AIDS Action Coalition", "Thrive Alabama"),
        ),
        ("Mayo Clinic", "Addiction Services", ("Mayo Clinic - Addiction Services", "")),
        (
            "South Suburban Council on",
            "Alcoholism and Substance Abuse",
            ("South Suburban Council on Alcoholism and Substance Abuse", ""),
        ),
    ],
)
def test_facility_name(name1, name2, expected):
    assert facility_name(name1, name2) == expected


@pytest.mark.parametrize(
    "raw,state,expected,issue",
    [
        ("35630", "AL", "35630", False),
        ("02134-1149", "MA", "02134", False),
        ("2134", "MA", "02134", True),
        ("612", "PR", "00612", True),
        ("3563", "AL", None, True),
        ("", "AL", None, True),
    ],
)
def test_postal_code_for(raw, state, expected, issue):
    issues = []
    assert postal_code_for(raw, state, issues) == expected
    assert bool(issues) == issue


def test_bad_coordinates_are_left_for_geocoding(tmp_path):
    path = tmp_path / "facilities.csv"
    path.write_text(
        FACILITY_HEADER
        + "Harbor Lights Clinic,,1 Main Street,,Springfield,IL,62701,,Sangamon,,-89.6\n"
        + "Harbor Lights Clinic,,1 Main Street,,Springfield,IL,62701,,Sangamon,39.8,-89.6\n",
        encoding="utf-8",
    )
    record, duplicate = parse(path)
    assert (record["location"]["latitude"], record["location"]["longitude"]) == (None, None)
    assert record["issues"][0][1] == "latitude"
    assert isinstance(duplicate, Rejected)
    assert duplicate.row == 3


def test_unrecognised_header_is_a_format_error(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("name,kind\nHarbor Lights Group,meeting\n", encoding="utf-8")
    with pytest.raises(SourceFormatError, match="unrecognised header"):
        parse(path)


def test_a_row_without_its_trailing_empty_cells_reads_them_as_blank(tmp_path):
    """Spreadsheets drop a row's trailing empty cells: the row is read, not the file stopped."""
    path = tmp_path / "facilities.csv"
    path.write_text(
        FACILITY_HEADER + "Harbor Lights Clinic,,1 Main Street,,Springfield,IL,62701\n",
        encoding="utf-8",
    )
    [record] = parse(path)
    assert record["name"] == "Harbor Lights Clinic"
    assert record["location"]["postal_code"] == "62701"
    assert (record["location"]["latitude"], record["location"]["longitude"]) == (None, None)
    assert record["regions"] == []
