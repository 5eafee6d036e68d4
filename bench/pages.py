"""Public pages of ``lenta serve`` at a million items (issue 10).

    python bench/pages.py [--items 1000000] [--feeds 2000] [--categories 20]
                          [--rounds 300] [--postgres URL | --no-postgres]
                          [--rebuild] [--keep]

Builds a site through lenta's own storage write path (``Storage.
apply_feed_writes``, what the refresh's batch writer calls, so the item
counts behind the pages are the ones a refresh keeps): ``--feeds`` feeds in
``--categories`` categories (every feed in one, a tenth in two), items of
about 1 KB of HTML, dated as real sites are: a few feeds post many times a
day, most a few times a week, a long tail rarely, over up to ten years; one
"firehose" feed posts every minute for three weeks. Then starts a real
``lenta serve`` on it and loads each page ``--rounds`` times over HTTP, one
request at a time on a keep-alive connection, the pages taken in turn;
prints the median and p99 of each:

- the river (``/aggregator``): first, middle and last pages;
- a source (the feed with the most items): first and last pages;
- a category (the one with the most items): first and deepest pages;
- ``/aggregator/sources`` (and its last page), ``/aggregator/categories``,
  ``/aggregator/rss``.

Goal: every page's p99 at most 50 ms, and each deepest page's median within
2x of its first page's. The SQLite database is kept in
``bench/out/pages/`` and reused by the next run with the same shape
(``--rebuild`` builds it again); on PostgreSQL (``--postgres URL``, or
``LENTA_TEST_POSTGRES_URL`` when set) the site lives in a schema of its
own, ``lenta_bench_pages_<items>``, likewise kept. The run is bounded: the
build by its item count, the measuring by ``--rounds`` and a per-request
timeout of 60 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _measure  # noqa: E402
from _lenta import lenta_cmd  # noqa: E402
from _lenta import source_fingerprint  # noqa: E402
from web_latency import PageClient  # noqa: E402
from web_latency import free_port  # noqa: E402
from web_latency import percentile  # noqa: E402

if TYPE_CHECKING:
    from lenta.storage import Storage
    from lenta.storage.records import FeedChanges
    from lenta.storage.records import ItemRecord

    Batch = list[tuple[int, FeedChanges, tuple[ItemRecord, ...], None]]

OUT = HERE / "out" / "pages"
GOAL_P99_MS = 50.0
GOAL_DEPTH = 2.0
NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
WORDS = (
    "aggregator feed item river source category page index seek bucket count date order newest oldest "
    "site reader writer server browser query table row column number moment minute hour week month year"
).split()


@dataclass(frozen=True)
class Shape:
    items: int
    feeds: int
    categories: int
    seed: int

    @property
    def name(self) -> str:
        return f"i{self.items}-f{self.feeds}-c{self.categories}-s{self.seed}"


def feed_plans(shape: Shape) -> list[tuple[int, float]]:
    """(items, days they span) per feed: a heavy tail of activity (a few
    feeds hold many items over weeks, most a few hundred over years), the
    first one a firehose; the counts sum to ``shape.items``."""
    rnd = random.Random(shape.seed)
    weights = [1.0 / (rank + 1) ** 0.7 for rank in range(shape.feeds)]
    rnd.shuffle(weights)
    weights[0] = 0.0
    firehose = min(shape.items // 20, 30_000)  # one a minute for three weeks
    rest = shape.items - firehose
    total = sum(weights)
    counts = [int(rest * w / total) for w in weights]
    counts[1] += rest - sum(counts)
    counts[0] = firehose
    plans = []
    for n, count in enumerate(counts):
        if n == 0:
            plans.append((count, count / 1440))
            continue
        per_day = rnd.choice((0.1, 0.3, 1, 3, 10, 30))  # how often the feed posts
        plans.append((count, min(3650.0, max(1.0, count / per_day))))
    return plans


def html_body(rnd: random.Random, n: int) -> str:
    """About 1 KB of an item's HTML."""
    paragraphs = []
    size = 0
    while size < 950:
        text = " ".join(rnd.choice(WORDS) for _ in range(24))
        paragraph = f'<p>{text} <a href="https://example.com/{n}/{size}">{rnd.choice(WORDS)}</a>.</p>'
        paragraphs.append(paragraph)
        size += len(paragraph)
    return "".join(paragraphs)


def build(target: str, shape: Shape) -> None:
    """The site, through lenta's storage: feeds, categories, then items
    feed by feed in transactions of about 20,000 items, as the batch writer
    writes them."""
    from lenta.storage import open_storage
    from lenta.storage.records import FeedChanges
    from lenta.storage.records import ItemRecord

    rnd = random.Random(shape.seed)
    bodies = [html_body(rnd, n) for n in range(64)]
    storage = open_storage(target)
    try:
        categories = [storage.categories.add(f"Category {n:02d}").id for n in range(shape.categories)]
        feeds = []
        for n in range(shape.feeds):
            chosen = [categories[n % len(categories)]]
            if n % 10 == 5:
                chosen.append(categories[(n * 7 + 3) % len(categories)])
            feed = storage.feeds.add(
                f"https://feed{n:05d}.example.org/rss.xml",
                now=NOW,
                custom_title=f"{rnd.choice(WORDS).title()} {rnd.choice(WORDS)} {n:05d}",
                category_ids=chosen,
            )
            feeds.append(feed.id)
        started = time.monotonic()
        done = 0
        batch: Batch = []
        for feed_id, (count, days) in zip(feeds, feed_plans(shape)):
            step = dt.timedelta(days=days) / max(count, 1)
            newest = NOW - dt.timedelta(hours=rnd.uniform(0, 48))
            records = []
            for k in range(count):
                date = newest - step * (k + rnd.uniform(0, 0.8))  # never after the newest
                key = f"https://feed{feed_id}.example.org/{k}"
                records.append(
                    ItemRecord(
                        key=key,
                        hash=f"{feed_id:08x}{k:056x}",
                        guid=key,
                        link=key,
                        title=f"{rnd.choice(WORDS).title()} {rnd.choice(WORDS)} {rnd.choice(WORDS)} {k}",
                        author=None,
                        published_at=date,
                        updated_at=None,
                        date=date,
                        content=bodies[(feed_id + k) % len(bodies)],
                        summary=None,
                    )
                )
            for start in range(0, len(records), 20_000):
                batch.append((feed_id, FeedChanges(checked_at=NOW), tuple(records[start : start + 20_000]), None))
                if sum(len(new) for _, _, new, _ in batch) >= 20_000:
                    done += _write(storage, batch)
                    batch = []
            if done and feed_id % 200 == 0:
                rate = done / (time.monotonic() - started)
                print(f"  {done:9,d} items stored ({rate:,.0f}/s)", flush=True)
        done += _write(storage, batch)
        print(f"  {done:,d} items in {time.monotonic() - started:.0f} s", flush=True)
        if not storage.db.is_sqlite:
            with storage.db.write() as connection:
                connection.exec_driver_sql("ANALYZE")
    finally:
        storage.close()


def _write(storage: Storage, batch: Batch) -> int:
    """One transaction of new items, as the batch writer writes a batch."""
    if not batch:
        return 0
    with storage.db.write() as connection:
        storage.apply_feed_writes(connection, batch, {}, NOW)
    return sum(len(new) for _, _, new, _ in batch)


def pages_to_load(target: str) -> dict[str, str]:
    """Page name → path, read from the built site (which feed and which
    category are the biggest, how many pages each listing has)."""
    from lenta.storage import open_storage

    storage = open_storage(target)
    try:
        items = storage.items.count()
        feed = max(storage.feeds.list(), key=lambda f: f.item_count)
        biggest = max(storage.categories.list(), key=lambda c: storage.items.page(0, 20, category_id=c.id).total)
        category_pages = storage.items.page(0, 20, category_id=biggest.id).page_count
        sources = storage.feeds.page(0, 20).page_count
    finally:
        storage.close()
    river = -(-items // 20)
    print(
        f"site: {items:,d} items ({river:,d} pages of 20); source {feed.id}: {feed.item_count:,d} items; "
        f"category {biggest.id}: {category_pages:,d} pages; {sources} pages of sources",
        flush=True,
    )
    return {
        "river first": "/aggregator",
        "river middle": f"/aggregator?page={river // 2}",
        "river last": f"/aggregator?page={river - 1}",
        "source first": f"/aggregator/sources/{feed.id}",
        "source last": f"/aggregator/sources/{feed.id}?page={-(-feed.item_count // 20) - 1}",
        "category first": f"/aggregator/categories/{biggest.id}",
        "category deepest": f"/aggregator/categories/{biggest.id}?page={category_pages - 1}",
        "sources": "/aggregator/sources",
        "sources last": f"/aggregator/sources?page={sources - 1}",
        "categories": "/aggregator/categories",
        "rss": "/aggregator/rss",
    }


@contextmanager
def serving(target: str, log: Path) -> Iterator[int]:
    """``lenta serve`` on the site, without its refresher; yields its port."""
    port = free_port()
    env = dict(os.environ, LENTA_DB=target, LENTA_SCHEDULER="false")
    with open(log, "wb") as out:
        serve = subprocess.Popen(
            lenta_cmd("serve", "--port", str(port)), env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        client = PageClient(port)
        deadline = time.monotonic() + 60
        while client.get("/aggregator")[0] != 200:
            if serve.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"lenta serve did not come up: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)
        yield port
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGTERM)
            try:
                serve.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(serve.pid, signal.SIGKILL)
                serve.wait()


def measure(port: int, pages: dict[str, str], rounds: int) -> dict[str, list[float]]:
    """Each page ``rounds`` times, in turn, after two warm-up rounds."""
    client = PageClient(port)
    samples: dict[str, list[float]] = {name: [] for name in pages}
    for round_ in range(rounds + 2):
        for name, path in pages.items():
            status, ms = client.get(path)
            if status != 200:
                raise RuntimeError(f"{path}: status {status}")
            if round_ >= 2:
                samples[name].append(ms)
    return samples


def report(backend: str, samples: dict[str, list[float]]) -> bool:
    print(f"\n{backend}: {len(next(iter(samples.values())))} requests a page")
    print(f"  {'page':<18} {'median ms':>10} {'p99 ms':>8}")
    ok = True
    for name, values in samples.items():
        p99 = percentile(values, 99)
        ok &= p99 <= GOAL_P99_MS
        print(f"  {name:<18} {statistics.median(values):10.1f} {p99:8.1f}{'' if p99 <= GOAL_P99_MS else '  over 50 ms'}")
    for first, deep in (("river first", "river last"), ("source first", "source last"), ("category first", "category deepest")):
        ratio = statistics.median(samples[deep]) / statistics.median(samples[first])
        ok &= ratio <= GOAL_DEPTH
        print(f"  {deep} / {first}: {ratio:.2f}x (median)")
    print(f"  goal (p99 <= {GOAL_P99_MS:g} ms, deepest <= {GOAL_DEPTH:g}x the first): {'met' if ok else 'NOT met'}")
    return ok


def sqlite_target(shape: Shape, rebuild: bool) -> str:
    OUT.mkdir(parents=True, exist_ok=True)
    db = OUT / f"{shape.name}.sqlite"
    done = db.with_suffix(".built")
    if rebuild or not done.exists():
        for path in OUT.glob(f"{shape.name}.sqlite*"):
            path.unlink()
        done.unlink(missing_ok=True)
        print(f"building {db} ...", flush=True)
        build(str(db), shape)
        done.write_text(f"built {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by lenta {source_fingerprint()}\n")
    else:
        print(f"reusing {db} ({done.read_text().strip()}; --rebuild to build it again)", flush=True)
    return str(db)


def postgres_target(url: str, shape: Shape, rebuild: bool) -> str:
    import psycopg

    schema = f"lenta_bench_pages_{shape.name.replace('-', '_')}"
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s AND table_name = 'built'", (schema,)
        ).fetchone()
        if rebuild or not (exists and exists[0]):
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            connection.execute(f'CREATE SCHEMA "{schema}"')
            built = False
        else:
            built = True
    separator = "&" if "?" in url else "?"
    target = f"{url}{separator}options=-csearch_path%3D{schema}"
    if built:
        print(f"reusing PostgreSQL schema {schema} (--rebuild to build it again)", flush=True)
        return target
    print(f"building in PostgreSQL schema {schema} ...", flush=True)
    build(target, shape)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'CREATE TABLE "{schema}".built (at timestamptz)')
        # As autovacuum would, in time: visibility maps (index-only scans)
        # and statistics, so that it does not run while pages are measured.
        tables = connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s AND table_type = 'BASE TABLE'",
            (schema,),
        ).fetchall()
        for (table,) in tables:
            connection.execute(f'VACUUM ANALYZE "{schema}"."{table}"')
    return target


def migrated(target: str) -> str:
    """A site built by an older lenta, brought to this one's schema (a
    migration's backfill, then, rather than the write path, for what it adds)."""
    from lenta.storage import open_storage

    storage = open_storage(target, migrate=True)
    if storage.migration is not None:
        print(f"  schema migrated from revision {storage.migration.before} to {storage.migration.after}", flush=True)
    storage.close()
    return target


def run(backend: str, target: str, rounds: int) -> bool:
    pages = pages_to_load(migrated(target))
    log = OUT / f"serve-{backend}.log"
    with serving(target, log) as port:
        started = time.monotonic()
        samples = measure(port, pages, rounds)
        print(f"  measured in {time.monotonic() - started:.0f} s", flush=True)
    return report(backend, samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--categories", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=300, help="requests per page")
    parser.add_argument("--postgres", default=os.environ.get("LENTA_TEST_POSTGRES_URL", ""), help="a PostgreSQL server's URL")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--rebuild", action="store_true", help="build the site again even if a built one is there")
    args = parser.parse_args(argv)
    shape = Shape(args.items, args.feeds, args.categories, args.seed)

    print(f"bench/pages.py {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; {_measure.machine()}")
    print(
        f"lenta source fingerprint {source_fingerprint()}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
        f"{shape.items:,d} items, {shape.feeds:,d} feeds, {shape.categories} categories",
        flush=True,
    )
    OUT.mkdir(parents=True, exist_ok=True)
    results = {}
    if not args.no_sqlite:
        results["SQLite"] = run("sqlite", sqlite_target(shape, args.rebuild), args.rounds)
    if args.postgres and not args.no_postgres:
        results["PostgreSQL"] = run("postgres", postgres_target(args.postgres, shape, args.rebuild), args.rounds)
    elif not args.no_postgres:
        print("\nPostgreSQL: skipped (no --postgres URL, LENTA_TEST_POSTGRES_URL unset)")
    print("\n" + "; ".join(f"{name}: goal {'met' if ok else 'NOT met'}" for name, ok in results.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
