"""Serving the site without writing what people search for into the logs.

Werkzeug's server (tests, screenshots, benchmarks) and the production server
(``finder.web.wsgi``, gunicorn) both log the method, path and status of each request: never its
query string (a searched place or coordinates), its request line or the client's address. An
error inside the app is logged with its path and traceback, without the exception's message
(which may quote what was searched).
"""

import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from flask import Blueprint, jsonify, request
from werkzeug.serving import WSGIRequestHandler, make_server, run_simple

from finder.web.state import get_index

bp = Blueprint("serving", __name__)

# Requests made before "Search ready": every kind of search, so that every compiled kernel is
# compiled (or loaded from numba's cache) before anyone searches, and no query compiles later.
WARM_UP = (
    "/search?q=Philadelphia%2C+PA&lang=es",
    "/search?q=19103&when=today&kind=meeting&attendance=in_person",
    "/search?q=19103&when=at&day=saturday&time=09:30&order=nearest&type=X&not=SM",
    "/api/search?lat=40.0&lon=-75.1&when=any&radius=50&unit=km&widen=no",
    "/api/search?q=79401&attendance=online&hours=6",
    "/api/search?q=94110&kind=warmline&kind=center&program=NA",
    "/api/search?tz=America/Denver&when=today&attendance=online&order=nearest",
    "/api/search?q=10001&when=at&day=sunday&time=02:30&program=AA&limit=100",
    "/api/search?q=Toronto%2C+ON&when=now&hours=12&type=W",
    "/map?q=Lubbock%2C+TX&when=any",
    "/lines",
)


@bp.get("/healthz")
def healthz():
    """Ready to answer: the current database generation is open and its index built."""
    get_index()
    return jsonify({"ok": True})


def warm_up(app) -> None:
    """Build the search index, load the gazetteers and compile the kernels now."""
    client = app.test_client()
    for path in WARM_UP:
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"warm-up request {path} answered {response.status_code}")


def private_log_exception(app, exc_info) -> None:
    """Flask's exception log, with the path and traceback but not the exception's message."""
    kind, _error, trace = exc_info
    frames = "".join(traceback.format_tb(trace))
    app.logger.error(
        "Exception on %s [%s]\nTraceback (most recent call last):\n%s%s (message withheld)",
        request.path,
        request.method,
        frames,
        kind.__name__,
    )


def init_app(app) -> None:
    """/healthz, and app errors logged without what was searched."""
    app.register_blueprint(bp)
    app.log_exception = lambda exc_info: private_log_exception(app, exc_info)


class PrivateRequestHandler(WSGIRequestHandler):
    """Logs the method, path and status of each request, never its query string (a searched
    place or coordinates) nor the client's address."""

    def log_request(self, code="-", size="-") -> None:
        """One line per request: method, path without the query, status."""
        path = urlsplit(self.path).path
        self.log("info", '"%s %s" %s', self.command, path, str(code))

    def log_error(self, format: str, *args) -> None:  # noqa: A002 - the standard library's name
        """A malformed request: its status only, never the request line it quotes."""
        self.log("info", "bad request (%s)", args[0] if args else "-")

    def address_string(self) -> str:
        """Leave the client's address out of the log."""
        return "-"


def closing_answers(app):
    """The WSGI app, with each answer's iterable closed however its server stops reading it.

    Werkzeug's server closes an answer after draining the request; a client that resets the
    connection meanwhile (a browser leaving a page while its stylesheet loads) makes that drain
    raise first, and a static file's answer stayed open until collected (a ResourceWarning).
    Here the answer is closed when the generator over it ends, is closed, or is collected.
    """

    def wsgi(environ, start_response):
        answer = app(environ, start_response)
        try:
            yield from answer
        finally:
            if hasattr(answer, "close"):
                answer.close()

    return wsgi


def serve(app, host: str, port: int) -> None:
    """Run the app with Werkzeug's threaded server and the private request log."""
    run_simple(
        host, port, closing_answers(app), threaded=True, request_handler=PrivateRequestHandler
    )


@contextmanager
def serving_in_background(app) -> Iterator[str]:
    """The app on a free local port in a thread (tests, screenshots, benchmarks): its base URL."""
    server = make_server(
        "127.0.0.1", 0, closing_answers(app), threaded=True, request_handler=PrivateRequestHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
