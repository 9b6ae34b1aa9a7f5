"""The versioned JSON API (issue #12): exactly the site's parameters, strict about the rest,
vocabularies in English and Spanish, caching and CORS; answers checked against the OpenAPI
document."""

import re
from datetime import UTC, datetime

import pytest
from jsonschema import Draft202012Validator

from finder import create_app
from finder.web.openapi import document

NOW = "2026-11-24T19:00:00-05:00"  # a Tuesday evening in Philadelphia


@pytest.fixture(scope="module")
def api(philadelphia_db):
    app = create_app({"TESTING": True, "DATABASE": str(philadelphia_db), "FROZEN_NOW": NOW})
    return app.test_client()


def conforms(body: dict, schema_name: str) -> None:
    """The body matches the named schema of the OpenAPI document (JSON Schema 2020-12)."""
    spec = document()
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": spec["components"]}
    errors = sorted(Draft202012Validator(schema).iter_errors(body), key=str)
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def test_search_with_the_sites_parameters(api):
    response = api.get("/api/v1/search?q=19103&kind=meeting&type=O&limit=3&when=now")
    body = response.get_json()
    assert response.status_code == 200 and body["ok"]
    assert body["place"]["label"] == "ZIP 19103"
    first = body["groups"]["in_progress"][0]
    assert first["start"] == "2026-11-24T19:00:00-05:00"
    assert any(t["code"] == "O" for t in first["types"])
    # The licence of every source in the answer comes with it.
    assert [s["id"] for s in body["sources"]] == ["aasepia"]
    assert body["sources"][0]["license"]
    conforms(body, "Search")


def test_summary_in_spanish(api):
    body = api.get("/api/v1/search?q=19103&lang=es").get_json()
    assert body["summary"].startswith("Apoyo en curso")


@pytest.mark.parametrize(
    "query, message",
    [
        ("program=XYZ", "Unknown program: 'XYZ'. Use one of: AA, Al-Anon"),
        ("q=19103&radus=5", "Unknown parameter: 'radus'"),
        ("q=19103&foo=1&bar=2", "Unknown parameter: 'bar', 'foo'"),
        ("type=ZZZ", "Unknown type: 'ZZZ'"),
        ("attendance=teleport", "Unknown attendance: 'teleport'"),
    ],
)
def test_unknown_parameters_and_values_are_400_naming_them(api, query, message):
    response = api.get(f"/api/v1/search?{query}")
    assert response.status_code == 400
    assert message in response.get_json()["error"]
    conforms(response.get_json(), "Error")


def test_other_endpoints_refuse_parameters_too(api):
    response = api.get("/api/v1/sources?q=19103")
    assert response.status_code == 400 and "'q'" in response.get_json()["error"]


def test_old_search_path_keeps_working(api):
    body = api.get("/api/search?q=19103").get_json()
    assert body["ok"] and body["place"]["label"] == "ZIP 19103"


def test_a_resource_with_its_times_and_licence(api):
    search = api.get("/api/v1/search?q=19103&kind=meeting&limit=1").get_json()
    hit = search["groups"]["in_progress"][0]
    body = api.get(f"/api/v1/resources/{hit['id']}").get_json()
    resource = body["resource"]
    assert resource["name"] == hit["name"]
    assert {"day": 2, "time": "19:00"}.items() <= resource["schedules"][0].items()
    assert resource["timezone"] == "America/New_York"
    assert resource["attribution"]["license"] == search["sources"][0]["license"]
    conforms(resource, "Resource")


def test_a_missing_resource_is_json_404(api):
    response = api.get("/api/v1/resources/999999")
    assert response.status_code == 404
    assert response.get_json() == {"ok": False, "error": "There is no listing with that number."}


def test_sources_with_licence_and_counts(api):
    sources = {s["id"]: s for s in api.get("/api/v1/sources").get_json()["sources"]}
    assert set(sources) == {"aasepia", "national-lines"}
    assert sources["aasepia"]["listings"] > 100 and sources["aasepia"]["license"]
    for source in sources.values():
        conforms(source, "Source")


@pytest.mark.parametrize(
    "path, key, code, english, spanish",
    [
        ("programs", "programs", "NA", "Narcotics Anonymous", "Narcóticos Anónimos"),
        ("kinds", "kinds", "warmline", "Warmline", "Línea de apoyo (warmline)"),
        ("types", "types", "W", "Women", "Mujeres"),
        ("accessibility", "types", "X", "Wheelchair Access", "Acceso en silla de ruedas"),
        ("attendance", "attendance", "online", "Online", "En línea"),
    ],
)
def test_vocabularies_in_english_and_spanish(api, path, key, code, english, spanish):
    entries = {e["code"]: e for e in api.get(f"/api/v1/{path}").get_json()[key]}
    assert (entries[code]["en"], entries[code]["es"]) == (english, spanish)
    for entry in entries.values():
        conforms(entry, "Named")


def test_accessibility_lists_only_access_features(api):
    codes = {e["code"] for e in api.get("/api/v1/accessibility").get_json()["types"]}
    assert {"X", "ASL", "LOOP"} <= codes and "W" not in codes


def test_caching_from_the_build_time(api):
    first = api.get("/api/v1/types")
    assert first.headers["Cache-Control"].startswith("public, max-age=")
    assert first.headers["Last-Modified"] and first.headers["ETag"]
    again = api.get("/api/v1/types", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.data
    search = api.get("/api/v1/search?q=19103")
    assert "max-age=60" in search.headers["Cache-Control"]  # a frozen clock: its whole minute
    assert search.headers["Vary"] == "Accept-Language"
    repeat = api.get("/api/v1/search?q=19103", headers={"If-None-Match": search.headers["ETag"]})
    assert repeat.status_code == 304


def test_a_search_is_fresh_until_the_minute_it_answers_is_over(philadelphia_db):
    live = create_app({"TESTING": True, "DATABASE": str(philadelphia_db)}).test_client()
    search = live.get("/api/v1/search?q=19103")
    second = datetime.now(UTC).second
    age = int(re.search(r"max-age=(\d+)", search.headers["Cache-Control"]).group(1))
    assert 1 <= age <= 60 and (second - (60 - age)) % 60 <= 1  # a second may have ticked


def test_cors_for_get_only(api):
    assert api.get("/api/v1/kinds").headers["Access-Control-Allow-Origin"] == "*"
    assert api.get("/api/v1/search?program=XYZ").headers["Access-Control-Allow-Origin"] == "*"
    preflight = api.options("/api/v1/kinds", headers={"Origin": "https://example.org"})
    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert api.post("/api/v1/kinds").status_code == 405


def test_the_developer_page_is_linked_from_every_page(api):
    home = api.get("/").get_data(as_text=True)
    assert 'href="/developers"' in home
    page = api.get("/developers").get_data(as_text=True)
    assert "/api/v1/search" in page and "/api/openapi.json" in page
    assert "Unknown parameter" not in page
