"""Shared fixtures: a migrated temporary database, the app, importing real bundled feeds, and
Chromium for the page tests (tests/browser.py)."""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from finder import create_app
from finder.geo.offline import OfflineGeocoder
from finder.ingest.registry import import_source, read_registry
from finder.store import connect, init_db
from finder.web.serving import serving_in_background

from .browser import TILE_URL, chromium, open_context

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
TUESDAY_EVENING = "2026-11-24T19:00:00-05:00"  # in Philadelphia

# Property tests (marked "properties"): 1,000 examples each in `make test`; the thorough run,
# `pytest -m properties --hypothesis-profile=thorough`, tries 20 times as many.
_PROPERTIES = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}
settings.register_profile("make-test", max_examples=1_000, **_PROPERTIES)
settings.register_profile("thorough", max_examples=20_000, **_PROPERTIES)
settings.load_profile("make-test")


@pytest.fixture
def db_path(tmp_path):
    """A database file with every migration applied."""
    path = tmp_path / "finder.db"
    db = connect(str(path))
    init_db(db)
    db.close()
    return path


@pytest.fixture
def db(db_path):
    """A Database on the temporary file."""
    database = connect(str(db_path))
    yield database
    database.close()


@pytest.fixture
def app(db_path):
    """The Flask app over the temporary database."""
    return create_app({"TESTING": True, "DATABASE": str(db_path)})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def geocoder():
    return OfflineGeocoder()


@pytest.fixture(scope="session")
def registry():
    """The bundled sources, by id."""
    return {s["id"]: s for s in read_registry(DATA / "sources.toml")}


@pytest.fixture
def import_bundled(db, registry, geocoder):
    """Import one bundled source by id into the temporary database."""

    def run(source_id, **overrides):
        return import_source(db, {**registry[source_id], **overrides}, geocoder)

    return run


@pytest.fixture
def tuesday_evening(db_path, import_bundled):
    """A client of the app over SE Pennsylvania's meetings and the national lines, answering
    as of Tuesday 24 November 2026, 19:00 in Philadelphia."""
    import_bundled("aasepia")
    import_bundled("national-lines")
    app = create_app({"TESTING": True, "DATABASE": str(db_path), "FROZEN_NOW": TUESDAY_EVENING})
    return app.test_client()


def imported(path: Path, sources, registry, geocoder) -> Path:
    """A new database file at path, migrated, holding these bundled sources."""
    with connect(str(path)) as database:
        init_db(database)
        for source in sources:
            import_source(database, registry[source], geocoder)
    return path


@pytest.fixture(scope="session")
def philadelphia_db(tmp_path_factory, registry, geocoder):
    """One database for a session: SE Pennsylvania's meetings and the national lines (read-only
    tests of the API and referral sheets share it)."""
    path = tmp_path_factory.mktemp("philadelphia") / "finder.db"
    return imported(path, ("aasepia", "national-lines"), registry, geocoder)


@pytest.fixture(scope="session")
def map_db(tmp_path_factory, registry, geocoder):
    """One database for a session: SE Pennsylvania's meetings, Massachusetts' Al-Anon (whose
    hybrid meetings are far away, in a Philadelphia search's "online now") and the national
    lines (the map tests, read-only, share it)."""
    path = tmp_path_factory.mktemp("map") / "finder.db"
    return imported(path, ("aasepia", "al-anon", "national-lines"), registry, geocoder)


@pytest.fixture(scope="session")
def base_url(tmp_path_factory, registry, geocoder):
    """The site the page tests use, unless their module serves its own: SE Pennsylvania's
    meetings and the national lines on a Tuesday evening, on a free port, over a file of its own
    (not philadelphia_db: its report form creates reports.db beside it)."""
    path = tmp_path_factory.mktemp("site") / "finder.db"
    imported(path, ("aasepia", "national-lines"), registry, geocoder)
    app = create_app({"DATABASE": str(path), "FROZEN_NOW": TUESDAY_EVENING, "TILE_URL": TILE_URL})
    with serving_in_background(app) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    """Chromium for one test module, closed when the module ends. Never longer: while
    Playwright's sync API runs it holds the thread's asyncio loop, so any later test calling
    asyncio.run(), or starting Playwright again, would fail."""
    with chromium() as launched:
        yield launched


@pytest.fixture
def context(browser, base_url):
    """A fresh browser context on the module's site (its base_url fixture)."""
    context = open_context(browser, base_url)
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


def pytest_unconfigure(config):
    """Say plainly, as the very last lines, when the browser tests did not run."""
    from .browser import BROWSER_SKIP

    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    skipped = reporter.stats.get("skipped", [])
    reasons = {str(r.longrepr[-1]) for r in skipped if BROWSER_SKIP in str(r.longrepr)}
    if reasons:
        reporter.write_sep("!", "BROWSER TESTS WERE SKIPPED", red=True, bold=True)
        for reason in sorted(reasons):
            reporter.write_line(reason.removeprefix("Skipped: "), red=True, bold=True)
