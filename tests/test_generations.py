"""Generations: a new database file published under load never mixes with the old one.

Two real databases of the NW Texas feed differ in every listing's name and position. While
clients search over HTTP, the served path is replaced 16 times with ``os.replace``. Every answer
must be a 200 whose listings all come from one file, with the index's distances matching the
details' positions; afterwards no replaced file is still held open.
"""

import gc
import json
import os
import shutil
import sqlite3
import threading
import time
import urllib.request
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from finder import create_app
from finder.geo.positions import distance_km
from finder.ingest.registry import import_source
from finder.store import connect, init_db
from finder.web import state
from finder.web.serving import serving_in_background
from finder.web.state import Generation, Replaced, published

LUBBOCK = (33.5779, -101.8552)
QUERY = f"/api/search?lat={LUBBOCK[0]}&lon={LUBBOCK[1]}&when=any&limit=20&radius=100&widen=no"
SWAPS = 16


@pytest.fixture(scope="module")
def two_files(tmp_path_factory, registry, geocoder):
    """File A, and file B: the same listings renamed "… #B" and moved 0.05° (5.6 km) north."""
    folder = tmp_path_factory.mktemp("generations")
    a, b = folder / "a.db", folder / "b.db"
    db = connect(str(a))
    init_db(db)
    import_source(db, registry["nwta"], geocoder)
    db.close()
    shutil.copyfile(a, b)
    db = connect(str(b))
    with db.conn:
        db.execute("update resources set name = name || ' #B'")
        db.execute("update locations set latitude = latitude + 0.05 where latitude is not null")
    db.close()
    return a, b


def publish(source: Path, served: Path) -> None:
    """What every publisher does: a new file, renamed onto the served path."""
    temporary = served.with_name(served.name + ".new")
    shutil.copyfile(source, temporary)
    os.replace(temporary, served)


def generation_of(answer: dict) -> str:
    """ "A" or "B", after checking every listing comes from one file and agrees with the index."""
    items = answer["groups"]["nearby"]
    assert items, answer
    marks = {item["name"].endswith(" #B") for item in items}
    assert len(marks) == 1, f"names from both files: {[i['name'] for i in items]}"
    for item in items:
        here = distance_km(*LUBBOCK, item["latitude"], item["longitude"])
        assert abs(here - item["distance_km"]) < 0.05, f"index and details disagree: {item}"
    return "B" if marks.pop() else "A"


def test_sixteen_swaps_under_load_fail_nothing_and_mix_nothing(tmp_path, two_files):
    served = tmp_path / "finder.db"
    publish(two_files[0], served)
    app = create_app({"TESTING": True, "DATABASE": str(served)})
    seen, failures, stop = {"A": 0, "B": 0}, [], threading.Event()

    def client(base):
        while not stop.is_set():
            try:
                with urllib.request.urlopen(base + QUERY, timeout=30) as response:
                    seen[generation_of(json.loads(response.read()))] += 1
            except Exception as error:  # noqa: BLE001 - every failure is counted and shown
                failures.append(repr(error))

    app.test_client().get(QUERY)  # kernels compiled (or loaded) before the garbage collector stops
    with serving_in_background(app) as base, no_garbage_collection():
        clients = [threading.Thread(target=client, args=(base,)) for _ in range(6)]
        for thread in clients:
            thread.start()
        try:
            for swap in range(SWAPS):
                time.sleep(0.4)
                publish(two_files[(swap + 1) % 2], served)
            time.sleep(0.4)
        finally:
            stop.set()
            for thread in clients:
                thread.join(60)
        held = replaced_files_held(served.parent)
    assert failures == [], failures[:5]
    assert seen["A"] > SWAPS and seen["B"] > SWAPS, seen
    assert held == []


@contextmanager
def no_garbage_collection() -> Iterator[None]:
    """Python's cyclic garbage collector stopped: a connection or index left to it (one only a
    reference cycle still holds, such as an exception's traceback) stays open, so a test sees
    it every time instead of when the collector happens to run late."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def replaced_files_held(folder, wait: float = 5.0) -> list[str]:
    """Replaced database files of ``folder`` this process still holds open, once the server's
    threads have had ``wait`` seconds to end their last requests (a client has its answer a
    moment before the server's thread gives its connection back)."""
    deadline = time.monotonic() + wait
    while True:
        held = [p for p in open_files() if p.startswith(str(folder)) and p.endswith("(deleted)")]
        if not held or time.monotonic() > deadline:
            return held
        time.sleep(0.1)


def open_files() -> list[str]:
    """What this process holds open (a replaced file shows as "… (deleted)")."""
    paths = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            paths.append(os.readlink(f"/proc/self/fd/{fd}"))
        except FileNotFoundError:  # the listing's own descriptor
            continue
    return paths


def test_a_pinned_generation_stays_readable_after_a_swap(tmp_path, two_files):
    served = tmp_path / "finder.db"
    publish(two_files[0], served)
    old = Generation(str(served))
    db = old.lend()
    publish(two_files[1], served)
    old.retire()
    # The replaced file, through the connection the request holds.
    assert not db.execute("select name from resources limit 1").fetchone()[0].endswith("#B")
    assert not old.closed
    with pytest.raises(Replaced):  # no new connection to a replaced file
        old.lend()
    old.give_back(db)
    assert old.closed


def test_a_new_file_is_a_new_generation_and_the_old_one_is_closed(tmp_path, two_files):
    served = tmp_path / "finder.db"
    publish(two_files[0], served)
    app = create_app({"TESTING": True, "DATABASE": str(served)})
    first, db = published(app).lend()
    first.give_back(db)
    assert published(app).current_generation() is first
    publish(two_files[1], served)
    second, db = published(app).lend()
    second.give_back(db)
    assert second is not first and first.closed and not second.closed


def held_open(path: Path) -> list[str]:
    """This process's open descriptors on the file at ``path`` or on any it replaced."""
    return [p for p in open_files() if p in (str(path), f"{path} (deleted)")]


def replaced_by(source: Path, served: Path):
    """An ``open_index`` that publishes ``source`` onto ``served`` once, just after it has read
    the file it was given: a request builds a generation of a file replaced meanwhile."""
    real, done = state.open_index, []

    def opening(path, db, expected):
        opened = real(path, db, expected)
        if not done:
            done.append(publish(source, served))
        return opened

    return opening


# Requests (start, end: first started, first ended) and publications, in order; whether the
# replaced file is closed by then (a file replaced while no request runs is noticed by the next
# request); then a new request reads the file published last, and only that one is open.
REQUESTS_AND_SWAPS = {
    "replaced while a request reads it": (["start", "B", "end"], True),
    "replaced twice while a request reads it": (["start", "B", "A", "end"], True),
    "replaced while two requests read it": (["start", "start", "B", "end", "end"], True),
    "replaced while its generation is built": (["start, B published while built", "end"], True),
    "replaced while built, then once more": (["start, B published while built", "A", "end"], True),
    "replaced between requests": (["start", "end", "B"], False),
}


@pytest.mark.parametrize(
    "steps, closed_at_once", REQUESTS_AND_SWAPS.values(), ids=REQUESTS_AND_SWAPS.keys()
)
def test_a_replaced_file_is_closed_once_no_request_reads_it(
    tmp_path, two_files, monkeypatch, steps, closed_at_once
):
    files = dict(zip("AB", two_files, strict=True))
    served = tmp_path / "finder.db"
    publish(files["A"], served)
    holder, lent, last = published(create_app({"DATABASE": str(served)})), [], "A"
    with no_garbage_collection():
        for step in steps:
            if step == "start, B published while built":
                monkeypatch.setattr(state, "open_index", replaced_by(files["B"], served))
                step, last = "start", "B"
            if step == "start":
                lent.append(holder.lend())
            elif step == "end":
                holder.give_back(*lent.pop(0))
            else:
                publish(files[step], served)
                last = step
        if closed_at_once:  # (by the new generation, opened in the background)
            assert replaced_files_held(tmp_path) == []
        monkeypatch.undo()
        generation, db = holder.lend()
        name = db.execute("select name from resources limit 1").fetchone()[0]
        holder.give_back(generation, db)
        assert ("B" if name.endswith(" #B") else "A") == last
        assert held_open(served) == [str(served)]  # only the file published now


def test_a_replaced_file_stays_readable_while_a_request_reads_it(tmp_path, two_files):
    served = tmp_path / "finder.db"
    publish(two_files[0], served)
    holder = published(create_app({"DATABASE": str(served)}))
    first, second = holder.lend(), holder.lend()
    publish(two_files[1], served)
    holder.give_back(*first)
    generation, db = second
    assert not db.execute("select name from resources limit 1").fetchone()[0].endswith("#B")
    assert not generation.closed and held_open(served) != []
    holder.give_back(*second)
    old = weakref.ref(generation)
    del first, second, generation, db  # the requests are over: nothing of theirs is kept
    assert replaced_files_held(tmp_path) == []
    assert old() is None or old().closed


class IndexBroken(Exception):
    """What a failing index build raises, in these tests."""


def not_a_database(served: Path, monkeypatch) -> type[Exception]:
    served.write_bytes(b"not a database " * 1000)
    return sqlite3.DatabaseError


def index_fails(served: Path, monkeypatch) -> type[Exception]:
    def failing(path, db, expected):
        db.execute("select * from resources").fetchone()  # a statement left open
        raise IndexBroken(path)

    monkeypatch.setattr(state, "open_index", failing)
    return IndexBroken


@pytest.mark.parametrize("failure", [not_a_database, index_fails])
def test_a_generation_that_fails_to_open_leaves_no_connection(
    tmp_path, two_files, monkeypatch, failure
):
    served = tmp_path / "finder.db"
    publish(two_files[0], served)
    expected = failure(served, monkeypatch)
    with no_garbage_collection():
        with pytest.raises(expected) as caught:  # its traceback, and the frames in it, live on
            Generation(str(served))
        assert caught.traceback and held_open(served) == []
