"""The report form in real headless Chromium (issue #13): axe-core WCAG 2.2 AA in English and
Spanish at desktop and 320 px, its error state, a report sent by keyboard without JavaScript,
the confirmation, and the caution it puts on the listing."""

import urllib.request

import pytest

from finder import create_app
from finder.web.serving import serving_in_background

from .browser import missing, open_context, serious_violations
from .conftest import TUESDAY_EVENING

if why := missing():
    pytest.skip(why, allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402


@pytest.fixture(scope="module")
def base_url(philadelphia_db, tmp_path_factory):
    """The site over SE Pennsylvania's meetings, its reports in a file of this module's own."""
    reports = tmp_path_factory.mktemp("reports-browser") / "reports.db"
    app = create_app(
        {
            "DATABASE": str(philadelphia_db),
            "REPORTS_DATABASE": str(reports),
            "FROZEN_NOW": TUESDAY_EVENING,
            "DATASETTE_URL": "http://127.0.0.1:9",
        }
    )
    with serving_in_background(app) as base:
        with urllib.request.urlopen(f"{base}/resource/1/report", timeout=120):
            pass  # the first request opens the database and builds its index
        yield base


def open_page(browser, base_url, width=1280, **options):
    context = open_context(browser, base_url, width=width, **options)
    return context, context.new_page()


def check(page, width=1280):
    problems = serious_violations(page)
    assert not problems, "\n".join(problems)
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scroll


@pytest.mark.parametrize("width", [1280, 320])
@pytest.mark.parametrize("lang", ["en", "es"])
def test_report_form_has_no_serious_violations(browser, base_url, lang, width):
    context, page = open_page(browser, base_url, width=width)
    page.goto(f"/resource/1/report?lang={lang}")
    heading = {"en": "What is wrong?", "es": "¿Qué está mal?"}[lang]
    expect(page.get_by_role("group", name=heading)).to_be_visible()
    check(page, width)
    context.close()


@pytest.mark.parametrize("lang", ["en", "es"])
def test_an_incomplete_report_focuses_the_error_summary(browser, base_url, lang):
    context, page = open_page(browser, base_url)
    page.goto(f"/resource/2/report?lang={lang}")
    page.locator("#details").fill("The door is locked")
    page.locator("form.report button[type=submit]").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(page.locator("#details")).to_have_value("The door is locked")  # nothing lost
    check(page)
    context.close()


def test_a_report_sent_by_keyboard(browser, base_url):
    context, page = open_page(browser, base_url)
    page.goto("/resource/3/report")
    page.get_by_label("It no longer meets, or has closed").focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    expect(page.locator("#details")).to_be_focused()
    page.keyboard.type("The church says the group stopped in October.")
    page.keyboard.press("Tab")
    expect(page.locator("#contact")).to_be_focused()
    page.keyboard.press("Tab")  # the robots' field is skipped
    expect(page.get_by_role("button", name="Send the report")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{base_url}/resource/3/report/sent")
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you: your report was received")
    check(page)
    page.get_by_role("link", name="Back to").click()
    caution = page.locator("p.caution", has_text="Reported on")
    expect(caution).to_contain_text("We have not checked yet")
    expect(page.get_by_role("link", name="view raw data")).to_have_attribute(
        "href", "http://127.0.0.1:9/finder/resources/3"
    )
    check(page)
    context.close()


def test_a_report_is_sent_without_javascript(browser, base_url):
    context, page = open_page(browser, base_url, java_script_enabled=False)
    page.goto("/resource/4/report?lang=es")
    page.get_by_label("El día o la hora están mal").check()
    page.get_by_label("¿Qué debería decir?").fill("Empieza a las 20:00.")
    page.get_by_role("button", name="Enviar el informe").click()
    expect(page).to_have_url(f"{base_url}/resource/4/report/sent?lang=es")
    expect(page.get_by_role("heading", level=1)).to_have_text("Gracias: recibimos su informe")
    context.close()
