"""Benchmark serving at national scale: worker start and memory with the index stored beside the
database and mapped by every worker, side by side with each worker building its own.

Usage: .venv/bin/python scripts/bench_scale.py [--meetings 1000000] [--source data/finder.db]
                                               [--workers 4] [--searches 30] [--keep PATH]
                                               [--only before|after]

SYNTHETIC DATA: the bundled database's meetings (``make db``) copied over and over, each copy's
venues moved by up to ±0.1° (deterministic jitter), until there are ``--meetings`` meetings. It
is written to a temporary folder (or ``--keep``), never into data/, and is not real data.

Prints, for "before" (each worker builds its index from the database, as every worker did for
each new generation) and "after" (the first process builds and stores it, every worker maps it):
the index build time, the sidecar write time, each worker's cold start (open the generation and
answer a first search) and the combined RSS and PSS (from /proc/<pid>/smaps_rollup) of the
workers after each answered ``--searches`` searches. Workers are forked from this process once it
has compiled the kernels, as gunicorn forks its workers from the warmed-up master; the page cache
is warm (the database and the sidecar were just written).
"""

import argparse
import os
import random
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlite_utils import Database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from finder.search import Query, SearchIndex, search  # noqa: E402
from finder.search.coverage import Coverage  # noqa: E402
from finder.search.sidecar import folder_of, identity, store  # noqa: E402
from finder.web.state import Generation  # noqa: E402

JITTER = 0.1  # degrees, at most, in each direction


def replicate(source: Path, target: Path, meetings: int) -> int:
    """A copy of ``source`` whose meetings are repeated (venues jittered) up to ``meetings``."""
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as original:
        copy = sqlite3.connect(target)
        original.backup(copy)
    conn = copy
    have = conn.execute("select count(*) from resources where kind = 'meeting'").fetchone()[0]
    if not have:
        raise SystemExit(f"{source} has no meetings: run `make db` first")
    resource_stride = conn.execute("select max(id) + 1 from resources").fetchone()[0]
    location_stride = conn.execute("select max(id) + 1 from locations").fetchone()[0]
    copies = max(0, -(-(meetings - have) // have))
    conn.execute("pragma journal_mode = off")
    conn.execute("pragma synchronous = off")
    for k in range(1, copies + 1):
        _copy_meetings(conn, k, k * resource_stride, k * location_stride)
    conn.commit()
    total = conn.execute("select count(*) from resources where kind = 'meeting'").fetchone()[0]
    conn.close()
    return total


def _copy_meetings(conn, k: int, rid: int, lid: int) -> None:
    """Copy number k of every meeting, its venue (moved), schedules and types."""
    resource_columns = [r[1] for r in conn.execute("pragma table_info(resources)")]
    location_columns = [r[1] for r in conn.execute("pragma table_info(locations)")]
    changed = {
        "id": f"id + {lid}",
        "source_id": f"source_id || '~{k}'",
        "latitude": f"latitude + ((id * 7919 + {k} * 104729) % 2001 - 1000) * {JITTER / 1000}",
        "longitude": f"longitude + ((id * 6271 + {k} * 130363) % 2001 - 1000) * {JITTER / 1000}",
    }
    select = ", ".join(changed.get(c, c) for c in location_columns)
    conn.execute(
        f"insert into locations ({', '.join(location_columns)}) select {select} from locations "
        f"where id < {lid // k} and id in (select location_id from resources where kind = "
        "'meeting' and id < ?)",
        (rid // k,),
    )
    changed = {
        "id": f"id + {rid}",
        "source_id": f"source_id || '~{k}'",
        "location_id": f"location_id + {lid}",
    }
    select = ", ".join(changed.get(c, c) for c in resource_columns)
    conn.execute(
        f"insert into resources ({', '.join(resource_columns)}) select {select} from resources "
        "where kind = 'meeting' and id < ?",
        (rid // k,),
    )
    conn.execute(
        "insert into schedules (resource_id, day, time, end_time, start_minute, duration_minutes)"
        f" select s.resource_id + {rid}, day, time, end_time, start_minute, duration_minutes "
        "from schedules s join resources r on r.id = s.resource_id "
        "where r.kind = 'meeting' and r.id < ?",
        (rid // k,),
    )
    conn.execute(
        f"insert into resource_types (resource_id, code, claim) select t.resource_id + {rid}, "
        "code, claim from resource_types t join resources r on r.id = t.resource_id "
        "where r.kind = 'meeting' and r.id < ?",
        (rid // k,),
    )


def queries(db_path: Path, count: int, seed: int) -> list[Query]:
    """Searches around venues of the database, at random minutes of 2026."""
    rng = random.Random(seed)
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    venues = conn.execute(
        "select latitude, longitude from locations where latitude is not null "
        "and id in (select location_id from resources where kind = 'meeting') limit 20000"
    ).fetchall()
    conn.close()
    year = datetime(2026, 1, 1, tzinfo=UTC)
    chosen = []
    for _ in range(count):
        lat, lon = rng.choice(venues)
        now = year + timedelta(minutes=rng.randrange(365 * 24 * 60))
        chosen.append(Query(now=now, latitude=lat + rng.gauss(0, 0.05), longitude=lon))
    return chosen


def compile_kernels(db_path: Path) -> None:
    """Compile (or load from numba's cache) the kernels in this process before forking, as the
    gunicorn master's warm-up does, on a small index of the same file's first rows and one
    meeting of each of its zones (a worker inherits the master's zone tables)."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    rows = conn.execute(
        "select r.id, r.kind, r.attendance, r.program, r.timezone, r.always_open, l.latitude, "
        "l.longitude from resources r left join locations l on l.id = r.location_id "
        "where r.status = 'active' and (r.kind = 'meeting' and r.id < 3000 or r.id in "
        "(select min(id) from resources where status = 'active' group by timezone)) order by r.id"
    ).fetchall()
    ids = [row[0] for row in rows]
    schedules = conn.execute(
        f"select resource_id, start_minute, duration_minutes from schedules "
        f"where resource_id <= {max(ids)}"
    ).fetchall()
    conn.close()
    small = SearchIndex(rows, schedules, [])
    for query in queries(db_path, 20, seed=99):
        search(small, query)


def read_only(path: Path) -> Database:
    return Database(sqlite3.connect(f"file:{path}?mode=ro", uri=True))


def worker(db_path: Path, mode: str, batch: list[Query], report, hold) -> None:
    """A forked worker: open the generation (old or new way), search, report, wait."""
    started = time.perf_counter()
    if mode == "before":
        db = read_only(db_path)
        index, _ = SearchIndex.from_db(db), Coverage.from_db(db)
        origin = "built in this worker"
    else:
        generation = Generation(str(db_path))
        index, origin = generation.index, generation.origin
    search(index, batch[0])
    start = time.perf_counter() - started
    for query in batch[1:]:
        search(index, query)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # GB (ru_maxrss: kB)
    os.write(report, f"{start:.3f} {peak:.3f} {origin}\n".encode())
    os.read(hold, 1)  # until the parent has measured us
    os._exit(0)


def memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of a process in kB."""
    values = {}
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            parts = line.split()
            if parts[0] in ("Rss:", "Pss:"):
                values[parts[0]] = int(parts[1])
    return values["Rss:"], values["Pss:"]


def run_workers(db_path: Path, mode: str, count: int, batch: list[Query]) -> dict:
    """Fork ``count`` workers at once; their start times and combined memory."""
    report_r, report_w = os.pipe()
    hold_r, hold_w = os.pipe()
    pids = []
    for _ in range(count):
        pid = os.fork()
        if pid == 0:
            os.close(report_r)
            os.close(hold_w)
            try:
                worker(db_path, mode, batch, report_w, hold_r)
            finally:
                os._exit(1)
        pids.append(pid)
    os.close(report_w)
    os.close(hold_r)
    lines = []
    with os.fdopen(report_r) as reports:
        for _ in range(count):
            lines.append(reports.readline().split(maxsplit=2))
    sizes = [memory(pid) for pid in pids]
    os.write(hold_w, b"x" * count)
    os.close(hold_w)
    for pid in pids:
        os.waitpid(pid, 0)
    starts = sorted(float(seconds) for seconds, _, _ in lines)
    return {
        "starts": starts,
        "peak": max(float(peak) for _, peak, _ in lines),
        "origins": sorted({origin.strip() for _, _, origin in lines}),
        "rss": sum(rss for rss, _ in sizes) / 1024**2,
        "pss": sum(pss for _, pss in sizes) / 1024**2,
    }


def first_build(db_path: Path) -> tuple[float, float]:
    """In a child (as the first worker or the publisher would): build the index, then store it
    beside the file; the seconds each took."""
    report_r, report_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(report_r)
        try:
            stat = os.stat(db_path)
            from finder.search.sidecar import _locked, file_key

            key = file_key(db_path, identity(stat))
            db = read_only(db_path)
            started = time.perf_counter()
            index, coverage = SearchIndex.from_db(db), Coverage.from_db(db)
            built = time.perf_counter()
            with _locked(folder_of(db_path)):
                store(index, coverage, folder_of(db_path), key)
            os.write(report_w, f"{built - started} {time.perf_counter() - built}".encode())
        finally:
            os._exit(0)
    os.close(report_w)
    with os.fdopen(report_r) as answer:
        build, write = (float(v) for v in answer.read().split())
    os.waitpid(pid, 0)
    return build, write


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meetings", type=int, default=1_000_000)
    parser.add_argument("--source", type=Path, default=ROOT / "data" / "finder.db")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--searches", type=int, default=30)
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the synthetic database here")
    parser.add_argument("--only", choices=("before", "after"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db_path = args.keep or Path(tmp) / "synthetic-scale.db"
        if not db_path.exists():
            started = time.perf_counter()
            total = replicate(args.source, db_path, args.meetings)
            print(
                f"SYNTHETIC database: {total:,} meetings (bundled meetings copied, venues "
                f"jittered) in {time.perf_counter() - started:.0f} s, "
                f"{db_path.stat().st_size / 1e9:.2f} GB at {db_path}"
            )
        shutil.rmtree(folder_of(db_path), ignore_errors=True)
        compile_kernels(db_path)
        batch = queries(db_path, args.searches, seed=1)
        results = {}
        if args.only != "after":
            results["before"] = run_workers(db_path, "before", args.workers, batch)
            results["before"]["alone"] = run_workers(db_path, "before", 1, batch)["starts"][0]
        if args.only != "before":
            build, write = first_build(db_path)
            results["after"] = run_workers(db_path, "after", args.workers, batch)
            results["after"]["alone"] = run_workers(db_path, "after", 1, batch)["starts"][0]
            results["after"]["build"], results["after"]["write"] = build, write
        print_table(results, args.workers, args.searches)


def print_table(results: dict, workers: int, searches: int) -> None:
    rows = [
        ("index build (s)", lambda r: r.get("build"), "{:.1f}"),
        ("sidecar write (s)", lambda r: r.get("write"), "{:.1f}"),
        ("one worker alone: open + 1st search (s)", lambda r: r["alone"], "{:.2f}"),
        (f"{workers} at once: slowest worker (s)", lambda r: r["starts"][-1], "{:.2f}"),
        (f"{workers} at once: fastest worker (s)", lambda r: r["starts"][0], "{:.2f}"),
        ("peak RSS of one worker (GB)", lambda r: r["peak"], "{:.2f}"),
        (f"RSS of {workers} workers (GB)", lambda r: r["rss"], "{:.2f}"),
        (f"PSS of {workers} workers (GB)", lambda r: r["pss"], "{:.2f}"),
    ]
    names = list(results)
    print(f"\n{workers} workers forked at once (then one alone), {searches} searches each")
    print(f"{'':<42}" + "".join(f"{name:>14}" for name in names))
    for label, value, form in rows:
        cells = []
        for name in names:
            figure = value(results[name])
            cells.append("-" if figure is None else form.format(figure))
        print(f"{label:<42}" + "".join(f"{cell:>14}" for cell in cells))
    for name in names:
        print(f"{name}: each worker's index was {', '.join(results[name]['origins'])}")
    print("before: each worker builds its own index; after: stored once beside the file, mapped")


if __name__ == "__main__":
    main()
