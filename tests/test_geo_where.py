"""What a person typed, as a place (finder/geo/where.py): a town's name alone, impossible ZIP
codes and street addresses, over the real offline gazetteers (issue #11)."""

import pytest
from geopy.location import Location

from finder.errors import GeocodeError
from finder.geo.offline import OfflineGeocoder
from finder.geo.us_places import towns_named
from finder.geo.where import AmbiguousPlace, choose_town, locate


@pytest.fixture(scope="module")
def geocoder():
    return OfflineGeocoder()


@pytest.mark.parametrize(
    "text, label, alternatives",
    [
        # One town of the name dwarfs the others: it is taken, the others offered.
        ("Philadelphia", "Philadelphia, PA", ("Philadelphia, MS", "Philadelphia, MO")),
        ("Portland", "Portland, OR", ("Portland, ME", "Portland, TX")),
        ("Kansas City", "Kansas City, MO", ("Kansas City, KS",)),
        ("columbus", "Columbus, OH", ("Columbus, GA", "Columbus, IN")),
        # Only one town has the name: no alternatives.
        ("Lubbock", "Lubbock, TX", ()),
        # A state given: exactly that town, whatever else has the name.
        ("Philadelphia, MS", "Philadelphia, MS", ()),
        ("Springfield, IL", "Springfield, IL", ()),
    ],
)
def test_a_town_name_alone_resolves_to_the_largest_when_it_dwarfs_the_rest(
    geocoder, text, label, alternatives
):
    place = locate(text, geocoder)
    assert place.label == label
    assert place.precision == "city"
    assert place.alternatives[: len(alternatives)] == alternatives
    assert len(place.alternatives) <= 3


@pytest.mark.parametrize(
    "text, first_candidates, message",
    [
        ("Springfield", ("Springfield, MO", "Springfield, MA", "Springfield, IL"), "more than one"),
        ("Aurora", ("Aurora, CO", "Aurora, IL"), "more than one"),
        ("Paris", ("Paris, TX", "Paris, TN"), "more than one"),
        # One small town of that name (under 5,000 people): offered, not assumed.
        ("Atlantis", ("Atlantis, FL",), "could not find “Atlantis” on its own"),
    ],
)
def test_a_town_name_shared_by_towns_of_a_size_offers_the_candidates(
    geocoder, text, first_candidates, message
):
    with pytest.raises(AmbiguousPlace, match=message) as caught:
        locate(text, geocoder)
    candidates = caught.value.candidates
    assert candidates[: len(first_candidates)] == first_candidates
    assert len(candidates) <= 6
    assert caught.value.values["example"] == first_candidates[0]


def people(*counts):
    return [
        Location(f"Town {n}, S{n}", (40.0, -75.0), {"precision": "city", "population": count})
        for n, count in enumerate(counts)
    ]


@pytest.mark.parametrize(
    "found, chosen, alternatives",
    [
        (people(300), "Town 0, S0", ()),
        (people(300, 100), "Town 0, S0", ("Town 1, S1",)),  # exactly 3x: taken
        (people(300, 0, 0, 0, 0), "Town 0, S0", ("Town 1, S1", "Town 2, S2", "Town 3, S3")),
        (people(299, 100), None, None),  # just under 3x: the person chooses
        (people(0, 0), None, None),  # no town known to GeoNames: the person chooses
        (people(0), None, None),
        # A geocoder that does not count people (Nominatim, a cache): its first answer.
        ([Location("Somewhere", (1.0, 2.0), {"precision": "rooftop"})], "Somewhere", ()),
    ],
)
def test_choose_town(found, chosen, alternatives):
    if chosen is None:
        with pytest.raises(AmbiguousPlace):
            choose_town("Town", found)
        return
    match, others = choose_town("Town", found)
    assert (match.address, others) == (chosen, alternatives)


@pytest.mark.parametrize(
    "text, message",
    [
        ("00000", "00000 is not a US ZIP code in use"),
        ("99999", "99999 is not a US ZIP code in use"),
        ("00000-1234", "00000 is not a US ZIP code in use"),
        ("1234", "A US ZIP code has 5 digits; “1234” has 4"),
        ("191033", "A US ZIP code has 5 digits; “191033” has 6"),
        (
            "1500 Market St",
            "We could not place “1500 Market St”. Add the city and state or the ZIP",
        ),
        ("Nowhere at all", "We could not find “Nowhere at all”. Try a 5-digit ZIP code"),
    ],
)
def test_what_is_no_place_says_precisely_why(geocoder, text, message):
    with pytest.raises(GeocodeError) as caught:
        locate(text, geocoder)
    assert not isinstance(caught.value, AmbiguousPlace)
    assert message in str(caught.value)
    if len(text) == 5:  # a 5-digit input is never told to use 5 digits
        assert "5-digit" not in str(caught.value)


@pytest.mark.parametrize(
    "text, label, precision, street",
    [
        ("1500 Market St, Philadelphia, PA 19103", "ZIP 19103", "zip", True),
        ("1500 Market St, Philadelphia, PA", "Philadelphia, PA", "city", True),
        # A ZIP that does not exist in a full address: the town is still right.
        ("1500 Market St, Philadelphia, PA 00000", "Philadelphia, PA", "city", True),
        ("12B Elm Road, Dover, DE 19901", "ZIP 19901", "zip", True),
        ("19103", "ZIP 19103", "zip", False),
        ("Denver, CO", "Denver, CO", "city", False),
        ("39.95, -75.16", "your location", "rooftop", False),
    ],
)
def test_a_street_address_is_placed_at_the_best_precision_and_says_so(
    geocoder, text, label, precision, street
):
    place = locate(text, geocoder)
    assert (place.label, place.precision, place.street) == (label, precision, street)
    assert place.approximate == (precision != "rooftop")


def test_towns_named_lists_every_state_largest_first():
    towns = towns_named("Springfield")
    assert [t.state for t in towns[:3]] == ["MO", "MA", "IL"]
    assert len({t.state for t in towns}) == len(towns) > 10
    assert towns[0].population > towns[1].population > towns[2].population


def test_feeds_never_get_a_guessed_state(geocoder):
    """A structured query (an importer's) with a town but no state is not resolved to the
    largest town of that name: a listing in Philadelphia, MS must not land in Pennsylvania."""
    assert geocoder.geocode({"city": "Philadelphia"}) is None
    assert geocoder.geocode({"city": "Philadelphia", "state": "MS"}).raw["state"] == "MS"


def test_typed_town_matches_are_listed_with_their_people(geocoder):
    found = geocoder.geocode("Philadelphia", exactly_one=False)
    assert found[0].address == "Philadelphia, PA"
    assert found[0].raw["population"] > 1_000_000
    assert geocoder.geocode("Philadelphia").address == "Philadelphia, PA"
