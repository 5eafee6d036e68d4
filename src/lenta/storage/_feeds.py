"""Feeds: the ``feeds`` table, its categories and its fetch log."""

from __future__ import annotations

import builtins
import enum
import functools
import json
from collections.abc import Iterable
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import Row
from sqlalchemy import Select
from sqlalchemy import Subquery
from sqlalchemy import and_
from sqlalchemy import bindparam
from sqlalchemy import case
from sqlalchemy import delete
from sqlalchemy import false
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import true
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from lenta.exceptions import ArgValue
from lenta.exceptions import ErrorMessage
from lenta.exceptions import FeedExistsError
from lenta.exceptions import FeedNotFoundError
from lenta.storage import _counts
from lenta.storage._base import Database
from lenta.storage._bulk import bulk_insert
from lenta.storage._bulk import bulk_update
from lenta.storage.records import FeedChanges
from lenta.storage.records import FetchLogRecord
from lenta.storage.schema import FETCH_BUCKETS
from lenta.storage.schema import bucket_column
from lenta.storage.schema import feed_categories
from lenta.storage.schema import feed_item_counts
from lenta.storage.schema import feeds
from lenta.storage.schema import fetch_log
from lenta.storage.schema import fetch_stats
from lenta.types import Feed
from lenta.types import FetchOutcome
from lenta.types import Page

# How many fetch-log rows each feed keeps (its health history).
FETCH_LOG_KEEP = 50
_BUCKETS = tuple((bound, bucket_column(bound)) for bound in FETCH_BUCKETS)
_BUCKET_NAMES = tuple(name for _, name in _BUCKETS)


def _item_counts() -> Subquery:
    """Each feed's item total, kept as its items are written (lenta.storage._counts)."""
    c = feed_item_counts.c
    return select(c.feed_id, c.n).where(c.level == _counts.TOTAL, c.bucket == 0).subquery("item_counts")


_FEED_COUNT = select(func.count()).select_from(feeds).where(feeds.c.published == true())


@functools.cache
def _feeds_page() -> Select[Any]:
    """A page of feeds by title (parameters ``limit``, ``offset``), with
    their item counts; built once, as building it costs more than running it."""
    title = func.lower(func.coalesce(feeds.c.custom_title, feeds.c.feed_title, feeds.c.url))
    chosen = (
        select(feeds.c.id)
        .where(feeds.c.published == true())
        .order_by(title, feeds.c.id)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
    counts = _item_counts()
    return (
        select(feeds, counts.c.n)
        .select_from(feeds.outerjoin(counts, counts.c.feed_id == feeds.c.id))
        .where(feeds.c.id.in_(chosen))
        .order_by(title, feeds.c.id)
    )


_LOG_COLUMNS = (
    "feed_id",
    "at",
    "status",
    "outcome",
    "duration",
    "bytes",
    "new_items",
    "updated_items",
    "error",
    "dropped_items",
    "cut_fields",
    "error_params",
)


def error_params_json(message: ErrorMessage) -> str:
    """How an :class:`ErrorMessage` is kept in an ``error_params`` column."""
    return json.dumps({"message": message.message, "args": dict(message.args)}, ensure_ascii=False)


def error_params_from_json(text: str | None) -> ErrorMessage | None:
    """The :class:`ErrorMessage` of an ``error_params`` column; None for NULL
    (a row from before migration 0006) or for anything not written by
    :func:`error_params_json`, which the pages then show as such a row."""
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("message"), str) or not isinstance(value.get("args"), dict):
        return None
    args: dict[str, ArgValue] = {}
    for name, arg in value["args"].items():
        if not isinstance(arg, (str, int, float)) or isinstance(arg, bool):
            return None
        args[name] = arg
    return ErrorMessage(value["message"], args)


def feed_from_row(row: Row[Any], category_ids: tuple[int, ...] = ()) -> Feed:
    m = row._asdict()  # a plain dict: a third of the cost of the row's mapping view, for thirty lookups
    title = m["custom_title"] or m["feed_title"] or m["url"]
    return Feed(
        id=m["id"],
        url=m["url"],
        title=title,
        custom_title=m["custom_title"],
        feed_title=m["feed_title"],
        site_url=m["site_url"],
        description=m["description"],
        image_url=m["image_url"],
        format=m["format"],
        refresh=m["refresh"],
        created_at=m["created_at"],
        checked_at=m["checked_at"],
        next_check_at=m["next_check_at"],
        modified_at=m["modified_at"],
        http_status=m["http_status"],
        error=m["error"],
        error_kind=m["error_kind"],
        error_count=m["error_count"],
        etag=m["etag"],
        last_modified=m["last_modified"],
        hub_url=m["hub_url"],
        gone=bool(m["gone"]),
        pending_url=m["pending_url"],
        publish_interval=m["publish_interval"],
        ttl_minutes=m["ttl_minutes"],
        update_period=m["update_period"],
        update_frequency=m["update_frequency"],
        skip_hours=frozenset(int(h) for h in (m["skip_hours"] or "").split(",") if h.strip().isdigit()),
        skip_days=frozenset(d for d in (m["skip_days"] or "").split(",") if d),
        item_count=m.get("n") or 0,
        category_ids=category_ids,
        credentials=m["credentials"],
        error_params=error_params_from_json(m.get("error_params")),
        published=bool(m.get("published", True)),
    )


def feed_columns(changes: FeedChanges) -> list[tuple[str, object]]:
    """The ``feeds`` columns and values ``changes`` writes, encoded as
    :func:`feed_from_row` reads them back."""
    columns: list[tuple[str, object]] = []
    for name, value in changes.changed():
        if isinstance(value, frozenset):  # skip_hours, skip_days
            value = ",".join(str(part) for part in sorted(value)) or None
        elif isinstance(value, enum.Enum):
            value = value.value
        elif isinstance(value, ErrorMessage):
            value = error_params_json(value)
        columns.append((name, value))
    return columns


class FeedStore:
    """Queries on feeds. New feed queries go here; test them in tests/test_storage.py."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _select(self, *, item_counts: bool = True) -> Select[Any]:
        if not item_counts:  # counting every feed's items is most of a listing's cost
            return select(feeds)
        counts = _item_counts()
        return select(feeds, counts.c.n).select_from(feeds.outerjoin(counts, counts.c.feed_id == feeds.c.id))

    def _categories_of(self, connection: Connection, feed_ids: Iterable[int]) -> dict[int, tuple[int, ...]]:
        ids = list(feed_ids)
        found: dict[int, list[int]] = {feed_id: [] for feed_id in ids}
        if not ids:
            return {}
        rows = connection.execute(
            select(feed_categories.c.feed_id, feed_categories.c.category_id)
            .where(feed_categories.c.feed_id.in_(ids))
            .order_by(feed_categories.c.category_id)
        )
        for feed_id, category_id in rows:
            found[feed_id].append(category_id)
        return {feed_id: tuple(cats) for feed_id, cats in found.items()}

    def _one(self, connection: Connection, where: Any, missing: object) -> Feed:
        row = connection.execute(self._select().where(where)).first()
        if row is None:
            raise FeedNotFoundError(missing)
        return feed_from_row(row, self._categories_of(connection, [row.id]).get(row.id, ()))

    def add(
        self,
        url: str,
        *,
        now: datetime,
        custom_title: str | None = None,
        refresh: int | None = None,
        category_ids: Iterable[int] = (),
        credentials: str | None = None,
        published: bool = True,
    ) -> Feed:
        with self.db.write() as connection:
            try:
                with connection.begin_nested():
                    feed_id = connection.execute(
                        insert(feeds)
                        .values(
                            url=url,
                            custom_title=custom_title,
                            refresh=refresh,
                            created_at=now,
                            next_check_at=now,
                            credentials=credentials,
                            published=published,
                        )
                        .returning(feeds.c.id)
                    ).scalar_one()
            except IntegrityError:
                raise FeedExistsError(url) from None
            self._set_categories(connection, feed_id, category_ids)
            return self._one(connection, feeds.c.id == feed_id, feed_id)

    def add_many(
        self, entries: Iterable[tuple[str, str | None, Iterable[int], str | None]], *, now: datetime
    ) -> tuple[list[str], list[str]]:
        """Add (url, title, category ids, credentials) entries in one
        transaction; URLs already present are skipped. Returns (added,
        already present)."""
        added: list[str] = []
        present: list[str] = []
        with self.db.write() as connection:
            known = set(connection.execute(select(feeds.c.url)).scalars())
            for url, title, category_ids, credentials in entries:
                if url in known:
                    present.append(url)
                    continue
                feed_id = connection.execute(
                    insert(feeds)
                    .values(url=url, custom_title=title, created_at=now, next_check_at=now, credentials=credentials)
                    .returning(feeds.c.id)
                ).scalar_one()
                self._set_categories(connection, feed_id, category_ids)
                known.add(url)
                added.append(url)
        return added, present

    def get(self, feed_id: int) -> Feed:
        with self.db.read() as connection:
            return self._one(connection, feeds.c.id == feed_id, feed_id)

    def get_by_url(self, url: str) -> Feed:
        with self.db.read() as connection:
            return self._one(connection, feeds.c.url == url, url)

    def list(self, *, category_id: int | None = None) -> list[Feed]:
        """Every feed (of a category), by title, with its item count and categories."""
        query = self._select().order_by(
            func.lower(func.coalesce(feeds.c.custom_title, feeds.c.feed_title, feeds.c.url)), feeds.c.id
        )
        if category_id is not None:
            query = query.where(
                feeds.c.id.in_(select(feed_categories.c.feed_id).where(feed_categories.c.category_id == category_id))
            )
        with self.db.read() as connection:
            rows = connection.execute(query).all()
            cats = self._categories_of(connection, [row.id for row in rows])
        return [feed_from_row(row, cats.get(row.id, ())) for row in rows]

    def page(self, page: int, per_page: int) -> Page[Feed]:
        """Feeds by title, Drupal's ``?page=N`` slicing (``/aggregator/sources``),
        with their item counts and categories: the page's feeds are chosen
        first, then only theirs are read."""
        with self.db.read() as connection:
            total = connection.execute(_FEED_COUNT).scalar_one()
            rows = connection.execute(_feeds_page(), {"limit": per_page, "offset": page * per_page}).all()
            cats = self._categories_of(connection, [row.id for row in rows])
        found = tuple(feed_from_row(row, cats.get(row.id, ())) for row in rows)
        return Page(items=found, page=page, per_page=per_page, total=total)

    def every(self) -> builtins.list[Feed]:
        """Every feed, by id, as a refresh needs them: without item counts
        or categories (reading those is most of a listing's cost)."""
        with self.db.read() as connection:
            return [feed_from_row(row) for row in connection.execute(select(feeds).order_by(feeds.c.id))]

    def due(self, now: datetime, limit: int) -> builtins.list[Feed]:
        """Feeds whose next check is at or before ``now``, most overdue first."""
        query = (
            self._select(item_counts=False)
            .where(and_(feeds.c.gone == False, feeds.c.next_check_at <= now))  # noqa: E712
            .order_by(feeds.c.next_check_at, feeds.c.id)
            .limit(limit)
        )
        with self.db.read() as connection:
            return [feed_from_row(row) for row in connection.execute(query)]

    def claim_due(self, now: datetime, limit: int, lease: timedelta) -> builtins.list[Feed]:
        """Take the due feeds for one refresher: in one transaction, read them
        and move their next check to ``now + lease``, so that another
        refresher (``lenta serve`` beside a ``lenta worker``, or several
        workers) does not fetch them too. The refresh then sets the real next
        check; if this refresher dies, the lease runs out and the feeds are
        due again."""
        query = (
            self._select(item_counts=False)
            .where(and_(feeds.c.gone == false(), feeds.c.next_check_at <= now))
            .order_by(feeds.c.next_check_at, feeds.c.id)
            .limit(limit)
        )
        if not self.db.is_sqlite:  # SQLite's write transaction already excludes other claimers
            query = query.with_for_update(of=feeds, skip_locked=True)
        with self.db.write() as connection:
            claimed = [feed_from_row(row) for row in connection.execute(query)]
            ids = [feed.id for feed in claimed]
            for start in range(0, len(ids), 500):
                connection.execute(
                    update(feeds).where(feeds.c.id.in_(ids[start : start + 500])).values(next_check_at=now + lease)
                )
        return claimed

    def change(
        self,
        feed_id: int,
        changes: FeedChanges,
        *,
        category_ids: Iterable[int] | None = None,
    ) -> Feed:
        """Update columns of one feed (and, if given, replace its categories)."""
        values = dict(feed_columns(changes))
        with self.db.write() as connection:
            if values:
                try:
                    with connection.begin_nested():
                        result = connection.execute(update(feeds).where(feeds.c.id == feed_id).values(**values))
                except IntegrityError:
                    raise FeedExistsError(str(values.get("url"))) from None
                if result.rowcount == 0:
                    raise FeedNotFoundError(feed_id)
            if category_ids is not None:
                self._one(connection, feeds.c.id == feed_id, feed_id)
                self._set_categories(connection, feed_id, category_ids)
            return self._one(connection, feeds.c.id == feed_id, feed_id)

    def publish(self, feed_id: int, published: bool) -> Feed:
        """Show the feed on the public pages, or stop showing it: its items
        move into or out of the site's counts in the same transaction."""
        with self.db.write() as connection:
            self._one(connection, feeds.c.id == feed_id, feed_id)
            _counts.publish_feed(connection, feed_id, published)
            connection.execute(update(feeds).where(feeds.c.id == feed_id).values(published=published))
            return self._one(connection, feeds.c.id == feed_id, feed_id)

    def delete(self, feed_id: int) -> None:
        with self.db.write() as connection:
            _counts.forget_feed(connection, feed_id)  # the items go with the feed
            result = connection.execute(delete(feeds).where(feeds.c.id == feed_id))
            if result.rowcount == 0:
                raise FeedNotFoundError(feed_id)

    # -- many feeds at once (the admin table's bulk actions) ---------------

    def delete_many(self, feed_ids: Iterable[int]) -> int:
        """Delete feeds (their items, categories and fetch log go with them);
        ids that are not feeds are skipped. Returns how many were deleted."""
        ids = builtins.list(dict.fromkeys(feed_ids))
        deleted = 0
        with self.db.write() as connection:
            _counts.lock_feeds(connection, ids, "update")  # all of them first, in id order
            for start in range(0, len(ids), 500):
                for feed_id in ids[start : start + 500]:
                    _counts.forget_feed(connection, feed_id)  # the items go with the feed
                deleted += connection.execute(delete(feeds).where(feeds.c.id.in_(ids[start : start + 500]))).rowcount
        return deleted

    def change_each(self, feed_ids: Iterable[int], changes: FeedChanges) -> int:
        """Write the same columns on many feeds; ids that are not feeds are
        skipped. Returns how many feeds were changed."""
        ids = builtins.list(dict.fromkeys(feed_ids))
        values = dict(feed_columns(changes))
        changed = 0
        with self.db.write() as connection:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                changed += connection.execute(update(feeds).where(feeds.c.id.in_(chunk)).values(**values)).rowcount
        return changed

    def add_to_category(self, feed_ids: Iterable[int], category_id: int, *, only: bool = False) -> int:
        """Put feeds in a category (with ``only``, in that category alone);
        ids that are not feeds are skipped. Returns how many feeds there were."""
        ids = builtins.list(dict.fromkeys(feed_ids))
        found: builtins.list[int] = []
        with self.db.write() as connection:
            _counts.lock_feeds(connection, ids, "update")  # all of them first, in id order
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                present = builtins.list(connection.execute(select(feeds.c.id).where(feeds.c.id.in_(chunk))).scalars())
                found += present
                before = _counts.categories_of(connection, present, lock="update")
                for feed_id in present:  # their items counted in (and out of) the categories
                    had = set(before.get(feed_id, ()))
                    _counts.move_feed(connection, feed_id, {category_id} - had, had - {category_id} if only else ())
                drop = delete(feed_categories).where(feed_categories.c.feed_id.in_(chunk))
                if not only:
                    drop = drop.where(feed_categories.c.category_id == category_id)
                connection.execute(drop)
            rows = [{"feed_id": feed_id, "category_id": category_id} for feed_id in found]
            if rows:
                connection.execute(insert(feed_categories), rows)
        return len(found)

    def _set_categories(self, connection: Connection, feed_id: int, category_ids: Iterable[int]) -> None:
        wanted = builtins.list(dict.fromkeys(category_ids))
        had = set(_counts.categories_of(connection, [feed_id], lock="update").get(feed_id, ()))
        _counts.move_feed(connection, feed_id, set(wanted) - had, had - set(wanted))  # its items, counted in theirs
        connection.execute(delete(feed_categories).where(feed_categories.c.feed_id == feed_id))
        rows = [{"feed_id": feed_id, "category_id": cid} for cid in wanted]
        if rows:
            connection.execute(insert(feed_categories), rows)

    # -- fetch log -------------------------------------------------------

    def change_many(self, connection: Connection, changes: Iterable[tuple[int, FeedChanges]]) -> None:
        """Update many feeds in few statements: rows changing the same
        columns go in one executemany (a round of 304s is a few shapes)."""
        groups: dict[tuple[str, ...], list[tuple[object, ...]]] = {}
        for feed_id, change in changes:
            columns = feed_columns(change)
            if not columns:
                continue
            names = tuple(name for name, _ in columns)
            groups.setdefault(names, []).append((*(value for _, value in columns), feed_id))
        for names, rows in groups.items():
            bulk_update(connection, feeds, "id", names, rows)

    def log_fetches(self, connection: Connection, records: Iterable[tuple[int, FetchLogRecord]]) -> None:
        """Append fetch-log rows (trimmed later by :meth:`trim_fetch_log`)."""
        rows = [
            (
                feed_id,
                r.at,
                r.status,
                r.outcome.value,
                r.duration,
                r.bytes,
                r.new_items,
                r.updated_items,
                r.error,
                r.dropped_items,
                r.cut_fields,
                None if r.error_params is None else error_params_json(r.error_params),
            )
            for feed_id, r in records
        ]
        bulk_insert(connection, fetch_log, _LOG_COLUMNS, rows)

    def trim_fetch_log(self, keep: int = FETCH_LOG_KEEP) -> int:
        """Keep each feed's newest ``keep`` fetch-log rows; one statement
        for all feeds, run once per refresh round."""
        over = select(fetch_log.c.feed_id).group_by(fetch_log.c.feed_id).having(func.count() > keep).limit(1)
        with self.db.read() as connection:
            if connection.execute(over).first() is None:  # the common case, found by the index alone
                return 0
        ranked = select(
            fetch_log.c.id,
            func.row_number().over(partition_by=fetch_log.c.feed_id, order_by=fetch_log.c.id.desc()).label("rank"),
        ).subquery()
        old = select(ranked.c.id).where(ranked.c.rank > keep)
        with self.db.write() as connection:
            return connection.execute(delete(fetch_log).where(fetch_log.c.id.in_(old))).rowcount

    def fetch_history(self, feed_id: int, limit: int = FETCH_LOG_KEEP) -> builtins.list[FetchLogRecord]:
        query = select(fetch_log).where(fetch_log.c.feed_id == feed_id).order_by(fetch_log.c.id.desc()).limit(limit)
        with self.db.read() as connection:
            return [
                FetchLogRecord(
                    at=row.at,
                    outcome=FetchOutcome(row.outcome),
                    duration=row.duration,
                    status=row.status,
                    bytes=row.bytes,
                    new_items=row.new_items,
                    updated_items=row.updated_items,
                    error=row.error,
                    dropped_items=row.dropped_items,
                    cut_fields=row.cut_fields,
                    error_params=error_params_from_json(row.error_params),
                )
                for row in connection.execute(query)
            ]

    def health_summary(self, now: datetime) -> dict[str, float]:
        """Feeds by state (ok, error, gone, never_checked), how many are due,
        and the lag in seconds of the most overdue one."""
        state = case(
            (feeds.c.gone == true(), "gone"),
            (feeds.c.checked_at.is_(None), "never_checked"),
            (feeds.c.error.is_not(None), "error"),
            else_="ok",
        )
        due = and_(feeds.c.gone == false(), feeds.c.next_check_at <= now)
        with self.db.read() as connection:
            summary: dict[str, float] = {
                name: count for name, count in connection.execute(select(state, func.count()).group_by(state))
            }
            count, oldest = connection.execute(select(func.count(), func.min(feeds.c.next_check_at)).where(due)).one()
        summary["due"] = count
        if oldest is not None:  # min() keeps the column's type: an aware datetime
            summary["lag"] = max(0.0, (now - oldest).total_seconds())
        return summary

    # -- fetch statistics (for /metrics) ---------------------------------------

    def count_fetches(self, connection: Connection, fetches: Iterable[tuple[FetchOutcome, float]]) -> None:
        """Add (outcome, seconds) fetches to the cumulative counters, one
        upsert per outcome."""
        totals: dict[FetchOutcome, dict[str, float]] = {}
        for outcome, seconds in fetches:
            row = totals.get(outcome)
            if row is None:
                row = totals[outcome] = {"count": 0, "seconds": 0.0, **dict.fromkeys(_BUCKET_NAMES, 0)}
            row["count"] += 1
            row["seconds"] += seconds
            for bound, name in _BUCKETS:
                if seconds <= bound:
                    row[name] += 1
        if not totals:
            return
        rows = [{"outcome": outcome.value, **values} for outcome, values in totals.items()]
        connection.execute(self._count_statement, rows)

    @functools.cached_property
    def _count_statement(self) -> Any:
        # Built once: an upsert with a SET clause is compiled afresh each time
        # it is constructed, which cost ~2 ms per stored feed.
        # Each dialect's INSERT ... ON CONFLICT, imported for the one in use
        # (the PostgreSQL dialect alone takes 40 ms to import).
        upsert: Any
        if self.db.is_sqlite:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            upsert = sqlite_insert(fetch_stats)
        else:
            from sqlalchemy.dialects.postgresql import insert as postgresql_insert

            upsert = postgresql_insert(fetch_stats)
        columns = ["count", "seconds", *(bucket_column(bound) for bound in FETCH_BUCKETS)]
        return upsert.on_conflict_do_update(
            index_elements=[fetch_stats.c.outcome],
            set_={name: fetch_stats.c[name] + upsert.excluded[name] for name in columns},
        )

    def fetch_stats(self) -> dict[str, dict[str, float]]:
        """outcome → {"count", "seconds", "le_…" bucket counts}."""
        with self.db.read() as connection:
            return {
                row.outcome: {name: value for name, value in row._mapping.items() if name != "outcome"}
                for row in connection.execute(select(fetch_stats))
            }
