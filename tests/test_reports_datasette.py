"""Problem reports in Datasette (issue #13), through Datasette's own test client: reports sent
through the site's real form are served as the ``reports`` database, the "open problem reports"
saved query finds exactly the open ones, and the contacts and the form key stay out of reach."""

import asyncio
import importlib.util
import re
import sqlite3

import pytest
import yaml
from datasette.app import Datasette

from finder import create_app
from finder.ingest.registry import import_source
from finder.store import connect, init_db

from .conftest import DATA, ROOT

CONTACT = "reporter-contact@example.org"
SITE = "https://finder.example.org"


def _datasette_run():
    spec = importlib.util.spec_from_file_location(
        "datasette_run", ROOT / "scripts" / "datasette_run.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def served(tmp_path_factory, registry, geocoder):
    """The national lines, three reports sent through the form (one later resolved), and a
    Datasette over both files as scripts/datasette_run.py builds it."""
    folder = tmp_path_factory.mktemp("reports-datasette")
    directory, reports = folder / "finder.db", folder / "problem-reports.db"
    with connect(str(directory)) as db:
        init_db(db)
        import_source(db, registry["national-lines"], geocoder)
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(directory),
            "REPORTS_DATABASE": str(reports),
            "SITE_URL": SITE,
        }
    )
    client = app.test_client()
    ids = [r[0] for r in sqlite3.connect(directory).execute("select id from resources limit 3")]
    for listing, what, contact in zip(
        ids, ("gone", "time", "link"), ("", CONTACT, ""), strict=True
    ):
        page = client.get(f"/resource/{listing}/report").text
        token = re.search(r'name="token" value="([^"]+)"', page).group(1)
        sent = client.post(
            f"/resource/{listing}/report",
            data={"token": token, "what": what, "details": f"About {what}", "contact": contact},
        )
        assert sent.status_code == 303
    resolved = app.test_cli_runner().invoke(args=["reports", "resolve", "3", "--note", "Fixed"])
    assert resolved.exit_code == 0, resolved.output
    metadata = yaml.safe_load((DATA / "metadata.yml").read_text())
    ds = Datasette(immutables=[str(directory)], metadata=metadata)
    _datasette_run().add_reports(ds, str(reports))
    return ds, ids, reports


def get(ds, path):
    return asyncio.run(ds.client.get(path))


def test_open_problem_reports_query_finds_the_open_ones_oldest_first(served):
    ds, ids, _ = served
    response = get(ds, "/reports/open_reports.json?_shape=array")
    assert response.status_code == 200, response.text
    rows = response.json()
    assert [(r["id"], r["problem"], r["resource_id"]) for r in rows] == [
        (1, "gone", ids[0]),
        (2, "time", ids[1]),
    ]
    assert rows[0]["site_url"] == f"{SITE}/resource/{ids[0]}"
    assert rows[0]["details"] == "About gone"
    page = get(ds, "/reports/open_reports")
    assert f'href="{SITE}/resource/{ids[0]}"' in page.text  # links to the listing's page


def test_reports_table_is_described_and_faceted(served):
    ds, _, _ = served
    page = get(ds, "/reports/reports")
    assert page.status_code == 200
    assert "Nothing about the reporter is kept" in page.text
    facets = get(ds, "/reports/reports.json?_facet=status").json()["facet_results"]
    counts = {f["value"]: f["count"] for f in facets["status"]["results"]}
    assert counts == {"open": 2, "resolved": 1}


def test_served_as_reports_whatever_the_file_is_called_and_mutable(served):
    ds, _, path = served
    assert path.name == "problem-reports.db"
    database = ds.get_database("reports")
    assert database.is_mutable  # the site adds to it while Datasette serves it
    tables = {t["name"]: t for t in get(ds, "/reports.json").json()["tables"]}
    assert not tables["reports"]["hidden"]
    assert "report_contacts" not in tables and "form_keys" not in tables  # refused: not listed


@pytest.mark.parametrize(
    "path",
    [
        "/reports/report_contacts.json",
        "/reports/report_contacts",
        "/reports/form_keys.json",
        "/reports.json?sql=select+contact+from+report_contacts",
        "/reports.json?sql=select+*+from+reports",
    ],
    ids=["contacts-json", "contacts-page", "form-key", "sql-contacts", "any-sql"],
)
def test_contacts_form_key_and_free_sql_are_refused(served, path):
    ds, _, _ = served
    assert get(ds, path).status_code == 403


def test_writes_are_refused_and_nothing_changes(served):
    ds, _, path = served
    response = get(ds, "/reports.json?sql=delete+from+reports")
    assert response.status_code == 400 and "Statement must be a SELECT" in response.text
    count = sqlite3.connect(path).execute("select count(*) from reports").fetchone()[0]
    assert count == 3


def test_no_served_page_shows_a_reporters_contact(served):
    ds, _, _ = served
    for path in (
        "/reports/reports",
        "/reports/reports.json?_shape=array",
        "/reports/reports/2",
        "/reports/open_reports.json?_shape=array",
        "/reports",
    ):
        response = get(ds, path)
        assert response.status_code == 200, path
        assert CONTACT not in response.text, path
