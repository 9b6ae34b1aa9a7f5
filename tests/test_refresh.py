"""Refreshing live sources against a real local HTTP server (issue #13): conditional GET,
retries, and every failure mode leaving the served data as it was."""

import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from finder import create_app
from finder.errors import FeedError
from finder.ingest import failures
from finder.ingest.fetch import FetchSettings, fetch
from finder.ingest.refresh import feed_urls

from .feed_server import FeedServer, sequence, slow, status, truncated

DATA = Path(__file__).resolve().parent.parent / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SUSSEX = (DATA / "meeting-guide" / "sussexaa.json").read_bytes()
SUSSEX_COUNT = len(json.loads(SUSSEX))


def settings(**overrides) -> FetchSettings:
    """Fast settings for tests: short timeout, no real waiting between retries."""
    waits = []
    values = {"timeout": 1.0, "retries": 2, "backoff": 0.01, "sleep": waits.append}
    return FetchSettings(**(values | overrides))


@pytest.fixture
def server():
    with FeedServer() as running:
        yield running


# ---- fetch ----------------------------------------------------------------------------------


def test_fetch_sends_a_user_agent_and_answers_304_to_its_own_etag(server):
    server.routes["/feed"] = SUSSEX
    first = fetch(server.url("/feed"), settings())
    assert first.status == 200 and first.body == SUSSEX and first.etag
    again = fetch(server.url("/feed"), settings(), etag=first.etag)
    assert again.unchanged and again.body is None
    assert server.requests["/feed"] == 2
    assert server.headers[0]["User-Agent"].startswith("RecoverySupportFinder/")
    assert server.headers[1]["If-None-Match"] == first.etag


def test_fetch_retries_429_and_5xx_with_backoff_then_succeeds(server):
    server.routes["/feed"] = sequence(status(429, retry_after="3"), status(503), SUSSEX)
    waits = []
    got = fetch(server.url("/feed"), settings(sleep=waits.append))
    assert got.status == 200 and got.attempts == 3
    assert waits[0] == 3.0  # the server's Retry-After
    assert 0.01 <= waits[1] <= 0.04  # exponential backoff with jitter


@pytest.mark.parametrize(
    "route, message",
    [
        (status(500), "HTTP 500 (after 3 attempt(s))"),
        (status(404), "HTTP 404"),
        (slow(3.0), "no answer"),
        (truncated(SUSSEX), "truncated answer"),
    ],
    ids=["500", "404", "slow", "truncated"],
)
def test_fetch_failures_are_named(server, route, message):
    server.routes["/feed"] = route
    with pytest.raises(FeedError, match=message.replace("(", r"\(").replace(")", r"\)")):
        fetch(server.url("/feed"), settings(timeout=0.5))
    assert server.requests["/feed"] == (1 if "404" in message else 3)


def test_fetch_refuses_an_oversized_feed_without_reading_it_all(server):
    server.routes["/feed"] = SUSSEX
    with pytest.raises(FeedError, match="over the 1,000 byte limit"):
        fetch(server.url("/feed"), settings(max_bytes=1000))


def test_bmlt_root_server_urls():
    source = {"id": "na", "format": "bmlt", "url": "https://bmlt.example/main_server/"}
    urls = feed_urls({**source, "bmlt_services": [3, 5]})
    assert urls == [
        (
            "GetSearchResults.json",
            "https://bmlt.example/main_server/client_interface/json/?switcher=GetSearchResults"
            "&services%5B%5D=3&services%5B%5D=5&recursive=1",
        ),
        (
            "GetFormats.json",
            "https://bmlt.example/main_server/client_interface/json/?switcher=GetFormats",
        ),
        (
            "GetFormats-en.json",
            "https://bmlt.example/main_server/client_interface/json/?switcher=GetFormats"
            "&lang_enum=en",
        ),
    ]


# ---- refresh, end to end through the command ------------------------------------------------


class Site:
    """A served database, a registry of live sources on the local server, and the command."""

    def __init__(self, tmp_path: Path, server: FeedServer, sources: list[dict]):
        self.database = tmp_path / "finder.db"
        self.registry = tmp_path / "sources.toml"
        self.registry.write_text("".join(_toml(s) for s in sources))
        self.app = create_app(
            {
                "TESTING": True,
                "DATABASE": str(self.database),
                "SOURCES": str(self.registry),
                "FEEDS": str(tmp_path / "feeds"),
                "REFRESH_TIMEOUT": 0.5,
                "REFRESH_RETRIES": 1,
                "REFRESH_BACKOFF": 0.01,
            }
        )
        self.server = server

    def run(self, *args):
        return self.app.test_cli_runner().invoke(args=["refresh", *args])

    def query(self, sql, params=()):
        conn = sqlite3.connect(self.database)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def listings(self, source: str) -> list:
        return self.query(
            "select source_id, name, content_hash, status from resources where source = ? "
            "order by source_id",
            [source],
        )

    def health(self, source: str) -> dict:
        conn = sqlite3.connect(self.database)
        conn.row_factory = sqlite3.Row
        try:
            row = conn.execute("select * from feed_health where source = ?", [source]).fetchone()
            return dict(row) if row else {}
        finally:
            conn.close()


def _toml(source: dict) -> str:
    lines = ["[[source]]"]
    for key, value in source.items():
        lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n\n"


def _sussex(server, **extra) -> dict:
    return {
        "id": "sussexaa",
        "name": "Sussex County, Delaware (AA)",
        "format": "meeting_guide",
        "url": server.url("/sussex.json"),
        "program": "AA",
        "default_timezone": "America/New_York",
        "license": "test",
        **extra,
    }


@pytest.fixture
def site(tmp_path, server):
    server.routes["/sussex.json"] = SUSSEX
    return Site(tmp_path, server, [_sussex(server)])


def test_refresh_imports_a_live_feed_then_an_unchanged_feed_costs_one_304(site):
    result = site.run("--all")
    assert result.exit_code == 0, result.output
    assert "sussexaa: updated (HTTP 200" in result.output
    assert len(site.listings("sussexaa")) > 0.9 * SUSSEX_COUNT
    health = site.health("sussexaa")
    assert health["http_status"] == 200 and health["last_error"] is None
    assert health["last_success"] == health["last_attempt"]
    first_inode = os.stat(site.database).st_ino
    before = site.listings("sussexaa")

    result = site.run("sussexaa")
    assert result.exit_code == 0, result.output
    assert "sussexaa: unchanged (HTTP 304" in result.output
    assert site.server.requests["/sussex.json"] == 2  # one 200, then one 304
    assert site.listings("sussexaa") == before
    assert site.health("sussexaa")["http_status"] == 304
    assert site.health("sussexaa")["change"] == 0
    # Published by replacing the file, never by writing into the served one.
    assert os.stat(site.database).st_ino != first_inode


SHRUNKEN = json.dumps(json.loads(SUSSEX)[: SUSSEX_COUNT // 4]).encode()


@pytest.mark.parametrize(
    "route, error",
    [
        (status(500), "HTTP 500"),
        (b"[{not json", "not valid JSON"),
        (truncated(SUSSEX), "truncated answer"),
        (slow(2.0, SUSSEX + b" "), "no answer"),
        (SUSSEX + b" " * 3000, "byte limit"),
        (SHRUNKEN, "suspicious feed"),
    ],
    ids=["500", "invalid-json", "truncated", "slow", "oversized", "shrunken"],
)
def test_a_failed_or_suspicious_feed_keeps_the_previous_data(tmp_path, server, route, error):
    # Another source refreshes fine, so the failure is published in feed_health (when every
    # source fails nothing is published: test_a_refresh_in_which_every_source_failed_...).
    server.routes |= {"/sussex.json": SUSSEX, "/steady.json": SUSSEX}
    steady = _sussex(server, id="steady", url=server.url("/steady.json"))
    site = Site(tmp_path, server, [_sussex(server), steady])
    assert site.run("--all").exit_code == 0
    good = site.listings("sussexaa")
    success = site.health("sussexaa")["last_success"]
    site.app.config["REFRESH_MAX_BYTES"] = len(SUSSEX) + 1000
    site.server.routes["/sussex.json"] = route
    result = site.run("--all")
    assert result.exit_code != 0
    assert error in result.output
    assert site.listings("sussexaa") == good
    health = site.health("sussexaa")
    assert error in health["last_error"]
    assert health["last_success"] == success


def test_shrunken_feed_is_accepted_when_the_maintainer_says_so(site):
    assert site.run("--all").exit_code == 0
    site.server.routes["/sussex.json"] = SHRUNKEN
    result = site.run("--all", "--allow-shrink")
    assert result.exit_code == 0, result.output
    active = [row for row in site.listings("sussexaa") if row[3] == "active"]
    assert len(active) <= SUSSEX_COUNT // 4
    assert site.health("sussexaa")["change"] < 0


def test_one_failed_source_publishes_nothing_from_the_others(tmp_path, server):
    server.routes["/sussex.json"] = SUSSEX
    server.routes["/broken.json"] = status(500)
    site = Site(
        tmp_path,
        server,
        [_sussex(server), _sussex(server, id="other", url=server.url("/broken.json"))],
    )
    result = site.run("--all")
    assert result.exit_code != 0
    assert "other failed: nothing was published" in result.output
    assert site.listings("sussexaa") == []
    assert "not applied: other failed" in site.health("sussexaa")["last_error"]
    assert site.health("sussexaa")["validators"] is None  # so the next run fetches it again
    server.routes["/broken.json"] = SUSSEX
    assert site.run("--all").exit_code == 0
    assert server.requests["/sussex.json"] == 2  # no 304 for data that was never published


def test_dry_run_reports_changes_and_publishes_nothing(site):
    assert site.run("--all").exit_code == 0
    stat = os.stat(site.database)
    changed = json.loads(SUSSEX)
    changed[0]["name"] = "A renamed meeting"
    site.server.routes["/sussex.json"] = json.dumps(changed[1:]).encode()
    result = site.run("--all", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "0 added, 0 updated" in result.output
    assert "1 removed" in result.output
    assert "Dry run: nothing published." in result.output
    after = os.stat(site.database)
    assert (after.st_ino, after.st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)
    assert not list(site.database.parent.glob(".finder.db.*.tmp"))  # no draft left behind


def test_a_dry_run_in_which_every_source_failed_records_nothing(site):
    assert site.run("--all").exit_code == 0
    site.server.routes["/sussex.json"] = status(500)
    result = site.run("--all", "--dry-run")
    assert result.exit_code == 1
    assert "nothing was published" in result.output and "dry run: nothing recorded" in result.output
    assert not failures.path_for(site.database).exists()


def test_a_bmlt_root_server_is_asked_for_results_and_formats(tmp_path, server):
    root = "/main_server/client_interface/json/"
    server.routes[f"{root}?switcher=GetSearchResults"] = (
        DATA / "bmlt-gnyr" / "GetSearchResults.json"
    ).read_bytes()
    server.routes[f"{root}?switcher=GetFormats"] = (
        DATA / "bmlt-gnyr" / "GetFormats.json"
    ).read_bytes()
    server.routes[f"{root}?switcher=GetFormats&lang_enum=en"] = b"[]"
    source = {
        "id": "na-gnyr",
        "name": "Narcotics Anonymous, Greater New York Region (BMLT)",
        "format": "bmlt",
        "url": server.url("/main_server/"),
        "program": "NA",
        "default_timezone": "America/New_York",
    }
    site = Site(tmp_path, server, [source])
    result = site.run("na-gnyr")
    assert result.exit_code == 0, result.output
    assert len(site.listings("na-gnyr")) > 1400
    # Format names came from GetFormats: open/closed types are coded.
    codes = site.query("select count(*) from resource_types where code in ('O', 'C')")[0][0]
    assert codes > 1000
    assert "unchanged (HTTP 304" in site.run("na-gnyr").output


def test_an_italian_root_server_is_asked_for_its_formats_in_english_too(tmp_path, server):
    # Italian formats carry no world id; the English ones of the same ids do: "D" is Donne.
    root, italy = "/main_server/client_interface/json/", FIXTURES / "bmlt-italy"
    server.routes[f"{root}?switcher=GetSearchResults"] = (
        italy / "GetSearchResults.json"
    ).read_bytes()
    server.routes[f"{root}?switcher=GetFormats"] = (italy / "GetFormats.json").read_bytes()
    server.routes[f"{root}?switcher=GetFormats&lang_enum=en"] = (
        italy / "GetFormats-en.json"
    ).read_bytes()
    source = {
        "id": "na-italia", "name": "NA Italia (example)", "format": "bmlt",
        "url": server.url("/main_server/"), "program": "NA", "default_timezone": "Europe/Rome",
    }  # fmt: skip
    site = Site(tmp_path, server, [source])
    assert site.run("na-italia").exit_code == 0
    types = site.query(
        "select r.source_id, group_concat(t.code || '=' || t.claim, '; ') from resources r "
        "join resource_types t on t.resource_id = r.id where r.source_id in ('101', '102') "
        "group by r.source_id order by r.source_id"
    )
    assert types == [
        (
            "101",
            "O=BMLT format Ap.: Aperta; W=BMLT format D: Donne; X=BMLT format SR: Sedia a rotelle",
        ),
        ("102", "C=BMLT format Ch.: Chiusa; M=BMLT format U: Uomini"),
    ]


def test_unknown_or_offline_source_is_a_usage_error(site):
    result = site.run("nope")
    assert result.exit_code == 2
    assert "with a url: sussexaa" in result.output


def test_import_publishes_a_new_file_instead_of_writing_into_the_served_one(tmp_path):
    database = tmp_path / "finder.db"
    app = create_app({"TESTING": True, "DATABASE": str(database)})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["import", "michigan"]).exit_code == 0
    served = os.stat(database).st_ino
    reader = sqlite3.connect(database)  # a reader holding the old file keeps reading it
    assert reader.execute("select count(*) from resources").fetchone()[0] > 0
    result = runner.invoke(args=["import", "sussexaa"])
    assert result.exit_code == 0, result.output
    assert os.stat(database).st_ino != served
    assert reader.execute(
        "select count(*) from resources where source = 'sussexaa'"
    ).fetchone() == (0,)


def test_build_reads_the_feed_the_last_refresh_kept(site):
    assert site.run("--all").exit_code == 0
    count = len(site.listings("sussexaa"))
    site.server.routes["/sussex.json"] = status(500)  # build never fetches
    result = site.app.test_cli_runner().invoke(args=["build"])
    assert result.exit_code == 0, result.output
    assert len(site.listings("sussexaa")) == count


def test_readers_during_a_refresh_never_fail_and_see_old_or_new_data(site):
    """The publishing contract: a client reading the served file throughout a refresh gets an
    answer every time, from the old file or the new one (never a half-built database)."""
    import threading
    import time

    assert site.run("--all").exit_code == 0
    old = len([r for r in site.listings("sussexaa") if r[3] == "active"])
    feed = json.loads(SUSSEX)
    site.server.routes["/sussex.json"] = json.dumps(feed[: len(feed) * 3 // 4]).encode()
    seen, errors, stop = [], [], threading.Event()

    def read():
        while not stop.is_set():
            try:
                conn = sqlite3.connect(f"file:{site.database}?mode=ro", uri=True)
                sql = "select count(*) from resources where source = ? and status = 'active'"
                seen.append(conn.execute(sql, ["sussexaa"]).fetchone()[0])
                conn.close()
            except sqlite3.Error as error:
                errors.append(error)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        result = site.run("--all")
        time.sleep(0.3)  # and a little reading after the swap
    finally:
        stop.set()
        reader.join()
    assert result.exit_code == 0, result.output
    new = len([r for r in site.listings("sussexaa") if r[3] == "active"])
    assert errors == [] and len(seen) > 10
    assert set(seen) <= {old, new} and seen[-1] == new and new < old


def test_the_published_file_keeps_the_served_files_permissions(site):
    assert site.run("--all").exit_code == 0
    assert stat.S_IMODE(os.stat(site.database).st_mode) == 0o644  # not mkstemp's 0600
    site.database.chmod(0o640)
    site.server.routes["/sussex.json"] = SUSSEX + b" "
    assert site.run("--all").exit_code == 0
    assert stat.S_IMODE(os.stat(site.database).st_mode) == 0o640


def test_one_publisher_at_a_time(site):
    """A refresh (say from cron) and an import started by hand never both publish."""
    from finder.ingest.publish import exclusive

    with exclusive(site.database):
        result = site.run("--all")
        assert result.exit_code == 1
        assert "another import or refresh is publishing" in result.output
        result = site.app.test_cli_runner().invoke(args=["import", "sussexaa"])
        assert "another import or refresh is publishing" in result.output
    assert not site.database.exists()  # nothing was published meanwhile
    assert site.run("--all").exit_code == 0


def test_build_into_a_missing_folder_is_a_clear_error(tmp_path):
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "finder.db")})
    result = app.test_cli_runner().invoke(args=["build", "--output", str(tmp_path / "no/x.db")])
    assert result.exit_code == 1 and "is not a folder" in result.output


def test_an_hsds_csv_package_is_refreshed_from_its_zip(tmp_path, server):
    from .test_importers_hsds import EXAMPLES, zipped

    server.routes["/open-referral/hsds.zip"] = zipped(
        EXAMPLES / "csv", tmp_path / "hsds.zip"
    ).read_bytes()
    source = {
        "id": "hsds-example",
        "name": "Open Referral example (HSDS 3 CSV, zipped)",
        "format": "hsds",
        "url": server.url("/open-referral/hsds.zip"),
        "license": "test",
    }
    site = Site(tmp_path, server, [source])
    result = site.run("hsds-example")
    assert result.exit_code == 0, result.output
    # Its one service was read from the zip (and, being fictional, cannot be placed: rejected).
    assert "1 in," in result.output
    reasons = site.query("select reason from import_issues where severity = 'rejected'")
    assert reasons, result.output
    assert (tmp_path / "feeds" / "hsds-example" / "feed.zip").is_file()
    assert "unchanged (HTTP 304" in site.run("hsds-example").output


def _served_state(database: Path) -> dict:
    """What a reader of the served file and its stored index could notice changing."""
    index = database.with_name(f".{database.name}.index")
    stored = sorted(
        (str(p.relative_to(index)), p.stat().st_mtime_ns) for p in index.rglob("*") if p.is_file()
    )
    stat = os.stat(database)
    return {
        "file": (stat.st_ino, stat.st_mtime_ns, stat.st_size),
        "bytes": database.read_bytes(),
        "index": stored,
        "others": sorted(p.name for p in database.parent.iterdir()),
    }


@pytest.mark.parametrize(
    "routes",
    [
        {"/sussex.json": status(500), "/other.json": b"[{not json"},
        {"/sussex.json": truncated(SUSSEX), "/other.json": status(404)},
    ],
    ids=["500-and-invalid-json", "truncated-and-404"],
)
def test_a_refresh_in_which_every_source_failed_publishes_nothing(tmp_path, server, routes):
    """Nothing to publish: the served file, its stored index and its mtime stay exactly as they
    were (no new generation, no index rebuilt), each failure is reported, the exit is non-zero."""
    from finder.web.state import published

    server.routes |= {"/sussex.json": SUSSEX, "/other.json": SUSSEX}
    other = _sussex(server, id="other", name="Other County (AA)", url=server.url("/other.json"))
    site = Site(tmp_path, server, [_sussex(server), other])
    assert site.run("--all").exit_code == 0
    generation, db = published(site.app).lend()  # a server opens it: its index is stored beside
    generation.give_back(db)
    before = _served_state(site.database)
    assert before["index"], "the index should be stored beside the served file"
    health = site.health("sussexaa")

    server.routes |= routes
    result = site.run("--all")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(line.startswith("sussexaa: failed") for line in lines), result.output
    assert any(line.startswith("other: failed") for line in lines), result.output
    assert "every source failed (sussexaa, other): nothing was published" in result.output
    after = _served_state(site.database)
    record = failures.path_for(site.database)
    assert after["others"] == sorted([*before["others"], record.name])  # and nothing else
    assert after == {**before, "others": after["others"]}
    assert site.health("sussexaa") == health
    assert published(site.app).current_generation() is generation

    # The failures are recorded beside the served file, and the site says so.
    assert set(failures.recorded(site.database)) == {"sussexaa", "other"}
    about = site.app.test_client().get("/about").text
    assert "Lists we could not update" in about
    assert about.count(": last try ") == 2 and "Sussex County, Delaware (AA): last try" in about
    quality = site.app.test_cli_runner().invoke(args=["quality", "other"]).output
    assert "last error: " in quality and "last success 20" in quality  # the earlier success

    # A later refresh of one of them publishes its attempt: only the other is still failing.
    server.routes["/sussex.json"] = SUSSEX
    assert site.run("sussexaa").exit_code == 0
    assert set(failures.recorded(site.database)) == {"other"}
    about = site.app.test_client().get("/about").text
    assert about.count(": last try ") == 1 and "Other County (AA): last try" in about
    server.routes["/other.json"] = SUSSEX
    assert site.run("other").exit_code == 0
    assert not record.exists()
    assert "Lists we could not update" not in site.app.test_client().get("/about").text
