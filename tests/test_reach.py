"""Reachability (issue #11): a meeting over before you could get there is not "go now"."""

import pytest

from finder.search.reach import MIN_STAY_MINUTES, URBAN_KMH, Reach, by_arrival, reach

MILE = 1.609344


@pytest.mark.parametrize(
    "distance_km, until_start, until_end, in_time",
    [
        (19 * MILE, -47, 13, False),  # the case: ends in 13 min, 19 miles away
        (0.2, -55, 5, False),  # next door, but 5 min left: under the minimum stay
        (1.0, -30, 30, True),  # 2.4 min away, 30 min left
        (5.0, 0, 60, True),  # starting now, 12 min away: 48 min of it left
        (20.0, 10, 60, True),  # starts in 10 min, 48 min away: 12 min of it left
        (25.0, 10, 60, False),  # 60 min away: over when you arrive
        (0.0, -50, MIN_STAY_MINUTES, True),  # at the door with exactly the minimum left
    ],
)
def test_reach_table(distance_km, until_start, until_end, in_time):
    found = reach(distance_km, until_start, until_end)
    assert found.travel_minutes == pytest.approx(distance_km / URBAN_KMH * 60)
    assert found.arrive_minutes == max(until_start, found.travel_minutes)
    assert found.in_time is in_time


def test_starting_soon_ranks_by_when_you_could_be_there_then_distance():
    entries = [
        (reach(30.0, 20, 80), 30.0),  # starts in 20, but 72 min away: there at 72
        (reach(2.0, 45, 105), 2.0),  # starts in 45, 5 min away: there at 45
        (reach(8.0, 20, 80), 8.0),  # starts in 20, 19 min away: there at 20
        (reach(1.0, 20, 80), 1.0),  # starts in 20, 2 min away: there at 20, and nearer
        (reach(50.0, 20, 80), 50.0),  # 2 hr away: over when you arrive, so last
        (None, None),  # no trip to make (no distance): nothing to wait for, so first
    ]
    assert by_arrival(entries) == [5, 3, 2, 1, 0, 4]


def test_a_reach_is_plain_numbers():
    assert reach(URBAN_KMH, -10, 120) == Reach(60.0, 60.0, True)
