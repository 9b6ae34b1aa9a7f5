"""Search parameters, whatever a client sends: a Query or a ParamError (a 400), never a crash.

Coordinates are read by one function, ``params.coordinate``, that accepts exactly the numbers it
validates: every way of writing a number in range is a place, everything else a precise 400.
"""

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from finder.web.params import ParamError, Search, coordinate, parse_search

NOW = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)  # a Tuesday evening in the US
NAMES = (
    "q lat lon radius unit when day time hours tz kind attendance program type not order "
    "limit widen lang page"
).split()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("40", 40.0),
        ("40.", 40.0),
        ("+5", 5.0),
        ("1e1", 10.0),
        ("-.5", -0.5),
        (" 39.95 ", 39.95),
        ("9E-1", 0.9),
        ("-90", -90.0),
    ],
)
def test_every_spelling_of_a_number_in_range_is_read(text, expected):
    assert coordinate(text, -90, 90) == expected


@pytest.mark.parametrize(
    "text, message",
    [
        ("nan", "must be numbers"),
        ("inf", "must be numbers"),
        ("1_0", "must be numbers"),
        ("0x10", "must be numbers"),
        ("4 0", "must be numbers"),
        ("", "must be numbers"),
        ("9" * 400, "must be numbers"),
        ("90.0001", "between -90 and 90"),
        ("1e400", "between -90 and 90"),
    ],
)
def test_anything_else_is_a_precise_error(text, message):
    with pytest.raises(ParamError, match=message):
        coordinate(text, -90, 90)


def test_api_reads_the_spellings_that_used_to_be_500s(client):
    for lat, lon in (("40.", "-75"), ("+40", "-75."), ("4e1", "-7.5e1")):
        response = client.get(f"/api/search?lat={lat}&lon={lon}&when=any")
        assert response.status_code == 200, response.json
        assert response.json["place"]["latitude"] == 40.0


numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(min_value=-200, max_value=200).map(lambda x: f"{x:+.3e}"),
    st.integers(-300, 300).map(lambda n: f"{n}."),
    st.from_regex(r"[+-]?\d{0,3}\.?\d{0,3}([eE][+-]?\d{1,3})?", fullmatch=True),
)
values = st.one_of(numbers, st.text(max_size=30), st.sampled_from(["now", "any", "km", "NA"]))
arguments = st.dictionaries(
    st.sampled_from(NAMES) | st.text(max_size=5), st.lists(values, max_size=3), max_size=8
)


@pytest.mark.properties
@given(arguments)
def test_any_arguments_give_a_query_or_a_param_error(geocoder, args):
    try:
        found = parse_search(
            MultiDict([(k, v) for k, vs in args.items() for v in vs]), geocoder, NOW
        )
    except ParamError:
        return
    assert isinstance(found, Search)
    if found.query.has_point:
        assert -90 <= found.query.latitude <= 90 and -180 <= found.query.longitude <= 180
