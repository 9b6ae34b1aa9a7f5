"""The database file: opening it with the pragmas every connection needs, and its schema.

A file records the migrations applied to it (sqlite-utils' ``_sqlite_migrations`` table, set
"finder"); its *schema version* is how many of them it has. The servers serve only a file whose
version is exactly the code's: a file built by an older version lacks columns the code reads (a
500 on every search), and one built by a newer version may lack ones it dropped. They never
migrate the file they serve; ``init-db`` migrates a copy and publishes it.
"""

import functools
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from sqlite_utils import Database

from finder.migrations import migrations
from finder.vocabulary import types


# The fixes a refusal names: migrate a copy of the file and publish it, or rebuild it from the
# registered sources (what `make db` does for data/finder.db).
def _migrate(path) -> str:
    return f"FINDER_DATABASE={path} flask --app finder init-db"


def _rebuild(path) -> str:
    return f"flask --app finder build --output {path}"


class UnservableDatabase(Exception):
    """The database file cannot be served by this version of the code: another schema version,
    no migration record, or not an SQLite file at all. Nothing is written to it."""

    identity: tuple | None = None  # which file was refused (set by the serving side)


@dataclass(frozen=True)
class SchemaVersion:
    """The migrations a file has applied, against those this code defines."""

    applied: tuple[str, ...]
    expected: tuple[str, ...]

    @property
    def missing(self) -> tuple[str, ...]:
        """Migrations of this code the file lacks (it is older)."""
        return tuple(name for name in self.expected if name not in self.applied)

    @property
    def unknown(self) -> tuple[str, ...]:
        """Migrations the file has that this code does not define (it is newer)."""
        return tuple(name for name in self.applied if name not in self.expected)

    @property
    def current(self) -> bool:
        return not self.missing and not self.unknown


def connect(path: str) -> Database:
    """Open the database file with the pragmas every connection needs."""
    conn = sqlite3.connect(path, check_same_thread=False)
    conn.execute("PRAGMA foreign_keys = ON")
    return Database(conn)


def init_db(db: Database) -> None:
    """Apply pending migrations and (re)load the type vocabulary."""
    with db.atomic():
        migrations.apply(db)
    if not _types_loaded(db):
        with db.atomic():
            db.table("types").upsert_all(_type_rows(), pk="code")


def needs_init(path: str | Path) -> bool:
    """Read-only: whether ``init_db`` would change the file at ``path`` (a migration pending or
    the type vocabulary changed), or there is none.

    :raises UnservableDatabase: the file is newer than this code, or not an SQLite file
    """
    if not Path(path).exists():
        return True
    db = _read_only(path)
    try:
        version = schema_version(db)
        if version.unknown:
            raise UnservableDatabase(describe_mismatch(path, version))
        return not (version.current and _types_loaded(db))
    except sqlite3.DatabaseError as error:
        raise UnservableDatabase(_unreadable(path, error)) from None
    finally:
        db.close()


def _read_only(path: str | Path) -> Database:
    return Database(sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True))


def _type_rows() -> list[dict]:
    return [
        {"code": code, "category": t["category"], "name_en": t["en"], "name_es": t["es"]}
        for code, t in types().items()
    ]


def _types_loaded(db: Database) -> bool:
    current = {r["code"]: r for r in db.query("select * from types")}
    return all(current.get(r["code"]) == r for r in _type_rows())


@functools.cache
def expected_migrations() -> tuple[str, ...]:
    """Every migration this code defines, in order (all pending on an empty database)."""
    return tuple(m.name for m in migrations.pending(Database(memory=True)))


def schema_version(db: Database) -> SchemaVersion:
    """Read-only: the migrations ``db`` has applied, against this code's."""
    applied = tuple(m.name for m in migrations.applied(db))
    return SchemaVersion(applied, expected_migrations())


def check_servable(db: Database, path: str | Path) -> SchemaVersion:
    """The file's schema version when this code can serve it (read-only).

    :raises UnservableDatabase: another version, no migration record, or not an SQLite file;
        the message names the file, both versions and the fix
    """
    try:
        version = schema_version(db)
    except sqlite3.DatabaseError as error:  # "file is not a database", a damaged file
        raise UnservableDatabase(_unreadable(path, error)) from None
    if not version.current:
        raise UnservableDatabase(describe_mismatch(path, version))
    return version


def check_servable_file(path: str | Path) -> SchemaVersion:
    """``check_servable`` on the file at ``path``, opened read-only (a start-up check).

    :raises UnservableDatabase: as ``check_servable``, or there is no file at ``path``
    """
    if not Path(path).is_file():
        raise UnservableDatabase(f"{path} is not a file. Build it: {_rebuild(path)} (or `make db`)")
    db = _read_only(path)
    try:
        return check_servable(db, path)
    finally:
        db.close()


def _unreadable(path: str | Path, error: sqlite3.DatabaseError) -> str:
    return (
        f"{path} cannot be read as an SQLite database ({error}). Rebuild it: {_rebuild(path)} "
        f"(or `make db`)"
    )


def describe_mismatch(path: str | Path, version: SchemaVersion) -> str:
    """What is wrong with a file's schema version and how to fix it, for a maintainer."""
    found, expected = len(version.applied), len(version.expected)
    if not version.applied:
        return (
            f"{path} has no record of this site's migrations (schema version 0, this code "
            f"expects {expected}): it is not a Recovery Support Finder database, or an empty "
            f"one. Build it: {_rebuild(path)} (or `make db`)"
        )
    if version.unknown:
        return (
            f"{path} has schema version {found}, newer than this code's {expected} (migrations "
            f"this code does not know: {', '.join(version.unknown)}). Serve it with the version "
            f"of the code that built it, or rebuild it with this one: {_rebuild(path)}"
        )
    return (
        f"{path} has schema version {found}, older than this code's {expected} (missing "
        f"migrations: {', '.join(version.missing)}). Migrate a copy and publish it: "
        f"{_migrate(path)} (the served file is never written), or rebuild it: "
        f"{_rebuild(path)} (or `make db`)"
    )
