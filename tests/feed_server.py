"""A real local HTTP server for refresh tests: serves bundled feeds with ETags and crafted
failures (304, 500, 429, slow, truncated, oversized), and counts every request it answers."""

import hashlib
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FeedServer:
    """Routes are path -> a response: bytes (served with an ETag, 304 when it matches), or a
    callable(handler) that writes its own answer."""

    def __init__(self):
        self.routes: dict = {}
        self.requests: Counter = Counter()
        self.headers: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests[self.path] += 1
                server.headers.append(dict(self.headers))
                route = server.routes.get(self.path)
                if route is None:
                    self.send_error(404)
                elif callable(route):
                    route(self)
                else:
                    serve_bytes(self, route)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        """The full URL of a path on this server."""
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def serve_bytes(handler, body: bytes) -> None:
    """200 with an ETag, or 304 when the client already holds this body."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
    if handler.headers.get("If-None-Match") == etag:
        handler.send_response(304)
        handler.send_header("ETag", etag)
        handler.end_headers()
        return
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.send_header("ETag", etag)
    handler.end_headers()
    handler.wfile.write(body)


def status(code: int, retry_after: str | None = None):
    """A route answering ``code`` with a short body."""

    def answer(handler):
        handler.send_response(code)
        if retry_after:
            handler.send_header("Retry-After", retry_after)
        handler.send_header("Content-Length", "5")
        handler.end_headers()
        handler.wfile.write(b"oops\n")

    return answer


def slow(seconds: float, body: bytes = b"[]"):
    """A route that waits before answering (longer than the client's timeout)."""

    def answer(handler):
        time.sleep(seconds)
        try:
            serve_bytes(handler, body)
        except OSError:
            pass  # the client gave up

    return answer


def truncated(body: bytes):
    """A route that promises the whole body and closes the connection halfway."""

    def answer(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body[: len(body) // 2])
        handler.wfile.flush()
        handler.close_connection = True

    return answer


def sequence(*routes):
    """A route answering with each of ``routes`` in turn, then the last one forever."""
    calls = iter(range(10**6))

    def answer(handler):
        index = min(next(calls), len(routes) - 1)
        route = routes[index]
        route(handler) if callable(route) else serve_bytes(handler, route)

    return answer
