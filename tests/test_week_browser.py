"""A place's week in real headless Chromium (issues #11, #12): reached from the results and from
the form's "This week" without JavaScript, printed to PDF with only the list, its title and the
crisis lines (no navigation, form or buttons), and no serious accessibility problems at 375 and
1280 px in English and Spanish."""

import io
import re

import pytest
from pypdf import PdfReader

from .browser import missing, open_context, serious_violations

if why := missing():
    pytest.skip(why, allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

# base_url (conftest): the same server as the other page tests, SE Pennsylvania's meetings and
# the national lines on a Tuesday evening.
SPANISH = "/week?q=19103&type=S"


def printed(page, paper: str = "Letter") -> tuple[int, str]:
    """Pages and text of the page printed to PDF."""
    reader = PdfReader(io.BytesIO(page.pdf(format=paper, print_background=True)))
    return len(reader.pages), " ".join(p.extract_text() for p in reader.pages)


def test_the_results_lead_to_their_week(page):
    page.goto("/search?q=19103&type=W")
    link = page.get_by_role("link", name="See this week's list for this place, ready to print")
    link.click()
    expect(page).to_have_url(re.compile(r"/week\?q=19103&type=W$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "This week: In-person support with weekly times within 10 miles of ZIP 19103, women"
    )


def test_the_forms_this_week_works_without_javascript(browser, base_url):
    context = open_context(browser, base_url, java_script_enabled=False)
    page = context.new_page()
    page.goto("/search?q=19103")
    page.get_by_text("Change when, how and more").click()
    page.get_by_role("radio", name="This week").check()
    page.get_by_role("checkbox", name="Spanish").check()
    page.get_by_role("button", name="Show results").click()
    expect(page).to_have_url(re.compile(r"/week\?q=19103&type=S&order=soonest$"))
    heading = page.get_by_role("heading", name=re.compile("Tuesday, November 24"))
    expect(heading).to_be_visible()
    context.close()


def test_printing_shows_only_the_list_its_title_and_the_crisis_lines(page):
    page.goto(SPANISH)
    page.emulate_media(media="print")
    for hidden in ("header.site nav", "header.site .menu", "main form", "footer.site",
                   ".week-tools", "aside.crisis"):  # fmt: skip
        expect(page.locator(hidden).first).to_be_hidden()
    expect(page.locator(".week-foot")).to_be_visible()
    pages, text = printed(page)
    text = " ".join(text.split())
    assert "This week: In-person support with weekly times within 10 miles of ZIP 19103" in text
    assert "Data as of April 18, 2025" in text
    assert "Tuesday, November 24, 2026" in text and "Monday, November 30, 2026" in text
    assert "Nuevo Camino" in text
    assert "988" in text and "1-800-662-4357" in text
    for absent in ("Show results", "Menu", "Change when", "Add these times", "Privacy"):
        assert absent not in text, absent
    assert pages == 1


def test_pages_printed(page):
    """What a week's list costs on paper (Letter), by filter."""
    counts = {}
    for query in ("type=S", "type=W", "", "order=nearest"):
        page.goto(f"/week?q=19103&{query}")
        counts[query or "all (nearest 100)"] = printed(page)[0]
    print(f"week lists printed, Letter pages: {counts}")
    assert counts["type=S"] == 1 and counts["all (nearest 100)"] <= 4


@pytest.mark.parametrize("width", [1280, 375])
@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_week_has_no_serious_accessibility_violations(browser, base_url, lang, width):
    context = open_context(browser, base_url, width=width)
    page = context.new_page()
    found = {}
    for order in ("soonest", "nearest"):
        page.goto(f"{SPANISH}&order={order}&lang={lang}")
        found[order] = (
            serious_violations(page),
            page.evaluate("document.documentElement.scrollWidth"),
        )
    context.close()
    for order, (problems, overflow) in found.items():
        assert not problems, order + "\n" + "\n".join(problems)
        assert overflow <= width, order
