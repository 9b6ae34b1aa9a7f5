"""An API answer's results, encoded from parts kept per listing, are exactly the items the pages
show, encoded whole: the same fields, values and order, for every kind of search."""

import pytest
from flask import request

from finder import create_app
from finder.search.query import GROUPS
from finder.web.answers import answer_request

from .conftest import TUESDAY_EVENING


@pytest.fixture(scope="module")
def app(map_db):
    return create_app({"TESTING": True, "DATABASE": str(map_db), "FROZEN_NOW": TUESDAY_EVENING})


@pytest.mark.parametrize(
    "search",
    [
        "q=19103",  # in progress, starting soon (by arrival, with reach), online, open now
        "q=19103&order=nearest",
        "q=19103&when=any&limit=100",  # untimed: no time fields
        "q=19103&when=today&attendance=online",  # hybrid meetings far away: no distance
        "q=19103&type=O&not=W&program=AA",  # the filters in each "why"
        "lat=39.9526&lon=-75.1652&radius=0.5&widen=yes",  # widened
        "lat=40.3&lon=-75.9&when=at&day=saturday&time=08:00",
        "q=Boston%2C+MA&kind=meeting",
        "q=Nome%2C+AK",  # far from every meeting: lines only
    ],
)
def test_encoded_results_are_the_items_encoded(app, search):
    with app.test_request_context(f"/api/v1/search?{search}"):
        answer = answer_request(request.args)
        encoded = app.json.dumps(answer.encoded_groups())  # as the API's answers are encoded
        whole = app.json.dumps(answer.groups)
    assert encoded == whole
    assert sum(len(answer.groups[g]) for g in GROUPS) > 0


def test_reach_is_given_where_the_order_is_by_arrival(app):
    with app.test_request_context("/api/v1/search?q=19103&order=soonest"):
        soonest = answer_request(request.args).groups
    with app.test_request_context("/api/v1/search?q=19103&order=nearest"):
        nearest = answer_request(request.args).groups
    placed = [i for g in ("in_progress", "starting_soon") for i in soonest[g] if i["distance_km"]]
    assert placed and all("reach" in item for item in placed)
    assert not any("reach" in i for g in GROUPS for i in nearest[g])
