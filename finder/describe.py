"""A plain-language summary of a search, for the page heading and screen readers."""

from zoneinfo import ZoneInfo

from .search import DEFAULT_KINDS, KM_PER_MILE, Query
from .vocabulary import KINDS, types

_PLURAL_KINDS = {
    "meeting": "meetings",
    "center": "community and recovery centers",
    "peer_organization": "peer-run organizations",
    "warmline": "warmlines",
    "helpline": "helplines",
    "crisis_line": "crisis lines",
    "online_forum": "online forums",
    "online_directory": "online meeting directories",
    "treatment": "treatment providers",
}


def describe(
    query: Query,
    radius_km: float | None = None,
    widened_from_km: float | None = None,
    zone: str | None = None,
) -> str:
    """E.g. "Meetings in progress or starting in the next 2 hours within 10 miles of ZIP 19103,
    with wheelchair access".

    :param radius_km: the radius actually searched (after any widening)
    :param zone: the searcher's IANA zone, to name a chosen day and time
    """
    parts = [_what(query), _when(query, zone), _where(query, radius_km, widened_from_km)]
    text = " ".join(p for p in parts if p)
    filters = _filters(query)
    return f"{text}, {filters}" if filters else text


def _what(query: Query) -> str:
    kinds = sorted(query.kinds, key=list(KINDS).index)
    if query.kinds == DEFAULT_KINDS:
        noun = "support"
    else:
        noun = _join([_PLURAL_KINDS[k] for k in kinds])
    if query.programs:
        noun = f"{_join([p for p in sorted(query.programs)])} {noun}"
    if query.attendance == frozenset({"online"}):
        noun = f"online {noun}"
    elif "online" not in query.attendance:
        noun = f"in-person {noun}"
    return noun[:1].upper() + noun[1:]


def _when(query: Query, zone: str | None) -> str:
    hours = f"{query.hours:g} hour{'s' if query.hours != 1 else ''}"
    if query.when == "now":
        return f"in progress or starting in the next {hours}"
    if query.when == "today":
        return "in progress now or later today"
    if query.when == "at" and query.at is not None:
        local = query.at.astimezone(ZoneInfo(zone)) if zone else query.at
        clock = local.strftime("%I:%M %p").lstrip("0")
        return f"on {local.strftime('%A')} from {clock}: starting within {hours}, or later that day"
    return "at any time"


def _where(query: Query, radius_km: float | None, widened_from_km: float | None) -> str:
    if not query.has_point:
        return ""
    place = query.place or "you"
    distance = _distance(radius_km or query.radius_km, query.unit)
    if widened_from_km:
        return (
            f"within {distance} of {place} (widened from "
            f"{_distance(widened_from_km, query.unit)}: little was closer)"
        )
    return f"within {distance} of {place}"


def _distance(km: float, unit: str) -> str:
    if unit == "km":
        return f"{km:.0f} km"
    miles = km / KM_PER_MILE
    return f"{miles:.0f} mile{'s' if round(miles) != 1 else ''}"


def _filters(query: Query) -> str:
    vocab = types()
    wanted = [_type_phrase(vocab[c]["en"]) for c in sorted(query.include_types) if c in vocab]
    unwanted = [vocab[c]["en"].lower() for c in sorted(query.exclude_types) if c in vocab]
    parts = []
    if wanted:
        parts.append(_join(wanted))
    if unwanted:
        parts.append("not " + _join(unwanted, "or"))
    return ", ".join(parts)


def _type_phrase(name: str) -> str:
    lowered = name.lower()
    return f"with {lowered}" if "access" in lowered or "available" in lowered else lowered


def _join(items: list[str], word: str = "and") -> str:
    if len(items) <= 2:
        return f" {word} ".join(items)
    return ", ".join(items[:-1]) + f" {word} " + items[-1]
