"""Publishing a database file: never write into the served file; build a new one beside it and
``os.replace`` it onto the served path, so a reader sees the old file or the new one, never half.

This is the contract every writer follows (``import``, ``import-file``, ``build``, ``refresh``);
the serving side notices the new file and reloads.
"""

import os
import sqlite3
import tempfile
from pathlib import Path

from finder.store import connect, init_db


def draft_copy(served: str | Path) -> Path:
    """A private copy of the served database beside it (same filesystem, so the swap is atomic),
    migrated; a new empty database when nothing is served yet."""
    served = Path(served)
    handle, name = tempfile.mkstemp(prefix=f".{served.name}.", suffix=".tmp", dir=served.parent)
    os.close(handle)
    draft = Path(name)
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


def publish(draft: str | Path, served: str | Path) -> None:
    """Swap a finished draft onto the served path in one atomic rename."""
    db = sqlite3.connect(draft)
    try:
        # A rollback-journal file: nothing beside it (-wal, -shm) that could be mistaken for
        # the next file's journal after the rename.
        db.execute("PRAGMA journal_mode = DELETE")
    finally:
        db.close()
    os.replace(draft, served)


def discard(draft: str | Path) -> None:
    """Remove a draft that will not be published."""
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{draft}{suffix}").unlink(missing_ok=True)
