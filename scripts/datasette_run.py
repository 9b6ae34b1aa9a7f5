"""One Datasette process over a database generation, on a listening socket it inherits.

scripts/serve.py holds the socket and starts this; when a new database file is published it
starts another on the same socket, waits for "ready", then stops this one, which finishes the
requests it has: connections never find the port closed. No access log (it would record query
strings and client addresses); the plugins in scripts/datasette_plugins limit SQL and add the
site's security headers.

Usage: python scripts/datasette_run.py --fd FD --database PATH
"""

import argparse
import asyncio
import os
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import uvicorn  # noqa: E402
import yaml  # noqa: E402
from datasette.app import Datasette  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--database", required=True)
    args = parser.parse_args()
    datasette = Datasette(
        immutables=[args.database],
        metadata=yaml.safe_load((ROOT / "data" / "metadata.yml").read_text()),
        plugins_dir=str(ROOT / "scripts" / "datasette_plugins"),
    )
    config = uvicorn.Config(
        datasette.app(), access_log=False, log_level="warning", lifespan="on", workers=1
    )
    asyncio.run(_serve(uvicorn.Server(config), socket.socket(fileno=args.fd), datasette))
    return 0


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
