"""Any input, however hostile, gives records, row-level rejections or one SourceFormatError.

Hypothesis writes feeds of every format from arbitrary values (wrong types, huge numbers, deep
nesting, scripts, control characters) and imports them for real into one database: nothing may
raise anything else, and the import never fails half-way (issue #14, "hostile input").
"""

import csv
import gzip
import hashlib
import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finder.errors import SourceFormatError
from finder.ingest.formats import (
    Rejected,
    bmlt,
    bmlt_export,
    csv_template,
    hsds,
    meeting_guide,
    ohana,
    samhsa,
)
from finder.ingest.load import load_source
from finder.store import connect, init_db

from .conftest import FIXTURES

pytestmark = pytest.mark.properties

WORDS = [
    "19:00", "7:30 PM", "noon", "javascript:alert(1)", "+1 646 558 8656,,1#", "0", "-0", "1e400",
    "<script>x</script>", "America/New_York", "Mars/Base", "yes", "no", "TC", "https://zoom.us/j/1",
    "Philadelphia, PA 19103, USA", "10119 Berlin", "\ufeff", "",
]  # fmt: skip
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(WORDS),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4), max_leaves=8)


def rows_of(keys):
    return st.lists(st.dictionaries(st.sampled_from(keys), values, max_size=len(keys)), max_size=4)


MEETING_GUIDE_KEYS = [
    "slug", "id", "name", "day", "time", "end_time", "timezone", "types", "address", "city",
    "state", "postal_code", "country", "formatted_address", "latitude", "longitude",
    "approximate", "attendance_option", "conference_url", "conference_phone", "location",
    "notes", "url", "feedback_url", "updated", "regions", "group",
]  # fmt: skip
BMLT_KEYS = [
    "id_bigint", "meeting_name", "weekday_tinyint", "start_time", "duration_time", "time_zone",
    "venue_type", "formats", "latitude", "longitude", "location_street", "location_text",
    "location_municipality", "location_province", "location_postal_code_1", "location_nation",
    "virtual_meeting_link", "phone_meeting_number", "comments",
]  # fmt: skip
CSV_COLUMNS = [
    "id", "name", "kind", "phone", "text", "url", "hours", "timezone", "serves", "address",
    "city", "state", "postal_code", "country", "latitude", "longitude", "attendance", "types",
]  # fmt: skip
HSDS_KEYS = ["id", "name", "status", "url", "organization", "service_at_locations", "schedules"]


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    db = connect(str(tmp_path_factory.mktemp("properties") / "finder.db"))
    init_db(db)
    yield db
    db.close()


def import_anything(db, geocoder, parse, path, format_name):
    """Parse and load; only SourceFormatError may stop it, and a stop changes nothing."""
    source = {"id": format_name, "name": format_name, "format": format_name}
    try:
        items = list(parse(path))
    except SourceFormatError:
        return
    assert all(isinstance(item, dict | Rejected) for item in items)
    before = db.execute("select count(*) from resources").fetchone()[0]
    try:
        summary = load_source(
            db, {**source, "default_timezone": "America/New_York"}, items, geocoder
        )
    except SourceFormatError:
        assert db.execute("select count(*) from resources").fetchone()[0] == before
        return
    assert summary.added + summary.updated + summary.unchanged + summary.rejected <= len(items)


@given(rows=rows_of(MEETING_GUIDE_KEYS))
def test_any_meeting_guide_feed(tmp_path, database, geocoder, rows):
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    import_anything(database, geocoder, meeting_guide.parse, path, "meeting_guide")


@given(rows=rows_of(BMLT_KEYS))
def test_any_bmlt_answer(tmp_path, database, geocoder, rows):
    path = tmp_path / "GetSearchResults.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    import_anything(database, geocoder, bmlt.parse, path, "bmlt")


@given(rows=rows_of(BMLT_KEYS), junk=st.lists(st.binary(max_size=40), max_size=3))
def test_any_bmlt_export(tmp_path, database, geocoder, rows, junk):
    lines = [json.dumps(row).encode() for row in rows] + [j.replace(b"\n", b" ") for j in junk]
    body = gzip.compress(b"\n".join(lines))
    (tmp_path / "meetings").mkdir(exist_ok=True)
    (tmp_path / "meetings" / "root-1.ndjson.gz").write_bytes(body)
    manifest = {
        "schema_version": 1,
        "files": [
            {
                "path": "meetings/root-1.ndjson.gz",
                "size": len(body),
                "sha256": hashlib.sha256(body).hexdigest(),
            }
        ],
        "root_servers": [{"id": 1}],
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    import_anything(
        database, geocoder, bmlt_export.parse, tmp_path / "manifest.json", "bmlt_export"
    )


MANIFEST_KEYS = ["schema_version", "files", "root_servers", "stale_root_servers"]


@given(manifest=st.dictionaries(st.sampled_from(MANIFEST_KEYS), values, max_size=4))
def test_any_bmlt_export_manifest(tmp_path, manifest):
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"schema_version": 1} | manifest))
    try:
        bmlt_export.read_manifest(path)
    except SourceFormatError:
        pass


@given(rows=st.lists(st.lists(st.text(max_size=40), max_size=len(CSV_COLUMNS) + 2), max_size=4))
def test_any_csv_template_sheet(tmp_path, database, geocoder, rows):
    path = tmp_path / "sheet.csv"
    path.write_bytes(csv_bytes(CSV_COLUMNS, rows))
    import_anything(database, geocoder, csv_template.parse, path, "csv_template")


@given(items=rows_of(HSDS_KEYS))
def test_any_hsds_document(tmp_path, database, geocoder, items):
    path = tmp_path / "services.json"
    path.write_text(json.dumps({"contents": items}), encoding="utf-8")
    import_anything(database, geocoder, hsds.parse, path, "hsds")


# Ohana's tables, with the columns the importer reads; ids from a small pool, so rows join.
OHANA_TABLES = {
    "organizations.csv": ["id", "name", "description", "website"],
    "locations.csv": [
        "id", "organization_id", "name", "accessibility", "description", "languages",
        "latitude", "longitude", "short_desc", "transportation", "website", "virtual",
    ],
    "addresses.csv": [
        "location_id", "address_1", "address_2", "city", "state_province", "postal_code",
        "country",
    ],
    "services.csv": [
        "id", "location_id", "name", "description", "languages", "service_areas", "status",
        "website",
    ],
    "phones.csv": [
        "location_id", "organization_id", "service_id", "contact_id", "number", "number_type",
        "extension",
    ],
    "regular_schedules.csv": ["location_id", "service_id", "weekday", "opens_at", "closes_at"],
}  # fmt: skip
cells = st.one_of(st.sampled_from(WORDS), st.text(max_size=30))
# Half the time a cell holds what its column should, so rows join and hours get read.
FITTING = {
    "id": st.sampled_from(["1", "2"]),
    "weekday": st.sampled_from(["Monday", "Sun", "3", "Funday"]),
    "opens_at": st.sampled_from(["9:00", "09:00:00", "5pm"]),
    "closes_at": st.sampled_from(["17:00", "23:59", "8:00"]),
    "number": st.sampled_from(["650-555-0100", "911", "+44 20 7946 0000"]),
    "latitude": st.sampled_from(["37.5", "91", "1e400"]),
    "longitude": st.sampled_from(["-122.3", "-181"]),
}


def cell_of(column):
    fitting = FITTING.get("id" if column.endswith("id") else column)
    return cells if fitting is None else st.one_of(fitting, cells)


def csv_bytes(columns, rows) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([columns, *rows])
    return buffer.getvalue().encode("utf-8", errors="surrogatepass")


@st.composite
def ohana_folders(draw):
    """The two required tables and some others, a few rows each; now and then a column short."""
    tables = {}
    for name, columns in OHANA_TABLES.items():
        if name not in ohana.REQUIRED_FILES and draw(st.booleans()):
            continue
        header = draw(st.permutations(columns))[
            : len(columns) - draw(st.sampled_from([0, 0, 0, 1]))
        ]
        row = st.tuples(*map(cell_of, header)).map(list)
        rows = draw(st.lists(row, max_size=3))
        tables[name] = csv_bytes(header, rows)
    return tables


@given(tables=ohana_folders())
def test_any_ohana_folder(tmp_path, database, geocoder, tables):
    folder = tmp_path / "ohana"
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    for name, body in tables.items():
        (folder / name).write_bytes(body)
    import_anything(database, geocoder, ohana.parse, folder, "ohana")


@given(
    columns=st.sampled_from([samhsa.FACILITY_COLUMNS, samhsa.OTP_COLUMNS]),
    rows=st.lists(st.lists(cells, max_size=12), max_size=4),
    junk=st.binary(max_size=30),
)
def test_any_samhsa_list(tmp_path, database, geocoder, columns, rows, junk):
    path = tmp_path / "facilities.csv"
    path.write_bytes(csv_bytes(columns, rows) + junk)
    import_anything(database, geocoder, samhsa.parse, path, "samhsa")


@pytest.mark.parametrize(
    "content",
    ["[" * 100_000 + "]" * 100_000, "[" + "9" * 5000 + "]", "\ufeff[]", "\x00", "{}", '"x"'],
)
def test_unreadable_json_is_one_clear_error(tmp_path, content):
    path = tmp_path / "feed.json"
    path.write_text(content, encoding="utf-8")
    for parse in (meeting_guide.parse, bmlt.parse, hsds.parse):
        try:
            items = list(parse(path))
        except SourceFormatError as error:
            assert str(error)
        else:
            assert items == [] or all(isinstance(i, dict | Rejected) for i in items)


def _leaf_paths(value, path=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaf_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaf_paths(item, (*path, index))
    yield path


def _replaced(document, path, new):
    if not path:
        return new
    copy = document.copy()
    copy[path[0]] = _replaced(document[path[0]], path[1:], new)
    return copy


HSDS_EXAMPLE = json.loads((FIXTURES / "hsds-examples" / "service_full.json").read_text())
HSDS_PATHS = sorted(set(_leaf_paths(HSDS_EXAMPLE)), key=str)


@given(changes=st.lists(st.tuples(st.sampled_from(HSDS_PATHS), values), min_size=1, max_size=4))
def test_any_damage_to_a_real_hsds_service(tmp_path, database, geocoder, changes):
    document = HSDS_EXAMPLE
    for path, new in changes:
        try:
            document = _replaced(document, path, new)
        except (TypeError, IndexError, KeyError, AttributeError):
            continue  # an earlier change removed this path
    path = tmp_path / "service.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    import_anything(database, geocoder, hsds.parse, path, "hsds")
