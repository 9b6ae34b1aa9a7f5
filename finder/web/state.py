"""Request state, as flaskr's db.py, over generations of the database file.

A *generation* is one published database file: publishers build a new file and ``os.replace()``
it onto the served path, never writing in place. Each request pins the generation current when
it first needs data, and takes both its search index and its listing details from that one file,
even if another is published meanwhile. A generation keeps its own read connections (an open
SQLite connection keeps reading the file it opened, whatever the path names later), lends one to
each request and closes them once it is replaced and no request uses it. The first request to
see a new file opens its index; the others keep answering from the previous generation until
it is ready. The index is built once per file, by whichever process needs it first, and stored
beside it; every process maps it from there (finder/search/sidecar.py), so workers share its
pages and a new worker starts in about a second however large the data.
"""

import logging
import os
import sqlite3
import threading
import time
from urllib.parse import quote

from flask import current_app, g
from sqlite_utils import Database

from finder.search.coverage import Coverage
from finder.search.index import SearchIndex
from finder.search.sidecar import FileReplaced, identity, open_index
from finder.store import UnservableDatabase, check_servable

log = logging.getLogger("finder")  # the app's logger (Flask names it after the app)
# Seconds a request waits for a connection to a generation kept over a refused file (requests
# give theirs back within milliseconds; a worker forked meanwhile has none to wait for).
KEPT_WAIT = 5


class Memo:
    """Values derived from one generation's data, kept while it is served: a generation never
    changes, so nothing in here goes stale. Bounded: past ``size`` entries the oldest half goes.
    Plain dict operations, so threads may share it (a race only computes a value twice)."""

    def __init__(self, size: int):
        self.size = size
        self._values: dict = {}

    def get(self, key):
        return self._values.get(key)

    def put(self, key, value):
        if len(self._values) >= self.size:
            for old in list(self._values)[: self.size // 2]:
                self._values.pop(old, None)
        self._values[key] = value
        return value

    def each(self, keys, fetch, missing=None) -> dict:
        """The values of keys, those not kept yet read together by ``fetch(keys) -> dict`` (a
        key it leaves out gets ``missing``)."""
        found = {key: value for key in keys if (value := self.get(key)) is not None}
        wanted = [key for key in dict.fromkeys(keys) if key not in found]
        fetched = fetch(wanted) if wanted else {}
        for key in wanted:
            found[key] = self.put(key, fetched.get(key, missing))
        return found


class Replaced(Exception):
    """The path names another file now: this generation cannot open new connections."""


class Generation:
    """One database file: its index, its coverage, and read connections to exactly it."""

    def __init__(self, path: str):
        self.path = path
        self._lock = threading.Lock()
        self._free: list[Database] = []
        self._users = 0
        self._retired = False
        self._coverage: Coverage | None = None
        self._pid = os.getpid()
        self._memos: dict[str, Memo] = {}
        for _ in range(10):  # a publisher may replace the file while we open it
            self.identity = identity(os.stat(path))
            try:
                db = self._open()
            except Replaced:
                continue
            refuse_unservable(db, path, self.identity)
            try:
                self.index, self._coverage, self.origin = open_index(path, db, self.identity)
            except FileReplaced:
                db.close()
                continue
            except BaseException:  # closed now: a traceback may outlive the request
                db.close()
                raise
            break
        else:
            raise RuntimeError(f"{path} kept changing while it was opened")
        self._free.append(db)

    def _open(self) -> Database:
        """A new read-only connection, checked to be this generation's file."""
        conn = sqlite3.connect(
            f"file:{quote(self.path)}?mode=ro", uri=True, check_same_thread=False
        )
        try:
            conn.execute("select count(*) from sqlite_master").fetchone()  # the file is open now
            if self.replaced():
                raise Replaced(self.path)
        except BaseException:
            conn.close()
            raise
        return Database(conn)

    def replaced(self) -> bool:
        """Whether the path names another file than this generation's now (or none)."""
        return identity_at(self.path) != self.identity

    def memo(self, name: str, size: int) -> Memo:
        """This generation's memo of one kind (created on first use)."""
        found = self._memos.get(name)
        if found is None:
            found = self._memos.setdefault(name, Memo(size))
        return found

    @property
    def coverage(self) -> Coverage:
        """Where this generation has local meeting lists."""
        return self._coverage

    def lend(self) -> Database:
        """A connection for one request (pins the generation); raises Replaced when there is
        none free and the file at the path is another one now."""
        with self._lock:
            if self._pid != os.getpid():  # a forked worker: never share the parent's connections
                self._free, self._pid = [], os.getpid()
            if self._free:
                self._users += 1
                return self._free.pop()
        db = self._open()
        with self._lock:
            self._users += 1
        return db

    def give_back(self, db: Database | None) -> None:
        """The request is over: its connection goes back (None: it was closed), or is closed if
        we are replaced."""
        with self._lock:
            self._users -= 1
            if db is not None:
                self._free.append(db)
            self._close_if_unused()

    @property
    def stale(self) -> bool:
        """No request uses this generation and its file is replaced."""
        return self._users == 0 and self.replaced()

    def retire(self) -> None:
        """A newer file is published: close this one's connections once no request uses it."""
        with self._lock:
            self._retired = True
            self._close_if_unused()

    def _close_if_unused(self) -> None:
        if self._retired and self._users == 0:
            for db in self._free:
                db.close()
            self._free.clear()

    @property
    def closed(self) -> bool:
        return self._retired and self._users == 0


class Published:
    """The generation currently published at a path, for one process."""

    def __init__(self, path: str):
        self.path = path
        self.current: Generation | None = None
        self._building = threading.Lock()
        self.refused: UnservableDatabase | None = None  # the last file this code cannot serve
        self._refusing = threading.Lock()

    def lend(self) -> tuple[Generation, Database]:
        """The current generation and one of its connections, for one request."""
        wait = False
        for _ in range(10):
            generation = self.current_generation(wait)
            try:
                return generation, generation.lend()
            except Replaced:  # no free connection to the old file: wait for the new one
                if self.refused is not None and generation is self.current:
                    return self._lend_kept()
                wait = True
        raise RuntimeError(f"{self.path} kept changing")

    def hold_connections(self, count: int) -> None:
        """Open ``count`` read connections to the current generation in this process (a worker
        just forked holds none): once a file this code refuses is published, the path names it
        and no new connection to the current generation can be opened, so a process answers
        from it only with the connections it holds (up to ``count`` requests at once)."""
        lent = []
        try:
            for _ in range(count):
                lent.append(self.lend())
        finally:
            for generation, db in lent:
                generation.give_back(db)

    def _lend_kept(self) -> tuple[Generation, Database]:
        """A connection once one is free, while the current generation is kept over a refused
        file (it cannot open more: its path names the refused file), or one to a servable file
        published meanwhile.

        :raises UnservableDatabase: none came free within KEPT_WAIT (a 503, never a 500)
        """
        deadline = time.monotonic() + KEPT_WAIT
        while time.monotonic() < deadline:
            time.sleep(0.005)
            generation = self.current_generation(wait=True)
            try:
                return generation, generation.lend()
            except Replaced:
                continue
        raise self.refused or RuntimeError(f"{self.path} kept changing")

    def give_back(self, generation: Generation, db: Database | None) -> None:
        """A request's connection back to its generation.

        The last request to end looks at the path too. A file replaced while requests read it
        may be noticed by no later request (none comes, or the request building the next
        generation opened a file replaced meanwhile): it would stay open, as the current
        generation, until one comes. So the new file's generation is opened now, in the
        background (the old one answers meanwhile), and the old one is closed.
        """
        generation.give_back(db)
        if generation is self.current and not self._building.locked() and generation.stale:
            if not self._refused_at_path():  # kept over a refused file on purpose
                threading.Thread(target=self.current_generation, daemon=True).start()

    def _refused_at_path(self) -> bool:
        refused = self.refused
        return refused is not None and refused.identity == identity_at(self.path)

    def current_generation(self, wait: bool = False) -> Generation:
        """The current generation; a new one when the file at the path has changed (built by
        one request while the others use the old one, unless they ``wait``). A new file this
        code cannot serve (another schema version), or no file at all, is refused once, logged
        once, and the previous generation goes on serving until a servable file is published.

        :raises UnservableDatabase: the file is refused (or missing) and no earlier one was
            served
        """
        refused = self.refused
        if refused is not None and refused.identity == identity_at(self.path):
            return self._instead_of(refused)
        try:
            try:
                return self._latest_generation(wait)
            except FileNotFoundError as gone:  # removed (by hand: a publish only replaces it)
                raise MissingDatabase(f"{self.path}: no database file there") from gone
        except UnservableDatabase as error:
            with self._refusing:  # requests racing to the same file log it once
                first = self.refused is None or self.refused.identity != error.identity
                self.refused = error
            if first:
                still = "; still serving the file published before it" if self.current else ""
                log.error("Database file refused: %s%s", error, still)
            return self._instead_of(error)

    def _instead_of(self, refused: UnservableDatabase) -> Generation:
        if self.current is None:
            raise refused
        return self.current

    def _latest_generation(self, wait: bool) -> Generation:
        current = self.current
        if current is not None and current.identity == identity(os.stat(self.path)):
            return current
        # One request builds the new generation; meanwhile the others answer from the old one.
        if not self._building.acquire(blocking=wait or current is None):
            return current
        try:
            current = self.current
            if current is None or current.identity != identity(os.stat(self.path)):
                self.current = Generation(self.path)
                if current is not None:
                    current.retire()
            return self.current
        finally:
            self._building.release()


def identity_at(path: str) -> tuple | None:
    """The identity of the file at ``path`` now; None when there is none."""
    try:
        return identity(os.stat(path))
    except FileNotFoundError:
        return None


class MissingDatabase(UnservableDatabase):
    """No file at the database's path (its identity is None: no file)."""


def refuse_unservable(db: Database, path: str, file_identity: tuple) -> None:
    """Close ``db`` and raise when this code cannot serve its file (another schema version):
    a served file is never migrated in place (finder/store.py).

    :raises UnservableDatabase: naming the file, its version, the expected one and the fix
    """
    try:
        check_servable(db, path)
    except UnservableDatabase as error:
        db.close()
        error.identity = file_identity
        raise


_PUBLISHING = threading.Lock()  # creating an app's Published (once per app and path)


def published(app) -> Published:
    """The app's published database (created on first use)."""
    holder = app.extensions.get("finder_published")
    if holder is not None and holder.path == app.config["DATABASE"]:
        return holder
    with _PUBLISHING:
        holder = app.extensions.get("finder_published")
        if holder is None or holder.path != app.config["DATABASE"]:
            holder = app.extensions["finder_published"] = Published(app.config["DATABASE"])
        return holder


def _lent() -> tuple[Generation, Database]:
    """This request's generation and connection, taken together on first use."""
    if "generation" not in g:
        g.generation, g.db = published(current_app).lend()
        g.db.execute("BEGIN")
    return g.generation, g.db


def get_db() -> Database:
    """The request's database connection, to its generation's file.

    Pages only read. One read transaction per request gives them a consistent view and spares
    each query its own lock and file check (sqlite-utils wraps every query in a savepoint).
    """
    return _lent()[1]


def get_index() -> SearchIndex:
    """The search index of the request's generation."""
    return _lent()[0].index


def get_coverage() -> Coverage:
    """Where the request's generation has local meeting lists."""
    return _lent()[0].coverage


def get_written() -> float:
    """When the request's generation's file was written (seconds since the epoch)."""
    return _lent()[0].identity[2] / 1e9


def get_memo(name: str, size: int = 20_000) -> Memo:
    """The request's generation's memo of one kind: listing details, rendered cards, counts."""
    return _lent()[0].memo(name, size)


def close_db(_error=None) -> None:
    """End the request's read transaction and give its connection back to its generation."""
    generation, db = g.pop("generation", None), g.pop("db", None)
    if generation is not None:
        try:
            db.conn.rollback()
        except sqlite3.Error:  # not pooled in a state nobody knows
            db.close()
            db = None
        published(current_app).give_back(generation, db)


def init_app(app) -> None:
    """Register teardown with the app."""
    app.teardown_appcontext(close_db)
