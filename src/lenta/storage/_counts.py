"""Item counts by time bucket: how a page number becomes a seek (issue 10).

Every item is counted, in the transaction that writes it, in three scopes:
the site (``item_counts``: the items of published feeds only, those the
public pages list; :func:`publish_feed` moves a feed's in or out), its feed (``feed_item_counts``) and each
category of its feed (``category_item_counts``); in each at three levels
of its sort date (``items.date``): the total, coarse buckets of 2**20 s
(about 12 days) and fine buckets of 2**12 s (about 68 minutes), a bucket
being ``floor(seconds since 1970 / 2**shift)``.

Listings are newest first (date, then id). :func:`locate` finds page N
(offset N × per_page) without walking the items before it:

1. the total is one row (Drupal's full pager needs it);
2. the coarse buckets, newest first, summed until they pass the offset,
   give the one that holds the page's first item (a row per 12 days of
   the scope's history);
3. that bucket's fine buckets (at most 256) give the fine bucket that holds
   it, and how many of its items come before it;
4. the fine buckets from there on, at most per_page of them, give a date
   below the page's last item;
5. the items query (:class:`Window`) seeks the ``(date, id)`` index, a
   feed's ``(feed_id, date, id)`` or a category's ``category_items``
   (:mod:`lenta.storage._category_items`) to the end of that fine bucket
   and skips fewer items than the bucket holds.

A page costs a few hundred rows of counts and at most one fine bucket of
its scope skipped, whatever its number. A fine bucket holds whatever its
68 minutes hold: a scan of a few thousand index entries when thousands of
items share an hour (bench/README.md has the figures).

What keeps the counts exact: every change to items, or to the feeds of a
category, goes through here in its own transaction.

- items written: :func:`apply` with a :class:`Tally` of +1 per new item
  (``ItemStore.insert_many``), −1 and +1 per item whose date moves to
  another bucket (``ItemStore.replace``), −1 per item deleted by retention
  (``DELETE … RETURNING``);
- all of a feed's items gone (``ItemStore.delete_for_feed``, the feed
  deleted): :func:`forget_feed` takes its counts out of the site's and its
  categories' before the items go;
- a feed joining or leaving categories: :func:`move_feed` adds or takes
  its counts to or from theirs (and files its items under them, or takes
  them out);
- a category deleted, or a feed: their own rows go with them (ON DELETE
  CASCADE).

On PostgreSQL each of these first locks the rows of the feeds it concerns,
in id order, before it touches an item or a count (:func:`lock_feeds`:
``write`` for a batch of fetched items, ``share`` for retention,
``update`` to move or delete a feed), so a feed's categories and counts
cannot change between being read and being counted under, and no two
transactions wait on each other in a circle; count rows are written in key
order. Retention deletes only the old items of the feeds it locked.
SQLite runs one write transaction at a time.
"""

from __future__ import annotations

import functools
import logging
from collections import Counter
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any
from typing import Literal

from sqlalchemy import Connection
from sqlalchemy import Dialect
from sqlalchemy import Select
from sqlalchemy import Table
from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import false
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import true

from lenta.storage import _category_items
from lenta.storage.schema import category_item_counts
from lenta.storage.schema import feed_categories
from lenta.storage.schema import feed_item_counts
from lenta.storage.schema import feeds
from lenta.storage.schema import item_counts

log = logging.getLogger(__name__)

FINE_SHIFT = 12
COARSE_SHIFT = 20
_SPAN = COARSE_SHIFT - FINE_SHIFT  # fine buckets per coarse one: 2**_SPAN
TOTAL = 0
COARSE = 1
FINE = 2

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)
# SQLite allows 32766 host parameters; stay far below for IN (...) lists.
_CHUNK = 500


def fine_bucket(moment: datetime) -> int:
    """The fine bucket of an aware datetime: whole seconds since 1970
    (floored, before 1970 too), shifted."""
    return ((moment - _EPOCH) // _SECOND) >> FINE_SHIFT


def bucket_start(bucket: int, shift: int) -> datetime | None:
    """The first moment of a bucket; None past the years Python's datetimes
    hold (no item can be dated there, so no bound is needed)."""
    try:
        return _EPOCH + timedelta(seconds=bucket << shift)
    except OverflowError:
        return None


Kind = Literal["site", "feed", "category"]


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose items a listing shows: the site's, one feed's or one category's."""

    kind: Kind
    owner: int = 0  # the feed's or the category's id

    @property
    def table(self) -> Table:
        return {"site": item_counts, "feed": feed_item_counts, "category": category_item_counts}[self.kind]


SITE = Scope("site")


class Tally:
    """Items counted in (+) or out (−), by feed and fine bucket, summed
    before they are written: one row per bucket touched, not per item."""

    __slots__ = ("fine",)

    def __init__(self) -> None:
        self.fine: Counter[tuple[int, int]] = Counter()

    def add(self, feed_id: int, date: datetime, n: int = 1) -> None:
        self.fine[(feed_id, fine_bucket(date))] += n


# -- writing -------------------------------------------------------------------


def apply(connection: Connection, tally: Tally) -> dict[int, list[int]]:
    """Write ``tally`` into the site's, the feeds' and their categories'
    counts, inside the caller's transaction (the one changing the items).
    Returns the categories of the feeds counted (feed id → category ids),
    as read under the lock."""
    changes = {key: n for key, n in tally.fine.items() if n}
    if not changes:
        return {}
    counted = {feed_id for feed_id, _ in changes}
    memberships = categories_of(connection, counted, lock="share")
    private = unpublished(connection, counted)
    per_feed: Counter[tuple[int, ...]] = Counter()
    for (feed_id, fine), n in changes.items():
        per_feed[(feed_id, FINE, fine)] += n
        per_feed[(feed_id, COARSE, fine >> _SPAN)] += n
        per_feed[(feed_id, TOTAL, 0)] += n
    site: Counter[tuple[int, ...]] = Counter()
    per_category: Counter[tuple[int, ...]] = Counter()
    for (feed_id, level, bucket), n in per_feed.items():
        if feed_id not in private:  # the site's listings show published feeds only
            site[(level, bucket)] += n
        for category_id in memberships.get(feed_id, ()):
            per_category[(category_id, level, bucket)] += n
    _write(connection, item_counts, site)
    _write(connection, feed_item_counts, per_feed)
    _write(connection, category_item_counts, per_category)
    return memberships


def categories_of(
    connection: Connection, feed_ids: Iterable[int], *, lock: Literal["share", "update"] | None = None
) -> dict[int, list[int]]:
    """feed id → its category ids. With ``lock`` the feeds' rows are locked
    first (PostgreSQL: ``FOR SHARE`` to count items under the categories
    read, ``FOR UPDATE`` to change them), so that they keep those
    categories until the caller's transaction ends."""
    ids = sorted(set(feed_ids))
    if lock is not None:
        lock_feeds(connection, ids, lock)
    found: dict[int, list[int]] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = connection.execute(
            select(feed_categories.c.feed_id, feed_categories.c.category_id).where(
                feed_categories.c.feed_id.in_(ids[start : start + _CHUNK])
            )
        )
        for feed_id, category_id in rows:
            found.setdefault(feed_id, []).append(category_id)
    return found


def unpublished(connection: Connection, feed_ids: Iterable[int]) -> set[int]:
    """Which of ``feed_ids`` the public pages do not show (``feeds.published``)."""
    ids = sorted(set(feed_ids))
    found: set[int] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        found.update(connection.execute(select(feeds.c.id).where(feeds.c.id.in_(chunk), feeds.c.published == false())).scalars())
    return found


def publish_feed(connection: Connection, feed_id: int, published: bool) -> None:
    """A feed is published or withdrawn (in the caller's transaction, which
    changes ``feeds.published``): its items are counted into or out of the
    site's counts. Nothing changes when it already is as asked."""
    lock_feeds(connection, [feed_id], "update")
    if (feed_id not in unpublished(connection, [feed_id])) == published:
        return
    sign = 1 if published else -1
    _write(connection, item_counts, {(level, bucket): sign * n for level, bucket, n in _feed_rows(connection, feed_id)})


def move_feed(connection: Connection, feed_id: int, joined: Iterable[int], left: Iterable[int]) -> None:
    """A feed joins the ``joined`` categories and leaves the ``left`` ones
    (in the caller's transaction, which changes ``feed_categories``): its
    items are counted into or out of theirs, and filed under them or taken
    out (:mod:`lenta.storage._category_items`)."""
    into, out = sorted(set(joined)), sorted(set(left))
    if not into and not out:
        return
    lock_feeds(connection, [feed_id], "update")
    _category_items.join(connection, feed_id, into)
    _category_items.leave(connection, feed_id, out)
    deltas: Counter[tuple[int, ...]] = Counter()
    for level, bucket, n in _feed_rows(connection, feed_id):
        for category_id in into:
            deltas[(category_id, level, bucket)] += n
        for category_id in out:
            deltas[(category_id, level, bucket)] -= n
    _write(connection, category_item_counts, deltas)


def forget_feed(connection: Connection, feed_id: int) -> None:
    """All of a feed's items are about to go (the caller deletes them, or
    the feed, next in its transaction): their counts leave the site's and
    the feed's categories', and the feed's own rows are deleted."""
    lock_feeds(connection, [feed_id], "update")
    rows = _feed_rows(connection, feed_id)
    if not rows:
        return
    categories = categories_of(connection, [feed_id]).get(feed_id, [])
    published = not unpublished(connection, [feed_id])
    site: Counter[tuple[int, ...]] = Counter()
    per_category: Counter[tuple[int, ...]] = Counter()
    for level, bucket, n in rows:
        if published:
            site[(level, bucket)] -= n
        for category_id in categories:
            per_category[(category_id, level, bucket)] -= n
    _write(connection, item_counts, site)
    _write(connection, category_item_counts, per_category)
    connection.execute(delete(feed_item_counts).where(feed_item_counts.c.feed_id == feed_id))


def _feed_rows(connection: Connection, feed_id: int) -> list[tuple[int, int, int]]:
    c = feed_item_counts.c
    rows = connection.execute(select(c.level, c.bucket, c.n).where(c.feed_id == feed_id))
    return [(level, bucket, n) for level, bucket, n in rows]


def lock_feeds(connection: Connection, feed_ids: Iterable[int], mode: Literal["share", "write", "update"]) -> None:
    """Lock feeds' rows until the caller's transaction ends, in id order
    (PostgreSQL; SQLite runs one write transaction at a time): ``share`` to
    count items under their categories, ``write`` (FOR NO KEY UPDATE) to
    write their items and columns, ``update`` to change their categories or
    delete them. Every transaction that changes items or counts takes its
    feeds' locks first, before it touches an item or a count, so that none
    waits on another in a circle."""
    if connection.dialect.name != "postgresql":
        return
    ids = sorted(set(feed_ids))
    for start in range(0, len(ids), _CHUNK):
        query = select(feeds.c.id).where(feeds.c.id.in_(ids[start : start + _CHUNK])).order_by(feeds.c.id)
        connection.execute(query.with_for_update(read=mode == "share", key_share=mode == "write")).all()


def _write(connection: Connection, table: Table, deltas: Mapping[tuple[int, ...], int]) -> None:
    """Add ``deltas`` (key columns → change) to ``table``'s counts, in key
    order; rows that reach zero are deleted."""
    rows = sorted((*key, n) for key, n in deltas.items() if n)
    if not rows:
        return
    upsert, prune = _statements(connection.dialect, table)
    emptied = [row[:-1] for row in rows if row[-1] < 0]
    if connection.dialect.name == "postgresql":
        # One statement over arrays: a row at a time costs a round of the
        # server's work each, and a first import writes several per item.
        connection.exec_driver_sql(upsert, _arrays(rows))
        if emptied:
            connection.exec_driver_sql(prune, _arrays(emptied))
        return
    connection.exec_driver_sql(upsert, rows)
    if emptied:
        connection.exec_driver_sql(prune, emptied)


def _arrays(rows: Sequence[tuple[int, ...]]) -> tuple[str, ...]:
    """Each column of ``rows`` as a PostgreSQL array literal: text the
    server parses, where the driver would adapt each number in Python."""
    return tuple("{" + ",".join(map(str, column)) + "}" for column in zip(*rows))


@functools.lru_cache(maxsize=16)
def _statements(dialect: Dialect, table: Table) -> tuple[str, str]:
    """(upsert, delete-if-zero) of ``table``, as the driver's SQL: built
    once, and run with tuples (SQLite, executemany) or with one array per
    column (PostgreSQL, ``unnest``), since a refresh writes many of them."""
    quote = dialect.identifier_preparer.quote
    name = dialect.identifier_preparer.format_table(table)
    keys = ", ".join(quote(column.name) for column in table.primary_key.columns)
    width = len(table.primary_key.columns)
    conflict = f"ON CONFLICT ({keys}) DO UPDATE SET n = {name}.n + excluded.n"
    if dialect.name == "postgresql":
        arrays = ", ".join(["%s::integer[]"] * (width + 1))
        upsert = f"INSERT INTO {name} ({keys}, n) SELECT * FROM unnest({arrays}) {conflict}"
        prune = f"DELETE FROM {name} WHERE ({keys}) IN (SELECT * FROM unnest({', '.join(['%s::integer[]'] * width)})) AND n = 0"
        return upsert, prune
    marks = ", ".join(["?"] * (width + 1))
    upsert = f"INSERT INTO {name} ({keys}, n) VALUES ({marks}) {conflict}"
    prune = f"DELETE FROM {name} WHERE ({keys}) = ({', '.join(['?'] * width)}) AND n = 0"
    return upsert, prune


# -- reading -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Window:
    """Where a page's items are, newest first: dated before ``end`` and at
    or after ``start`` (None: unbounded), the first ``skip`` of them left out."""

    start: datetime | None
    end: datetime | None
    skip: int


@dataclass(frozen=True, slots=True)
class _Reads:
    """The statements :func:`locate` runs on one kind of scope, built once
    (building a statement costs more than SQLite's part of running it); the
    scope's id is the ``owner`` parameter."""

    total: Select[Any]
    coarse: Select[Any]  # every coarse bucket, newest first
    inside: Select[Any]  # the fine buckets from ``low`` to before ``high``, newest first
    below: Select[Any]  # ``limit`` fine buckets from ``top`` down
    newest: Select[Any]  # the ``limit`` newest fine buckets


@functools.cache
def _reads(kind: Kind) -> _Reads:
    table = Scope(kind).table
    c = table.c
    owner = true() if kind == "site" else table.c[f"{kind}_id"] == bindparam("owner")
    buckets = select(c.bucket, c.n).order_by(c.bucket.desc())
    fine = buckets.where(owner, c.level == FINE)
    return _Reads(
        total=select(c.n).where(owner, c.level == TOTAL, c.bucket == 0),
        coarse=buckets.where(owner, c.level == COARSE),
        inside=fine.where(c.bucket >= bindparam("low"), c.bucket < bindparam("high")),
        below=fine.where(c.bucket <= bindparam("top")).limit(bindparam("limit")),
        newest=fine.limit(bindparam("limit")),
    )


def total(connection: Connection, scope: Scope) -> int:
    found = connection.execute(_reads(scope.kind).total, {"owner": scope.owner}).scalar()
    return int(found or 0)


def locate(connection: Connection, scope: Scope, offset: int, limit: int) -> tuple[int, Window | None]:
    """(total, where the ``limit`` items after the first ``offset`` are);
    no window when there are none."""
    count = total(connection, scope)
    if limit <= 0 or offset >= count:
        return count, None
    reads = _reads(scope.kind)

    def buckets(query: Select[Any], **values: int) -> list[tuple[int, int]]:
        return [(bucket, n) for bucket, n in connection.execute(query, {"owner": scope.owner, **values})]

    top: int | None = None  # the fine bucket the page starts in; None: the newest
    skip = offset
    if offset:
        coarse, skip = _passing(buckets(reads.coarse), skip)
        if coarse is not None:
            top, skip = _passing(buckets(reads.inside, low=coarse << _SPAN, high=(coarse + 1) << _SPAN), skip)
        if top is None:  # the counts disagree with their own total: never when exact
            log.warning("item counts out of step in %s; paging by offset", scope)
            return count, Window(None, None, offset)
    # The page's items start in the first of these buckets (which holds
    # more than ``skip``) and each one after holds at least one more, so
    # ``limit`` of them reach past its last item, if there are that many.
    below = buckets(reads.newest, limit=limit) if top is None else buckets(reads.below, top=top, limit=limit)
    seen, last = 0, None
    for fine, n in below:
        seen += n
        if seen >= skip + limit:
            last = fine
            break
    start = bucket_start(last, FINE_SHIFT) if last is not None else None
    end = bucket_start(top + 1, FINE_SHIFT) if top is not None else None
    return count, Window(start, end, skip)


def _passing(rows: Iterable[tuple[int, int]], skip: int) -> tuple[int | None, int]:
    """(the bucket holding item number ``skip`` of ``rows``, newest first;
    how many of its items come before that one)."""
    for bucket, n in rows:
        if skip < n:
            return bucket, skip
        skip -= n
    return None, skip


# -- several feeds together (a reader's folder, issue 11) ------------------------


def _feeds_buckets(
    connection: Connection, feed_ids: Sequence[int], level: int, *, low: int | None = None, high: int | None = None
) -> list[tuple[int, int]]:
    """The ``feed_ids``' counts at ``level``, summed by bucket, newest first;
    fine and coarse buckets from ``low`` to before ``high``."""
    c = feed_item_counts.c
    summed: Counter[int] = Counter()
    for start in range(0, len(feed_ids), _CHUNK):
        query = select(c.bucket, func.sum(c.n)).where(c.feed_id.in_(feed_ids[start : start + _CHUNK]), c.level == level)
        if low is not None:
            query = query.where(c.bucket >= low)
        if high is not None:
            query = query.where(c.bucket < high)
        for bucket, n in connection.execute(query.group_by(c.bucket)):
            summed[bucket] += int(n)
    return sorted(((bucket, n) for bucket, n in summed.items() if n > 0), reverse=True)


def total_of_feeds(connection: Connection, feed_ids: Iterable[int]) -> int:
    """How many items ``feed_ids`` hold together: a row per feed."""
    return sum(n for _, n in _feeds_buckets(connection, sorted(set(feed_ids)), TOTAL))


def locate_feeds(connection: Connection, feed_ids: Iterable[int], offset: int, limit: int) -> tuple[int, Window | None]:
    """:func:`locate` for the items of several feeds together (the feeds of
    a reader's folder and its sub-folders, :mod:`lenta.storage._views`),
    from the feeds' own counts summed: (total, where the ``limit`` items
    after the first ``offset`` are, newest first); no window when there are
    none. The items query seeks each feed's ``(feed_id, date, id)`` index
    to the window and skips fewer items than its first fine bucket holds.

    What a page reads: a total row per feed, every coarse row of the feeds
    (a row per feed and 12 days of its history: what locates the page), and
    the fine rows of the coarse buckets from the page's first item to its
    last; never the items before the page."""
    ids = sorted(set(feed_ids))
    count = total_of_feeds(connection, ids)
    if limit <= 0 or offset >= count:
        return count, None
    last_position = min(offset + limit, count) - 1
    coarse = _feeds_buckets(connection, ids, COARSE)
    first, skip = _passing(coarse, offset)  # skip: the items of ``first`` before the page's first
    last, _ = _passing(coarse, last_position)
    top = end = None
    skip_in_top = 0
    if first is not None and last is not None:
        fine = _feeds_buckets(connection, ids, FINE, low=last << _SPAN, high=(first + 1) << _SPAN)
        # These fine rows start with ``first``'s newest: the page's first item is number ``skip`` of them.
        top, skip_in_top = _passing(fine, skip)
        end, _ = _passing(fine, skip + last_position - offset)
    if top is None or end is None:  # the counts disagree with their own total: never when exact
        log.warning("item counts out of step for feeds %s; paging by offset", ids[:20])
        return count, Window(None, None, offset)
    return count, Window(bucket_start(end, FINE_SHIFT), bucket_start(top + 1, FINE_SHIFT), skip_in_top)
