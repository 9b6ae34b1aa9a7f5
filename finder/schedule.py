"""Weekly schedule arithmetic in local time: minutes of the week, durations, midnight crossing,
and the instants of an occurrence in its own IANA time zone (DST-exact)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
DEFAULT_DURATION = 60  # minutes, when a source gives no end time


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
