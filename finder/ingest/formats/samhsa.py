"""SAMHSA treatment facility lists as geocoded by OEPS (data/samhsa-treatment/SOURCE.md).

Two layouts, told apart by their header: the substance use treatment facility list
(name1, name2, street1, ..., zip, county, latitude, longitude) and the opioid treatment
program list (ID, ADDRESS, CITY, STATE, POSTAL, Latitude, Longitude). Neither has an id
column, so ``source_id`` is a slug of name, address and ZIP code; rows that repeat an earlier
row's name and address are rejected as duplicates.
"""

import csv
import re
from collections.abc import Iterator
from pathlib import Path

from finder.errors import SourceFormatError
from finder.ingest.formats import Rejected
from finder.ingest.formats.common import RowError, check_sizes, coordinates, numbered_rows, slugify

FACILITY_COLUMNS = (
    "name1", "name2", "street1", "street2", "city", "state", "zip", "latitude", "longitude",
)  # fmt: skip
OTP_COLUMNS = ("ID", "ADDRESS", "CITY", "STATE", "POSTAL", "Latitude", "Longitude")
FACILITY_LABEL = "Substance use treatment facility listed by SAMHSA"
OTP_LABEL = "Opioid treatment program listed by SAMHSA"
# States and territories whose ZIP codes begin with 0, so a spreadsheet that read them as
# numbers dropped the zero: New England, New Jersey, part of New York, Puerto Rico, the USVI.
ZERO_ZIP_STATES = {"CT", "MA", "ME", "NH", "NJ", "NY", "PR", "RI", "VI", "VT"}
PLACEHOLDER_STREET = re.compile(r"[\s-]*")  # "- - -" and "-----" stand for "no street address"
# Words that show name1 was cut off mid-phrase and name2 carries on ("Council on" | "Alcoholism").
CONNECTORS = {"a", "and", "at", "de", "del", "for", "in", "la", "of", "on", "the", "to", "y", "&"}
_UNDECODED = re.compile("[\udc80-\udcff]")


def parse(path: str | Path) -> Iterator[dict | Rejected]:
    """Check the header, then yield a record or a Rejected (duplicate) for every data row.

    :param path: SubstanceUseTreatment_Geocoded.csv or OpioidTreatmentProgram_Geocoded.csv
    """
    # The OTP file is Windows-1252 (one "í"); undecodable bytes are repaired field by field.
    text = Path(path).read_bytes().decode("utf-8-sig", errors="surrogateescape")
    rows = csv.reader(text.splitlines(keepends=True))
    header = [column.strip() for column in next(rows, [])]
    for columns, fields in ((FACILITY_COLUMNS, _facility), (OTP_COLUMNS, _otp)):
        if set(columns) <= set(header):
            return _records(rows, header, fields)
    raise SourceFormatError(
        f"{path}: unrecognised header {','.join(header)!r}; expected SAMHSA facility columns"
        f" ({','.join(FACILITY_COLUMNS)}) or opioid treatment program columns"
        f" ({','.join(OTP_COLUMNS)})"
    )


def _records(rows: Iterator[list[str]], header: list[str], fields) -> Iterator[dict | Rejected]:
    """Records for data rows (numbered as in a spreadsheet, header = row 1), minus duplicates."""
    first_row = {}
    for number, cells in numbered_rows(rows):
        issues = []
        try:
            check_sizes(cells)
        except RowError as error:
            yield Rejected(None, str(error), number, None)
            continue
        # A short row (a spreadsheet drops trailing empty cells) reads as blanks, as in DictReader.
        cells = cells + [""] * (len(header) - len(cells))
        row = {
            column: _text(cell, column, issues) for column, cell in zip(header, cells, strict=False)
        }
        record = _record(fields(row), issues)
        source_id = record["source_id"]
        if source_id in first_row:
            reason = f"duplicate of {source_id!r} (row {first_row[source_id]})"
            yield Rejected(source_id, reason, number, "name")
            continue
        first_row[source_id] = number
        yield record


def _facility(row: dict[str, str]) -> dict:
    """Common fields from a substance use treatment facility row."""
    name, alternate = facility_name(row["name1"], row["name2"])
    return {
        "id_parts": (row["name1"], row["name2"], row["street1"], row["street2"]),
        "name": name, "alternate": alternate, "label": FACILITY_LABEL,
        "street": (row["street1"], row["street2"]), "city": row["city"], "state": row["state"],
        "zip": row["zip"], "county": row.get("county", ""),
        "latitude": row["latitude"], "longitude": row["longitude"],
    }  # fmt: skip


def _otp(row: dict[str, str]) -> dict:
    """Common fields from an opioid treatment program row (its ID column is the name)."""
    return {
        "id_parts": (row["ID"], row["ADDRESS"]),
        "name": row["ID"], "alternate": "", "label": OTP_LABEL,
        "street": (row["ADDRESS"],), "city": row["CITY"], "state": row["STATE"],
        "zip": row["POSTAL"], "county": "",
        "latitude": row["Latitude"], "longitude": row["Longitude"],
    }  # fmt: skip


def _record(fields: dict, issues: list) -> dict:
    """A normalised treatment record from the common fields of either layout."""
    state = fields["state"].upper()
    postal_code = postal_code_for(fields["zip"], state, issues)
    address = _address(fields["street"], issues)
    source_id = slugify(" ".join((*fields["id_parts"], postal_code or "")))
    description = fields["label"]
    if fields["alternate"]:
        description += f" (also known as {fields['alternate']})"
    state_zip = f"{state} {postal_code or ''}".strip()
    place = ", ".join(part for part in (address, fields["city"], state_zip) if part)
    location = {
        "source_id": source_id, "name": fields["name"], "address": address,
        "city": fields["city"], "state": state, "postal_code": postal_code, "country": "US",
        "formatted_address": place,
    }  # fmt: skip
    location["latitude"], location["longitude"] = coordinates(
        fields["latitude"], fields["longitude"], issues
    )
    return {
        "source_id": source_id, "kind": "treatment", "name": fields["name"],
        "program": "treatment", "description": description, "location": location,
        "regions": [fields["county"]] if fields["county"] else [], "issues": issues,
    }  # fmt: skip


def facility_name(name1: str, name2: str) -> tuple[str, str]:
    """(name, alternate name) from the facility list's two name columns.

    "DBA X" in name2 is an alternate name. Other name2 text is a program or site of name1
    ("Mayo Clinic" / "Addiction Services") or the rest of a cut-off name1 ("Council on" /
    "Alcoholism and Substance Abuse"): either way it belongs in the name.
    """
    dba = re.match(r"d\.?b\.?a\.?\s+(.+)", name2, re.I)
    if dba:
        return name1, dba.group(1)
    if not name2:
        return name1, ""
    words = name1.split()
    continues = not words or words[-1].lower() in CONNECTORS or name2[0].islower()
    return f"{name1}{' ' if continues else ' - '}{name2}", ""


def postal_code_for(raw: str, state: str, issues: list) -> str | None:
    """The 5-digit ZIP code, restoring leading zeros a spreadsheet dropped (with an issue).

    :param raw: "02134", "2134", "612", "02134-1149" or "2134-1149"
    :param state: two-letter code; zeros are only restored where ZIP codes begin with 0
    """
    match = re.fullmatch(r"(\d{3,5})(?:-\d{4})?", raw.strip())
    if not match:
        message = f"postal code {raw!r} is not a ZIP code; dropped"
        issues.append(("repaired", "postal_code", message))
        return None
    digits = match.group(1)
    if len(digits) == 5:
        return digits
    if state not in ZERO_ZIP_STATES:
        issues.append(("repaired", "postal_code", f"postal code {raw!r} is too short; dropped"))
        return None
    padded = digits.zfill(5)
    message = f"postal code {raw!r} lost its leading zeros; read as {padded}"
    issues.append(("repaired", "postal_code", message))
    return padded


def _address(street: tuple[str, ...], issues: list) -> str:
    """Street lines joined with ", ", leaving out placeholders such as "- - -"."""
    lines = []
    for line in street:
        if line and PLACEHOLDER_STREET.fullmatch(line):
            issues.append(("repaired", "address", f"placeholder street {line!r} dropped"))
        elif line:
            lines.append(line)
    return ", ".join(lines)


def _text(value: str, field: str, issues: list) -> str:
    """Cell text with whitespace collapsed; bytes that were not UTF-8 are read as Windows-1252."""
    if _UNDECODED.search(value):
        value = value.encode("utf-8", "surrogateescape").decode("cp1252", "replace")
        issues.append(("repaired", field, "text was not UTF-8; read as Windows-1252"))
    return " ".join(value.split())
