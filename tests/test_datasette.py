"""Datasette for maintainers (issue #13), through Datasette's own test client, over a database
built by the real importers and a real refresh: metadata served, every saved query finds the rows
it must, listings link to the site, the map plugin is active, writes are refused."""

import asyncio
import importlib.util
import math
from pathlib import Path

import pytest
import yaml
from datasette.app import Datasette
from datasette.plugins import pm

from finder import create_app

from .feed_server import FeedServer

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
BUNDLED = ["aasepia", "nwta", "michigan", "samhsa-otp", "samhsa-sut", "national-lines"]
SITE = "https://finder.example.org"
OVERRIDES = """
[[override]]
source = "aasepia"
source_id = "shoulder-shoulder-group-Sun12am"
field = "location.notes"
value = "Use the side door"
reason = "Reported to the office by the group"
who = "Intergroup office"

[[override]]
source = "aasepia"
source_id = "meeting-1937-macdade-boulevard-woodlyn-pa-19094-usa-0-000000"
field = "name"
value = "Chester-Woodlyn Group"
was = "Chester Woodlyn"
reason = "The group's own name"
who = "Intergroup office"
"""


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    """Bundled sources imported by `import`, and one live source fetched by `refresh`."""
    folder = tmp_path_factory.mktemp("datasette")
    registry = folder / "sources.toml"
    text = (DATA / "sources.toml").read_text()
    # Paths made absolute, so the registry can live in the temporary folder.
    text = text.replace('path = "', f'path = "{DATA}/')
    with FeedServer() as server:
        server.routes["/sussex.json"] = (DATA / "meeting-guide" / "sussexaa.json").read_bytes()
        live = (
            '\n[[source]]\nid = "sussex-live"\nname = "Sussex County AA (live)"\n'
            f'format = "meeting_guide"\nurl = "{server.url("/sussex.json")}"\nprogram = "AA"\n'
            'default_timezone = "America/New_York"\n'
        )
        registry.write_text(text + live)
        (folder / "overrides.toml").write_text(OVERRIDES)
        app = create_app(
            {
                "TESTING": True,
                "DATABASE": str(folder / "finder.db"),
                "SOURCES": str(registry),
                "FEEDS": str(folder / "feeds"),
                "SITE_URL": SITE,
                "OVERRIDES": str(folder / "overrides.toml"),
            }
        )
        runner = app.test_cli_runner()
        result = runner.invoke(args=["refresh", "sussex-live"])
        assert result.exit_code == 0, result.output
        result = runner.invoke(args=["import", *BUNDLED])
        assert result.exit_code == 0, result.output
    return folder / "finder.db"


@pytest.fixture(scope="module")
def ds(database):
    metadata = yaml.safe_load((DATA / "metadata.yml").read_text())
    # The duplicate query takes 0.2-0.4 s on the full bundled data on an idle machine; the test
    # machine runs several suites at once, so Datasette's 1 s default limit is raised here.
    settings = {"sql_time_limit_ms": 30_000}
    # The plugin feed_status needs (not the hardening one: its heap limit is process-wide).
    plugin = _load(ROOT / "scripts" / "datasette_plugins" / "refresh_failures.py")
    pm.register(plugin)
    yield Datasette(immutables=[str(database)], metadata=metadata, settings=settings)
    pm.unregister(plugin)


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def get(ds, path):
    """A response from Datasette's own client."""
    return asyncio.run(ds.client.get(path))


def query(ds, name, **params):
    """The rows a saved query returns, as dicts."""
    args = "&".join(f"{k}={v}" for k, v in params.items())
    response = get(ds, f"/finder/{name}.json?_shape=array&{args}")
    assert response.status_code == 200, response.text
    return response.json()


def test_metadata_and_column_descriptions_are_served(ds):
    page = get(ds, "/finder/feed_health")
    assert page.status_code == 200
    assert "How each live feed" in page.text
    assert "Records gained (+) or lost (-)" in page.text


def test_tables_maintainers_do_not_need_are_hidden(ds):
    tables = {t["name"]: t for t in get(ds, "/finder.json").json()["tables"]}
    for name in ("_sqlite_migrations", "geocode_cache", "settings", "resources_fts"):
        assert tables[name]["hidden"], name
    assert not tables["resources"]["hidden"] and not tables["feed_health"]["hidden"]


def test_full_text_search_on_names_and_addresses(ds):
    hospitals = get(ds, "/finder/resources.json?_search=hospital&_shape=array&_size=5").json()
    searched = ("name", "description", "hours_text", "conference_url_notes", "regions")
    assert hospitals
    for row in hospitals:
        assert any("hospital" in (row[c] or "").lower() for c in searched)
    broad = get(ds, "/finder/locations.json?_search=broad&_shape=array&_size=5").json()
    assert broad
    for row in broad:
        assert "broad" in f"{row['name']} {row['address']} {row['formatted_address']}".lower()


def test_every_listing_links_to_its_page_on_the_site(ds):
    rows = get(ds, "/finder/listings.json?_shape=array&_size=3").json()
    assert [r["site_url"] for r in rows] == [f"{SITE}/resource/{r['id']}" for r in rows]
    page = get(ds, "/finder/listings?_size=3")
    assert f'href="{SITE}/resource/{rows[0]["id"]}"' in page.text


def test_the_map_plugin_is_active(ds):
    plugins = {p["name"] for p in get(ds, "/-/plugins.json").json()}
    assert "datasette-cluster-map" in plugins
    page = get(ds, "/finder/listings?_size=3")
    assert "datasette-cluster-map" in page.text


def test_writes_are_refused(ds, database):
    response = get(ds, "/finder.json?sql=delete+from+resources")
    assert response.status_code == 400
    assert "Statement must be a SELECT" in response.text
    assert not ds.get_database("finder").is_mutable  # served immutable, as serve.py does


def test_stale_sources_are_summarised_per_source_and_sorted_by_age(ds):
    rows = query(ds, "stale_sources")
    assert len(rows) == len({*BUNDLED, "sussex-live"})  # one row per source, not per listing
    newest = [r["newest"] for r in rows]
    assert newest == sorted(newest)
    nwta = next(r for r in rows if r["source"] == "nwta")
    assert nwta["listings"] > 500 and nwta["over_2_years"] == nwta["listings"]
    assert rows[0]["days_since_newest"] >= rows[-1]["days_since_newest"]


def test_stale_listings_of_one_source_oldest_first(ds):
    rows = query(ds, "stale_listings", source="aasepia")
    dates = [r["last_verified"] or r["updated"] or r["list_dated"] for r in rows]
    assert rows and dates == sorted(dates)
    assert rows[0]["site_url"] == f"{SITE}/resource/{rows[0]['id']}"


def test_duplicate_candidates_across_and_within_sources(ds):
    rows = query(ds, "duplicate_candidates")
    pairs = {(r["source_a"], r["source_b"]) for r in rows}
    # The bundled treatment duplicates: facilities in both SAMHSA lists, and within one.
    across = [r for r in rows if {r["source_a"], r["source_b"]} == {"samhsa-sut", "samhsa-otp"}]
    assert len(across) > 500
    assert any(
        {r["name_a"], r["name_b"]}
        == {"Coastal Horizons Center Inc", "Coastal Horizons Center, Inc."}
        for r in across
    )
    assert ("samhsa-sut", "samhsa-sut") in pairs
    # Meetings only pair when their times overlap on a shared day.
    meetings = [r for r in rows if r["kind"] == "meeting"]
    assert meetings and all(r["metres"] <= 50 for r in rows)
    # Across-source pairs come first.
    firsts = [r["source_a"] != r["source_b"] for r in rows]
    assert firsts == sorted(firsts, reverse=True)


def test_repaired_geocodes_name_the_listing(ds):
    rows = query(ds, "repaired_geocodes")
    repaired = [r for r in rows if r["source"] == "nwta" and "km away" in r["geocode_note"]]
    assert repaired
    assert all(r["id"] and r["name"] and r["site_url"].endswith(f"/{r['id']}") for r in rows)


def test_latest_rejects_are_each_sources_latest_run(ds, database):
    rows = query(ds, "latest_rejects")
    assert any(r["source"] == "samhsa-otp" and "duplicate of" in r["reason"] for r in rows)
    runs = {r["source"]: r["run_id"] for r in query(ds, "latest_rejects")}
    latest = get(
        ds,
        "/finder.json?sql=select+source,max(id)+as+run+from+import_runs+group+by+source"
        "&_shape=array",
    ).json()
    latest = {r["source"]: r["run"] for r in latest}
    assert all(latest[source] == run for source, run in runs.items())


@pytest.mark.parametrize(
    "latitude, longitude, km",
    [(39.9526, -75.1652, 2), (45.3, -84.8, 30)],
    ids=["philadelphia", "northern-michigan"],
)
def test_nearby_agrees_with_the_great_circle_distance(ds, latitude, longitude, km):
    rows = query(ds, "nearby", latitude=latitude, longitude=longitude, km=km)
    expected = {
        r["id"]
        for r in _all_positions(ds)
        if _km(latitude, longitude, r["latitude"], r["longitude"]) <= km
    }
    assert expected and {r["id"] for r in rows} == expected
    assert [r["km"] for r in rows] == sorted(r["km"] for r in rows)


def _all_positions(ds):
    sql = (
        "select r.id, l.latitude, l.longitude from resources r join locations l "
        "on l.id = r.location_id where r.status = 'active' and l.latitude is not null"
    )
    database = ds.get_database("finder")
    return [dict(r) for r in asyncio.run(database.execute(sql, page_size=100_000)).rows]


def _km(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 6371 * 2 * math.asin(math.sqrt(a))


def test_feed_health_shows_each_sources_data_date_and_last_refresh(ds):
    rows = {r["source"]: r for r in query(ds, "feed_status")}
    live = rows["sussex-live"]
    assert live["http_status"] == 200 and live["records"] == 123 and live["last_error"] is None
    assert live["data_as_of"] == live["last_success"][:10]
    assert rows["aasepia"]["data_as_of"] == "2025-04-18" and rows["aasepia"]["last_attempt"] is None


def test_metadata_queries_all_run(ds):
    metadata = yaml.safe_load((DATA / "metadata.yml").read_text())
    params = {"source": "nwta", "latitude": 40, "longitude": -75, "km": 1}
    for name in metadata["databases"]["finder"]["queries"]:
        response = get(
            ds,
            f"/finder/{name}.json?_shape=array&" + "&".join(f"{k}={v}" for k, v in params.items()),
        )
        assert response.status_code == 200, (name, response.text)


def test_corrections_are_listed_warnings_first(ds):
    rows = query(ds, "corrections")
    assert [(r["severity"], r["field"]) for r in rows] == [
        ("warning", "name"),  # the source says "Chester-Woodlyn", not what the correction saw
        ("corrected", "name"),
        ("corrected", "location.notes"),
    ]
    assert rows[1]["name"] == "Chester-Woodlyn Group"
    assert rows[1]["site_url"] == f"{SITE}/resource/{rows[1]['id']}"
