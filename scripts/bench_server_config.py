"""Server settings side by side: the same 64 keep-alive clients (scripts/bench_http.py) against
the site served with several settings, taken in turns and repeated, with the medians.

Each setting is a server started afresh over the same database: ``gunicorn:W:T`` is make run's
server (scripts/serve.py: gunicorn with finder.web.wsgi's worker) with W workers of T threads
(``gunicorn:W:T:K`` also sets the keep-alive to K seconds); ``granian:W:T`` is granian over the
same app (finder.web.wsgi:application) with W workers of T blocking threads (``granian:W:T:B``
also sets its backpressure, the requests a worker takes at once, to B; default 2 x T). Each
server is first warmed up by 4 s of load, not counted. The rounds interleave the settings, so
that other load on the machine falls on all of them alike; each figure printed at the end is
the median over the rounds. "p99/mean" is how far the slowest answers are from the average
(the average itself is set by the clients' number and the throughput: 64 clients that each
wait for an answer before asking again see 64 / throughput on average, so the server's
settings show in the tail). "srv ms" is the server's CPU time per answer, and the cpu column
says how much of the machine's cores went to the server, to the client processes (on the same
cores) and to other programs.

Usage: .venv/bin/python scripts/bench_server_config.py [--rounds 3] [--seconds 10]
       [--settings gunicorn:2:16,gunicorn:2:4,granian:2:1] [--database data/finder.db]
       [--targets api,page,trivial]
"""

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_http import (  # noqa: E402
    HEADER,
    QUIET,
    TARGETS,
    Result,
    _arguments,
    _free_port,
    measure,
    start_serve_py,
    wait_until_up,
    warm_up,
)

DEFAULT_SETTINGS = "gunicorn:2:16,gunicorn:2:8,gunicorn:2:4,gunicorn:2:2,gunicorn:2:1,granian:2:1"
SHORT = {
    "trivial": "trivial (/healthz)",
    "api": "API search",
    "page": "results page",
    "api-new": "API, new points",
    "page-new": "page, new points",
}


def main() -> int:
    parser = _arguments()
    parser.description = __doc__.splitlines()[0]
    parser.set_defaults(seconds=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--settings", default=DEFAULT_SETTINGS)
    parser.add_argument("--targets", default="trivial,api,page")
    args = parser.parse_args()
    settings = args.settings.split(",")
    targets = [SHORT[name] for name in args.targets.split(",")]
    results: dict[tuple[str, str], list[Result]] = {}
    print(f"{args.clients} clients in {args.processes} processes, {args.seconds:.0f} s a target")
    for number in range(args.rounds):
        print(f"\nround {number + 1} of {args.rounds}")
        for setting in settings:
            port, server = start(setting, args.database)
            try:
                warm_up(port, server.pid, args)
                for target in targets:
                    result = measure(port, server.pid, target, args)
                    results.setdefault((setting, target), []).append(result)
                    print(f"{setting:16} {result.row(target)}", flush=True)
            finally:
                server.terminate()
                server.wait(60)
    print(f"\nmedians over {args.rounds} rounds")
    print(f"{'setting':16} {HEADER}")
    for setting in settings:
        for target in targets:
            print(f"{setting:16} {Result.median(results[(setting, target)]).row(target)}")
    return 0


def start(setting: str, database: str) -> tuple[int, subprocess.Popen]:
    """The server a setting names, once it answers."""
    server, workers, threads, *keepalive = setting.split(":")  # (granian: backpressure)
    if server == "gunicorn":
        keep = float(keepalive[0]) if keepalive else None
        return start_serve_py(database, int(workers), int(threads), keep)
    if server == "granian":
        pressure = int(keepalive[0]) if keepalive else 2 * int(threads)
        return start_granian(database, int(workers), int(threads), pressure)
    raise SystemExit(f"unknown server {server!r}: gunicorn or granian")


def start_granian(database: str, workers: int, threads: int, pressure: int):
    """granian (WSGI) over the site's app: (port, process) once it answers."""
    port = _free_port()
    command = [sys.executable, "-m", "granian", "--interface", "wsgi", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    command += ["--blocking-threads", str(threads), "--backpressure", str(pressure)]
    command += ["--http", "1", "--no-ws", "--no-access-log", "finder.web.wsgi:application"]
    env = {**os.environ, "FINDER_DATABASE": str(Path(database).resolve())}
    return port, wait_until_up(port, subprocess.Popen(command, env=env, **QUIET))


if __name__ == "__main__":
    assert set(SHORT.values()) == set(TARGETS)
    sys.exit(main())
