"""lenta against the hostile server: every bad answer of the catalogue and
20 good feeds in one refresh round, then each bad answer alone.

The round is the one ``lenta refresh``, ``worker`` and ``serve`` run
(:meth:`Lenta.refresh`). It must finish, in bounded time and memory,
with every bad feed's exact error kind (or its facts, for the bad answers
a careful aggregator still reads), every next check within bounds, every
good feed's items stored, the internal service untouched and the password
of a feed URL nowhere. The per-endpoint test runs each bad answer alone in
a fresh lenta, so a failure names its endpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import CORPUS
from conftest import corpus_dir
from webserver import AppServer

from hostile.catalogue import CATALOGUE
from hostile.catalogue import ERROR_NEXT_MAX
from hostile.catalogue import OK_NEXT_MAX
from hostile.catalogue import PASSWORD
from hostile.catalogue import Endpoint
from hostile.catalogue import Observation
from hostile.server import Request
from hostile.server import ServerProcess
from lenta.config import Settings
from lenta.config import load_settings
from lenta.core import Lenta
from lenta.core import make_lenta
from lenta.types import Feed
from lenta.web import create_app

# The round: short limits, so dripping bodies end soon, yet long enough for a
# 20 MB body or 11 redirects while the parse workers keep both cores of a
# small machine busy, and for the stall of lenta's event loop while its parse
# pool starts (seconds on a busy machine); the limits of one host lifted,
# since every feed here is on the hostile server.
ROUND_TIMEOUT, ROUND_DEADLINE = 5.0, 10.0
ALONE_TIMEOUT, ALONE_DEADLINE = 1.0, 2.0
ROUND_SECONDS = 60.0  # the whole round
# Peak RSS growth of this process during the round (it holds the bodies
# waiting for a parse worker: 200-290 MB measured), and peak RSS of each worker.
ROUND_MEMORY = 400 * 1024 * 1024
WORKER_MEMORY = 300 * 1024 * 1024
ALONE_MEMORY = 200 * 1024 * 1024  # peak RSS growth for one bad feed alone
QUICK = 3.0  # seconds for a bad answer that does not wait out the deadline, alone
ROUND_SLACK = 10.0  # what a failing fetch may add to its bound in a busy round (shared cores)
PARSED = {"ok", "not_modified", "not_a_feed", "parse", "internal"}  # outcomes decided once a body is parsed

# 20 good feeds of the shared corpus, with the item count its manifest gives.
GOOD = {
    "netnewswire__DaringFireball.atom": 48,
    "netnewswire__DaringFireball.json": 48,
    "netnewswire__bio.rdf": 30,
    "netnewswire__atp.rss": 100,
    "codehollow__Rss091Stadtfeuerwehr.xml": 15,
    "codehollow__Rss20MoscowTimes.xml": 50,
    "codehollow__Rss20JapanTimes.xml": 118,
    "codehollow__AtomYoutubeInvestmentPunk.xml": 15,
    "miniflux__encoding_WINDOWS-1251.xml": 50,
    "miniflux__rdf_UTF8.xml": 60,
    "miniflux__urdu_UTF8.xml": 26,
    "rubycocos-comics__xkcd.rss": 4,
    "rubycocos-misc__intertwingly.atom": 20,
    "rubycocos-news__guardian-world.rss": 89,
    "simplepie__feed-utf16le.xml": 1,
    "feedbin__feed.json": 11,
    "podcastindex__podcast-namespace-example.xml": 3,
    "feedjira__itunes_feedburner.xml": 3,
    "netnewswire__rose.json": 84,
    "codehollow__Rss20Spiegel.xml": 17,
}
TYPES = {
    ".json": "application/feed+json",
    ".atom": "application/atom+xml",
    ".rss": "application/rss+xml",
    ".rdf": "application/rdf+xml",
}


def _good_feeds() -> list[tuple[str, str, str, bool, bool, str | None]]:
    real = CORPUS / "real"
    if not real.is_dir():
        return []
    found = []
    for index, name in enumerate(sorted(GOOD)):
        path = real / name
        if path.is_file():
            # Honest variety: some gzipped, some chunked, some with an ETag.
            found.append(
                (
                    name,
                    str(path),
                    TYPES.get(path.suffix, "application/xml"),
                    index % 3 == 0,
                    index % 4 == 1,
                    f'"good-{index}"' if index % 2 else None,
                )
            )
    return found


@pytest.fixture(scope="module")
def hostile() -> Iterator[ServerProcess]:
    """The hostile server, in a process of its own: what is measured is lenta."""
    with ServerProcess(_good_feeds()) as server:
        yield server


@pytest.fixture(scope="module")
def empty_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty database, copied for each test (migrating costs more than the test)."""
    path = tmp_path_factory.mktemp("hostile") / "empty.sqlite"
    make_lenta(load_settings({}, db=str(path), scheduler=False)).close()
    return path


@pytest.fixture
def settings(tmp_path: Path, hostile: ServerProcess, empty_db: Path) -> Settings:
    """A fresh database; only the hostile server's own host:port may be reached
    (not its address at another port, where the internal service listens too)."""
    shutil.copyfile(empty_db, tmp_path / "lenta.sqlite")
    return load_settings(
        {},
        db=str(tmp_path / "lenta.sqlite"),
        fetch_allow=hostile.address,
        scheduler=False,
        fetch_timeout=ALONE_TIMEOUT,
        fetch_deadline=ALONE_DEADLINE,
        host_interval=0.0,
        per_host=500,
        concurrency=500,
    )


# --- memory --------------------------------------------------------------------------------


def _status_kb(pid: int | str, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _reset_peak() -> bool:
    """Reset this process's VmHWM to its current RSS (Linux); False if impossible."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        return False
    return True


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    try:
        names = os.listdir("/proc")
    except OSError:
        return found
    parents: dict[int, int] = {}
    for name in names:
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as stat:
                    parents[int(name)] = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in found:
                found.add(child)
                frontier.append(child)
    return found


class MemoryWatch:
    """Peak RSS growth of this process (VmHWM after a reset), and the peak RSS
    of every descendant process (parse workers) seen while it runs."""

    def __init__(self) -> None:
        self.exact = _reset_peak()
        self.before_kb = _status_kb("self", "VmRSS")
        self.before_children = _children(os.getpid())
        self.children_kb: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="memory-watch", daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            for child in _children(os.getpid()) - self.before_children:
                self.children_kb[child] = max(self.children_kb.get(child, 0), _status_kb(child, "VmHWM"))

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth(self) -> int:
        return max(0, _status_kb("self", "VmHWM") - self.before_kb) * 1024

    @property
    def worker_peak(self) -> int:
        return max(self.children_kb.values(), default=0) * 1024


def add(lenta: Lenta, url: str) -> int:
    """Add a feed as an admin would, without fetching it."""
    return asyncio.run(lenta.add_feed(url, discover=False)).id


# --- what was stored ------------------------------------------------------------------------


def wants_outputs(endpoint: Endpoint) -> bool:
    return any(getattr(check, "needs_outputs", False) for check in endpoint.expect.checks)


class Outputs:
    """What lenta publishes, read through its web app: the shared pages once,
    a feed's source page on demand."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.shared = {path: self._get(path) for path in ("/aggregator", "/aggregator/rss", "/aggregator/opml")}

    def _get(self, path: str) -> str:
        response = self.client.get(path)
        if response.status_code != 200:
            raise AssertionError(f"{path} answered {response.status_code}")
        return response.text

    def for_feed(self, feed_id: int) -> dict[str, str]:
        pages = dict(self.shared)
        path = f"/aggregator/sources/{feed_id}"
        pages[path] = self._get(path)
        return pages


@contextlib.contextmanager
def web_outputs(settings: Settings, lenta: Lenta) -> Iterator[Outputs]:
    with AppServer(create_app(settings, lenta)) as web, httpx.Client(base_url=web.url(""), timeout=60) as client:
        yield Outputs(client)


def observe(
    lenta: Lenta, server: ServerProcess, endpoint: Endpoint, feed_id: int, requests: list[Request], outputs: Outputs | None = None
) -> Observation:
    return Observation(
        name=endpoint.name,
        feed=lenta.get_feed(feed_id),
        items=list(lenta.items_page(0, 5000, feed_id=feed_id).items),
        log=lenta.fetch_history(feed_id),
        requests=[r for r in requests if r.endpoint == endpoint.name],
        server=server,
        outputs=outputs.for_feed(feed_id) if outputs is not None and wants_outputs(endpoint) else {},
    )


def problems(
    endpoint: Endpoint, observation: Observation, *, count: int, seconds: float | None, seconds_bound: float | None
) -> list[str]:
    """What is wrong with what lenta made of ``endpoint`` (nothing, when careful)."""
    expect, feed = endpoint.expect, observation.feed
    found: list[str] = []
    if feed.checked_at is None:
        return ["never checked: the round ended before this feed was stored"]
    kind = feed.error_kind or "ok"
    if kind not in expect.kinds:
        found.append(f"kind {kind!r}, expected {' or '.join(expect.kinds)} (error: {feed.error!r})")
    if kind == "gone":
        if feed.next_check_at is not None:
            found.append("gone, yet a next check is planned")
    elif feed.next_check_at is None:
        found.append("no next check planned")
    else:
        wait = feed.next_check_at - feed.checked_at
        longest = expect.next_max or (OK_NEXT_MAX if kind == "ok" else ERROR_NEXT_MAX)
        if wait > longest:
            found.append(f"next check in {wait} (at most {longest})")
        if expect.next_min is not None and wait < expect.next_min:
            found.append(f"next check in {wait} (at least {expect.next_min}: the answer asked for a long wait)")
    if expect.items is not None and count != expect.items:
        found.append(f"{count:,} items stored, expected {expect.items:,}")
    if expect.min_items is not None and count < expect.min_items:
        found.append(f"{count:,} items stored, expected at least {expect.min_items:,}")
    newest = observation.items[0] if observation.items else None
    if expect.title is not None and (newest is None or newest.title != expect.title):
        found.append(f"title {newest.title if newest else None!r}, expected {expect.title!r}")
    if expect.link is not None and (newest is None or newest.link != expect.link):
        found.append(f"link {newest.link if newest else None!r}, expected {expect.link!r}")
    for check in expect.checks:
        problem = check(observation)
        if problem:
            found.append(problem)
    if seconds is not None and seconds_bound is not None and seconds > seconds_bound:
        found.append(f"took {seconds:.1f}s (at most {seconds_bound:.1f}s)")
    return found


def _secret_leaks(lenta: Lenta, feeds: list[Feed]) -> list[str]:
    leaks = []
    for feed in feeds:
        texts = [("url", feed.url), ("error", feed.error), ("pending_url", feed.pending_url)]
        texts += [("fetch log", entry.error) for entry in lenta.fetch_history(feed.id)]
        leaks += [
            f"feed {feed.id} ({feed.title[:60]}) {where}: {text[:160]}" for where, text in texts if text and PASSWORD in text
        ]
    return leaks


def _report(title: str, failures: dict[str, list[str]]) -> str:
    lines = [title]
    for name, found in failures.items():
        lines.append(f"  {name}:")
        lines += [f"    - {problem}" for problem in found]
    return "\n".join(lines)


# --- the round ---------------------------------------------------------------------------------


def test_one_round_of_every_bad_answer_and_twenty_good_feeds(
    settings: Settings, hostile: ServerProcess, tmp_path: Path, empty_db: Path
) -> None:
    real = corpus_dir("real")
    missing = [name for name in GOOD if not (real / name).is_file()]
    if missing:
        pytest.skip(f"the shared corpus at {real} lacks {', '.join(missing)}")
    assert len(CATALOGUE) >= 60
    shutil.copyfile(empty_db, tmp_path / "round.sqlite")
    round_settings = dataclasses.replace(
        settings, db=str(tmp_path / "round.sqlite"), fetch_timeout=ROUND_TIMEOUT, fetch_deadline=ROUND_DEADLINE
    )
    lenta = make_lenta(round_settings)
    try:
        bad_ids: dict[str, int] = {}
        for endpoint in CATALOGUE:
            bad_ids[endpoint.name] = add(lenta, endpoint.url(hostile))
        good_ids = {name: add(lenta, hostile.good_url(name)) for name in GOOD}
        internal_before = len(hostile.internal.seen())
        since = hostile.mark()

        crash: BaseException | None = None
        started = time.monotonic()
        with MemoryWatch() as memory:
            try:
                summary = asyncio.run(lenta.refresh(all_feeds=True))
            except Exception as exc:  # the round must never die of one feed
                crash, summary = exc, None
        elapsed = time.monotonic() - started
        growth, worker_peak = memory.growth, memory.worker_peak

        failures: dict[str, list[str]] = {}
        if crash is not None:
            failures["the round itself"] = [f"died of {type(crash).__name__}: {str(crash)[:300]}"]
        if elapsed > ROUND_SECONDS:
            failures.setdefault("the round itself", []).append(f"took {elapsed:.1f}s (at most {ROUND_SECONDS:.0f}s)")
        if growth > ROUND_MEMORY:
            failures.setdefault("the round itself", []).append(
                f"this process grew by {growth / 2**20:.0f} MB (at most {ROUND_MEMORY / 2**20:.0f})"
            )
        if worker_peak > WORKER_MEMORY:
            failures.setdefault("the round itself", []).append(
                f"a parse worker peaked at {worker_peak / 2**20:.0f} MB (at most {WORKER_MEMORY / 2**20:.0f})"
            )
        if summary is not None:
            leaked = [text for _, text in summary.failures if PASSWORD in text]
            if leaked:
                failures.setdefault("the round itself", []).append(f"the summary shows the password: {leaked[0][:160]}")

        web = contextlib.ExitStack()
        try:
            outputs: Outputs | None = web.enter_context(web_outputs(round_settings, lenta))
        except AssertionError as exc:
            failures.setdefault("the round itself", []).append(f"the pages do not render: {exc}")
            outputs = None
        with web:
            requests = hostile.requests_since(since)
            observations = {
                endpoint.name: observe(lenta, hostile, endpoint, bad_ids[endpoint.name], requests, outputs)
                for endpoint in CATALOGUE
            }
        for endpoint in CATALOGUE:
            feed_id = bad_ids[endpoint.name]
            observation = observations[endpoint.name]
            # A fetch that failed before a body arrived is timed by its fetch log; a
            # body waits for the parse workers the floods keep busy, so only the
            # round's total bounds it (and the test of the endpoint alone).
            last = observation.log[0] if observation.log else None
            bound = None
            if last is not None and last.outcome not in PARSED and not last.bytes:
                bound = (ROUND_DEADLINE if endpoint.expect.slow else QUICK) + ROUND_SLACK
            found = problems(
                endpoint,
                observation,
                count=lenta.items_page(0, 1, feed_id=feed_id).total,
                seconds=last.duration if last else None,
                seconds_bound=bound,
            )
            if found:
                failures[f"{endpoint.group}/{endpoint.name}"] = found

        for name, expected in GOOD.items():
            feed = lenta.get_feed(good_ids[name])
            count = lenta.items_page(0, 1, feed_id=feed.id).total
            if feed.error or count != expected:
                failures[f"good/{name}"] = [f"{count} items stored of {expected} (error: {feed.error!r})"]

        reached = hostile.internal.seen()[internal_before:]
        if reached:
            failures["internal service"] = [f"{len(reached)} requests reached it: {reached[:5]}"]
        leaks = _secret_leaks(lenta, lenta.list_feeds())
        if leaks:
            failures["credentials"] = leaks
        if hostile.errors:
            failures["the hostile server (a bug of the test)"] = hostile.errors[:10]
        slowest = sorted(((o.log[0].duration, name) for name, o in observations.items() if o.log), reverse=True)[:8]
        print(
            f"round: {elapsed:.1f}s, this process +{growth / 2**20:.0f} MB (exact peak: {memory.exact}), "
            f"parse workers peaked at {worker_peak / 2**20:.0f} MB; slowest feeds: "
            + ", ".join(f"{name} {seconds:.1f}s" for seconds, name in slowest)
        )
    finally:
        lenta.close()

    if failures:
        count = sum(1 for name in failures if "/" in name and not name.startswith("good/"))
        pytest.fail(
            _report(f"{count} of {len(CATALOGUE)} bad answers mishandled in one round; all problems:", failures), pytrace=False
        )


# --- each bad answer alone ------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", CATALOGUE, ids=[f"{e.group}-{e.name}" for e in CATALOGUE])
def test_bad_answer_alone(endpoint: Endpoint, lenta: Lenta, settings: Settings, hostile: ServerProcess) -> None:
    feed_id = add(lenta, endpoint.url(hostile))
    internal_before = len(hostile.internal.seen())
    since = hostile.mark()
    errors_before = len(hostile.errors)
    crash: BaseException | None = None
    started = time.monotonic()
    with MemoryWatch() as memory:
        try:
            asyncio.run(lenta.refresh(all_feeds=True))
        except Exception as exc:
            crash = exc
    elapsed, growth = time.monotonic() - started, memory.growth
    found: list[str] = []
    if crash is not None:
        found.append(f"the round died of {type(crash).__name__}: {str(crash)[:300]}")
    expect = endpoint.expect
    bound = expect.seconds or ((ALONE_DEADLINE + 2.0) if expect.slow else QUICK)
    with contextlib.ExitStack() as web:
        outputs = web.enter_context(web_outputs(settings, lenta)) if wants_outputs(endpoint) else None
        observation = observe(lenta, hostile, endpoint, feed_id, hostile.requests_since(since), outputs)
    found += problems(
        endpoint, observation, count=lenta.items_page(0, 1, feed_id=feed_id).total, seconds=elapsed, seconds_bound=bound
    )
    if growth > ALONE_MEMORY:
        found.append(f"this process grew by {growth / 2**20:.0f} MB (at most {ALONE_MEMORY / 2**20:.0f})")
    reached = hostile.internal.seen()[internal_before:]
    if reached:
        found.append(f"the internal service was reached: {reached[:3]}")
    found += _secret_leaks(lenta, lenta.list_feeds())
    found += [f"the hostile server failed (a bug of the test): {error}" for error in hostile.errors[errors_before:]]
    assert not found, _report(f"{endpoint.name} ({endpoint.doc}):", {endpoint.name: found})


def test_the_catalogue_covers_every_class() -> None:
    groups = {endpoint.group for endpoint in CATALOGUE}
    assert len(CATALOGUE) >= 60
    assert groups >= {
        "headers",
        "status",
        "bombs",
        "entities",
        "slow",
        "connection",
        "redirects",
        "types",
        "counts",
        "nesting",
        "text",
        "numbers",
        "credentials",
        "urls",
    }
    assert json.dumps(sorted(e.name for e in CATALOGUE))  # names are plain strings
