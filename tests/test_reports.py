"""Problem reports (issue #13): the form, its defences, what is stored (and what never is), the
caution on a listing reported as no longer meeting, and `flask --app finder reports`.

The site runs over real imported feeds (SE Pennsylvania's meetings, which name their own
correction form, and the national lines, which do not); reports go to a real SQLite file."""

import hashlib
import re
import sqlite3
import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from finder import create_app, reports
from finder.ingest import failures
from finder.web.reports import RateLimit

FROZEN_NOW = "2026-11-24T19:00:00-05:00"  # a Tuesday evening in Philadelphia
CLIENT = "203.0.113.77"  # documentation addresses (RFC 5737)
AGENT = "ReporterBrowser/9.9 (unique-agent-string)"


@pytest.fixture(scope="module")
def site(philadelphia_db):
    """One app over the shared directory (its index built once); each test gets its own reports
    file and rate limit through ``client``."""
    return create_app({"TESTING": True, "DATABASE": str(philadelphia_db), "FROZEN_NOW": FROZEN_NOW})


@pytest.fixture
def reports_path(site, tmp_path):
    path = tmp_path / "reports.db"
    site.config["REPORTS_DATABASE"] = str(path)
    site.config["REPORTS_PER_HOUR"] = 10
    site.config.pop("DATASETTE_URL", None)
    site.extensions.pop("reports", None)  # a fresh rate limit
    return path


@pytest.fixture
def client(site, reports_path):
    return site.test_client()


@pytest.fixture(scope="module")
def listings(philadelphia_db):
    """A meeting whose source takes corrections itself, and a line whose source does not."""
    conn = sqlite3.connect(f"file:{philadelphia_db}?mode=ro", uri=True)
    with_form = conn.execute(
        "select id from resources where feedback_url is not null and status = 'active' "
        "order by id limit 1"
    ).fetchone()[0]
    without = conn.execute(
        "select id from resources where source = 'national-lines' "
        "and coalesce(feedback_url, '') = '' order by id limit 1"
    ).fetchone()[0]
    conn.close()
    return {"with_form": with_form, "without": without}


def token_of(page: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', page).group(1)


def send(client, resource_id, token=None, environ=None, **fields):
    """POST the form as a browser would: first GET it for its token (unless one is given)."""
    if token is None:
        token = token_of(client.get(f"/resource/{resource_id}/report").text)
    data = {"what": "gone", "details": "", "contact": "", "website": "", **fields}
    if token is not False:
        data["token"] = token
    return client.post(f"/resource/{resource_id}/report", data=data, environ_base=environ or {})


def stored(path) -> list[dict]:
    if not path.exists():
        return []
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    rows = [dict(r) for r in conn.execute("select * from reports order by id")]
    conn.close()
    return rows


def contacts(path) -> list[tuple]:
    conn = sqlite3.connect(path)
    rows = conn.execute("select report_id, contact from report_contacts").fetchall()
    conn.close()
    return rows


def test_a_source_with_its_own_form_is_offered_first_then_ours(client, listings):
    page = client.get(f"/resource/{listings['with_form']}/report").text
    source_button = page.index("https://aasepia.org/meeting-status/")
    assert source_button < page.index("Or tell the maintainers of this directory")
    assert 'method="post"' in page and 'name="token"' in page
    for label in ("It no longer meets, or has closed", "The day or time is wrong"):
        assert label in page


def test_a_source_without_a_form_gets_ours(client, listings):
    page = client.get(f"/resource/{listings['without']}/report").text
    assert "Or tell" not in page
    assert "Tell the maintainers of this directory" in page and 'method="post"' in page


def test_a_valid_report_is_stored_then_confirmed(client, listings, reports_path):
    listing = listings["without"]
    response = send(client, listing, what="time", details="  It starts at 8 pm now.  ")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/resource/{listing}/report/sent")
    confirmation = client.get(response.headers["Location"])
    assert confirmation.status_code == 200
    assert "your report was received" in confirmation.text
    [row] = stored(reports_path)
    assert (row["resource_id"], row["problem"], row["details"], row["status"]) == (
        listing,
        "time",
        "It starts at 8 pm now.",
        "open",
    )
    assert row["source"] == "national-lines" and row["source_id"] and row["listing_name"]
    assert row["site_url"].endswith(f"/resource/{listing}")
    assert contacts(reports_path) == []  # no contact offered: none stored


def test_a_contact_is_stored_only_when_offered(client, listings, reports_path):
    send(client, listings["without"], what="link", contact=" office@example.org ")
    [row] = stored(reports_path)
    assert contacts(reports_path) == [(row["id"], "office@example.org")]


def test_spanish_form_redirects_to_the_spanish_confirmation(client, listings):
    page = client.get(f"/resource/{listings['without']}/report?lang=es").text
    assert "¿Qué está mal?" in page
    response = client.post(
        f"/resource/{listings['without']}/report?lang=es",
        data={"token": token_of(page), "what": "moved"},
    )
    assert response.headers["Location"].endswith("/report/sent?lang=es")
    assert "Gracias" in client.get(response.headers["Location"]).text


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"what": ""}, "Choose what is wrong with the listing."),
        ({"what": "closed-forever"}, "Choose what is wrong with the listing."),
        ({"what": "other", "details": "   "}, "Say what is wrong, since you chose"),
        ({"details": "x" * 1001}, "1,001 characters long; please shorten it to 1,000"),
        ({"contact": "a" * 201}, "longer than 200 characters"),
    ],
    ids=["no-choice", "unknown-choice", "other-without-words", "too-long", "long-contact"],
)
def test_invalid_reports_are_refused_with_the_reason_and_nothing_lost(
    client, listings, reports_path, fields, message
):
    typed = {"details": "The door on Elm St is locked", **fields}
    response = send(client, listings["without"], **typed)
    assert response.status_code == 400
    assert message in response.text
    assert 'class="error-summary"' in response.text
    if len(typed["details"]) <= 1000:
        assert typed["details"].strip() in response.text  # what was typed is still there
    assert stored(reports_path) == []


def _forged(listing_id):
    return URLSafeTimedSerializer("not-the-secret", salt="report-form").dumps(
        {"listing": listing_id}
    )


@pytest.mark.parametrize(
    "token, headers",
    [
        (False, {}),
        ("", {}),
        ("garbage.token.value", {}),
        ("forged", {}),
        ("other-listing", {}),
        (None, {"Sec-Fetch-Site": "cross-site"}),
    ],
    ids=["missing", "empty", "garbage", "wrong-key", "another-listing", "cross-site"],
)
def test_forms_without_a_valid_token_from_this_site_are_refused(
    client, listings, reports_path, token, headers
):
    listing = listings["without"]
    if token == "forged":
        token = _forged(listing)
    elif token == "other-listing":
        token = token_of(client.get(f"/resource/{listings['with_form']}/report").text)
    elif token is None:
        token = token_of(client.get(f"/resource/{listing}/report").text)
    data = {"what": "gone", "details": "Closed since May"}
    if token is not False:
        data["token"] = token
    response = client.post(f"/resource/{listing}/report", data=data, headers=headers)
    assert response.status_code == 400
    assert "did not come from this site" in response.text
    assert "Closed since May" in response.text
    assert stored(reports_path) == []


def test_an_expired_token_is_refused(client, listings, reports_path, monkeypatch):
    token = token_of(client.get(f"/resource/{listings['without']}/report").text)
    later = int(time.time()) + 25 * 3600
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    assert send(client, listings["without"], token=token).status_code == 400
    assert stored(reports_path) == []


def test_the_form_key_is_shared_by_every_worker_and_restart(site, listings, reports_path):
    """Another app over the same reports file (a worker, or the site after a restart) accepts a
    token the first one issued."""
    token = token_of(site.test_client().get(f"/resource/{listings['without']}/report").text)
    other = create_app(
        {
            "TESTING": True,
            "DATABASE": site.config["DATABASE"],
            "REPORTS_DATABASE": str(reports_path),
        }
    )
    response = send(other.test_client(), listings["without"], token=token)
    assert response.status_code == 303
    assert len(stored(reports_path)) == 1


def test_a_filled_in_honeypot_stores_nothing_but_looks_sent(client, listings, reports_path):
    response = send(client, listings["without"], website="http://spam.example")
    assert response.status_code == 303  # the robot learns nothing
    assert stored(reports_path) == []


def test_too_many_reports_from_one_client_get_a_kind_429(site, client, listings, reports_path):
    site.config["REPORTS_PER_HOUR"] = 3
    here = {"REMOTE_ADDR": CLIENT}
    for _ in range(3):
        assert send(client, listings["without"], environ=here).status_code == 303
    refused = send(client, listings["without"], environ=here, details="Fourth report")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "3600"
    assert "Thank you for them" in refused.text and "Fourth report" in refused.text
    assert len(stored(reports_path)) == 3
    # Someone else is not held back.
    other = send(client, listings["without"], environ={"REMOTE_ADDR": "198.51.100.5"})
    assert other.status_code == 303


@pytest.mark.parametrize(
    "events, gap, allowed",
    [(3, 0, False), (3, 3601, True), (2, 0, True)],
    ids=["within-the-hour", "after-an-hour", "under-the-limit"],
)
def test_rate_limit_window(events, gap, allowed):
    limit = RateLimit(per_hour=3)
    for n in range(events):
        assert limit.allow(CLIENT, now=1000.0 + n)
    assert limit.allow(CLIENT, now=1000.0 + events + gap) is allowed


def test_rate_limit_keeps_only_a_salted_hash_of_the_address():
    limit = RateLimit(per_hour=3)
    limit.allow(CLIENT, now=1.0)
    [key] = limit.seen
    assert CLIENT.encode() not in key
    assert key != hashlib.blake2b(CLIENT.encode(), digest_size=16).digest()  # salted
    assert RateLimit(per_hour=3).salt != limit.salt


def test_nothing_about_the_reporter_is_stored(client, listings, reports_path, philadelphia_db):
    """Neither the address nor the browser is written anywhere: not in the reports file, and
    the directory database's bytes do not change at all."""
    before = hashlib.sha256(philadelphia_db.read_bytes()).hexdigest()
    client.environ_base["HTTP_USER_AGENT"] = AGENT
    response = send(
        client,
        listings["without"],
        environ={"REMOTE_ADDR": CLIENT},
        what="access",
        details="No ramp",
    )
    assert response.status_code == 303
    written = b"".join(p.read_bytes() for p in reports_path.parent.glob("reports.db*"))
    for personal in (CLIENT, AGENT, "unique-agent-string"):
        assert personal.encode() not in written
    [row] = stored(reports_path)
    assert set(row) == {
        "id",
        "resource_id",
        "source",
        "source_id",
        "listing_name",
        "site_url",
        "problem",
        "details",
        "created",
        "status",
        "resolved",
        "resolved_by",
        "resolution_note",
    }
    assert hashlib.sha256(philadelphia_db.read_bytes()).hexdigest() == before
    assert not (philadelphia_db.parent / "reports.db").exists()  # configured elsewhere


def _first_result(client) -> int:
    found = client.get("/api/search?q=19103").get_json()
    return found["groups"]["in_progress"][0]["id"]


def _card(page: str, resource_id: int) -> str:
    return re.search(rf'<li[^>]*id="r{resource_id}">(.*?)</li>', page, re.S).group(1)


def test_a_no_longer_meets_report_shows_a_caution_until_resolved(client, reports_path, site):
    listing = _first_result(client)
    assert "Reported on" not in client.get(f"/resource/{listing}").text
    assert "Reported on" not in _card(client.get("/search?q=19103").text, listing)
    send(client, listing, what="gone")  # the page above is kept for its minute: not any more
    today = time.strftime("%B %-d, %Y", time.gmtime())
    detail = client.get(f"/resource/{listing}").text
    assert f"Reported on {today}:" in detail
    assert "may no longer meet" in detail and "We have not checked yet" in detail
    card = _card(client.get("/search?q=19103").text, listing)
    assert f"Reported on {today}: may no longer meet. Not yet checked" in card
    spanish = client.get(f"/resource/{listing}?lang=es").text
    assert "Informado el" in spanish
    [row] = stored(reports_path)
    result = site.test_cli_runner().invoke(args=["reports", "resolve", str(row["id"])])
    assert result.exit_code == 0, result.output
    assert "Reported on" not in client.get(f"/resource/{listing}").text
    assert "Reported on" not in _card(client.get("/search?q=19103").text, listing)


def test_other_problems_show_no_caution(client):
    listing = _first_result(client)
    send(client, listing, what="time", details="Starts at 7:30")
    assert "Reported on" not in client.get(f"/resource/{listing}").text


def test_the_caution_follows_the_listing_not_its_number(client, reports_path):
    """A rebuild may number listings differently: a report names its listing by source id."""
    listing = _first_result(client)
    send(client, listing, what="gone")
    conn = sqlite3.connect(reports_path)
    conn.execute("update reports set resource_id = resource_id + 1")  # the old numbering
    conn.commit()
    conn.close()
    assert "Reported on" in client.get(f"/resource/{listing}").text
    assert "Reported on" not in client.get(f"/resource/{listing + 1}").text


def test_raw_data_link_only_when_datasette_is_configured(site, client, listings):
    path = f"/resource/{listings['without']}"
    assert "view raw data" not in client.get(path).text
    site.config["DATASETTE_URL"] = "http://127.0.0.1:8001/"
    page = client.get(path).text
    assert f'href="http://127.0.0.1:8001/finder/resources/{listings["without"]}"' in page


@pytest.mark.parametrize(
    "record, failing",
    [
        ('{"aasepia": {"last_attempt": "2026-11-30T04:00:00+00:00", "last_error": "HTTP 503"}}', 1),
        ('{"aasepia": {"last_attempt": "2026-11-30T04:00:00+00:00"}}', 1),
        ('{"no-such-source": {"last_attempt": "2026-11-30T04:00:00+00:00"}}', 0),
        ('{"aasepia": {"last_attempt": 7}}', 0),  # not of the shape a refresh writes: left out
        ('{"aasepia": "<script>"}', 0),
        ("[1, 2]", 0),
        ("{not json", 0),
        ("", 0),
        ("[" * 100_000 + "]" * 100_000, 0),  # too deep for the JSON reader
        ('{"aasepia": {"last_attempt": "\\ud800abc"}}', 0),  # a lone surrogate: no date
        ('{"aasepia": {"last_attempt": "2026-11-30T04:00:00+00:00", "last_error": "\\ud800"}}', 1),
    ],
)
def test_failures_recorded_beside_the_file_show_on_the_about_page(
    tmp_path, philadelphia_db, record, failing
):
    copy = tmp_path / "finder.db"
    copy.write_bytes(philadelphia_db.read_bytes())
    failures.path_for(copy).write_text(record)
    answer = create_app({"TESTING": True, "DATABASE": str(copy)}).test_client().get("/about")
    assert answer.status_code == 200
    assert answer.text.count(": last try November 30, 2026") == failing


def test_the_about_page_summarises_failed_refreshes(tmp_path, philadelphia_db):
    copy = tmp_path / "finder.db"
    copy.write_bytes(philadelphia_db.read_bytes())
    conn = sqlite3.connect(copy)
    conn.execute(
        "insert into feed_health (source, url, last_attempt, last_error) values "
        "('aasepia', 'https://example.org/feed', '2026-11-20T04:37:00+00:00', 'HTTP 500')"
    )
    conn.commit()
    conn.close()
    app = create_app({"TESTING": True, "DATABASE": str(copy)})
    page = app.test_client().get("/about").text
    assert "Lists we could not update" in page
    assert "last try November 20, 2026; showing the list dated" in page
    fine = create_app({"TESTING": True, "DATABASE": str(philadelphia_db)})
    assert "Lists we could not update" not in fine.test_client().get("/about").text


def test_reports_cli_lists_and_resolves(site, client, listings, reports_path):
    runner = site.test_cli_runner()
    assert "No open reports." in runner.invoke(args=["reports", "list"]).output
    send(client, listings["without"], what="link", details="The number is 988", contact="x@y.z")
    send(client, listings["with_form"], what="gone")
    listed = runner.invoke(args=["reports", "list"])
    assert listed.exit_code == 0
    assert re.search(r"#1 \d{4}-\d\d-\d\d \d\d:\d\d UTC {2}link ", listed.output)
    assert "says: The number is 988" in listed.output
    assert "contact (offered): x@y.z" in listed.output
    assert f"(listing {listings['with_form']}, aasepia " in listed.output
    resolved = runner.invoke(
        args=["reports", "resolve", "1", "--by", "Intergroup office", "--note", "Fixed upstream"]
    )
    assert resolved.exit_code == 0 and "Resolved report 1" in resolved.output
    still_open = runner.invoke(args=["reports", "list"]).output
    assert "#1 " not in still_open and "#2 " in still_open
    everything = runner.invoke(args=["reports", "list", "--all"]).output
    assert "resolved" in everything and "by Intergroup office: Fixed upstream" in everything
    row = stored(reports_path)[0]
    assert (row["status"], row["resolved_by"], row["resolution_note"]) == (
        "resolved",
        "Intergroup office",
        "Fixed upstream",
    )


def test_resolving_an_unknown_report_says_so(site, reports_path):
    result = site.test_cli_runner().invoke(args=["reports", "resolve", "99"])
    assert result.exit_code == 1
    assert "there is no report number 99" in result.output


def test_the_store_is_created_once_even_when_opened_twice(tmp_path):
    path = tmp_path / "reports.db"
    first, second = reports.open_store(path), reports.open_store(path)
    assert reports.form_secret(first) == reports.form_secret(second)
    applied = second.execute("select count(*) from _sqlite_migrations").fetchone()[0]
    assert applied == len(reports.migrations._migrations)
    first.close()
    second.close()


def test_an_unwritable_reports_file_still_shows_the_source(site, client, listings, tmp_path):
    site.config["REPORTS_DATABASE"] = str(tmp_path / "no-such-folder" / "reports.db")
    page = client.get(f"/resource/{listings['with_form']}/report")
    assert page.status_code == 200
    assert "https://aasepia.org/meeting-status/" in page.text
    assert "not available just now" in page.text
    refused = client.post(
        f"/resource/{listings['with_form']}/report", data={"what": "gone", "token": "x"}
    )
    assert refused.status_code == 400


def test_the_reports_files_version_changes_with_every_write_and_only_then(tmp_path):
    """Cards keep the open "no longer meets" reports while this version stays the same."""
    path = tmp_path / "reports.db"
    assert reports.version(path) is None  # no report ever made
    store = reports.open_store(path)
    seen = [reports.version(path)]
    store.execute("update form_keys set secret = secret")  # matches no row: nothing written
    store.conn.commit()
    assert reports.version(path) == seen[-1]
    store.execute("insert into form_keys (name, secret) values ('a', 'b')")
    store.conn.commit()
    seen.append(reports.version(path))
    store.execute("update form_keys set secret = 'c' where name = 'a'")  # same size
    store.conn.commit()
    seen.append(reports.version(path))
    store.close()
    assert None not in seen and len(set(seen)) == len(seen)
    sqlite3.connect(path).execute("pragma journal_mode = wal").fetchall()
    assert reports.version(path) is None or not (tmp_path / "reports.db-wal").exists()
