"""The ``lenta`` command line: thin over :class:`lenta.core.Lenta`.

Every command opens the database from ``--db`` / ``LENTA_DB`` (default: a
file in the user's data directory). lenta's own errors print as
``Error: …`` with exit status 1, click's usage errors the usage and then
``Error: …`` with status 2, and anything else that escapes a command is
caught by :mod:`lenta.__main__` (``tests/test_cli_errors.py`` runs every
command with bad input); a feed that fails to refresh is reported but is
not a failure of the command. Counts are worded by :mod:`lenta.plurals`.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable
from collections.abc import Iterable
from datetime import datetime
from functools import wraps
from gettext import NullTranslations
from typing import Any
from typing import ParamSpec
from typing import TypeVar

import click

from lenta import __version__
from lenta import plurals
from lenta._bounds import printable
from lenta.config import LOG_LEVELS
from lenta.config import MAX_PORT
from lenta.config import Settings
from lenta.config import display_database
from lenta.config import load_settings
from lenta.core import Lenta
from lenta.core import check_settings
from lenta.core import make_lenta
from lenta.core import migrate_database
from lenta.core import read_feed_document
from lenta.exceptions import FetchError
from lenta.exceptions import LentaError
from lenta.exceptions import ParseError
from lenta.logs import configure_logging
from lenta.logs import log_round
from lenta.types import RefreshSummary
from lenta.update import RefreshProgress

P = ParamSpec("P")
R = TypeVar("R")


class Context:
    def __init__(self, db: str | None, log_level: str | None = None) -> None:
        self.db = db
        self.log_level = log_level
        self.migrate: bool | None = None  # --migrate of serve and worker
        self._lenta: Lenta | None = None

    @property
    def settings(self) -> Settings:
        return self.load_settings()

    def load_settings(self, **overrides: Any) -> Settings:
        """The settings with the group's options (and ``overrides``) over the environment's."""
        return load_settings(db=self.db, log_level=self.log_level, migrate=self.migrate, **overrides)

    @property
    def lenta(self) -> Lenta:
        if self._lenta is None:
            self._lenta = make_lenta(self.settings)
        return self._lenta

    def close(self) -> None:
        if self._lenta is not None:
            self._lenta.close()


def lenta_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn lenta's errors into ``Error: …`` and exit status 1."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except LentaError as error:
            raise click.ClickException(str(error)) from None

    return wrapper


def _english() -> NullTranslations:
    """The command line speaks English; its sentences with counts go through
    :mod:`lenta.plurals` all the same, so "1 feed" is singular. English
    message ids are the English sentences and English has gettext's default
    plural rule (n != 1), so the bare translations object is the English
    catalog, without loading Babel and compiling a .po at the end of every
    refresh."""
    return NullTranslations()


def _when(value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone().strftime("%Y-%m-%d %H:%M")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", envvar="LENTA_DB", help="Database: file path, sqlite:///PATH or postgresql://… URL.")
@click.option(
    "--log-level",
    type=click.Choice(LOG_LEVELS, case_sensitive=False),
    help="Least level logged to standard error (LENTA_LOG_LEVEL, default info).",
)
@click.version_option(__version__, prog_name="lenta")
@click.pass_context
@lenta_errors
def main(ctx: click.Context, db: str | None, log_level: str | None) -> None:
    """lenta: collect RSS, Atom and JSON feeds and publish them."""
    state = Context(db, log_level.lower() if log_level else None)
    ctx.obj = state
    ctx.call_on_close(state.close)
    configure_logging(state.settings)


pass_state = click.make_pass_decorator(Context)


def _items(count: int) -> str:
    return f"{count} item" if count == 1 else f"{count} items"


@main.command()
@click.argument("url")
@click.option("--title", help="Title to show instead of the feed's own.")
@click.option("--category", help="Category (created if it does not exist).")
@click.option("--refresh", type=int, help="Seconds between checks (Drupal's choices, 900…2419200); 0 = never.")
@click.option("--force", is_flag=True, help="Keep the feed even if the URL gives no feed now (its error is kept).")
@pass_state
@lenta_errors
def add(state: Context, url: str, title: str | None, category: str | None, refresh: int | None, force: bool) -> None:
    """Add a feed and fetch it at once. A web page URL works too: its feed is
    found by autodiscovery. A URL that gives no feed is refused (exit status 1)."""
    try:
        feed = asyncio.run(state.lenta.add_and_fetch(url, title=title, category=category, refresh=refresh, force=force))
    except (FetchError, ParseError) as error:
        raise click.ClickException(printable(f"Not added: {error} (--force keeps it all the same)")) from None
    where = f" {feed.display_url}" if feed.title != feed.url else ""  # untitled: the title is the URL
    click.echo(printable(f"Added feed {feed.id}: {feed.title} ({_items(feed.item_count)}){where}"))
    if feed.error:
        click.echo(printable(f"Warning: it could not be read: {feed.error} (kept; `lenta refresh` tries again)"), err=True)


@main.command()
@click.argument("feed")
@pass_state
@lenta_errors
def remove(state: Context, feed: str) -> None:
    """Remove a feed (by id or URL) and its items."""
    removed = state.lenta.remove_feed(feed)
    click.echo(f"Removed feed {removed.id}: {removed.url}")


@main.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_state
@lenta_errors
def list_(state: Context, as_json: bool) -> None:
    """List feeds: id, title, URL, items, last check, next check, last error."""
    feeds = state.lenta.list_feeds()
    if as_json:
        rows = [
            {
                "id": f.id,
                "title": f.title,
                "url": f.display_url,
                "items": f.item_count,
                "checked_at": f.checked_at.isoformat() if f.checked_at else None,
                "next_check_at": f.next_check_at.isoformat() if f.next_check_at else None,
                "http_status": f.http_status,
                "error": f.error,
                "error_kind": f.error_kind,
                "gone": f.gone,
            }
            for f in feeds
        ]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    header = ("ID", "TITLE", "URL", "ITEMS", "LAST CHECK", "NEXT CHECK", "LAST ERROR")
    table = [header] + [
        (
            str(f.id),
            f.title[:40],
            f.display_url,
            str(f.item_count),
            _when(f.checked_at),
            "gone" if f.gone else _when(f.next_check_at),
            (f.error or "-")[:80],
        )
        for f in feeds
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        click.echo(printable("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()))


def summary_line(summary: RefreshSummary) -> str:
    return plurals.refresh_report(_english(), summary)


def _run_round(state: Context, label: str, feeds: Iterable[int | str], *, all_feeds: bool = False) -> RefreshSummary:
    """One refresh round for a command: a progress bar on a terminal, the
    round's log line once it is over."""
    show_bar = sys.stderr.isatty()
    bar: Any = None

    def progress(step: RefreshProgress) -> None:
        nonlocal bar
        if show_bar and bar is None:
            bar = click.progressbar(length=step.total, label=label, file=sys.stderr, show_pos=True)
            bar.__enter__()
        if bar is not None and step.outcome is not None:
            bar.update(1)

    started = time.monotonic()
    try:
        # No thread or event loop runs yet: a big round may fork (Lenta.refresh).
        summary = asyncio.run(state.lenta.refresh(feeds, all_feeds=all_feeds, progress=progress))
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    log_round(summary, time.monotonic() - started)
    return summary


@main.command()
@click.option("--all", "all_feeds", is_flag=True, help="Refresh every feed, not only the due ones.")
@click.argument("feeds", nargs=-1)
@pass_state
@lenta_errors
def refresh(state: Context, all_feeds: bool, feeds: tuple[str, ...]) -> None:
    """Fetch the feeds that are due (every feed with --all, or the given ids/URLs)."""
    summary = _run_round(state, "Refreshing", feeds, all_feeds=all_feeds)
    # The command's report, on standard output: standard error is the log's
    # (which has a warning per failed feed as it happens, JSON lines with LENTA_LOG_FORMAT=json).
    for url, error in summary.failures:
        click.echo(printable(f"failed: {url}: {error}"))
    click.echo(summary_line(summary))


# The largest OPML file `lenta import` reads: real subscription lists are
# some hundred KB; /dev/zero is endless.
MAX_OPML_BYTES = 64 * 1024 * 1024


def _read_opml(file: Any) -> bytes:
    data: bytes = file.read(MAX_OPML_BYTES + 1)
    if len(data) > MAX_OPML_BYTES:
        raise click.ClickException(f"{file.name} is larger than {MAX_OPML_BYTES // (1024 * 1024)} MB: not an OPML file.")
    return data


@main.command(name="import")
@click.argument("file", type=click.File("rb"))
@click.option("--no-fetch", is_flag=True, help="Only add the feeds; the refresher (serve, worker) fetches them.")
@pass_state
@lenta_errors
def import_(state: Context, file: Any, no_fetch: bool) -> None:
    """Import feeds from an OPML file (folders become categories), then fetch the new ones."""
    result = state.lenta.import_opml(_read_opml(file))
    for url, why in result.invalid:
        click.echo(printable(f"skipped: {url}: {why}"), err=True)
    click.echo(
        plurals.import_report(
            _english(),
            added=len(result.added),
            existing=len(result.existing),
            skipped=len(result.invalid),
            categories=len(result.categories_created),
        )
    )
    if result.added_ids and not no_fetch:
        _fetch_imported(state, result.added_ids)


def _fetch_imported(state: Context, feed_ids: tuple[int, ...]) -> None:
    """``lenta import``'s second part: fetch the new feeds (a progress bar on
    a terminal), then say which failed and why. They are kept: a feed down
    on the day of the import is retried like any feed."""
    summary = _run_round(state, "Fetching the new feeds", feed_ids)
    for url, error in summary.failures:
        click.echo(printable(f"failed: {url}: {error}"))
    total = summary.ok + summary.not_modified + summary.failed
    line = (
        f"Fetched {total} new {'feed' if total == 1 else 'feeds'}: {summary.ok + summary.not_modified} read, "
        f"{summary.failed} failed; {_items(summary.new_items)} stored"
    )
    if summary.failed:
        line += " (the feeds that failed are kept: `lenta refresh` tries them again)"
    click.echo(line)


@main.command()
@pass_state
@lenta_errors
def export(state: Context) -> None:
    """Write every feed as OPML 2.0 to standard output."""
    sys.stdout.buffer.write(state.lenta.export_opml(published_only=False))
    sys.stdout.buffer.flush()


@main.command(name="search-index")
@pass_state
@lenta_errors
def search_index(state: Context) -> None:
    """Rebuild the full-text index of the items readers follow."""
    count = state.lenta.rebuild_search_index()
    click.echo(f"Indexed {count} items.")


@main.command()
@click.argument("target")
@click.option("--json", "as_json", is_flag=True, help="Print the normalized feed as JSON.")
@pass_state
@lenta_errors
def parse(state: Context, target: str, as_json: bool) -> None:
    """Show what lenta makes of a feed (a file path or a URL)."""
    parsed = asyncio.run(read_feed_document(target, state.settings))
    if as_json:
        click.echo(json.dumps(parsed.to_json_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(printable(f"{parsed.title or '(untitled)'} [{parsed.format}] {parsed.link or ''}".rstrip()))
    for item in parsed.items:
        date = item.published or item.updated
        click.echo(printable(f"- {item.title or '(untitled)'}  {date.isoformat() if date else ''}  {item.link or ''}".rstrip()))


@main.group()
def user() -> None:
    """Manage user accounts."""


@user.command(name="add")
@click.argument("name")
@click.option("--admin", is_flag=True, help="Give the user the admin role.")
@pass_state
@lenta_errors
def user_add(state: Context, name: str, admin: bool) -> None:
    """Create a user; the password is asked for, or read from standard input."""
    password = _read_password()
    created = state.lenta.add_user(name, password, is_admin=admin)
    click.echo(f"Created {'admin ' if created.is_admin else ''}user {created.name}")


def _read_password() -> str:
    if sys.stdin.isatty():
        password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        return password
    return sys.stdin.readline().rstrip("\r\n")


@user.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_state
@lenta_errors
def user_list(state: Context, as_json: bool) -> None:
    """List users: name, role, created."""
    users = state.lenta.list_users()
    if as_json:
        click.echo(
            json.dumps(
                [{"id": u.id, "name": u.name, "admin": u.is_admin, "created_at": u.created_at.isoformat()} for u in users],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    for found in users:
        click.echo(f"{found.name}\t{'admin' if found.is_admin else 'user'}\t{_when(found.created_at)}")


@user.command(name="passwd")
@click.argument("name")
@pass_state
@lenta_errors
def user_passwd(state: Context, name: str) -> None:
    """Set a user's password (asked for, or read from standard input); every session of theirs ends."""
    state.lenta.get_user(name)  # before asking for a password: no such user, no prompt
    state.lenta.change_password(name, _read_password())
    click.echo(f"Changed the password of {name}; their sessions have ended")


@user.command(name="delete")
@click.argument("name")
@pass_state
@lenta_errors
def user_delete(state: Context, name: str) -> None:
    """Delete a user; every session of theirs ends."""
    state.lenta.delete_user(name)
    click.echo(f"Deleted user {name}")


@user.command(name="set-admin")
@click.argument("name")
@click.option("--yes/--no", "is_admin", default=True, help="Give (default) or take the admin role.")
@pass_state
@lenta_errors
def user_set_admin(state: Context, name: str, is_admin: bool) -> None:
    """Give a user the admin role (or take it, with --no)."""
    changed = state.lenta.set_admin(name, is_admin)
    click.echo(f"{changed.name} is {'now an admin' if changed.is_admin else 'no longer an admin'}")


@user.command(name="app-password")
@click.argument("name")
@click.argument("label")
@click.option("--api-key", is_flag=True, help="An API key (Miniflux's X-Auth-Token) instead of an app password.")
@pass_state
@lenta_errors
def user_app_password(state: Context, name: str, label: str, api_key: bool) -> None:
    """Make an app password (or an API key) for a user's reader app; it is shown this once."""
    made = state.lenta.add_credential(state.lenta.get_user(name), label, "api_key" if api_key else "app_password")
    click.echo(made.secret)


@user.command(name="app-passwords")
@click.argument("name")
@pass_state
@lenta_errors
def user_app_passwords(state: Context, name: str) -> None:
    """List a user's app passwords and API keys (never their secrets)."""
    for credential in state.lenta.credentials(state.lenta.get_user(name)):
        used = _when(credential.last_used_at) if credential.last_used_at else "never used"
        click.echo(printable(f"{credential.id}  {credential.kind}  {credential.name}  {used}"))


@user.command(name="revoke")
@click.argument("name")
@click.argument("credential_id", type=int)
@pass_state
@lenta_errors
def user_revoke(state: Context, name: str, credential_id: int) -> None:
    """Revoke one of a user's app passwords or API keys (by its id, from app-passwords)."""
    state.lenta.revoke_credential(state.lenta.get_user(name), credential_id)
    click.echo(f"Revoked {credential_id}")


@main.group()
def secret() -> None:
    """Manage the key that signs cookies."""


@secret.command(name="rotate")
@pass_state
@lenta_errors
def secret_rotate(state: Context) -> None:
    """Replace the key kept in the database; every session ends (everyone signs in again)."""
    ended = state.lenta.rotate_secret_key()
    click.echo(plurals.sessions_ended(_english(), ended))


_MIGRATE_HELP = "Migrate the database's schema first if it is out of date (LENTA_MIGRATE); otherwise such a database is refused."


@main.command()
@pass_state
@lenta_errors
def migrate(state: Context) -> None:
    """Bring the database's schema to this lenta's newest (a new database gets it whole)."""
    database = display_database(state.settings.database)
    change = migrate_database(state.settings)
    if change is None:
        click.echo(f"The schema of {database} is up to date.")
    elif change.before is None:
        click.echo(f"Created the schema (revision {change.after}) in {database}.")
    else:
        click.echo(f"Migrated {database} from revision {change.before} to {change.after}.")


@main.command()
@click.option("--host", help="Address to listen on (LENTA_HOST, default 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, MAX_PORT), help="Port to listen on (LENTA_PORT, default 8080).")
@click.option("--no-scheduler", is_flag=True, help="Serve pages only; do not refresh feeds in the background.")
@click.option("--migrate", "migrate_first", is_flag=True, help=_MIGRATE_HELP)
@pass_state
@lenta_errors
def serve(state: Context, host: str | None, port: int | None, no_scheduler: bool, migrate_first: bool) -> None:
    """Run the web UI and the background refresher."""
    from lenta.web import create_app
    from lenta.web.server import check_address
    from lenta.web.server import serve as run_server

    if migrate_first:
        state.migrate = True
    settings = state.load_settings(host=host, port=port)
    if no_scheduler:
        settings = settings.replace(scheduler=False)
    check_settings(settings, serving=True)
    check_address(settings.host, settings.port)  # before the refresher starts
    app = create_app(settings)
    click.echo(
        f"lenta {__version__} on http://{settings.host}:{settings.port}/aggregator "
        f"(database {display_database(settings.database)})"
    )
    if settings.host.strip() in {"", "0.0.0.0", "::"} and not (settings.base_url or settings.allowed_hosts):
        # Listening everywhere, answering only to local names: say so before a visitor meets the 400.
        click.echo(
            "Note: only requests for localhost, 127.0.0.1 and ::1 are answered; set LENTA_BASE_URL "
            "or LENTA_ALLOWED_HOSTS to the names this site is reached by.",
            err=True,
        )
    run_server(app, settings)


@main.command()
@click.option("--migrate", "migrate_first", is_flag=True, help=_MIGRATE_HELP)
@pass_state
@lenta_errors
def worker(state: Context, migrate_first: bool) -> None:
    """Run only the refresher (no web UI); stops on SIGTERM or Ctrl-C."""
    from lenta.scheduler import run_worker

    if migrate_first:
        state.migrate = True
    check_settings(state.settings)
    run_worker(state.lenta)
