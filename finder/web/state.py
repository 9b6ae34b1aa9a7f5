"""Request state, as flaskr's db.py: one read connection per request and the search index of
the database file being served."""

import threading
from pathlib import Path

from flask import current_app, g
from sqlite_utils import Database

from finder.search.index import SearchIndex
from finder.store import connect


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
