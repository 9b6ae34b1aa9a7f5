"""Languages of the site: English and Spanish, chosen by ?lang= or the browser's Accept-Language.

No cookie is needed: an explicit choice travels in the URL (links and the search form carry it),
so a bookmarked or shared page opens in the language it was read in.
"""

import re
from datetime import date, datetime, time, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_skeleton, format_time, get_timezone_name
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations
from babel.units import format_unit
from flask import g, request
from markupsafe import Markup, escape
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from finder.paths import ROOT
from finder.search.describe import Wording
from finder.vocabulary import N_

LANGUAGES = {"en": "English", "es": "Español"}
# US formatting conventions in both languages (12-hour clock, miles).
FORMAT_LOCALES = {"en": "en_US", "es": "es_US"}
A_MONDAY = date(2026, 11, 23)


def chosen_language() -> str | None:
    """The language asked for in the URL, if it is one we have."""
    try:
        return g.chosen_language
    except AttributeError:  # first use in this request (one lookup per use after that)
        lang = request.args.get("lang", "")
        g.chosen_language = lang if lang in LANGUAGES else None
        return g.chosen_language


def init_app(app) -> None:
    # A results page translates a few hundred strings: look the catalog up once per request.
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(
        lambda text: _catalog().gettext(text),
        lambda singular, plural, n: _catalog().ngettext(singular, plural, n),
        newstyle=True,
    )
    app.jinja_env.globals.update(lang=language, format_locale=format_locale)


def _catalog() -> NullTranslations:
    return translations(language())


@cache
def translations(code: str) -> NullTranslations:
    """A language's compiled catalog (English, the source language, has none: the text as is)."""
    return Translations.load(ROOT / "finder" / "translations", [code])


def gettext(template: str, **values) -> str:
    """The template in the page's language, with its %(name)s values filled in."""
    text = _catalog().gettext(template)
    return text % values if values else text


def ngettext(singular: str, plural: str, num, **values) -> str:
    return _catalog().ngettext(singular, plural, num) % {"num": num, **values}


def language() -> str:
    """The page's language: the one asked for in the URL, else the browser's preferred one that
    we have, else English."""
    try:
        return g.language
    except AttributeError:  # first use in this request
        g.language = chosen_language() or _preferred(request.headers.get("Accept-Language", ""))
        return g.language


@lru_cache(maxsize=512)  # browsers send a handful of distinct headers
def _preferred(accept_language: str) -> str:
    return parse_accept_header(accept_language, LanguageAccept).best_match(LANGUAGES) or "en"


def format_locale() -> str:
    return FORMAT_LOCALES[language()]


def wording() -> Wording:
    """The search summary's words in the page's language."""
    return Wording(gettext, ngettext, language(), format_locale())


def day_and_clock(moment: datetime, long_day: bool = False, zone: str | None = None) -> str:
    """ "Tue 7:00 PM EST" / "mar 7:00 p.m. EST": the listing's local time with its zone."""
    locale = format_locale()
    day = format_date(moment, "EEEE" if long_day else "EEE", locale=locale)
    return f"{day} {clock(moment)} {zone or moment.tzname()}"


def date_text(iso_date: str) -> str:
    """ "November 24, 2026" / "24 de noviembre de 2026" ("Nov 2026" for a month); text that is not
    a date is shown as is."""
    if len(iso_date) == 7:
        try:
            return month_text(f"{iso_date}-01")
        except ValueError:
            return iso_date
    try:
        day = datetime.fromisoformat(iso_date).date()
    except ValueError:
        return iso_date
    return format_date(day, "long", locale=format_locale())


def number(value) -> str:
    return format_decimal(value, locale=format_locale())


def weekday(moment: datetime) -> str:
    return _weekday(moment.weekday(), format_locale())


@lru_cache(maxsize=64)
def _weekday(day: int, locale: str) -> str:
    return format_date(A_MONDAY + timedelta(days=day), "EEEE", locale=locale)


def clock(moment) -> str:
    """ "7:00 PM" / "19:00": a wall-clock time in the page's language."""
    return _clock(moment.hour, moment.minute, format_locale())


# Babel's formatting is most of a results page's time, and its answers repeat: a page shows a few
# dozen times, dates and distances out of a few thousand possible. Each cache is keyed by exactly
# what the text depends on (a wall-clock time, not an instant: equal instants in two zones read
# differently).
@lru_cache(maxsize=4096)
def _clock(hour: int, minute: int, locale: str) -> str:
    return format_time(time(hour, minute), "short", locale=locale)


def duration(minutes: float) -> str:
    """ "25 min", "1 hr 5 min", "2 hr" ("2 h" in Spanish)."""
    minutes = max(0, round(minutes))
    hours, rest = divmod(minutes, 60)
    parts = [gettext("%(num)s hr", num=hours)] if hours else []
    if rest or not hours:
        parts.append(gettext("%(num)s min", num=rest))
    return " ".join(parts)


def distance(miles: float) -> str:
    """ "1.2 miles" / "1.2 millas"; under a tenth of a mile reads "0.1"."""
    return _miles(max(round(miles, 1), 0.1), format_locale())


@lru_cache(maxsize=4096)
def _miles(value: float, locale: str) -> str:
    return format_unit(value, "length-mile", length="long", locale=locale)


def distance_away(miles: float, approximate: bool) -> Markup:
    """ "0.7 miles away", with "(approximate location)" when placed at a ZIP or town centre."""
    return _distance_away(max(round(miles, 1), 0.1), approximate, language())


@lru_cache(maxsize=4096)
def _distance_away(miles: float, approximate: bool, _language: str) -> Markup:
    away = _markup(N_("%(distance)s away"), distance=distance(miles))
    return _spaced(away, f"({gettext('approximate location')})") if approximate else away


# What a result without a time says about its hours (see results.hours_of): never "Open 24/7"
# unless the source says so, and "call first" where it says nothing (issue #9).
HOURS_WORDS = {
    "always_open": N_("Open 24/7"),
    "by_appointment": N_("By appointment: call to arrange a time"),
    "weekly": N_("Open at set times each week: see the listing"),
    "unknown": N_("Hours not published — call first"),
}
# How a listing's date was given: by the listing itself, or only by the whole list.
LISTED_WORDS = {
    "updated": N_("Listed by %(source)s · updated %(month)s"),
    "verified": N_("Listed by %(source)s · checked %(month)s"),
    "list": N_("Listed by %(source)s · list dated %(month)s"),
}


def hours_text(item: dict) -> str:
    """ "Open 24/7" only when the source says so; "Hours not published — call first" if unknown."""
    hours = item.get("hours") or {"status": "unknown", "text": None}
    if hours["status"] == "text":
        return gettext(
            "Hours as the source wrote them: “%(hours)s” — call first", hours=hours["text"]
        )
    if hours["status"] == "weekly" and item["kind"] == "meeting":
        return ""
    words = HOURS_WORDS[hours["status"]]
    return gettext(words)


def month_text(iso_date: str) -> str:
    """ "Sep 2021" / "sept 2021"."""
    return _month_text(iso_date[:7], format_locale())


@lru_cache(maxsize=4096)
def _month_text(year_month: str, locale: str) -> str:
    """A month's name and year in a locale (Babel's skeleton formatting is slow; months repeat)."""
    return format_skeleton("yMMM", datetime.fromisoformat(year_month + "-01"), locale=locale)


def listed_text(listed: dict, source: str | None) -> str:
    """ "Listed by SEPIA · updated Sep 2021": who lists it and when they last dated it."""
    words = LISTED_WORDS[listed["basis"]]
    return gettext(words, source=source or "?", month=month_text(listed["date"]))


def when_text(item: dict, found=None) -> str:
    """ "Tonight 7:00 PM, starts in 15 min" for a timed result, else its hours (issue #11).

    Times are in the searcher's zone (the searched place's), with the listing's own time and zone
    after it only where they differ; days are relative to the real now ("Today", "Tonight",
    "Tomorrow", else "Sat, Dec 12"). A chosen day and time (when=at) gives the start and end,
    never "starting now".

    :param found: the request's ``params.Search`` (its zone and query), or None
    """
    if "start" not in item:
        return hours_text(item)
    return _when(
        item["start"],
        item["timezone"],
        item["minutes_until_start"],
        item["minutes_until_end"],
        found is not None,
        found.zone if found else None,
        found.query.now if found else None,
        found is not None and found.query.when == "at",
        language(),
    )


# A result's time line repeats on every page that lists it in the same minute: keyed by all it
# says (a results page has a few dozen; formatting one is most of a card's time).
@lru_cache(maxsize=8192)
def _when(start, timezone, until, end, has_search, zone, now, chosen, _language) -> Markup:
    own = datetime.fromisoformat(start).astimezone(ZoneInfo(timezone))
    mine = own.astimezone(ZoneInfo(zone or timezone))
    at = _spaced(relative_day(mine, now if has_search else mine), time_tag(mine))
    if mine.utcoffset() != own.utcoffset():
        at = _markup(N_("%(mine)s your time · %(own)s"), mine=at, own=time_tag(own, zone=True))
    elif not zone:
        at = _spaced(at, zone_name(own))
    if chosen:
        finish = (own + timedelta(minutes=end - until)).astimezone(mine.tzinfo)
        return _markup(N_("%(at)s, until %(end)s"), at=at, end=time_tag(finish))
    if until >= 1:
        return _markup(N_("%(at)s, starts in %(wait)s"), at=at, wait=duration(until))
    if until > -1:
        return _markup(N_("%(at)s, starting now, ends in %(left)s"), at=at, left=duration(end))
    return _markup(
        N_("%(at)s, started %(ago)s ago, ends in %(left)s"),
        at=at,
        ago=duration(-until),
        left=duration(end),
    )


def reach_text(item: dict) -> str:
    """Why an in-person meeting is listed as ending soon: over before you could get there."""
    found = item.get("reach")
    if not found or found["in_time"]:
        return ""
    return gettext(
        "Ending soon: %(distance)s away is about %(trip)s at city speeds, so it would be over "
        "or nearly over when you got there.",
        distance=distance(item["distance_mi"]),
        trip=duration(found["travel_minutes"]),
    )


def relative_day(moment: datetime, now: datetime) -> str:
    """ "Today", "Tonight" (from 5 PM), "Tomorrow", else "Sat, Dec 12", in moment's zone."""
    days = (moment.date() - now.astimezone(moment.tzinfo).date()).days
    if days == 0:
        return gettext("Tonight") if moment.hour >= 17 else gettext("Today")
    if days == 1:
        return gettext("Tomorrow")
    return _day_and_month(moment.date(), format_locale())


@lru_cache(maxsize=1024)
def _day_and_month(day: date, locale: str) -> str:
    return format_skeleton("MMMEd", day, locale=locale)


def time_tag(moment: datetime, zone: bool = False) -> Markup:
    """<time datetime="2026-11-24T19:00:00-05:00">7:00 PM</time>, with its zone if asked."""
    shown = _spaced(clock(moment), zone_name(moment)) if zone else escape(clock(moment))
    return Markup(f'<time datetime="{moment.isoformat()}">{shown}</time>')


def zone_name(moment: datetime) -> Markup:
    """ "PST", expanded for screen readers: <abbr title="Pacific Standard Time">PST</abbr>."""
    key = (moment.tzinfo, moment.tzname(), format_locale())
    named = _ZONE_NAMES.get(key)
    if named is None:
        long = get_timezone_name(moment, "long", locale=key[2])
        named = _ZONE_NAMES[key] = Markup('<abbr title="%s">%s</abbr>') % (long, key[1])
    return named


# A zone's names in a language, by its abbreviation (standard or daylight time): a few hundred.
_ZONE_NAMES: dict[tuple, Markup] = {}


def _markup(template: str, **values) -> Markup:
    """The template in the page's language, its values escaped unless already markup.

    (What ``Markup(template) % values`` gives, formatted directly: a results page formats a few
    hundred of these, and Markup's own ``%`` wraps every value in a helper object first.)"""
    escaped = {name: escape(value) for name, value in values.items()}
    return Markup(str(escape(_catalog().gettext(template))) % escaped)


def _spaced(*parts) -> Markup:
    """The parts with a space between, each escaped unless already markup."""
    return Markup(" ".join(map(escape, parts)))


def dial_in_text(value: str) -> str:
    """ "Call (301) 715-8592, meeting ID 326 779 6359" for "+13017158592,,3267796359#,,#,,#",
    so a screen reader reads a number and a code (the tel: link keeps the whole string)."""
    parts = [part.strip("#* ") for part in value.split(",")]
    parts = [part for part in parts if part]
    digits = re.sub(r"\D", "", parts[0]) if parts else ""
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10 or value.lstrip().startswith("+") and not value.lstrip().startswith("+1"):
        return value
    number = f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    if len(parts) < 2 or not parts[1].isdigit():
        return gettext("Call %(number)s", number=number)
    return gettext("Call %(number)s, meeting ID %(code)s", number=number, code=_grouped(parts[1]))


def _grouped(code: str) -> str:
    """ "326 779 6359", "851 2852 2363", "503 536 771": a meeting ID as Zoom groups it."""
    sizes = {10: (3, 3, 4), 11: (3, 4, 4)}.get(len(code), (3,) * (len(code) // 3 + 1))
    groups, at = [], 0
    for size in sizes:
        groups.append(code[at : at + size])
        at += size
    return " ".join(g for g in groups if g)


def source_language(item: dict) -> str | None:
    """The language of a listing's own text (its name, notes), when it is not the page's: Spanish
    for Spanish-speaking meetings, else English, as US feeds are written (WCAG 3.1.2)."""
    codes = {t["code"] for t in item.get("types", [])}
    spoken = item.get("languages") or []
    own = "es" if "S" in codes or spoken == ["es"] else "en"
    return None if own == language() else own


def lang_attribute(item: dict) -> Markup:
    """A lang attribute (' lang="en"') for an element holding a listing's own text on a page in
    another language, else nothing."""
    own = source_language(item)
    return Markup(' lang="%s"') % own if own else Markup("")


WEEKLY_SHOWN = 12  # times listed on a card; the listing's page has them all


def weekly_text(times: list[tuple[int, str]]) -> str:
    """ "Sun 10:00 AM · Mon 7:00 PM, 9:00 PM" from (day, "HH:MM") pairs, Sunday=0, in order."""
    locale = format_locale()
    days: dict[int, list[str]] = {}
    for day, hhmm in times[:WEEKLY_SHOWN]:
        hour, minute = (int(part) for part in hhmm.split(":")[:2])
        days.setdefault(day, []).append(_wall_clock(hour % 24, minute, locale))
    text = " · ".join(
        f"{_short_day(day, locale)} " + ", ".join(clocks) for day, clocks in days.items()
    )
    if len(times) > WEEKLY_SHOWN:
        text += " " + gettext("and %(count)s more", count=len(times) - WEEKLY_SHOWN)
    return text


def every_week(times: list) -> Markup:
    """ "Every week: Sun 10:00 AM · Mon 7:00 PM" for a card's (day, "HH:MM") pairs."""
    return _every_week(tuple(map(tuple, times)), language())


@lru_cache(maxsize=4096)
def _every_week(times: tuple, _language: str) -> Markup:
    return _spaced(gettext("Every week:"), weekly_text(times))


# Weekly times repeat on every card: format each clock and day name once (the page stays fast).
@lru_cache(maxsize=4096)
def _wall_clock(hour: int, minute: int, locale: str) -> str:
    return format_time(time(hour, minute), "short", locale=locale)


@lru_cache(maxsize=64)
def _short_day(day: int, locale: str) -> str:
    """ "Sun" for 0 (Sunday), in the locale."""
    return format_date(datetime(2026, 11, 22) + timedelta(days=day), "EEE", locale=locale)


DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def day_choices(now: datetime, zone: str | None) -> list[tuple[str, str]]:
    """The form's days, as (parameter, label): from today in the searcher's zone ("Today
    (Tuesday)", "Tomorrow (Wednesday)", "Thursday"…), or Sunday to Saturday with no zone."""
    if zone is None:
        sunday = datetime(2026, 11, 22)
        days = [sunday + timedelta(days=n) for n in range(7)]
        return [(DAY_NAMES[d.weekday()], weekday(d)) for d in days]
    today = now.astimezone(ZoneInfo(zone))
    choices = []
    for ahead in range(7):
        day = today + timedelta(days=ahead)
        label = weekday(day)
        if ahead == 0:
            label = gettext("Today (%(day)s)", day=label)
        elif ahead == 1:
            label = gettext("Tomorrow (%(day)s)", day=label)
        choices.append((DAY_NAMES[day.weekday()], label))
    return choices
