"""Serve the site (Flask) and Datasette (read-only) over one database; Ctrl-C stops both.

Usage: python scripts/serve.py [--database data/finder.db] [--host 127.0.0.1]
"""

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=str(ROOT / "data" / "finder.db"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--site-port", type=int, default=5000)
    parser.add_argument("--datasette-port", type=int, default=8001)
    args = parser.parse_args()
    database = str(Path(args.database).resolve())
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "FINDER_DATABASE": database}
    site = subprocess.Popen(
        [
            str(bin_dir / "flask"),
            "--app",
            "finder",
            "run",
            "--host",
            args.host,
            "--port",
            str(args.site_port),
        ],
        cwd=ROOT,
        env=env,
    )
    datasette = subprocess.Popen(
        [
            str(bin_dir / "datasette"),
            "serve",
            "-i",
            database,
            "-m",
            str(ROOT / "data" / "metadata.yml"),
            "--host",
            args.host,
            "--port",
            str(args.datasette_port),
        ],
        cwd=ROOT,
    )
    print(f"\n  Site:      http://{args.host}:{args.site_port}/", flush=True)
    print(f"  Datasette: http://{args.host}:{args.datasette_port}/ (read-only)\n", flush=True)
    print("  Press Ctrl-C to stop both.\n", flush=True)
    try:
        while site.poll() is None and datasette.poll() is None:
            try:
                site.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
    except KeyboardInterrupt:
        pass
    finally:
        for process in (site, datasette):
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in (site, datasette):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
