"""Each category's items by date (``category_items``, migration 0008): what
makes a category's listing one seek, as a feed's is.

A category's items are its feeds' items, so a listing could ask the
``(feed_id, date, id)`` index once per feed of the category; but that is a
seek per feed for every page, a few milliseconds for a category of a
thousand feeds, times the categories /aggregator/categories shows. Here
each item is filed once more under each category of its feed, with its
date, so a category's page is a seek into ``(category_id, date, item_id)``
and a scan of its page, whatever the number of its feeds.

Kept in step, in the transaction of the change, with:

- new items (:func:`file_new`, from ``ItemStore.insert_many``);
- an item's date changing (:func:`redate`, from ``ItemStore.replace``);
- a feed joining or leaving categories (:func:`join`, :func:`leave`, from
  ``lenta.storage._counts.move_feed``);
- items deleted (retention, a feed's items removed, a feed deleted) and
  categories deleted: their rows go with them (ON DELETE CASCADE).
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection
from sqlalchemy import and_
from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import literal
from sqlalchemy import select
from sqlalchemy import update

from lenta.storage.schema import category_items
from lenta.storage.schema import feed_categories
from lenta.storage.schema import items

# SQLite allows 32766 host parameters; stay far below for IN (...) lists.
_CHUNK = 500

_REDATE = (
    update(category_items)
    .where(category_items.c.item_id == bindparam("item"))
    .values(date=bindparam("moment", type_=category_items.c.date.type))
)


def last_item_id(connection: Connection) -> int:
    """The highest item id so far: the items a transaction inserts next
    come after it (from the primary key's end, one seek)."""
    return int(connection.execute(select(func.max(items.c.id))).scalar() or 0)


def file_new(connection: Connection, feed_ids: Iterable[int], after: int) -> None:
    """File the items this transaction inserted for ``feed_ids`` (ids past
    ``after``) under their feeds' categories."""
    ids = sorted(set(feed_ids))
    for start in range(0, len(ids), _CHUNK):
        chosen = (
            select(feed_categories.c.category_id, items.c.date, items.c.id)
            .select_from(items.join(feed_categories, feed_categories.c.feed_id == items.c.feed_id))
            # From the new rows' ids: "+ 0" keeps the planners off the
            # (feed_id, …) index, which would walk every item of each feed.
            .where(items.c.id > after, (items.c.feed_id + 0).in_(ids[start : start + _CHUNK]))
        )
        connection.execute(insert(category_items).from_select(["category_id", "date", "item_id"], chosen))


def redate(connection: Connection, moved: Sequence[tuple[int, datetime]]) -> None:
    """Items (id, new date) whose date changed."""
    if moved:
        connection.execute(_REDATE, [{"item": item_id, "moment": moment} for item_id, moment in moved])


def join(connection: Connection, feed_id: int, category_ids: Iterable[int]) -> None:
    """A feed joins categories: its items are filed under them."""
    for category_id in sorted(set(category_ids)):
        chosen = select(literal(category_id), items.c.date, items.c.id).where(items.c.feed_id == feed_id)
        connection.execute(insert(category_items).from_select(["category_id", "date", "item_id"], chosen))


def leave(connection: Connection, feed_id: int, category_ids: Iterable[int]) -> None:
    """A feed leaves categories: its items are taken out of them."""
    left = sorted(set(category_ids))
    if left:
        theirs = select(items.c.id).where(items.c.feed_id == feed_id)
        connection.execute(
            delete(category_items).where(and_(category_items.c.category_id.in_(left), category_items.c.item_id.in_(theirs)))
        )
