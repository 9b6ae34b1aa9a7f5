"""One error path: an HTTP error is JSON under /api and a page of the site elsewhere."""

from flask import jsonify, render_template, request
from werkzeug.exceptions import HTTPException, ServiceUnavailable

from finder.store import UnservableDatabase
from finder.web.i18n import gettext

RETRY_AFTER = 300  # seconds: a maintainer has to publish a servable file first


def handle_http_error(error: HTTPException):
    """{"ok": false, "error": ...} for /api; the error page, in the reader's language, otherwise."""
    if request.path.startswith("/api/"):
        return jsonify({"ok": False, "error": error.description}), error.code
    return render_template("error.html", error=error), error.code


def handle_unservable(_error: UnservableDatabase):
    """A 503 when the only database file is one this version cannot serve (the maintainers'
    details are in the log, not on the page)."""
    unavailable = ServiceUnavailable(
        gettext(
            "The directory is being updated and cannot answer searches right now. Please try "
            "again in a few minutes."
        )
    )
    response, code = handle_http_error(unavailable)
    return response, code, {"Retry-After": str(RETRY_AFTER)}


def init_app(app) -> None:
    """Register the one handler for every HTTP error, and the 503 for an unservable file."""
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(UnservableDatabase, handle_unservable)
