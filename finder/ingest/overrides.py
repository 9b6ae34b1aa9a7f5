"""Local corrections (data/overrides.toml): a maintainer fixes a listing without waiting for its
source. Each correction is applied to the feed's record before the shared rules run, at every
import, written to the import log, and flagged when the source's own value changes later."""

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from finder.errors import SourceFormatError
from finder.ingest.formats.common import read_toml_entries

RESOURCE_FIELDS = (
    "name", "description", "url", "conference_url", "conference_phone", "attendance",
    "hours_text", "always_open", "by_appointment", "listed",
)  # fmt: skip
LOCATION_FIELDS = (
    "name", "address", "city", "state", "postal_code", "formatted_address", "latitude",
    "longitude", "notes", "accessibility_text",
)  # fmt: skip
FIELDS = (*RESOURCE_FIELDS, *(f"location.{f}" for f in LOCATION_FIELDS))
REQUIRED = ("source", "source_id", "field", "value", "reason", "who")


@dataclass(frozen=True)
class Override:
    """One correction: what to set, why, who (an organisation role, never a person's name)
    decided it, and optionally what the source said then (``was``), to notice it change."""

    source: str
    source_id: str
    field: str
    value: object
    reason: str
    who: str
    was: object = None
    date: str | None = None


def read_overrides(path: str | Path) -> list[Override]:
    """The corrections in a TOML file (none when it does not exist); raises SourceFormatError."""
    path = Path(path)
    if not path.exists():
        return []
    entries = read_toml_entries(path, "override")
    overrides = []
    for number, entry in enumerate(entries, start=1):
        missing = [k for k in REQUIRED if entry.get(k) in (None, "")]
        if missing:
            raise SourceFormatError(f"{path}: override #{number} lacks {', '.join(missing)}")
        if entry["field"] not in FIELDS:
            raise SourceFormatError(
                f"{path}: override #{number} changes {entry['field']!r}; "
                f"fields that can be corrected: {', '.join(FIELDS)}"
            )
        when = entry.get("date")
        overrides.append(
            Override(
                **{k: entry[k] for k in REQUIRED},
                was=entry.get("was"),
                date=when.isoformat() if isinstance(when, date) else when,
            )
        )
    return overrides


def apply(record: dict, overrides: list[Override]) -> tuple[dict | None, list[tuple]]:
    """The record with its corrections, or None when one says it is no longer listed; and the
    issues to log: ("corrected", field, why) and ("warning", field, "the source changed")."""
    record = {**record, "location": dict(record["location"]) if record.get("location") else None}
    issues = []
    for override in overrides:
        current = _get(record, override.field)
        if override.was is not None and current != override.was:
            issues.append(
                (
                    "warning",
                    override.field,
                    f"the source changed {override.field} since the local correction: it now "
                    f"says {current!r}, the correction was made when it said {override.was!r}; "
                    "review data/overrides.toml",
                )
            )
        issues.append(
            (
                "corrected",
                override.field,
                f"{override.field} set to {override.value!r} by {override.who}"
                f"{' on ' + override.date if override.date else ''}: {override.reason} "
                f"(the source says {current!r})",
            )
        )
        if override.field == "listed":
            if not override.value:
                return None, issues
            continue
        _set(record, override.field, override.value)
    return record, issues


def _get(record: dict, name: str):
    if name == "listed":
        return True
    if name.startswith("location."):
        return (record.get("location") or {}).get(name.split(".", 1)[1])
    return record.get(name)


def _set(record: dict, name: str, value) -> None:
    if name.startswith("location."):
        record["location"] = {**(record.get("location") or {}), name.split(".", 1)[1]: value}
    else:
        record[name] = value
