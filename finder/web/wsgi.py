"""The production server: gunicorn, with the app built and warmed up once before forking.

``make run`` (scripts/serve.py) runs ``SiteServer``. The master process builds the app, opens
the database generation, builds its search index and compiles the kernels, then forks one
worker per core: the workers share the index's pages and start warm. Each worker answers with a
pool of threads; a connection that sends nothing is handed back to the poller, and an idle
kept-alive one closed after ``KEEPALIVE`` seconds, so slow or idle clients hold no thread.

Alone, on an inherited socket: ``python -m finder.web.wsgi --fd N --database PATH``. Under a
plain gunicorn command, keep the private log: ``gunicorn --preload -k gthread --threads 4
--keep-alive 5 --logger-class finder.web.wsgi.PrivateLog --access-logfile - -b 127.0.0.1:5000
'finder.web.wsgi:application()'`` (the database from FINDER_DATABASE).
"""

import argparse
import os
import sys
import time
from urllib.parse import urlsplit

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from finder import create_app
from finder.web.serving import warm_up

KEEPALIVE = 5  # seconds an idle kept-alive connection stays open
TIMEOUT = 30  # a worker silent this long is restarted
CONNECTIONS = 500  # per worker; beyond it, new connections wait in the listen backlog
THREADS = 4  # per worker


def settings(host: str, port: int, workers: int | None = None) -> dict:
    """gunicorn's settings for the site."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers or os.cpu_count() or 2,
        "worker_class": "gthread",
        "threads": THREADS,
        "worker_connections": CONNECTIONS,
        "backlog": 256,
        "keepalive": KEEPALIVE,
        "timeout": TIMEOUT,
        "graceful_timeout": 10,
        "limit_request_line": 4094,  # a longer URL is a 414
        "limit_request_fields": 50,
        "limit_request_field_size": 8190,
        "preload_app": True,
        "accesslog": "-",
        "errorlog": "-",
        "loglevel": "info",
        "logger_class": PrivateLog,
        "control_socket_disable": True,
        "proc_name": "finder",
    }


class PrivateLog(Logger):
    """gunicorn's logs without query strings, request lines or client addresses."""

    def access(self, resp, req, environ, request_time) -> None:
        """One line per request: method, path (never the query), status."""
        if self.access_log_enabled:
            path = environ.get("PATH_INFO", "-")[:200]
            status = str(resp.status).split(None, 1)[0]
            self.access_log.info('"%s %s" %s', environ.get("REQUEST_METHOD", "-"), path, status)

    def warning(self, msg, *args, **kwargs) -> None:
        if str(msg).startswith("Invalid request from ip="):  # quotes the address and the line
            msg, args = "Invalid request (answered with a 4xx)", ()
        super().warning(msg, *args, **kwargs)

    def exception(self, msg, *args, **kwargs) -> None:
        if str(msg).startswith("Error handling request"):  # its arguments hold the full URI
            paths = [urlsplit(a).path if isinstance(a, str) else a for a in args]
            msg, args = "Error handling request " + " ".join(["%s"] * len(paths)), tuple(paths)
        super().exception(msg, *args, **kwargs)


class SiteServer(BaseApplication):
    """gunicorn running the app over ``database``, warmed up in the master before forking."""

    def __init__(self, options: dict, database: str, on_ready=None):
        self.options, self.database, self.on_ready = options, database, on_ready
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        app = application(self.database)
        if self.on_ready:
            self.on_ready()
        return app


def application(database: str | None = None):
    """The site, warmed up: for gunicorn (``'finder.web.wsgi:application()'``) or SiteServer.
    FINDER_* settings come from the environment, as `flask run` reads them."""
    app = create_app()
    if database:
        app.config["DATABASE"] = database
    warm_up(app)
    return app


def main() -> int:
    """gunicorn on an inherited listening socket (scripts/serve.py holds it)."""
    parser = argparse.ArgumentParser(description="The site under gunicorn.")
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    started = time.perf_counter()

    def ready() -> None:
        print(f"  Search ready ({time.perf_counter() - started:.1f} s).", flush=True)

    options = {**settings("127.0.0.1", 0, args.workers), "bind": f"fd://{args.fd}"}
    SiteServer(options, args.database, on_ready=ready).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
