"""Recovery Support Finder: recovery peer support near me, and what I can go to right now."""

from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    """Application factory: defaults, then FINDER_* environment variables or ``test_config``."""
    app = Flask(
        __name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static")
    )
    app.config.from_mapping(
        DATABASE=str(ROOT / "data" / "finder.db"),
        SOURCES=str(ROOT / "data" / "sources.toml"),
        GEOCODER="offline",
        GEOCODER_USER_AGENT=None,
        DEFAULT_RADIUS_KM=16.09,
        # Map tiles: requested by the browser only on the map page, never on load elsewhere.
        TILE_URL="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        TILE_ATTRIBUTION="© OpenStreetMap contributors",
    )
    if test_config is None:
        app.config.from_prefixed_env("FINDER")
    else:
        app.config.update(test_config)

    _check_frozen_now(app.config.get("FROZEN_NOW"))
    app.json.sort_keys = False  # result groups keep their order: in progress first
    from werkzeug.exceptions import HTTPException

    from . import api, cli, db, headers, i18n, views

    db.init_app(app)
    i18n.init_app(app)
    headers.init_app(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    app.register_error_handler(HTTPException, api.json_errors)
    cli.init_app(app)
    return app


def _check_frozen_now(value) -> None:
    """FROZEN_NOW must be an ISO 8601 instant with its UTC offset, or unset."""
    if not value:
        return
    from datetime import datetime

    try:
        frozen = datetime.fromisoformat(value)
    except ValueError as error:
        raise ValueError(f"FINDER_FROZEN_NOW={value!r} is not an ISO 8601 date and time") from error
    if frozen.tzinfo is None:
        raise ValueError(f"FINDER_FROZEN_NOW={value!r} needs a UTC offset, like -05:00")
