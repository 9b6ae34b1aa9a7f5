"""Compare two built databases listing by listing: what changed in attendance, zone, place, hours.

    .venv/bin/python scripts/diff_builds.py OLD.db NEW.db [--examples 3]

Listings are matched by (source, source_id). For each source it prints how many listings were
added or dropped and how many changed attendance, time zone, position or precision, and weekly
times, with a few examples of each, so a change to the ingest rules can be reviewed on real
feeds before it lands.
"""

import argparse
import sqlite3
from collections import Counter, defaultdict

LISTINGS = """
select r.source, r.source_id, r.name, r.attendance, r.timezone, r.status,
       l.latitude, l.longitude, l.geocode_precision,
       (select group_concat(s.day || ' ' || s.time || '-' || coalesce(s.end_time, ''), '; ')
          from (select * from schedules where resource_id = r.id order by day, time) s) as hours
from resources r left join locations l on l.id = r.location_id
where r.status = 'active'
"""
ASPECTS = {
    "attendance": ("attendance",),
    "zone": ("timezone",),
    "place": ("latitude", "longitude", "geocode_precision"),
    "hours": ("hours",),
}


def listings(path: str) -> dict[tuple[str, str], sqlite3.Row]:
    """Active listings of a built database by (source, source_id)."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    connection.row_factory = sqlite3.Row
    return {(row["source"], row["source_id"]): row for row in connection.execute(LISTINGS)}


def _value(row: sqlite3.Row, columns: tuple[str, ...]) -> tuple:
    return tuple(round(row[c], 5) if isinstance(row[c], float) else row[c] for c in columns)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--examples", type=int, default=3)
    args = parser.parse_args()
    old, new = listings(args.old), listings(args.new)
    counts: dict[str, Counter] = defaultdict(Counter)
    examples: dict[tuple[str, str], list[str]] = defaultdict(list)
    for key in old.keys() | new.keys():
        source = key[0]
        if key not in new or key not in old:
            counts[source]["dropped" if key not in new else "added"] += 1
            continue
        for aspect, columns in ASPECTS.items():
            before, after = _value(old[key], columns), _value(new[key], columns)
            if before != after:
                counts[source][aspect] += 1
                change = Counter({f"{before} -> {after}": 1})
                counts[source][f"{aspect}: {next(iter(change))[:110]}"] += 1
                if len(examples[(source, aspect)]) < args.examples:
                    examples[(source, aspect)].append(f"{new[key]['name']!r}: {before} -> {after}")
    for source in sorted(counts):
        totals = {k: v for k, v in counts[source].items() if ":" not in k}
        print(f"{source}: {', '.join(f'{v} {k}' for k, v in sorted(totals.items()))}")
        for aspect in ASPECTS:
            kinds = [(k, v) for k, v in counts[source].items() if k.startswith(f"{aspect}: ")]
            for kind, number in sorted(kinds, key=lambda pair: -pair[1])[: args.examples]:
                print(f"  {number} x {kind}")
            for line in examples[(source, aspect)]:
                print(f"    e.g. {line}")


if __name__ == "__main__":
    main()
