"""Weekly schedule arithmetic in local time: minutes of the week, durations, midnight crossing."""

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
