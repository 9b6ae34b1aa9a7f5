"""Serve the site (gunicorn) and Datasette (read-only) over one database; Ctrl-C stops both.

This process holds both listening sockets and supervises two kinds of children: the site
(``python -m finder.web.wsgi``: gunicorn, warmed up before it forks its workers) and Datasette
(scripts/datasette_run.py). When a new database file is published at the path (``os.replace``),
the site's workers switch to it request by request (finder/web/state.py), and this process
starts a new Datasette on the same socket and stops the old one once the new one is ready.

Usage: python scripts/serve.py [--database data/finder.db] [--host 127.0.0.1]
       [--site-port 5000] [--datasette-port 8001] [--workers N] [--threads N] [--keepalive S]
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLLOW_EVERY = 0.5  # seconds between looks at the database file
sys.path.insert(0, str(ROOT))

from finder.reports import default_path  # noqa: E402
from finder.store import UnservableDatabase, check_servable_file  # noqa: E402


class PortTaken(Exception):
    """The port asked for is in use."""


def main() -> int:
    args = _arguments()
    database = str(Path(args.database).resolve())
    try:
        site_socket = _listen(args.host, args.site_port, "PORT")
        datasette_socket = _listen(args.host, args.datasette_port, "DATASETTE_PORT")
    except PortTaken as error:
        print(f"serve.py: {error}", file=sys.stderr)
        return 2
    try:  # a file of another schema version would answer every search with an error
        check_servable_file(database)
    except UnservableDatabase as error:
        print(f"serve.py: not starting: {error}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _interrupt)  # a service manager's stop works like Ctrl-C
    # Ctrl-C stops us even when started from a shell that runs background jobs with SIGINT ignored
    signal.signal(signal.SIGINT, signal.default_int_handler)
    reports = os.environ.get("FINDER_REPORTS_DATABASE") or str(default_path(database))
    datasette = Datasettes(datasette_socket, database, reports)
    site, failed = None, False
    try:
        datasette.start()
        datasette_url = f"http://{_visible(args.host)}:{args.datasette_port}"
        tuning = {
            "--workers": args.workers,
            "--threads": args.threads,
            "--keepalive": args.keepalive,
        }
        site = _start_site(site_socket, database, tuning, datasette_url)
        print(f"\n  Site:      http://{args.host}:{args.site_port}/", flush=True)
        print(f"  Datasette: http://{args.host}:{args.datasette_port}/ (read-only)\n", flush=True)
        print("  Press Ctrl-C to stop both.\n", flush=True)
        while site.poll() is None and datasette.alive():
            time.sleep(FOLLOW_EVERY)
            datasette.follow()
        failed = True  # a server stopped by itself
    except KeyboardInterrupt:
        pass
    finally:
        for process in [site, *datasette.processes]:
            _stop(process)
    return 1 if failed else 0


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=str(ROOT / "data" / "finder.db"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--site-port", type=int, default=int(os.environ.get("PORT") or 5000))
    parser.add_argument(
        "--datasette-port", type=int, default=int(os.environ.get("DATASETTE_PORT") or 8001)
    )
    parser.add_argument("--workers", type=int, default=None, help="default: one per core")
    parser.add_argument("--threads", type=int, default=None, help="per worker (benchmarks)")
    parser.add_argument("--keepalive", type=float, default=None, help="seconds (benchmarks)")
    return parser.parse_args()


def _listen(host: str, port: int, variable: str) -> socket.socket:
    """A listening socket on host:port, inheritable by the servers we start."""
    listening = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind((host, port))
    except OSError as error:
        listening.close()
        raise PortTaken(
            f"port {port} on {host} is not available ({error.strerror}). Stop what uses it, "
            f"or choose another: make run {variable}={port + 1}"
        ) from None
    listening.listen(256)
    listening.set_inheritable(True)
    return listening


def _visible(host: str) -> str:
    """An address a browser on this machine can open for a listening host."""
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host


def _start_site(listening: socket.socket, database: str, tuning: dict, datasette_url: str):
    """The site's server; ``tuning``: its options given other values than their defaults."""
    command = [sys.executable, "-m", "finder.web.wsgi", "--fd", str(listening.fileno())]
    command += ["--database", database]
    command += [str(part) for option, value in tuning.items() if value for part in (option, value)]
    # Listing pages link to their raw data in our Datasette, unless configured elsewhere.
    env = {"FINDER_DATASETTE_URL": datasette_url, **os.environ}
    return subprocess.Popen(
        command, cwd=ROOT, pass_fds=(listening.fileno(),), start_new_session=True, env=env
    )


class Datasettes:
    """Datasette over the current database file, restarted (with no gap) when it changes."""

    def __init__(self, listening: socket.socket, database: str, reports: str):
        self.listening, self.database, self.reports = listening, database, reports
        self.processes: list[subprocess.Popen] = []
        self.serving: tuple | None = None
        self.refused: tuple | None = None  # the last file published that this code cannot serve
        self.starting: threading.Thread | None = None

    def start(self) -> None:
        """A Datasette over the file at the path now; the older ones stop when it is ready."""
        self.serving = _identity(self.database)
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "datasette_run.py")]
            + ["--fd", str(self.listening.fileno()), "--database", self.database]
            + ["--reports", self.reports],
            cwd=ROOT,
            pass_fds=(self.listening.fileno(),),
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,  # Ctrl-C reaches us only; we stop Datasette once, cleanly
        )
        self.processes.append(process)
        self.starting = threading.Thread(target=self._retire_older, args=(process,), daemon=True)
        self.starting.start()

    def _retire_older(self, process: subprocess.Popen) -> None:
        if process.stdout.readline().strip() != "ready":
            return  # it failed (and said why on stderr): the older one keeps serving
        for older in self.processes[: self.processes.index(process)]:
            _stop(older)

    def follow(self) -> None:
        """Start a new Datasette when another file is published at the path, unless this code
        cannot serve it (another schema version): the site keeps its previous generation then,
        and so does Datasette."""
        if self.starting is not None and self.starting.is_alive():
            return
        self.processes = [p for p in self.processes if p.poll() is None]
        published = _identity(self.database)
        if published in (self.serving, self.refused):
            return
        try:
            check_servable_file(self.database)
        except UnservableDatabase as error:
            self.refused = published
            print(f"serve.py: Datasette keeps the file published before: {error}", file=sys.stderr)
            return
        self.start()

    def alive(self) -> bool:
        return any(p.poll() is None for p in self.processes)


def _identity(path: str) -> tuple | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return (stat.st_dev, stat.st_ino, stat.st_mtime_ns, stat.st_size)


def _stop(process: subprocess.Popen | None) -> None:
    """SIGTERM (finish what you are answering, then exit); SIGKILL after 15 s."""
    if process is None:
        return
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout:
        process.stdout.close()


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
