"""Serve the site (Flask) and Datasette (read-only) over one database; Ctrl-C stops both.

Usage: python scripts/serve.py [--database data/finder.db] [--host 127.0.0.1]
"""

import argparse
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from finder import create_app  # noqa: E402
from finder.web.serving import serve  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=str(ROOT / "data" / "finder.db"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--site-port", type=int, default=5000)
    parser.add_argument("--datasette-port", type=int, default=8001)
    args = parser.parse_args()
    database = str(Path(args.database).resolve())
    bin_dir = Path(sys.executable).parent
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
        start_new_session=True,  # Ctrl-C reaches us only; we stop Datasette once, cleanly
    )
    signal.signal(signal.SIGTERM, _interrupt)  # a service manager's stop works like Ctrl-C
    # Ctrl-C stops us even when started from a shell that runs background jobs with SIGINT ignored
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:  # from here on, Datasette is stopped however we stop, even while the app is loading
        app = create_app()  # FINDER_* settings from the environment, as `flask run` reads them
        app.config["DATABASE"] = database
        site = threading.Thread(target=serve, daemon=True, args=(app, args.host, args.site_port))
        site.start()
        threading.Thread(target=_warm_up, daemon=True, args=(app,)).start()
        print(f"\n  Site:      http://{args.host}:{args.site_port}/", flush=True)
        print(f"  Datasette: http://{args.host}:{args.datasette_port}/ (read-only)\n", flush=True)
        print("  Press Ctrl-C to stop both.\n", flush=True)
        while site.is_alive() and datasette.poll() is None:
            site.join(timeout=1)
    except KeyboardInterrupt:
        pass
    finally:
        if datasette.poll() is None:
            datasette.send_signal(signal.SIGTERM)
        try:
            datasette.wait(timeout=10)
        except subprocess.TimeoutExpired:
            datasette.kill()
    return 0


def _warm_up(app) -> None:
    """Build the search index and load the gazetteers now, not on the first person's search."""
    started = time.perf_counter()
    app.test_client().get("/search?q=Philadelphia%2C+PA&lang=es")
    print(f"  Search ready ({time.perf_counter() - started:.1f} s).", flush=True)


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
