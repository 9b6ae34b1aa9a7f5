"""The overview page over a real imported feed."""


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
