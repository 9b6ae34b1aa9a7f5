"""Importers: one module per published format, all yielding the same normalised records.

Every importer module exposes ``parse(path) -> Iterator[Record | Rejected]``. Parsing is pure:
it reads files, never the network or the database. ``finder.ingest.load.load_source`` then geocodes,
derives time zones and writes the records in one transaction.

A normalised record is a plain dict. Only ``source_id``, ``kind`` and ``name`` are required::

    {
        "source_id": "1234",              # stable id within the source (str)
        "kind": "meeting",                # one of finder.vocabulary.KINDS
        "name": "Nothing Macho",
        "program": "NA",                  # fellowship / programme code, see vocabulary.PROGRAMS
        "description": "...",             # plain text; never trusted as HTML
        "attendance": None,               # in_person | online | hybrid | inactive; None = derive
        "location": {                     # None for online-only / national resources
            "source_id": "...", "name": "...", "address": "...", "city": "...",
            "state": "PA", "postal_code": "19103", "country": "US",
            "formatted_address": "...", "latitude": 39.95, "longitude": -75.16,
            "approximate": False, "notes": "...", "transportation": "...",
            "accessibility_text": "...",
        },
        "organization": {"source_id": "...", "name": "...", "description": "...", "url": "..."},
        "schedules": [{"day": 2, "time": "19:00", "end_time": "20:00"}],   # day 0=Sunday
        "always_open": False,             # 24/7 resources (forums, crisis lines)
        "by_appointment": False,
        "hours_text": "Mon-Fri 10:00-22:00",   # hours as the source wrote them, when useful
        "timezone": "America/New_York",   # as stated by the source, validated by the loader
        "types": [("O", "O"), ("X", "WC")],   # (vocabulary code, what the source said)
        "contacts": [{"kind": "voice", "value": "1-800-662-4357", "description": ""}],
        "conference_url": "", "conference_url_notes": "",
        "conference_phone": "", "conference_phone_notes": "",
        "url": "", "updated": "2024-01-31", "last_verified": None,
        "regions": ["Delaware County", "Woodlyn"],
        "languages": ["en", "es"],
        "languages_text": "multiple",     # what the source said when it is not a list of codes
        "service_areas": [{"kind": "state", "code": "CA", "name": "California"}],
        "issues": [("repaired", "types", "unknown type code 'AC' ignored")],
        "test_entry": False,              # the source says it is not real: never listed
    }
"""

from dataclasses import dataclass

from finder.errors import SourceFormatError

__all__ = ["Rejected", "SourceFormatError"]


@dataclass(frozen=True)
class Rejected:
    """A row that cannot become a record, with the reason shown to maintainers."""

    source_id: str | None
    reason: str
    row: int | None = None
    field: str | None = None
