"""In-process time of the site's pages and the API over the bundled data (no sockets).

    .venv/bin/python scripts/bench_pages.py [--rounds 60]     # needs data/finder.db (make db)

Each request goes through the whole app (parameters, search, details, rendering or JSON) with
Flask's test client, so the figures are the app's own cost per request, without the server's.
Prints p50 and p95 in milliseconds per request kind, side by side in one run.

A search's answer is kept for its minute (finder/web/kept.py), so the rows over five places
mostly measure kept answers, as popular searches are in use; the "distinct points" rows ask
from a new point every time (anywhere within about 5 km of one of four places; "abroad": of
London, Edmonton, Toronto or Berlin), so each is answered anew.
"""

import random
import statistics
import sys
import time
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from finder import create_app  # noqa: E402

PLACES = ["19103", "19020", "94901", "79101", "14607"]
POINTS = [(39.9526, -75.1652), (40.1065, -74.9513), (37.9735, -122.5311), (35.2220, -101.8313)]
ABROAD = [(51.5072, -0.1276), (53.5461, -113.4937), (43.6532, -79.3832), (52.5200, 13.4050)]
REQUESTS = {
    "API search, now": "/api/v1/search?q={place}",
    "API search, any time, 25": "/api/v1/search?q={place}&when=any&limit=25",
    "results page, now": "/search?q={place}",
    "results page, any time, 25": "/search?q={place}&when=any&limit=25",
    "API search, distinct points": "/api/v1/search?lat={lat}&lon={lon}",
    "results page, distinct points": "/search?lat={lat}&lon={lon}",
    "API search, points abroad": "/api/v1/search?lat={far_lat}&lon={far_lon}",
    "listing page": "/resource/{listing}",
    "trivial (/healthz)": "/healthz",
}


@click.command()
@click.option("--database", default=str(ROOT / "data" / "finder.db"), show_default=True)
@click.option("--rounds", default=60, show_default=True, help="requests per kind")
def main(database: str, rounds: int) -> None:
    client = create_app({"DATABASE": database}).test_client()
    listing = client.get("/api/v1/search?q=19103&when=any").get_json()["groups"]["nearby"][0]["id"]
    for template in REQUESTS.values():  # warm: index built, kernels compiled, templates loaded
        for n in range(len(PLACES)):
            url = _url(template, n, listing, warm=True)
            assert client.get(url).status_code == 200, url
    click.echo(f"{'request':32} {'p50 ms':>8} {'p95 ms':>8}")
    for name, template in REQUESTS.items():
        times = []
        for n in range(rounds):
            url = _url(template, n, listing)
            started = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        p95 = statistics.quantiles(times, n=20)[-1]
        click.echo(f"{name:32} {statistics.median(times):8.2f} {p95:8.2f}")


def _url(template: str, n: int, listing: int, warm: bool = False) -> str:
    """The n-th request of a kind: places in turn, or a point never asked before (anywhere
    within about 5 km of one of four places)."""
    lat, lon = POINTS[n % len(POINTS)]
    far_lat, far_lon = ABROAD[n % len(ABROAD)]
    spread = random.Random(-n - 1 if warm else n)
    north, east = spread.uniform(-0.05, 0.05), spread.uniform(-0.05, 0.05)
    return template.format(
        place=PLACES[n % len(PLACES)],
        listing=listing,
        lat=f"{lat + north:.6f}",
        lon=f"{lon + east:.6f}",
        far_lat=f"{far_lat + north:.6f}",
        far_lon=f"{far_lon + east:.6f}",
    )


if __name__ == "__main__":
    main()
