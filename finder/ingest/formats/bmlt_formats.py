"""What BMLT formats mean: a format's NAWS world id (OPEN, CLOSED, W, M, WCHR, VM...), in any
language, else an English server's key; the vocabulary codes each one gives.

A meeting's ``formats`` are keys in the server's own language ("D" is Discussion on an English
server, Donne on an Italian one); ``format_shared_id_list`` gives their ids, which are the same
in every language, so GetFormats in English says what a translated format means.
"""

from collections.abc import Sequence
from typing import NamedTuple

from finder.ingest.formats.common import text

# English BMLT format key -> vocabulary codes, checked against each format's English name and
# description in GetFormats; read only for English formats without a world id, or where the key
# says more than its world id (GNYR's SD, Speaker/Discussion, has world id SPK). An empty tuple
# means "known, no vocabulary equivalent": dropped silently.
FORMAT_CODES = {
    "BK": ("LIT",), "BT": ("BT",), "C": ("C",), "CL": ("CAN",), "CW": ("CF",), "D": ("D",),
    "ENG": ("EN",), "ES": ("S",), "FIN": ("FI",), "ID": ("IDREQ",), "IL": ("ILL",), "IP": ("IP",),
    "IW": ("IW",), "JT": ("JFT",), "L/R": ("LT", "RUS"), "LC": ("LC",), "M": ("M",),
    "ME": ("MED",), "NC": ("NOKIDS",), "NS": ("NOSMOKE",), "O": ("O",), "PER": ("FA",),
    "QA": ("QA",), "RF": ("RF",), "SC": ("CAMERAS",), "SG": ("SWG",), "So": ("SP",),
    "St": ("ST",), "TW": ("TR",), "Tr": ("TR",), "W": ("W",), "WC": ("X",), "WEB": ("ONL",),
    "YP": ("Y",),
    "AB": ("QA",),  # Ask-It-Basket: NAWS gives it world_id QA
    "Ag": ("A",),  # Agnostic: Meeting Guide's A (Secular) began as "Atheist / Agnostic"
    "B": ("BE",),  # Beginners; Meeting Guide's B is Big Book
    "CS": ("CF",),  # Children under Supervision: "supervised children are welcome"
    "FD": ("ST",),  # Five and Dime: a study of Steps 5 and 10
    "GL": ("LGBTQ",),  # Gay/Lesbian/Transgender
    "SD": ("SP", "D"),  # Speaker/Discussion: a speaker, then open sharing
    "SL": ("ASL",),  # an ASL interpreter; Meeting Guide's SL is Slovenian
    # No equivalent: Topic, Timer, Pitch, Round Robin, Open-Ended, Closed Holidays, Concepts,
    # Restricted Attendance (restriction unstated), Bi-Lingual (second language unstated).
    "To": (), "Ti": (), "Pi": (), "Rr": (), "OE": (), "CH": (), "CP": (), "RA": (), "BL": (),
}  # fmt: skip

# NAWS world_id -> vocabulary codes: what a format means in any language. The ids are those of
# the BMLT root server's stock formats (bmlt-enabled/bmlt-root-server, database migrations).
# LANG is absent on purpose: it does not say which language, so an English key ("ES") is read
# instead; another language's key for a language is ignored and reported.
WORLD_ID_CODES = {
    "BEG": ("BE",), "BT": ("BT",), "CAN": ("CAN",), "CH": (), "CLOSED": ("C",), "CPT": (),
    "CW": ("CF",), "DISC": ("D",), "GL": ("LGBTQ",), "GP": ("LIT",), "IP": ("IP",),
    "IW": ("IW",), "JFT": ("JFT",), "LC": ("LC",), "LIT": ("LIT",), "M": ("M",), "MED": ("MED",),
    "NC": ("NOKIDS",), "NS": ("NOSMOKE",), "OPEN": ("O",), "QA": ("QA",), "RA": (),
    "S-D": ("SP", "D"), "SPAD": ("LIT",), "SPK": ("SP",), "STEP": ("ST",), "SWG": ("SWG",),
    "TOP": (), "TRAD": ("TR",), "VAR": ("RF",), "W": ("W",), "WCHR": ("X",), "Y": ("Y",),
    # Attendance, added for COVID-19: a hybrid meeting has no vocabulary type of its own.
    "VM": ("ONL",), "HYBR": (), "TC": ("TC",),
}  # fmt: skip

# English keys of the attendance formats -> their world ids, for servers whose GetFormats lacks
# them (older servers, before venue_type); WEB is GNYR's own "Online Meeting".
KEY_WORLD_IDS = {"VM": "VM", "HY": "HYBR", "TC": "TC", "WEB": "VM"}

_NO_MEANING = {"", "LANG"}  # world ids that do not say what a format is


class Formats(NamedTuple):
    """GetFormats entries: the server's own by key_string, with their translations by id."""

    by_key: dict[str, list[dict]]
    by_id: dict[str, list[dict]]
    by_key_and_id: dict[tuple[str, str], dict]  # empty when ids are not comparable (the export)


def format_lookup(
    entries: Sequence[dict], english: Sequence[dict] = (), one_server: bool = True
) -> Formats:
    """GetFormats entries by key_string and by id, English ones first.

    :param entries: the server's own answer, in the language of its meetings' format keys
    :param english: the same formats asked for in English, read for their world ids only
    :param one_server: False for formats of many root servers, whose ids name different formats
    """
    by_key: dict[str, list[dict]] = {}
    by_id: dict[str, list[dict]] = {}
    for entry in sorted(entries or english, key=lambda e: text(e.get("lang")) != "en"):
        by_key.setdefault(text(entry.get("key_string")), []).append(entry)
    if not one_server:
        return Formats(by_key, {}, {})
    for entry in sorted([*entries, *english], key=lambda e: text(e.get("lang")) != "en"):
        by_id.setdefault(text(entry.get("id")), []).append(entry)
    by_key_and_id = {
        (key, text(entry.get("id"))): entry
        for key, keyed in by_key.items()
        for entry in reversed(keyed)  # the first entry of a key and id wins
    }
    return Formats(by_key, by_id, by_key_and_id)


def read_types(
    keys: list[str], ids: set[str], formats: Formats, issues: list
) -> tuple[list[tuple[str, str]], set[str]]:
    """(vocabulary code, "BMLT format KEY: Name") for each format key whose meaning is known (the
    others reported in ``issues``), and the formats' world ids.

    :param ids: the meeting's format ids (``format_shared_id_list``), which say which entry a
        key spelt in several languages is
    """
    found, world_ids = [], set()
    for key in keys:
        entry = _entry(key, ids, formats)
        world_id, codes = _meaning(key, entry, formats)
        world_ids.add(world_id)
        name = text(entry.get("name_string"))
        if codes is None:
            issues.append(("repaired", "formats", _unknown(key, entry, world_id)))
            continue
        claim = f"BMLT format {key}: {name}" if name else f"BMLT format {key}"
        found += [(code, claim) for code in codes if code not in {c for c, _ in found}]
    return found, world_ids


def _entry(key: str, ids: set[str], formats: Formats) -> dict:
    """The GetFormats entry a meeting's key names: the one of the meeting's format ids (Italian
    "C" is id 45, Concetti; English "C" is id 4, Closed). When the meeting's ids name none of the
    key's entries, the key is of a language we were not given: an entry of no known meaning."""
    entries = formats.by_key.get(key, [])
    if not ids or not formats.by_key_and_id:
        return entries[0] if entries else {}
    found = (formats.by_key_and_id.get((key, i)) for i in sorted(ids))
    return next((e for e in found if e), {"key_string": key, "lang": "?"} if entries else {})


def _meaning(key: str, entry: dict, formats: Formats) -> tuple[str, tuple[str, ...] | None]:
    """(world id, vocabulary codes) of a format: its world id, else its translations' (English
    first); else an English key's meaning. Codes are None when neither is known."""
    translations = formats.by_id.get(text(entry.get("id")), []) if entry else []
    world_ids = [text(e.get("world_id")).upper() for e in (entry, *translations)]
    english = not entry or text(entry.get("lang")) in {"", "en"}
    world_id = next((w for w in world_ids if w not in _NO_MEANING), "")
    world_id = world_id or (KEY_WORLD_IDS.get(key, "") if english else "")
    by_key = FORMAT_CODES.get(key) if english else None
    if world_id not in WORLD_ID_CODES:
        return world_id, None if world_id else by_key
    by_world_id = WORLD_ID_CODES[world_id]
    return world_id, by_key if by_key and set(by_key) >= set(by_world_id) else by_world_id


def _unknown(key: str, entry: dict, world_id: str) -> str:
    """Why a format key was ignored, for the import report."""
    if world_id:
        return f"format key {key!r} has world id {world_id!r}, which is not known; ignored"
    if entry.get("lang") == "?":
        return f"format key {key!r} has none of the meeting's format ids in GetFormats; ignored"
    if entry and text(entry.get("lang")) not in {"", "en"}:
        name, lang = text(entry.get("name_string")), text(entry.get("lang"))
        return f"format key {key!r} ({name}, {lang}) has no world id; ignored"
    return f"unknown format key {key!r} ignored"
