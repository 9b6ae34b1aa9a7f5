"""Serving the site without writing what people search for into the logs."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from werkzeug.serving import WSGIRequestHandler, make_server, run_simple


class PrivateRequestHandler(WSGIRequestHandler):
    """Logs the method, path and status of each request, never its query string (a searched
    place or coordinates) nor the client's address."""

    def log_request(self, code="-", size="-") -> None:
        """One line per request: method, path without the query, status."""
        path = urlsplit(self.path).path
        self.log("info", '"%s %s" %s', self.command, path, str(code))

    def address_string(self) -> str:
        """Leave the client's address out of the log."""
        return "-"


def serve(app, host: str, port: int) -> None:
    """Run the app with Werkzeug's threaded server and the private request log."""
    run_simple(host, port, app, threaded=True, request_handler=PrivateRequestHandler)


@contextmanager
def serving_in_background(app) -> Iterator[str]:
    """The app on a free local port in a thread (tests, screenshots, benchmarks): its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=PrivateRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
