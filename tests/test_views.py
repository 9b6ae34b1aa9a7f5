"""The overview page and the search page over real imported feeds."""

import pytest


def test_index_lists_kinds_and_sources(import_bundled, client):
    import_bundled("sussexaa")
    import_bundled("national-lines")
    page = client.get("/").get_data(as_text=True)
    assert "Meeting: 123" in page and "/api/search?q=" in page
    assert "Sussex County, Delaware (AA)" in page
    assert 'href="tel:988"' in page


def test_imported_html_is_shown_as_text(import_bundled, db, client):
    import_bundled("sussexaa")
    with db.atomic():
        db.execute("update sources set name = '<script>alert(1)</script>' where id = 'sussexaa'")
    page = client.get("/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.fixture
def site(tuesday_evening):
    return tuesday_evening


def test_search_page_lists_what_is_on_now_without_javascript(site):
    page = site.get("/search?q=19103&type=X").get_data(as_text=True)
    assert "within 10 miles of ZIP 19103, with wheelchair access" in page
    assert "In progress now (" in page and "Starting soon (" in page and "Online now (" in page
    assert "Tue 7:00 PM EST, starting now, ends in 1 h" in page
    assert "starts in 15 min" in page or "starts in 30 min" in page
    assert "Accessibility: Wheelchair Access" in page
    assert "<script" not in page
    assert 'value="19103"' in page and 'value="X" checked' in page


def test_search_page_shows_lines_with_their_numbers(site):
    page = site.get("/search?attendance=online").get_data(as_text=True)
    assert "988 Suicide &amp; Crisis Lifeline" in page
    assert 'href="tel:988"' in page


def test_search_page_error_is_announced_and_keeps_what_was_typed(site):
    response = site.get("/search?q=%3Cscript%3Ealert(1)%3C/script%3E")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'role="alert"' in page and 'aria-invalid="true"' in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
