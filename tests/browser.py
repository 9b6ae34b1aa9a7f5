"""Real headless Chromium (Debian's, driven by Playwright) and axe-core, for the page tests.

When Chromium or Playwright is missing, the browser tests are skipped with BROWSER_SKIP as the
reason, and the test run ends with a banner saying so (see conftest.pytest_unconfigure).
The ``browser`` fixture (one Chromium a test module) is in conftest.py.
"""

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_SKIP = "browser tests skipped"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# Map tiles come from here in the page tests: no such host, every request answered in the page.
TILES = "http://tiles.invalid"
TILE_URL = TILES + "/{z}/{x}/{y}.png"


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not Path(CHROMIUM).exists():
        return f"{BROWSER_SKIP}: Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import axe_playwright_python  # noqa: F401
        import playwright  # noqa: F401
    except ImportError as error:
        return f"{BROWSER_SKIP}: {error.name} is not installed (pip install -r requirements.txt)"
    return None


@contextmanager
def chromium() -> Iterator:
    """Debian's Chromium, driven by Playwright, closed on leaving."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--disable-gpu", "--disable-quic"]
        )
        try:
            yield browser
        finally:
            browser.close()


def open_context(browser, base_url, width=1280, locale="en-US", height=800, **options):
    """A fresh context (cookies, storage, permissions) on the site, failing fast (5 s)."""
    context = browser.new_context(
        base_url=base_url, viewport={"width": width, "height": height}, locale=locale, **options
    )
    context.set_default_timeout(5000)
    # No request may leave the site, except map tiles (answered here with nothing).
    context.route(f"{TILES}/**", lambda route: route.fulfill(status=204))
    return context


def axe_source() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical WCAG 2.2 A/AA violations on the page, as readable lines."""
    page.evaluate(axe_source())
    found = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes']][:5]}"
        for v in found["violations"]
        if v["impact"] in ("serious", "critical")
    ]
