"""Command-line interface: ``flask --app finder <command>``."""

import os
import re
import sqlite3
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlite_utils import Database

from finder import reports
from finder.errors import GeocodeError, PublishBusy, SourceFormatError
from finder.geo.online import build_geocoder
from finder.ingest import failures, fetch
from finder.ingest.load import ImportSummary
from finder.ingest.overrides import read_overrides
from finder.ingest.publish import before_swap, discard, draft_copy, exclusive, publish, swap
from finder.ingest.quality import describe, report
from finder.ingest.refresh import Outcome, refresh, with_kept_feeds
from finder.ingest.registry import FORMATS, import_source, read_registry
from finder.search.sidecar import store_beside
from finder.store import (
    UnservableDatabase,
    connect,
    expected_migrations,
    needs_init,
)


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the database or apply pending migrations: to a copy, published in its place (the
    served file is never written).

    Example:

    \b
        flask --app finder init-db
        FINDER_DATABASE=/srv/finder/finder.db flask --app finder init-db
    """
    database = current_app.config["DATABASE"]
    _check_folder(database)
    try:
        with exclusive(database):
            published = _migrate_and_publish(database)
    except (PublishBusy, UnservableDatabase) as error:
        raise click.ClickException(str(error)) from error
    version = len(expected_migrations())
    done = "a migrated copy published in its place" if published else "nothing to do"
    click.echo(f"Database ready at schema version {version}: {database} ({done})")


def _migrate_and_publish(database: str) -> bool:
    """Publish a migrated copy of the database (a new one when there is none); whether it had to.

    :raises UnservableDatabase: the file is newer than this code or not a database
    """
    if not needs_init(database):
        return False
    publish(draft_copy(database), database, current_app.config.get("SITE_URL"))
    return True


@click.command("import")
@click.argument("source_ids", nargs=-1)
@click.option("--all", "import_all", is_flag=True, help="Import every source in the registry.")
@with_appcontext
def import_command(source_ids: tuple[str, ...], import_all: bool) -> None:
    """Import sources listed in data/sources.toml (all or nothing per source).

    Example:

    \b
        flask --app finder import aasepia na-gnyr
        flask --app finder import --all
    """
    registry = _registry()
    chosen = registry if import_all else [s for s in registry if s["id"] in source_ids]
    unknown = set(source_ids) - {s["id"] for s in registry}
    if unknown or not chosen:
        known = ", ".join(s["id"] for s in registry)
        raise click.UsageError(
            f"unknown source {', '.join(sorted(unknown)) or '(none given)'}; known: {known}"
        )
    _run_imports(current_app.config["DATABASE"], chosen)


@click.command("import-file")
@click.argument("path", type=click.Path(exists=True))
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True)
@click.option("--id", "source_id", required=True, help="A short stable id for this source.")
@click.option("--name", help="A human name for the source.")
@click.option("--program", help="Default program/fellowship code, e.g. AA, NA, Al-Anon.")
@click.option("--timezone", help="The IANA zone of the listings, unless a record names its own.")
@click.option("--replace", is_flag=True, help="Allow replacing a source listed in the registry.")
@with_appcontext
def import_file_command(path, fmt, source_id, name, program, timezone, replace) -> None:
    """Import one file or folder that is not in the registry.

    Example:

    \b
        flask --app finder import-file --format meeting_guide --id myfeed feed.json
    """
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,62}", source_id):
        raise click.UsageError(
            "--id must be lowercase letters, digits, - or _ (e.g. my-intergroup)"
        )
    if source_id in {s["id"] for s in _registry()} and not replace:
        raise click.UsageError(
            f"{source_id!r} is a registered source; importing this file would replace its "
            "records (pass --replace if that is what you mean)"
        )
    source = {
        "id": source_id,
        "name": name or source_id,
        "format": fmt,
        "path": str(Path(path).resolve()),
        "program": program,
        "default_timezone": timezone,
    }
    _run_imports(current_app.config["DATABASE"], [source])


@click.command("build")
@click.option("--output", type=click.Path(), help="Database file to write (default: DATABASE).")
@with_appcontext
def build_command(output: str | None) -> None:
    """Build a fresh database from every registered source, replacing the old one only on success.

    Example:

    \b
        flask --app finder build --output data/finder.db
    """
    target = Path(output or current_app.config["DATABASE"])
    temporary = target.with_name(target.name + ".tmp")
    temporary.unlink(missing_ok=True)
    _check_folder(target)
    try:
        with exclusive(target):
            _run_imports(str(temporary), _registry())
            swap(temporary, target)
    except PublishBusy as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Built {target}")


@click.command("refresh")
@click.argument("source_ids", nargs=-1)
@click.option("--all", "refresh_all", is_flag=True, help="Refresh every source with a url.")
@click.option("--dry-run", is_flag=True, help="Fetch and report what would change; swap nothing.")
@click.option("--allow-shrink", is_flag=True, help="Accept feeds that lost over half their rows.")
@with_appcontext
def refresh_command(source_ids, refresh_all, dry_run, allow_shrink) -> None:
    """Fetch live sources (their `url` in data/sources.toml) and publish the new data only when
    every one succeeded; a failed or suspicious feed keeps its previous data, and when every
    source failed nothing at all is published (exit status 1 whenever one failed).

    Example:

    \b
        flask --app finder refresh --all
        flask --app finder refresh aasepia --dry-run
    """
    live = [s for s in _registry() if s.get("url")]
    chosen = live if refresh_all else [s for s in live if s["id"] in source_ids]
    unknown = set(source_ids) - {s["id"] for s in live}
    if unknown or not chosen:
        known = ", ".join(s["id"] for s in live) or "(no source has a url)"
        raise click.UsageError(
            f"no live source {', '.join(sorted(unknown)) or '(none given)'}; with a url: {known}"
        )
    database = current_app.config["DATABASE"]
    try:
        with exclusive(database):
            outcomes = _refresh(database, chosen, dry_run, allow_shrink)
    except PublishBusy as error:
        raise click.ClickException(str(error)) from error
    for outcome in outcomes:
        click.echo(format_outcome(outcome), err=not outcome.ok)
    failed = [o.source for o in outcomes if o.status == "failed"]
    if failed and len(failed) == len(outcomes):
        recorded = (
            "dry run: nothing recorded"
            if dry_run
            else f"the failures are recorded beside it, in {failures.path_for(database).name}, "
            "and /about lists them"
        )
        raise click.ClickException(
            f"every source failed ({', '.join(failed)}): nothing was published; {database} and "
            f"its search index are as they were ({recorded})"
        )
    if failed:
        raise click.ClickException(
            f"{', '.join(failed)} failed: nothing was published (failures recorded in feed_health)"
        )
    click.echo("Dry run: nothing published." if dry_run else f"Published {database}")


def _refresh(database: str, chosen: list[dict], dry_run: bool, allow_shrink: bool) -> list:
    config = current_app.config
    return refresh(
        database,
        chosen,
        _geocoder,
        _feeds_dir(),
        _fetch_settings(config),
        dry_run=dry_run,
        allow_shrink=allow_shrink,
        overrides=_overrides(),
    )


@click.command("quality")
@click.argument("source_ids", nargs=-1)
@with_appcontext
def quality_command(source_ids: tuple[str, ...]) -> None:
    """Print each source's data quality: listings by kind and attendance, geocode precision,
    rejects by reason, possible duplicates, age and feed health.

    Example:

    \b
        flask --app finder quality
        flask --app finder quality nwta samhsa-sut
    """
    database = current_app.config["DATABASE"]
    if not Path(database).exists():
        raise click.ClickException(f"{database} does not exist: run `flask --app finder build`")
    db = Database(sqlite3.connect(f"file:{database}?mode=ro", uri=True))
    try:
        figures = report(db, failures.recorded(database))
    finally:
        db.close()
    unknown = set(source_ids) - set(figures)
    if unknown:
        raise click.UsageError(
            f"no source {', '.join(sorted(unknown))} in {database}; it has {', '.join(figures)}"
        )
    for source_id in source_ids or sorted(figures):
        click.echo("\n".join(describe(figures[source_id])))


@click.group("reports")
def reports_group() -> None:
    """Problem reports people sent from the site: list and resolve them.

    Example:

    \b
        flask --app finder reports list
        flask --app finder reports resolve 12 --by "Intergroup office" --note "Moved to Tuesdays"
    """


@reports_group.command("list")
@click.option("--all", "include_resolved", is_flag=True, help="Include resolved reports too.")
@with_appcontext
def reports_list_command(include_resolved: bool) -> None:
    """List open reports (number, listing, what is wrong, when), oldest first.

    Example:

    \b
        flask --app finder reports list
        flask --app finder reports list --all
    """
    store = _reports_store()
    try:
        found = reports.list_reports(store, include_resolved)
    finally:
        store.close()
    if not found:
        click.echo("No open reports." if not include_resolved else "No reports.")
    for entry in found:
        click.echo("\n".join(reports.describe(entry)))


@reports_group.command("resolve")
@click.argument("report_id", type=int)
@click.option(
    "--by",
    "role",
    default="maintainers",
    show_default=True,
    help='Who resolved it: a role (e.g. "Intergroup office"), never a person\'s name.',
)
@click.option("--note", help='What was done, e.g. "Corrected in overrides.toml".')
@with_appcontext
def reports_resolve_command(report_id: int, role: str, note: str | None) -> None:
    """Mark a report resolved (its caution, if any, leaves the site).

    Example:

    \b
        flask --app finder reports resolve 12 --note "Confirmed closed; source told"
    """
    store = _reports_store()
    try:
        resolved = reports.resolve(store, report_id, role, note)
    except reports.NoSuchReport as error:
        raise click.ClickException(str(error)) from error
    finally:
        store.close()
    click.echo(f"Resolved report {resolved['id']} ({resolved['listing_name']}).")


def _reports_store():
    configured = current_app.config.get("REPORTS_DATABASE")
    path = configured or reports.default_path(current_app.config["DATABASE"])
    try:
        return reports.open_store(path)
    except reports.ReportsUnavailable as error:
        raise click.ClickException(str(error)) from error


def _fetch_settings(config) -> fetch.FetchSettings:
    return fetch.FetchSettings(
        user_agent=config.get("REFRESH_USER_AGENT") or fetch.USER_AGENT,
        timeout=float(config.get("REFRESH_TIMEOUT") or fetch.TIMEOUT_SECONDS),
        max_bytes=int(config.get("REFRESH_MAX_BYTES") or fetch.MAX_BYTES),
        retries=int(config.get("REFRESH_RETRIES", fetch.RETRIES)),
        backoff=float(config.get("REFRESH_BACKOFF", fetch.BACKOFF_SECONDS)),
    )


def format_outcome(outcome: Outcome) -> str:
    """One line per refreshed source: what changed, or why nothing did."""
    head = f"{outcome.source}: {outcome.status}"
    if outcome.http_status:
        head += f" (HTTP {outcome.http_status}, {outcome.seconds:.2f} s)"
    if outcome.summary:
        s = outcome.summary
        head += (
            f"; {s.records_in} in, {s.added} added, {s.updated} updated, "
            f"{s.unchanged} unchanged, {s.removed} removed, {s.rejected} rejected"
        )
    if outcome.note:
        head += f"; {outcome.note}"
    if outcome.error:
        head += f"; {outcome.error}"
    return head


def _registry() -> list[dict]:
    try:
        sources = read_registry(current_app.config["SOURCES"])
    except SourceFormatError as error:
        raise click.ClickException(str(error)) from error
    return with_kept_feeds(sources, _feeds_dir())


def _overrides() -> list:
    path = current_app.config.get("OVERRIDES") or Path(current_app.config["SOURCES"]).with_name(
        "overrides.toml"
    )
    try:
        return read_overrides(path)
    except SourceFormatError as error:
        raise click.ClickException(str(error)) from error


def _feeds_dir() -> Path:
    config = current_app.config
    return Path(config.get("FEEDS") or Path(config["DATABASE"]).parent / "feeds")


def _run_imports(database: str, sources: list[dict]) -> None:
    # Publishers never write into the served file: import into a copy, then swap it in
    # (unless every source failed, when there is nothing to publish); one publisher at a time.
    overrides = _overrides()
    _check_folder(database)
    try:
        with exclusive(database):
            failed = _import_and_publish(database, sources, overrides)
    except PublishBusy as error:
        raise click.ClickException(str(error)) from error
    if failed:
        raise click.ClickException(f"{len(failed)} source(s) failed: {', '.join(failed)}")


def _check_folder(database: str | Path) -> None:
    if not Path(database).parent.is_dir():
        raise click.ClickException(f"{Path(database).parent} is not a folder")


def _import_and_publish(database: str, sources: list[dict], overrides: list) -> list[str]:
    failed = []
    draft = draft_copy(database)
    db = connect(str(draft))
    try:
        geocoder = _geocoder(db)
        for source in sources:
            try:
                summary = import_source(
                    db, source, geocoder, progress=_progress(source["id"]), overrides=overrides
                )
            except (SourceFormatError, OSError) as error:
                click.echo(f"{source['id']}: import failed, nothing changed: {error}", err=True)
                failed.append(source["id"])
                continue
            click.echo(format_summary(summary))
    except BaseException:
        db.close()
        discard(draft)
        raise
    db.close()
    if len(failed) == len(sources):
        discard(draft)
    else:
        publish(draft, database, current_app.config.get("SITE_URL"))
    return failed


def _geocoder(db):
    try:
        return build_geocoder(
            current_app.config["GEOCODER"], current_app.config["GEOCODER_USER_AGENT"], db
        )
    except GeocodeError as error:
        raise click.ClickException(str(error)) from error


def _progress(label: str):
    def wrap(items):
        if len(items) < 1000 or not sys.stderr.isatty() or os.environ.get("CI"):
            return items
        return click.progressbar(items, label=f"{label}: preparing", file=sys.stderr)

    def iterate(items):
        bar = wrap(items)
        if bar is items:
            yield from items
            return
        with bar as progress:
            yield from progress

    return iterate


def format_summary(summary: ImportSummary) -> str:
    """A maintainer's summary of one import run."""
    lines = [
        f"{summary.source}: {summary.records_in} in, {summary.added} added, "
        f"{summary.updated} updated, {summary.unchanged} unchanged, {summary.removed} removed, "
        f"{summary.repaired} repaired, {summary.rejected} rejected (run {summary.run_id})",
        "  geocode precision: "
        + ", ".join(
            f"{k} {v}" for k, v in sorted(summary.precision.items(), key=lambda kv: -kv[1])
        ),
    ]
    for severity in ("rejected", "repaired", "corrected", "warning"):
        for reason, count, example in summary.top_reasons(severity):
            if count == 1 or example == reason:
                lines.append(f"  {severity}: {count} × {example}")
            else:
                lines.append(f"  {severity}: {count} × {reason} (e.g. {example})")
    if summary.issues:
        lines.append(f"  every row and reason: table import_issues, run_id = {summary.run_id}")
    return "\n".join(lines)


def init_app(app) -> None:
    """Register the commands with the app; every publisher stores its new file's search index
    beside the served one before publishing it (workers then only map it)."""
    before_swap(store_beside)
    for command in (
        init_db_command,
        import_command,
        import_file_command,
        build_command,
        refresh_command,
        quality_command,
        reports_group,
    ):
        app.cli.add_command(command)
