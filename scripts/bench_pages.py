"""In-process time of the site's pages and the API over the bundled data (no sockets).

    .venv/bin/python scripts/bench_pages.py [--rounds 60]     # needs data/finder.db (make db)

Each request goes through the whole app (parameters, search, details, rendering or JSON) with
Flask's test client, so the figures are the app's own cost per request, without the server's.
Prints p50 and p95 in milliseconds per request kind, side by side in one run.
"""

import statistics
import sys
import time
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from finder import create_app  # noqa: E402

PLACES = ["19103", "19020", "94901", "79101", "14607"]
REQUESTS = {
    "API search, now": "/api/v1/search?q={place}",
    "API search, any time, 25": "/api/v1/search?q={place}&when=any&limit=25",
    "results page, now": "/search?q={place}",
    "results page, any time, 25": "/search?q={place}&when=any&limit=25",
    "listing page": "/resource/{listing}",
    "trivial (/healthz)": "/healthz",
}


@click.command()
@click.option("--database", default=str(ROOT / "data" / "finder.db"), show_default=True)
@click.option("--rounds", default=60, show_default=True, help="requests per kind")
def main(database: str, rounds: int) -> None:
    client = create_app({"DATABASE": database}).test_client()
    listing = client.get("/api/v1/search?q=19103&when=any").get_json()["groups"]["nearby"][0]["id"]
    urls = {
        name: [url.format(place=p, listing=listing) for p in PLACES]
        for name, url in REQUESTS.items()
    }
    for choices in urls.values():  # warm: index built, kernels compiled, templates loaded
        for url in choices:
            assert client.get(url).status_code == 200, url
    click.echo(f"{'request':28} {'p50 ms':>8} {'p95 ms':>8}")
    for name, choices in urls.items():
        times = []
        for n in range(rounds):
            started = time.perf_counter()
            client.get(choices[n % len(choices)])
            times.append((time.perf_counter() - started) * 1000)
        p95 = statistics.quantiles(times, n=20)[-1]
        click.echo(f"{name:28} {statistics.median(times):8.2f} {p95:8.2f}")


if __name__ == "__main__":
    main()
