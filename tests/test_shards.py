"""A big round on every core: which process takes which feeds, the fetch
order, the forked shard processes, and ``lenta refresh`` doing it end to end
against a real server (as a real process, so the fork happens where it
does in production: before any other thread exists)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from httpserver import LocalServer
from httpserver import Reply

from lenta.exceptions import StorageError
from lenta.types import Feed
from lenta.types import FetchOutcome
from lenta.types import RefreshSummary
from lenta.update import FeedOutcome
from lenta.update.order import Shard
from lenta.update.order import fetch_order
from lenta.update.order import plan_shards
from lenta.update.shards import run_shards

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def feed(feed_id: int, url: str) -> Feed:
    return Feed(
        id=feed_id,
        url=url,
        title=url,
        custom_title=None,
        feed_title=None,
        site_url=None,
        description=None,
        image_url=None,
        format=None,
        refresh=None,
        created_at=NOW,
        checked_at=None,
        next_check_at=None,
        modified_at=None,
        http_status=None,
        error=None,
        error_kind=None,
        error_count=0,
        etag=None,
        last_modified=None,
        hub_url=None,
        gone=False,
    )


def feeds_on(hosts: dict[str, int]) -> list[Feed]:
    """``count`` feeds on each host, numbered in order."""
    made: list[Feed] = []
    for host, count in hosts.items():
        for n in range(count):
            made.append(feed(len(made) + 1, f"https://{host}/feed{n}.xml"))
    return made


def host_of(item: Feed) -> str:
    return urlsplit(item.url).hostname or ""


# --- the pure decisions --------------------------------------------------------------


def test_fetch_order_deals_hosts_like_cards() -> None:
    feeds = feeds_on({"a.example": 3, "b.example": 1, "c.example": 2})
    assert [f.url for f in fetch_order(feeds)] == [
        "https://a.example/feed0.xml",
        "https://b.example/feed0.xml",
        "https://c.example/feed0.xml",
        "https://a.example/feed1.xml",
        "https://c.example/feed1.xml",
        "https://a.example/feed2.xml",
    ]


def test_fetch_order_treats_names_as_hosts_whatever_their_case() -> None:
    feeds = [feed(1, "https://A.example/1"), feed(2, "https://a.example./2"), feed(3, "https://b.example/3")]
    assert [f.id for f in fetch_order(feeds)] == [1, 3, 2]


def whole(feeds: list[Feed], count: int) -> list[list[Feed]]:
    """The shards with lenta's default politeness: hosts stay whole."""
    return [shard.feeds for shard in plan_shards(feeds, count, per_host=2, interval=0.1)]


def test_each_host_goes_whole_to_one_shard() -> None:
    feeds = feeds_on({f"h{n}.example": 1 + n % 5 for n in range(40)})
    shards = whole(feeds, 3)
    assert len(shards) == 3
    owners = {host_of(f): index for index, shard in enumerate(shards) for f in shard}
    for index, shard in enumerate(shards):
        assert all(owners[host_of(f)] == index for f in shard)
    assert sorted(f.id for shard in shards for f in shard) == [f.id for f in feeds]


def test_shards_are_balanced_within_one_host() -> None:
    feeds = feeds_on({"big.example": 30, **{f"h{n}.example": 3 for n in range(30)}})
    sizes = sorted(len(shard) for shard in whole(feeds, 2))
    assert sizes == [60, 60]
    uneven = feeds_on({"big.example": 50, "small.example": 1})
    assert sorted(len(shard) for shard in whole(uneven, 2)) == [1, 50]


def test_never_more_shards_than_hosts_and_feeds_keep_their_order() -> None:
    feeds = feeds_on({"a.example": 4, "b.example": 2})
    shards = whole(feeds, 8)
    assert [[f.id for f in shard] for shard in shards] == [[1, 2, 3, 4], [5, 6]]
    assert plan_shards([], 4, per_host=2, interval=0.1) == []


def test_a_host_bigger_than_a_fair_share_is_split_with_its_connections() -> None:
    # Every feed on one host, its requests unspaced: each process takes
    # half, and half of the host's connections, so that together they
    # never open more than LENTA_PER_HOST.
    feeds = feeds_on({"one.example": 101})
    shards = plan_shards(feeds, 2, per_host=150, interval=0)
    assert [len(shard.feeds) for shard in shards] == [51, 50]
    assert [shard.host_limits for shard in shards] == [{"one.example": 75}, {"one.example": 75}]
    assert [f.id for shard in shards for f in shard.feeds] == [f.id for f in feeds]  # runs, in order
    odd = plan_shards(feeds, 4, per_host=3, interval=0)
    assert [len(shard.feeds) for shard in odd] == [34, 34, 33]  # no more parts than connections
    assert [shard.host_limits["one.example"] for shard in odd] == [1, 1, 1]
    assert sum(shard.host_limits["one.example"] for shard in plan_shards(feeds, 2, per_host=3, interval=0)) == 3


def test_a_big_host_stays_whole_when_one_process_must_space_its_requests() -> None:
    feeds = feeds_on({"one.example": 100})
    assert [len(shard.feeds) for shard in plan_shards(feeds, 2, per_host=150, interval=0.1)] == [100]
    assert [len(shard.feeds) for shard in plan_shards(feeds, 2, per_host=1, interval=0)] == [100]


def test_a_big_host_is_split_and_the_small_ones_fill_around_it() -> None:
    feeds = feeds_on({"big.example": 80, **{f"h{n}.example": 2 for n in range(10)}})
    shards = plan_shards(feeds, 2, per_host=4, interval=0)
    assert sorted(len(shard.feeds) for shard in shards) == [50, 50]
    for shard in shards:
        assert shard.host_limits == {"big.example": 2}
        small = [f for f in shard.feeds if host_of(f) != "big.example"]
        assert all(host_of(f) not in {host_of(g) for g in other.feeds} for f in small for other in shards if other is not shard)


# --- forked shard processes -----------------------------------------------------------


def summary_of(ok: int, *notes: tuple[str, str]) -> RefreshSummary:
    return RefreshSummary(ok=ok, failures=notes)


def shards_of(*groups: list[Feed]) -> list[Shard]:
    return [Shard(list(group)) for group in groups]


def outcome(item: Feed) -> FeedOutcome:
    return FeedOutcome(item.id, item.url, FetchOutcome.OK)


def test_each_shard_runs_in_a_process_of_its_own_the_first_in_the_callers() -> None:
    shards = shards_of(feeds_on({"a.example": 2}), feeds_on({"b.example": 3}), feeds_on({"c.example": 4}))
    heard: list[FeedOutcome] = []

    async def run(shard: Shard, report: Callable[[FeedOutcome], None]) -> RefreshSummary:
        for item in shard.feeds:
            report(outcome(item))
        return summary_of(len(shard.feeds), (str(os.getpid()), host_of(shard.feeds[0])))

    summary = asyncio.run(run_shards(shards, run, on_outcome=heard.append))
    where = {host: int(pid) for pid, host in summary.failures}
    assert summary.ok == 9
    assert where["a.example"] == os.getpid()
    assert len({where["b.example"], where["c.example"], os.getpid()}) == 3
    assert sorted(heard, key=lambda o: (o.url, o.feed_id)) == sorted(
        (outcome(item) for shard in shards for item in shard.feeds), key=lambda o: (o.url, o.feed_id)
    )


def test_after_fork_runs_in_each_child_only() -> None:
    async def run(shard: Shard, report: Callable[[FeedOutcome], None]) -> RefreshSummary:
        return summary_of(1, ("forked", os.environ.get("LENTA_TEST_FORKED", "no")))

    def after_fork() -> None:
        os.environ["LENTA_TEST_FORKED"] = "yes"

    summary = asyncio.run(run_shards(shards_of(*[feeds_on({"a.example": 1})] * 3), run, after_fork=after_fork))
    assert [note for _, note in summary.failures] == ["no", "yes", "yes"]  # the first shard ran here
    assert "LENTA_TEST_FORKED" not in os.environ


def test_an_error_in_a_shard_is_raised_once_all_have_ended() -> None:
    async def run(shard: Shard, report: Callable[[FeedOutcome], None]) -> RefreshSummary:
        if host_of(shard.feeds[0]) == "bad.example":
            raise StorageError("Database error: {error}", error="disk I/O error")
        return summary_of(len(shard.feeds))

    with pytest.raises(StorageError) as info:
        asyncio.run(run_shards(shards_of(feeds_on({"good.example": 2}), feeds_on({"bad.example": 1})), run))
    assert "disk I/O error" in str(info.value)


def test_an_error_in_the_callers_own_shard_waits_for_the_children(tmp_path: Path) -> None:
    finished = tmp_path / "child-finished"

    async def run(shard: Shard, report: Callable[[FeedOutcome], None]) -> RefreshSummary:
        if host_of(shard.feeds[0]) == "bad.example":
            raise StorageError("Database error: {error}", error="disk I/O error")
        await asyncio.sleep(0.2)
        finished.write_text("done")
        return summary_of(len(shard.feeds))

    with pytest.raises(StorageError):
        asyncio.run(run_shards(shards_of(feeds_on({"bad.example": 1}), feeds_on({"good.example": 2})), run))
    assert finished.read_text() == "done"  # the child was not cut short


def test_a_shard_killed_midway_counts_what_it_left_as_failed() -> None:
    async def run(shard: Shard, report: Callable[[FeedOutcome], None]) -> RefreshSummary:
        if host_of(shard.feeds[0]) == "doomed.example":
            report(outcome(shard.feeds[0]))
            report(outcome(shard.feeds[1]))
            os.kill(os.getpid(), signal.SIGKILL)
        return summary_of(len(shard.feeds))

    heard: list[FeedOutcome] = []
    summary = asyncio.run(
        run_shards(shards_of(feeds_on({"fine.example": 3}), feeds_on({"doomed.example": 5})), run, on_outcome=heard.append)
    )
    assert summary.ok == 3
    assert summary.failed == 3
    ((where, message),) = summary.failures
    assert where.startswith("refresher process ") and "signal 9" in message and "3 of its 5 feeds" in message
    assert len(heard) == 2


# --- lenta refresh, end to end -------------------------------------------------------


def rss(host: str, n: int) -> bytes:
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{host} {n}</title>'
        f"<link>https://{host}/</link><description>d</description>"
        f"<item><title>{host} {n} one</title><guid>{host}-{n}-1</guid><description>x</description></item>"
        f"<item><title>{host} {n} two</title><guid>{host}-{n}-2</guid><description>y</description></item>"
        "</channel></rss>"
    ).encode()


def lenta_cli(db: Path | str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "LENTA_DB": str(db), "LENTA_FETCH_ALLOW": "127.0.0.1", "LENTA_HOST_INTERVAL": "0", **env}
    return subprocess.run(
        [sys.executable, "-m", "lenta", *args], env=environ, capture_output=True, text=True, timeout=120, check=False
    )


def subscribe(db: Path | str, folder: Path, urls: list[str]) -> None:
    opml = folder / "feeds.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><body>'
        + "".join(f'<outline type="rss" text="f" xmlUrl="{url}"/>' for url in urls)
        + "</body></opml>"
    )
    assert lenta_cli(db, "import", "--no-fetch", str(opml)).returncode == 0  # due, fetched by the test's refresh


def test_lenta_refresh_shares_a_big_round_among_processes(tmp_path: Path, backend_url: str) -> None:
    # backend_url (conftest): SQLite, and PostgreSQL when configured; each
    # shard process opens its own connections to it.
    hosts = [f"s{n}.localhost" for n in range(8)]
    routes = {
        f"/{host}/{n}.xml": Reply(
            body=rss(host, n), headers={"Content-Type": "application/rss+xml"}, etag=f'"{host}-{n}"', delay=0.05
        )
        for host in hosts
        for n in range(4)
    }
    with LocalServer(routes) as server:
        db = backend_url
        subscribe(db, tmp_path, [server.url(path, host=path.split("/")[1]) for path in routes])
        # Each process puts one request on the wire at a time: more than one
        # at the server at once means more than one process fetched.
        first = lenta_cli(db, "refresh", LENTA_REFRESH_PROCESSES="3", LENTA_CONCURRENCY="1", LENTA_PER_HOST="1")
        assert first.returncode == 0, first.stderr
        assert first.stdout.strip() == "32 feeds: 32 ok, 0 not modified, 0 failed; 64 new items, 0 updated"
        assert 2 <= server.peak_in_flight <= 3
        # Each host was fetched by one process only, over one kept-alive
        # connection: its limit held however many processes ran.
        for host in hosts:
            mine = [request for request in server.requests if request.headers["host"].startswith(host + ":")]
            assert len(mine) == 4 and len({request.client for request in mine}) == 1
        again = lenta_cli(db, "refresh", "--all", LENTA_REFRESH_PROCESSES="3")
        assert again.stdout.strip() == "32 feeds: 0 ok, 32 not modified, 0 failed; 0 new items, 0 updated"
        listed = json.loads(lenta_cli(db, "list", "--json").stdout)
    assert sum(entry["items"] for entry in listed) == 64
    assert all(entry["error"] is None for entry in listed)


def test_lenta_refresh_splits_one_big_host_and_its_connections(tmp_path: Path) -> None:
    # Every feed on one host whose requests need no spacing: both processes
    # fetch from it, each with half of its connections.
    routes = {
        f"/{n}.xml": Reply(body=rss("one.localhost", n), headers={"Content-Type": "application/rss+xml"}, delay=0.05)
        for n in range(40)
    }
    with LocalServer(routes) as server:
        db = tmp_path / "lenta.sqlite"
        subscribe(db, tmp_path, [server.url(path, host="one.localhost") for path in routes])
        done = lenta_cli(db, "refresh", LENTA_REFRESH_PROCESSES="2", LENTA_PER_HOST="4", LENTA_CONCURRENCY="10")
        assert done.stdout.strip() == "40 feeds: 40 ok, 0 not modified, 0 failed; 80 new items, 0 updated", done.stderr
        assert 2 < server.peak_in_flight <= 4  # more than one process's share, never more than the host's limit


def test_one_process_when_asked(tmp_path: Path) -> None:
    routes = {
        f"/{n}.xml": Reply(body=rss("one.localhost", n), headers={"Content-Type": "application/rss+xml"}, delay=0.05)
        for n in range(20)
    }
    with LocalServer(routes) as server:
        db = tmp_path / "lenta.sqlite"
        subscribe(db, tmp_path, [server.url(path, host=f"h{path[1:-4]}.localhost") for path in routes])
        done = lenta_cli(db, "refresh", LENTA_REFRESH_PROCESSES="1", LENTA_CONCURRENCY="1")
        assert done.stdout.strip() == "20 feeds: 20 ok, 0 not modified, 0 failed; 40 new items, 0 updated"
        assert server.peak_in_flight == 1  # one process, one request on the wire
