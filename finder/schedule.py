"""Weekly schedule arithmetic in local time: minutes of the week, durations, midnight crossing,
and the instants of an occurrence in its own IANA time zone (DST-exact)."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from finder.errors import TimeFormatError

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
DEFAULT_DURATION = 60  # minutes, when a source gives no end time
# A DST change moves clocks by at most an hour: windows are widened by this much where a zone's
# offset changes near them, and an occurrence is looked for this far past the window's end.
DST_MARGIN_MINUTES = 60


def minutes(hhmm: str) -> int:
    """'19:30' -> 1170."""
    hours, mins = hhmm.split(":")[:2]
    return int(hours) * 60 + int(mins)


def duration(start: str, end: str | None) -> int:
    """Minutes from start to end, crossing midnight when end is earlier (23:30-00:30 -> 60)."""
    if not end:
        return DEFAULT_DURATION
    length = (minutes(end) - minutes(start)) % MINUTES_PER_DAY
    return length or DEFAULT_DURATION


def schedule_row(schedule: dict) -> dict:
    """A record's schedule entry as stored: day 0=Sunday, local HH:MM, minute of week, duration."""
    day, start, end = int(schedule["day"]), schedule["time"], schedule.get("end_time")
    return {
        "day": day,
        "time": start,
        "end_time": end,
        "start_minute": day * MINUTES_PER_DAY + minutes(start),
        "duration_minutes": duration(start, end),
    }


def wrap_offset(start_minute: int, reference_minute: int, horizon: int) -> int:
    """Wall-clock minutes from the reference to the weekly start, in (horizon - 1 week, horizon]."""
    offset = (start_minute - reference_minute) % MINUTES_PER_WEEK
    return offset - MINUTES_PER_WEEK if offset > horizon else offset


def week_pieces(low: int, high: int) -> list[tuple[int, int]]:
    """A [low, high] span of minutes of the week, split where it wraps past Saturday midnight."""
    if high < low:
        return []
    if high - low >= MINUTES_PER_WEEK - 1:
        return [(0, MINUTES_PER_WEEK - 1)]
    low_w, high_w = low % MINUTES_PER_WEEK, high % MINUTES_PER_WEEK
    if low_w <= high_w:
        return [(low_w, high_w)]
    return [(low_w, MINUTES_PER_WEEK - 1), (0, high_w)]


def occurrence(
    start_minute: int, duration: int, zone: ZoneInfo, t0: datetime, horizon: int
) -> tuple[datetime, datetime]:
    """Start and end instants (UTC) of the weekly occurrence around ``t0``.

    Wall-clock arithmetic picks the occurrence (a 19:00 meeting is at 19:00 local time whatever
    the UTC offset); the end is ``duration`` real minutes later, so DST changes are exact.
    """
    local = t0.astimezone(zone)
    reference = (local.isoweekday() % 7) * MINUTES_PER_DAY + local.hour * 60 + local.minute
    offset = wrap_offset(start_minute, reference, horizon)
    wall = local.replace(tzinfo=None, second=0, microsecond=0) + timedelta(minutes=offset)
    # fold=0: an ambiguous wall time (clocks going back) is its first instant; a skipped one
    # (clocks springing forward) lands after the gap. Arithmetic is done in UTC, because adding
    # a timedelta to a zoned datetime adds wall-clock time.
    start = wall.replace(tzinfo=zone).astimezone(UTC)
    return start, start + timedelta(minutes=duration)


# One reader of clock times for every format: 24-hour ("19:00", "19:00:00", "0730", "19h30",
# "19.30") and 12-hour ("7:30 PM", "7pm", "11 a.m.", "noon", "12 midnight"). A bare "9" is
# refused: it could be morning or evening.
_CLOCK = re.compile(
    r"""^(?:
        (?P<word>noon|midday|midnight)
      | (?P<h12>\d{1,2})(?:[:.](?P<m12>\d{2})(?::\d{2}(?:\.\d+)?)?)?\s*(?P<ap>[ap])\.?\s*m\.?
      | (?P<h>\d{1,2})[:.h](?P<m>\d{2})(?::\d{2}(?:\.\d+)?)?
      | (?P<hhmm>\d{4})
    )$""",
    re.I | re.X,
)
# Reading an end time 12 hours later gives at most this long a meeting: an AM/PM slip.
SLIP_MAX_MINUTES = 4 * 60
HALF_DAY = MINUTES_PER_DAY // 2


def parse_time(value) -> str:
    """Any published clock time as 'HH:MM' (24:00 is 00:00); TimeFormatError if unreadable.

    >>> parse_time("7:30 pm"), parse_time("noon"), parse_time("19:00:00"), parse_time("0730")
    ('19:30', '12:00', '19:00', '07:30')
    """
    raw = " ".join(str(value if value is not None else "").split())
    match = _CLOCK.match(re.sub(r"^12(?::00)?\s*(?=noon|midnight)", "", raw, flags=re.I))
    if not match:
        raise TimeFormatError(f"{raw!r} is not a time")
    if match["word"]:
        hour, minute = (0, 0) if match["word"].lower() == "midnight" else (12, 0)
    elif match["h12"]:
        hour, minute = int(match["h12"]), int(match["m12"] or 0)
        if not 1 <= hour <= 12:
            raise TimeFormatError(
                f"{raw!r} is not a time: {hour} is not an hour on a 12-hour clock"
            )
        hour = hour % 12 + (12 if match["ap"].lower() == "p" else 0)
    elif match["hhmm"]:
        hour, minute = int(match["hhmm"][:2]), int(match["hhmm"][2:])
    else:
        hour, minute = int(match["h"]), int(match["m"])
    if hour > 24 or minute > 59 or (hour == 24 and minute):
        raise TimeFormatError(f"{raw!r} is not a time")
    return f"{hour % 24:02d}:{minute:02d}"


def settle_end(start: str, end: str | None) -> tuple[str | None, str | None]:
    """The end time to keep for a start time, and why it was changed (None if kept as given).

    An end is kept however long the meeting (a 00:00-23:59 online room, a marathon), crossing
    midnight when earlier than the start. Two readings change it: an end equal to the start says
    nothing (dropped), and an end that reads as a short meeting when taken 12 hours later, while
    as written it would last over 12 hours, is an AM/PM slip ("12:15" to "01:15" is 13:15).
    """
    if end is None:
        return None, None
    length = (minutes(end) - minutes(start)) % MINUTES_PER_DAY
    if length == 0:
        return None, f"end time {end} equals the start time; end time ignored"
    if length > HALF_DAY and 0 < length - HALF_DAY <= SLIP_MAX_MINUTES:
        fixed = minutes(end) + HALF_DAY
        corrected = f"{fixed // 60 % 24:02d}:{fixed % 60:02d}"
        return corrected, (
            f"end time {end} after a {start} start would last {length // 60} h {length % 60} min;"
            f" read as {corrected} (an AM/PM slip)"
        )
    return end, None
