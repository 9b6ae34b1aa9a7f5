"""Failures of refreshes that published nothing, recorded beside the served file.

A refresh in which every source failed publishes no new file (finder/ingest/refresh.py): a new
generation would rebuild the search index for unchanged data. Its failures are kept here, in
``.<database>.failed-refreshes.json``, until a later refresh of the same source publishes its
attempt in feed_health; the site's /about page and ``flask quality`` read both.
"""

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple


class Failure(NamedTuple):
    """Why one source's refresh failed."""

    http_status: int | None
    error: str


def path_for(served: str | Path) -> Path:
    """Where a served file's unpublished failures are recorded."""
    served = Path(served)
    return served.with_name(f".{served.name}.failed-refreshes.json")


def recorded(served: str | Path) -> dict[str, dict]:
    """Source -> its last attempt, failed, in a refresh that published nothing, when no refresh
    of it published since: ``last_attempt`` (UTC, ISO), ``http_status`` and ``last_error``, as
    in feed_health, and newer than what the served file's feed_health says.

    A missing or unreadable record is none; entries not of that shape are left out.
    """
    try:
        found = json.loads(path_for(served).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    if not isinstance(found, dict):
        return {}
    return {str(source): entry for source, raw in found.items() if (entry := _entry(raw))}


def _entry(raw) -> dict | None:
    """An entry as ``record`` writes it, else None."""
    if not isinstance(raw, dict) or not isinstance(raw.get("last_attempt"), str):
        return None
    try:
        datetime.fromisoformat(raw["last_attempt"])
    except ValueError:
        return None
    status, error = raw.get("http_status"), raw.get("last_error")
    return {
        "last_attempt": raw["last_attempt"],
        "http_status": status if type(status) is int else None,
        "last_error": _printable(error) if isinstance(error, str) else None,
    }


def _printable(text: str) -> str:
    """The text, with anything that cannot be written as UTF-8 (lone surrogates) escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def record(served: str | Path, failed: dict[str, Failure]) -> None:
    """Record each source's failure now (over its earlier one)."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    entries = {
        source: {"last_attempt": now, "http_status": f.http_status, "last_error": f.error}
        for source, f in failed.items()
    }
    _write(served, recorded(served) | entries)


def forget(served: str | Path, sources: list[str]) -> None:
    """Drop these sources' failures: a published file's feed_health holds newer attempts."""
    kept = recorded(served)
    if kept.keys() & set(sources):
        _write(served, {k: v for k, v in kept.items() if k not in sources})


def _write(served: str | Path, entries: dict) -> None:
    path = path_for(served)
    if not entries:
        path.unlink(missing_ok=True)
        return
    written = path.with_name(f"{path.name}.tmp")
    written.write_text(json.dumps(entries, indent=1), encoding="utf-8")
    os.replace(written, path)  # readers see the old record or the new one, never half of one
