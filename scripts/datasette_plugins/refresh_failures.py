"""Refreshes in which every source failed, for the feed_status query: they publish no new file
(finder/ingest/failures.py), so the served file's feed_health cannot tell; their record beside
the served file can. ``failed_refresh(source, field)`` gives that record's ``last_attempt``,
``http_status`` or ``last_error`` for a source, or null.

The served file's path is FINDER_SERVED_DATABASE, set by scripts/datasette_run.py (the file
Datasette reads is a hard link of its own; an environment variable, not plugin metadata, which
Datasette would publish), else the database's own path.
"""

import os
from functools import lru_cache
from pathlib import Path

from datasette import hookimpl

from finder.ingest import failures

FIELDS = ("last_attempt", "http_status", "last_error")


def _recorded(served: Path) -> dict[str, dict]:
    """The record, read once per version of its file (feed_status asks three fields a source)."""
    try:
        written = os.stat(failures.path_for(served))
    except OSError:
        return {}
    return _read(served, (written.st_mtime_ns, written.st_size, written.st_ino))


@lru_cache(maxsize=4)
def _read(served: Path, version: tuple) -> dict[str, dict]:
    return failures.recorded(served)


@hookimpl
def prepare_connection(conn, database, datasette):
    path = os.environ.get("FINDER_SERVED_DATABASE") or datasette.databases[database].path
    if path is None:
        return

    def failed_refresh(source, field):
        if field not in FIELDS:
            raise ValueError(f"failed_refresh: field must be one of {', '.join(FIELDS)}")
        return _recorded(Path(path)).get(str(source), {}).get(field)

    conn.create_function("failed_refresh", 2, failed_refresh)
