"""Publishing a database file: never write into the served file; build a new one beside it and
``os.replace`` it onto the served path, so a reader sees the old file or the new one, never half.

This is the contract every writer follows (``import``, ``import-file``, ``build``, ``refresh``);
the serving side notices the new file and reloads. Steps registered with ``before_swap`` run on
the finished draft just before the rename: the CLI registers storing the draft's search index
beside the served path (finder/search/sidecar.py, which this floor cannot import), so that the
servers' workers only map it.
"""

import fcntl
import os
import sqlite3
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from finder.errors import PublishBusy
from finder.store import connect, init_db

SITE_URL = "http://127.0.0.1:5000"
# Full-text search for maintainers in Datasette: names, descriptions, notes and addresses.
SEARCHABLE = {
    "resources": ["name", "description", "hours_text", "conference_url_notes", "regions"],
    "locations": ["name", "address", "formatted_address", "city", "postal_code", "notes"],
}
_BEFORE_SWAP: list[Callable[[Path, Path], object]] = []


def before_swap(step: Callable[[Path, Path], object]) -> None:
    """Run ``step(draft, served)`` on every finished draft just before it replaces the served
    file (once, however often it is registered)."""
    if step not in _BEFORE_SWAP:
        _BEFORE_SWAP.append(step)


def swap(draft: str | Path, served: str | Path) -> None:
    """Replace the served file with a finished draft in one atomic rename, after the registered
    steps."""
    for step in _BEFORE_SWAP:
        step(Path(draft), Path(served))
    os.replace(draft, served)


@contextmanager
def exclusive(served: str | Path) -> Iterator[None]:
    """Hold the publishing lock of ``served`` (a cron refresh and a manual import must not both
    copy the same file, or the later swap would silently drop the other's changes).

    :raises PublishBusy: another publisher holds it
    """
    served = Path(served)
    lock = served.with_name(f".{served.name}.publish-lock")
    with open(lock, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PublishBusy(
                f"another import or refresh is publishing {served}; try again when it ends"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def draft_copy(served: str | Path) -> Path:
    """A private copy of the served database beside it (same filesystem, so the swap is atomic),
    migrated; a new empty database when nothing is served yet."""
    served = Path(served)
    handle, name = tempfile.mkstemp(prefix=f".{served.name}.", suffix=".tmp", dir=served.parent)
    os.close(handle)
    draft = Path(name)
    # mkstemp makes a private file; the published one must stay readable by the site and
    # Datasette as before.
    draft.chmod(stat.S_IMODE(served.stat().st_mode) if served.exists() else 0o644)
    if served.exists():
        # The backup API copies a consistent snapshot even while the site is reading.
        source = sqlite3.connect(f"file:{served}?mode=ro", uri=True)
        target = sqlite3.connect(draft)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
    db = connect(str(draft))
    init_db(db)
    db.close()
    return draft


def publish(draft: str | Path, served: str | Path, site_url: str | None = None) -> None:
    """Index the draft's text, record the site's address, and swap the draft onto the served
    path in one atomic rename.

    :param site_url: where the site runs, so Datasette links each listing to its page
    """
    db = connect(str(draft))
    try:
        _index_text(db)  # (executescript: its own transactions, in a file nobody reads yet)
        with db.atomic():
            if site_url or not db.table("settings").count_where("key = 'site_url'"):
                row = {"key": "site_url", "value": (site_url or SITE_URL).rstrip("/")}
                db.table("settings").upsert(row, pk="key")
        # A rollback-journal file: nothing beside it (-wal, -shm) that could be mistaken for
        # the next file's journal after the rename.
        db.execute("PRAGMA journal_mode = DELETE")
    finally:
        db.close()
    swap(draft, served)


def _index_text(db) -> None:
    """Rebuild the full-text indexes from scratch (cheaper than triggers on every import)."""
    for table, columns in SEARCHABLE.items():
        db.table(table).enable_fts(columns, create_triggers=False, replace=True)
        db.table(table).rebuild_fts()


def discard(draft: str | Path) -> None:
    """Remove a draft that will not be published."""
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{draft}{suffix}").unlink(missing_ok=True)
