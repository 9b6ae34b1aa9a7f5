"""Benchmark slow and idle clients: does a normal client still get answers within a second?

Usage: .venv/bin/python scripts/bench_slow_clients.py [--database data/finder.db] [--idle 500]
                                                     [--slow 500] [--seconds 15] [--workers 2]
                                                     [--server-root CHECKOUT] [--bodies]

Starts scripts/serve.py (gunicorn and Datasette) on free local ports, opens ``--idle``
connections that send nothing and ``--slow`` that send a request head one byte a second (a
"slowloris"; with ``--bodies``, a whole POST head at once and then its body a byte a second),
then, while they are held, asks for a search over a fresh connection every half
second and prints each answer's time. Everything stays on 127.0.0.1 and stops by itself.
"""

import argparse
import resource
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = "/api/search?lat=40.0&lon=-75.1&when=any&radius=25&unit=km&widen=no"
HEAD = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Padding: " + b"a" * 200 + b"\r\n\r\n"
BODY = b"details=" + b"a" * 200
POST = b"POST /resource/1/report HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n" % len(
    BODY
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(database: Path, workers: int, root: Path) -> tuple[subprocess.Popen, str]:
    site, datasette = free_port(), free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            str(root / "scripts" / "serve.py"),
            "--database",
            str(database),
            "--site-port",
            str(site),
            "--datasette-port",
            str(datasette),
            "--workers",
            str(workers),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=root,
    )
    base = f"http://127.0.0.1:{site}"
    for _ in range(1200):
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2):
                return process, base
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise SystemExit("the server did not come up")


def timed_get(url: str) -> float:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            response.read()
    except OSError as error:
        print(f"  probe failed: {error!r}")
        return float("inf")
    return time.perf_counter() - started


def open_connections(port: int, count: int) -> list[socket.socket]:
    held = []
    for _ in range(count):
        client = socket.create_connection(("127.0.0.1", port), timeout=5)
        client.setblocking(False)
        held.append(client)
    return held


def trickle(slow: list[socket.socket], sent: list[int], data: bytes = HEAD) -> int:
    """One more byte of ``data`` on each slow connection (never its last ones); how many are
    still open."""
    alive = 0
    for number, client in enumerate(slow):
        if sent[number] < 0:
            continue
        try:
            client.send(data[sent[number] : sent[number] + 1])
            sent[number] = (sent[number] + 1) % (len(data) - 4)  # never the end
            alive += 1
        except OSError:
            sent[number] = -1  # the server closed it
    return alive


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, default=ROOT / "data" / "finder.db")
    parser.add_argument("--idle", type=int, default=500)
    parser.add_argument("--slow", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--server-root", type=Path, default=ROOT, help="a checkout whose server to measure"
    )
    parser.add_argument("--bodies", action="store_true", help="slow POST bodies, not heads")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    process, base = start(args.database, args.workers, args.server_root)
    port = int(base.rsplit(":", 1)[1])
    try:
        print(f"unloaded: {timed_get(base + PROBE) * 1000:.0f} ms")
        idle = open_connections(port, args.idle)
        slow = open_connections(port, args.slow)
        sent = [0] * len(slow)
        if args.bodies:
            for client in slow:
                client.sendall(POST)
        what = "bodies" if args.bodies else "heads"
        print(
            f"holding {len(idle)} idle and {len(slow)} slow connections ({what}, a byte a second)"
        )
        times, deadline, next_byte = [], time.monotonic() + args.seconds, 0.0
        while time.monotonic() < deadline:
            if time.monotonic() >= next_byte:
                alive = trickle(slow, sent, BODY if args.bodies else HEAD)
                next_byte = time.monotonic() + 1
            seconds = timed_get(base + PROBE)
            times.append(seconds)
            elapsed = args.seconds - (deadline - time.monotonic())
            print(f"  t={elapsed:5.1f} s  search in {seconds * 1000:.0f} ms  (slow open: {alive})")
            time.sleep(0.5)
        late = sum(t > 1 for t in times)
        print(
            f"{len(times)} searches: p50 {statistics.median(times) * 1000:.0f} ms, "
            f"max {max(times) * 1000:.0f} ms, {late} over 1 s"
        )
        for client in idle + slow:
            client.close()
    finally:
        process.terminate()
        process.wait(60)


if __name__ == "__main__":
    main()
