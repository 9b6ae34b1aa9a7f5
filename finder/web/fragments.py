"""Parts of a page rendered once and reused (issue #14: a results page spent most of its time
rendering the same HTML again).

``kept_in_generation`` keeps what shows the data with the database generation (a result card's
fixed parts, finder/web/cards.py); ``page_part`` keeps what shows none (the header, the search
form) for the process, apart and fewer, so that many different searches never push the cards
out. In a template:

    {% call page_part("search-form", refine, form_values(args)) %} ... {% endcall %}

The key must name everything the part shows besides the language (and, for the generation's
parts, its data).
"""

from flask import current_app, g
from markupsafe import Markup

from finder.web import i18n
from finder.web.state import Memo, get_memo

SIZE = 20_000  # fragments kept per generation: a card's fixed parts are one, of 0.5–3 KB (≤ 60 MB)
PAGE_PARTS = 2_000  # page parts kept per process: a search form is about 8 KB (≤ 16 MB)


def kept_in_generation(key: tuple, make):
    """What ``make()`` gives for this key and the page's language, made on first use in this
    database generation."""
    here = g._get_current_object()  # one look-up of the request's globals (a page has ~100)
    memo = here.get("fragments") or here.setdefault("fragments", get_memo("fragments", SIZE))
    return kept_with(here, memo, key, make)


def page_part(*key, caller) -> Markup:
    """The call block's HTML for this key (the request's parameters it shows), rendered on
    first use in this process; every time while templates reload (development)."""
    if current_app.jinja_env.auto_reload:
        return Markup(caller())
    memo = current_app.extensions.setdefault("page_parts", Memo(PAGE_PARTS))
    return kept_with(g._get_current_object(), memo, key, caller)


def kept_with(here, memo: Memo, key: tuple, make):
    """What ``make()`` gives for this key in the page's language: kept in ``memo`` on first use.

    :param here: the request's globals (``flask.g`` itself)
    """
    languages = here.get("fragment_language")
    if languages is None:
        languages = here.fragment_language = (i18n.language(), i18n.chosen_language())
    full = (*languages, *map(_hashable, key))
    html = memo.get(full)
    if html is None:
        made = make()
        html = memo.put(full, Markup(made) if isinstance(made, str) else made)
    return html


def _hashable(part):
    if isinstance(part, list):  # a form's day choices and chosen values
        return tuple(map(_hashable, part))
    return part
