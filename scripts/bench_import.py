"""Import and geocoding throughput on the bundled data and on a synthetic 100k-meeting feed.

Usage: .venv/bin/python scripts/bench_import.py [--meetings 100000] [--skip-bundled]
Prints records/s per source, offline geocoding queries/s, and the synthetic feed's first import
and unchanged re-import. Deterministic (seeded); the machine's noise is not.
"""

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from finder.geo.offline import OfflineGeocoder, city_places, resolve_position, zip_places  # noqa: E402
from finder.ingest.registry import import_source, read_registry  # noqa: E402
from finder.store import connect, init_db  # noqa: E402
from finder.vocabulary import types  # noqa: E402


def bench_bundled(workdir: Path, geocoder) -> None:
    db = connect(str(workdir / "bundled.db"))
    init_db(db)
    total_records = total_seconds = 0.0
    print(f"{'source':<16}{'records':>9}{'seconds':>9}{'records/s':>11}")
    for source in read_registry(ROOT / "data" / "sources.toml"):
        started = time.perf_counter()
        summary = import_source(db, source, geocoder)
        seconds = time.perf_counter() - started
        total_records += summary.records_in
        total_seconds += seconds
        print(
            f"{source['id']:<16}{summary.records_in:>9}{seconds:>9.2f}"
            f"{summary.records_in / seconds:>11.0f}"
        )
    print(
        f"{'all bundled':<16}{total_records:>9.0f}{total_seconds:>9.2f}"
        f"{total_records / total_seconds:>11.0f}"
    )


def bench_geocoding(geocoder, count: int = 20000) -> None:
    rng = random.Random(7)
    zips = sorted(zip_places())
    queries = [{"postalcode": rng.choice(zips)} for _ in range(count)]
    cities = [{"city": "Springfield", "state": "IL"}, {"city": "Denver", "state": "CO"}]
    zip_places(), city_places()  # load the gazetteers outside the timing
    for label, batch in (("ZIP lookups", queries), ("city lookups", cities * (count // 2))):
        started = time.perf_counter()
        for query in batch:
            geocoder.geocode(query)
        seconds = time.perf_counter() - started
        print(f"offline geocoder, {label}: {len(batch) / seconds:,.0f} queries/s")
    locations = [
        {"latitude": 0, "longitude": 0, **{"postal_code": q["postalcode"]}} for q in queries
    ]
    started = time.perf_counter()
    for location in locations:
        resolve_position(location, geocoder)
    seconds = time.perf_counter() - started
    print(
        f"validate + re-geocode bad source coordinates: {len(locations) / seconds:,.0f} locations/s"
    )


def synthetic_feed(count: int, seed: int = 42) -> list[dict]:
    """A Meeting Guide feed of ``count`` meetings at real ZIP centroids (5% with (0,0))."""
    rng = random.Random(seed)
    places = [(code, p) for code, p in sorted(zip_places().items()) if p.timezone]
    codes = [c for c, t in types().items() if t["category"] in ("format", "openness", "audience")]
    meetings = []
    for number in range(count):
        code, place = rng.choice(places)
        lat = round(place.latitude + rng.uniform(-0.02, 0.02), 6)
        lon = round(place.longitude + rng.uniform(-0.02, 0.02), 6)
        if rng.random() < 0.05:
            lat = lon = 0
        start = rng.randrange(6 * 60, 22 * 60, 15)
        meetings.append(
            {
                "slug": f"synthetic-{number}",
                "name": f"Synthetic group {number}",
                "day": rng.sample(range(7), rng.randint(1, 3)),
                "time": f"{start // 60:02d}:{start % 60:02d}",
                "end_time": f"{(start + 60) // 60 % 24:02d}:{start % 60:02d}",
                "types": rng.sample(codes, 3),
                "location": f"Hall {number % 5000}",
                "address": f"{number % 900 + 1} Main St",
                "postal_code": code,
                "state": place.state,
                "latitude": lat,
                "longitude": lon,
                "conference_url": f"https://zoom.us/j/9{number:09d}" if rng.random() < 0.2 else "",
            }
        )
    return meetings


def bench_synthetic(workdir: Path, geocoder, count: int) -> None:
    path = workdir / "synthetic.json"
    path.write_text(json.dumps(synthetic_feed(count)))
    db = connect(str(workdir / "synthetic.db"))
    init_db(db)
    source = {
        "id": "synthetic",
        "name": "Synthetic",
        "format": "meeting_guide",
        "path": str(path),
        "program": "AA",
    }
    for label in ("first import", "unchanged re-import"):
        started = time.perf_counter()
        summary = import_source(db, source, geocoder)
        seconds = time.perf_counter() - started
        print(
            f"synthetic {count:,} meetings, {label}: {seconds:.1f} s, "
            f"{summary.records_in / seconds:,.0f} records/s "
            f"(added {summary.added}, unchanged {summary.unchanged}, repaired {summary.repaired})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description="Import and geocoding throughput.")
    parser.add_argument("--meetings", type=int, default=100_000)
    parser.add_argument("--skip-bundled", action="store_true")
    args = parser.parse_args()
    geocoder = OfflineGeocoder()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if not args.skip_bundled:
            bench_bundled(workdir, geocoder)
        bench_geocoding(geocoder)
        bench_synthetic(workdir, geocoder, args.meetings)


if __name__ == "__main__":
    main()
