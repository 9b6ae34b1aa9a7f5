"""Pages printed (issue #12): a results page of five meetings, and the referral sheet of the same
five, printed to PDF by headless Chromium on Letter and A4, with the print stylesheet and
without it (screen styles, as the page printed before it had one); and one detail page.

    .venv/bin/python scripts/measure_print.py                  # a fresh database of SE PA
    .venv/bin/python scripts/measure_print.py --database data/finder.db

Serves the app with the clock frozen at Tuesday 24 November 2026, 19:00 in Philadelphia,
searches ZIP 19103 for a page of five meetings (or --search PATH), makes the sheet of the page's
listings (the first 8 if more), and prints one line per page and paper.
"""

import io
import sys
import tempfile
from pathlib import Path

import click
from playwright.sync_api import sync_playwright
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from finder import create_app  # noqa: E402
from finder.geo.offline import OfflineGeocoder  # noqa: E402
from finder.ingest.registry import import_source, read_registry  # noqa: E402
from finder.paths import DATA_DIR  # noqa: E402
from finder.store import connect, init_db  # noqa: E402
from finder.web.serving import serving_in_background  # noqa: E402

FROZEN_NOW = "2026-11-24T19:00:00-05:00"
CHROMIUM = "/usr/bin/chromium"
# Five in-person meetings in progress or starting soon near ZIP 19103 (at most 3 per group).
RESULTS = "/search?q=19103&kind=meeting&attendance=in_person&radius=1.5&limit=3"


def build_philadelphia(path: Path) -> None:
    """SE Pennsylvania's meetings and the national lines, as the browser tests serve them."""
    sources = {s["id"]: s for s in read_registry(DATA_DIR / "sources.toml")}
    with connect(str(path)) as db:
        init_db(db)
        for source in ("aasepia", "national-lines"):
            import_source(db, sources[source], OfflineGeocoder())


def printed_pages(page, paper: str, media: str) -> int:
    page.emulate_media(media=media)
    return len(PdfReader(io.BytesIO(page.pdf(format=paper, print_background=True))).pages)


def measure(page, name: str, path: str) -> None:
    page.goto(path)
    page.wait_for_load_state()
    for paper in ("Letter", "A4"):
        styled = printed_pages(page, paper, "print")
        unstyled = printed_pages(page, paper, "screen")
        click.echo(
            f"{name:<34} {paper:<6} {styled:>3} pages printed "
            f"({unstyled} with screen styles, no print stylesheet)"
        )


@click.command()
@click.option("--database", type=click.Path(dir_okay=False), help="Default: built afresh.")
@click.option("--search", default=RESULTS, show_default=True, help="The results page's path.")
def main(database: str | None, search: str) -> None:
    """Print the page counts."""
    with tempfile.TemporaryDirectory() as folder:
        if database is None:
            database = str(Path(folder) / "finder.db")
            build_philadelphia(Path(database))
        app = create_app({"DATABASE": database, "FROZEN_NOW": FROZEN_NOW})
        with serving_in_background(app) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--disable-gpu"])
            page = browser.new_page(base_url=base)
            page.goto(search)
            boxes = page.locator('input[type="checkbox"][name="id"]')
            ids = [boxes.nth(i).get_attribute("value") for i in range(boxes.count())]
            click.echo(f"{search}: {len(ids)} listings, ids {', '.join(ids)}")
            measure(page, f"results page ({len(ids)} listings)", search)
            sheet = "/referral?id=" + "&id=".join(ids[:8])
            measure(page, f"referral sheet (its first {len(ids[:8])})", sheet)
            measure(page, "detail page (the first)", f"/resource/{ids[0]}")
            browser.close()


if __name__ == "__main__":
    main()
