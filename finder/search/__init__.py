"""The search floor: "what is near me, and what can I go to now?" over an in-memory index.

Public API (pure Python, no Flask)::

    from finder.search import Query, SearchIndex, search
    results = search(SearchIndex.from_db(db), Query(now=..., latitude=..., longitude=...))

Names are loaded on first use, so importing a light module of this package (``describe``,
``query``) does not load the compiled engine.
"""

from importlib import import_module

__all__ = [
    "DEFAULT_KINDS", "DEFAULT_RADIUS_KM", "GROUPS", "KM_PER_MILE", "Hit", "Query", "Results",
    "SearchIndex", "search",
]  # fmt: skip

_HOMES = {
    "DEFAULT_KINDS": "query", "DEFAULT_RADIUS_KM": "query", "GROUPS": "query",
    "KM_PER_MILE": "query", "Hit": "query", "Query": "query", "Results": "query",
    "SearchIndex": "index", "search": "engine",
}  # fmt: skip


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'finder.search' has no attribute {name!r}")
    return getattr(import_module(f"finder.search.{_HOMES[name]}"), name)
