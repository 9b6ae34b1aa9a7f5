"""Database connections: one per request in the web app, one per command in the CLI."""

import sqlite3
import threading

from flask import current_app, g
from sqlite_utils import Database

from .migrations import migrations
from .vocabulary import types


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


def get_db() -> Database:
    """The request's database connection, opened on first use.

    Pages only read. One read transaction per request gives them a consistent view and spares
    each query its own lock and file check (sqlite-utils wraps every query in a savepoint).
    """
    if "db" not in g:
        g.db = connect(current_app.config["DATABASE"])
        g.db.execute("BEGIN")
    return g.db


def close_db(_error=None) -> None:
    """End the request's read transaction and close its connection, if one was opened."""
    db = g.pop("db", None)
    if db is not None:
        db.conn.rollback()
        db.close()


def init_app(app) -> None:
    """Register teardown with the app."""
    app.teardown_appcontext(close_db)


def get_index():
    """The search index for the app's database, rebuilt when the database file changes."""
    from pathlib import Path

    from .search_index import SearchIndex

    path = current_app.config["DATABASE"]
    stamp = Path(path).stat().st_mtime_ns
    lock = current_app.extensions.setdefault("finder_index_lock", threading.Lock())
    with lock:  # concurrent first requests build the index once, not once each
        cached = current_app.extensions.get("finder_index")
        if cached is None or cached[0] != (path, stamp):
            with connect(path) as db_connection:
                index = SearchIndex.from_db(db_connection)
            cached = current_app.extensions["finder_index"] = ((path, stamp), index)
    return cached[1]
