"""The search index stored beside a database file (finder/search/sidecar.py): built once, mapped
by every process, never trusted when damaged, and replaced with the file it belongs to."""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlite_utils import Database

from finder import create_app
from finder.ingest.publish import before_swap, draft_copy, publish
from finder.ingest.registry import import_source
from finder.search import Query, SearchIndex, kernels, search
from finder.search.index import Occurrences
from finder.search.naive import search_naive
from finder.search.sidecar import (
    FileReplaced,
    file_key,
    folder_of,
    identity,
    open_index,
    store_beside,
)
from finder.store import connect, init_db
from finder.web.state import Generation

ROOT = Path(__file__).resolve().parent.parent
POINTS = [(37.77, -122.42), (33.58, -101.86), (40.75, -73.99), (41.0, -100.0)]
SOURCES = ("aasfmarin", "nwta", "na-gnyr", "national-lines")


@pytest.fixture(scope="module")
def bundled(tmp_path_factory, registry, geocoder):
    """Meetings of three regions and the national lines (with service areas), in one file
    that each test copies."""
    path = tmp_path_factory.mktemp("sidecar") / "bundled.db"
    with connect(str(path)) as db:
        init_db(db)
        for source in SOURCES:
            import_source(db, registry[source], geocoder)
    return path


@pytest.fixture
def served(tmp_path, bundled):
    path = tmp_path / "finder.db"
    shutil.copyfile(bundled, path)
    return path


def read_only(path: Path) -> Database:
    return Database(sqlite3.connect(f"file:{path}?mode=ro", uri=True))


def opened(path: Path):
    """(index, how it came) for the file at path, as a generation opens it."""
    db = read_only(path)
    try:
        index, _coverage, how = open_index(path, db, identity(os.stat(path)))
    finally:
        db.close()  # (a replaced file held open would fail test_generations' check)
    return index, how


def built_in_memory(path: Path) -> SearchIndex:
    db = read_only(path)
    try:
        return SearchIndex.from_db(db)
    finally:
        db.close()


def queries() -> list[Query]:
    start = datetime(2026, 3, 8, 3, 0, tzinfo=UTC)  # the spring DST weekend, then on
    chosen = []
    for number in range(24):
        lat, lon = POINTS[number % 4]
        now = start + timedelta(minutes=397 * number)
        options = [{}, {"when": "today"}, {"kinds": frozenset({"meeting"})}, {"when": "any"}]
        chosen.append(Query(now=now, latitude=lat, longitude=lon, **options[number % 4]))
        chosen.append(Query(now=now, attendance=frozenset({"online"})))
    return chosen


def answers(index: SearchIndex) -> list:
    return [search(index, q) for q in queries()]


def stored_names(path: Path) -> list[str]:
    return sorted(p.name for p in folder_of(path).iterdir() if p.name != "lock")


def test_the_first_opener_builds_and_stores_then_a_second_process_maps_it(served):
    index, how = opened(served)
    assert how == "built"
    [key] = stored_names(served)
    meta = folder_of(served) / key / "meta.json"
    written = meta.stat().st_mtime_ns
    script = (
        "import sys; from finder.web.state import Generation; "
        "g = Generation(sys.argv[1]); print(g.origin, len(g.index.ids), len(g.index.near.key))"
    )
    other = subprocess.run(
        [sys.executable, "-c", script, str(served)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert other.stdout.split() == ["mapped", str(len(index.ids)), str(len(index.near.key))]
    assert stored_names(served) == [key] and meta.stat().st_mtime_ns == written


def test_a_mapped_index_answers_exactly_as_one_built_in_memory(served):
    built = built_in_memory(served)
    opened(served)
    mapped, how = opened(served)
    assert how == "mapped"
    assert isinstance(mapped.near.key.base, np.memmap)  # shared pages, not a copy
    assert answers(mapped) == answers(built)
    for q in queries()[::6]:
        fast = search(mapped, q)
        assert fast.ids() == search_naive(mapped, q, fast.radius_km).ids()


def test_mapped_arrays_are_what_the_kernels_were_compiled_for(served):
    """Same dtypes, shapes, layout and writeability as a built index's (a read-only or
    differently laid out array would make numba compile again, mid-traffic)."""
    built = built_in_memory(served)
    opened(served)
    mapped, _ = opened(served)
    built_arrays, built_plain = built.stored_parts()
    mapped_arrays, mapped_plain = mapped.stored_parts()
    assert built_plain == mapped_plain and built_arrays.keys() == mapped_arrays.keys()
    for name, array in built_arrays.items():
        other = mapped_arrays[name]
        assert (other.dtype, other.shape) == (array.dtype, array.shape), name
        assert other.flags.c_contiguous and other.flags.writeable and other.flags.aligned, name
        assert np.array_equal(other, array, equal_nan=array.dtype.kind == "f"), name
    answers(built)
    compiled = {
        name: len(f.signatures) for name, f in vars(kernels).items() if hasattr(f, "signatures")
    }
    answers(mapped)
    after = {
        name: len(f.signatures) for name, f in vars(kernels).items() if hasattr(f, "signatures")
    }
    assert after == compiled


def test_every_array_of_an_index_is_stored(served):
    """A new array attribute of SearchIndex must be stored too, or a mapped index lacks it."""
    index = built_in_memory(served)
    derived = {"has_area", "zone_names"}  # from the service areas and the zone names
    held = {name for name, v in vars(index).items() if isinstance(v, np.ndarray)}
    assert held - derived == set(SearchIndex.ARRAYS)
    for part in SearchIndex.OCCURRENCES:
        occurrences = getattr(index, part)
        held = {n for n, v in vars(occurrences).items() if isinstance(v, np.ndarray)}
        assert held == set(Occurrences.ARRAYS)


def truncate(place: Path) -> None:
    array = place / "near.rows.npy"
    array.write_bytes(array.read_bytes()[:-8])


def flip_a_byte(place: Path) -> None:
    array = place / "near.key.npy"
    data = bytearray(array.read_bytes())
    data[-3] ^= 0x10
    array.write_bytes(bytes(data))


def edit_meta(**changes):
    def edit(place: Path) -> None:
        meta = json.loads((place / "meta.json").read_text())
        (place / "meta.json").write_text(json.dumps({**meta, **changes}))

    return edit


def roll(place: Path) -> None:
    """Values moved, type and shape kept: only the checksum tells."""
    array = place / "near.key.npy"
    np.save(array, np.roll(np.load(array), 1))


DAMAGES = [
    ("an array file cut short", truncate),
    ("one bit of an array flipped", flip_a_byte),
    ("an array's values moved (same type and shape)", roll),
    ("an array file missing", lambda place: (place / "cell_keys.npy").unlink()),
    ("meta.json missing (a folder half written)", lambda place: (place / "meta.json").unlink()),
    ("meta.json not JSON", lambda place: (place / "meta.json").write_text('{"format": 1, "ke')),
    ("another layout's format", edit_meta(format=0)),
    ("another file's key", edit_meta(key="0-0-0-0-0")),
    ("a zone list that is not the file's", edit_meta(zones=["Europe/London"])),
    ("an empty folder", lambda place: [p.unlink() for p in place.iterdir()]),
]


@pytest.mark.parametrize("what, damage", DAMAGES, ids=[d[0] for d in DAMAGES])
def test_a_damaged_sidecar_is_never_used_but_rebuilt(served, what, damage):
    expected = answers(built_in_memory(served))
    opened(served)
    [key] = stored_names(served)
    damage(folder_of(served) / key)
    index, how = opened(served)
    assert how == "built", what
    assert answers(index) == expected
    assert opened(served)[1] == "mapped"


def test_a_new_file_gets_its_own_sidecar_and_the_old_one_is_removed(served, tmp_path):
    opened(served)
    [old] = stored_names(served)
    replacement = tmp_path / "next.db"
    shutil.copyfile(served, replacement)
    with connect(str(replacement)) as db:
        db.execute("update resources set status = 'removed' where kind = 'meeting' and id % 2 = 0")
    os.replace(replacement, served)
    index, how = opened(served)
    [new] = stored_names(served)
    assert how == "built" and new != old
    assert answers(index) == answers(built_in_memory(served))


def test_a_generation_whose_file_was_replaced_meanwhile_is_not_stored(served, tmp_path):
    stale = identity(os.stat(served))
    db = read_only(served)
    shutil.copyfile(served, tmp_path / "next.db")
    os.replace(tmp_path / "next.db", served)
    with pytest.raises(FileReplaced):
        open_index(served, db, stale)
    db.close()
    assert not folder_of(served).exists() or stored_names(served) == []


def test_where_nothing_can_be_written_the_index_is_built_in_memory(served):
    folder_of(served).write_text("not a folder")  # as a read-only place would refuse it
    index, how = opened(served)
    assert how == "in memory"
    assert answers(index) == answers(built_in_memory(served))


def test_generations_map_the_stored_index(served):
    first = Generation(str(served))
    second = Generation(str(served))
    assert (first.origin, second.origin) == ("built", "mapped")
    assert answers(first.index) == answers(second.index)
    first.retire()
    second.retire()
    assert first.closed and second.closed


def a_new_draft(served: Path) -> Path:
    """What every publisher makes: a copy of the served file, changed (half its meetings gone)."""
    draft = draft_copy(served)
    with connect(str(draft)) as db:
        db.execute("update resources set status = 'removed' where kind = 'meeting' and id % 2 = 0")
    return draft


def test_a_publisher_stores_the_new_files_index_before_publishing_it(served):
    before_swap(store_beside)  # what the CLI registers (finder.cli.init_app)
    opened(served)  # a server has stored the index of the file it serves
    [old] = stored_names(served)
    draft = a_new_draft(served)
    expected = answers(built_in_memory(draft))
    publish(draft, served)
    assert len(stored_names(served)) == 2  # the old file's readers still find theirs
    index, how = opened(served)
    assert how == "mapped"  # no server builds it
    assert answers(index) == expected
    assert old not in stored_names(served)  # removed once the new one was opened


def test_the_build_command_stores_the_index_where_the_file_is_served(tmp_path, served):
    opened(served)
    registry = tmp_path / "sources.toml"
    registry.write_text(
        '[[source]]\nid = "nwta"\nname = "NW Texas"\nformat = "meeting_guide"\n'
        f'path = "{ROOT / "data" / "meeting-guide" / "nwta.json"}"\nprogram = "AA"\n'
    )
    app = create_app({"TESTING": True, "DATABASE": str(served), "SOURCES": str(registry)})
    result = app.test_cli_runner().invoke(args=["build"])
    assert result.exit_code == 0, result.output
    assert opened(served)[1] == "mapped"
    assert [p.name for p in served.parent.iterdir() if p.name.endswith(".index")] == [
        ".finder.db.index"  # none for the build's own temporary file
    ]


def test_where_no_server_stored_an_index_the_publisher_stores_none(served):
    draft = a_new_draft(served)
    assert store_beside(draft, served) == "not stored"
    assert not folder_of(served).exists()
    os.replace(draft, served)
    assert opened(served)[1] == "built"  # by the first server, as at the first `make run`


def test_an_index_stored_for_a_file_about_to_be_published_is_kept_by_the_old_ones_readers(
    served,
):
    opened(served)
    draft = a_new_draft(served)
    assert store_beside(draft, served) == "stored"
    assert store_beside(draft, served) == "present"
    old = file_key(served, identity(os.stat(served)))
    shutil.rmtree(folder_of(served) / old)  # so that the old file's reader builds and tidies
    assert opened(served)[1] == "built"  # the old file, by a reader: others' are removed ...
    assert len(stored_names(served)) == 2  # ... but not a newer file's
    os.replace(draft, served)
    assert opened(served)[1] == "mapped"
