"""`make run`'s server script: the site and a read-only Datasette over a real built database."""

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from finder.ingest.registry import import_source
from finder.store import connect, init_db

from .conftest import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str, attempts: int = 600) -> tuple[int, bytes]:
    for _ in range(attempts):
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status, response.read()
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


class Servers:
    """scripts/serve.py running over a database of the real NW Texas feed."""

    def __init__(self, tmp_path, registry, geocoder):
        self.database = tmp_path / "finder.db"
        db = connect(str(self.database))
        init_db(db)
        import_source(db, registry["nwta"], geocoder)
        db.close()
        site, datasette = free_port(), free_port()
        self.site, self.datasette = f"http://127.0.0.1:{site}", f"http://127.0.0.1:{datasette}"
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "scripts" / "serve.py"),
                "--database",
                str(self.database),
                "--site-port",
                str(site),
                "--datasette-port",
                str(datasette),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def stop(self, how=signal.SIGINT) -> str:
        """Ctrl-C (or SIGTERM) both servers; what they printed."""
        self.process.send_signal(how)
        try:
            # Generous: on a busy 2-core machine the warm-up (compiling the kernels) may still
            # be running when the signal arrives.
            output, _ = self.process.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            self.process.kill()
            output, _ = self.process.communicate()
            raise AssertionError(f"the servers did not stop within 90 s:\n{output}") from None
        assert self.process.returncode == 0, output
        assert "Traceback" not in output, output
        return output


@pytest.fixture
def servers(tmp_path, registry, geocoder):
    running = Servers(tmp_path, registry, geocoder)
    yield running
    running.stop()


@pytest.fixture
def served(servers):
    return servers.site, servers.datasette, servers.database


def test_site_and_datasette_come_up(served):
    site, datasette, _ = served
    status, body = fetch(site + "/about")
    assert status == 200 and b"Meeting: 613" in body and b'<html lang="en">' in body
    status, body = fetch(datasette + "/finder/resources.json?_shape=array&source=nwta&_size=1")
    assert status == 200 and json.loads(body)[0]["source"] == "nwta"


def test_datasette_canned_query_finds_repaired_geocodes(served):
    _, datasette, _ = served
    status, body = fetch(datasette + "/finder/repaired_geocodes.json?_shape=array")
    rows = json.loads(body)
    assert status == 200
    assert any("(0, 0)" in row["geocode_note"] for row in rows)


def test_datasette_is_read_only(served):
    _, datasette, database = served
    before = database.read_bytes()
    request = urllib.request.Request(
        datasette + "/finder/-/query.json", data=b"sql=delete+from+resources", method="POST"
    )
    with pytest.raises(OSError):
        urllib.request.urlopen(request, timeout=5)
    status, body = fetch(
        datasette + "/finder.json?sql=select+count(*)+as+n+from+resources&_shape=array"
    )
    assert json.loads(body)[0]["n"] == 613
    assert database.read_bytes() == before


def test_search_api_over_http_and_nothing_searched_in_the_log(tmp_path, registry, geocoder):
    running = Servers(tmp_path, registry, geocoder)
    site = running.site
    try:
        status, body = fetch(f"{site}/api/search?q=79401&when=any&limit=3")
        answer = json.loads(body)
        assert status == 200 and answer["ok"] and answer["place"]["label"] == "ZIP 79401"
        assert answer["totals"]["nearby"] > 20  # Lubbock meetings from the real feed
        assert answer["groups"]["nearby"][0]["distance_mi"] < 5
        status, body = fetch(f"{site}/api/search?lat=33.5779&lon=-101.8552")
        assert status == 200
        for page in ("search", "map"):  # the pages people use, with a place typed in
            status, body = fetch(f"{site}/{page}?q=33.5779%2C+-101.8552&when=any&lang=es")
            assert status == 200 and b"Lubbock" in body
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{site}/api/search?radius=lots", timeout=5)
        assert refused.value.code == 400
        assert "radius must be a number" in json.loads(refused.value.read())["error"]
    finally:
        output = running.stop()
    assert '"GET /api/search" 200' in output and '"GET /map" 200' in output
    for secret in ("79401", "33.57", "-101.85", "radius=lots", "127.0.0.1 -"):
        assert secret not in output


def test_sigterm_stops_both_servers(tmp_path, registry, geocoder):
    running = Servers(tmp_path, registry, geocoder)
    assert fetch(running.datasette + "/finder.json")[0] == 200
    output = running.stop(signal.SIGTERM)
    assert "Traceback" not in output
    with pytest.raises(OSError):
        urllib.request.urlopen(running.datasette + "/finder.json", timeout=2)
