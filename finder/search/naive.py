"""The reference answer: every occurrence checked with zoneinfo, no index. Slow by design.

Used by the tests and by scripts/bench_search.py to prove that ``finder.search`` (which narrows
candidates with the index and uses wall-clock arithmetic away from DST changes) returns exactly
the same results.
"""

import numpy as np

from finder.schedule import DST_MARGIN_MINUTES, occurrence
from finder.search import kernel_inputs
from finder.search.engine import Plan, answer, classify, minutes_ceil
from finder.search.index import SearchIndex
from finder.search.query import NEARBY, Candidates, Query, Results, untimed


def search_naive(index: SearchIndex, query: Query, radius_km: float | None = None) -> Results:
    """Answer the query by scanning everything (no widening)."""
    radius_km = radius_km or query.radius_km
    plan = Plan.of(index, query)
    return answer(index, plan, radius_km, collect_naive(index, plan, radius_km))


def collect_naive(index: SearchIndex, plan: Plan, radius_km: float) -> list[Candidates]:
    """Every occurrence (or located resource), filtered one by one."""
    query = plan.query
    if query.window is None:
        return [_scan_resources(index, plan, radius_km)]
    parts = []
    if query.has_point and query.in_person:
        parts.append(_scan(index, index.near, plan, radius_km))
    if query.online:
        parts.append(_scan(index, index.online, plan, None))
    return parts


def _scan(index, occ, plan, radius_km) -> Candidates:
    query = plan.query
    t0, _, t1 = query.window
    horizon = minutes_ceil(t1 - t0)
    picked = np.arange(len(occ.key))
    picked = picked[plan.allowed(index, occ.resource[picked])]
    distance = None
    if radius_km is not None:
        distance = kernel_inputs.distances(plan.point, index.places[occ.resource[picked]])
        keep = distance <= radius_km
        picked, distance = picked[keep], distance[keep]
    until = np.empty(len(picked))
    zones = index.clock.zones
    for i, c in enumerate(picked.tolist()):
        start, _ = occurrence(
            int(occ.start[c]),
            int(occ.duration[c]),
            zones[occ.zone[c]],
            t0,
            horizon + DST_MARGIN_MINUTES,
        )
        until[i] = (start - t0).total_seconds() / 60
    return classify(index, plan, occ.rows[picked], distance, until)


def _scan_resources(index, plan, radius_km) -> Candidates:
    query = plan.query
    if not query.has_point or not query.in_person:
        return untimed(np.empty(0, dtype=np.int64), np.empty(0), NEARBY)
    positions = np.flatnonzero(~np.isnan(index.latitude) & np.isin(index.attendance, [0, 2]))
    positions = positions[plan.allowed(index, positions)]
    distance = kernel_inputs.distances(plan.point, index.places[positions])
    keep = distance <= radius_km
    return untimed(positions[keep], distance[keep], NEARBY)
