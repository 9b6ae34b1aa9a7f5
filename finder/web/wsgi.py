"""The production server: gunicorn, with the app built and warmed up once before forking.

``make run`` (scripts/serve.py) runs ``SiteServer``. The master process builds the app, opens
the database generation, maps its search index (finder/search/sidecar.py: built and stored
beside the file by the first process that needs it) and compiles the kernels, then forks one
worker per core: the workers share the index's pages and start warm. Each worker answers with a
few threads; a connection whose request (head and body) has not all arrived waits in the
worker's poller (``TimedWorker``), and an idle or kept-alive one is closed after ``KEEPALIVE``
seconds, so slow or idle clients hold no thread. Before forking a worker (one replaced after a
refresh too), the master opens the database file published now if it holds an older one
(``follow_the_file``), so every worker starts with the current generation mapped rather than
opening it on its first request.

Alone, on an inherited socket: ``python -m finder.web.wsgi --fd N --database PATH``. Under a
plain gunicorn command, keep the worker and the private log: ``gunicorn --preload -k
finder.web.wsgi.TimedWorker --threads 4 --keep-alive 5 --logger-class
finder.web.wsgi.PrivateLog --access-logfile - -b 127.0.0.1:5000
'finder.web.wsgi:application()'`` (the database from FINDER_DATABASE).
"""

import argparse
import gc
import os
import re
import resource
import selectors
import socket
import sys
import time
from functools import partial
from urllib.parse import urlsplit

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger
from gunicorn.workers import gthread

from finder import create_app
from finder.search.sidecar import is_stored
from finder.store import UnservableDatabase, check_servable_file
from finder.web.serving import warm_up
from finder.web.state import identity_at, published

KEEPALIVE = 5  # seconds an idle kept-alive connection (or a new one that sends nothing) stays
READ_TIMEOUT = 5  # seconds a client may pause while sending a request (or reading the answer)
TIMEOUT = 30  # a worker silent this long is restarted
# Threads per worker. Few: no thread waits on a slow client (the poller gathers requests), so
# more threads only interleave more requests under the GIL, each answered later; with 4, the
# rest wait their turn in the poller and the slowest answers come sooner at the same throughput
# (scripts/bench_server_config.py; figures in the README's "Deploying").
THREADS = 4


def connections() -> int:
    """Connections per worker: up to 2,000, well inside the file descriptor limit, so that at the
    limit a worker stops accepting (the backlog, then the kernel, holds the rest) and never spins
    on failing accepts."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(THREADS + 10, min(2000, soft - 200))


def settings(
    host: str, port: int, workers: int | None = None, threads: int | None = None, keepalive=None
) -> dict:
    """gunicorn's settings for the site (None: the default)."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers or os.cpu_count() or 2,
        "worker_class": "finder.web.wsgi.TimedWorker",
        "threads": threads or THREADS,
        "worker_connections": connections(),
        "backlog": 256,
        "keepalive": KEEPALIVE if keepalive is None else keepalive,
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
        if open_published(app):
            gc.freeze()  # the new generation too (see ``application``)
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
    if held is not None and held.identity == identity_at(holder.path):
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
    """gunicorn's threaded worker, giving a thread only to a connection whose whole request
    (head and body) has arrived, with a read timeout on every client connection.

    gunicorn hands a connection to a thread as soon as its first bytes arrive (after holding a
    thread up to 5 s waiting for them), and the thread then blocks until the head is complete and
    again on each read of the body: clients sending a byte a second held every thread. Here the
    worker's poller collects a request's bytes as they come (``_gather_request``), a thread takes
    it only once it is whole, and a client that takes over REQUEST_TIMEOUT to send one is
    disconnected; one that sends nothing is closed after KEEPALIVE seconds by the poller, holding
    no thread meanwhile. A body over BODY_MAX is refused with a 413 before it is read.
    """

    lingering: set  # connections answered and closed on our side, waiting for the client's end

    def init_process(self) -> None:
        self.lingering = set()
        super().init_process()

    def accept(self, listener) -> None:
        super().accept(_TimedListener(listener))

    def handle(self, conn):
        if self.cfg.is_ssl:  # (behind our proxy, TLS ends before gunicorn)
            return super().handle(conn)
        request = _gather_request(conn)
        if request is _WAIT:
            return gthread._DEFER  # back to the poller, which calls us again when bytes come
        if isinstance(request, Refusal):
            self.log.refused(request)
            _send_quietly(conn.sock, request.answer())
            return False  # closed by finish_request, lingering in the poller
        if request is _GIVE_UP:
            conn.close()
            return False
        conn.data_ready = True  # gunicorn must not wait for bytes again
        if request:  # what we read goes back in front of the parser
            conn.sock.setblocking(True)
            conn.init()
            conn.parser.unreader.unread(request)
        return super().handle(conn)

    def finish_request(self, conn, fs) -> None:
        """gunicorn closes a connection it does not keep by lingering on it (reading what the
        client still sends, so that closing does not reset the connection and lose the end of
        the answer) for up to 2 s on the worker's main thread: a client that never closes its
        side stalled the whole worker 2 s each. Here the poller does the lingering."""
        if fs.cancelled() or fs.exception() is not None or fs.result():  # (_DEFER is true)
            super().finish_request(conn, fs)
            return
        try:
            conn.sock.shutdown(socket.SHUT_WR)
            conn.sock.setblocking(False)
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._drain, conn))
        except (OSError, ValueError, KeyError):  # already closed
            self._closed(conn)
            return
        conn.linger_until, conn.drained = time.monotonic() + LINGER, 0
        self.lingering.add(conn)

    def _drain(self, conn, _sock) -> None:
        try:
            data = conn.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        conn.drained += len(data)
        if not data or conn.drained > LINGER_BYTES:
            self._stop_lingering(conn)

    def _stop_lingering(self, conn) -> None:
        self.lingering.discard(conn)
        self._unwatched(conn)
        self._closed(conn)

    def _unwatched(self, conn) -> None:
        """Out of the poller (already out, or closed: nothing to do)."""
        try:
            self.poller.unregister(conn.sock)
        except (OSError, KeyError, ValueError):
            pass

    def _closed(self, conn) -> None:
        self.nr_conns -= 1  # (counted until closed: lingering ones hold a descriptor too)
        conn.sock.close()

    def murder_pending(self) -> None:
        """Also close, twice a second, the connections whose request has been arriving for more
        than REQUEST_TIMEOUT (gunicorn closes a waiting one only after KEEPALIVE silent seconds,
        so a byte every few seconds would otherwise keep one open for good)."""
        super().murder_pending()
        now = time.monotonic()
        if now < getattr(self, "_next_sweep", 0):
            return
        self._next_sweep = now + 0.5
        for conn in [c for c in self.lingering if c.linger_until < now]:
            self._stop_lingering(conn)
        for conn in [c for c in self.pending_conns if _overdue(c, now)]:
            self.pending_conns.remove(conn)
            self._unwatched(conn)
            self._closed(conn)


REQUEST_TIMEOUT = 10  # seconds a client may take to send a whole request, head and body
HEAD_MAX = 65536  # bytes of head gathered before the parser takes over (and applies its limits)
# Bytes of a request body: the site takes only short forms (a report: at most 1,200 characters,
# under 15 KB however they are encoded); a longer body is refused with a 413 unread.
BODY_MAX = 65536
LINGER = 2  # seconds a closed connection drains what its client still sends (as gunicorn does)
LINGER_BYTES = 65536
_WAIT, _GIVE_UP = object(), object()


class Refusal:
    """A request answered by the worker itself, before any thread or the app sees it."""

    def __init__(self, status: str, request: bytes):
        self.status = status
        line = request.split(b"\n", 1)[0].decode("latin-1").split()
        self.method = line[0] if line else "-"
        self.path = urlsplit(line[1]).path if len(line) > 1 else "-"

    def answer(self) -> bytes:
        return f"HTTP/1.1 {self.status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n".encode()


def _gather_request(conn):
    """The request's bytes read so far (b"": none read, the parser reads them) once it is whole
    (head, and a body of the length it announces) or the client has closed; ``_WAIT`` until
    then; a ``Refusal`` for a body over BODY_MAX; ``_GIVE_UP`` past REQUEST_TIMEOUT."""
    parser = conn.parser
    if parser is not None and parser.unreader.buf.getvalue():  # a pipelined request is buffered
        return b""
    gathered, closed = getattr(conn, "gathered", b""), False
    try:
        conn.sock.setblocking(False)
        while len(gathered) < HEAD_MAX + BODY_MAX and not closed:
            data = conn.sock.recv(HEAD_MAX)
            gathered, closed = gathered + data, not data
    except BlockingIOError:
        pass
    except OSError:
        return _GIVE_UP
    head_end, end = _head_end(gathered), _request_end(gathered)
    if head_end is not None and (len(gathered) if end is None else end) - head_end > BODY_MAX:
        return Refusal("413 Content Too Large", gathered)
    whole = end is not None and len(gathered) >= end
    if whole or _head_too_long(gathered, end) or (closed and head_end is None):
        if getattr(conn, "continued", None) == "sent":  # answered: gunicorn must not again
            gathered = _without_expect(gathered)
        conn.gathered, conn.started, conn.continued = b"", None, None
        return gathered
    if closed:  # the client stopped sending halfway through a body: nobody waits for an answer
        return _GIVE_UP
    if not gathered:
        return _WAIT
    if end is not None and not getattr(conn, "continued", None):
        conn.continued = "no"
        if _expects_continue(gathered[: _head_end(gathered)]):  # the client awaits it to send
            _send_quietly(conn.sock, b"HTTP/1.1 100 Continue\r\n\r\n")
            conn.continued = "sent"
    conn.started = getattr(conn, "started", None) or time.monotonic()
    if _overdue(conn, time.monotonic()):
        return _GIVE_UP
    conn.gathered = gathered
    return _WAIT


_EXPECT = re.compile(rb"^expect[ \t]*:[ \t]*100-continue[ \t]*\r?\n", re.I | re.M)


def _expects_continue(head: bytes) -> bool:
    line, _, fields = head.partition(b"\n")
    return line.rstrip().endswith(b"HTTP/1.1") and _EXPECT.search(fields) is not None


def _without_expect(request: bytes) -> bytes:
    """The request without its ``Expect: 100-continue`` (the worker has answered it)."""
    head_end = _head_end(request)
    return _EXPECT.sub(b"", request[:head_end], 1) + request[head_end:]


def _send_quietly(sock, data: bytes) -> None:
    """A few bytes to a client, if its connection takes them now; never waits."""
    try:
        sock.setblocking(False)
        sock.send(data)
    except OSError:
        pass


def _overdue(conn, now: float) -> bool:
    started = getattr(conn, "started", None)
    return started is not None and now - started > REQUEST_TIMEOUT


def _head_too_long(gathered: bytes, end: int | None) -> bool:
    """Past HEAD_MAX with no end of head: the parser takes it (and answers 431 or 400)."""
    return end is None and _head_end(gathered) is None and len(gathered) >= HEAD_MAX


def _head_end(gathered: bytes) -> int | None:
    """Where the head's blank line ends, once it has arrived."""
    ends = [i + len(mark) for mark in (b"\n\r\n", b"\n\n") if (i := gathered.find(mark)) >= 0]
    return min(ends) if ends else None


_LENGTH = re.compile(rb"^content-length[ \t]*:[ \t]*(\d{1,18})[ \t]*\r?$", re.I | re.M)
_CHUNKED = re.compile(rb"^transfer-encoding[ \t]*:.*chunked", re.I | re.M)


def _request_end(gathered: bytes) -> int | None:
    """Where the first request (head and body) ends: None while the head or a chunked body's
    end has not arrived. A head the parser will refuse ends at its blank line."""
    head_end = _head_end(gathered)
    if head_end is None:
        return None
    head = gathered[:head_end]
    if _CHUNKED.search(head):
        return _chunked_end(gathered, head_end)
    lengths = _LENGTH.findall(head)
    return head_end + int(lengths[0]) if len(lengths) == 1 else head_end


def _chunked_end(gathered: bytes, at: int) -> int | None:
    """Where a chunked body starting at ``at`` ends (after its last chunk and trailers); None
    until it has arrived; ``at`` itself for a malformed one (the parser refuses it)."""
    while True:
        line_end = gathered.find(b"\r\n", at)
        if line_end < 0:
            return None if len(gathered) - at < 1024 else at
        try:
            size = int(gathered[at:line_end].split(b";", 1)[0].strip(), 16)
        except ValueError:
            return at
        if size == 0:
            trailers_end = gathered.find(b"\r\n\r\n", line_end)
            return None if trailers_end < 0 else trailers_end + 4
        at = line_end + 2 + size + 2
        if at > len(gathered):
            return at + 5  # at least the last chunk still to come


class PrivateLog(Logger):
    """gunicorn's logs without query strings, request lines or client addresses."""

    def access(self, resp, req, environ, request_time) -> None:
        """One line per request: method, path (never the query), status."""
        if self.access_log_enabled:
            path = environ.get("PATH_INFO", "-")[:200]
            status = str(resp.status).split(None, 1)[0]
            self.access_log.info('"%s %s" %s', environ.get("REQUEST_METHOD", "-"), path, status)

    def refused(self, refusal: Refusal) -> None:
        """The access log's line for a request the worker answered itself."""
        if self.access_log_enabled:
            status = refusal.status.split(None, 1)[0]
            self.access_log.info('"%s %s" %s', refusal.method, refusal.path[:200], status)

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
    # What the master holds now (modules, templates, gazetteers, the generation and its index)
    # lives as long as the workers: out of the collector's reach, its full passes no longer walk
    # all of it under the GIL (66–82 ms each, a few per 3,000 new-point pages: tail latency),
    # nor write to the pages the workers share with the master as they do.
    gc.collect()
    gc.freeze()
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
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--keepalive", type=float, default=None)
    args = parser.parse_args()
    started = time.perf_counter()

    def ready() -> None:
        print(f"  Search ready ({time.perf_counter() - started:.1f} s).", flush=True)

    tuned = settings("127.0.0.1", 0, args.workers, args.threads, args.keepalive)
    options = {**tuned, "bind": f"fd://{args.fd}"}
    SiteServer(options, args.database, on_ready=ready).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
