"""Concurrent clients against the production server (`make run`'s), side by side in one run.

Starts scripts/serve.py over a database (default data/finder.db, the bundled data) on free
ports, then for each of three targets runs CLIENTS concurrent keep-alive clients for SECONDS:
a trivial endpoint (/healthz), API searches and results pages, over a rotation of places and
filters. Prints requests, errors, throughput and latency percentiles for each, and the API's
throughput as a share of the trivial endpoint's.

Also prints where the machine's two cores went during each target: the server's processes,
the client processes (they run on the same cores) and everything else (other programs), from
/proc. ``--threads`` and ``--keepalive`` start the server with other settings than make run's;
scripts/bench_server_config.py compares several settings, and granian, with these functions.

Usage: .venv/bin/python scripts/bench_http.py [--database data/finder.db] [--clients 64]
       [--seconds 15] [--processes 4] [--workers N] [--threads N] [--keepalive S]
"""

import argparse
import http.client
import multiprocessing
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")

PLACES = ["19103", "Philadelphia%2C+PA", "79401", "94110", "10001", "Lubbock%2C+TX", "19380"]
FILTERS = ["", "&when=today", "&attendance=online", "&type=O", "&when=any&kind=meeting"]
TARGETS = {
    "trivial (/healthz)": lambda i: "/healthz",
    "API search": lambda i: f"/api/search?q={PLACES[i % 7]}{FILTERS[i % 5]}",
    "results page": lambda i: f"/search?q={PLACES[i % 7]}{FILTERS[i % 5]}",
    "API, new points": lambda i: f"/api/search?{_new_point(i)}{FILTERS[i % 5]}",
    "page, new points": lambda i: f"/search?{_new_point(i)}{FILTERS[i % 5]}",
}
# A search's answer is kept for its minute (finder/web/kept.py): the rotations above are mostly
# answered from there after their first minute, as popular searches are. The "new points" targets
# ask from a point never asked before each time (within 100 m of four places), so every one of
# them is answered anew: a point anywhere within about 5 km of one of four places, as people
# searching one town at once ask from all over it.
POINTS = [(39.9526, -75.1652), (33.5779, -101.8552), (37.7599, -122.4148), (40.7506, -73.9972)]


def _new_point(i: int) -> str:
    lat, lon = POINTS[i % len(POINTS)]
    spread = random.Random(os.getpid() * 1_000_003 + i)  # i is per client, the process apart
    return (
        f"lat={lat + spread.uniform(-0.05, 0.05):.6f}&lon={lon + spread.uniform(-0.05, 0.05):.6f}"
    )


def main() -> int:
    args = _arguments().parse_args()
    port, server = start_serve_py(args.database, args.workers, args.threads, args.keepalive)
    try:
        print(f"{args.clients} clients in {args.processes} processes, {args.seconds:.0f} s each")
        warm_up(port, server.pid, args)
        print(HEADER)
        rates = {}
        for name in TARGETS:
            result = measure(port, server.pid, name, args)
            rates[name] = result.rate
            print(result.row(name), flush=True)
        for target in ("API search", "API, new points"):
            share = rates[target] / rates["trivial (/healthz)"]
            print(f"{target} throughput: {share:.0%} of the trivial endpoint's")
        print("p99/mean: how far the slowest answers are from the average (1: all alike)")
        print("srv ms: the server's CPU time per answer (all its processes)")
        print("cpu: share of the machine's cores used by the server, the clients, and the rest")
    finally:
        server.terminate()
        server.wait(60)
    return 0


def warm_up(port: int, server_pid: int, args) -> None:
    """A few seconds of searches and pages, not counted: every worker is up and has answered.
    (Measured straight after start, the first target ran at half speed: one worker, up first,
    held most of the clients' kept-alive connections.)"""
    for target in ("API search", "results page"):
        measure(port, server_pid, target, argparse.Namespace(**{**vars(args), "seconds": 2}))


def _arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=str(ROOT / "data" / "finder.db"))
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--processes", type=int, default=4, help="client processes")
    parser.add_argument("--workers", type=int, default=None, help="server workers")
    parser.add_argument("--threads", type=int, default=None, help="threads per worker")
    parser.add_argument("--keepalive", type=float, default=None, help="seconds")
    return parser


HEADER = (
    f"{'target':20} {'requests':>9} {'errors':>7} {'req/s':>8} {'p50 ms':>8} "
    f"{'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'p99/mean':>8} {'srv ms':>6}"
    "   cpu: server/clients/other"
)


class Result:
    """One target's figures: requests, errors, rate, latency percentiles (ms) and the CPU
    seconds the server, the clients and everything else spent meanwhile."""

    FIGURES = (
        "requests",
        "errors",
        "rate",
        "mean",
        "tail",
        "cost",
        "p50",
        "p95",
        "p99",
        "max",
        "server",
        "clients",
        "other",
    )

    def __init__(self, seconds: float, **figures):
        self.seconds = seconds
        self.__dict__.update(figures)

    @classmethod
    def of(cls, times: list[float], errors: int, seconds: float, cpu) -> "Result":
        ordered = sorted(times) or [0.0]

        def at(share: float) -> float:
            return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

        server, clients, other = cpu
        mean = sum(ordered) / len(ordered) * 1000
        return cls(
            seconds,
            requests=len(times),
            errors=errors,
            rate=len(times) / seconds,
            mean=mean,
            tail=at(0.99) / max(mean, 1e-9),
            cost=server * 1000 / max(1, len(times)),
            p50=at(0.5),
            p95=at(0.95),
            p99=at(0.99),
            max=ordered[-1] * 1000,
            server=server,
            clients=clients,
            other=other,
        )

    @classmethod
    def median(cls, results: list["Result"]) -> "Result":
        """Each figure the median of the results' (errors: their sum)."""
        figures = {f: statistics.median(getattr(r, f) for r in results) for f in cls.FIGURES}
        # (p99/mean and CPU per answer: the median of each round's, not a ratio of medians)
        figures["errors"] = sum(r.errors for r in results)
        return cls(results[0].seconds, **figures)

    def row(self, name: str) -> str:
        cores = self.seconds * (os.cpu_count() or 1)
        return (
            f"{name:20} {self.requests:9.0f} {self.errors:7d} {self.rate:8.1f} "
            f"{self.p50:8.1f} {self.p95:8.1f} {self.p99:8.1f} {self.max:8.1f} "
            f"{self.tail:8.1f} {self.cost:6.2f}   "
            f"{self.server / cores:4.0%}/{self.clients / cores:4.0%}/{self.other / cores:4.0%}"
        )


def measure(port: int, server_pid: int, name: str, args) -> Result:
    """CLIENTS keep-alive clients on one target for SECONDS, with the CPU each side used."""
    server_before, machine_before = _tree_cpu(server_pid), _machine_cpu()
    times, errors, clients_cpu = _load(port, name, args)
    server = _tree_cpu(server_pid) - server_before
    busy = _machine_cpu() - machine_before
    other = max(0.0, busy - server - clients_cpu)
    return Result.of(times, errors, args.seconds, (server, clients_cpu, other))


def start_serve_py(database, workers=None, threads=None, keepalive=None):
    """scripts/serve.py (make run's server) on free ports, once it answers: (port, process)."""
    site, datasette = _free_port(), _free_port()
    command = [sys.executable, str(ROOT / "scripts" / "serve.py"), "--database", database]
    command += ["--site-port", str(site), "--datasette-port", str(datasette)]
    command += ["--workers", str(workers)] if workers else []
    command += ["--threads", str(threads)] if threads else []
    command += ["--keepalive", str(keepalive)] if keepalive is not None else []
    return site, wait_until_up(site, subprocess.Popen(command, **QUIET))


QUIET = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}


def wait_until_up(port: int, server: subprocess.Popen) -> subprocess.Popen:
    started = time.perf_counter()
    for _ in range(1200):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=60):
                break
        except OSError:
            if server.poll() is not None:
                raise SystemExit(f"the server exited ({server.returncode})") from None
            time.sleep(0.1)
    print(f"server ready in {time.perf_counter() - started:.1f} s (warm-up included)")
    return server


def _tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and all its descendants alive now."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICK
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    pending += [int(child) for child in children.read().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def _machine_cpu() -> float:
    """CPU seconds the whole machine has spent busy (not idle or waiting) since boot."""
    with open("/proc/stat") as stat:
        fields = [int(n) for n in stat.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / TICK


def _load(port: int, name: str, args) -> tuple[list[float], int, float]:
    per_process = [args.clients // args.processes] * args.processes
    per_process[0] += args.clients - sum(per_process)
    with multiprocessing.Pool(args.processes) as pool:
        parts = pool.starmap(
            _clients, [(port, name, n, args.seconds, k) for k, n in enumerate(per_process)]
        )
    times = [t for part_times, _, _ in parts for t in part_times]
    return times, sum(errors for _, errors, _ in parts), sum(cpu for _, _, cpu in parts)


def _clients(port: int, name: str, count: int, seconds: float, seed: int):
    path_of = TARGETS[name]
    cpu_before = _own_cpu()
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
    return times, errors[0], _own_cpu() - cpu_before


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    sys.exit(main())
