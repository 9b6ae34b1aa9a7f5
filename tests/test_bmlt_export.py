"""The BMLT aggregator's daily export as a source (issue #13), over a real local HTTP server
serving a copy of the export's shape made from the bundled BMLT data (data/bmlt-gnyr: real
meetings of the Greater New York Region, split here into three "root servers", one of them stale).
"""

import gzip
import hashlib
import json
from pathlib import Path

import pytest

from finder.errors import SourceFormatError
from finder.ingest.formats import Rejected, bmlt_export

from .feed_server import FeedServer
from .test_refresh import Site

GNYR = Path(__file__).resolve().parent.parent / "data" / "bmlt-gnyr"
ROWS = json.loads((GNYR / "GetSearchResults.json").read_text())[:150]
CONTACT = "RecoverySupportFinder/1.0 (+https://example.org/finder; maintainers@example.org)"


def export(
    rows_by_root: dict[int, list], stale: tuple[int, ...] = (), formats: bytes | None = None
) -> dict[str, bytes]:
    """The export's files, path -> bytes, with a manifest that vouches for each."""
    files = {
        f"meetings/root-{root}.ndjson.gz": gzip.compress(
            "".join(json.dumps(row) + "\n" for row in rows).encode(), mtime=0
        )
        for root, rows in rows_by_root.items()
    }
    formats = formats or (GNYR / "GetFormats.json").read_bytes()
    files["formats.json.gz"] = gzip.compress(formats, mtime=0)
    files["service_bodies.json.gz"] = gzip.compress(
        (GNYR / "service_bodies.json").read_bytes(), mtime=0
    )
    records = {f"meetings/root-{root}.ndjson.gz": len(rows) for root, rows in rows_by_root.items()}
    servers = [
        {"id": root, "name": f"Root {root}", "lastSuccessfulImport": "2026-12-01T04:00:00Z"}
        for root in rows_by_root
    ]
    manifest = {
        "schema_version": 1,
        "files": [
            {
                "path": path,
                "size": len(body),
                "sha256": hashlib.sha256(body).hexdigest(),
                "records": records.get(path),
            }
            for path, body in files.items()
        ],
        "root_servers": [s for s in servers if s["id"] not in stale],
        "stale_root_servers": [
            {**s, "lastSuccessfulImport": "2026-10-01T04:00:00Z"}
            for s in servers
            if s["id"] in stale
        ],
    }
    return {"manifest.json": json.dumps(manifest).encode(), **files}


def three_roots() -> dict[int, list]:
    return {1: ROWS[:50], 2: ROWS[50:100], 3: ROWS[100:150]}


def serve(server: FeedServer, files: dict[str, bytes]) -> None:
    server.routes.clear()
    for path, body in files.items():
        server.routes[f"/aggregator/{path}"] = body


def source(server: FeedServer) -> dict:
    return {
        "id": "na-world",
        "name": "Narcotics Anonymous worldwide (BMLT aggregator export)",
        "format": "bmlt_export",
        "url": server.url("/aggregator/"),
        "program": "NA",
        "license": "test",
    }


@pytest.fixture
def server():
    with FeedServer() as running:
        yield running


@pytest.fixture
def site(tmp_path, server):
    running = Site(tmp_path, server, [source(server)])
    running.app.config["REFRESH_USER_AGENT"] = CONTACT
    return running


def test_export_is_imported_without_its_stale_root_server_and_says_so(site, server):
    serve(server, export(three_roots(), stale=(3,)))
    result = site.run("na-world")
    assert result.exit_code == 0, result.output
    ids = [row[0] for row in site.listings("na-world")]
    assert len(ids) == 100
    assert {i.split("-")[0] for i in ids} == {"1", "2"}  # each id names its root server
    health = site.health("na-world")
    assert "Root 3 (last import 2026-10-01T04:00:00Z)" in health["note"]
    assert "stale root servers" in result.output
    assert all(h["User-Agent"] == CONTACT for h in server.headers)
    # Format keys were read with the export's formats file: open/closed meetings are coded.
    assert site.query("select count(*) from resource_types where code in ('O', 'C')")[0][0] > 50


def test_unchanged_export_costs_one_304_and_a_changed_root_only_its_own_file(site, server):
    serve(server, export(three_roots()))
    assert site.run("na-world").exit_code == 0
    server.requests.clear()
    again = site.run("na-world")
    assert again.exit_code == 0 and "unchanged (HTTP 304" in again.output
    assert sum(server.requests.values()) == 1
    roots = three_roots()
    roots[2] = [{**row, "meeting_name": row["meeting_name"] + " (renamed)"} for row in roots[2]]
    serve(server, export(roots))
    server.requests.clear()
    changed = site.run("na-world")
    assert changed.exit_code == 0, changed.output
    assert sorted(server.requests) == [
        "/aggregator/manifest.json",
        "/aggregator/meetings/root-2.ndjson.gz",
    ]
    names = site.query("select name from resources where source_id like '2-%'")
    assert names and all(name.endswith("(renamed)") for (name,) in names)


def test_a_file_that_does_not_match_the_manifest_keeps_the_previous_data(site, server):
    files = export(three_roots())
    serve(server, files)
    assert site.run("na-world").exit_code == 0
    before = site.listings("na-world")
    roots = three_roots()
    roots[1] = roots[1][:10]
    tampered = export(roots)
    tampered["meetings/root-1.ndjson.gz"] = files["meetings/root-1.ndjson.gz"]  # old bytes
    serve(server, tampered)
    result = site.run("na-world")
    assert result.exit_code != 0
    assert "do not match the manifest's size" in result.output
    assert site.listings("na-world") == before
    assert "SHA-256" in result.output
    # Its only source failed: nothing was published, not even the attempt (test_refresh.py).
    assert site.health("na-world")["last_error"] is None


def test_the_aggregator_is_not_asked_without_a_contact(site, server):
    serve(server, export(three_roots()))
    site.app.config["REFRESH_USER_AGENT"] = None
    result = site.run("na-world")
    assert result.exit_code != 0 and "asks every client for a contact" in result.output
    assert sum(server.requests.values()) == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"schema_version": 2}, "schema_version 2 is not one we read"),
        ({"files": "all"}, "files must be a list"),
        ({"root_servers": []}, "no meeting file of a current root server"),
        ({"files": [{"path": "../etc/passwd", "size": 1, "sha256": "0" * 64}]}, "relative path"),
        ({"files": [{"path": "x", "size": -1, "sha256": "0" * 64}]}, "not a byte count"),
        ({"files": [{"path": "x", "size": 1, "sha256": "abc"}]}, "is not a SHA-256"),
    ],
)
def test_a_manifest_we_cannot_trust_is_a_clear_error(tmp_path, change, message):
    manifest = json.loads(export(three_roots())["manifest.json"]) | change
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SourceFormatError, match=message.replace("(", r"\(")):
        bmlt_export.read_manifest(tmp_path / "manifest.json")


def test_bad_lines_are_rejected_one_by_one(tmp_path):
    files = export({1: ROWS[:3]})
    lines = gzip.decompress(files["meetings/root-1.ndjson.gz"]).splitlines()
    broken = b"\n".join([lines[0], b"{not json", b"[1, 2]", lines[1]]) + b"\n"
    files["meetings/root-1.ndjson.gz"] = gzip.compress(broken)
    for path, body in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(body)
    results = list(bmlt_export.parse(tmp_path / "manifest.json"))
    rejected = [r for r in results if isinstance(r, Rejected)]
    assert [r.row for r in rejected] == [2, 3]
    assert "line 2 is not a JSON object" in rejected[0].reason
    assert [r["source_id"] for r in results if not isinstance(r, Rejected)] == [
        f"1-{ROWS[0]['id_bigint']}",
        f"1-{ROWS[1]['id_bigint']}",
    ]


def test_one_servers_format_ids_never_lend_meaning_to_anothers(tmp_path):
    """Root servers number formats on their own: id 50 is Spanish on one and Women on another."""
    formats = [
        {"key_string": key, "id": id_, "lang": "en", "world_id": world_id, "name_string": name}
        for key, id_, world_id, name in [
            ("ES", "50", "LANG", "Spanish"),  # root server 1
            ("SD", "60", "", "Speaker/Discussion"),
            ("W", "50", "W", "Women"),  # root server 2
            ("BT", "60", "BT", "Basic Text"),
        ]
    ]
    row = {**ROWS[0], "formats": "ES,SD", "format_shared_id_list": "50,60"}
    files = export({1: [row]}, formats=json.dumps(formats).encode())
    for path, body in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(body)
    [record] = bmlt_export.parse(tmp_path / "manifest.json")
    codes = {code for code, _ in record["types"]}
    assert "W" not in codes and "BT" not in codes
    assert {"SP", "D"} <= codes
