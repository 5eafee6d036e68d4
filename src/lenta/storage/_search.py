"""The full-text index of the items readers follow (``item_search``,
migration 0010; the words are :mod:`lenta.search`'s).

Only items of followed feeds are indexed: search is a reader's, and a
site that only publishes (the public aggregator) pays nothing for it. The
index changes in the transactions that change what it covers: new and
changed items (the item writer), a feed's first follower (its items are
indexed) and its last one leaving (they are dropped); deleted items leave
it by a trigger (SQLite) or a cascade (PostgreSQL). ``lenta search-index``
rebuilds it whole (:func:`rebuild`).
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import Select
from sqlalchemy import column
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import literal_column
from sqlalchemy import select
from sqlalchemy import table
from sqlalchemy import text

from lenta.search import Query
from lenta.search import Term
from lenta.search import document
from lenta.storage.schema import items
from lenta.storage.schema import subscriptions

_CHUNK = 500
RANKED_HITS = 5000  # SQLite: bm25 reads every item a term is in; a search with a more common one is not ranked
_FOLLOWED = exists().where(subscriptions.c.feed_id == items.c.feed_id)
_SQLITE_TABLE = table("item_search", column("rowid"), column("words"))
_POSTGRES_TABLE = table("item_search", column("item_id"), column("document"))


def _write(connection: Connection, rows: Sequence[Any]) -> int:
    """Index these items (id, title, content, summary), replacing what was there."""
    if not rows:
        return 0
    documents = []
    for item_id, title, content, summary in rows:
        title_words, body_words = document(title, content, summary)
        documents.append({"id": item_id, "title": title_words, "body": body_words})
    if connection.dialect.name == "sqlite":
        connection.execute(text("DELETE FROM item_search WHERE rowid = :id"), [{"id": d["id"]} for d in documents])
        connection.execute(
            text("INSERT INTO item_search (rowid, words) VALUES (:id, :title || ' ' || :body)"),
            documents,
        )
    else:
        connection.execute(
            text(
                "INSERT INTO item_search (item_id, document) VALUES (:id, "
                "setweight(to_tsvector('simple', :title), 'A') || setweight(to_tsvector('simple', :body), 'B')) "
                "ON CONFLICT (item_id) DO UPDATE SET document = excluded.document"
            ),
            documents,
        )
    return len(documents)


def _index_where(connection: Connection, *where: Any) -> int:
    """Index the items of followed feeds that ``where`` picks, in chunks by id."""
    done, last = 0, 0
    while True:
        rows = connection.execute(
            select(items.c.id, items.c.title, items.c.content, items.c.summary)
            .where(items.c.id > last, _FOLLOWED, *where)
            .order_by(items.c.id)
            .limit(_CHUNK)
        ).all()
        if not rows:
            return done
        done += _write(connection, rows)
        last = rows[-1][0]


def _anyone_follows(connection: Connection) -> bool:
    return connection.execute(select(subscriptions.c.id).limit(1)).first() is not None


def index_new(connection: Connection, after_id: int) -> int:
    """The items just inserted (ids above ``after_id``) of followed feeds."""
    if not _anyone_follows(connection):
        return 0
    return _index_where(connection, items.c.id > after_id)


def index_changed(connection: Connection, item_ids: Iterable[int]) -> int:
    """Items whose stored fields changed, if their feeds are followed."""
    ids = sorted(set(item_ids))
    if not ids or not _anyone_follows(connection):
        return 0
    done = 0
    for start in range(0, len(ids), _CHUNK):
        done += _index_where(connection, items.c.id.in_(ids[start : start + _CHUNK]))
    return done


def index_feed(connection: Connection, feed_id: int) -> int:
    """A feed's items, once it is followed."""
    return _index_where(connection, items.c.feed_id == feed_id)


def drop_feed(connection: Connection, feed_id: int) -> None:
    """A feed nobody follows any more: its items leave the index."""
    ids = select(items.c.id).where(items.c.feed_id == feed_id)
    if connection.dialect.name == "sqlite":
        connection.execute(_SQLITE_TABLE.delete().where(_SQLITE_TABLE.c.rowid.in_(ids)))
    else:
        connection.execute(_POSTGRES_TABLE.delete().where(_POSTGRES_TABLE.c.item_id.in_(ids)))


def rebuild(connection: Connection) -> int:
    """The whole index again, from the items of followed feeds."""
    connection.execute(text("DELETE FROM item_search"))
    return _index_where(connection)


def latest_hits(connection: Connection, query: Query, base: Select[Any], item_id: Any, window: int) -> Select[Any]:
    """The ids (``id``) and dates (``date``) of the latest ``window`` items
    of ``base`` (a select over items, ``item_id`` its items.id) that match
    ``query``, by id (as they arrived), each with its ``rank``: better first
    when sorted ascending, equal for all when not ranked.

    Read down the index's ids, newest first, so that a word most items
    hold costs what a rare one does: ``window`` hits are read and ranked,
    not every one. PostgreSQL ranks each by ``ts_rank`` (its words, their
    weights: the title's count more). SQLite's ``bm25`` weighs each word by
    how many items hold it, and reads every one of them to count: it ranks
    only when each term is in at most :data:`RANKED_HITS` indexed items;
    a search with a more common word leaves its hits unranked (newest
    first)."""
    dialect = connection.dialect.name
    found, rank = matching(query, base, item_id, dialect)
    if dialect == "sqlite":
        if any(_sqlite_hits(connection, term) > RANKED_HITS for term in query.terms):
            rank = literal_column("0")
        picked = found.with_only_columns(items.c.id, items.c.date, rank.label("rank"))
        return picked.order_by(None).order_by(_SQLITE_TABLE.c.rowid.desc()).limit(window)
    # PostgreSQL ranks the window's documents only, once they are picked (a
    # rank in the same select is worked out for every hit before the LIMIT).
    document = _POSTGRES_TABLE.c.document
    newest = (
        found.with_only_columns(items.c.id, items.c.date, document)
        .order_by(None)
        .order_by(_POSTGRES_TABLE.c.item_id.desc())
        .limit(window)
        .subquery("newest_hits")
    )
    tsquery = func.to_tsquery(literal_column("'simple'"), query.tsquery())
    return select(newest.c.id, newest.c.date, (-func.ts_rank(newest.c.document, tsquery)).label("rank"))


def _sqlite_hits(connection: Connection, term: Term) -> int:
    """How many indexed items hold ``term``, counted to RANKED_HITS + 1 at most."""
    probe = text("SELECT count(*) FROM (SELECT 1 FROM item_search WHERE item_search MATCH :match LIMIT :bound)")
    return int(connection.execute(probe, {"match": Query((term,)).fts5(), "bound": RANKED_HITS + 1}).scalar_one())


def matching(query: Query, base: Select[Any], item_id: Any, dialect: str) -> tuple[Select[Any], Any]:
    """``base`` (a select over items, ``item_id`` its items.id) narrowed to
    the items matching ``query``, and its rank, better first when sorted
    ascending."""
    if dialect == "sqlite":
        found = base.join(_SQLITE_TABLE, _SQLITE_TABLE.c.rowid == item_id).where(
            literal_column("item_search").op("MATCH")(query.fts5())
        )
        return found, func.bm25(literal_column("item_search"))
    tsquery = func.to_tsquery(literal_column("'simple'"), query.tsquery())
    found = base.join(_POSTGRES_TABLE, _POSTGRES_TABLE.c.item_id == item_id).where(_POSTGRES_TABLE.c.document.op("@@")(tsquery))
    return found, -func.ts_rank(_POSTGRES_TABLE.c.document, tsquery)
