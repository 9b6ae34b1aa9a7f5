"""Server time and weight of the site's pages over the bundled data.

    .venv/bin/python scripts/bench_site.py            # needs data/finder.db (make db)

Serves the app with its own threaded server on a free port and requests each page over real
HTTP, one at a time: "server time" is from sending the request to the last byte received on
the same machine. Prints p50/p95/max per page, and the bytes of a 25-result page with its CSS.
"""

import logging
import statistics
import sys
import time
import urllib.request
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from finder import create_app  # noqa: E402
from finder.web.serving import serving_in_background  # noqa: E402

# Real places across the bundled feeds, and the searches people run most.
PLACES = ["19103", "19020", "Philadelphia, PA", "94901", "San Francisco, CA", "79101", "14607"]
PAGES = {
    "results, now (default)": "/search?q={place}",
    "results, any time, 25 items": "/search?q={place}&when=any&limit=25",
    "results, Spanish, wheelchair": "/search?q={place}&type=X&lang=es",
    "map": "/map?q={place}",
    "home": "/",
    "24/7 lines": "/lines",
}


def timed_get(url: str) -> tuple[float, int]:
    start = time.perf_counter()
    with urllib.request.urlopen(url) as response:
        size = len(response.read())
    return (time.perf_counter() - start) * 1000, size


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@click.command()
@click.option("--database", default=str(ROOT / "data" / "finder.db"), show_default=True)
@click.option("--rounds", default=30, show_default=True, help="Requests per page and place.")
def main(database: str, rounds: int) -> None:
    app = create_app({"DATABASE": database})
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with serving_in_background(app) as base:
        start = time.perf_counter()
        timed_get(base + "/search?q=19103")  # the first search builds the in-memory index
        click.echo(
            f"first search (builds the index): {(time.perf_counter() - start) * 1000:.0f} ms"
        )
        click.echo(f"{'page':32} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'KB':>6}")
        for name, pattern in PAGES.items():
            times, sizes = [], []
            for _ in range(rounds):
                for place in PLACES:
                    url = base + pattern.format(place=place.replace(" ", "+"))
                    elapsed, size = timed_get(url)
                    times.append(elapsed)
                    sizes.append(size)
            click.echo(
                f"{name:32} {statistics.median(times):7.1f} {percentile(times, 0.95):7.1f} "
                f"{max(times):7.1f} {statistics.median(sizes) / 1000:6.1f}"
            )
        _, css = timed_get(base + "/static/site.css")
        _, page = timed_get(base + "/search?q=19103&when=any&limit=25")
    click.echo(f"25-result page + CSS: {(page + css) / 1000:.1f} KB (budget 60 KB, no script)")


if __name__ == "__main__":
    main()
