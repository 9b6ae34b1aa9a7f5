"""Datasette for the public: SQL that cannot exhaust the machine, and the site's headers.

Every connection gets SQLite limits: no string or blob over ``MAX_LENGTH`` (``zeroblob(1e9)``
fails at once instead of allocating a gigabyte), no SQL text over ``MAX_SQL``, and the process a
hard heap limit. Datasette's own time limit (1 s) stops long queries between rows, but not one
function call: ``printf('%.*c', 9e8, 'x')`` loops 900 million times inside SQLite even when its
result is too long to keep, so ``printf`` and ``format`` are replaced by a version that refuses
widths and precisions over ``MAX_LENGTH`` and otherwise asks SQLite's own.
"""

import re
import sqlite3
import threading

from datasette import hookimpl

from finder.web.headers import COMMON, content_policy

MAX_LENGTH = 5_000_000  # bytes in one string or blob
MAX_SQL = 100_000  # characters of SQL
HEAP_LIMIT = 512 * 1024 * 1024  # bytes SQLite may allocate in this process

HEADERS = [
    (b"content-security-policy", content_policy(inline=True).encode()),
    *((name.lower().encode(), value.encode()) for name, value in COMMON.items()),
]


_NUMBERS = re.compile(r"\d+")
_own = threading.local()


class TooWide(ValueError):
    """A printf width or precision over MAX_LENGTH."""


def _limit(conn: sqlite3.Connection) -> sqlite3.Connection:
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_LENGTH)
    conn.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, MAX_SQL)
    return conn


def bounded_printf(form, *args):
    """SQLite's printf, refusing any width or precision (written, or given by ``*``) over
    MAX_LENGTH."""
    if form is None:
        return None
    form = str(form)
    written = (int(n) for n in _NUMBERS.findall(form))
    given = (a for a in args if "*" in form and isinstance(a, int | float))
    if any(abs(n) > MAX_LENGTH for n in (*written, *given)):
        raise TooWide(f"printf widths over {MAX_LENGTH} are not allowed")
    if not hasattr(_own, "conn"):
        _own.conn = _limit(sqlite3.connect(":memory:"))
    marks = ", ".join("?" * (len(args) + 1))
    return _own.conn.execute(f"select printf({marks})", (form, *args)).fetchone()[0]


@hookimpl
def prepare_connection(conn):
    _limit(conn)
    conn.execute(f"PRAGMA hard_heap_limit = {HEAP_LIMIT}")
    for name in ("printf", "format"):
        conn.create_function(name, -1, bounded_printf, deterministic=True)


@hookimpl
def asgi_wrapper():
    def wrap(app):
        async def with_headers(scope, receive, send):
            async def sending(event):
                if event["type"] == "http.response.start":
                    names = {name for name, _ in HEADERS}
                    kept = [(k, v) for k, v in event.get("headers", []) if k.lower() not in names]
                    event = {**event, "headers": kept + HEADERS}
                await send(event)

            await app(scope, receive, sending)

        return with_headers

    return wrap
