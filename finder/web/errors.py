"""One error path: an HTTP error is JSON under /api and a page of the site elsewhere."""

from flask import jsonify, render_template, request
from werkzeug.exceptions import HTTPException


def handle_http_error(error: HTTPException):
    """{"ok": false, "error": ...} for /api; the error page, in the reader's language, otherwise."""
    if request.path.startswith("/api/"):
        return jsonify({"ok": False, "error": error.description}), error.code
    return render_template("error.html", error=error), error.code


def init_app(app) -> None:
    """Register the one handler for every HTTP error."""
    app.register_error_handler(HTTPException, handle_http_error)
