"""Response headers that keep pages private: nothing loads from elsewhere, no referrer leaks.

The map page alone may load tiles, from the configured tile server's origin; with
``Referrer-Policy: no-referrer`` that server never sees the search in the page's URL.
"""

from urllib.parse import urlsplit

from flask import request


def init_app(app) -> None:
    tiles = _origin(app.config.get("TILE_URL") or "")

    @app.after_request
    def protect(response):
        images = "'self' data:" + (f" {tiles}" if request.endpoint == "views.map_page" else "")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; "
            f"img-src {images}; connect-src 'self'; object-src 'none'; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'",
        )
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Permissions-Policy"] = "geolocation=(self), camera=(), microphone=()"
        return response


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
