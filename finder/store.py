"""The database file: opening it with the pragmas every connection needs, and its schema."""

import sqlite3

from sqlite_utils import Database

from finder.migrations import migrations
from finder.vocabulary import types


def connect(path: str) -> Database:
    """Open the database file with the pragmas every connection needs."""
    conn = sqlite3.connect(path, check_same_thread=False)
    conn.execute("PRAGMA foreign_keys = ON")
    return Database(conn)


def init_db(db: Database) -> None:
    """Apply pending migrations and (re)load the type vocabulary."""
    with db.atomic():
        migrations.apply(db)
    rows = [
        {"code": code, "category": t["category"], "name_en": t["en"], "name_es": t["es"]}
        for code, t in types().items()
    ]
    current = {r["code"]: r for r in db.query("select * from types")}
    if any(current.get(r["code"]) != r for r in rows):
        with db.atomic():
            db.table("types").upsert_all(rows, pk="code")
