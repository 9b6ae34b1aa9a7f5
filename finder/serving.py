"""Serving the site without writing what people search for into the logs."""

from urllib.parse import urlsplit

from werkzeug.serving import WSGIRequestHandler, run_simple


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
