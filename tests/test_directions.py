"""Directions in the person's own maps app (finder/web/directions.py) and where the pages show
them: a geo: link and Apple Maps, Google Maps and OpenStreetMap links, each naming its listing."""

import html
import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from finder.web.directions import directions

MARKET_ST = "1500 Market St, Philadelphia, PA 19102"


@pytest.mark.parametrize(
    "args, expected",
    [
        (
            (39.94928, -75.17447, "Gratitude"),
            {
                "maps_app": "geo:39.94928,-75.17447?q=39.94928,-75.17447(Gratitude)",
                "apple": "https://maps.apple.com/?daddr=39.94928,-75.17447",
                "google": "https://www.google.com/maps/dir/?api=1&destination=39.94928,-75.17447",
                "openstreetmap": "https://www.openstreetmap.org/directions?to=39.94928,-75.17447",
            },
        ),
        # Names are encoded; their brackets would end a geo: label early.
        (
            (40.0, -75.1, "New Beginnings (Phila) & Friends #2"),
            {
                "maps_app": "geo:40.00000,-75.10000?q=40.00000,-75.10000"
                "(New%20Beginnings%20%5BPhila%5D%20%26%20Friends%20%232)",
            },
        ),
        # A position known only to its ZIP or town: the apps are given the street address.
        (
            (39.9513, -75.1741, "Gratitude", MARKET_ST, True),
            {
                "maps_app": "geo:0,0?q=1500%20Market%20St,%20Philadelphia,%20PA%2019102",
                "apple": "https://maps.apple.com/?daddr=1500%20Market%20St,%20Philadelphia,%20PA%2019102",
                "google": "https://www.google.com/maps/dir/?api=1"
                "&destination=1500%20Market%20St,%20Philadelphia,%20PA%2019102",
                "openstreetmap": "https://www.openstreetmap.org/directions?to=39.95130,-75.17410",
            },
        ),
        # Exact positions go as coordinates even when the address is known.
        (
            (39.9513, -75.1741, "Gratitude", MARKET_ST, False),
            {"apple": "https://maps.apple.com/?daddr=39.95130,-75.17410"},
        ),
        # Approximate, but no address to send: the position it has.
        (
            (39.9513, -75.1741, "Gratitude", None, True),
            {"google": "https://www.google.com/maps/dir/?api=1&destination=39.95130,-75.17410"},
        ),
    ],
)
def test_directions_links(args, expected):
    links = directions(*args)
    assert {name: getattr(links, name) for name in expected} == expected


@pytest.mark.parametrize("name", ["Café & Co", "A/B 50% (group) #1?", "Grupo “Nuevo Camino”"])
def test_any_name_or_address_survives_the_round_trip(name):
    links = directions(40.0, -75.0, name, address=f"{name}, Main St", approximate=True)
    assert parse_qs(urlsplit(links.google).query)["destination"] == [f"{name}, Main St"]
    assert parse_qs(urlsplit(links.apple).query)["daddr"] == [f"{name}, Main St"]
    assert unquote(links.maps_app.split("?q=", 1)[1]) == f"{name}, Main St"
    named = directions(40.0, -75.0, name)
    label = unquote(named.maps_app.split("(", 1)[1].rsplit(")", 1)[0])
    assert "(" not in label and ")" not in label


@pytest.fixture(scope="module")
def site(philadelphia_db):
    from finder import create_app

    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(philadelphia_db),
            "FROZEN_NOW": "2026-11-24T19:00:00-05:00",
        }
    )
    return app.test_client()


def direction_links(fragment: str) -> list[tuple[str, str]]:
    """(href, the link's whole text including visually hidden words) of a directions list."""
    found = re.findall(r'<a href="([^"]+)"[^>]*>(.*?)</a>', fragment, re.S)
    return [
        (html.unescape(href), html.unescape(re.sub(r"<[^>]+>", "", text))) for href, text in found
    ]


@pytest.mark.parametrize("lang, words", [("en", "directions to %s"), ("es", "cómo llegar a %s")])
def test_every_in_person_card_has_directions_naming_its_meeting(site, lang, words):
    found = site.get("/api/search?q=19103").get_json()
    page = site.get(f"/search?q=19103&lang={lang}").get_data(as_text=True)
    # Each card runs from its opening tag to the next card's (or the page's end).
    cards = re.findall(r'<li data-lat[^>]* id="r(\d+)">(.*?)(?=<li data-lat|\Z)', page, re.S)
    assert len(cards) > 5
    names = {item["id"]: item["name"] for g in found["groups"].values() for item in g}
    for listing_id, card in cards:
        block = re.search(r'<details class="directions">(.*?)</details>', card, re.S)
        assert block, f"no directions on card {listing_id}"
        links = direction_links(block.group(1))
        assert [href.split(":", 1)[0] for href, _ in links] == ["geo", "https", "https", "https"]
        for _, text in links:
            assert text.endswith(": " + words % names[int(listing_id)])


def test_online_only_listings_have_no_directions(site):
    found = site.get("/api/search?q=19103&attendance=online").get_json()
    page = site.get("/search?q=19103&attendance=online").get_data(as_text=True)
    cards = dict(re.findall(r'<li[^>]* id="r(\d+)">(.*?)(?=<li[^>]* id="r|\Z)', page, re.S))
    online = [i["id"] for g in found["groups"].values() for i in g if i["attendance"] == "online"]
    shown = [n for n in online if str(n) in cards]
    assert shown
    assert not [n for n in shown if 'class="directions"' in cards[str(n)]]


def test_a_listings_page_offers_every_maps_app(site):
    found = site.get("/api/search?q=19103").get_json()
    item = found["groups"]["in_progress"][0]
    page = site.get(f"/resource/{item['id']}").get_data(as_text=True)
    block = re.search(r'<p class="directions-links">(.*?)</p>', page, re.S).group(1)
    links = direction_links(block)
    expected = directions(
        item["latitude"], item["longitude"], item["name"], item["address"],
        item["approximate_location"],
    )  # fmt: skip
    assert [href for href, _ in links] == [
        expected.maps_app,
        expected.apple,
        expected.google,
        expected.openstreetmap,
    ]
    assert [text.split(":")[0] for _, text in links] == [
        "Your maps app",
        "Apple Maps",
        "Google Maps",
        "OpenStreetMap",
    ]
    assert all(text.endswith(f": directions to {item['name']}") for _, text in links)
    # Plain links only: nothing on the page loads from a maps service.
    assert not re.search(r"<(?:img|script|link|iframe)[^>]+(?:apple|google|openstreetmap)", page)
