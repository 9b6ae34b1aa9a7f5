"""UTC offsets of many IANA zones at once, and the DST transitions between two instants.

The search needs, for every zone with resources, the local wall-clock minute of the week at the
query instant, and whether the zone's offset changes inside the query window. Asking zoneinfo
zone by zone costs microseconds each; this precomputes each year's transitions of every zone
(found by day, refined to the minute) so both answers are a couple of NumPy operations.
"""

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

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
    instant_list: list = field(default_factory=list)  # the instants, for bisect
    by_interval: dict = field(default_factory=dict)  # transitions passed -> offsets
    rows: list = field(default_factory=list)  # (zone, instant, before, after) per transition

    def __post_init__(self):
        self.instant_list = self.instants.tolist()
        columns = (self.zones, self.instants, self.before, self.after)
        self.rows = list(zip(*(c.tolist() for c in columns), strict=True))


class ZoneClock:
    """Offsets and transitions for a fixed list of zone names."""

    def __init__(self, names: list[str]):
        self.zones = [ZoneInfo(n) for n in names]
        self._years: dict[int, YearTable] = {}
        self._bounds: dict[int, tuple[int, int]] = {}  # year -> UTC minutes of its start, end

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
        """Every zone's UTC offset (minutes) at an instant (do not modify: it is shared)."""
        return self._offsets(self._table(instant.astimezone(UTC).year), utc_minutes(instant))

    def _offsets(self, table: YearTable, minute: int) -> np.ndarray:
        passed = bisect_right(table.instant_list, minute)
        if passed not in table.by_interval:  # offsets are constant between two transitions
            offsets = table.start_offsets.copy()
            if passed:  # each zone takes the offset after its latest transition so far
                zones, last = np.unique(table.zones[:passed][::-1], return_index=True)
                offsets[zones] = table.after[:passed][::-1][last]
            table.by_interval[passed] = offsets
        return table.by_interval[passed]

    def around(self, instant: datetime, low: int, high: int) -> tuple[int, np.ndarray, list]:
        """An instant's UTC minute (as ``utc_minutes``), every zone's offset then (as
        ``offsets``), and the changes (zone number, UTC minute, offset before, offset after) with
        UTC minutes in [low, high), from integer minutes.

        :param low: at most a year before the instant
        """
        year = instant.astimezone(UTC).year
        minute = utc_minutes(instant)
        found = []
        for y in range(year - 1, year + 2 + max(0, (high - minute) // 525_600)):
            first, last = self._year_minutes(y)
            if first >= high:
                break
            if last > low:
                table = self._table(y)
                lo = bisect_left(table.instant_list, low)
                found += table.rows[lo : bisect_left(table.instant_list, high)]
        return minute, self._offsets(self._table(year), minute), found

    def _year_minutes(self, year: int) -> tuple[int, int]:
        """UTC minutes (as ``utc_minutes``) of a year's start and of the next year's start."""
        if year not in self._bounds:
            first, last = (datetime(y, 1, 1, tzinfo=UTC) for y in (year, year + 1))
            self._bounds[year] = utc_minutes(first), utc_minutes(last)
        return self._bounds[year]


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
