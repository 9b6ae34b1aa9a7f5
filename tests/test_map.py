"""The map page's scope and numbering, and what the pages say about the place searched
(issue #11), over real feeds: SE Pennsylvania's meetings and Massachusetts' Al-Anon meetings,
whose hybrid meetings are in a Philadelphia search's "online now" group."""

import html
import json
import re

import pytest

from finder import create_app
from finder.geo.positions import distance_km
from finder.search.query import KM_PER_MILE

from .conftest import TUESDAY_EVENING


@pytest.fixture(scope="module")
def site(map_db):
    app = create_app({"TESTING": True, "DATABASE": str(map_db), "FROZEN_NOW": TUESDAY_EVENING})
    return app.test_client()


def text_of(response) -> str:
    return response.get_data(as_text=True)


def map_data(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="map-data">(.*?)</script>', page, re.S)
    return json.loads(found.group(1))


def listed_ids(page: str) -> list[int]:
    """The listing ids of the map page's list, in its order."""
    places = re.search(r'<ol class="results" id="places">(.*?)</ol>', page, re.S).group(1)
    return [
        int(n) for n in re.findall(r'<li data-lat="[^"]+" data-lon="[^"]+" id="r(\d+)"', places)
    ]


def test_a_philadelphia_map_has_no_far_away_listing(site):
    """The search itself has Massachusetts hybrid meetings (online now); the map has only the
    places within the area searched."""
    found = site.get("/api/search?q=19103").get_json()
    here = found["place"]
    far = [
        item
        for group in found["groups"].values()
        for item in group
        if item["latitude"] is not None
        and distance_km(here["latitude"], here["longitude"], item["latitude"], item["longitude"])
        > 100
    ]
    assert far, "the search should include far-away hybrid meetings for this test to mean much"
    page = text_of(site.get("/map?q=19103"))
    data = map_data(page)
    radius_km = found["radius_km"]
    assert data["places"]
    for place in data["places"]:
        assert distance_km(here["latitude"], here["longitude"], place["lat"], place["lon"]) <= (
            radius_km + 0.05
        )
    for item in far:
        assert f'/resource/{item["id"]}"' not in page
        assert f'id="r{item["id"]}"' not in page


def test_the_map_marks_the_searched_place_and_numbers_as_the_list(site):
    page = text_of(site.get("/map?q=19103"))
    data = map_data(page)
    assert data["here"] == {"lat": 39.9513, "lon": -75.1741, "label": "ZIP 19103"}
    numbers = [place["n"] for place in data["places"]]
    assert numbers == list(range(1, len(numbers) + 1))
    # Marker n is list item n: the same listing, in the same order.
    ids = [int(place["href"].rsplit("/", 1)[1]) for place in data["places"]]
    assert ids == listed_ids(page)
    assert all(place["place"] for place in data["places"])
    assert f"({len(ids)})" in page


def test_one_card_per_group_and_place_on_the_map(site):
    data = map_data(text_of(site.get("/map?q=19103&when=any&radius=2")))
    seen = [(place["name"].casefold(), place["lat"], place["lon"]) for place in data["places"]]
    assert len(seen) == len(set(seen))


def test_a_map_where_nothing_is_listed_near_shows_no_far_place(site):
    page = text_of(site.get("/map?q=80202"))  # Denver: no local lists here
    data = map_data(page)
    assert data["places"] == []
    assert data["here"]["label"] == "ZIP 80202"
    assert "None of these results has a place to show on a map in the area searched." in page


@pytest.mark.parametrize(
    "lang, words",
    [
        (
            "en",
            {
                "here": "You searched here: {place}",
                "meetings_near": "{count} meetings near {place}",
                "one": "{number}: {name}, at {place}",
            },
        ),
        (
            "es",
            {
                "here": "Usted buscó aquí: {place}",
                "meetings_near": "{count} reuniones cerca de {place}",
                "one": "{number}: {name}, en {place}",
            },
        ),
    ],
)
def test_marker_names_are_in_the_page_language(site, lang, words):
    data = map_data(text_of(site.get(f"/map?q=19103&lang={lang}")))
    assert {key: data["words"][key] for key in words} == words
    # A language chosen in the address stays chosen on the listing a marker opens.
    assert all(place["href"].endswith(f"?lang={lang}") for place in data["places"])


PLACE_MESSAGES = [
    # (typed, status, English, Spanish)
    (
        "00000",
        400,
        "00000 is not a US ZIP code in use.",
        "00000 no es un código postal de EE. UU. en uso.",
    ),
    (
        "1234",
        400,
        "A US ZIP code has 5 digits; “1234” has 4.",
        "Un código postal de EE. UU. tiene 5 cifras; “1234” tiene 4.",
    ),
    (
        "Springfield",
        400,
        "There is more than one “Springfield”. Choose one below, or add the state, "
        "like “Springfield, MO”.",
        "Hay más de un lugar llamado “Springfield”. Elija uno abajo, o añada el estado, "
        "como “Springfield, MO”.",
    ),
    (
        "1500 Market St",
        400,
        "We could not place “1500 Market St”. Add the city and state or the ZIP code",
        "No pudimos ubicar “1500 Market St”. Añada la ciudad y el estado o el código postal",
    ),
    (
        "1500 Market St, Philadelphia, PA 19103",
        200,
        "within 10 miles of your address (near the centre of ZIP 19103)",
        "a menos de 10 millas de su dirección (cerca del centro del código postal 19103)",
    ),
    (
        "1500 Market St, Philadelphia, PA",
        200,
        "within 10 miles of your address (near the centre of Philadelphia, PA)",
        "a menos de 10 millas de su dirección (cerca del centro de Philadelphia, PA)",
    ),
    (
        "Philadelphia",
        200,
        "Showing Philadelphia, PA. Did you mean:",
        "Se muestra Philadelphia, PA.",
    ),
]


@pytest.mark.parametrize("typed, status, english, spanish", PLACE_MESSAGES)
@pytest.mark.parametrize("lang", ["en", "es"])
def test_what_the_page_says_about_the_place(site, typed, status, english, spanish, lang):
    response = site.get("/search", query_string={"q": typed, "lang": lang})
    assert response.status_code == status
    words = html.unescape(re.sub(r"<[^>]+>", "", text_of(response)))
    assert (english if lang == "en" else spanish) in words


@pytest.mark.parametrize("page", ["/search", "/map"])
def test_did_you_mean_links_search_the_other_towns_on_the_same_page(site, page):
    text = text_of(site.get(page, query_string={"q": "Philadelphia", "when": "any", "lang": "es"}))
    line = re.search(r'<p class="did-you-mean">.*?</p>', text, re.S).group(0)
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', line)
    assert [label for _, label in links] == [
        "Philadelphia, MS",
        "Philadelphia, MO",
        "Philadelphia, NY",
    ]
    href = html.unescape(links[0][0])
    assert href.startswith(page + "?") and "q=Philadelphia,+MS" in href
    assert "when=any" in href and "lang=es" in href


def test_an_ambiguous_town_offers_its_candidates_as_links(site):
    response = site.get("/search?q=Springfield&kind=meeting")
    assert response.status_code == 400
    choices = re.search(r'<ul class="place-choices">(.*?)</ul>', text_of(response), re.S).group(1)
    links = [
        (html.unescape(h), t) for h, t in re.findall(r'<a href="([^"]+)">([^<]+)</a>', choices)
    ]
    assert [label for _, label in links][:3] == [
        "Springfield, MO",
        "Springfield, MA",
        "Springfield, IL",
    ]
    assert links[0][0] == "/search?q=Springfield,+MO&kind=meeting"
    chosen = site.get(links[0][0])
    assert chosen.status_code == 200


def test_the_api_names_the_place_problem(site):
    response = site.get("/api/search?q=00000")
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("00000 is not a US ZIP code in use.")


def test_radius_in_miles_matches_the_map_scope(site):
    found = site.get("/api/search?q=19103&radius=2&widen=no").get_json()
    assert found["radius_km"] == pytest.approx(2 * KM_PER_MILE, abs=0.001)
    data = map_data(text_of(site.get("/map?q=19103&radius=2&widen=no")))
    here = data["here"]
    assert all(
        distance_km(here["lat"], here["lon"], p["lat"], p["lon"]) <= 2 * KM_PER_MILE + 0.05
        for p in data["places"]
    )
