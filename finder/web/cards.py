"""A result card's parts (templates/_result.html): its fixed parts, which show only the listing's
own data and are kept per database generation, and its lines that depend on the search.

Each is one call from the template: a results page has a few dozen cards, and every call a
template makes costs a few microseconds of Jinja's own before the function runs.
"""

from typing import NamedTuple

from flask import current_app
from markupsafe import Markup

from finder.web import i18n
from finder.web.fragments import kept_in_generation
from finder.web.reports import reported_gone


class CardParts(NamedTuple):
    """A result card's fixed parts, in the order shown."""

    head: Markup
    kind: Markup
    body: Markup
    listed: Markup
    pick: Markup


class CardLines(NamedTuple):
    """What a card says that depends on the search, each empty when there is nothing to say."""

    timing: str  # "Tonight 7:00 PM, starts in 15 min", or the listing's hours
    weekly: str  # "Every week: Mon 7:00 PM · Thu 7:00 PM" (a group's meetings at one place)
    late: str  # why an in-person meeting would be over before you got there
    gone: str | None  # the date it was reported to meet no longer (an open report)
    distance: str  # "0.7 miles away"


def card_parts(item: dict, heading: str) -> CardParts:
    """The card's fixed parts for this listing: rendered by their macros on first use in this
    generation. Only its "over a year old" caution can change while the data does not."""
    listed = item["listed"]
    key = ("card", item["id"], heading, listed and listed["stale"])
    return kept_in_generation(key, lambda: _render_card_parts(item, heading))


def _render_card_parts(item: dict, heading: str) -> CardParts:
    macros = current_app.jinja_env.get_template("_result.html").module
    return CardParts(
        macros.card_head(item, heading),
        macros.card_kind(item),
        macros.card_body(item),
        macros.card_listed(item),
        macros.card_pick(item),
    )


def card_lines(item: dict, found) -> CardLines:
    """The card's lines for this search (``found``: the request's ``params.Search``)."""
    weekly = item.get("weekly")
    miles = item["distance_mi"]
    return CardLines(
        i18n.when_text(item, found),
        i18n.every_week(weekly) if weekly else "",
        i18n.reach_text(item),
        reported_gone(item),
        "" if miles is None else i18n.distance_away(miles, item["approximate_location"]),
    )
