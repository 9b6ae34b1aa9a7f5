"""The map page in real headless Chromium (issue #11): this search's places only, numbered as
the list, a marker for the searched place, side by side with the list at 1280 px, popups that
are keyboard-usable (24 px targets, never focused while clipped, Escape closes), axe-clean in
English and Spanish."""

import re
import urllib.request

import pytest

from finder import create_app
from finder.web.serving import serving_in_background

from .browser import TILE_URL, TILES, missing, open_context, serious_violations
from .conftest import TUESDAY_EVENING

if why := missing():
    pytest.skip(why, allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

MAP = "/map?q=19103"


@pytest.fixture(scope="module")
def base_url(map_db):
    """SE Pennsylvania's meetings and Massachusetts' Al-Anon (hybrid meetings far away)."""
    app = create_app({"DATABASE": str(map_db), "FROZEN_NOW": TUESDAY_EVENING, "TILE_URL": TILE_URL})
    with serving_in_background(app) as base:
        for path in (MAP, "/map?q=Philadelphia"):  # build the index, load the gazetteers
            urllib.request.urlopen(base + path, timeout=120).close()
        yield base


@pytest.fixture
def open_page(browser, base_url):
    contexts = []

    def open_at(width: int, height: int = 800, **options):
        context = open_context(browser, base_url, width=width, height=height, **options)
        contexts.append(context)
        return context.new_page()

    yield open_at
    for context in contexts:
        context.close()


def box_of(locator) -> dict:
    return locator.bounding_box()


def markers(page):
    return page.locator(".leaflet-marker-icon[role=button]")


def list_hrefs(page) -> list[str]:
    return page.locator("#places > li h3 a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )


@pytest.mark.parametrize("width", [1280, 375])
def test_map_and_list_layout(open_page, width):
    page = open_page(width, 800 if width > 400 else 667)
    page.goto(MAP)
    expect(page.locator("#map")).to_be_visible()
    the_map, the_list = box_of(page.locator("#map")), box_of(page.locator("#places"))
    if width == 1280:  # side by side: the list on the left, the map on the right, both in view
        assert the_list["x"] + the_list["width"] <= the_map["x"]
        assert the_map["width"] >= 400 and the_list["width"] >= 400
        assert the_map["y"] < 800 and the_list["y"] < 800
    else:  # one column, each the width of the screen
        assert the_map["width"] >= 330 and the_list["width"] >= 330
        assert the_map["y"] + the_map["height"] <= the_list["y"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_markers_hold_exactly_the_listed_places_with_their_numbers(open_page):
    page = open_page(1280)
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(MAP)
    expect(markers(page).first).to_be_visible()
    hrefs = list_hrefs(page)
    seen = {}
    for marker in markers(page).all():
        name = marker.get_attribute("aria-label")
        count = len(seen)
        marker.focus()
        page.keyboard.press("Enter")
        items = page.locator(".leaflet-popup-content li")
        expect(items.first).to_be_visible()
        for item in items.all():
            number = int(item.get_attribute("value"))
            seen[number] = item.locator("a").get_attribute("href")
        shown = len(seen) - count
        if shown == 1:  # a single place: its list number on the marker, and its name
            assert marker.inner_text() == str(number)
            assert re.fullmatch(rf"{number}: .+, at .+", name), name
        else:  # several: named by what it holds, with their numbers
            assert re.fullmatch(
                r"\d+ (meetings|listings) (at|near) .+ \(numbers [\d, ]+ in the list\)", name
            )
            assert name.startswith(f"{shown} ")
        page.keyboard.press("Escape")
        expect(page.locator(".leaflet-popup")).to_have_count(0)
    # Marker numbers are the list's numbers, for the same listings.
    assert seen == {n: href for n, href in enumerate(hrefs, 1)}
    tiles = [
        int(re.match(rf"{TILES}/(\d+)/", url).group(1))
        for url in requested
        if url.startswith(TILES)
    ]
    assert tiles and min(tiles) >= 10, "the first view fits Philadelphia, not the country"
    base = re.match(r"https?://[^/]+", page.url).group(0)
    assert not [url for url in requested if not url.startswith((base, TILES))]


def test_the_searched_place_is_marked(open_page):
    page = open_page(375, 667)
    page.goto(MAP)
    here = page.locator("#map path.here")
    expect(here).to_be_visible()
    assert here.get_attribute("aria-label") == "You searched here: ZIP 19103"
    map_box, here_box = box_of(page.locator("#map")), box_of(here)
    assert map_box["x"] <= here_box["x"] <= map_box["x"] + map_box["width"]


@pytest.mark.parametrize("width", [1280, 375])
def test_popup_is_focused_only_in_view_has_24px_links_and_escape_closes_it(open_page, width):
    page = open_page(width, 800 if width > 400 else 667)
    page.goto(MAP)
    cluster = page.locator(".leaflet-marker-icon.cluster").first
    cluster.focus()
    page.keyboard.press("Enter")
    popup = page.locator(".leaflet-popup")
    expect(popup).to_be_visible()
    first_link = page.locator(".leaflet-popup-content a").first
    expect(first_link).to_be_focused()
    # Focused, so wholly in view: inside the map and inside the window.
    link, the_map = box_of(first_link), box_of(page.locator("#map"))
    viewport = page.viewport_size
    assert (
        the_map["y"] <= link["y"] and link["y"] + link["height"] <= the_map["y"] + the_map["height"]
    )
    assert 0 <= link["y"] and link["y"] + link["height"] <= viewport["height"]
    heights = page.locator(".leaflet-popup-content a").evaluate_all(
        "links => links.map(a => a.getBoundingClientRect().height)"
    )
    assert min(heights) >= 24
    page.keyboard.press("Tab")
    page.keyboard.press("Escape")
    expect(popup).to_have_count(0)
    expect(cluster).to_be_focused()


@pytest.mark.parametrize("width", [1280, 375])
@pytest.mark.parametrize("lang", ["en", "es"])
def test_map_page_is_axe_clean_with_a_popup_open(open_page, width, lang):
    page = open_page(width, 800 if width > 400 else 667)
    page.goto(f"{MAP}&lang={lang}")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    assert not serious_violations(page)
    page.locator(".leaflet-marker-icon.cluster").first.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".leaflet-popup")).to_be_visible()
    # Checked once it has faded in and moved into view: mid-animation its text is translucent.
    expect(page.locator(".leaflet-popup")).to_have_css("opacity", "1")
    expect(page.locator(".leaflet-popup a:focus")).to_have_count(1)
    assert not serious_violations(page)
    if lang == "es":
        name = page.locator(".leaflet-marker-icon.cluster").first.get_attribute("aria-label")
        assert re.search(r"reuniones (en|cerca de) .+ \(números [\d, ]+ de la lista\)", name)


@pytest.mark.parametrize("path", ["/search?q=Springfield", "/search?q=Philadelphia&lang=es"])
def test_place_choice_pages_are_axe_clean(open_page, path):
    page = open_page(375, 667)
    page.goto(path)
    assert not serious_violations(page)


def test_without_javascript_the_numbered_list_is_the_map(open_page):
    page = open_page(375, 667, java_script_enabled=False)
    page.goto(MAP)
    expect(page.locator("#map")).to_be_hidden()
    expect(page.locator("#map-note")).to_contain_text("The map needs JavaScript")
    first = page.locator("#places > li h3").first
    assert first.evaluate("h => getComputedStyle(h, '::before').content") == "counter(place)"
    assert page.locator("#places > li").count() > 3
