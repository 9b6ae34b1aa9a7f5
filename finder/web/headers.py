"""Response headers that keep pages private: nothing loads from elsewhere, no referrer leaks.

The map page alone may load tiles, from the configured tile server's origin; with
``Referrer-Policy: no-referrer`` that server never sees the search in the page's URL.
"""

from urllib.parse import urlsplit

from flask import request

# Sent with every response of the site, and by Datasette (scripts/datasette_plugins).
COMMON = {
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Permissions-Policy": "geolocation=(self), camera=(), microphone=()",
}


def content_policy(images: str = "'self' data:", inline: bool = False) -> str:
    """The Content-Security-Policy: only this origin (``inline`` allows Datasette's own inline
    scripts and styles)."""
    extra = " 'unsafe-inline'" if inline else ""
    return (
        f"default-src 'self'; script-src 'self'{extra}; style-src 'self'{extra}; "
        f"img-src {images}; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


def init_app(app) -> None:
    tiles = _origin(app.config.get("TILE_URL") or "")

    @app.after_request
    def protect(response):
        images = "'self' data:" + (f" {tiles}" if request.endpoint == "views.map_page" else "")
        response.headers.setdefault("Content-Security-Policy", content_policy(images))
        response.headers.update(COMMON)
        return response


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
