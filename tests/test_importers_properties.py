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
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finder.errors import SourceFormatError
from finder.ingest.formats import Rejected, bmlt, bmlt_export, csv_template, hsds, meeting_guide
from finder.ingest.load import load_source
from finder.store import connect, init_db

from .conftest import FIXTURES

EXAMPLES = settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(
        [
            "19:00",
            "7:30 PM",
            "noon",
            "javascript:alert(1)",
            "+1 646 558 8656,,1#",
            "0",
            "-0",
            "1e400",
            "<script>x</script>",
            "America/New_York",
            "Mars/Base",
            "yes",
            "no",
            "TC",
            "https://zoom.us/j/1",
            "Philadelphia, PA 19103, USA",
            "10119 Berlin",
            "\ufeff",
            "",
        ]
    ),  # fmt: skip
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


@EXAMPLES
@given(rows=rows_of(MEETING_GUIDE_KEYS))
def test_any_meeting_guide_feed(tmp_path, database, geocoder, rows):
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    import_anything(database, geocoder, meeting_guide.parse, path, "meeting_guide")


@EXAMPLES
@given(rows=rows_of(BMLT_KEYS))
def test_any_bmlt_answer(tmp_path, database, geocoder, rows):
    path = tmp_path / "GetSearchResults.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    import_anything(database, geocoder, bmlt.parse, path, "bmlt")


@EXAMPLES
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


@EXAMPLES
@given(manifest=st.dictionaries(st.sampled_from(MANIFEST_KEYS), values, max_size=4))
def test_any_bmlt_export_manifest(tmp_path, manifest):
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"schema_version": 1} | manifest))
    try:
        bmlt_export.read_manifest(path)
    except SourceFormatError:
        pass


@EXAMPLES
@given(rows=st.lists(st.lists(st.text(max_size=40), max_size=len(CSV_COLUMNS) + 2), max_size=4))
def test_any_csv_template_sheet(tmp_path, database, geocoder, rows):
    buffer = io.StringIO()
    csv.writer(buffer).writerows([CSV_COLUMNS, *rows])
    path = tmp_path / "sheet.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    import_anything(database, geocoder, csv_template.parse, path, "csv_template")


@EXAMPLES
@given(items=rows_of(HSDS_KEYS))
def test_any_hsds_document(tmp_path, database, geocoder, items):
    path = tmp_path / "services.json"
    path.write_text(json.dumps({"contents": items}), encoding="utf-8")
    import_anything(database, geocoder, hsds.parse, path, "hsds")


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


@EXAMPLES
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
