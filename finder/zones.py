"""UTC offsets of many IANA zones at once, and the DST transitions between two instants.

The search needs, for every zone with resources, the local wall-clock minute of the week at the
query instant, and whether the zone's offset changes inside the query window. Asking zoneinfo
zone by zone costs microseconds each; this precomputes each year's transitions of every zone
(found by day, refined to the minute) so both answers are a couple of NumPy operations.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from .schedule import MINUTES_PER_WEEK

# 1970-01-04 was a Sunday: minutes since then, modulo a week, are UTC minutes of the week.
_EPOCH_SUNDAY = datetime(1970, 1, 4, tzinfo=UTC)


def utc_minutes(instant: datetime) -> int:
    """Whole minutes since the Sunday epoch (floor)."""
    return int((instant - _EPOCH_SUNDAY).total_seconds() // 60)


def _offset_minutes(zone: ZoneInfo, instant: datetime) -> int:
    return int(instant.astimezone(zone).utcoffset().total_seconds() // 60)


@dataclass
class YearTable:
    """Every zone's offset at the start of a year and its transitions during it."""

    start_offsets: np.ndarray  # minutes, per zone
    instants: np.ndarray  # UTC minutes since the epoch, sorted
    zones: np.ndarray  # zone number of each transition
    before: np.ndarray  # offset before, minutes
    after: np.ndarray  # offset after, minutes


class ZoneClock:
    """Offsets and transitions for a fixed list of zone names."""

    def __init__(self, names: list[str]):
        self.names = names
        self.zones = [ZoneInfo(n) for n in names]
        self._years: dict[int, YearTable] = {}
        self._year_starts: list[int] = []

    def _table(self, year: int) -> YearTable:
        if year not in self._years:
            self._years[year] = self._build(year)
        return self._years[year]

    def _build(self, year: int) -> YearTable:
        start = datetime(year, 1, 1, tzinfo=UTC)
        days = (datetime(year + 1, 1, 1, tzinfo=UTC) - start).days
        rows = []
        for number, zone in enumerate(self.zones):
            previous = _offset_minutes(zone, start)
            for day in range(1, days + 1):
                current = _offset_minutes(zone, start + timedelta(days=day))
                if current != previous:
                    instant = _refine(
                        zone, start + timedelta(days=day - 1), start + timedelta(days=day)
                    )
                    rows.append((utc_minutes(instant), number, previous, current))
                    previous = current
        rows.sort()
        columns = list(zip(*rows, strict=True)) or [(), (), (), ()]
        return YearTable(
            np.array([_offset_minutes(z, start) for z in self.zones], dtype=np.int64),
            *(np.array(c, dtype=np.int64) for c in columns),
        )

    def offsets(self, instant: datetime) -> np.ndarray:
        """Every zone's UTC offset (minutes) at an instant."""
        table = self._table(instant.astimezone(UTC).year)
        offsets = table.start_offsets.copy()
        passed = int(np.searchsorted(table.instants, utc_minutes(instant), side="right"))
        if passed:  # each zone takes the offset after its latest transition so far
            zones, last = np.unique(table.zones[:passed][::-1], return_index=True)
            offsets[zones] = table.after[:passed][::-1][last]
        return offsets

    def week_minutes(self, instant: datetime) -> np.ndarray:
        """Every zone's local wall-clock minute of the week (Sunday 00:00 = 0) at an instant."""
        return (utc_minutes(instant) + self.offsets(instant)) % MINUTES_PER_WEEK

    def transitions(self, start: datetime, end: datetime) -> list[tuple[int, int, int, int]]:
        """(zone number, UTC minute, offset before, offset after) of changes in [start, end]."""
        found = []
        for year in range(start.astimezone(UTC).year, end.astimezone(UTC).year + 1):
            table = self._table(year)
            lo, hi = np.searchsorted(
                table.instants, [utc_minutes(start), utc_minutes(end)], side="left"
            )
            found += [
                (
                    int(table.zones[i]),
                    int(table.instants[i]),
                    int(table.before[i]),
                    int(table.after[i]),
                )
                for i in range(lo, hi)
            ]
        return found


def _refine(zone: ZoneInfo, low: datetime, high: datetime) -> datetime:
    """The first minute at which the offset differs from ``low``'s (binary search)."""
    base = _offset_minutes(zone, low)
    lo, hi = 0, int((high - low).total_seconds() // 60)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _offset_minutes(zone, low + timedelta(minutes=mid)) == base:
            lo = mid
        else:
            hi = mid
    return low + timedelta(minutes=hi)
