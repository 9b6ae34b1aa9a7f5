"""Search answers are kept for their minute (finder/web/kept.py): what a reader gets must be
exactly what answering anew would give — the same minute, file, language and reports."""

import re
from datetime import datetime

from finder import create_app
from finder.web.answers import now

NOW = "/api/v1/search?q=19103"
PAGE = "/search?q=19103"


def test_now_is_the_current_whole_minute_all_through_a_request(db_path, import_bundled):
    import_bundled("national-lines")
    app = create_app({"TESTING": True, "DATABASE": str(db_path)})
    with app.test_request_context(NOW):
        first = now()
        assert (first.second, first.microsecond) == (0, 0)
        assert abs((datetime.now(first.tzinfo) - first).total_seconds()) < 61
        assert now() is first


def test_the_same_question_in_the_same_minute_gets_the_same_answer(tuesday_evening):
    for url in (NOW, PAGE):
        first, again = tuesday_evening.get(url), tuesday_evening.get(url)
        assert first.status_code == again.status_code == 200
        assert first.data == again.data
        assert first.headers.get("ETag") == again.headers.get("ETag")


def test_a_new_minute_is_a_new_answer(tuesday_evening):
    app = tuesday_evening.application
    seven = tuesday_evening.get(NOW).get_json()
    app.config["FROZEN_NOW"] = "2026-11-24T19:20:00-05:00"
    later = tuesday_evening.get(NOW).get_json()
    started = {item["id"]: item["minutes_until_start"] for item in seven["groups"]["in_progress"]}
    assert started, "a meeting in progress at 7 PM"
    for item in later["groups"]["in_progress"]:
        if item["id"] in started:
            assert item["minutes_until_start"] == started[item["id"]] - 20


def test_each_language_gets_its_own_answer_at_one_url(tuesday_evening):
    def heading(language):
        page = tuesday_evening.get(PAGE, headers={"Accept-Language": language})
        return re.search(r'<html lang="(\w+)"', page.text).group(1), page.text

    for language in ("en", "es", "en", "es"):
        said, page = heading(language)
        assert said == language
        assert ("Añadir a la hoja de derivación" in page) is (language == "es")
