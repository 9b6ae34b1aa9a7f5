"""The registry of sources (finder/ingest/registry.py) and what it carries to the site: the
source's office line (issue #12), from data/sources.toml or from the feed itself, shown on a
listing with no phone of its own and labelled as the source's."""

import json
import re
import shutil
from html import unescape

import pytest

from finder import create_app
from finder.errors import SourceFormatError
from finder.ingest.registry import feed_office_phone, import_source, read_registry
from finder.paths import DATA_DIR
from finder.store import connect, init_db

NOW = "2026-11-24T19:00:00-05:00"
# Fictional numbers (555-01xx is reserved for fiction): no real office line is invented here.
OFFICE = "+1 989 555 0134"
WRITTEN = "(989) 555-0134"


def text_of(html: str) -> str:
    inline = re.sub(r"</?(?:a|span|strong)\b[^>]*>", "", html)
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", inline)))


def registry_file(tmp_path, office_line: str = "") -> str:
    """A one-source registry over the bundled Northern Michigan feed, with an optional line."""
    path = tmp_path / "sources.toml"
    path.write_text(
        "[[source]]\n"
        'id = "michigan"\nname = "Northern Michigan sample (AA)"\n'
        'short_name = "Northern Michigan AA"\nformat = "meeting_guide"\n'
        f'path = "{DATA_DIR / "meeting-guide" / "michigan-sample.json"}"\n'
        'program = "AA"\ndefault_timezone = "America/Detroit"\n'
        f"{office_line}\n"
    )
    return str(path)


@pytest.mark.parametrize(
    "line, expected",
    [
        ("", None),
        (f'office_phone = "{OFFICE}"', WRITTEN),
        ('office_phone = "989-555-0134"', WRITTEN),  # US numbers: the area code is enough
        ('office_phone = "+44 20 7946 0958"', "+44 20 7946 0958"),  # abroad: international
    ],
)
def test_office_phone_is_read_and_written_as_the_site_writes_numbers(tmp_path, line, expected):
    (source,) = read_registry(registry_file(tmp_path, line))
    assert source["office_phone"] == expected


@pytest.mark.parametrize(
    "line, shown",
    [
        ('office_phone = "123"', "'123'"),
        ('office_phone = "call the office"', "'call the office'"),
        ('office_phone = ""', "''"),
        ("office_phone = 9895550134", "9895550134"),  # a TOML number, not text
    ],
)
def test_a_bad_office_phone_is_refused_naming_source_and_value(tmp_path, line, shown):
    with pytest.raises(SourceFormatError) as caught:
        read_registry(registry_file(tmp_path, line))
    message = str(caught.value)
    assert "source 'michigan' has office_phone " + shown in message
    assert "not a phone number" in message and "area code" in message


def test_no_bundled_source_claims_an_office_line_its_files_do_not_state():
    """None of the bundled files states an office line (Meeting Guide's entity_phone was removed
    for anonymity, the BMLT sample has no helplines), so the bundled registry gives none."""
    sources = read_registry(DATA_DIR / "sources.toml")
    assert [s["id"] for s in sources if s["office_phone"]] == []
    assert all(feed_office_phone(s) is None for s in sources if s["path"])


# --- The feed's own office line -------------------------------------------------------------


def _meeting(slug: str, **extra) -> dict:
    return {"name": slug.title(), "slug": slug, "day": 2, "time": "19:00", "types": ["O"],
            "formatted_address": "3100 Piper Rd, Alpena, MI 49707, USA",
            "latitude": 45.06, "longitude": -83.43, **extra}  # fmt: skip


@pytest.mark.parametrize(
    "phones, expected",
    [
        ([None, None], None),
        (["+1-989-555-0134", "+1-989-555-0134"], WRITTEN),  # the spec's own way of writing it
        (["+1-989-555-0134", None], WRITTEN),
        (["+1-989-555-0134", "+1-989-555-0199"], None),  # two entities: no one office
        (["not a number", None], None),
    ],
)
def test_meeting_guide_entity_phone_is_the_feeds_office_line(tmp_path, phones, expected):
    rows = [
        _meeting(f"m{n}", **({"entity": "District 9", "entity_phone": p} if p else {}))
        for n, p in enumerate(phones)
    ]
    feed = tmp_path / "feed.json"
    feed.write_text(json.dumps(rows))
    assert feed_office_phone({"format": "meeting_guide", "path": str(feed)}) == expected


def _bmlt_folder(tmp_path, bodies: list[dict]):
    folder = tmp_path / "bmlt"
    folder.mkdir()
    shutil.copy(DATA_DIR / "bmlt-gnyr" / "GetSearchResults.json", folder)
    (folder / "service_bodies.json").write_text(json.dumps(bodies))
    return folder / "GetSearchResults.json"


@pytest.mark.parametrize(
    "bodies, expected",
    [
        ([{"id": 1, "parent_id": 0, "name": "Region", "helpline": "989-555-0134"},
          {"id": 2, "parent_id": 1, "name": "Area", "helpline": "989-555-0199"}], WRITTEN),
        ([{"id": 1, "parent_id": 0, "name": "Region"},
          {"id": 2, "parent_id": 1, "name": "Area", "helpline": "989-555-0199"}], None),
        ([{"id": 1, "parent_id": 0, "name": "One", "helpline": "989-555-0134"},
          {"id": 2, "parent_id": 0, "name": "Two", "helpline": "989-555-0134"}], None),
    ],
)  # fmt: skip
def test_bmlt_top_service_body_helpline_is_the_feeds_office_line(tmp_path, bodies, expected):
    path = _bmlt_folder(tmp_path, bodies)
    assert feed_office_phone({"format": "bmlt", "path": str(path)}) == expected


def test_import_stores_the_registrys_line_before_the_feeds(tmp_path, geocoder):
    rows = [_meeting("m1", entity="District 9", entity_phone="+1-989-555-0199")]
    feed = tmp_path / "feed.json"
    feed.write_text(json.dumps(rows))
    base = {"id": "d9", "name": "District 9", "format": "meeting_guide", "path": str(feed),
            "program": "AA", "default_timezone": "America/Detroit"}  # fmt: skip
    with connect(str(tmp_path / "finder.db")) as db:
        init_db(db)
        import_source(db, base, geocoder)
        assert db.table("sources").get("d9")["office_phone"] == "(989) 555-0199"
        import_source(db, {**base, "office_phone": WRITTEN}, geocoder)
        assert db.table("sources").get("d9")["office_phone"] == WRITTEN


# --- On the site ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def offices_db(tmp_path_factory, geocoder):
    """Northern Michigan's meetings (no phones of their own) and the national lines (with their
    own numbers), both from a fixture registry that gives each an office line."""
    folder = tmp_path_factory.mktemp("offices")
    registry = read_registry(registry_file(folder, f'office_phone = "{OFFICE}"'))
    lines = read_registry(DATA_DIR / "sources.toml")
    national = next(s for s in lines if s["id"] == "national-lines")
    path = folder / "finder.db"
    with connect(str(path)) as db:
        init_db(db)
        import_source(db, registry[0], geocoder)
        import_source(db, {**national, "office_phone": "(989) 555-0177"}, geocoder)
    return path


@pytest.fixture(scope="module")
def office_site(offices_db):
    app = create_app({"TESTING": True, "DATABASE": str(offices_db), "FROZEN_NOW": NOW})
    return app.test_client()


def _ids(offices_db, source: str, name: str | None = None) -> int:
    with connect(str(offices_db)) as db:
        sql = "select id from resources where source = ? and (? is null or name like ?) limit 1"
        return db.execute(sql, [source, name, f"{name}%"]).fetchone()[0]


def test_a_listing_with_no_phone_shows_its_sources_office_line(office_site, offices_db):
    meeting = _ids(offices_db, "michigan")
    label = f"Office line of Northern Michigan AA: {WRITTEN}"
    page = office_site.get(f"/resource/{meeting}").get_data(as_text=True)
    assert label in text_of(page)
    assert 'href="tel:9895550134"' in page
    sheet = office_site.get(f"/referral?id={meeting}").get_data(as_text=True)
    assert label in text_of(sheet)
    assert "No phone or website is listed here." not in text_of(sheet)
    spanish = office_site.get(f"/referral?id={meeting}&lang=es").get_data(as_text=True)
    assert f"Teléfono de la oficina de Northern Michigan AA: {WRITTEN}" in text_of(spanish)


def test_result_cards_show_the_office_line_only_without_a_phone_of_their_own(office_site):
    page = office_site.get("/search?q=Alpena%2C+MI&radius=100").get_data(as_text=True)
    cards = re.findall(r'<li[^>]* id="r\d+">.*?</li>', page, flags=re.S)
    meetings = [text_of(c) for c in cards if "Alcoholics Anonymous · Meeting" in text_of(c)]
    phoned = [text_of(c) for c in cards if re.search(r"\bCall \(?\d", text_of(c))]
    assert meetings and phoned, "the search found meetings and lines with their own numbers"
    assert all(f"Office line of Northern Michigan AA: {WRITTEN}" in card for card in meetings)
    assert all("Office line of" not in card for card in phoned)


def test_no_office_line_when_the_listing_has_its_own_phone(office_site, offices_db):
    lifeline = _ids(offices_db, "national-lines", "988")
    for url in (f"/resource/{lifeline}", f"/referral?id={lifeline}"):
        text = text_of(office_site.get(url).get_data(as_text=True))
        assert "Call 988" in text
        assert "Office line of" not in text and "555-0177" not in text


def test_no_office_line_when_the_source_has_none(tmp_path, geocoder):
    (source,) = read_registry(registry_file(tmp_path))
    with connect(str(tmp_path / "finder.db")) as db:
        init_db(db)
        import_source(db, source, geocoder)
        meeting = db.execute("select id from resources limit 1").fetchone()[0]
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "finder.db"), "FROZEN_NOW": NOW})
    for url in (f"/resource/{meeting}", f"/referral?id={meeting}"):
        assert "Office line of" not in app.test_client().get(url).get_data(as_text=True)


def test_other_apps_read_each_sources_office_line(office_site):
    sources = {s["id"]: s for s in office_site.get("/api/v1/sources").get_json()["sources"]}
    assert sources["national-lines"]["office_phone"] == "(989) 555-0177"
    assert sources["michigan"]["office_phone"]
