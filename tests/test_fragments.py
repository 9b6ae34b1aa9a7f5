"""Cards' fixed parts are rendered once per database generation and language (issue #14): what a
reader sees must be exactly what rendering each time would show."""

import os
import re
import sqlite3
from contextlib import closing

from finder.web.state import Memo
from finder.web.views import FORM_FIELDS


def card_of(page: str, listing_id: int) -> str:
    return re.search(rf'<li[^>]* id="r{listing_id}">.*?</li>', page, re.S).group(0)


def first_card_id(page: str) -> int:
    return int(re.search(r'<li[^>]* id="r(\d+)"', page).group(1))


def test_a_card_follows_the_page_language_both_ways(tuesday_evening):
    english = tuesday_evening.get("/search?q=19103").get_data(as_text=True)
    listing = first_card_id(english)
    spanish = tuesday_evening.get("/search?q=19103&lang=es").get_data(as_text=True)
    english_again = tuesday_evening.get("/search?q=19103").get_data(as_text=True)
    assert "Add to referral sheet" in card_of(english, listing)
    assert "Añadir a la hoja de derivación" in card_of(spanish, listing)
    assert card_of(english_again, listing) == card_of(english, listing)


def test_a_cards_links_keep_a_language_chosen_in_the_url_only(tuesday_evening):
    asked = [
        ("q=19103&lang=es", {}, True),  # chosen in the URL: links keep it
        ("q=19103", {"Accept-Language": "es"}, False),  # the browser's: links need not say it
    ]
    for query, headers, keeps_lang in asked + asked[::-1]:
        page = tuesday_evening.get(f"/search?{query}", headers=headers).get_data(as_text=True)
        card = card_of(page, first_card_id(page))
        assert "Añadir a la hoja de derivación" in card
        assert bool(re.search(r'href="/resource/\d+\?lang=es"', card)) is keeps_lang


def test_a_card_shows_a_new_generations_data(tuesday_evening, db_path):
    page = tuesday_evening.get("/search?q=19103").get_data(as_text=True)
    listing = first_card_id(page)
    draft = f"{db_path}.draft"
    with closing(sqlite3.connect(db_path)) as served, closing(sqlite3.connect(draft)) as new:
        served.backup(new)
        with new:
            rename = "update resources set name = 'Renamed <b>group</b>' where id = ?"
            new.execute(rename, [listing])
    os.replace(draft, db_path)  # published as every build is: a new file at the path
    page = tuesday_evening.get("/search?q=19103").get_data(as_text=True)
    assert "Renamed &lt;b&gt;group&lt;/b&gt;" in card_of(page, listing)


def test_a_memo_keeps_at_most_its_size_dropping_the_oldest_half():
    memo = Memo(4)
    for key in "abcd":
        memo.put(key, key.upper())
    memo.put("e", "E")
    assert [memo.get(key) for key in "abcde"] == [None, None, "C", "D", "E"]


def test_a_memo_reads_only_what_it_lacks_and_keeps_what_a_read_left_out():
    memo, reads = Memo(100), []

    def fetch(keys):
        reads.append(keys)
        return {key: key * 2 for key in keys if key != 3}

    assert memo.each([1, 2, 3, 1], fetch, missing=0) == {1: 2, 2: 4, 3: 0}
    assert memo.each([2, 3, 4], fetch, missing=0) == {2: 4, 3: 0, 4: 8}
    assert reads == [[1, 2, 3], [4]]


def checked(page: str, name: str) -> list[str]:
    box = rf'<input type="(?:radio|checkbox)" name="{name}" value="([^"]*)" checked>'
    return re.findall(box, page)


def test_the_search_form_and_header_show_each_pages_own_parameters(tuesday_evening):
    """Kept once rendered, keyed by the page's parameters: never another search's choices."""
    asked = [
        ("q=19103&attendance=online", {"attendance": ["online"], "when": ["now"]}),
        ("q=19103", {"attendance": [""], "when": ["now"]}),
        ("q=19103&when=any&type=X", {"attendance": [""], "when": ["any"], "type": ["X"]}),
    ]
    for query, choices in asked + asked[::-1]:
        page = tuesday_evening.get(f"/search?{query}").get_data(as_text=True)
        for name, values in choices.items():
            assert checked(page, name) == values, (query, name)
        other_language = re.search(r'<a href="([^"]+)" lang="es"', page).group(1)
        assert other_language.startswith("/search?") and "lang=es" in other_language
        assert all(part in other_language.replace("%2C", ",") for part in query.split("&"))


def test_a_bad_place_shows_its_own_message_in_the_form(tuesday_evening):
    first = tuesday_evening.get("/search?q=Nowhereville%2C+ZZ").get_data(as_text=True)
    second = tuesday_evening.get("/search?q=99999999").get_data(as_text=True)
    again = tuesday_evening.get("/search?q=Nowhereville%2C+ZZ").get_data(as_text=True)
    message = re.compile(r'<p class="error" id="q-error">(.*?)</p>', re.S)
    assert message.search(first).group(1) != message.search(second).group(1)
    assert message.search(again).group(1) == message.search(first).group(1)
    assert 'value="Nowhereville, ZZ"' in again and 'value="99999999"' in second


def test_the_search_forms_key_names_every_field_it_shows(tuesday_evening):
    page = tuesday_evening.get("/search?q=19103&lang=es").get_data(as_text=True)
    form = re.search(r'<form method="get" action="/search".*?</form>', page, re.S).group(0)
    shown = set(re.findall(r'name="(\w+)"', form)) - {"lang"}  # lang: the key's language
    assert shown == set(FORM_FIELDS)


def test_a_search_from_a_point_keeps_the_form_of_its_choices(tuesday_evening):
    for lat, attendance in [(39.95, "online"), (39.96, ""), (39.97, "online")]:
        url = f"/search?lat={lat}&lon=-75.16&attendance={attendance}"
        page = tuesday_evening.get(url).get_data(as_text=True)
        assert checked(page, "attendance") == [attendance]


def test_a_cards_kept_parts_follow_its_listing_growing_old(tuesday_evening):
    """A card's fixed parts are kept with their "over a year old" caution as part of the key."""
    page = tuesday_evening.get("/search?q=19103").get_data(as_text=True)
    fresh = [int(n) for n in re.findall(r'<li[^>]* id="r(\d+)">', page)]
    fresh = [n for n in fresh if "Over a year old" not in card_of(page, n)]
    assert fresh, "the national lines are dated by their list, within the year"
    tuesday_evening.application.config["FROZEN_NOW"] = "2028-11-28T19:00:00-05:00"  # a Tuesday
    later = tuesday_evening.get("/search?q=19103").get_data(as_text=True)
    assert all("Over a year old" in card_of(later, n) for n in fresh if f'id="r{n}"' in later)
    assert any(f'id="r{n}"' in later for n in fresh)
