"""The application factory's body: configuration, then the web floor's parts wired together."""

from datetime import datetime

from flask import Flask

from finder import cli
from finder.paths import DATA_DIR, ROOT
from finder.web import (
    api,
    errors,
    export,
    headers,
    i18n,
    openapi,
    referral,
    serving,
    state,
    views,
)
from finder.web.json_out import OrjsonProvider


def build_app(test_config: dict | None = None) -> Flask:
    """Defaults, then FINDER_* environment variables or ``test_config``; blueprints and commands."""
    app = Flask(
        "finder", template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static")
    )
    app.config.from_mapping(
        DATABASE=str(DATA_DIR / "finder.db"),
        SOURCES=str(DATA_DIR / "sources.toml"),
        GEOCODER="offline",
        GEOCODER_USER_AGENT=None,
        # Map tiles: requested by the browser only on the map page, never on load elsewhere.
        TILE_URL="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        TILE_ATTRIBUTION="© OpenStreetMap contributors",
    )
    if test_config is None:
        app.config.from_prefixed_env("FINDER")
    else:
        app.config.update(test_config)
    _check_frozen_now(app.config.get("FROZEN_NOW"))
    app.json = OrjsonProvider(app)
    state.init_app(app)
    i18n.init_app(app)
    headers.init_app(app)
    errors.init_app(app)
    serving.init_app(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(referral.bp)
    app.register_blueprint(export.bp)
    cli.init_app(app)
    return app


def _check_frozen_now(value) -> None:
    """FROZEN_NOW must be an ISO 8601 instant with its UTC offset, or unset."""
    if not value:
        return
    try:
        frozen = datetime.fromisoformat(value)
    except ValueError as error:
        raise ValueError(f"FINDER_FROZEN_NOW={value!r} is not an ISO 8601 date and time") from error
    if frozen.tzinfo is None:
        raise ValueError(f"FINDER_FROZEN_NOW={value!r} needs a UTC offset, like -05:00")
