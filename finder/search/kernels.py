"""The search's inner loops, compiled with numba: plain arrays in, plain arrays out.

A query looks at a few hundred candidates. As NumPy calls, each step over them (a gather, a
comparison, a mask) costs a few microseconds of call overhead whatever the size, and a query
made about a hundred such calls; each function here is one pass instead, and
``finder.search_naive`` checks them.

Every distance the search decides with (within the radius, in a service-area circle, nearest
first) is ``haversine``, with the C library's sin, cos and asin (``math``), on positions prepared
by ``place_row`` (the index's precomputed ones too); the fast path and the naive scan both call
it. NumPy's vectorised sin, cos and arcsin are kept out: their SIMD versions (on CPUs with
AVX-512) differ from the C library's in the last bit, so a place at the radius edge would be in
on one machine and out on another, or in one path and out in the other.

Compiled on first use and cached beside this file (``__pycache__``), so only the first process
after a change pays the compile time (a few seconds).
"""

import math

import numpy as np
from numba import njit

from finder.geo.positions import EARTH_DIAMETER_KM
from finder.schedule import DST_MARGIN_MINUTES as DST_MARGIN
from finder.schedule import MINUTES_PER_WEEK as WEEK
from finder.search.query import (
    DURATION,
    GROUP,
    LATER,
    ONLINE_NOW,
    RESOURCE,
    START,
    STARTING_SOON,
    ZONE,
)

compiled = njit(cache=True, nogil=True)
# Small helpers are inlined: a call that passes arrays costs reference counting per call.
inlined = njit(cache=True, inline="always")


@inlined
def week_pieces(low, high):
    """``finder.schedule.week_pieces`` as a fixed-size answer: (count, a, b, c, d), the pieces
    [a, b] and [c, d]."""
    if high < low:
        return 0, 0, 0, 0, 0
    if high - low >= WEEK - 1:
        return 1, 0, WEEK - 1, 0, 0
    low_w, high_w = low % WEEK, high % WEEK
    if low_w <= high_w:
        return 1, low_w, high_w, 0, 0
    return 2, low_w, WEEK - 1, 0, high_w


@compiled
def window_edges(key, groups, lows, horizon, changing):
    """[first, last) positions in ``key`` of every (bucket, duration class, zone) range whose
    local start minute is in that zone's [low - class bound, low + horizon].

    :param groups: (zone, duration class bound, key base) rows for the searched buckets
    :param lows: per zone number, the window start as that zone's local minute of the week
    :param changing: zone numbers whose offset changes near the window (an hour's margin)
    """
    edges = np.empty((2 * len(groups), 2), dtype=np.int64)
    count = 0
    for g in range(len(groups)):
        zone, bound, base = groups[g, 0], groups[g, 1], groups[g, 2]
        margin = 0
        for z in changing:
            if z == zone:
                margin = DST_MARGIN
        pieces, a, b, c, d = week_pieces(lows[zone] - bound - margin, lows[zone] + horizon + margin)
        for piece in range(pieces):
            first, last = (a, b) if piece == 0 else (c, d)
            left = np.searchsorted(key, base + first)
            right = np.searchsorted(key, base + last + 1)
            if right > left:
                edges[count, 0], edges[count, 1] = left, right
                count += 1
    return edges[:count]


@compiled
def scan_window(key, rows, places, groups, window, reach, now_group, filters):
    """The occurrences of the searched buckets that are in the window, within the radius and
    allowed, grouped: (rows with the group column set, (distance, minutes until) per row).

    :param window: ``kernel_inputs.Window``; its changes are (zone, threshold, offset now -
        offset before, offset now - offset after) per offset change near the window: wall minutes
        below the threshold keep the earlier offset (see ``engine._changes``)
    :param reach: ``kernel_inputs.Reach``; an empty point means online occurrences (no distance,
        no radius)
    :param now_group: per resource code, the group of what is on now (in progress or open)
    :param filters: ``kernel_inputs.Filters``
    """
    lows, horizon, fraction, changes = window
    point, radius, soon, end = reach
    everything, codes, programs, program, words, low, high = filters
    edges = window_edges(key, groups, lows, horizon, changes[:, 0])
    total = 0
    for e in range(len(edges)):
        total += edges[e, 1] - edges[e, 0]
    out_rows = np.empty((total, 5), dtype=np.int64)
    out_times = np.empty((total, 2))
    located = len(point) == 3
    count = 0
    for e in range(len(edges)):
        for i in range(edges[e, 0], edges[e, 1]):
            if not everything and not passes(
                rows[i, RESOURCE], rows[i, GROUP], codes, programs, program, words, low, high
            ):
                continue
            zone = rows[i, ZONE]
            wall = wall_minutes(rows[i, START], lows[zone], horizon)
            until = wall - fraction
            for c in range(len(changes)):
                if changes[c, 0] == zone:
                    shift = changes[c, 2] if wall < changes[c, 1] else changes[c, 3]
                    until = wall - fraction + shift
            if not (until + rows[i, DURATION] > 0 and until <= end):
                continue
            distance = np.nan
            if located:
                # The distance is at least the latitude difference's: far enough north or south
                # (beyond any rounding), the place is out without the trigonometry.
                if abs(places[i, 0] - point[0]) * EARTH_DIAMETER_KM > radius * (1 + 1e-9) + 1e-9:
                    continue
                distance = haversine(point, places[i])
                if not distance <= radius:
                    continue
            for column in range(GROUP):
                out_rows[count, column] = rows[i, column]
            if not located:
                group = ONLINE_NOW if until <= soon else LATER
            elif until <= 0:
                group = now_group[rows[i, GROUP]]
            else:
                group = STARTING_SOON if until <= soon else LATER
            out_rows[count, GROUP] = group
            out_times[count, 0], out_times[count, 1] = distance, until
            count += 1
    return out_rows[:count], out_times[:count]


@inlined
def place_row(latitude, longitude):
    """A position as ``haversine`` takes it: half latitude, half longitude (radians) and
    cos(latitude). NaN (no position) gives NaN."""
    lat = math.radians(latitude)
    return lat / 2, math.radians(longitude) / 2, math.cos(lat)


@compiled
def place_rows(latitudes, longitudes):
    """``place_row`` of each position (what the index keeps per resource)."""
    out = np.empty((len(latitudes), 3))
    for i in range(len(latitudes)):
        out[i, 0], out[i, 1], out[i, 2] = place_row(latitudes[i], longitudes[i])
    return out


@inlined
def haversine(point, place):
    """Great-circle km between two positions as ``place_row`` gives them: the one distance of
    the search."""
    a = math.sin(place[0] - point[0])
    b = math.sin(place[1] - point[1])
    h = a * a + point[2] * place[2] * (b * b)
    return EARTH_DIAMETER_KM * math.asin(math.sqrt(h))


@compiled
def distances(point, places):
    """``haversine`` from one ``place_row`` to each of some."""
    out = np.empty(len(places))
    for i in range(len(places)):
        out[i] = haversine(point, places[i])
    return out


@inlined
def passes(resource, code, codes, programs, program, words, types_low, types_high):
    """Whether a resource passes the kind and attendance, program and type filters (see
    ``engine.Plan.filters``)."""
    if not codes[code]:
        return False
    if len(programs) and not programs[program[resource]]:
        return False
    low, high = types_low[resource], types_high[resource]
    return (
        (low & words[0]) == words[0]
        and (high & words[1]) == words[1]
        and (low & words[2]) == 0
        and (high & words[3]) == 0
    )


@inlined
def wall_minutes(start, low, horizon):
    """Wall-clock minutes from the window start (local minute ``low``) to a weekly start, in
    (horizon + DST_MARGIN - a week, horizon + DST_MARGIN]: the occurrence around the window, not
    a week away."""
    wall = minute_of_week(start - low)
    return wall - WEEK if wall > horizon + DST_MARGIN else wall


@inlined
def minute_of_week(minute):
    """A minute modulo the week (a plain difference usually is one already)."""
    if 0 <= minute < WEEK:
        return minute
    if -WEEK <= minute < 0:
        return minute + WEEK
    return minute % WEEK


@compiled
def online_window(at, ordered, base, low, high, need, picked, count):
    """Append the first ``need`` of the occurrences of one duration number whose minutes are in
    [low, high] (of the week, wrapping) to ``picked``, from a directory as
    ``online.Regime`` keeps them: (new count of picked, occurrences in range)."""
    pieces, a, b, c, d = week_pieces(low, high)
    found = 0
    for piece in range(pieces):
        first, last = (a, b) if piece == 0 else (c, d)
        left, right = at[base + first], at[base + last + 1]
        found += right - left
        for i in range(left, min(left + need, right)):
            picked[count] = ordered[i]
            count += 1
    return count, found


@compiled
def online_soonest(directory, bases, span, rows, window, soon):
    """The fast online path's window (see ``online.window``): the best-placed
    occurrences as candidates (rows with their group, (NaN, minutes until) times), and how many
    occurrences are in progress or start soon, and how many later.

    :param directory: ``kernel_inputs.Directory``
    :param bases: (directory start, duration) per duration number
    :param span: ``kernel_inputs.OnlineSpan``
    :param window: ``kernel_inputs.Window``
    """
    soonest_at, soonest_rows, latest_at, latest_rows = directory
    t0u, soon_last, end_last, need = span
    lows, horizon, fraction, _ = window
    picked = np.empty(6 * len(bases) * need, dtype=np.int64)
    count = now_count = later_count = 0
    for n in range(len(bases)):
        count, found = online_window(
            soonest_at, soonest_rows, bases[n, 0], t0u + 1, soon_last, need, picked, count
        )
        now_count += found
    for n in range(len(bases)):
        count, found = online_window(
            soonest_at, soonest_rows, bases[n, 0], soon_last + 1, end_last, need, picked, count
        )
        later_count += found
    for n in range(len(bases)):
        # in progress: started in [t0u - duration + 1, t0u], counted back from the week's end
        low = WEEK - 1 - t0u
        count, found = online_window(
            latest_at, latest_rows, bases[n, 0], low, low - 1 + bases[n, 1], need, picked, count
        )
        now_count += found
    out_rows = np.empty((count, 5), dtype=np.int64)
    out_times = np.empty((count, 2))
    for k in range(count):
        for column in range(GROUP):
            out_rows[k, column] = rows[picked[k], column]
        until = wall_minutes(out_rows[k, START], lows[out_rows[k, ZONE]], horizon) - fraction
        out_rows[k, GROUP] = ONLINE_NOW if until <= soon else LATER
        out_times[k, 0], out_times[k, 1] = np.nan, until
    return out_rows, out_times, now_count, later_count


@inlined
def rank_key(value, scale):
    """A ranking key: |value| rounded to 1/scale (half to even); NaN (no value) is 0."""
    key = np.rint(abs(value) * scale) / scale
    return key if key == key else 0.0


@compiled
def rank_groups(times, group, ids, nearest, limit, groups):
    """Order candidates by group, then soonest-then-nearest (or nearest-then-soonest), then id;
    keep each resource's first (best) candidate; cut each group to the limit.

    One pass finds each resource's best candidate (a hash table); another keeps the best
    ``limit`` of each group in order (insertion into a short list), so however many candidates
    there are, nothing is sorted but what is shown.

    :param times: (km away, minutes until start) per candidate; keys are rounded to 9 and 6
        decimals, so that two exact ways of computing the same instant sort alike
    :param ids: resource positions (in id order, so they break ties as ids would)
    :returns: (the chosen candidates, group after group; how many chosen per group; how many
        distinct resources per group)
    """
    n = len(group)
    keys = np.empty((n, 2))
    for i in range(n):
        distance, until = rank_key(times[i, 0], 1e9), rank_key(times[i, 1], 1e6)
        keys[i, 0], keys[i, 1] = (distance, until) if nearest else (until, distance)
    table = id_set(n)
    best = np.empty(len(table), dtype=np.int64)
    for i in range(n):
        slot = slot_of(table, ids[i])
        if table[slot] == -1:
            table[slot], best[slot] = ids[i], i
        elif before(i, best[slot], group, keys, ids):
            best[slot] = i
    top = np.empty((groups, limit), dtype=np.int64)
    sizes, totals = np.zeros(groups, dtype=np.int64), np.zeros(groups, dtype=np.int64)
    for slot in range(len(table)):
        if table[slot] == -1:
            continue
        i = best[slot]
        g = group[i]
        totals[g] += 1
        size = sizes[g]
        if size == limit and (limit == 0 or not before(i, top[g, limit - 1], group, keys, ids)):
            continue
        at = min(size, limit - 1)  # insertion: shift the worse ones down (the last drops off)
        while at > 0 and before(i, top[g, at - 1], group, keys, ids):
            top[g, at] = top[g, at - 1]
            at -= 1
        top[g, at] = i
        sizes[g] = min(size + 1, limit)
    chosen = np.empty(sizes.sum(), dtype=np.int64)
    count = 0
    for g in range(groups):
        chosen[count : count + sizes[g]] = top[g, : sizes[g]]
        count += sizes[g]
    return chosen, sizes, totals


@inlined
def before(i, j, group, keys, ids):
    """Whether candidate i ranks before candidate j: (group, keys, id, then position)."""
    if group[i] != group[j]:
        return group[i] < group[j]
    for k in range(2):
        if keys[i, k] != keys[j, k]:
            return keys[i, k] < keys[j, k]
    if ids[i] != ids[j]:
        return ids[i] < ids[j]
    return i < j


@compiled
def id_set(count):
    """An empty open-addressing set for up to ``count`` non-negative integers."""
    size = 16
    while size < 2 * count:
        size *= 2
    return np.full(size, -1, dtype=np.int64)


@inlined
def slot_of(table, value):
    """Where a value is in an ``id_set``, or the empty slot where it would go."""
    mask = len(table) - 1
    slot = (value * 2654435761) & mask
    while table[slot] != -1 and table[slot] != value:
        slot = (slot + 1) & mask
    return slot
