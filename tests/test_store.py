"""The database file's schema version (finder/store.py): which files this code serves, what a
refusal says, and `init-db` migrating a copy that it publishes, never the served file."""

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from finder import create_app
from finder.migrations import migrations
from finder.store import (
    UnservableDatabase,
    check_servable_file,
    connect,
    expected_migrations,
)

EXPECTED = len(expected_migrations())
# The last two migrations of this code; a file built before them is "older".
LATER = ("add_source_office_phone", "index_resources_by_source")


def older(path: Path) -> Path:
    """What a version of the code from before the sources' office line built: no such column,
    no index by source, and no record of those two migrations."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("DROP INDEX IF EXISTS resources_source_status")
        conn.execute("ALTER TABLE sources DROP COLUMN office_phone")
        conn.execute(
            "DELETE FROM _sqlite_migrations WHERE name IN (?, ?)",
            LATER,
        )
    conn.close()
    return path


def newer(path: Path) -> Path:
    """What a later version of the code built: one migration this code does not know."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
            "VALUES ('finder', 'add_something_later', '2027-01-01')"
        )
    conn.close()
    return path


def empty_sqlite(path: Path) -> Path:
    sqlite3.connect(path).execute("create table t (x)").connection.close()
    return path


def not_sqlite(path: Path) -> Path:
    path.write_bytes(b"this is not a database\n" * 100)
    return path


def current(path: Path) -> Path:
    return path


@pytest.mark.parametrize(
    "make, message",
    [
        (older, f"schema version {EXPECTED - 2}, older than this code's {EXPECTED} (missing "
         f"migrations: {', '.join(LATER)})"),
        (newer, f"schema version {EXPECTED + 1}, newer than this code's {EXPECTED} (migrations "
         "this code does not know: add_something_later)"),
        (empty_sqlite, f"no record of this site's migrations (schema version 0, this code "
         f"expects {EXPECTED})"),
        (not_sqlite, "cannot be read as an SQLite database (file is not a database)"),
    ],
    ids=["older", "newer", "no-record", "not-sqlite"],
)  # fmt: skip
def test_a_file_of_another_schema_is_refused_with_its_version_and_the_fix(
    tmp_path, db_path, make, message
):
    path = make(db_path if make in (older, newer) else tmp_path / "other.db")
    before = path.read_bytes()
    with pytest.raises(UnservableDatabase) as refused:
        check_servable_file(path)
    text = str(refused.value)
    assert text.startswith(str(path)) and message in text
    assert f"flask --app finder build --output {path}" in text
    if make is older:
        assert f"FINDER_DATABASE={path} flask --app finder init-db" in text
    assert path.read_bytes() == before  # checked read-only


def test_a_current_file_is_served(db_path):
    version = check_servable_file(db_path)
    assert version.current and len(version.applied) == EXPECTED


def test_no_file_is_refused(tmp_path):
    for path in (tmp_path / "missing.db", tmp_path):
        with pytest.raises(UnservableDatabase, match="is not a file. Build it: flask --app"):
            check_servable_file(path)


def test_the_expected_versions_are_every_migration_in_order():
    db = connect(":memory:")
    migrations.apply(db)
    assert tuple(m.name for m in migrations.applied(db)) == expected_migrations()
    assert expected_migrations()[-2:] == LATER


# ---- init-db: a migrated copy, published ------------------------------------------------------


def _init_db(path: Path):
    app = create_app({"TESTING": True, "DATABASE": str(path)})
    return app.test_cli_runner().invoke(args=["init-db"])


def test_init_db_publishes_a_migrated_copy_and_never_writes_the_served_file(db_path, db):
    db.table("sources").insert({"id": "kept", "name": "A source that must survive"})
    db.close()
    older(db_path)
    inode = os.stat(db_path).st_ino
    reader = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)  # a server holding the file
    reader.execute("select count(*) from sources").fetchone()

    result = _init_db(db_path)
    assert result.exit_code == 0, result.output
    assert f"schema version {EXPECTED}: {db_path} (a migrated copy published" in result.output
    assert os.stat(db_path).st_ino != inode  # a new file in its place
    assert check_servable_file(db_path).current
    with connect(str(db_path)) as migrated:
        assert migrated.execute("select name, office_phone from sources").fetchall() == [
            ("A source that must survive", None)
        ]
    # The file the reader holds was never written: still the older schema.
    columns = [row[1] for row in reader.execute("pragma table_info(sources)")]
    assert "office_phone" not in columns
    reader.close()

    again = _init_db(db_path)
    inode = os.stat(db_path).st_ino
    assert again.exit_code == 0 and "(nothing to do)" in again.output
    assert os.stat(db_path).st_ino == inode


def test_init_db_creates_a_missing_file(tmp_path):
    path = tmp_path / "new.db"
    assert _init_db(path).exit_code == 0
    assert check_servable_file(path).current


@pytest.mark.parametrize("make", [newer, not_sqlite], ids=["newer", "not-sqlite"])
def test_init_db_refuses_a_file_it_cannot_make_servable_and_leaves_it(tmp_path, db_path, make):
    path = make(db_path if make is newer else tmp_path / "other.db")
    kept = tmp_path / "kept"
    shutil.copyfile(path, kept)
    stat = os.stat(path)
    result = _init_db(path)
    assert result.exit_code == 1
    assert "newer than this code's" in result.output or "cannot be read" in result.output
    assert (os.stat(path).st_ino, os.stat(path).st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)
    assert path.read_bytes() == kept.read_bytes()
