"""A database file's search index, built once, stored beside the file and mapped by every process.

At 1M meetings an index takes 20-30 s and about 1.8 GB to build; with every server process
building its own for each published file, workers started slowly and held a copy each. Instead
the first process to need a file's index builds it (under a lock beside the file, so only one
does), writes its arrays as ``.npy`` files into a folder named after the file's identity (device,
inode, modification time, size and a digest of its SQLite header) and renames the folder into
place, so that nobody sees half of it. Every process then maps the arrays copy-on-write
(``np.load(mmap_mode="c")``): their pages are shared through the page cache, and the compiled
kernels see writeable arrays of the same types as a built index's, so nothing compiles again.

Names (zones, programs) and small values are kept in ``meta.json`` with each array's type, shape
and CRC-32; a folder that does not match in every respect is ignored and rebuilt, never used.
Service areas (a few dozen shapes, prepared with shapely) are read from the database again.
Folders of files no longer at the path are removed by whoever builds next. Where nothing can be
written beside the file, the index is built in memory as before.

A publisher stores the index of its new file before renaming it onto the served path
(``store_beside``: a rename keeps the identity the key is made of), so after a refresh under a
running server every worker only maps it; none builds one (a minute and 1.5 GB at 1M meetings).

    data/finder.db
    data/.finder.db.index/lock
    data/.finder.db.index/<key>/meta.json, ids.npy, near.key.npy, ...
"""

import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote

import numpy as np
from sqlite_utils import Database

from finder.search.coverage import Coverage
from finder.search.index import SearchIndex, service_areas
from finder.search.online import Regime

FORMAT = 1  # the layout of a sidecar folder; another value is ignored and rebuilt
SQLITE_HEADER = 100  # bytes: page size, file change counter, page count, schema cookie, ...


class FileReplaced(Exception):
    """The path names another file than the one being opened."""


class Opened(NamedTuple):
    """What a generation needs of its file, and how the index came: "mapped", "built" (and
    stored) or "in memory"."""

    index: SearchIndex
    coverage: Coverage
    how: str


def identity(stat: os.stat_result) -> tuple:
    """What tells one published file from another at the same path."""
    return (stat.st_dev, stat.st_ino, stat.st_mtime_ns, stat.st_size)


def folder_of(path: str | Path) -> Path:
    """The folder beside a database file that holds its stored indexes."""
    path = Path(path)
    return path.with_name(f".{path.name}.index")


def open_index(path: str | Path, db: Database, expected: tuple) -> Opened:
    """The search index and coverage of the file at ``path``, which ``db`` reads and whose
    ``identity`` is ``expected``: mapped from what is stored beside it, else built, stored and
    mapped; built in memory when nothing can be stored beside it (or the file was replaced
    while this process waited for the builder's lock).

    :raises FileReplaced: the path names another file than ``expected`` already
    """
    key = file_key(path, expected)
    folder = folder_of(path)
    found = load(folder / key, key, db)
    if found is not None:
        _tidy(path, key)
        return Opened(*found, "mapped")
    built = None
    try:
        with _locked(folder):
            found = load(folder / key, key, db)  # another process may have stored it meanwhile
            if found is not None:
                return Opened(*found, "mapped")
            built = SearchIndex.from_db(db), Coverage.from_db(db)
            if _current_key(path) == key:  # (one replaced meanwhile is not worth storing)
                store(*built, folder, key)
                _remove_others(folder, key)
                found = load(folder / key, key, db)
    except OSError:  # nothing can be written beside the file (permissions, a full disk)
        found = None
    if found is not None:
        return Opened(*found, "built")
    return Opened(*(built or (SearchIndex.from_db(db), Coverage.from_db(db))), "in memory")


def file_key(path: str | Path, expected: tuple) -> str:
    """The name of the stored index of the file at path, checked to be the expected file."""
    with open(path, "rb") as handle:
        if identity(os.fstat(handle.fileno())) != expected:
            raise FileReplaced(str(path))
        header = handle.read(SQLITE_HEADER)
    digest = hashlib.sha256(header).hexdigest()[:16]
    return "-".join(f"{number:x}" for number in expected) + f"-{digest}"


def is_stored(path: str | Path) -> bool:
    """Whether an index of the file now at ``path`` is stored beside it (not checked here)."""
    key = _current_key(path)
    return key is not None and (folder_of(path) / key / "meta.json").is_file()


def _current_key(path: str | Path) -> str | None:
    try:
        return file_key(path, identity(os.stat(path)))
    except (FileNotFoundError, FileReplaced):
        return None


def store(index: SearchIndex, coverage: Coverage, folder: Path, key: str) -> None:
    """Write the index's arrays and values into ``folder/key``, all at once (a renamed folder),
    with the coverage and the fast online path's tables for this year's offsets."""
    arrays, plain = index.stored_parts()
    plain["coverage"] = {s: sorted(p) for s, p in coverage.programs_by_state.items()}
    plain["regimes"] = []
    for number, (offsets, regime) in enumerate(_regimes(index).items()):
        plain["regimes"].append(offsets.hex())
        arrays.update({f"regime.{number}.{n}": a for n, a in regime._asdict().items()})
    draft = Path(tempfile.mkdtemp(prefix=f"{key}.", suffix=".tmp", dir=folder))
    try:
        described = {}
        for name, array in arrays.items():
            array = np.ascontiguousarray(array)
            np.save(draft / f"{name}.npy", array, allow_pickle=False)
            described[name] = {
                "dtype": array.dtype.str,
                "shape": list(array.shape),
                "crc32": zlib.crc32(array),
            }
        meta = {"format": FORMAT, "key": key, "arrays": described, **plain}
        meta["digest"] = _digest(meta)
        (draft / "meta.json").write_text(json.dumps(meta))
        target = folder / key
        if target.exists():  # a damaged one (it did not load): replace it
            shutil.rmtree(target)
        os.rename(draft, target)
    except BaseException:
        shutil.rmtree(draft, ignore_errors=True)
        raise


def load(place: Path, key: str, db: Database) -> tuple[SearchIndex, Coverage] | None:
    """The index (mapped) and coverage stored at ``place``; None when missing or not matching."""
    found = _read(place, key)
    if found is None:
        return None
    meta, arrays = found
    try:
        index = SearchIndex.from_stored(arrays, meta, service_areas(db))
        for number, offsets in enumerate(meta["regimes"]):
            regime = Regime(*(arrays[f"regime.{number}.{n}"] for n in Regime._fields))
            _regimes(index)[bytes.fromhex(offsets)] = regime
        coverage = Coverage({s: frozenset(p) for s, p in meta["coverage"].items()})
    except (ValueError, KeyError, TypeError, AttributeError):  # not ours
        return None
    index.warm_up()
    return index, coverage


def _read(place: Path, key: str) -> tuple[dict, dict[str, np.ndarray]] | None:
    """The values and the mapped arrays stored at ``place``, when every one is as written."""
    try:
        meta = json.loads((place / "meta.json").read_text())
        if meta.get("format") != FORMAT or meta.get("key") != key:
            return None
        if meta.pop("digest", None) != _digest(meta):  # names and checksums as written
            return None
        arrays = {}
        for name, described in meta["arrays"].items():
            array = _mapped(place / f"{name}.npy")
            if (
                array.dtype.str != described["dtype"]
                or list(array.shape) != described["shape"]
                or zlib.crc32(array) != described["crc32"]
            ):
                return None
            arrays[name] = array
    except (OSError, ValueError, KeyError, TypeError, AttributeError):  # missing, cut, not ours
        return None
    return meta, arrays


def store_beside(draft: str | Path, served: str | Path) -> str:
    """Store the index of a finished ``draft`` where readers of ``served`` look for it, before
    the draft is renamed onto ``served``: "stored", "present" (stored already), or "not stored"
    where no server has stored an index beside ``served`` yet (the first to open it builds it, as
    at the first `make run`) or nothing can be written there."""
    draft, served = Path(draft), Path(served)
    if not folder_of(served).is_dir():
        return "not stored"
    key = file_key(draft, identity(os.stat(draft)))
    try:
        with _locked(folder_of(served)):
            if _read(folder_of(served) / key, key) is not None:
                return "present"
            db = Database(sqlite3.connect(f"file:{quote(str(draft))}?mode=ro", uri=True))
            try:
                store(SearchIndex.from_db(db), Coverage.from_db(db), folder_of(served), key)
            finally:
                db.close()
    except OSError:
        return "not stored"
    return "stored"


def _regimes(index: SearchIndex) -> dict:
    """The fast online path's tables, by zone offsets (none without a fast path)."""
    return index.online_fast.regimes if index.online_fast is not None else {}


def _digest(meta: dict) -> str:
    return hashlib.sha256(json.dumps(meta, sort_keys=True).encode()).hexdigest()


def _mapped(path: Path) -> np.ndarray:
    """An array file mapped copy-on-write, as a plain writeable ndarray (what the kernels were
    compiled for: a read-only array is another type to numba). Nothing writes to it; if
    something did, only that process's copy of the page would change."""
    array = np.load(path, mmap_mode="c", allow_pickle=False)
    return array.view(np.ndarray)


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """The folder, created if need be, with its builder's lock held (waits for another)."""
    folder.mkdir(exist_ok=True)
    with open(folder / "lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_others(folder: Path, keep: str) -> None:
    """Remove stored indexes of other files, and drafts a stopped builder left (lock held),
    except those of files newer than ``keep``'s (a publisher stores its file's index just before
    renaming the file onto the path). A process that still maps one keeps its pages: removing a
    file only removes its name."""
    for entry in folder.iterdir():
        if entry.name in (keep, "lock") or _modified(entry.name) > _modified(keep):
            continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def _modified(key: str) -> int:
    """The modification time (ns) of the file a stored index's name belongs to; -1 for a name
    that is not one (a builder's draft folder)."""
    parts = key.split("-")
    try:
        return int(parts[2], 16) if len(parts) == 5 and len(parts[4]) == 16 else -1
    except ValueError:
        return -1


def _tidy(path: str | Path, key: str) -> None:
    """Remove others' stored indexes when this one's file is the one at the path (they are
    stale) and no builder is at work; otherwise leave it to the next builder."""
    folder = folder_of(path)
    try:
        if len(os.listdir(folder)) <= 2:  # the lock and this one
            return
        with open(folder / "lock", "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return
            try:
                if _current_key(path) == key:
                    _remove_others(folder, key)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    except OSError:
        return
