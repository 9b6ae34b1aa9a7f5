"""Cards on a results page: one per meeting group and place, one per place that two sources list
(finder/web/listing.py), over pure cases and over the real federal treatment files."""

import re

import pytest

from finder.web.listing import one_card_each, same_place_elsewhere

FORT_HELP = {
    "id": 6749,
    "name": "Fort Help LLC",
    "kind": "treatment",
    "program": None,
    "source": "samhsa-sut",
    "source_name": "Substance use treatment",
    "address": "915 Bryant Street, San Francisco, CA 94103",
    "latitude": 37.77271,
    "longitude": -122.40417,
}


def other(**changes) -> dict:
    """The same facility as the opioid treatment file lists it, with changes."""
    base = {
        **FORT_HELP,
        "id": 20338,
        "source": "samhsa-otp",
        "source_name": "Opioid treatment programs",
        "address": "915 Bryant St., San Francisco, CA 94103",
        "latitude": 37.77275,
    }
    return {**base, **changes}


@pytest.mark.parametrize(
    ("item", "same"),
    [
        (other(), True),
        (other(name="FORT HELP LLC"), True),
        (other(source="samhsa-sut", source_name=FORT_HELP["source_name"]), False),
        (other(name="Fort Help Mission"), False),
        (other(address="917 Bryant St., San Francisco, CA 94103"), False),  # next building
        (other(address="Bryant St., San Francisco"), False),  # no house number: cannot tell
        (other(latitude=37.7745), False),  # 200 m away
        (other(latitude=None, longitude=None), False),
        (other(kind="meeting"), False),
        (other(kind="center"), False),
    ],
)
def test_same_place_listed_by_another_source(item, same):
    assert same_place_elsewhere({**FORT_HELP, "also_listed": []}, item) is same


def test_a_place_two_sources_list_is_one_card_citing_both():
    third = other(id=3, source="x", source_name="Third")
    cards = one_card_each([FORT_HELP, other(), third], {})
    assert len(cards) == 1
    assert cards[0]["id"] == FORT_HELP["id"]
    assert [o["source_name"] for o in cards[0]["also_listed"]] == [
        "Opioid treatment programs",
        "Third",
    ]


def test_weekday_listings_of_one_group_are_one_card_with_all_times():
    monday = {**FORT_HELP, "kind": "meeting", "program": "NA", "id": 1}
    wednesday = {**monday, "id": 2}
    times = {1: [(1, "19:00"), (3, "19:00")]}
    cards = one_card_each([monday, wednesday], times)
    assert [card["id"] for card in cards] == [1]
    assert cards[0]["weekly"] == [(1, "19:00"), (3, "19:00")]


def test_results_page_shows_a_federal_facility_once_with_both_sources(import_bundled, client):
    import_bundled("samhsa-sut")
    import_bundled("samhsa-otp")
    page = client.get("/search?q=915+Bryant+St%2C+San+Francisco%2C+CA&kind=treatment&when=any")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    names = re.findall(r'<a href="/resource/\d+"[^>]*>Fort Help LLC</a>', text)
    assert len(names) == 1, names
    assert re.search(r'<a href="/resource/\d+">Also listed by [^<]+<span', text)


def test_a_listing_shows_its_sources_text_plain_and_on_its_lines(import_bundled, client, db):
    """Al-Anon's feed writes "GR's &amp; interested members" under lines of Zoom details."""
    import_bundled("al-anon")
    slug = "25019-monthly-business-meeting-district-19"
    [row] = db.query("select id from resources where source_id = ?", [slug])
    page = client.get(f"/resource/{row['id']}").get_data(as_text=True)
    assert "for GR&#39;s &amp; interested members" in page  # "&" once escaped, as HTML wants
    assert "&amp;amp;" not in page
    assert re.search(r'<p class="written"[^>]*>Zoom ID: 864 5438 2839\npasscode: 085516\n', page)
