"""The data-quality report (``flask --app finder quality``): per source, what is listed, how
well it is placed, what was rejected, possible duplicates, age and feed health (issue #13).

Duplicates and age are counted by the same SQL as Datasette's saved queries (data/metadata.yml),
so the command and the browser never disagree."""

from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml
from sqlite_utils import Database

from finder.ingest.load import reason_family
from finder.paths import DATA_DIR


@dataclass
class SourceQuality:
    """One source's figures."""

    source: str
    kinds: Counter = field(default_factory=Counter)
    attendance: Counter = field(default_factory=Counter)
    precision: Counter = field(default_factory=Counter)
    rejects: Counter = field(default_factory=Counter)
    duplicates_within: int = 0
    duplicates_across: int = 0
    age: dict = field(default_factory=dict)
    health: dict = field(default_factory=dict)


@cache
def saved_query(name: str, metadata: Path = DATA_DIR / "metadata.yml") -> str:
    """The SQL of one of Datasette's saved queries."""
    document = yaml.safe_load(metadata.read_text(encoding="utf-8"))
    return document["databases"]["finder"]["queries"][name]["sql"]


def report(db: Database, failed: dict[str, dict] | None = None) -> dict[str, SourceQuality]:
    """Every source's figures, by source id.

    :param failed: later failed attempts than the database's feed_health holds, by source
        (``failures.recorded``: refreshes in which every source failed publish nothing)
    """
    sources = {r["id"]: SourceQuality(r["id"]) for r in db.query("select id from sources")}
    listed = """select r.source, r.kind, r.attendance, coalesce(l.geocode_precision, 'none') as p
                from resources r left join locations l on l.id = r.location_id
                where r.status = 'active'"""
    for row in db.query(listed):
        entry = sources[row["source"]]
        entry.kinds[row["kind"]] += 1
        entry.attendance[row["attendance"] or "unknown"] += 1
        if row["attendance"] != "online":
            entry.precision[row["p"]] += 1
    for row in db.query(saved_query("latest_rejects")):
        sources[row["source"]].rejects[reason_family(row["reason"])] += 1
    for row in db.query(saved_query("duplicate_candidates")):
        if row["source_a"] == row["source_b"]:
            sources[row["source_a"]].duplicates_within += 1
        else:
            sources[row["source_a"]].duplicates_across += 1
            sources[row["source_b"]].duplicates_across += 1
    for row in db.query(saved_query("stale_sources")):
        sources[row["source"]].age = row
    for row in db.query("select * from feed_health"):
        if row["source"] in sources:
            sources[row["source"]].health = row
    for source, attempt in (failed or {}).items():
        if source in sources:
            sources[source].health = {**sources[source].health, **attempt}
    return sources


def describe(entry: SourceQuality) -> list[str]:
    """A source's figures as lines for a terminal."""

    def counts(counter: Counter) -> str:
        return ", ".join(f"{k} {v:,}" for k, v in counter.most_common()) or "none"

    age = entry.age
    lines = [
        entry.source,
        f"  listings: {counts(entry.kinds)}; attendance: {counts(entry.attendance)}",
        f"  placed (not online-only): {counts(entry.precision)}",
        f"  rejected in the latest import: {sum(entry.rejects.values())}",
        *(f"    {n} × {reason}" for reason, n in entry.rejects.most_common(5)),
        f"  possible duplicates: {entry.duplicates_within} pairs within the source, "
        f"{entry.duplicates_across} with other sources",
    ]
    if age:
        lines.append(
            f"  age: newest {age['newest']}, oldest {age['oldest']}; over a year old "
            f"{age['over_1_year']:,}, over two {age['over_2_years']:,}, undated "
            f"{age['undated']:,} (list dated {age['list_dated'] or 'unknown'})"
        )
    health = entry.health
    if health:
        lines.append(
            f"  feed: last attempt {health['last_attempt']}, last success "
            f"{health.get('last_success') or 'never'}, HTTP {health.get('http_status')}, "
            f"{health.get('records')} records (change {health.get('change')})"
            + (f"; last error: {health['last_error']}" if health.get("last_error") else "")
        )
    else:
        lines.append("  feed: a bundled file (never refreshed)")
    return lines
