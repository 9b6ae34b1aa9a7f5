"""Recovery Support Finder: recovery peer support near me, and what I can go to right now.

Four floors, dependencies pointing down (held by import-linter, ``.importlinter``):
``web`` and ``cli`` over ``ingest`` and ``search``, over ``geo``, over the shared modules
(``vocabulary``, ``schedule``, ``store``, ``migrations``, ``messages``, ``errors``,
``paths``).
Importing ``finder`` loads none of them; ``create_app`` loads the web floor when called.
"""


def create_app(test_config: dict | None = None):
    """Application factory for ``flask --app finder`` (see ``finder.web.app.build_app``)."""
    from finder.web.app import build_app

    return build_app(test_config)
