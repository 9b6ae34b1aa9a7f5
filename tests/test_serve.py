"""`make run`'s server script: the site (gunicorn) and a read-only Datasette over a real built
database, tested over real sockets: the private log on good, malformed and failing requests,
ports already taken, Datasette's SQL limits and headers, and a new database file published while
both serve."""

import json
import os
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from finder.ingest import failures
from finder.ingest.registry import import_source
from finder.search.sidecar import file_key, identity
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
                "--workers",
                "2",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        # Read as it comes: a full pipe (64 KB, about 2,600 access-log lines) blocks the
        # servers' logging, and so their answers.
        self.printed: list[str] = []
        self.reader = threading.Thread(target=self.printed.extend, args=(self.process.stdout,))
        self.reader.start()

    def stop(self, how=signal.SIGINT) -> str:
        """Ctrl-C (or SIGTERM) both servers; what they printed."""
        self.process.send_signal(how)
        try:
            # Generous: on a busy 2-core machine the warm-up (compiling the kernels) may still
            # be running when the signal arrives.
            self.process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            self.process.kill()
            output = self._printed()
            raise AssertionError(f"the servers did not stop within 90 s:\n{output}") from None
        output = self._printed()
        assert self.process.returncode == 0, output
        return output

    def _printed(self) -> str:
        self.reader.join()
        self.process.stdout.close()
        return "".join(self.printed)


@pytest.fixture
def servers(tmp_path, registry, geocoder):
    running = Servers(tmp_path, registry, geocoder)
    yield running
    running.stop()


@pytest.fixture
def served(servers):
    fetch(servers.datasette + "/finder.json")  # both up (retried until they answer)
    fetch(servers.site + "/healthz")
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


def test_datasette_shows_a_refresh_that_failed_without_publishing(served):
    """Every source failed, so no file was published: feed_status reads the record beside it."""
    _, datasette, database = served
    failures.record(database, {"nwta": failures.Failure(503, "HTTP 503 Service Unavailable")})
    status, body = fetch(datasette + "/finder/feed_status.json?_shape=array")
    [row] = [r for r in json.loads(body) if r["source"] == "nwta"]
    assert status == 200
    assert (row["http_status"], row["last_error"], row["published_attempt"]) == (
        503,
        "HTTP 503 Service Unavailable",
        0,
    )
    failures.forget(database, ["nwta"])
    status, body = fetch(datasette + "/finder/feed_status.json?_shape=array")
    [row] = [r for r in json.loads(body) if r["source"] == "nwta"]
    assert (row["last_error"], row["published_attempt"]) == (None, 1)


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
    assert "Search ready" in output
    for secret in ("79401", "33.57", "-101.85", "radius=lots", "127.0.0.1 -"):
        assert secret not in output
    assert "Traceback" not in output


def test_sigterm_stops_both_servers(tmp_path, registry, geocoder):
    running = Servers(tmp_path, registry, geocoder)
    assert fetch(running.datasette + "/finder.json")[0] == 200
    output = running.stop(signal.SIGTERM)
    assert "Traceback" not in output
    with pytest.raises(OSError):
        urllib.request.urlopen(running.datasette + "/finder.json", timeout=2)


def raw(site: str, data: bytes) -> bytes:
    """Send bytes over a socket as they are (no client library tidying them); the answer."""
    host, port = urllib.parse.urlsplit(site).netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(data)
        connection.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def test_malformed_requests_and_errors_log_nothing_searched(tmp_path, registry, geocoder):
    running = Servers(tmp_path, registry, geocoder)
    site, datasette = running.site, running.datasette
    try:
        assert fetch(site + "/healthz")[0] == 200
        secret = "SECRETPLACE"
        answers = [
            raw(site, f"GET /search?q={secret} HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n".encode()),
            raw(site, f"GET /search?q={secret * 1000} HTTP/1.1\r\nHost: x\r\n\r\n".encode()),
            raw(site, f"BREW /search?q={secret}\r\n\r\n".encode()),
            raw(site, f"GET /search?q={secret} HTTP/9.9\r\n\r\n".encode()),
            raw(site, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + secret.encode()),
        ]
        for answer in answers:
            assert answer == b"" or answer.split(b" ")[1][:1] == b"4", answer[:200]
        assert b" 414 " in answers[1].split(b"\r\n")[0]
        fetch(f"{datasette}/finder/resources.json?name__contains={secret}")
        # A 500: the database replaced by something that is not one, then a search.
        broken = tmp_path / "broken.db"
        broken.write_bytes(b"not a database" * 100)
        os.replace(broken, running.database)
        with pytest.raises(urllib.error.HTTPError) as failed:
            urllib.request.urlopen(f"{site}/api/search?q=79401&x={secret}", timeout=30)
        assert failed.value.code == 500
        failed.value.close()
    finally:
        output = running.stop()
    assert '"GET /api/search" 500' in output and "Exception on /api/search [GET]" in output
    assert secret not in output and "79401" not in output and "ip=" not in output
    for line in output.splitlines():  # the servers' own addresses only, never a client's
        assert (
            "127.0.0.1" not in line
            or "Listening at" in line
            or "Site:" in line
            or ("Datasette:" in line)
        ), line


def test_a_taken_port_is_a_clear_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for variables in (
            {"PORT": str(port)},
            {"PORT": str(free_port()), "DATASETTE_PORT": str(port)},
        ):
            finished = subprocess.run(
                [sys.executable, str(ROOT / "scripts" / "serve.py"), "--database", str(tmp_path)],
                env={**os.environ, **variables},
                capture_output=True,
                text=True,
                timeout=60,
            )
            name = "DATASETTE_PORT" if "DATASETTE_PORT" in variables else "PORT"
            assert finished.returncode == 2, finished
            assert f"port {port} on 127.0.0.1 is not available" in finished.stderr
            assert f"make run {name}=" in finished.stderr


def test_datasette_refuses_heavy_functions_and_sends_the_sites_headers(served):
    _, datasette, _ = served
    sql = urllib.parse.quote("select printf('%.*c', 900000000, 'x') as x")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{datasette}/finder.json?sql={sql}&_shape=array", timeout=30)
    assert refused.value.code == 400 and json.loads(refused.value.read())["ok"] is False
    refused.value.close()
    sql = urllib.parse.quote("select length(zeroblob(1000000000)) as n")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{datasette}/finder.json?sql={sql}&_shape=array", timeout=30)
    assert b"too big" in refused.value.read()
    refused.value.close()
    sql = urllib.parse.quote("select printf('%05.1f %s', 3.14159, 'ok') as x")
    status, body = fetch(f"{datasette}/finder.json?sql={sql}&_shape=array")
    assert json.loads(body) == [{"x": "003.1 ok"}]
    with urllib.request.urlopen(datasette + "/finder", timeout=10) as response:
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_both_servers_follow_a_new_database_file_without_errors(servers):
    count = "/finder.json?sql=select+count(*)+as+n+from+resources&_shape=array"
    assert json.loads(fetch(servers.datasette + count)[1])[0]["n"] == 613
    assert fetch(servers.site + "/healthz")[0] == 200
    new = servers.database.with_name("next.db")
    shutil.copyfile(servers.database, new)
    db = sqlite3.connect(new)
    with db:
        db.execute("update resources set name = name || ' #2'")
        db.execute("delete from resources where id in (select id from resources limit 13)")
    db.close()
    errors, seen, stop = [], set(), threading.Event()

    def ask(url, read):
        while not stop.is_set():
            try:
                with urllib.request.urlopen(url, timeout=30) as response:
                    seen.add(read(json.loads(response.read())))
            except Exception as error:  # noqa: BLE001 - every failure is counted and shown
                errors.append(f"{'Datasette' if servers.datasette in url else 'site'}: {error!r}")

    names = "/api/search?q=79401&when=any&limit=5"
    askers = [
        threading.Thread(target=ask, args=(servers.datasette + count, lambda a: a[0]["n"])),
        threading.Thread(
            target=ask,
            args=(servers.site + names, lambda a: a["groups"]["nearby"][0]["name"].endswith("#2")),
        ),
    ]
    for thread in askers:
        thread.start()
    # Connections the old Datasette accepted but that had not sent their request when the new
    # one took over: they are still answered (uvicorn alone would close them unanswered).
    host, port = urllib.parse.urlsplit(servers.datasette).netloc.split(":")
    waiting = [socket.create_connection((host, int(port)), timeout=10) for _ in range(8)]
    try:
        time.sleep(1)
        os.replace(new, servers.database)
        deadline = time.monotonic() + 60
        while not {600, True} <= seen and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # the old Datasette is being stopped now
        for connection in waiting:
            connection.sendall(f"GET {count} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        answers = [connection.recv(65536) for connection in waiting]
        time.sleep(1)
    finally:
        stop.set()
        for thread in askers:
            thread.join(30)
        for connection in waiting:
            connection.close()
    assert errors == [], errors[:5]
    assert {613, 600, False, True} <= seen, seen
    assert [answer[:12] for answer in answers] == [b"HTTP/1.1 200"] * len(waiting), answers


def _open(site: str, count: int) -> list[socket.socket]:
    host, port = urllib.parse.urlsplit(site).netloc.split(":")
    return [socket.create_connection((host, int(port)), timeout=10) for _ in range(count)]


def trickle(slow: list, data: bytes, query: str, asking_at: tuple) -> tuple[list, dict]:
    """For 14 s, send each slow connection the next byte of data every second, and ask query as
    a normal client at the seconds asking_at: how long those answers took, and the last second
    each connection still took a byte (by its number)."""
    waits, open_at, started = [], {}, time.monotonic()
    for second in range(14):
        for number, connection in enumerate(slow):
            try:
                connection.send(data[second : second + 1])
                open_at[number] = second
            except OSError:
                pass
        if second in asking_at:
            asked = time.perf_counter()
            assert fetch(query, attempts=1)[0] == 200
            waits.append(time.perf_counter() - asked)
        time.sleep(max(0.0, started + second + 1 - time.monotonic()))
    return waits, open_at


def test_slow_and_idle_clients_do_not_hold_off_a_normal_one(served):
    """Issue #14: 200 clients sending a request head a byte at a time (which held a thread each,
    so that a normal search waited 30 s and more) and 200 that send nothing; a normal search
    is answered within a second meanwhile, and the slow ones are cut off after HEAD_TIMEOUT."""
    site = served[0]
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 64
    slow, idle = _open(site, 200), _open(site, 200)
    query = site + "/api/search?lat=33.58&lon=-101.86&when=any&radius=25&widen=no"
    cut_off = 0
    try:  # 14 s: past HEAD_TIMEOUT (10 s), the slow ones are cut off
        waits, _open_at = trickle(slow, head, query, asking_at=(1, 3, 5, 7))
        for connection in slow:
            connection.settimeout(5)
            try:
                cut_off += connection.recv(1) == b""
            except OSError:  # reset
                cut_off += 1
    finally:
        for connection in slow + idle:
            connection.close()
    assert max(waits) < 1, waits
    assert cut_off == len(slow)


def test_a_request_head_sent_in_pieces_is_answered_on_a_kept_alive_connection(served):
    [connection] = _open(served[0], 1)
    with connection:
        for _ in range(2):  # the second request reuses the connection (kept alive)
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHo")
            time.sleep(0.3)
            connection.sendall(b"st: x\r\n")
            time.sleep(0.3)
            connection.sendall(b"\r\n")
            answer = b""
            while b'{"ok":true}' not in answer.replace(b" ", b""):
                chunk = connection.recv(65536)
                assert chunk, answer
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 200"), answer[:100]


def children(pid: int) -> set[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as listed:
        return {int(child) for child in listed.read().split()}


def site_master(servers) -> int:
    """gunicorn's master: the child of serve.py running finder.web.wsgi."""
    for child in children(servers.process.pid):
        with open(f"/proc/{child}/cmdline", "rb") as cmdline:
            if b"finder.web.wsgi" in cmdline.read():
                return child
    raise AssertionError("no site server among serve.py's children")


def both_workers(master: int, without: int | None = None) -> set[int]:
    """The master's two workers, once it has forked both (it may still be forking one), neither
    of them ``without``."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        workers = children(master)
        if len(workers) == 2 and without not in workers and all(map(_forked, workers)):
            return workers
        time.sleep(0.1)
    raise AssertionError(f"the site's master has workers {children(master)}, not two")


def _forked(pid: int) -> bool:
    """Not a dead worker waiting to be reaped."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_worker_started_after_a_refresh_starts_with_the_new_file_mapped(served, servers):
    site, _datasette, database = served
    master = site_master(servers)
    workers = both_workers(master)
    new = database.with_name("next.db")
    shutil.copyfile(database, new)
    with sqlite3.connect(new) as db:
        db.execute("update resources set name = name || ' #2'")
    db.close()
    os.replace(new, database)
    stored = f"/{file_key(database, identity(os.stat(database)))}/"
    names = f"{site}/api/search?q=79401&when=any&limit=5"
    for _ in range(20):  # both workers open the new file (its index is stored by the first)
        answer = json.loads(fetch(names)[1])
        assert answer["groups"]["nearby"][0]["name"].endswith(" #2")
    gone = min(workers)
    os.kill(gone, signal.SIGKILL)  # gunicorn forks a replacement
    [replacement] = both_workers(master, without=gone) - workers
    with open(f"/proc/{replacement}/maps") as maps:
        assert stored in maps.read()  # before it has answered anything: from the master
    with open(f"/proc/{master}/maps") as maps:
        assert stored in maps.read()
    answer = json.loads(fetch(names)[1])
    assert answer["groups"]["nearby"][0]["name"].endswith(" #2")


def a_listing(database) -> int:
    with sqlite3.connect(database) as db:
        [(number,)] = db.execute("select min(id) from resources where status = 'active'")
    db.close()
    return number


def report_head(listing: int, length: int, *extra: str) -> bytes:
    fields = "".join(f"{field}\r\n" for field in extra)
    return (
        f"POST /resource/{listing}/report HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {length}\r\n{fields}\r\n"
    ).encode()


def answer_to(connection: socket.socket) -> bytes:
    """The whole answer on a connection the server closes after it (or kept alive: its body)."""
    answer = b""
    while b"</html>" not in answer:
        chunk = connection.recv(65536)
        if not chunk:
            break
        answer += chunk
    return answer


def test_slowly_sent_bodies_hold_no_thread_and_are_cut_off_at_the_request_deadline(served):
    """Issue #14: a client sending its request body a byte a second held a thread for as long
    as it kept sending. 60 of them (more than both workers' threads) do not hold off a normal
    search, and each is cut off once its request has taken REQUEST_TIMEOUT (10 s), though it
    never paused long enough to be closed as idle."""
    site, _datasette, database = served
    body = b"details=" + b"x" * 100
    head = report_head(a_listing(database), len(body))
    slow = _open(site, 60)
    for connection in slow:
        connection.sendall(head)
    query = site + "/api/search?lat=33.58&lon=-101.86&when=any&radius=25&widen=no"
    try:
        waits, open_at = trickle(slow, body, query, asking_at=(2, 4, 6, 8))
        answers = []
        for connection in slow:
            connection.settimeout(5)
            try:
                answers.append(connection.recv(1))
            except OSError:  # reset
                answers.append(b"")
    finally:
        for connection in slow:
            connection.close()
    assert max(waits) < 1, waits
    assert answers == [b""] * len(slow)  # closed unanswered: the body never came whole
    assert 9 <= min(open_at.values()) and max(open_at.values()) <= 12, open_at


def test_a_body_in_pieces_or_after_100_continue_reaches_the_form(served):
    site, _datasette, database = served
    listing = a_listing(database)
    body = b"what=closed&details=PIECEWISE+words&contact="
    [pieces, expecting] = _open(site, 2)
    with pieces, expecting:
        pieces.sendall(report_head(listing, len(body)))
        for part in (body[:10], body[10:30], body[30:]):
            time.sleep(0.3)
            pieces.sendall(part)
        expecting.sendall(report_head(listing, len(body), "Expect: 100-continue"))
        expecting.settimeout(3)
        assert expecting.recv(65536).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        expecting.sendall(body)
        for connection in (pieces, expecting):
            answer = answer_to(connection)
            # the form comes back (its token is missing) with what was written in it
            assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
            assert b"PIECEWISE words</textarea>" in answer


def test_a_chunked_body_sent_in_pieces_reaches_the_form(served):
    site, _datasette, database = served
    head = report_head(a_listing(database), 0).replace(
        b"Content-Length: 0", b"Transfer-Encoding: chunked"
    )
    body = b"what=closed&details=CHUNKED+words&contact="
    [connection] = _open(site, 1)
    with connection:
        connection.sendall(head)
        for part in (body[:12], body[12:]):
            time.sleep(0.3)
            connection.sendall(b"%x\r\n%s\r\n" % (len(part), part))
        time.sleep(0.3)
        connection.sendall(b"0\r\n\r\n")
        answer = answer_to(connection)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert b"CHUNKED words</textarea>" in answer


def test_an_oversized_body_is_refused_before_it_is_read_and_logged_privately(
    tmp_path, registry, geocoder
):
    running = Servers(tmp_path, registry, geocoder)
    site = running.site
    try:
        assert fetch(site + "/healthz")[0] == 200
        listing = a_listing(running.database)
        [connection] = _open(site, 1)
        with connection:
            connection.sendall(report_head(listing, 10_000_000)[:-2] + b"X-Secret: SECRET\r\n\r\n")
            connection.sendall(b"details=SECRET" + b"x" * 1000)
            answer = answer_to(connection)
        assert answer.startswith(b"HTTP/1.1 413 Content Too Large\r\n"), answer
        chunks = b"".join(b"8000\r\n" + b"x" * 0x8000 + b"\r\n" for _ in range(3))
        head = report_head(listing, 0).replace(b"Content-Length: 0", b"Transfer-Encoding: chunked")
        assert raw(site, head + chunks).startswith(b"HTTP/1.1 413 ")
    finally:
        output = running.stop()
    assert output.count(f'"POST /resource/{listing}/report" 413') == 2, output
    assert "SECRET" not in output and "Traceback" not in output


def test_clients_that_never_close_after_their_answer_do_not_stall_a_worker(served):
    """gunicorn lingered on each connection it closed (up to 2 s, waiting for the client's end)
    on the worker's main thread: 20 clients that sent an HTTP/1.0 request and never closed kept
    a normal one waiting 6 s. Each still gets its whole answer; the server closes them."""
    site = served[0]
    held = _open(site, 20)
    for connection in held:
        connection.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
    time.sleep(0.2)
    waits = []
    try:
        for _ in range(4):
            asked = time.perf_counter()
            assert fetch(site + "/healthz", attempts=1)[0] == 200
            waits.append(time.perf_counter() - asked)
        answers = [answer_to(connection) for connection in held]  # read only now: to the end
    finally:
        for connection in held:
            connection.close()
    assert max(waits) < 1, waits
    assert all(
        a.startswith(b"HTTP/1.0 200") and b'{"ok":true}' in a.replace(b" ", b"") for a in answers
    ), answers


def test_an_answer_is_closed_when_its_client_resets_the_connection(app, monkeypatch):
    """A browser that leaves a page while a script loads resets the connection: Werkzeug's server
    then stopped before closing the answer, and the static file stayed open until collected
    (a ResourceWarning that failed a browser test)."""
    from finder.web.serving import serving_in_background

    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    with serving_in_background(app) as base:
        port = int(base.rsplit(":", 1)[1])
        for _ in range(200):  # the reset must come while the server drains: a few in 50 do
            client = socket.create_connection(("127.0.0.1", port))
            client.sendall(b"GET /static/vendor/leaflet/leaflet.js HTTP/1.1\r\nHost: x\r\n\r\n")
            client.recv(100)  # the answer has begun
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()  # linger on, for 0 s: a reset, not an orderly close
        time.sleep(0.5)  # the server's threads see the resets
    assert not [u for u in unraisable if issubclass(u.exc_type, ResourceWarning)]
