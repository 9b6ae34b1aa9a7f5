"""Problem reports about listings (issue #13), kept in their own SQLite file.

The directory database is published read-only and replaced whole by every build or refresh
(its *generations*); reports are written by the site, so they live apart, in
``data/reports.db`` beside it (``FINDER_REPORTS_DATABASE``), created on first use. A report
names its listing by source and source id as well as by number, because a fresh build may number
listings differently. Nothing about the reporter is kept except a contact they chose to give,
which lives in its own table so that Datasette can refuse it while showing the reports.

Flask-free: the site (``finder.web.reports``) and the CLI (``flask --app finder reports``) both
use it.
"""

import os
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from finder.vocabulary import N_

migrations = Migrations("finder-reports")

# What can be wrong with a listing, in the order the form offers them.
PROBLEMS = {
    "moved": N_("It has moved (a different address or place)"),
    "gone": N_("It no longer meets, or has closed"),
    "time": N_("The day or time is wrong"),
    "link": N_("A link or phone number is wrong"),
    "access": N_("The accessibility information is wrong"),
    "other": N_("Something else"),
}
MAX_DETAILS = 1000  # characters of free text
MAX_CONTACT = 200  # characters of an optional email address or phone number
DEFAULT_FILE = "reports.db"


class ReportsUnavailable(Exception):
    """The reports file cannot be opened or written (a full disk, a read-only folder)."""


class NoSuchReport(LookupError):
    """No report has that number."""


@dataclass(frozen=True)
class NewReport:
    """One report as the form received it, already checked."""

    resource_id: int
    source: str
    source_id: str
    listing_name: str
    site_url: str
    problem: str
    details: str
    contact: str | None = None


def default_path(directory_database: str | Path) -> Path:
    """Where reports are kept unless configured: ``reports.db`` beside the directory database."""
    return Path(directory_database).resolve().parent / DEFAULT_FILE


@migrations()
def create_reports(db: Database) -> None:
    """Reports, the contacts a few reporters offer, and the key that signs the site's forms."""
    db.table("reports").create(
        {
            "id": int,
            "resource_id": int,
            "source": str,
            "source_id": str,
            "listing_name": str,
            "site_url": str,
            "problem": str,
            "details": str,
            "created": str,
            "status": str,
            "resolved": str,
            "resolved_by": str,
            "resolution_note": str,
        },
        pk="id",
        not_null={"resource_id", "source", "source_id", "problem", "created", "status"},
        defaults={"status": "open", "details": ""},
    )
    db.execute("CREATE INDEX reports_open ON reports(status, problem)")
    # No foreign key to reports: Datasette would count a report's contacts on its row page.
    db.table("report_contacts").create({"report_id": int, "contact": str}, pk="report_id")
    db.table("form_keys").create({"name": str, "secret": str}, pk="name")


def open_store(path: str | Path) -> Database:
    """The reports database at ``path``, created and migrated if needed.

    Several processes may open it at once for the first time (the site's workers, Datasette):
    the migrations run under SQLite's write lock, so exactly one of them applies each.

    :raises ReportsUnavailable: when the file cannot be created, opened or migrated
    """
    try:
        conn = sqlite3.connect(str(path), timeout=10, check_same_thread=False)
        db = Database(conn)
        if migrations.pending(db):
            conn.execute("BEGIN IMMEDIATE")
            try:
                migrations.apply(db)  # inside our transaction: savepoints
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
    except sqlite3.Error as error:
        raise ReportsUnavailable(f"{path}: {error}") from error
    return db


def version(path: str | Path) -> tuple | None:
    """What changes whenever the reports database is written, or None when that cannot be told
    cheaply (no file, or a write-ahead log beside it): the file's identity and SQLite's file change
    counter, which every write transaction increments in the default (rollback) journal mode."""
    path = Path(path)
    try:
        with open(path, "rb") as file:
            header = file.read(28)
            stat = os.fstat(file.fileno())
    except OSError:
        return None
    if len(header) < 28 or Path(f"{path}-wal").exists():
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns, header[24:28]


def open_existing(path: str | Path) -> Database | None:
    """The reports database read-only, or None when no report was ever made (no file)."""
    if not Path(path).exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True, timeout=5)
        conn.execute("select count(*) from reports").fetchone()
    except sqlite3.Error:
        return None  # not migrated yet, or unreadable: no report to show
    return Database(conn)


def form_secret(db: Database) -> str:
    """The key that signs report forms: made once, then shared by every process and restart."""
    read = "select secret from form_keys where name = 'report_form'"
    try:
        row = db.execute(read).fetchone()
        if row is None:  # first use: whoever inserts first wins, the others read theirs
            with db.atomic():
                db.execute(
                    "insert or ignore into form_keys (name, secret) values ('report_form', ?)",
                    [secrets.token_hex(32)],
                )
            row = db.execute(read).fetchone()
    except sqlite3.Error as error:
        raise ReportsUnavailable(str(error)) from error
    return row[0]


def add_report(db: Database, report: NewReport, when: datetime | None = None) -> int:
    """Store a report (and its contact, only when one was given); its number.

    :raises ReportsUnavailable: when it cannot be written
    """
    if report.problem not in PROBLEMS:
        raise ValueError(f"unknown problem {report.problem!r}")
    created = (when or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
    row = {
        "resource_id": report.resource_id,
        "source": report.source,
        "source_id": report.source_id,
        "listing_name": report.listing_name,
        "site_url": report.site_url,
        "problem": report.problem,
        "details": report.details,
        "created": created,
        "status": "open",
    }
    try:
        with db.atomic():
            report_id = db.table("reports").insert(row).last_pk
            if report.contact:
                db.table("report_contacts").insert(
                    {"report_id": report_id, "contact": report.contact}
                )
    except sqlite3.Error as error:
        raise ReportsUnavailable(str(error)) from error
    return report_id


def list_reports(db: Database, include_resolved: bool = False) -> list[dict]:
    """Reports, oldest open first (resolved ones after, when asked for), with any contact."""
    where = "" if include_resolved else "where r.status = 'open'"
    return list(
        db.query(
            "select r.*, c.contact from reports r "
            f"left join report_contacts c on c.report_id = r.id {where} "
            "order by r.status = 'resolved', r.created, r.id"
        )
    )


def resolve(
    db: Database, report_id: int, by: str, note: str | None = None, when: datetime | None = None
) -> dict:
    """Mark a report resolved by a maintainers' role (never a person's name); the report.

    :raises NoSuchReport: when there is no report with that number
    """
    resolved = (when or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
    with db.atomic():
        changed = db.execute(
            "update reports set status = 'resolved', resolved = ?, resolved_by = ?, "
            "resolution_note = ? where id = ?",
            [resolved, by, note, report_id],
        ).rowcount
    if not changed:
        raise NoSuchReport(f"there is no report number {report_id}")
    return next(db.query("select * from reports where id = ?", [report_id]))


def open_gone_reports(db: Database) -> dict[tuple[str, str], str]:
    """Listings someone reported as no longer meeting, still open: (source, source id) to the
    date of the first such report."""
    rows = db.execute(
        "select source, source_id, min(created) from reports "
        "where status = 'open' and problem = 'gone' group by source, source_id"
    ).fetchall()
    return {(source, source_id): created for source, source_id, created in rows}


def describe(report: dict) -> list[str]:
    """A report for a maintainer's terminal: number, listing, what, when, then the details."""
    lines = [
        f"#{report['id']} {report['created'][:16].replace('T', ' ')} UTC  {report['problem']}  "
        f"{report['listing_name']} (listing {report['resource_id']}, "
        f"{report['source']} {report['source_id']})"
    ]
    if report.get("site_url"):
        lines.append(f"    {report['site_url']}")
    if report["details"]:
        lines.append(f"    says: {report['details']}")
    if report.get("contact"):
        lines.append(f"    contact (offered): {report['contact']}")
    if report["status"] == "resolved":
        note = f": {report['resolution_note']}" if report["resolution_note"] else ""
        lines.append(f"    resolved {report['resolved'][:10]} by {report['resolved_by']}{note}")
    return lines
