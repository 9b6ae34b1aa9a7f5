"""The compiled inner loops against plain-Python statements of what they must do."""

import math
import random

import numpy as np
import pytest

from finder.geo.positions import distance_km
from finder.schedule import MINUTES_PER_WEEK, week_pieces
from finder.search import kernels

GROUPS = 6


def ranked_by_hand(times, group, ids, nearest, limit):
    """Sort everything by (group, keys, id, position), keep each id's first, cut per group."""

    def key(value, decimals):
        return 0.0 if math.isnan(value) else round(abs(value), decimals)

    def order(i):
        distance, until = key(times[i][0], 9), key(times[i][1], 6)
        keys = (distance, until) if nearest else (until, distance)
        return (group[i], *keys, ids[i], i)

    seen, chosen, totals = set(), [[] for _ in range(GROUPS)], [0] * GROUPS
    for i in sorted(range(len(group)), key=order):
        if ids[i] in seen:
            continue
        seen.add(ids[i])
        totals[group[i]] += 1
        if len(chosen[group[i]]) < limit:
            chosen[group[i]].append(i)
    return chosen, totals


@pytest.mark.parametrize("seed", range(40))
def test_ranking_matches_a_plain_sort(seed):
    rng = random.Random(seed)
    count = rng.choice([0, 1, 2, 7, 30, 300, 5000])
    ids = [rng.randrange(max(1, count // 3) + 1) for _ in range(count)]  # many repeats
    group = [rng.randrange(GROUPS) for _ in range(count)]
    times = [
        (
            rng.choice([math.nan, rng.choice([0.5, 1.25, 3.0]), rng.uniform(0, 30)]),
            rng.choice([math.nan, rng.randrange(-60, 120) - 0.25, rng.uniform(-60, 120)]),
        )
        for _ in range(count)
    ]
    nearest, limit = rng.random() < 0.3, rng.choice([0, 1, 5, 25])
    chosen, sizes, totals = kernels.rank_groups(
        np.array(times, dtype=float).reshape(-1, 2),
        np.array(group, dtype=np.int64),
        np.array(ids, dtype=np.int64),
        nearest,
        limit,
        GROUPS,
    )
    expected, expected_totals = ranked_by_hand(times, group, ids, nearest, limit)
    assert totals.tolist() == expected_totals
    assert sizes.tolist() == [len(members) for members in expected]
    assert chosen.tolist() == [i for members in expected for i in members]


def test_ranking_rounds_keys_so_that_equal_instants_tie_and_ids_decide():
    # 10.0000001 and 9.9999999 minutes are the same instant computed two ways: id 3 comes first
    times = np.array([[np.nan, 10.0000001], [np.nan, 9.9999999], [np.nan, 9.5]])
    chosen, _, _ = kernels.rank_groups(
        times, np.zeros(3, dtype=np.int64), np.array([7, 3, 9]), False, 25, GROUPS
    )
    assert chosen.tolist() == [2, 1, 0]


@pytest.mark.parametrize(
    "low, high",
    [(5, 4), (0, 10079), (-30, 50), (10000, 10100), (-10, 20000), (100, 200), (10079, 10080)],
)
def test_week_pieces_as_the_schedule_module_splits_them(low, high):
    count, a, b, c, d = kernels.week_pieces(low, high)
    assert [(a, b), (c, d)][:count] == week_pieces(low, high)


@pytest.mark.parametrize("minute", [-20160, -10081, -10080, -1, 0, 10079, 10080, 25000])
def test_minute_of_week_is_the_minute_modulo_the_week(minute):
    assert kernels.minute_of_week(minute) == minute % MINUTES_PER_WEEK


def positions(count, seed=3):
    """Random positions, and some awkward ones: poles, the antimeridian, a point to itself."""
    rng = random.Random(seed)
    points = [(rng.uniform(-89, 89), rng.uniform(-180, 180)) for _ in range(count)]
    near = [(lat + rng.uniform(-1e-3, 1e-3), lon + rng.uniform(-1e-3, 1e-3)) for lat, lon in points]
    awkward = [(90.0, 0.0), (-90.0, 180.0), (0.0, 180.0), (0.0, -180.0), (39.7392, -104.9903)]
    return points + near[: count // 2] + awkward


def test_the_one_distance_is_the_c_librarys_bit_for_bit():
    # NumPy's vectorised sin, cos and arcsin differ from these in the last bit on CPUs with
    # AVX-512 (the NumPy haversine this replaced did on 384 of these 6005 pairs there, and on
    # none elsewhere): the search's distances are these on every machine, in every path.
    places = positions(4000)
    origin = places[-1]
    expected = [distance_km(*origin, *p) for p in places]  # Python's math module
    lat, lon = (np.array(column) for column in zip(*places, strict=True))
    rows = kernels.place_rows(lat, lon)
    point = np.array(kernels.place_row(*origin))
    assert kernels.distances(point, rows).tolist() == expected
    assert [kernels.haversine(point, row) for row in rows] == expected


def test_positions_are_prepared_with_the_c_library():
    places = positions(4000)
    lat, lon = (np.array([*column, math.nan]) for column in zip(*places, strict=True))
    rows = kernels.place_rows(lat, lon)
    expected = [
        (math.radians(a) / 2, math.radians(o) / 2, math.cos(math.radians(a))) for a, o in places
    ]
    assert [tuple(row) for row in rows[:-1].tolist()] == expected
    assert [kernels.place_row(*p) for p in places] == expected
    assert np.isnan(rows[-1]).all()  # no position: no distance (never within a radius)
    assert np.isnan(kernels.distances(rows[0], rows[-1:])).all()


def test_id_set_finds_each_value_once():
    values = np.array([5, 67_000_000, 5, 0, 1024, 0, 16], dtype=np.int64)
    table = kernels.id_set(len(values))
    new = []
    for value in values:
        slot = kernels.slot_of(table, value)
        new.append(bool(table[slot] == -1))
        table[slot] = value
    assert new == [True, True, False, True, True, False, True]
