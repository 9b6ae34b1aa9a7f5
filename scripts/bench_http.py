"""Concurrent clients against the production server (`make run`'s), side by side in one run.

Starts scripts/serve.py over a database (default data/finder.db, the bundled data) on free
ports, then for each of three targets runs CLIENTS concurrent keep-alive clients for SECONDS:
a trivial endpoint (/healthz), API searches and results pages, over a rotation of places and
filters. Prints requests, errors, throughput and latency percentiles for each, and the API's
throughput as a share of the trivial endpoint's.

Usage: .venv/bin/python scripts/bench_http.py [--database data/finder.db] [--clients 64]
       [--seconds 15] [--processes 4] [--workers N]
"""

import argparse
import http.client
import multiprocessing
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PLACES = ["19103", "Philadelphia%2C+PA", "79401", "94110", "10001", "Lubbock%2C+TX", "19380"]
FILTERS = ["", "&when=today", "&attendance=online", "&type=O", "&when=any&kind=meeting"]
TARGETS = {
    "trivial (/healthz)": lambda i: "/healthz",
    "API search": lambda i: f"/api/search?q={PLACES[i % 7]}{FILTERS[i % 5]}",
    "results page": lambda i: f"/search?q={PLACES[i % 7]}{FILTERS[i % 5]}",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=str(ROOT / "data" / "finder.db"))
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--processes", type=int, default=4, help="client processes")
    parser.add_argument("--workers", type=int, default=None, help="server workers")
    args = parser.parse_args()
    port, server = _start(args.database, args.workers)
    try:
        print(f"{args.clients} clients in {args.processes} processes, {args.seconds:.0f} s each")
        print(
            f"{'target':20} {'requests':>9} {'errors':>7} {'req/s':>8} {'p50 ms':>8} "
            f"{'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}"
        )
        rates = {}
        for name in TARGETS:
            times, errors = _load(port, name, args)
            rates[name] = len(times) / args.seconds
            print(_row(name, times, errors, args.seconds), flush=True)
        share = rates["API search"] / rates["trivial (/healthz)"]
        print(f"API search throughput: {share:.0%} of the trivial endpoint's")
    finally:
        server.terminate()
        server.wait(60)
    return 0


def _start(database: str, workers: int | None) -> tuple[int, subprocess.Popen]:
    site, datasette = _free_port(), _free_port()
    command = [sys.executable, str(ROOT / "scripts" / "serve.py"), "--database", database]
    command += ["--site-port", str(site), "--datasette-port", str(datasette)]
    command += ["--workers", str(workers)] if workers else []
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started = time.perf_counter()
    for _ in range(1200):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{site}/healthz", timeout=60):
                break
        except OSError:
            time.sleep(0.1)
    print(f"server ready in {time.perf_counter() - started:.1f} s (warm-up included)")
    return site, server


def _load(port: int, name: str, args) -> tuple[list[float], int]:
    per_process = [args.clients // args.processes] * args.processes
    per_process[0] += args.clients - sum(per_process)
    with multiprocessing.Pool(args.processes) as pool:
        parts = pool.starmap(
            _clients, [(port, name, n, args.seconds, k) for k, n in enumerate(per_process)]
        )
    return [t for times, _ in parts for t in times], sum(e for _, e in parts)


def _clients(port: int, name: str, count: int, seconds: float, seed: int):
    path_of = TARGETS[name]
    times: list[float] = []
    errors = [0]
    deadline = time.perf_counter() + seconds

    def client(number: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        i = number * 7919 + seed
        while time.perf_counter() < deadline:
            i += 1
            started = time.perf_counter()
            try:
                connection.request("GET", path_of(i))
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    errors[0] += 1
                    continue
            except (OSError, http.client.HTTPException):
                errors[0] += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            times.append(time.perf_counter() - started)
        connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return times, errors[0]


def _row(name: str, times: list[float], errors: int, seconds: float) -> str:
    ordered = sorted(times) or [0.0]

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    return (
        f"{name:20} {len(times):9d} {errors:7d} {len(times) / seconds:8.1f} {at(0.5):8.1f} "
        f"{at(0.95):8.1f} {at(0.99):8.1f} {ordered[-1] * 1000:8.1f}"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    sys.exit(main())
