"""Benchmark serving at national scale: how fast gunicorn's workers start and follow a refresh,
and their memory, side by side: "before" (the code before the publisher stored the index and
before the master followed the file) and "after" (this code).

Usage: .venv/bin/python scripts/bench_scale.py [--meetings 1000000] [--source data/finder.db]
                                               [--workers 4] [--searches 30] [--keep PATH]
                                               [--only before|after]

SYNTHETIC DATA: the bundled database's meetings (``make db``) copied over and over, each copy's
venues moved by up to ±0.1° (deterministic jitter), until there are ``--meetings`` meetings. It
is written to a temporary folder (or ``--keep``), never into data/, and is not real data.

This process plays gunicorn's master: it loads the app as ``make run``'s master does
(``finder.web.wsgi.application``: the generation opened, its index mapped from beside the file,
the kernels compiled or loaded from numba's cache, the warm-up searches), then forks the workers,
each of which answers searches through the app (``/api/search`` at random venues and minutes).
For each of "before" and "after" it measures, on 2 fresh copies of the database:

1. **start**: ``--workers`` workers forked at once; each one's time to its first answer;
2. **refresh**: a new file is published at the path while they run. Before: renamed onto the
   path as it is, so the workers open it on their next request and the first builds its index
   (the others wait for it, then map it). After: the publisher first stores its index beside the
   path (``store_beside``, timed apart: the publisher's cost), so the workers only map it. Each
   worker's time to its first answer from the new file, the largest peak RSS of a worker, and
   the workers' combined RSS and PSS (from /proc/<pid>/smaps_rollup) after ``--searches`` more;
3. **a worker replaced after the refresh** (gunicorn restarts one that died or timed out): before,
   forked from a master that still holds the old file, it opens the new one on its first
   request; after, the master opens the published file before forking (``follow_the_file``).
   The time from the fork decision to the worker's first answer.
"""

import argparse
import json
import os
import random
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from finder.search.sidecar import folder_of, identity, store_beside  # noqa: E402
from finder.web.state import published  # noqa: E402
from finder.web.wsgi import application, open_published  # noqa: E402

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


def queries(db_path: Path, count: int, seed: int) -> list[str]:
    """API searches around venues of the database, at random minutes of 2026."""
    rng = random.Random(seed)
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    venues = conn.execute(
        "select latitude, longitude from locations where latitude is not null "
        "and id in (select location_id from resources where kind = 'meeting') limit 20000"
    ).fetchall()
    conn.close()
    chosen = []
    for _ in range(count):
        lat, lon = rng.choice(venues)
        day = rng.choice(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday"))
        at = f"{rng.randrange(24):02d}:{rng.randrange(0, 60, 5):02d}"
        where = f"lat={lat + rng.gauss(0, 0.05):.4f}&lon={lon:.4f}"
        chosen.append(f"/api/search?{where}&when=at&day={day}&time={at}&limit=20")
    return chosen


def memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of a process in kB."""
    values = {}
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            parts = line.split()
            if parts[0] in ("Rss:", "Pss:"):
                values[parts[0]] = int(parts[1])
    return values["Rss:"], values["Pss:"]


def _answer(client, path: str) -> None:
    response = client.get(path)
    if response.status_code != 200:
        raise SystemExit(f"{path} answered {response.status_code}")


def worker(app, batch: list[str], forked_at: float, report: int, go: int) -> None:
    """A forked worker: its first answer (time since the fork decision), then, on each byte from
    ``go`` (a file was published meanwhile), its first answer again, all ``batch``, and its
    memory; it leaves when ``go`` is closed."""
    client = app.test_client()
    holder = published(app)
    started = forked_at
    while True:
        holder.current_generation(wait=True)  # what the first request does first
        opened = time.perf_counter() - started
        _answer(client, batch[0])
        first = time.perf_counter() - started
        for path in batch[1:]:
            _answer(client, path)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # GB (from kB)
        file = "-".join(f"{n}" for n in holder.current.identity)
        line = f"{first:.3f} {peak:.3f} {file} {holder.current.origin} {opened:.3f}\n"
        os.write(report, line.encode())
        if not os.read(go, 1):
            os._exit(0)
        started = time.perf_counter()


class Workers:
    """Workers forked from this process (the master), each with its own pipes."""

    def __init__(self):
        self.pids, self.reports, self.goes = [], [], []

    def fork(self, app, batch: list[str], forked_at: float) -> None:
        report_r, report_w = os.pipe()
        go_r, go_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(report_r)
            os.close(go_w)
            try:
                worker(app, batch, forked_at, report_w, go_r)
            finally:
                os._exit(1)
        os.close(report_w)
        os.close(go_r)
        self.pids.append(pid)
        self.reports.append(os.fdopen(report_r))
        self.goes.append(go_w)

    def collect(self, which=None) -> list[dict]:
        """Each worker's report: first answer (s), peak RSS (GB), the file it answered from."""
        answers = []
        for report in which or self.reports:
            line = report.readline().split()
            if not line:
                raise SystemExit("a worker failed (see above)")
            answers.append({"first": float(line[0]), "peak": float(line[1]), "file": line[2]})
            answers[-1]["how"], answers[-1]["opened"] = line[3], float(line[4])
        return answers

    def go(self) -> None:
        for go in self.goes:
            os.write(go, b"x")

    def memory(self) -> tuple[float, float]:
        sizes = [memory(pid) for pid in self.pids]
        return sum(r for r, _ in sizes) / 1024**2, sum(p for _, p in sizes) / 1024**2

    def stop(self) -> None:
        for go in self.goes:
            os.close(go)
        for pid in self.pids:
            os.waitpid(pid, 0)
        for report in self.reports:
            report.close()


def file_name(path: Path) -> str:
    return "-".join(f"{n}" for n in identity(os.stat(path)))


def run(mode: str, original: Path, folder: Path, workers: int, batch: list[str]) -> dict:
    """The three measures of one mode, on fresh copies of the database in ``folder``."""
    served, following = folder / f"{mode}.db", folder / f"{mode}-next.db"
    shutil.rmtree(folder_of(served), ignore_errors=True)
    shutil.copyfile(original, served)
    shutil.copyfile(original, following)
    result = {}
    started = time.perf_counter()
    app = application(str(served))  # the master: builds the index the first time, warms up
    result["master"] = time.perf_counter() - started
    pool = Workers()
    forked_at = time.perf_counter()
    for _ in range(workers):
        pool.fork(app, batch, forked_at)
    result["start"] = sorted(a["first"] for a in pool.collect())
    started = time.perf_counter()
    if mode == "after":
        result["how"] = store_beside(following, served)
    result["publisher"] = time.perf_counter() - started
    os.replace(following, served)
    pool.go()
    refreshed = pool.collect()
    new = file_name(served)
    if any(a["file"] != new for a in refreshed):
        raise SystemExit(f"a worker did not answer from the new file: {refreshed}")
    result["refresh"] = sorted(a["first"] for a in refreshed)
    result["opened"] = max(a["opened"] for a in refreshed)
    result["origins"] = sorted({a["how"] for a in refreshed})
    result["peak"] = max(a["peak"] for a in refreshed)
    result["rss"], result["pss"] = pool.memory()
    result["master_pss"] = memory(os.getpid())[1] / 1024**2
    decided = time.perf_counter()
    if mode == "after":  # what gunicorn's pre_fork hook does (finder.web.wsgi.follow_the_file)
        open_published(app)
    result["follow"] = time.perf_counter() - decided
    pool.fork(app, batch, decided)
    [replaced] = pool.collect(pool.reports[-1:])
    result["replaced"] = replaced["first"]
    pool.stop()
    return result


def in_a_child(function, *arguments):
    """``function(*arguments)`` in a forked process (its result as JSON), so that each mode's
    master starts as gunicorn's would: nothing compiled, loaded or mapped yet."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            os.write(write, json.dumps(function(*arguments)).encode())
        except BaseException:
            traceback.print_exc()  # the parent then says the run failed
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as answer:
        text = answer.read()
    os.waitpid(pid, 0)
    if not text:
        raise SystemExit("a run failed (see above)")
    return json.loads(text)


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
        batch = queries(db_path, args.searches, seed=1)
        results = {}
        for mode in ("before", "after"):
            if args.only in (None, mode):
                results[mode] = in_a_child(run, mode, db_path, Path(tmp), args.workers, batch)
                for name in (f"{mode}.db", f"{mode}-next.db"):
                    (Path(tmp) / name).unlink(missing_ok=True)
                shutil.rmtree(folder_of(Path(tmp) / f"{mode}.db"), ignore_errors=True)
        print_table(results, args.workers, args.searches)


def print_table(results: dict, workers: int, searches: int) -> None:
    rows = [
        ("master: load, index, warm-up (s)", lambda r: r["master"], "{:.1f}"),
        (f"start: {workers} forked at once, slowest (s)", lambda r: r["start"][-1], "{:.3f}"),
        ("publisher: store the new index (s)", lambda r: r["publisher"], "{:.1f}"),
        (f"refresh: slowest of {workers} to open new file (s)", lambda r: r["opened"], "{:.2f}"),
        (f"refresh: slowest of {workers}, 1st answer (s)", lambda r: r["refresh"][-1], "{:.2f}"),
        (f"refresh: fastest of {workers} (s)", lambda r: r["refresh"][0], "{:.2f}"),
        ("refresh: peak RSS of a worker (GB)", lambda r: r["peak"], "{:.2f}"),
        (f"RSS of {workers} workers after (GB)", lambda r: r["rss"], "{:.2f}"),
        (f"PSS of {workers} workers after (GB)", lambda r: r["pss"], "{:.2f}"),
        ("PSS of the master (GB)", lambda r: r["master_pss"], "{:.2f}"),
        ("master opens the new file before forking (s)", lambda r: r["follow"], "{:.2f}"),
        ("worker forked after refresh: 1st answer (s)", lambda r: r["replaced"], "{:.2f}"),
    ]
    names = list(results)
    print(f"\n{workers} workers, {searches} API searches each per phase (SYNTHETIC data)")
    print(f"{'':<44}" + "".join(f"{name:>10}" for name in names))
    for label, value, form in rows:
        print(f"{label:<44}" + "".join(f"{form.format(value(results[n])):>10}" for n in names))
    for name in names:
        how = results[name].get("how", "renamed only")
        print(
            f"{name}: new file's index in the workers: {', '.join(results[name]['origins'])}; "
            f"publisher: {how}"
        )


if __name__ == "__main__":
    main()
