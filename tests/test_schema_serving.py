"""Serving a database file of another schema version: refused at start-up with the reason and a
non-zero exit; published under a running site, refused while the previous generation goes on
answering (one log line), until a servable file is published; with nothing before it, a 503
that says so. Real database files of the NW Texas feed, real HTTP."""

import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from finder import create_app
from finder.ingest.registry import import_source
from finder.store import connect, expected_migrations, init_db
from finder.web.serving import serving_in_background

from .conftest import ROOT
from .test_serve import Servers, fetch, free_port
from .test_store import older

EXPECTED = len(expected_migrations())
LUBBOCK = "lat=33.5779&lon=-101.8552"
QUERY = f"/api/search?{LUBBOCK}&when=any&limit=20&radius=100&widen=no"


@pytest.fixture(scope="module")
def files(tmp_path_factory, registry, geocoder) -> dict[str, Path]:
    """ "A" and "B" (every listing renamed "… #B"), servable; "old": listings renamed "… #OLD",
    built by a version of the code from before the sources' office line."""
    folder = tmp_path_factory.mktemp("schema")
    made = {name: folder / f"{name}.db" for name in ("A", "B", "old")}
    db = connect(str(made["A"]))
    init_db(db)
    import_source(db, registry["nwta"], geocoder)
    db.close()
    for name in ("B", "old"):
        shutil.copyfile(made["A"], made[name])
        db = connect(str(made[name]))
        with db.conn:
            db.execute("update resources set name = name || ?", [f" #{name.upper()}"])
        db.close()
    older(made["old"])
    return made


def publish(source: Path, served: Path) -> None:
    """What every publisher does: a new file, renamed onto the served path."""
    temporary = served.with_name(served.name + ".new")
    shutil.copyfile(source, temporary)
    os.replace(temporary, served)


def file_of(answer: dict) -> str:
    """Which file answered: "A", "B" or "OLD" (all its listings must agree)."""
    names = {item["name"].rsplit(" #", 1)[-1] for item in answer["groups"]["nearby"]}
    marks = {name if name in ("B", "OLD") else "A" for name in names}
    assert len(marks) == 1, names
    return marks.pop()


def get(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def refusals(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "Database file refused" in r.getMessage()]


# ---- at start-up --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        lambda db: (
            [str(ROOT / "scripts" / "serve.py"), "--database", db]
            + ["--site-port", str(free_port()), "--datasette-port", str(free_port())]
        ),
        lambda db: ["-m", "finder.web.wsgi", "--fd", "1000", "--database", db],
    ],
    ids=["serve.py", "wsgi"],
)
def test_an_old_file_at_start_up_is_refused_with_the_fix(tmp_path, files, command):
    served = tmp_path / "finder.db"
    publish(files["old"], served)
    before = served.read_bytes()
    started = time.monotonic()
    finished = subprocess.run(
        [sys.executable, *command(str(served))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 1, finished
    assert "not starting:" in finished.stderr
    assert f"{served} has schema version {EXPECTED - 2}, older than this code's {EXPECTED}" in (
        finished.stderr
    )
    assert f"FINDER_DATABASE={served} flask --app finder init-db" in finished.stderr
    assert "Search ready" not in finished.stdout  # refused before the warm-up
    assert time.monotonic() - started < 60
    assert served.read_bytes() == before


# ---- published under a running site ------------------------------------------------------------


def test_an_old_file_published_under_load_is_refused_and_a_good_one_picked_up(
    tmp_path, files, caplog
):
    caplog.set_level(logging.INFO)
    served = tmp_path / "finder.db"
    publish(files["A"], served)
    app = create_app({"TESTING": True, "DATABASE": str(served)})
    seen, failures, stop = [], [], threading.Event()
    each_client = [[] for _ in range(4)]

    def client(base, mine):
        while not stop.is_set():
            status, _, body = get(base + QUERY)
            if status == 200:
                mine.append(file_of(json.loads(body)))
                seen.append(mine[-1])
            else:
                failures.append((status, body[:200]))

    with serving_in_background(app) as base:
        clients = [threading.Thread(target=client, args=(base, mine)) for mine in each_client]
        for thread in clients:
            thread.start()
        try:
            time.sleep(0.5)
            publish(files["old"], served)
            time.sleep(1.5)
            answered_while_refused = len(seen)
            publish(files["B"], served)
            deadline = time.monotonic() + 10
            while (not seen or seen[-1] != "B") and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(0.3)
        finally:
            stop.set()
            for thread in clients:
                thread.join(60)
    assert failures == [], failures[:5]
    assert "OLD" not in seen
    assert seen[0] == "A" and seen[-1] == "B" and answered_while_refused > 10
    # Each client saw A, then B, never A again (the refused file answered nothing between).
    assert all(mine == sorted(mine) and mine for mine in each_client), each_client
    logged = refusals(caplog)
    assert len(logged) == 1, logged  # once for that file, not once per request
    assert logged[0].startswith(f"Database file refused: {served} has schema version")
    assert logged[0].endswith("still serving the file published before it")
    every_line = "\n".join(r.getMessage() for r in caplog.records)
    assert "33.57" not in every_line and "lat=" not in every_line  # nothing searched


# ---- nothing servable yet ----------------------------------------------------------------------


def test_a_first_request_to_an_old_file_is_a_503_that_says_so(tmp_path, files, caplog):
    served = tmp_path / "finder.db"
    publish(files["old"], served)
    app = create_app({"TESTING": True, "DATABASE": str(served)})
    with serving_in_background(app) as base:
        status, headers, body = get(base + QUERY)
        assert status == 503 and headers["Retry-After"] == "300"
        answer = json.loads(body)
        assert answer["ok"] is False
        assert answer["error"].startswith("The directory is being updated")
        assert str(served) not in answer["error"]  # the file's details are for the log only
        for path, words in [
            ("/search?q=Lubbock%2C+TX", b"cannot answer searches right now"),
            ("/search?q=Lubbock%2C+TX&lang=es", b"no puede responder"),
            ("/healthz", b"cannot answer searches right now"),
        ]:
            status, headers, body = get(base + path)
            assert status == 503 and words in body, (path, body[:300])
            assert b'<a href="/lines' in body or b"/lines?lang=es" in body
        assert len(refusals(caplog)) == 1
        publish(files["A"], served)
        status, _, body = get(base + QUERY)
        assert status == 200 and file_of(json.loads(body)) == "A"


# ---- no file at the path -----------------------------------------------------------------------


def test_a_removed_file_leaves_the_open_one_answering_and_a_new_process_503(
    tmp_path, files, caplog
):
    """Removed by hand (a publish only ever replaces it): nothing to build from. The site goes
    on with the file it has open, logs it once, and serves the next file published; a process
    that never opened one answers 503 with Retry-After, never 500."""
    served = tmp_path / "finder.db"
    publish(files["A"], served)
    app = create_app({"TESTING": True, "DATABASE": str(served)})
    with serving_in_background(app) as base:
        assert file_of(json.loads(get(base + QUERY)[2])) == "A"
        served.unlink()
        for path in [QUERY, "/api/v1/sources", "/search?q=Lubbock%2C+TX", "/about", "/healthz"]:
            status, _, body = get(base + path)
            assert status == 200, (path, body[:300])
        assert file_of(json.loads(get(base + QUERY)[2])) == "A"
        fresh = create_app({"TESTING": True, "DATABASE": str(served)})
        with serving_in_background(fresh) as other:
            for path in [QUERY, "/search?q=Lubbock%2C+TX", "/healthz"]:
                status, headers, body = get(other + path)
                assert status == 503 and headers["Retry-After"] == "300", (path, body[:300])
        publish(files["B"], served)
        assert file_of(json.loads(get(base + QUERY)[2])) == "B"
    logged = refusals(caplog)
    assert logged[0] == (
        f"Database file refused: {served}: no database file there; "
        "still serving the file published before it"
    )
    assert len(logged) == 2, logged  # once per process, not once per request


# ---- under `make run`'s servers (gunicorn's workers and Datasette) ------------------------------


def test_make_runs_servers_keep_the_previous_file_over_an_old_one(tmp_path, registry, geocoder):
    """scripts/serve.py: both gunicorn workers and Datasette keep answering from the file
    published before an old-schema one, without an error, and follow the next servable one."""
    servers = Servers(tmp_path, registry, geocoder)
    try:
        fetch(servers.datasette + "/finder.json")
        fetch(servers.site + "/healthz")
        old, good = tmp_path / "old.db", tmp_path / "good.db"
        for path, mark in ((old, " #OLD"), (good, " #B")):
            shutil.copyfile(servers.database, path)
            with sqlite3.connect(path) as db:
                db.execute("update resources set name = name || ?", [mark])
            db.close()
        older(old)
        marked = "/finder.json?sql=select+count(*)+as+n+from+resources+where+name+like+'%25%23{}'"
        site_query = f"{servers.site}/api/search?q=79401&when=any&limit=5"

        def answers(seconds: float) -> tuple[set, set, list]:
            seen, datasette, errors = set(), set(), []
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                for url, into in ((site_query, seen), (servers.datasette + marked, datasette)):
                    status, _, body = get(url.format("OLD"))
                    if status != 200:
                        errors.append((url, status))
                    elif into is seen:
                        seen.add(json.loads(body)["groups"]["nearby"][0]["name"].split(" #")[-1])
                    else:
                        datasette.add(json.loads(body)["rows"][0][0])
            return seen, datasette, errors

        publish(old, servers.database)
        seen, datasette, errors = answers(4)
        assert errors == [] and datasette == {0}, (errors, datasette)
        assert not any(name == "OLD" for name in seen)
        publish(good, servers.database)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status, _, body = get(site_query)
            if json.loads(body)["groups"]["nearby"][0]["name"].endswith(" #B"):
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the site never served the good file published after")
    finally:
        output = servers.stop()
    refused = [line for line in output.splitlines() if "Database file refused" in line]
    assert 1 <= len(refused) <= 3, output  # once per process that saw it (master, 2 workers)
    assert "Datasette keeps the file published before:" in output
    assert "79401" not in output
