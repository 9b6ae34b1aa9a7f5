"""Parts of a page that depend only on the database generation and the page's language, rendered
once and reused (issue #14: a results page spent most of its time rendering each card's fixed
part again). In a template:

    {% call fragment("card-body", item.id) %} ... {% endcall %}

The key must name everything the block shows besides the generation's data and the language.
"""

from flask import g
from markupsafe import Markup

from finder.web import i18n
from finder.web.state import get_memo

SIZE = 20_000  # fragments kept per generation: a card has four, of 0.1–2 KB each (≤ 40 MB)


def fragment(*key, caller) -> Markup:
    """The call block's HTML for this key, rendered on first use in this generation."""
    if "fragments" not in g:
        g.fragments = (get_memo("fragments", SIZE), i18n.language(), i18n.chosen_language())
    memo, language, chosen = g.fragments
    full = (language, chosen, *map(_hashable, key))
    html = memo.get(full)
    if html is None:
        html = memo.put(full, Markup(caller()))
    return html


def _hashable(part):
    return tuple(part) if isinstance(part, list) else part  # a card's weekly times
