"""HSDS CSV packages (a folder or a zip, any HSDS version) nested into HSDS 3 objects, the shape
``hsds`` reads from the JSON API: each service with its phones, schedules, languages, areas and
service_at_locations (their locations with addresses and accessibility), its organization and
program. Files are known by name; 1.x/2.x names are read as the 3.x tables they stand for.
"""

import zipfile
from pathlib import Path

from finder.errors import SourceFormatError
from finder.ingest.formats.common import group_by, read_csv_bytes, read_csv_table, text

# Tables read, with the columns each must have when present; only services.csv (or HSDS 3.0's
# service.csv) must exist.
CSV_FILES = {
    "services.csv": ("id", "name"),
    "organizations.csv": ("id", "name"),
    "programs.csv": ("id",),
    "locations.csv": ("id",),
    "service_at_location.csv": ("id", "service_id", "location_id"),
    "addresses.csv": ("location_id",),
    "accessibility.csv": ("location_id",),
    "phones.csv": ("number",),
    "schedules.csv": (),
    "languages.csv": (),
    "service_areas.csv": ("service_id",),
}
# HSDS 1.x/2.x file names, and the singular ones of HSDS 3.0's first examples, with the table each
# is read as; their columns are the same but for ones the object readers also know (weekday,
# language, service_area, accessibility, url). A package's datapackage.json is not needed: the
# names say which is which. Sources: HSDS 2.0.1 datapackage.json, examples/all_resources and
# examples/csv in openreferral/specification.
CSV_OLDER_NAMES = {
    "services_at_location.csv": "service_at_location.csv",
    "physical_addresses.csv": "addresses.csv",
    "accessibility_for_disabilities.csv": "accessibility.csv",
    "regular_schedules.csv": "schedules.csv",
    "service.csv": "services.csv",
    "organization.csv": "organizations.csv",
    "program.csv": "programs.csv",
    "location.csv": "locations.csv",
    "address.csv": "addresses.csv",
    "phone.csv": "phones.csv",
    "schedule.csv": "schedules.csv",
    "language.csv": "languages.csv",
    "service_area.csv": "service_areas.csv",
}
SERVICE_FILES = [
    "services.csv",
    *(old for old, name in CSV_OLDER_NAMES.items() if name == "services.csv"),
]
CSV_READ = CSV_FILES | {older: CSV_FILES[name] for older, name in CSV_OLDER_NAMES.items()}
# (child table, its link column, parent table, list on the parent), to nest rows like the API.
CSV_LISTS = [
    ("phones.csv", "service_id", "services.csv", "phones"),
    ("phones.csv", "location_id", "locations.csv", "phones"),
    ("phones.csv", "organization_id", "organizations.csv", "phones"),
    ("phones.csv", "service_at_location_id", "service_at_location.csv", "phones"),
    ("schedules.csv", "service_id", "services.csv", "schedules"),
    ("schedules.csv", "location_id", "locations.csv", "schedules"),
    ("schedules.csv", "service_at_location_id", "service_at_location.csv", "schedules"),
    ("languages.csv", "service_id", "services.csv", "languages"),
    ("languages.csv", "location_id", "locations.csv", "languages"),
    ("addresses.csv", "location_id", "locations.csv", "addresses"),
    ("accessibility.csv", "location_id", "locations.csv", "accessibility"),
    ("service_areas.csv", "service_id", "services.csv", "service_areas"),
    ("service_at_location.csv", "service_id", "services.csv", "service_at_locations"),
]
# (table, reference column, referenced table, field) for the single object a row points to.
CSV_REFERENCES = [
    ("service_at_location.csv", "location_id", "locations.csv", "location"),
    ("services.csv", "organization_id", "organizations.csv", "organization"),
    ("services.csv", "program_id", "programs.csv", "program"),
]


def _read_csv_folder(folder: Path) -> dict[str, list[dict]]:
    if not any((folder / name).is_file() for name in SERVICE_FILES):
        raise SourceFormatError(f"{folder.name}/services.csv: missing; HSDS CSV needs it")
    return {
        name: read_csv_table(folder / name, columns)
        for name, columns in CSV_READ.items()
        if (folder / name).is_file()
    }


MAX_ZIP_BYTES = 512 * 1024 * 1024  # unpacked CSV read from one zip; a zip bomb stops here


def _read_csv_zip(path: Path) -> dict[str, list[dict]]:
    """The HSDS CSV tables of a zip file, by file name wherever they sit in it (only the names
    HSDS defines are read: nothing is written to disk)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = {}
            for info in archive.infolist():
                name = info.filename.rsplit("/", 1)[-1]
                if name in CSV_READ and name not in members and not info.is_dir():
                    members[name] = info
            if not any(name in members for name in SERVICE_FILES):
                raise SourceFormatError(f"{path.name}: holds no services.csv; HSDS CSV needs it")
            if sum(info.file_size for info in members.values()) > MAX_ZIP_BYTES:
                raise SourceFormatError(f"{path.name}: its CSV files unpack to over 512 MB")
            return {
                name: read_csv_bytes(name, _member(archive, info), CSV_READ[name])
                for name, info in members.items()
            }
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError) as error:
        raise SourceFormatError(f"{path.name}: not a readable zip file ({error})") from None


def _member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A member's bytes, refusing one that unpacks to more than it declares."""
    with archive.open(info) as stream:
        data = stream.read(info.file_size + 1)
    if len(data) > info.file_size:
        raise SourceFormatError(f"{info.filename}: unpacks to more than its declared size")
    return data


def _nest_csv(tables: dict[str, list[dict]]) -> list[dict]:
    """The flat CSV tables nested into service_full-shaped objects, as the JSON API serves them."""
    copies: dict[str, list[dict]] = {}
    for name, rows in tables.items():
        copies.setdefault(CSV_OLDER_NAMES.get(name, name), []).extend(dict(row) for row in rows)
    by_id = {name: {text(r.get("id")): r for r in rows} for name, rows in copies.items()}
    for child, key, parent, field in CSV_LISTS:
        children = group_by(copies.get(child, []), key)
        for row in copies.get(parent, []):
            row[field] = children.get(text(row.get("id")), [])
    for table, key, parent, field in CSV_REFERENCES:
        for row in copies.get(table, []):
            row[field] = by_id.get(parent, {}).get(text(row.get(key)))
    return copies["services.csv"]


def read_package(path: Path) -> list[dict]:
    """The services of an HSDS CSV folder or zip file, nested as the JSON API serves them."""
    return _nest_csv(_read_csv_folder(path) if path.is_dir() else _read_csv_zip(path))
