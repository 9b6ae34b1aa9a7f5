"""Database schema as versioned sqlite-utils migrations: one small function per change."""

from sqlite_utils import Database
from sqlite_utils.db import Table
from sqlite_utils.migrations import Migrations

migrations = Migrations("finder")


def _table(db: Database, name: str) -> Table:
    return db.table(name)


@migrations()
def create_sources(db: Database) -> None:
    """Every feed we import, as registered in data/sources.toml."""
    _table(db, "sources").create(
        {
            "id": str,
            "name": str,
            "format": str,
            "path": str,
            "url": str,
            "program": str,
            "default_timezone": str,
            "attribution": str,
            "license": str,
            "content_hash": str,
            "last_imported": str,
        },
        pk="id",
    )


@migrations()
def create_organizations_and_locations(db: Database) -> None:
    """Organisations (intergroups, service bodies, agencies) and the places resources meet."""
    _table(db, "organizations").create(
        {
            "id": int,
            "source": str,
            "source_id": str,
            "name": str,
            "description": str,
            "url": str,
        },
        pk="id",
        foreign_keys=[("source", "sources", "id")],
    )
    db.execute("CREATE UNIQUE INDEX organizations_source_key ON organizations(source, source_id)")
    _table(db, "locations").create(
        {
            "id": int,
            "source": str,
            "source_id": str,
            "name": str,
            "address": str,
            "city": str,
            "state": str,
            "postal_code": str,
            "country": str,
            "formatted_address": str,
            "latitude": float,
            "longitude": float,
            "geocode_precision": str,
            "geocode_source": str,
            "geocode_note": str,
            "timezone": str,
            "timezone_source": str,
            "notes": str,
            "transportation": str,
            "accessibility_text": str,
        },
        pk="id",
        foreign_keys=[("source", "sources", "id")],
    )
    db.execute("CREATE UNIQUE INDEX locations_source_key ON locations(source, source_id)")
    db.execute("CREATE INDEX locations_lat_lon ON locations(latitude, longitude)")


@migrations()
def create_resources(db: Database) -> None:
    """Meetings, centers, lines and forums: anything a person can go to, call or join."""
    _table(db, "resources").create(
        {
            "id": int,
            "source": str,
            "source_id": str,
            "kind": str,
            "name": str,
            "program": str,
            "description": str,
            "attendance": str,
            "location_id": int,
            "organization_id": int,
            "timezone": str,
            "timezone_source": str,
            "always_open": int,
            "by_appointment": int,
            "hours_text": str,
            "conference_url": str,
            "conference_url_notes": str,
            "conference_phone": str,
            "conference_phone_notes": str,
            "url": str,
            "regions": str,
            "languages": str,
            "languages_text": str,
            "updated": str,
            "last_verified": str,
            "status": str,
            "first_seen": str,
            "last_changed": str,
            "removed_at": str,
            "content_hash": str,
        },
        pk="id",
        foreign_keys=[
            ("source", "sources", "id"),
            ("location_id", "locations", "id"),
            ("organization_id", "organizations", "id"),
        ],
        defaults={"status": "active", "always_open": 0, "by_appointment": 0},
    )
    db.execute("CREATE UNIQUE INDEX resources_source_key ON resources(source, source_id)")
    db.execute("CREATE INDEX resources_location ON resources(location_id)")


@migrations()
def create_resource_details(db: Database) -> None:
    """Weekly schedules, coded types/features, contacts and service areas of each resource."""
    _table(db, "schedules").create(
        {
            "id": int,
            "resource_id": int,
            "day": int,
            "time": str,
            "end_time": str,
            "start_minute": int,
            "duration_minutes": int,
        },
        pk="id",
        foreign_keys=[("resource_id", "resources", "id")],
    )
    db.execute("CREATE INDEX schedules_resource ON schedules(resource_id)")
    _table(db, "types").create(
        {"code": str, "category": str, "name_en": str, "name_es": str}, pk="code"
    )
    # WITHOUT ROWID: the primary key is the table, which saves an index's worth of space.
    db.execute(
        "CREATE TABLE resource_types (resource_id INTEGER NOT NULL REFERENCES resources(id), "
        "code TEXT NOT NULL REFERENCES types(code), claim TEXT, PRIMARY KEY (resource_id, code)) "
        "WITHOUT ROWID"
    )
    db.execute("CREATE INDEX resource_types_code ON resource_types(code, resource_id)")
    _table(db, "contacts").create(
        {
            "id": int,
            "resource_id": int,
            "kind": str,
            "value": str,
            "extension": str,
            "description": str,
        },
        pk="id",
        foreign_keys=[("resource_id", "resources", "id")],
    )
    db.execute("CREATE INDEX contacts_resource ON contacts(resource_id)")
    _table(db, "service_areas").create(
        {
            "id": int,
            "resource_id": int,
            "kind": str,
            "code": str,
            "name": str,
            "state": str,
            "description": str,
            "geometry": str,
        },
        pk="id",
        foreign_keys=[("resource_id", "resources", "id")],
    )
    db.execute("CREATE INDEX service_areas_resource ON service_areas(resource_id)")


@migrations()
def create_import_log(db: Database) -> None:
    """What every import run did, and every row it rejected or repaired and why."""
    _table(db, "import_runs").create(
        {
            "id": int,
            "source": str,
            "started": str,
            "finished": str,
            "content_hash": str,
            "records_in": int,
            "added": int,
            "updated": int,
            "unchanged": int,
            "removed": int,
            "repaired": int,
            "rejected": int,
            "geocode_precision": str,
        },
        pk="id",
        foreign_keys=[("source", "sources", "id")],
    )
    _table(db, "import_issues").create(
        {
            "id": int,
            "run_id": int,
            "source": str,
            "source_id": str,
            "row": int,
            "severity": str,
            "field": str,
            "reason": str,
        },
        pk="id",
        foreign_keys=[("run_id", "import_runs", "id")],
    )
    db.execute("CREATE INDEX import_issues_run ON import_issues(run_id, severity)")


@migrations()
def create_geocode_cache(db: Database) -> None:
    """Answers of an online geocoder, so a re-run never asks twice (offline default skips it)."""
    _table(db, "geocode_cache").create(
        {
            "query": str,
            "provider": str,
            "latitude": float,
            "longitude": float,
            "precision": str,
            "created": str,
        },
        pk=("provider", "query"),
    )


@migrations()
def add_feedback_url(db: Database) -> None:
    """Where a listing's own source takes corrections (Meeting Guide's ``feedback_url``)."""
    _table(db, "resources").add_column("feedback_url", str)


@migrations()
def index_resources_by_kind(db: Database) -> None:
    """The 24/7 lines page lists active resources of a few kinds."""
    db.execute("CREATE INDEX resources_kind_status ON resources(kind, status)")


@migrations()
def add_attendance_note(db: Database) -> None:
    """Why a listing is in person, online, hybrid or inactive: the source's word or inference."""
    _table(db, "resources").add_column("attendance_note", str)


@migrations()
def add_source_as_of(db: Database) -> None:
    """The date of the list each source published (snapshot or feed date), not the import date,
    and the short name each listing is "Listed by"."""
    _table(db, "sources").add_column("as_of", str)
    _table(db, "sources").add_column("short_name", str)


@migrations()
def create_feed_health(db: Database) -> None:
    """How each live feed's last refresh went: one row per source with a URL (issue #13)."""
    _table(db, "feed_health").create(
        {
            "source": str,
            "url": str,
            "last_attempt": str,
            "last_success": str,
            "http_status": int,
            "records": int,
            "change": int,
            "last_error": str,
            "attempts": int,
            "seconds": float,
            "validators": str,
        },
        pk="source",
    )


@migrations()
def create_settings(db: Database) -> None:
    """Facts about this installation that Datasette's saved queries need (the site's address,
    so every listing id links to its page)."""
    _table(db, "settings").create({"key": str, "value": str}, pk="key")


@migrations()
def create_listings_view(db: Database) -> None:
    """One row per listing with its place and a link to its page on the site, for maintainers
    browsing in Datasette (the map plugin finds latitude/longitude)."""
    db.execute(
        """CREATE VIEW listings AS
        SELECT r.id,
               (SELECT value FROM settings WHERE key = 'site_url') || '/resource/' || r.id
                 AS site_url,
               r.source, r.source_id, r.kind, r.name, r.program, r.attendance, r.status,
               r.updated, r.last_verified, l.formatted_address, l.city, l.state, l.postal_code,
               l.latitude, l.longitude, l.geocode_precision
        FROM resources r LEFT JOIN locations l ON l.id = r.location_id"""
    )


@migrations()
def add_feed_health_note(db: Database) -> None:
    """What a feed itself left out (the BMLT aggregator's stale root servers), per source."""
    _table(db, "feed_health").add_column("note", str)


@migrations()
def add_source_office_phone(db: Database) -> None:
    """The source's own office line (registry or feed), shown on a listing that has no phone of
    its own, labelled as the source's (issue #12)."""
    _table(db, "sources").add_column("office_phone", str)


@migrations()
def index_resources_by_source(db: Database) -> None:
    """Every source's active listings are counted for the API's sources block once per database
    file; without an index that scans every listing (3-6 s at a million, issue #14)."""
    db.execute("CREATE INDEX resources_source_status ON resources(source, status)")
