"""Benchmark "near me and now" at national scale, and check it against the naive full scan.

Usage: .venv/bin/python scripts/bench_search.py [--meetings 1000000] [--queries 1000]
                                                [--naive-sample 20] [--keep PATH]

Builds a deterministic synthetic national dataset (meetings clustered around real US cities —
the cities with most ZIP codes in the `zipcodes` package, weighted by that count — spread over
their real time zones; 1-3 weekly occurrences each, ~20% online, ~10% hybrid, random types) in a
real SQLite database with the project's schema, builds the search index from it, then runs a
fixed set of query points at random minutes of 2026, plus 100 queries on the two US DST weekends.
Prints p50/p95/max in-process latency of the default query and of its near and online parts,
build time, database size, peak memory, and the naive scan's agreement (half of the sample on
DST weekends) and speed.
"""

import argparse
import math
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import tzfpy  # noqa: E402
import zipcodes  # noqa: E402

from finder.search import Query, kernels, search  # noqa: E402
from finder.search.index import SearchIndex  # noqa: E402
from finder.search.naive import search_naive  # noqa: E402
from finder.store import connect, init_db  # noqa: E402
from finder.vocabulary import types  # noqa: E402

DURATIONS = (60, 60, 60, 60, 60, 60, 60, 90, 90, 120)
DST_DATES = (datetime(2026, 3, 8, 7, 0, tzinfo=UTC), datetime(2026, 11, 1, 6, 0, tzinfo=UTC))


def metros(count: int = 150) -> list[tuple[float, float, int]]:
    """(lat, lon, weight) of the US cities with the most ZIP codes (a proxy for size)."""
    places = Counter()
    where = {}
    for row in zipcodes.list_all():
        if row["zip_code_type"] != "STANDARD" or not row["lat"]:
            continue
        key = (row["city"], row["state"])
        places[key] += 1
        where.setdefault(key, (float(row["lat"]), float(row["long"])))
    return [(*where[key], n) for key, n in places.most_common(count)]


def generate(db_path: Path, meetings: int, seed: int = 1) -> None:
    """Write the synthetic dataset straight into a migrated database (no importer overhead)."""
    rng = random.Random(seed)
    centers = metros()
    weights = [w for *_, w in centers]
    codes = [c for c, t in types().items() if t["category"] in ("format", "openness", "audience")]
    conn = sqlite3.connect(db_path)
    conn.execute(
        "insert into sources (id, name, format) values ('synthetic', 'Synthetic', 'synthetic')"
    )
    resources, locations, schedules, resource_types = [], [], [], []
    for number in range(1, meetings + 1):
        lat0, lon0, _ = rng.choices(centers, weights)[0]
        lat, lon = lat0 + rng.gauss(0, 0.12), lon0 + rng.gauss(0, 0.15)
        zone = tzfpy.get_tz(lon, lat)
        roll = rng.random()
        attendance = "online" if roll < 0.2 else "hybrid" if roll < 0.3 else "in_person"
        location_id = None
        if attendance != "online":
            location_id = number
            locations.append((number, "synthetic", str(number), round(lat, 6), round(lon, 6), zone))
        resources.append(
            (
                number,
                "synthetic",
                str(number),
                "meeting",
                f"Group {number}",
                "AA",
                attendance,
                location_id,
                zone,
                "active",
            )
        )
        duration = rng.choice(DURATIONS)
        for day in rng.sample(range(7), rng.randint(1, 3)):
            start = rng.choice((rng.randrange(6 * 60, 23 * 60 + 1, 15), 23 * 60 + 30))
            schedules.append(
                (number, day, f"{start // 60:02d}:{start % 60:02d}", day * 1440 + start, duration)
            )
        for code in rng.sample(codes, rng.randint(1, 4)) + (["X"] if rng.random() < 0.25 else []):
            resource_types.append((number, code))
    with conn:
        conn.executemany(
            "insert into locations (id, source, source_id, latitude, longitude, "
            "timezone) values (?, ?, ?, ?, ?, ?)",
            locations,
        )
        conn.executemany(
            "insert into resources (id, source, source_id, kind, name, program, "
            "attendance, location_id, timezone, status) values (?,?,?,?,?,?,?,?,?,?)",
            resources,
        )
        conn.executemany(
            "insert into schedules (resource_id, day, time, start_minute, "
            "duration_minutes) values (?, ?, ?, ?, ?)",
            schedules,
        )
        conn.executemany(
            "insert or ignore into resource_types (resource_id, code) values (?, ?)", resource_types
        )
    conn.execute("vacuum")
    conn.close()


def queries(count: int, seed: int = 2, dst: bool = False) -> list[Query]:
    """Fixed query points near the same cities, at random minutes of 2026 (or, with ``dst``,
    within 5 hours of the US spring-forward and fall-back instants)."""
    rng = random.Random(seed)
    centers = metros()
    weights = [w for *_, w in centers]
    year = datetime(2026, 1, 1, tzinfo=UTC)
    result = []
    for _ in range(count):
        lat0, lon0, _ = rng.choices(centers, weights)[0]
        if dst:
            now = rng.choice(DST_DATES) + timedelta(minutes=rng.randrange(-300, 300))
        else:
            now = year + timedelta(minutes=rng.randrange(365 * 24 * 60))
        result.append(
            Query(
                now=now + timedelta(seconds=rng.randrange(60)),
                latitude=lat0 + rng.gauss(0, 0.1),
                longitude=lon0 + rng.gauss(0, 0.1),
            )
        )
    return result


def timed(function, *args) -> tuple[float, object]:
    started = time.perf_counter()
    value = function(*args)
    return (time.perf_counter() - started) * 1000, value


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    p50 = statistics.median(ordered)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"p50 {p50:.3f} ms   p95 {p95:.3f} ms   max {ordered[-1]:.3f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meetings", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--naive-sample", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="keep the generated database at this path")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --keep: reuse that database if it exists instead of generating",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db_path = args.keep or Path(tmp) / "bench.db"
        if not (args.reuse and db_path.exists()):
            db_path.unlink(missing_ok=True)
            init_db(connect(str(db_path)))
            seconds, _ = timed(generate, db_path, args.meetings)
            print(f"generated {args.meetings:,} meetings into SQLite in {seconds / 1000:.1f} s")
        print(f"database: {db_path.stat().st_size / 1e6:.0f} MB")
        seconds, index = timed(SearchIndex.from_db, connect(str(db_path)))
        print(
            f"index build: {seconds / 1000:.1f} s  ({len(index.near.key):,} in-person and "
            f"{len(index.online.key):,} online weekly occurrences)"
        )
        run(index, queries(args.queries), queries(100, seed=3, dst=True), args.naive_sample)
        rtree_baseline(index, queries(args.queries), Path(tmp))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory (max RSS): {peak:.0f} MB")


WARM_UP_QUERIES = 300
WARM_UP_SEED = 7  # not a seed of any measured batch


def run(index: SearchIndex, batch: list[Query], dst_batch: list[Query], naive_sample: int) -> None:
    # A running server is warm. Warm up on a separate set of queries (other points and times,
    # results discarded: nothing is cached per query), so the first measured part is not cold.
    for query in queries(WARM_UP_QUERIES, seed=WARM_UP_SEED):
        search(index, query)
    print(f"warm-up: {WARM_UP_QUERIES} other queries (seed {WARM_UP_SEED}), not measured")
    parts = {
        "default (near + online)": batch,
        "near part only": [
            replace(q, attendance=frozenset({"in_person", "hybrid"}), kinds=frozenset({"meeting"}))
            for q in batch
        ],
        "online part only": [
            replace(q, latitude=None, longitude=None, attendance=frozenset({"online"}))
            for q in batch
        ],
    }
    parts["default, DST weekends only"] = dst_batch
    for label, group in parts.items():
        latencies = [timed(search, index, q)[0] for q in group]
        print(f"{label:<28} {percentiles(latencies)}  ({len(group)} queries)")
    sizes = [search(index, q).totals for q in batch]
    print(
        "median results per query: "
        + ", ".join(f"{g} {statistics.median(s[g] for s in sizes):.0f}" for g in sizes[0])
    )
    fast_ms, naive_ms, same = [], [], 0
    half = max(1, naive_sample // 2)
    sample = batch[:: max(1, len(batch) // half)][:half] + dst_batch[: naive_sample - half]
    for query in sample:  # half ordinary queries, half on the DST weekends
        fast_time, fast = timed(search, index, query)
        naive_time, naive = timed(search_naive, index, query, fast.radius_km)
        fast_ms.append(fast_time)
        naive_ms.append(naive_time)
        if fast.ids() == naive.ids() and fast.totals == naive.totals:
            same += 1
        else:
            print(
                f"  MISMATCH at {query.now.isoformat()} "
                f"({query.latitude:.4f}, {query.longitude:.4f})"
            )
    print(
        f"naive full scan agrees on {same}/{len(fast_ms)} sampled queries; "
        f"naive p50 {statistics.median(naive_ms):.0f} ms vs index p50 "
        f"{statistics.median(fast_ms):.3f} ms: "
        f"{statistics.median(naive_ms) / statistics.median(fast_ms):,.0f}x faster"
    )


def rtree_baseline(index: SearchIndex, batch: list[Query], folder: Path) -> None:
    """The issue's reference design, measured in the same run: a SQLite 3-D R*Tree over
    (latitude, longitude, local minute of the week) of each in-person occurrence, then exact
    distance and time filtering of what it returns. Interleaved with our near part, query by
    query, so the machine's noise falls on both alike."""
    conn = sqlite3.connect(folder / "rtree.db")
    conn.execute("create virtual table occ using rtree(id, lat0, lat1, lon0, lon1, m0, m1)")
    occ = index.near
    lat, lon = index.latitude[occ.resource], index.longitude[occ.resource]
    started = time.perf_counter()
    with conn:
        conn.executemany(
            "insert into occ values (?, ?, ?, ?, ?, ?, ?)",
            zip(
                range(len(occ.key)),
                lat.tolist(),
                lat.tolist(),
                lon.tolist(),
                lon.tolist(),
                occ.start.tolist(),
                occ.start.tolist(),
                strict=True,
            ),
        )
    print(f"R*Tree build: {time.perf_counter() - started:.1f} s")
    ours, theirs = [], []
    for query in batch:
        near = replace(
            query,
            attendance=frozenset({"in_person", "hybrid"}),
            kinds=frozenset({"meeting"}),
            widen=False,
        )
        ours.append(timed(search, index, near)[0])
        theirs.append(timed(_rtree_query, conn, index, near)[0])
    print(f"{'near part, our index':<28} {percentiles(ours)}")
    print(f"{'near part, 3-D R*Tree':<28} {percentiles(theirs)}")
    ratio = statistics.median(theirs) / statistics.median(ours)
    print(f"R*Tree / ours, same queries: p50 {ratio:.2f}x")


def _rtree_query(conn, index: SearchIndex, query: Query) -> list[int]:
    zone = tzfpy.get_tz(query.longitude, query.latitude)
    local = query.now.astimezone(ZoneInfo(zone))
    minute = (local.isoweekday() % 7) * 1440 + local.hour * 60 + local.minute
    dlat = query.radius_km / 111.195
    dlon = dlat / max(math.cos(math.radians(query.latitude)), 0.01)
    low, high = minute - 120, minute + 120  # 2 h ahead; meetings of up to 2 h behind
    spans = [(low, high)] if low >= 0 else [(0, high), (low + 10080, 10079)]
    ids = []
    for first, last in spans:
        ids += [
            row[0]
            for row in conn.execute(
                "select id from occ where lat0 >= ? and lat1 <= ? and lon0 >= ? and lon1 <= ? "
                "and m0 >= ? and m1 <= ?",
                (
                    query.latitude - dlat,
                    query.latitude + dlat,
                    query.longitude - dlon,
                    query.longitude + dlon,
                    first,
                    last,
                ),
            )
        ]
    picked = np.array(ids, dtype=np.int64)
    occ = index.near
    resource = occ.resource[picked]
    point = np.array(kernels.place_row(query.latitude, query.longitude))
    distance = kernels.distances(point, index.places[resource])
    offset = (occ.start[picked] - minute + 120) % 10080 - 120
    keep = (distance <= query.radius_km) & (offset + occ.duration[picked] > 0) & (offset <= 120)
    order = np.lexsort((distance[keep], np.abs(offset[keep])))
    return index.ids[resource[keep][order][: query.limit]].tolist()


if __name__ == "__main__":
    main()
