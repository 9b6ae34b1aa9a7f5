"""A plain-language summary of a search, for the page heading and screen readers.

Pure: the words come from a ``Wording`` (English by default; the site passes its catalog's
gettext/ngettext and the page's language, so the same summary reads in Spanish).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

from finder.geo.where import YOUR_LOCATION
from finder.search.query import DEFAULT_KINDS, KM_PER_MILE, Query
from finder.vocabulary import KINDS, N_, types

PLURAL_KINDS = {
    "meeting": N_("meetings"),
    "center": N_("community and recovery centers"),
    "peer_organization": N_("peer-run organizations"),
    "warmline": N_("warmlines"),
    "helpline": N_("helplines"),
    "crisis_line": N_("crisis lines"),
    "online_forum": N_("online forums"),
    "online_directory": N_("online meeting directories"),
    "treatment": N_("treatment providers"),
}


def _english(template: str, **values) -> str:
    return template % values if values else template


def _english_plural(singular: str, plural: str, num: float, **values) -> str:
    return (singular if num == 1 else plural) % {"num": num, **values}


@dataclass(frozen=True)
class Wording:
    """How to say things: gettext-style functions, the language of type names, a locale."""

    gettext: Callable = _english
    ngettext: Callable = _english_plural
    language: str = "en"
    locale: str = "en_US"


ENGLISH = Wording()


def describe(
    query: Query,
    radius_km: float | None = None,
    widened_from_km: float | None = None,
    zone: str | None = None,
    words: Wording = ENGLISH,
) -> str:
    """E.g. "Meetings in progress or starting in the next 2 hours within 10 miles of ZIP 19103,
    with wheelchair access".

    :param radius_km: the radius actually searched (after any widening)
    :param zone: the searcher's IANA zone, to name a chosen day and time
    """
    parts = [
        _what(query, words),
        _when(query, zone, words),
        _where(query, radius_km, widened_from_km, words),
    ]
    text = " ".join(p for p in parts if p)
    filters = _filters(query, words)
    return f"{text}, {filters}" if filters else text


def _what(query: Query, words: Wording) -> str:
    _ = words.gettext
    kinds = sorted(query.kinds, key=list(KINDS).index)
    if query.kinds == DEFAULT_KINDS:
        noun = _("support")
    else:
        noun = _join([_(PLURAL_KINDS[k]) for k in kinds], words)
    if query.programs:
        noun = _("%(programs)s %(noun)s", programs=_join(sorted(query.programs), words), noun=noun)
    if query.attendance == frozenset({"online"}):
        noun = _("online %(noun)s", noun=noun)
    elif "online" not in query.attendance:
        noun = _("in-person %(noun)s", noun=noun)
    return noun[:1].upper() + noun[1:]


def _when(query: Query, zone: str | None, words: Wording) -> str:
    _ = words.gettext
    hours = words.ngettext(
        "%(count)s hour", "%(count)s hours", query.hours, count=f"{query.hours:g}"
    )
    if query.when == "now":
        return _("in progress or starting in the next %(hours)s", hours=hours)
    if query.when == "today":
        return _("in progress now or later today")
    if query.when == "week":
        return _("with weekly times")
    if query.when == "at" and query.at is not None:
        local = query.at.astimezone(ZoneInfo(zone)) if zone else query.at
        return _(
            "on %(day)s from %(clock)s: starting within %(hours)s, or later that day",
            day=format_date(local, "EEEE", locale=words.locale),
            clock=format_time(local, "short", locale=words.locale),
            hours=hours,
        )
    return _("at any time")


def _where(
    query: Query, radius_km: float | None, widened_from_km: float | None, words: Wording
) -> str:
    if not query.has_point:
        return ""
    _ = words.gettext
    label = query.place or YOUR_LOCATION
    distance = _distance(radius_km or query.radius_km, query.unit, words)
    if match := re.fullmatch(r"ZIP (\d{5})", label):
        text = _("within %(distance)s of ZIP %(code)s", distance=distance, code=match.group(1))
    else:
        place = _(label) if label == YOUR_LOCATION else label
        text = _("within %(distance)s of %(place)s", distance=distance, place=place)
    if widened_from_km:
        before = _distance(widened_from_km, query.unit, words)
        text += " " + _("(widened from %(before)s: little was closer)", before=before)
    return text


def _distance(km: float, unit: str, words: Wording) -> str:
    if unit == "km":
        return f"{km:.0f} km"
    miles = round(km / KM_PER_MILE)
    return words.ngettext("%(num)s mile", "%(num)s miles", miles)


def _filters(query: Query, words: Wording) -> str:
    vocab = types()
    lang = words.language
    wanted = [_type_phrase(c, vocab[c], words) for c in sorted(query.include_types) if c in vocab]
    unwanted = [_name(c, vocab[c], lang) for c in sorted(query.exclude_types) if c in vocab]
    parts = []
    if wanted:
        parts.append(_join(wanted, words))
    if unwanted:
        parts.append(words.gettext("not %(types)s", types=_join(unwanted, words, "or")))
    return ", ".join(parts)


def _type_phrase(code: str, entry: dict, words: Wording) -> str:
    name = _name(code, entry, words.language)
    if entry["category"] == "accessibility" or "available" in entry["en"].lower():
        return words.gettext("with %(feature)s", feature=name)
    return name


def _name(code: str, entry: dict, language: str) -> str:
    """Lower case inside a sentence, except names of languages (and sign languages)."""
    name = entry[language]
    return name if entry["category"] == "language" or code == "ASL" else name.lower()


def _join(items: list[str], words: Wording, word: str = "and") -> str:
    joiner = words.gettext("or") if word == "or" else words.gettext("and")
    if len(items) <= 2:
        return f" {joiner} ".join(items)
    return ", ".join(items[:-1]) + f" {joiner} " + items[-1]
