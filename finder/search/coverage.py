"""Where the directory has local meeting lists, derived from the data, and who has the rest.

A search whose place is outside coverage is told so first and pointed to each fellowship's own
national finder (issue #9, section 6), instead of being widened into another state's meetings.
Pure: no Flask. ``Coverage.from_db`` runs when the app first answers from a database file.
"""

from dataclasses import dataclass, replace

import us
from sqlite_utils import Database

from finder.geo.offline import region_of
from finder.vocabulary import N_

# A state has local lists for a program when the data holds at least this many of its in-person
# (or hybrid) meetings there: a handful of stray meetings from a neighbouring feed is not a list.
MIN_MEETINGS = 10

# The national finders, one place for all of them: the fellowships' own official finder pages,
# not third-party directories. Without a network, each URL was checked with the project's search
# over stored public pages and code, where it appears unchanged in several independent projects
# (README, "Only what the sources say"). Check them again when a network is available.
NATIONAL_FINDERS = (
    # aa.org, A.A. World Services: "Find A.A. Near You" (local central offices and intergroups).
    {"program": "AA", "name": N_("Alcoholics Anonymous (A.A.)"), "url": "https://www.aa.org/find-aa"},
    # na.org, NA World Services: the NA meeting search.
    {"program": "NA", "name": N_("Narcotics Anonymous (NA)"), "url": "https://www.na.org/meetingsearch/"},
    # al-anon.org, Al-Anon Family Groups: "Find an Al-Anon meeting" (in person, phone, online).
    {
        "program": "Al-Anon",
        "name": N_("Al-Anon and Alateen (for family and friends)"),
        "url": "https://al-anon.org/al-anon-meetings/find-an-al-anon-meeting/",
    },
    # smartrecovery.org, SMART Recovery: its meeting finder (in person and online).
    {
        "program": "SMART",
        "name": N_("SMART Recovery"),
        "url": "https://meetings.smartrecovery.org/meetings/",
    },
    # findtreatment.gov, SAMHSA: the federal locator for treatment (not peer support).
    {
        "program": "treatment",
        "name": N_("FindTreatment.gov (treatment providers, from SAMHSA)"),
        "url": "https://findtreatment.gov/",
    },
)  # fmt: skip

COVERAGE_SQL = """
select l.state, r.program, count(*) as n
from resources r join locations l on l.id = r.location_id
where r.kind = 'meeting' and r.status = 'active' and r.attendance in ('in_person', 'hybrid')
  and l.state is not null and l.state != '' and r.program is not null
group by l.state, r.program
"""


@dataclass(frozen=True)
class Coverage:
    """The programs with local meeting lists, by US state (two-letter code)."""

    programs_by_state: dict[str, frozenset[str]]

    @classmethod
    def from_db(cls, db: Database, minimum: int = MIN_MEETINGS) -> "Coverage":
        """States where at least ``minimum`` in-person meetings of a program are listed."""
        found: dict[str, set[str]] = {}
        for row in db.query(COVERAGE_SQL):
            if row["n"] >= minimum:
                found.setdefault(row["state"], set()).add(row["program"])
        return cls({state: frozenset(programs) for state, programs in found.items()})

    def programs(self, state: str | None) -> frozenset[str]:
        """The programs with local lists in the state (none outside the US)."""
        return self.programs_by_state.get(state or "", frozenset())


@dataclass(frozen=True)
class CoverageNote:
    """What to tell a searcher about local lists where they searched."""

    state: str | None  # two-letter code; None outside the US
    place: str | None  # the state's name, for the message; None outside the US
    local: tuple[str, ...]  # programs with local lists there, sorted
    finders: tuple[dict, ...]  # the national finders of the programs without local lists
    wanted: tuple[str, ...] = ()  # the programs asked for, sorted (none: any)

    @property
    def outside(self) -> bool:
        """No local meeting lists at all here: the note comes before anything else."""
        return not self.local

    def none_near(self) -> "CoverageNote":
        """The note where the state has lists, but none of their meetings is near the searcher."""
        return replace(self, place=None, local=(), finders=finders_for(self.wanted, frozenset()))

    def as_data(self) -> dict:
        """The note for the JSON API."""
        return {
            "state": self.state,
            "local_meeting_lists": list(self.local),
            "national_finders": [dict(f) for f in self.finders],
        }


def coverage_note(
    coverage: Coverage, latitude: float, longitude: float, wanted: frozenset = frozenset()
) -> CoverageNote:
    """Which local lists the directory has around a point, and the national finders for the rest.

    :param wanted: the programs asked for (none: every program)
    """
    region = region_of(latitude, longitude)
    state = region.state if region else None
    local = coverage.programs(state) & wanted if wanted else coverage.programs(state)
    found = us.states.lookup(state) if state else None
    name = found.name if found else None
    finders = finders_for(wanted, local)
    return CoverageNote(state, name, tuple(sorted(local)), finders, tuple(sorted(wanted)))


def finders_for(wanted, local: frozenset) -> tuple[dict, ...]:
    """The national finders of the programs asked for (all, if none or none has one), less those
    with local lists here; where there are local lists, less treatment (SAMHSA data is
    nationwide)."""
    skip = local | {"treatment"} if local else local
    finders = tuple(f for f in NATIONAL_FINDERS if f["program"] not in skip)
    return tuple(f for f in finders if f["program"] in wanted) or finders


def covered_states(coverage: Coverage) -> list[tuple[str, list[str]]]:
    """(state name, programs) for every state with local lists, by name: for the About page."""
    rows = []
    for state, programs in coverage.programs_by_state.items():
        found = us.states.lookup(state)
        rows.append((found.name if found else state, sorted(programs)))
    return sorted(rows)
