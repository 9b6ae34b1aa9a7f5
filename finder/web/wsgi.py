"""The production server: gunicorn, with the app built and warmed up once before forking.

``make run`` (scripts/serve.py) runs ``SiteServer``. The master process builds the app, opens
the database generation, maps its search index (finder/search/sidecar.py: built and stored
beside the file by the first process that needs it) and compiles the kernels, then forks one
worker per core: the workers share the index's pages and start warm. Each worker answers with a
pool of threads; a connection whose request head is not whole yet waits in the worker's poller
(``TimedWorker``), and an idle or kept-alive one is closed after ``KEEPALIVE`` seconds, so slow
or idle clients hold no thread. Before forking a worker (one replaced after a refresh too), the
master opens the database file published now if it holds an older one (``follow_the_file``), so
every worker starts with the current generation mapped rather than opening it on its first
request.

Alone, on an inherited socket: ``python -m finder.web.wsgi --fd N --database PATH``. Under a
plain gunicorn command, keep the worker and the private log: ``gunicorn --preload -k
finder.web.wsgi.TimedWorker --threads 16 --keep-alive 5 --logger-class
finder.web.wsgi.PrivateLog --access-logfile - -b 127.0.0.1:5000
'finder.web.wsgi:application()'`` (the database from FINDER_DATABASE).
"""

import argparse
import os
import resource
import socket
import sys
import time
from urllib.parse import urlsplit

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger
from gunicorn.workers import gthread

from finder import create_app
from finder.search.sidecar import identity, is_stored
from finder.store import UnservableDatabase, check_servable_file
from finder.web.serving import warm_up
from finder.web.state import published

KEEPALIVE = 5  # seconds an idle kept-alive connection (or a new one that sends nothing) stays
READ_TIMEOUT = 5  # seconds a client may pause while sending a request (or reading the answer)
TIMEOUT = 30  # a worker silent this long is restarted
THREADS = 16  # per worker: threads blocked on a slow client cost memory, not CPU


def connections() -> int:
    """Connections per worker: up to 2,000, well inside the file descriptor limit, so that at the
    limit a worker stops accepting (the backlog, then the kernel, holds the rest) and never spins
    on failing accepts."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(THREADS + 10, min(2000, soft - 200))


def settings(host: str, port: int, workers: int | None = None) -> dict:
    """gunicorn's settings for the site."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers or os.cpu_count() or 2,
        "worker_class": "finder.web.wsgi.TimedWorker",
        "threads": THREADS,
        "worker_connections": connections(),
        "backlog": 256,
        "keepalive": KEEPALIVE,
        "timeout": TIMEOUT,
        "graceful_timeout": 10,
        "limit_request_line": 4094,  # a longer URL is a 414
        "limit_request_fields": 50,
        "limit_request_field_size": 8190,
        "preload_app": True,
        "accesslog": "-",
        "errorlog": "-",
        "loglevel": "info",
        "logger_class": PrivateLog,
        "control_socket_disable": True,
        "proc_name": "finder",
        "pre_fork": follow_the_file,
        "post_fork": hold_connections,
    }


def follow_the_file(arbiter, _worker) -> None:
    """gunicorn's pre_fork hook: in the master, before it forks a worker, ``open_published``, so
    that the worker inherits the current generation instead of opening it on its first request.
    On failure the worker opens it itself, as each request would."""
    app = getattr(arbiter.app, "callable", None)  # the app, once loaded (preload_app)
    if app is None:
        return
    try:
        open_published(app)
    except Exception:  # noqa: BLE001 - the arbiter's loop must go on; the worker retries
        arbiter.log.exception("Could not open the database file published now")


def hold_connections(arbiter, _worker) -> None:
    """gunicorn's post_fork hook: in a new worker, one read connection per thread to the current
    generation, so that the worker goes on answering from it if the next file published is one
    this code refuses (another schema version). On failure it answers as it can (a 503)."""
    app = getattr(arbiter.app, "callable", None)
    if app is None:
        return
    try:
        published(app).hold_connections(THREADS)
    except Exception:  # noqa: BLE001 - the worker must start; its requests say what is wrong
        arbiter.log.exception("Could not open the current database file in a new worker")


def open_published(app) -> bool:
    """Open the generation published at the path if the app holds an older one and its index is
    stored beside it (mapped: well under a second at 1M meetings); whether it did. Never a build
    (a minute at 1M) nor the warm-up searches (about 10 s at 1M): meanwhile the master would
    replace no other worker; the worker does those itself."""
    holder = published(app)
    held = holder.current
    if held is not None and held.identity == identity(os.stat(holder.path)):
        return False
    if not is_stored(holder.path):
        return False
    return holder.current_generation(wait=True) is not held


class TimedSocket(socket.socket):
    """A client connection whose blocking reads and writes give up after READ_TIMEOUT: gunicorn's
    threads block on a request once its first bytes arrive, and a client that stops sending
    would otherwise hold one for good."""

    def setblocking(self, flag: bool) -> None:
        if flag:
            self.settimeout(READ_TIMEOUT)
        else:
            super().setblocking(False)


class _TimedListener:
    def __init__(self, listener):
        self._listener = listener

    def accept(self):
        client, address = self._listener.accept()
        timed = TimedSocket(client.family, client.type, client.proto, fileno=client.detach())
        return timed, address

    def __getattr__(self, name):
        return getattr(self._listener, name)


class TimedWorker(gthread.ThreadWorker):
    """gunicorn's threaded worker, giving a thread only to a connection whose request head has
    arrived whole, with a read timeout on every client connection.

    gunicorn hands a connection to a thread as soon as its first bytes arrive (after holding a
    thread up to 5 s waiting for them), and the thread then blocks until the head is complete:
    clients sending a header byte a second held every thread. Here the worker's poller collects
    a head's bytes as they come, a thread parses it only once it is whole, and a client that
    takes over HEAD_TIMEOUT to send one is disconnected; one that sends nothing is closed after
    KEEPALIVE seconds by the poller, holding no thread meanwhile.
    """

    def accept(self, listener) -> None:
        super().accept(_TimedListener(listener))

    def handle(self, conn):
        if self.cfg.is_ssl:  # (behind our proxy, TLS ends before gunicorn)
            return super().handle(conn)
        head = _gather_head(conn)
        if head is _WAIT:
            return gthread._DEFER  # back to the poller, which calls us again when bytes come
        if head is _GIVE_UP:
            conn.close()
            return False
        conn.data_ready = True  # gunicorn must not wait for bytes again
        if head:  # what we read goes back in front of the parser
            conn.sock.setblocking(True)
            conn.init()
            conn.parser.unreader.unread(head)
        return super().handle(conn)


HEAD_TIMEOUT = 10  # seconds a client may take to send a whole request head
HEAD_MAX = 65536  # bytes of head gathered before the parser takes over (and applies its limits)
_WAIT, _GIVE_UP = object(), object()


def _gather_head(conn):
    """The request head's bytes read so far (b"": none read, the parser reads them) once the
    head is whole or the client has closed; ``_WAIT`` until then; ``_GIVE_UP`` past
    HEAD_TIMEOUT."""
    parser = conn.parser
    if parser is not None and parser.unreader.buf.getvalue():  # a pipelined request is buffered
        return b""
    gathered, closed = getattr(conn, "head", b""), False
    try:
        conn.sock.setblocking(False)
        while len(gathered) < HEAD_MAX and not closed:
            data = conn.sock.recv(HEAD_MAX)
            gathered, closed = gathered + data, not data
    except BlockingIOError:
        pass
    except OSError:
        return _GIVE_UP
    if closed or len(gathered) >= HEAD_MAX or b"\n\r\n" in gathered or b"\n\n" in gathered:
        conn.head, conn.head_started = b"", None
        return gathered
    if not gathered:
        return _WAIT
    started = getattr(conn, "head_started", None) or time.monotonic()
    if time.monotonic() - started > HEAD_TIMEOUT:
        return _GIVE_UP
    conn.head, conn.head_started = gathered, started
    return _WAIT


class PrivateLog(Logger):
    """gunicorn's logs without query strings, request lines or client addresses."""

    def access(self, resp, req, environ, request_time) -> None:
        """One line per request: method, path (never the query), status."""
        if self.access_log_enabled:
            path = environ.get("PATH_INFO", "-")[:200]
            status = str(resp.status).split(None, 1)[0]
            self.access_log.info('"%s %s" %s', environ.get("REQUEST_METHOD", "-"), path, status)

    def warning(self, msg, *args, **kwargs) -> None:
        if str(msg).startswith("Invalid request from ip="):  # quotes the address and the line
            msg, args = "Invalid request (answered with a 4xx)", ()
        super().warning(msg, *args, **kwargs)

    def exception(self, msg, *args, **kwargs) -> None:
        if isinstance(sys.exc_info()[1], TimeoutError):  # TimedSocket gave up on a slow client
            self.info("A client stopped sending or reading; its connection was closed")
            return
        if str(msg).startswith("Error handling request"):  # its arguments hold the full URI
            paths = [urlsplit(a).path if isinstance(a, str) else a for a in args]
            msg, args = "Error handling request " + " ".join(["%s"] * len(paths)), tuple(paths)
        super().exception(msg, *args, **kwargs)


class SiteServer(BaseApplication):
    """gunicorn running the app over ``database``, warmed up in the master before forking."""

    def __init__(self, options: dict, database: str, on_ready=None):
        self.options, self.database, self.on_ready = options, database, on_ready
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        app = application(self.database)
        if self.on_ready:
            self.on_ready()
        return app


def application(database: str | None = None):
    """The site, warmed up: for gunicorn (``'finder.web.wsgi:application()'``) or SiteServer.
    FINDER_* settings come from the environment, as `flask run` reads them."""
    app = create_app()
    if database:
        app.config["DATABASE"] = database
    refuse_to_start(app.config["DATABASE"])
    warm_up(app)
    return app


def refuse_to_start(database: str) -> None:
    """Exit with the reason (and a non-zero status) when the file cannot be served by this
    version of the code: another schema version, missing, or not a database."""
    try:
        check_servable_file(database)
    except UnservableDatabase as error:
        raise SystemExit(f"finder: not starting: {error}") from None


def main() -> int:
    """gunicorn on an inherited listening socket (scripts/serve.py holds it)."""
    parser = argparse.ArgumentParser(description="The site under gunicorn.")
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    started = time.perf_counter()

    def ready() -> None:
        print(f"  Search ready ({time.perf_counter() - started:.1f} s).", flush=True)

    options = {**settings("127.0.0.1", 0, args.workers), "bind": f"fd://{args.fd}"}
    SiteServer(options, args.database, on_ready=ready).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
