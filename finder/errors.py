"""The core's named exceptions. The core raises them; the edges (the CLI, the views and the API)
translate them into a message, an exit status or an HTTP answer. Nothing catches a bare
ValueError to mean one of these, so a bug is never filed as bad data."""

from finder.messages import PersonMessage


class SourceFormatError(Exception):
    """A feed as a whole cannot be read as the format it claims to be (or its registry entry is
    unusable): the import stops and changes nothing."""


class RecordRejected(Exception):
    """One record cannot be listed; the reason is shown to maintainers and the rest imports."""

    def __init__(self, reason: str, field_name: str | None = None):
        super().__init__(reason)
        self.field = field_name


class TimeFormatError(ValueError):
    """A value that is not a clock time (a ValueError too: format readers treat it as one)."""


class HoursFormatError(ValueError):
    """An hours phrase that cannot be read as times ("Mon-Fri 9am-5pm"): kept as text instead."""


class GeocodeError(PersonMessage):
    """A place a person typed could not be resolved at all (shown to them, translated)."""


class NoWeeklyTimes(Exception):
    """A listing has no weekly times, so there is nothing to put in a calendar."""


class FeedError(Exception):
    """A live feed could not be fetched, or what came back is not safe to publish (an HTTP error,
    a truncated or oversized body, a feed that lost most of its records): its source keeps its
    previous data and the failure is recorded in feed_health."""


class PublishBusy(Exception):
    """Another import or refresh is already building the next database file: one at a time."""
