"""The personal reader of ``lenta serve`` at a million items (issue 11).

    python bench/reader_pages.py [--items 1000000] [--feeds 2000] [--users 20]
                                 [--rounds 300] [--max-seconds 900]
                                 [--postgres URL | --no-postgres] [--no-sqlite] [--rebuild]

(Not ``bench/reader.py``: the bench directory comes first on the path of
bench/_reader_run.py, whose ``import reader`` (lemon24's) would find it.)

Builds the site as bench/pages.py does (its ``build``: ``--feeds`` feeds
and ``--items`` items through lenta's storage write path, ids growing with
the items' dates within a feed, as a refresh stores them), then the
readers on top of it, with SQLAlchemy Core on lenta's own tables and
lenta's own recount of the unread counts (``lenta.storage._reader.recount``):

- ``--users`` users, the first following 1,000 feeds and the last 200 (in
  between, evenly), chosen at random; the first always follows the feed
  with the most items;
- six folders each, two nested in others ("World" in "News", "Python" in
  "Tech"); a subscription is in one folder, a tenth in two, a tenth in none;
- each subscription's ``read_through`` at the middle of its feed's items,
  so the older half is read and the newer half unread;
- ``item_states``: per user 600 unread items marked read, 200 read ones
  marked unread and 150 starred;
- Russian text: the items of every eighth feed get Russian bodies
  (bench/_text.py's, about 1 KB each) instead of pages.py's English words;
- the search index of what the first user follows, filled as lenta fills
  it when a feed gets its first follower (``lenta.storage._search.index_feed``
  per feed; the other users' feeds are left out, as nobody searches them here).

Then starts a real ``lenta serve`` on it, signs the first user in (a
session made through ``Lenta.start_session``, its cookie signed with the
site's key as the server signs it) and, one request at a time on a
keep-alive connection, the figures taken in turn, measures median and p99
of:

- the unread view, ``/reader``;
- the unread counts: the navigation (every feed and folder with its
  count) is on every reader page; the cheapest page that renders it is
  ``/reader/starred`` (a few starred items besides);
- ``/reader/subscriptions``: the navigation and a form for each feed and
  folder (rename, file in folders, unfollow);
- a folder's unread view, ``/reader/folders/N``: the user's folder with
  the most feeds (a nested folder inside it);
- the 500th page of a feed, ``/reader/feeds/S?view=all&after=…``: the
  feed with the most items, the cursor of its 500th page's first item read
  from the database (the item before it in the listing's order), not
  walked to;
- search, ``/reader/search?q=…`` (view "all", best first): an English
  word that nearly every English item holds (pages.py's words) and a
  Russian one that about half the Russian items hold;
- "mark all read" of that folder, ``POST /reader/mark-all-read`` (CSRF
  token, ``through`` the newest item id, ``folder_id``): its answer (a 303)
  is measured, the page it leads to loaded unmeasured (it shows the flash
  message), then the folder's subscriptions and item states written back
  as they were, so every sample marks the same unread items (on
  PostgreSQL, the two tables vacuumed after, unmeasured, as autovacuum
  would: the server's may be off, as on the project's VM).

Then the database's part of four of them and of the navigation: the
same reads through lenta's ``Reader`` in this process, no HTTP.
Goal: every page's p99 at most 50 ms, mark all read at most 200 ms.

The SQLite database is kept in ``bench/out/reader/<shape>-r<revision>.sqlite``
and reused by the next run with the same shape; one built at an older
schema revision is migrated first (``lenta migrate`` in a process of its
own, the lenta on disk) and renamed to the revision it reached
(``--rebuild`` builds it again). On PostgreSQL (``--postgres URL`` or
``LENTA_BENCH_POSTGRES_URL``; no other variable) the site lives in a
schema of its own, ``lenta_bench_reader_<shape>_r<revision>``, likewise
kept. Bounded: the build by its item count, the measuring by ``--rounds``,
``--max-seconds`` per backend and a per-request timeout of 60 s;
everything on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import http.client
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _measure  # noqa: E402
import pages  # noqa: E402
from _lenta import lenta_cmd  # noqa: E402
from _lenta import source_fingerprint  # noqa: E402
from web_latency import percentile  # noqa: E402

OUT = HERE / "out" / "reader"
GOAL_PAGE_MS = 50.0
GOAL_MARK_MS = 200.0
NOW = pages.NOW
CATEGORIES = 20  # the site's categories (the public pages'; the reader does not use them)
MOST_FEEDS, LEAST_FEEDS = 1000, 200
FOLDERS = (  # name, parent's name, share of the subscriptions filed in it
    ("News", None, 0.25),
    ("Tech", None, 0.20),
    ("Blogs", None, 0.20),
    ("Podcasts", None, 0.05),
    ("World", "News", 0.12),
    ("Python", "Tech", 0.08),
)
READ_MARKS, UNREAD_MARKS, STARS = 600, 200, 150
DEEP_PAGE = 500
RUSSIAN_EVERY = 8  # every eighth feed's items are in Russian
RUSSIAN_BODIES = 32
SEARCHES = {"search, English word": "reader", "search, Russian word": "обновление"}
BUILD = 2  # what the build makes: a kept site of an older build is not reused (2: Russian text, the search index)


def schema_revision() -> str:
    from lenta.storage.migrate import HEAD

    return HEAD


@dataclass(frozen=True)
class Shape:
    items: int
    feeds: int
    users: int
    seed: int

    @property
    def base(self) -> str:
        return f"i{self.items}-f{self.feeds}-u{self.users}-s{self.seed}-b{BUILD}"

    def name(self, revision: str) -> str:
        return f"{self.base}-r{revision}"

    @property
    def site(self) -> pages.Shape:
        return pages.Shape(self.items, self.feeds, CATEGORIES, self.seed)


# -- building -------------------------------------------------------------------


def build(target: str, shape: Shape) -> None:
    """The site through bench/pages.py's build (lenta's storage write path),
    then the readers."""
    pages.build(target, shape.site)
    started = time.monotonic()
    add_russian(target, shape)
    print(f"  Russian text in {time.monotonic() - started:.0f} s", flush=True)
    started = time.monotonic()
    add_readers(target, shape)
    print(f"  readers added in {time.monotonic() - started:.0f} s", flush=True)
    started = time.monotonic()
    indexed = index_search(target, "reader00")
    print(f"  search index: {indexed:,d} items in {time.monotonic() - started:.0f} s", flush=True)


def add_russian(target: str, shape: Shape) -> None:
    """The items of every eighth feed in Russian: one of a few Russian bodies
    each (bench/_text.py), in place of pages.py's English words."""
    import _text
    from sqlalchemy import select
    from sqlalchemy import update

    from lenta.storage import open_storage
    from lenta.storage.schema import feeds
    from lenta.storage.schema import items

    rnd = random.Random(shape.seed * 104729 + 3)
    bodies = [_text.item_html(rnd, "ru", 1000, "https://lenta.example.ru/") for _ in range(RUSSIAN_BODIES)]
    storage = open_storage(target, migrate=False)
    try:
        with storage.db.read() as connection:
            feed_ids = sorted(connection.execute(select(feeds.c.id)).scalars())
        russian = feed_ids[3::RUSSIAN_EVERY]
        for start in range(0, len(russian), 50):
            chunk = russian[start : start + 50]
            with storage.db.write() as connection:
                for k, body in enumerate(bodies):
                    connection.execute(
                        update(items).where(items.c.feed_id.in_(chunk), items.c.id % RUSSIAN_BODIES == k).values(content=body)
                    )
    finally:
        storage.close()


def index_search(target: str, user_name: str) -> int:
    """The search index of the feeds ``user_name`` follows, filled as lenta
    fills it when a feed gets its first follower; how many items it holds."""
    from sqlalchemy import select

    from lenta.storage import _search
    from lenta.storage import open_storage
    from lenta.storage.schema import subscriptions

    storage = open_storage(target, migrate=False)
    try:
        user = storage.users.get(user_name)
        with storage.db.read() as connection:
            followed = select(subscriptions.c.feed_id).where(subscriptions.c.user_id == user.id)
            feed_ids = sorted(connection.execute(followed).scalars())
        done = 0
        for start in range(0, len(feed_ids), 20):
            with storage.db.write() as connection:
                done += sum(_search.index_feed(connection, feed_id) for feed_id in feed_ids[start : start + 20])
        return done
    finally:
        storage.close()


def follow_counts(users: int, feeds: int) -> list[int]:
    """How many feeds each user follows: 1,000 down to 200, evenly."""
    if users == 1:
        return [min(MOST_FEEDS, feeds)]
    return [min(feeds, round(MOST_FEEDS - (MOST_FEEDS - LEAST_FEEDS) * u / (users - 1))) for u in range(users)]


def add_readers(target: str, shape: Shape) -> None:
    from sqlalchemy import func
    from sqlalchemy import insert
    from sqlalchemy import select

    from lenta import auth
    from lenta.storage import open_storage
    from lenta.storage._reader import recount
    from lenta.storage.schema import feeds
    from lenta.storage.schema import folders
    from lenta.storage.schema import item_states
    from lenta.storage.schema import items
    from lenta.storage.schema import subscription_folders
    from lenta.storage.schema import subscriptions

    rnd = random.Random(shape.seed * 7919 + 11)
    password_hash = auth.hash_password("reader-bench-password")
    storage = open_storage(target, migrate=False)
    try:
        with storage.db.read() as connection:
            feed_ids = sorted(connection.execute(select(feeds.c.id)).scalars())
            spans = {
                row[0]: (int(row[1]), int(row[2]), int(row[3]))
                for row in connection.execute(
                    select(items.c.feed_id, func.min(items.c.id), func.max(items.c.id), func.count()).group_by(items.c.feed_id)
                )
            }
            # The k-th item id of a feed, in id order: min + k where the ids are contiguous (each feed's
            # items are inserted together), else read from the database.
            gaps = {feed_id for feed_id, (low, high, count) in spans.items() if high - low + 1 != count}
            ids_of = {
                feed_id: list(
                    connection.execute(select(items.c.id).where(items.c.feed_id == feed_id).order_by(items.c.id)).scalars()
                )
                for feed_id in gaps
            }
        if gaps:
            print(f"  {len(gaps)} feeds with non-contiguous item ids: read them", flush=True)

        def kth(feed_id: int, k: int) -> int:
            if feed_id in ids_of:
                return int(ids_of[feed_id][k])
            return spans[feed_id][0] + k

        biggest = max(spans, key=lambda feed_id: spans[feed_id][2])
        with_items = [feed_id for feed_id in feed_ids if feed_id in spans]
        for u, count in enumerate(follow_counts(shape.users, len(with_items))):
            user = storage.users.add(f"reader{u:02d}", password_hash, is_admin=False, now=NOW)
            chosen = rnd.sample(with_items, count)
            if u == 0 and biggest not in chosen:
                chosen[0] = biggest
            through = {feed_id: kth(feed_id, spans[feed_id][2] // 2) for feed_id in chosen}
            with storage.db.write() as connection:
                folder_ids: dict[str, int] = {}
                for name, parent, _ in FOLDERS:
                    folder_ids[name] = connection.execute(
                        insert(folders)
                        .values(user_id=user.id, name=name, parent_id=folder_ids[parent] if parent else None)
                        .returning(folders.c.id)
                    ).scalar_one()
                connection.execute(
                    insert(subscriptions),
                    [
                        {
                            "user_id": user.id,
                            "feed_id": feed_id,
                            "title": f"My feed {feed_id}" if rnd.random() < 0.05 else None,
                            "created_at": NOW,
                            "read_through": through[feed_id],
                            "unread": 0,
                        }
                        for feed_id in chosen
                    ],
                )
                subscription_of = {
                    row[0]: row[1]
                    for row in connection.execute(
                        select(subscriptions.c.feed_id, subscriptions.c.id).where(subscriptions.c.user_id == user.id)
                    )
                }
                names = [name for name, _, _ in FOLDERS]
                weights = [share for _, _, share in FOLDERS]
                filed = []
                for feed_id in chosen:
                    if rnd.random() < 0.1:
                        continue  # in no folder
                    places = {rnd.choices(names, weights)[0]}
                    if rnd.random() < 0.1:
                        places.add(rnd.choices(names, weights)[0])
                    filed += [{"subscription_id": subscription_of[feed_id], "folder_id": folder_ids[name]} for name in places]
                connection.execute(insert(subscription_folders), filed)

                # Marks: unread items marked read, read ones marked unread, some starred.
                wanted: dict[int, dict[str, Any]] = {}
                for marks, read in ((READ_MARKS, True), (UNREAD_MARKS, False), (STARS, None)):
                    for _ in range(marks * 3):
                        if marks <= 0:
                            break
                        feed_id = rnd.choice(chosen)
                        size = spans[feed_id][2]
                        half = size // 2
                        if read is True and size - half - 1 > 0:  # after read_through: unread by default
                            item_id = kth(feed_id, rnd.randrange(half + 1, size))
                        elif read is False:  # up to read_through: read by default
                            item_id = kth(feed_id, rnd.randrange(half + 1))
                        elif read is None:
                            item_id = kth(feed_id, rnd.randrange(size))
                        else:
                            continue
                        if item_id in wanted:
                            continue
                        wanted[item_id] = {"read": read, "starred_at": NOW - dt.timedelta(days=rnd.uniform(0, 300))}
                        if read is not None:
                            wanted[item_id]["starred_at"] = None
                        marks -= 1
                states = []
                ordered = sorted(wanted)
                for start in range(0, len(ordered), 500):
                    chunk = ordered[start : start + 500]
                    rows = connection.execute(
                        select(items.c.id, items.c.feed_id, items.c.date).where(items.c.id.in_(chunk))
                    ).all()
                    states += [
                        {"user_id": user.id, "item_id": row.id, "feed_id": row.feed_id, "date": row.date, **wanted[row.id]}
                        for row in rows
                    ]
                connection.execute(insert(item_states), states)
                recount(connection, chosen, user_id=user.id)
                unread = connection.execute(
                    select(func.sum(subscriptions.c.unread)).where(subscriptions.c.user_id == user.id)
                ).scalar_one()
            total = sum(spans[feed_id][2] for feed_id in chosen)
            print(
                f"  {user.name}: {count:,d} feeds, {total:,d} items, {int(unread or 0):,d} unread, {len(states)} item states",
                flush=True,
            )
    finally:
        storage.close()


def revision_of(target: str) -> str:
    """The schema revision the database at ``target`` is at."""
    from sqlalchemy import create_engine
    from sqlalchemy import text

    url = target if "://" in target else f"sqlite:///{target}"
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as connection:
            return str(connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one())
    finally:
        engine.dispose()


def migrate(target: str) -> None:
    """``lenta migrate`` on a kept site, in a process of its own: the lenta
    on disk now (others may be adding migrations while this runs)."""
    env = dict(os.environ, LENTA_DB=target)
    done = subprocess.run(lenta_cmd("migrate"), env=env, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"lenta migrate failed: {(done.stderr or done.stdout)[-2000:]}")


def sqlite_target(shape: Shape, rebuild: bool) -> str:
    """The kept site of this shape (``bench/out/reader/<shape>-r<revision>.sqlite``):
    built at the current schema revision, or one built at an older revision
    migrated (``lenta migrate``) and renamed to the revision it reached."""
    OUT.mkdir(parents=True, exist_ok=True)
    if rebuild:
        for path in OUT.glob(f"{shape.base}-r*"):
            path.unlink()
    built = sorted(OUT.glob(f"{shape.base}-r*.built"), key=lambda path: path.stat().st_mtime)
    if built:
        done = built[-1]
        db = done.with_suffix(".sqlite")
        note = done.read_text().strip()
    else:
        db = OUT / f"{shape.name(schema_revision())}.sqlite"
        done = db.with_suffix(".built")
        print(f"building {db} ...", flush=True)
        started = time.monotonic()
        build(str(db), shape)
        took = time.monotonic() - started
        note = f"built {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC in {took:.0f} s by lenta {source_fingerprint()}"
        done.write_text(note + "\n")
    before = revision_of(str(db))
    migrate(str(db))
    after = revision_of(str(db))
    wanted = OUT / f"{shape.name(after)}.sqlite"
    if wanted != db:
        for path in OUT.glob(f"{db.name}*"):
            path.rename(OUT / path.name.replace(db.stem, wanted.stem, 1))
        done.rename(wanted.with_suffix(".built"))
        db = wanted
    if built:
        migrated = f"; migrated from revision {before} to {after}" if after != before else ""
        print(f"reusing {db} ({note}{migrated}; --rebuild to build it again)", flush=True)
    return str(db)


def postgres_target(url: str, shape: Shape, rebuild: bool) -> str:
    """The kept site of this shape in a schema of its own,
    ``lenta_bench_reader_<shape>_r<revision>``: as :func:`sqlite_target`."""
    import psycopg

    prefix = f"lenta_bench_reader_{shape.base.replace('-', '_')}_r"
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    separator = "&" if "?" in url else "?"

    def target_of(schema: str) -> str:
        return f"{url}{separator}options=-csearch_path%3D{schema}"

    with psycopg.connect(conninfo, autocommit=True) as connection:
        kept = [
            str(row[0])
            for row in connection.execute("SELECT table_schema FROM information_schema.tables WHERE table_name = 'built'")
            if str(row[0]).startswith(prefix)
        ]
        if rebuild:
            for schema in kept:
                connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
            kept = []
        if not kept:
            schema = prefix + schema_revision()
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')  # a build that did not finish
            connection.execute(f'CREATE SCHEMA "{schema}"')
    if kept:
        schema = max(kept, key=lambda name: name[len(prefix) :])
    else:
        print(f"building in PostgreSQL schema {schema} ...", flush=True)
        build(target_of(schema), shape)
        with psycopg.connect(conninfo, autocommit=True) as connection:
            # As autovacuum would, in time: visibility maps and statistics, so that it does not run while pages are measured.
            tables = connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s AND table_type = 'BASE TABLE'",
                (schema,),
            ).fetchall()
            for (table,) in tables:
                connection.execute(f'VACUUM ANALYZE "{schema}"."{table}"')
            connection.execute(f'CREATE TABLE "{schema}".built (at timestamptz)')
    before = revision_of(target_of(schema))
    migrate(target_of(schema))
    after = revision_of(target_of(schema))
    if prefix + after != schema:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f'ALTER SCHEMA "{schema}" RENAME TO "{prefix + after}"')
        schema = prefix + after
    if kept:
        migrated = f", migrated from revision {before} to {after}" if after != before else ""
        print(f"reusing PostgreSQL schema {schema}{migrated} (--rebuild to build it again)", flush=True)
    return target_of(schema)


# -- what to measure ------------------------------------------------------------


@dataclass
class Plan:
    """The signed-in user, the pages to load and the folder to mark read."""

    user_id: int
    cookie: str
    csrf: str
    gets: dict[str, str]
    expect: dict[str, str]  # a page's name → text its body must hold
    folder_id: int
    folder_feeds: list[int]
    through: int
    subscription_id: int
    cursor: Any  # lenta.reader.Cursor of the deep page, or None


def per_page() -> int:
    """Items on a page of the reader's lists for a user with default settings."""
    try:
        from lenta.user_settings import DEFAULT_PER_PAGE
    except ImportError:  # before user settings (issue 11's first part)
        from lenta.web.reader import PER_PAGE as DEFAULT_PER_PAGE
    return int(DEFAULT_PER_PAGE)


def plan(target: str, env: dict[str, str]) -> Plan:
    page_size = per_page()
    from itsdangerous import Signer
    from sqlalchemy import and_
    from sqlalchemy import func
    from sqlalchemy import select

    from lenta.config import load_settings
    from lenta.core import Lenta
    from lenta.reader import Cursor
    from lenta.search import parse_query
    from lenta.storage import open_storage
    from lenta.storage._search import matching
    from lenta.storage.schema import items
    from lenta.storage.schema import subscriptions
    from lenta.web.reader import cursor_param
    from lenta.web.security import SESSION_COOKIE

    storage = open_storage(target, migrate=False)  # the built site, read directly
    lenta = Lenta(open_storage(target, migrate=False), load_settings(env))
    try:
        user = storage.users.get("reader00")
        shelf = storage.reader.of(user.id)
        followed = shelf.followed()
        folders = shelf.folders()
        inside = {folder.id: shelf.feeds_in(folder.id) for folder in folders}
        folder = max(folders, key=lambda f: (len(inside[f.id]), -f.id))
        with storage.db.read() as connection:
            through = int(connection.execute(select(func.max(items.c.id))).scalar_one())
            sizes = {
                row[0]: int(row[1])
                for row in connection.execute(
                    select(items.c.feed_id, func.count())
                    .where(items.c.feed_id.in_(select(subscriptions.c.feed_id).where(subscriptions.c.user_id == user.id)))
                    .group_by(items.c.feed_id)
                )
            }
            feed_id = max(sizes, key=lambda f: sizes[f])
            subscription = next(f for f in followed if f.feed_id == feed_id)
            page = min(DEEP_PAGE, -(-sizes[feed_id] // page_size))
            listing = (
                select(items.c.date, items.c.id)
                .where(items.c.feed_id == feed_id)
                .order_by(items.c.date.desc(), items.c.id.desc())
                .limit(1)
            )
            deep = f"/reader/feeds/{subscription.id}?view=all"
            cursor = None
            first_id = connection.execute(listing.offset((page - 1) * page_size)).one().id
            if page > 1:
                before = connection.execute(listing.offset((page - 1) * page_size - 1)).one()
                cursor = Cursor(before.date, before.id)
                deep += f"&after={cursor_param(cursor)}"
            hits = {}
            for word in SEARCHES.values():
                mine = select(items.c.id).join(
                    subscriptions, and_(subscriptions.c.feed_id == items.c.feed_id, subscriptions.c.user_id == user.id)
                )
                found, _ = matching(parse_query(word), mine, items.c.id, connection.dialect.name)
                hits[word] = int(connection.execute(select(func.count()).select_from(found.subquery())).scalar_one())
        key = lenta.secret_key()
        token = lenta.start_session(user)
        session = lenta.session(token)
        assert session is not None
        cookie = f"{SESSION_COOKIE}={Signer(key, salt=f'lenta-{SESSION_COOKIE}').sign(token).decode('ascii')}"
        unread = sum(f.unread for f in followed)
        in_folder = sum(f.unread for f in followed if f.feed_id in set(inside[folder.id]))
        print(
            f"user {user.name} (id {user.id}): {len(followed):,d} feeds, {sum(sizes.values()):,d} items, {unread:,d} unread, "
            f"{len(folders)} folders; folder {folder.name!r} (id {folder.id}): {len(inside[folder.id])} feeds, "
            f"{in_folder:,d} unread; feed {subscription.id} ({feed_id}): {sizes[feed_id]:,d} items, page {page} of "
            f"{-(-sizes[feed_id] // page_size):,d}",
            flush=True,
        )
        print("  search: " + ", ".join(f"{word!r} matches {n:,d} of the user's items" for word, n in hits.items()), flush=True)
        if page < DEEP_PAGE:
            print(f"  (the feed has fewer than {DEEP_PAGE} pages: its last page, {page}, is measured)", flush=True)
        return Plan(
            user_id=user.id,
            cookie=cookie,
            csrf=session.csrf_token,
            gets={
                "unread view": "/reader",
                "unread counts": "/reader/starred",
                "subscriptions page": "/reader/subscriptions",
                "folder view": f"/reader/folders/{folder.id}",
                f"feed page {page}": deep,
                **{name: "/reader/search?" + urlencode({"q": word}) for name, word in SEARCHES.items()},
            },
            expect={
                f"feed page {page}": f'id="item-{first_id}"',
                "unread view": 'class="reader-item',
                **{name: 'class="reader-item' for name in SEARCHES},
            },
            folder_id=folder.id,
            folder_feeds=sorted(inside[folder.id]),
            through=through,
            subscription_id=subscription.id,
            cursor=cursor,
        )
    finally:
        storage.close()
        lenta.close()


class Browser:
    """One signed-in browser: requests one at a time on a keep-alive connection."""

    def __init__(self, port: int, cookie: str) -> None:
        self.port = port
        self.cookie = cookie
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, float, bytes, str]:
        """(status, milliseconds, body, Location)."""
        headers = {"Accept-Language": "en", "Cookie": self.cookie}
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            if self.conn is not None:
                self.conn.close()
            self.conn = None
            raise
        return response.status, (time.perf_counter() - started) * 1000, data, response.getheader("Location") or ""


class FolderState:
    """A folder's subscriptions and item states, as they were: written back
    after each "mark all read"."""

    def __init__(self, target: str, user_id: int, feed_ids: list[int]) -> None:
        from sqlalchemy import select

        from lenta.storage import open_storage
        from lenta.storage.schema import item_states
        from lenta.storage.schema import subscriptions

        self.storage = open_storage(target, migrate=False)
        self.user_id = user_id
        self.feed_ids = feed_ids
        s, st = subscriptions.c, item_states.c
        with self.storage.db.read() as connection:
            self.subscriptions = [
                {"sid": row.id, "rt": row.read_through, "n": row.unread}
                for row in connection.execute(
                    select(s.id, s.read_through, s.unread).where(s.user_id == user_id, s.feed_id.in_(feed_ids))
                )
            ]
            self.states = [
                dict(row._mapping)
                for row in connection.execute(select(item_states).where(st.user_id == user_id, st.feed_id.in_(feed_ids)))
            ]
        self.unread = sum(row["n"] for row in self.subscriptions)

    def unread_now(self) -> int:
        from sqlalchemy import func
        from sqlalchemy import select

        from lenta.storage.schema import subscriptions

        s = subscriptions.c
        with self.storage.db.read() as connection:
            found = connection.execute(
                select(func.sum(s.unread)).where(s.user_id == self.user_id, s.feed_id.in_(self.feed_ids))
            ).scalar()
        return int(found or 0)

    def restore(self) -> None:
        from sqlalchemy import bindparam
        from sqlalchemy import delete
        from sqlalchemy import insert
        from sqlalchemy import update

        from lenta.storage.schema import item_states
        from lenta.storage.schema import subscriptions

        s, st = subscriptions.c, item_states.c
        with self.storage.db.write() as connection:
            connection.execute(delete(item_states).where(st.user_id == self.user_id, st.feed_id.in_(self.feed_ids)))
            if self.states:
                connection.execute(insert(item_states), self.states)
            connection.execute(
                update(subscriptions).where(s.id == bindparam("sid")).values(read_through=bindparam("rt"), unread=bindparam("n")),
                self.subscriptions,
            )
        if not self.storage.db.is_sqlite:
            # The dead rows of the mark and of this write-back, gone as autovacuum
            # would take them at a reader's pace (a server may have it off: the
            # bench's own churn, a folder marked and written back 150 times over,
            # would bloat both tables and slow every later round).
            with self.storage.db.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM item_states, subscriptions")

    def close(self) -> None:
        self.storage.close()


MARK = "mark all read (folder)"


def measure(target: str, port: int, how: Plan, rounds: int, max_seconds: float) -> dict[str, list[float]]:
    """Each figure ``rounds`` times, in turn, after two warm-up rounds, for
    ``max_seconds`` at most."""
    browser = Browser(port, how.cookie)
    folder = FolderState(target, how.user_id, how.folder_feeds)
    samples: dict[str, list[float]] = {name: [] for name in [*how.gets, MARK]}
    form = {"csrf_token": how.csrf, "through": str(how.through), "folder_id": str(how.folder_id)}
    form["back"] = f"/reader/folders/{how.folder_id}"
    started = time.monotonic()
    try:
        for round_ in range(rounds + 2):
            for name, path in how.gets.items():
                status, ms, body, _ = browser.request("GET", path)
                if status != 200:
                    raise RuntimeError(f"{path}: status {status} (is the session cookie accepted?)")
                if round_ == 0 and how.expect.get(name, "").encode() not in body:
                    raise RuntimeError(f"{path}: the page lacks {how.expect[name]!r}")
                if round_ >= 2:
                    samples[name].append(ms)
            status, ms, _, location = browser.request("POST", "/reader/mark-all-read", form)
            if status != 303:
                raise RuntimeError(f"POST /reader/mark-all-read: status {status}")
            if round_ == 0 and folder.unread_now() != 0:
                raise RuntimeError(f"mark all read left {folder.unread_now()} unread in the folder")
            if round_ >= 2:
                samples[MARK].append(ms)
            browser.request("GET", location or form["back"])  # where the browser goes next: the flash message is shown
            folder.restore()
            if round_ == 0 and folder.unread_now() != folder.unread:
                raise RuntimeError(f"the folder's unread count came back as {folder.unread_now()}, not {folder.unread}")
            if time.monotonic() - started > max_seconds:
                print(f"  stopped after {round_ + 1} rounds: --max-seconds {max_seconds:g} reached", flush=True)
                break
    finally:
        folder.close()
    return samples


# -- reporting ------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    name: str
    median: float | None
    p99: float | None
    goal: float | None

    @property
    def met(self) -> bool | None:
        if self.p99 is None or self.goal is None:
            return None
        return self.p99 <= self.goal


def rows_of(samples: dict[str, list[float]]) -> list[Row]:
    rows = []
    for name, values in samples.items():
        goal = GOAL_MARK_MS if name == MARK else GOAL_PAGE_MS
        if values:
            rows.append(Row(name, statistics.median(values), percentile(values, 99), goal))
        else:
            rows.append(Row(name, None, None, goal))
    return rows


def report(backend: str, rows: list[Row], count: int) -> None:
    print(f"\n{backend}: {count} requests each (median and p99 in ms)")
    print(f"  {'figure':<24} {'median':>8} {'p99':>8}  {'goal (p99)':<12} verdict")
    for row in rows:
        if row.median is None or row.p99 is None:
            print(f"  {row.name:<24} {'-':>8} {'-':>8}  <= {row.goal:g} ms    no samples")
            continue
        verdict = "met" if row.met else "NOT met"
        print(f"  {row.name:<24} {row.median:8.1f} {row.p99:8.1f}  <= {row.goal:g} ms{'':<3} {verdict}")


def summary(results: dict[str, list[Row]]) -> None:
    """Both backends side by side, as a Markdown table."""
    backends = list(results)
    print("\n| figure | goal (p99) | " + " | ".join(f"{b} median / p99 ms | {b}" for b in backends) + " |")
    print("|---|---|" + "---|---|" * len(backends))
    names = [row.name for row in next(iter(results.values()))]
    for index, name in enumerate(names):
        cells = []
        for backend in backends:
            row = results[backend][index]
            if row.median is None or row.p99 is None:
                cells += ["-", "no samples"]
            else:
                cells += [f"{row.median:.1f} / {row.p99:.1f}", "met" if row.met else "**NOT met**"]
        goal = f"<= {GOAL_MARK_MS if name == MARK else GOAL_PAGE_MS:g} ms"
        print(f"| {name} | {goal} | " + " | ".join(cells) + " |")


def storage_share(env: dict[str, str], how: Plan, times: int = 20) -> None:
    """The database's part of the figures: the same reads through lenta's
    ``Reader`` facade in this process, no HTTP, no page rendered (median ms)."""
    from lenta.config import load_settings
    from lenta.core import Lenta
    from lenta.storage import open_storage

    lenta = Lenta(open_storage(str(env["LENTA_DB"]), migrate=False), load_settings(env))
    try:
        user = lenta.get_user_by_id(how.user_id)
        reader = lenta.reader(user)
        reads: dict[str, Callable[[], object]] = {
            "unread view: items": lambda: reader.items("unread", per_page=per_page()),
            "folder view: items": lambda: reader.items("unread", folder_id=how.folder_id, per_page=per_page()),
            "feed deep page: items": lambda: reader.items(
                "all", subscription_id=how.subscription_id, after=how.cursor, per_page=per_page()
            ),
            "navigation: followed()": reader.followed,
            **{f"{name}: items": functools.partial(reader.search, word, per_page=per_page()) for name, word in SEARCHES.items()},
        }
        print("  the database's part (lenta's Reader in this process, median of 20):")
        for name, read in reads.items():
            read()
            values = []
            for _ in range(times):
                started = time.perf_counter()
                read()
                values.append((time.perf_counter() - started) * 1000)
            print(f"    {name:<34} {statistics.median(values):8.1f} ms")
    finally:
        lenta.close()


def run(backend: str, target: str, rounds: int, max_seconds: float) -> list[Row]:
    env = dict(os.environ, LENTA_DB=target, LENTA_SCHEDULER="false")
    how = plan(target, env)
    with pages.serving(target, OUT / f"serve-{backend}.log") as port:
        started = time.monotonic()
        samples = measure(target, port, how, rounds, max_seconds)
        print(
            f"  measured in {time.monotonic() - started:.0f} s; load average now {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
            flush=True,
        )
    storage_share(env, how)
    rows = rows_of(samples)
    report(backend, rows, min(len(values) for values in samples.values()))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=300, help="requests per figure")
    parser.add_argument("--max-seconds", type=float, default=900.0, help="measuring time per backend, at most")
    parser.add_argument("--postgres", default=os.environ.get("LENTA_BENCH_POSTGRES_URL", ""), help="a PostgreSQL server's URL")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--rebuild", action="store_true", help="build the site again even if a built one is there")
    args = parser.parse_args(argv)
    shape = Shape(args.items, args.feeds, args.users, args.seed)

    print(f"bench/reader_pages.py {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; {_measure.machine()}")
    print(
        f"lenta source fingerprint {source_fingerprint()}, schema revision {schema_revision()}; load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; {shape.items:,d} items, {shape.feeds:,d} feeds, "
        f"{shape.users} users",
        flush=True,
    )
    OUT.mkdir(parents=True, exist_ok=True)
    results: dict[str, list[Row]] = {}
    if not args.no_sqlite:
        results["SQLite"] = run("sqlite", sqlite_target(shape, args.rebuild), args.rounds, args.max_seconds)
    if args.postgres and not args.no_postgres:
        target = postgres_target(args.postgres, shape, args.rebuild)
        results["PostgreSQL"] = run("postgres", target, args.rounds, args.max_seconds)
    elif not args.no_postgres:
        print("\nPostgreSQL: skipped (no --postgres URL, LENTA_BENCH_POSTGRES_URL unset)")
    if results:
        summary(results)
        missed = [f"{backend} {row.name}" for backend, rows in results.items() for row in rows if row.met is False]
        print(f"\ngoal (pages p99 <= {GOAL_PAGE_MS:g} ms, mark all read p99 <= {GOAL_MARK_MS:g} ms): ", end="")
        print("met" if not missed else "NOT met: " + ", ".join(missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
