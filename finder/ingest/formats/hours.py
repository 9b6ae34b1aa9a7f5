"""Hours phrases as the CSV template writes them: "24/7", "by appointment", "Mon-Fri 10:00-22:00".

Pure parsing: the phrase's time zone is returned as written; the importer validates it.
"""

import re

from finder.errors import HoursFormatError, TimeFormatError
from finder.ingest.formats.common import DAY_NAMES
from finder.schedule import parse_time

ALWAYS_OPEN = {"24/7", "24x7", "24/7/365"}
BY_APPOINTMENT = {"by appointment", "by appointment only"}
_ZONE = re.compile(r"[A-Za-z_]+(?:/[A-Za-z0-9_+-]+)+|UTC")
# A clock time in 24- or 12-hour form ("10:00", "9am", "7:30 p.m.", "noon"); parse_time reads it.
_TIME = r"(?:\d{1,2}(?::\d{2})?\s*[ap]\.?\s*m\.?|\d{1,2}:\d{2}|noon|midnight)"
_SPAN = rf"{_TIME}(?:\s*-\s*{_TIME})?"
_DAYS = r"[a-z]+(?:\s*[-,]\s*[a-z]+)*"
_SEGMENT = re.compile(rf"(?P<days>{_DAYS})\s+(?P<spans>{_SPAN}(?:\s*,\s*{_SPAN})*)", re.I)


def parse_hours(text: str) -> dict:
    """Read an hours phrase ("24/7", "by appointment", "Mon-Fri 10:00-22:00 America/New_York").

    Returns always_open, by_appointment, schedules (day 0=Sunday) and timezone (as written, not
    validated; None if not stated). Raises HoursFormatError if the phrase cannot be read.
    """
    words = text.split()
    zone = words.pop() if len(words) > 1 and _ZONE.fullmatch(words[-1]) else None
    body = " ".join(words).lower()
    hours = {"always_open": body in ALWAYS_OPEN, "by_appointment": body in BY_APPOINTMENT}
    hours.update(schedules=[], timezone=zone)
    if not (hours["always_open"] or hours["by_appointment"]):
        hours["schedules"] = _schedules(body)
    return hours


def _schedules(body: str) -> list[dict]:
    """Weekly schedules from "Mon,Wed 18:00-19:00; Sat 09:00-12:00"."""
    schedules = []
    for segment in filter(None, (part.strip() for part in body.split(";"))):
        match = _SEGMENT.fullmatch(segment)
        if not match:
            raise HoursFormatError(segment)
        spans = [_span(span) for span in match["spans"].split(",")]
        for day in _days(match["days"]):
            schedules += [{"day": day, "time": start, "end_time": end} for start, end in spans]
    if not schedules:
        raise HoursFormatError(body)
    unique = {(s["day"], s["time"], s["end_time"] or ""): s for s in schedules}
    return [unique[key] for key in sorted(unique)]


def _days(spec: str) -> list[int]:
    """Day numbers (0=Sunday) for "mon-fri", "mon,wed", "fri-mon", "tu" or "daily"."""
    spec = re.sub(r"\s+", "", spec)
    if spec == "daily":
        return list(range(7))
    days = []
    for part in spec.split(","):
        ends = [_day(token) for token in part.split("-")]
        if len(ends) > 2:
            raise HoursFormatError(part)
        days += [(ends[0] + step) % 7 for step in range((ends[-1] - ends[0]) % 7 + 1)]
    return days


def _day(token: str) -> int:
    """0-6 for a day name or a prefix of two letters or more (su mo tu we th fr sa are unique)."""
    found = [number for number, name in enumerate(DAY_NAMES) if name.startswith(token)]
    if len(token) < 2 or not found:
        raise HoursFormatError(token)
    return found[0]


def _span(span: str) -> tuple[str, str | None]:
    """("HH:MM", "HH:MM" or None) for "10:00-22:00", "22:00-02:00" (crosses midnight) or "19:00"."""
    try:
        times = [parse_time(text) for text in span.split("-")]
    except TimeFormatError as error:
        raise HoursFormatError(span) from error
    if len(times) == 2 and times[0] == times[1]:
        raise HoursFormatError(span)
    return times[0], times[1] if len(times) == 2 else None
