"""One Datasette process over a database generation, on a listening socket it inherits.

scripts/serve.py holds the socket and starts this; when a new database file is published it
starts another on the same socket, waits for "ready", then stops this one, which first stops
accepting, then lets the connections it has already accepted send their requests, and answers
them: connections never find the port closed, and none is dropped unanswered. No access log
(it would record query strings and client addresses); the plugins in scripts/datasette_plugins
limit SQL and add the site's security headers. With ``--reports``, the problem reports file is
served too, as the database ``reports``: mutable (the site adds to it), but Datasette only reads
it (read-only connections, SELECT only, and no free SQL on it: data/metadata.yml).

Datasette opens a connection per thread when the thread first needs one, by the file's name: the
file it serves is pinned by a hard link of its own (``.datasette-<pid>.db`` beside it, removed when
it stops), so no connection opened later reads a file published since, even one this code refuses.

Usage: python scripts/datasette_run.py --fd FD --database PATH [--reports PATH]
"""

import argparse
import asyncio
import os
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DRAIN_SECONDS = 3  # how long an accepted connection may take to send its request once we stop
sys.path.insert(0, str(ROOT))

import uvicorn  # noqa: E402
import yaml  # noqa: E402
from datasette.app import Datasette  # noqa: E402
from datasette.database import Database  # noqa: E402

from finder.reports import open_store  # noqa: E402
from finder.store import UnservableDatabase, check_servable_file  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--reports", help="the problem reports database (served read-only)")
    args = parser.parse_args()
    pinned = pin(Path(args.database))
    os.environ["FINDER_SERVED_DATABASE"] = str(Path(args.database).resolve())  # its side records
    try:
        check_servable_file(pinned)
    except UnservableDatabase as error:
        pinned.unlink()
        print(f"datasette_run.py: {error}", file=sys.stderr)
        return 2
    try:
        datasette = Datasette(
            metadata=yaml.safe_load((ROOT / "data" / "metadata.yml").read_text()),
            plugins_dir=str(ROOT / "scripts" / "datasette_plugins"),
        )
        served = Database(datasette, path=str(pinned), is_mutable=False)
        datasette.add_database(served, name=Path(args.database).stem)
        if args.reports:
            add_reports(datasette, args.reports)
        config = uvicorn.Config(
            datasette.app(), access_log=False, log_level="warning", lifespan="on", workers=1
        )
        asyncio.run(_serve(DrainingServer(config), socket.socket(fileno=args.fd), datasette))
    finally:
        pinned.unlink(missing_ok=True)
    return 0


def pin(database: Path) -> Path:
    """A hard link to the file at ``database`` now, of this process's own, after removing those
    of Datasettes no longer running (a crash leaves its link behind)."""
    for stale in database.parent.glob(".datasette-*.db"):
        if not _running(stale.stem.removeprefix(".datasette-")):
            stale.unlink(missing_ok=True)
    pinned = database.parent / f".datasette-{os.getpid()}.db"
    pinned.unlink(missing_ok=True)
    os.link(database, pinned)
    return pinned


def _running(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:  # another user's process
        return True
    return True


def add_reports(datasette: Datasette, path: str) -> None:
    """Serve the problem reports file as ``reports`` (whatever its file is called, so that
    data/metadata.yml applies), creating it first when no report was made yet."""
    open_store(path).close()
    datasette.add_database(Database(datasette, path=str(path), is_mutable=True), name="reports")


class DrainingServer(uvicorn.Server):
    """uvicorn, stopping without dropping connections it accepted from the shared socket.

    uvicorn's shutdown closes at once every connection that has not sent a whole request yet.
    The socket is shared with the newer Datasette, so this process may have accepted a
    connection a moment before being told to stop: it would close it unanswered."""

    async def shutdown(self, sockets=None) -> None:
        for server in self.servers:
            server.close()  # the newer Datasette takes every new connection from here on
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DRAIN_SECONDS
        while _waiting_for_a_request(self.server_state.connections) and loop.time() < deadline:
            await asyncio.sleep(0.05)
        await super().shutdown(sockets)


def _waiting_for_a_request(connections) -> bool:
    """Whether a connection is open that has not sent (all of) its first request yet."""
    return any(getattr(connection, "cycle", None) is None for connection in connections)


async def _serve(server: uvicorn.Server, listening: socket.socket, datasette) -> None:
    await datasette.invoke_startup()
    serving = asyncio.create_task(server.serve(sockets=[listening]))
    while not server.started and not serving.done():
        await asyncio.sleep(0.05)
    print("ready", flush=True)
    os.dup2(2, 1)  # nothing more on the pipe serve.py reads
    await serving


if __name__ == "__main__":
    sys.exit(main())
