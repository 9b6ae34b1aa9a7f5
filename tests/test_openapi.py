"""The OpenAPI document matches the implementation (issue #12): it is a valid OpenAPI 3.1
document, and schemathesis sends generated requests (valid and invalid) to every operation over
real bundled data: no 5xx, every answer and every 4xx as documented, invalid data refused."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from finder import create_app
from finder.web.openapi import document

# Examples per operation and mode (valid, invalid): 11 operations, 16 runs (invalid requests only
# where there are parameters); 40 requests a run, 1 where no parameter can vary: 406 in all.
EXAMPLES = 40
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture(scope="module")
def api_app(philadelphia_db):
    return create_app(
        {
            "TESTING": True,
            "DATABASE": str(philadelphia_db),
            "FROZEN_NOW": "2026-11-24T19:00:00-05:00",
        }
    )


@pytest.fixture(scope="module")
def api_schema(api_app):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", api_app)


CALLS: dict[tuple, int] = {}


# Invalid requests only where there is a parameter to get wrong.
RUNS = [
    (path, mode)
    for path, item in document()["paths"].items()
    for mode in GenerationMode
    if mode is GenerationMode.POSITIVE or item["get"].get("parameters")
]


@pytest.mark.parametrize("path, mode", RUNS, ids=[f"{p}-{m.value}" for p, m in RUNS])
def test_the_api_does_what_its_document_says(api_schema, path, mode):
    operation = api_schema[path]["GET"]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,  # the same requests every run: CI is reproducible
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def call(case):
        CALLS[path, mode] = CALLS.get((path, mode), 0) + 1
        case.validate_response(case.call(), checks=CHECKS)

    call()
    assert CALLS[path, mode] > 0


def test_the_document_is_openapi_3_1(api_app):
    document = api_app.test_client().get("/api/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    routes = {r.rule for r in api_app.url_map.iter_rules() if r.rule.startswith("/api/v1/")}
    documented = {p.replace("{resource_id}", "<int:resource_id>") for p in document["paths"]}
    assert routes == documented, "every v1 route is documented, and nothing else"


def test_search_parameters_are_the_sites(api_app):
    from finder.web.params import NAMES

    document = api_app.test_client().get("/api/openapi.json").get_json()
    names = [p["name"] for p in document["paths"]["/api/v1/search"]["get"]["parameters"]]
    assert sorted(names) == sorted(NAMES)
