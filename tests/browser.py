"""Real headless Chromium (Debian's, driven by Playwright) and axe-core, for the page tests.

When Chromium or Playwright is missing, the browser tests are skipped with BROWSER_SKIP as the
reason, and the test run ends with a banner saying so (see conftest.pytest_terminal_summary).
"""

import os
import shutil
from pathlib import Path

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_SKIP = "browser tests skipped"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


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
