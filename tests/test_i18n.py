"""Every string of the site has a Spanish translation, compiled, with the same placeholders."""

import re

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from finder.paths import ROOT

TRANSLATIONS = ROOT / "finder" / "translations" / "es" / "LC_MESSAGES"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
KEYWORDS.update(ParamError=None, GeocodeError=None)
METHODS = [("finder/**.py", "python"), ("templates/**.html", "jinja2")]


@pytest.fixture(scope="module")
def catalog():
    with open(TRANSLATIONS / "messages.po", "rb") as po:
        return read_po(po, locale="es")


def source_messages() -> set:
    found = set()
    for _, _, message, _, _ in extract_from_dir(ROOT, METHODS, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def test_every_string_in_the_code_is_translated(catalog):
    missing = [
        message
        for message in source_messages()
        if not (entry := catalog.get(message if isinstance(message, str) else message[0]))
        or not entry.string
        or entry.fuzzy
    ]
    assert not missing, f"untranslated: {missing[:10]} (see README, Translations)"


def test_translations_keep_their_placeholders(catalog):
    for entry in catalog:
        if not entry.id:
            continue
        english = entry.id if isinstance(entry.id, str) else entry.id[-1]
        spanish = entry.string if isinstance(entry.string, str) else entry.string[-1]
        assert set(re.findall(r"%\(\w+\)s", english)) == set(re.findall(r"%\(\w+\)s", spanish))


def test_compiled_catalog_matches_the_po_file(catalog):
    with open(TRANSLATIONS / "messages.mo", "rb") as mo:
        compiled = read_mo(mo)
    assert messages(compiled) == messages(catalog)


def messages(entries) -> dict:
    return {_hashable(m.id): _hashable(m.string) for m in entries if m.id}


def _hashable(text):
    return text if isinstance(text, str) else tuple(text)
