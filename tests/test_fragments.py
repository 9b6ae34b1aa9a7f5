"""Cards' fixed parts are rendered once per database generation and language (issue #14): what a
reader sees must be exactly what rendering each time would show."""

import os
import re
import sqlite3
from contextlib import closing

from finder.web.state import Memo


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
