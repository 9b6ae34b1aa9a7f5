"""The site in real headless Chromium: axe-core WCAG 2.2 AA checks at desktop and 320 px,
keyboard-only use, "use my location" allowed and denied, the map, no third-party requests,
no JavaScript, dark mode and reduced motion."""

import re

import pytest

from .browser import TILES, missing, open_context, serious_violations

if why := missing():
    pytest.skip(why, allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

# base_url (conftest): the site over SE Pennsylvania's meetings and the national lines on a
# Tuesday evening, shared with the referral and week page tests.
PHILADELPHIA = {"latitude": 39.9526, "longitude": -75.1652}


@pytest.fixture(scope="session")
def listing_path(base_url):
    """A real meeting in progress near ZIP 19103 (its detail page)."""
    import json
    import urllib.request

    with urllib.request.urlopen(f"{base_url}/api/search?q=19103") as response:
        found = json.load(response)
    return f"/resource/{found['groups']['in_progress'][0]['id']}"


PAGES = {
    "home": "/",
    "results": "/search?q=19103",
    "no results": "/search?q=19103&type=ASL&type=LOOP&attendance=in_person",
    "map": "/map?q=19103",
    "lines": "/lines",
    "privacy": "/privacy",
    "sources": "/about",
    "error": "/search?q=nowhere-at-all",
    "not found": "/resource/999999999",
    "spanish results": "/search?q=19103&lang=es",
    "outside coverage": "/search?q=80202",
    "this week": "/week?q=19103",
    "spanish lines": "/lines?lang=es",
}


@pytest.mark.parametrize("width", [1280, 375, 320])
@pytest.mark.parametrize("name", list(PAGES) + ["detail", "report"])
def test_no_serious_accessibility_violations(browser, base_url, listing_path, name, width):
    path = {"detail": listing_path, "report": listing_path + "/report"}.get(name) or PAGES[name]
    context = open_context(browser, base_url, width=width)
    page = context.new_page()
    page.goto(path)
    problems = serious_violations(page)
    # Reflow (WCAG 1.4.10): nothing scrolls sideways at 320 CSS px, i.e. 1280 px at 400% zoom.
    overflow = page.evaluate("document.documentElement.scrollWidth")
    context.close()
    assert not problems, "\n".join(problems)
    assert overflow <= width


@pytest.mark.parametrize("language", ["en", "es"])
def test_dark_mode_keeps_contrast(browser, base_url, listing_path, language):
    """Every page, dark, on a phone, in each language."""
    context = open_context(browser, base_url, width=375, color_scheme="dark")
    page = context.new_page()
    problems = []
    for path in [*PAGES.values(), listing_path, listing_path + "/report"]:
        page.goto(path + ("&" if "?" in path else "?") + f"lang={language}")
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(18, 18, 18)", path
        problems += [f"{path}: {problem}" for problem in serious_violations(page)]
    context.close()
    assert not problems, "\n".join(problems)


def test_keyboard_only_from_search_to_a_listing(page):
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    for _ in range(3):  # the main landmark, then the place field
        if page.evaluate("document.activeElement.id") == "q":
            break
        page.keyboard.press("Tab")
    expect(page.locator("#q")).to_be_focused()
    page.keyboard.type("19103")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=19103"))
    first = page.locator("ol.results h3 a").first
    for _ in range(30):
        page.keyboard.press("Tab")
        if first.evaluate("link => link === document.activeElement"):
            break
    expect(first).to_be_focused()
    name = first.inner_text()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/resource/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def test_use_my_location_searches_once_allowed(browser, base_url):
    context = open_context(browser, base_url, permissions=["geolocation"], geolocation=PHILADELPHIA)
    page = context.new_page()
    page.goto("/")
    page.get_by_role("button", name="Use my location").click()
    # One tap: once allowed, it searches from there (issue #11).
    expect(page.locator("#summary")).to_contain_text("within 10 miles of your location")
    expect(page.locator("#q")).to_have_value("39.953, -75.165")
    assert page.locator("ol.results > li").count() > 5
    context.close()


def test_use_my_location_denied_says_what_to_do(page):
    page.goto("/")
    page.get_by_role("button", name="Use my location").click()
    expect(page.locator("#locate-status")).to_contain_text("Type a ZIP code or a city instead")
    expect(page.locator("#q")).to_be_focused()


def test_everything_works_without_javascript(browser, base_url):
    context = open_context(browser, base_url, java_script_enabled=False)
    page = context.new_page()
    page.goto("/")
    expect(page.get_by_role("button", name="Use my location")).to_be_hidden()
    page.get_by_label("ZIP code, city and state, or address").fill("19103")
    page.get_by_label("Wheelchair Access").check()
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#summary")).to_contain_text("with wheelchair access")
    assert page.locator("ol.results > li").count() > 3
    page.get_by_role("link", name="Show on a map").click()
    expect(page.locator("#map")).to_be_hidden()
    expect(page.locator("#map-note")).to_contain_text("The map needs JavaScript")
    assert page.locator("#places > li").count() > 3
    context.close()


def test_map_shows_a_marker_per_place_and_loads_tiles_only_there(context):
    page = context.new_page()
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto("/search?q=19103")
    page.get_by_role("link", name="Show on a map").click()
    expect(page.locator("#map")).to_be_visible()
    markers = page.locator(".leaflet-marker-icon")
    expect(markers.first).to_be_visible()
    listed = set()
    for marker in markers.all():  # every listed place is behind exactly one marker
        marker.focus()
        page.keyboard.press("Enter")
        links = page.locator(".leaflet-popup-content a")
        expect(links.first).to_have_attribute("href", re.compile(r"^/resource/\d+"))
        listed.update(links.evaluate_all("links => links.map(a => a.getAttribute('href'))"))
    hrefs = page.locator("#places > li h3 a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    assert listed == set(hrefs)
    before_map = requested[: requested.index(page.url)]
    assert not [url for url in before_map if not url.startswith(context_base(page))]
    assert any(url.startswith(TILES) for url in requested)
    outside = [u for u in requested if not u.startswith((context_base(page), TILES))]
    assert not outside, outside


def context_base(page) -> str:
    return re.match(r"https?://[^/]+", page.url).group(0)


@pytest.mark.parametrize("path", ["/", "/search?q=19103", "/lines", "/privacy"])
def test_pages_request_nothing_from_elsewhere(page, path):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(path)
    page.wait_for_load_state("networkidle")
    base = context_base(page)
    assert requested and all(url.startswith(base) for url in requested), requested


def test_reduced_motion_turns_off_transitions(browser, base_url):
    context = open_context(browser, base_url, reduced_motion="reduce")
    page = context.new_page()
    page.goto("/")
    duration = page.evaluate(
        "getComputedStyle(document.querySelector('button')).transitionDuration"
    )
    assert duration in ("0s", "")
    context.close()


def test_spanish_page_and_language_switch(browser, base_url):
    context = open_context(browser, base_url, locale="es")
    page = context.new_page()
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.get_by_label("Código postal, ciudad y estado, o dirección").fill("19103")
    page.get_by_role("button", name="Buscar", exact=True).click()
    expect(page.locator("#summary")).to_contain_text("a menos de 10 millas")
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#summary")).to_contain_text("within 10 miles of ZIP 19103")
    context.close()


# The first screen of a phone (issue #11): 375x667 CSS px, nothing scrolled.
PHONE = {"width": 375, "height": 667}
CRISIS = {"en-US": ("Call 988", "Text 988"), "es": ("Llamar al 988", "Texto al 988")}


@pytest.fixture(params=["en-US", "es"])
def phone(request, browser, base_url):
    context = open_context(browser, base_url, locale=request.param, **PHONE)
    page = context.new_page()
    page.locale = request.param
    yield page
    context.close()


def first_screen_box(locator) -> dict:
    """The element's box, asserted to lie wholly inside the first screen."""
    box = locator.bounding_box()
    assert box is not None, locator
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], box
    return box


def assert_crisis_bar_on_first_screen(page):
    for name in CRISIS[page.locale]:
        box = first_screen_box(page.locator(".crisis").get_by_role("link", name=name, exact=True))
        assert box["width"] >= 44 and box["height"] >= 44, (name, box)
    first_screen_box(page.locator('.crisis a[href="tel:18006624357"]'))  # SAMHSA


def test_phone_home_answers_on_the_first_screen(phone):
    phone.goto("/")
    first_screen_box(phone.locator("#q"))
    search = "Search" if phone.locale == "en-US" else "Buscar"
    button = first_screen_box(phone.get_by_role("button", name=search, exact=True))
    assert button["height"] >= 44
    assert_crisis_bar_on_first_screen(phone)
    # The header is one line: the links fold into a menu that opens without scripts.
    assert phone.locator("header.site").bounding_box()["height"] <= 80
    expect(phone.locator("header nav a").first).to_be_hidden()
    phone.locator("details.menu > summary").click()
    expect(phone.locator("header nav a").first).to_be_visible()


def test_phone_results_show_summary_search_and_first_result_first(phone):
    phone.goto("/search?q=19103")
    heading = phone.get_by_role("heading", level=1)
    first_screen_box(heading)
    assert "19103" in heading.inner_text()  # the page's heading is the summary
    first_screen_box(phone.locator("#q"))
    first = phone.locator("ol.results > li").first
    first_screen_box(first.locator("h3 a"))
    first_screen_box(first.locator(".time"))
    assert_crisis_bar_on_first_screen(phone)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_988_spanish_option_in_spanish(phone):
    phone.goto("/")
    text = phone.locator(".crisis").get_by_role("link", name=CRISIS[phone.locale][1], exact=True)
    if phone.locale == "es":
        expect(phone.locator(".crisis")).to_contain_text("marque 2, o envíe AYUDA")
        expect(text).to_have_attribute("href", "sms:988?&body=AYUDA")
    else:
        expect(text).to_have_attribute("href", "sms:988")


def test_the_folded_search_choices_keep_a_chosen_day_and_time(page):
    page.goto("/search?q=19103")
    page.get_by_text("Change when, how and more").click()
    page.get_by_label("On a day, from a time").check()
    page.get_by_label("Day", exact=True).select_option("wednesday")
    page.get_by_label("From", exact=True).fill("18:00")
    page.get_by_role("button", name="Show results").click()
    expect(page.locator("#summary")).to_contain_text("on Wednesday from 6:00")
    page.get_by_text("Change when, how and more").click()
    expect(page.get_by_label("On a day, from a time")).to_be_checked()
    expect(page.get_by_label("Day", exact=True)).to_have_value("wednesday")
    expect(page.get_by_label("From", exact=True)).to_have_value("18:00")
    assert "starting now" not in page.locator("main").inner_text()


def test_an_error_summary_receives_focus(page):
    page.goto("/search?q=nowhere-at-all")
    expect(page.locator(".error-summary")).to_be_focused()
