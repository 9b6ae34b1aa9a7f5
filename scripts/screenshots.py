"""Screenshots of every page, desktop and mobile, English and Spanish, for people to look at.

    .venv/bin/python scripts/screenshots.py            # writes docs/screenshots/*.jpg

Serves the app over the bundled database (data/finder.db, built by `make db`) with the clock
frozen at Tuesday 24 November 2026, 19:00 in Philadelphia, and drives Debian's Chromium.
"""

import json
import sys
import urllib.request
from pathlib import Path

import click
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from finder import create_app  # noqa: E402
from finder.web.serving import serving_in_background  # noqa: E402

FROZEN_NOW = "2026-11-24T19:00:00-05:00"
DEVICES = {"desktop": {"width": 1280, "height": 900}, "mobile": {"width": 375, "height": 667}}
MAX_HEIGHT = 2400  # long result pages are cut here: the top is what a person sees first


def pages(base: str) -> dict[str, str]:
    """Page name -> path, with a real listing from the search for the detail page."""
    with urllib.request.urlopen(f"{base}/api/search?q=19103&when=any&limit=5") as response:
        found = json.load(response)
    first = next(items[0] for items in found["groups"].values() if items)
    five = [item["id"] for items in found["groups"].values() for item in items][:5]
    return {
        "home": "/",
        "results": "/search?q=19103&when=now",
        "no-results": "/search?q=19103&when=now&type=ASL&type=LOOP&attendance=in_person",
        "map": "/map?q=19103&when=now",
        "detail": f"/resource/{first['id']}",
        "lines": "/lines",
        "privacy": "/privacy",
        "error": "/search?q=nowhere-at-all",
        "not-found": "/resource/999999999",
        "report": f"/resource/{first['id']}/report",
        "week": "/week?q=19103&type=S",
        "referral": "/referral?" + "&".join(f"id={n}" for n in five),
    }


PRINTED = ("referral", "week")  # also shot as printed (print stylesheet, Letter width)
# Where a person on a phone finds what they came for (issue #11): bottom edge in CSS px.
FIRST_SCREEN = {
    "place field": "#q",
    "first result's name": "ol.results > li h3",
    "its time": "ol.results > li .time",
    "Call 988": ".crisis-actions a",
}


@click.command()
@click.option("--database", default=str(ROOT / "data" / "finder.db"), show_default=True)
@click.option("--out", default=str(ROOT / "docs" / "screenshots"), show_default=True)
@click.option("--chromium", default="/usr/bin/chromium", show_default=True)
def main(database: str, out: str, chromium: str) -> None:
    # No tile server: screenshots must not depend on (or call) the internet.
    app = create_app({"DATABASE": database, "FROZEN_NOW": FROZEN_NOW, "TILE_URL": ""})
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    with serving_in_background(app) as base, sync_playwright() as playwright:
        paths = pages(base)
        browser = playwright.chromium.launch(executable_path=chromium, args=["--disable-gpu"])
        written = 0
        for device, viewport in DEVICES.items():
            for lang in ("en", "es"):
                context = browser.new_context(
                    viewport=viewport, locale=lang, extra_http_headers={"Accept-Language": lang}
                )
                page = context.new_page()
                for name, path in paths.items():
                    page.goto(base + path)
                    written += shoot(page, folder / f"{name}-{lang}-{device}.jpg", viewport)
                    if device == "mobile" and name in ("home", "results"):
                        click.echo(f"{name} {lang} 375x667: {first_screen(page)}")
                    if device == "desktop" and name in PRINTED:
                        page.set_viewport_size(LETTER)
                        page.emulate_media(media="print")
                        written += shoot(page, folder / f"{name}-{lang}-print.jpg", LETTER)
                        page.emulate_media(media="screen")
                        page.set_viewport_size(viewport)
                context.close()
        browser.close()
    click.echo(f"{written} screenshots in {folder}")


LETTER = {"width": 816, "height": 1056}  # 8.5 x 11 in at 96 px per inch


def shoot(page, path: Path, viewport: dict) -> int:
    """The page's top (up to MAX_HEIGHT) at the viewport's width, as a JPEG."""
    height = min(MAX_HEIGHT, page.evaluate("document.body.scrollHeight"))
    clip = {"x": 0, "y": 0, "width": viewport["width"], "height": height}
    page.screenshot(path=str(path), full_page=True, clip=clip, quality=60)
    return 1


def first_screen(page) -> str:
    """Bottom edge of each thing a phone user looks for, and whether it is on the first screen."""
    found = []
    for what, selector in FIRST_SCREEN.items():
        box = (
            page.locator(selector).first.bounding_box() if page.locator(selector).count() else None
        )
        if box:
            bottom = round(box["y"] + box["height"])
            found.append(f"{what} {bottom} px{'' if bottom <= 667 else ' (below)'}")
    return ", ".join(found)


if __name__ == "__main__":
    main()
