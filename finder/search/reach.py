"""Whether a person could get to an in-person meeting before it is over (issue #11).

The rule (README, "Reachability"): the trip takes the straight-line distance at ``URBAN_KMH``, a
city's door-to-door speed by car or transit (streets are not straight; there are lights, stops,
parking and a walk at each end). A meeting is within reach when you would arrive with at least
``MIN_STAY_MINUTES`` of it left. Within a group, meetings you can reach come first, ordered by
when you could be there (its start, or your arrival if later), then by distance; the rest follow,
labelled "ending soon" with the reason. Pure: plain numbers in, plain values out.
"""

from typing import NamedTuple

URBAN_KMH = 25.0  # about 15 mph, door to door
MIN_STAY_MINUTES = 10.0  # arriving with less of the meeting left than this is "too late"


class Reach(NamedTuple):
    """How long the trip takes, when you could be there, and whether that is in time."""

    travel_minutes: float
    arrive_minutes: float  # from the search's moment until you could be in the room
    in_time: bool


def travel_minutes(distance_km: float) -> float:
    """Minutes to cover ``distance_km`` at the urban door-to-door speed."""
    return distance_km / URBAN_KMH * 60


def reach(distance_km: float, minutes_until_start: float, minutes_until_end: float) -> Reach:
    """Whether a meeting this far away, starting and ending at these times, can be reached.

    :param distance_km: straight-line distance from the searched place
    :param minutes_until_start: from the search's moment to the start (negative: started)
    :param minutes_until_end: from the search's moment to the end
    """
    travel = travel_minutes(distance_km)
    arrive = max(minutes_until_start, travel)
    return Reach(travel, arrive, minutes_until_end - travel >= MIN_STAY_MINUTES)


def by_arrival(entries: list[tuple[Reach | None, float | None]]) -> list[int]:
    """Positions of (reach, distance_km) entries in order: reachable ones by when you could be
    there, then distance; then the rest in the same order. Entries without a reach (no trip to
    make) come first, in their given order."""

    def key(position: int):
        found, distance = entries[position]
        if found is None:
            return (False, 0.0, 0.0, position)
        return (not found.in_time, found.arrive_minutes, distance or 0.0, position)

    return sorted(range(len(entries)), key=key)
