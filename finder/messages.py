"""Errors whose message is meant for the person, kept translatable.

The message is a template with named values, so the English text (``str(error)``) and a
translated one (``gettext(error.template, **error.values)``) come from the same place.
``pybabel extract`` collects the templates of ``ParamError(...)`` and ``GeocodeError(...)``.
"""


class PersonMessage(Exception):
    def __init__(self, template: str, **values):
        self.template = template
        self.values = values
        super().__init__(template % values if values else template)
