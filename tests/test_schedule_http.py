"""Every schedule input, end to end: a real server sends the feed hints and
headers, lenta refreshes, and the stored next check is where it should be
(regular intervals carry ±5% jitter, error backoff ±20%)."""

from __future__ import annotations

import asyncio
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from email.utils import format_datetime

import pytest
from httpserver import LocalServer
from httpserver import Reply

from lenta.core import Lenta
from lenta.types import Feed

HOUR = timedelta(hours=1)


def rss(channel_extra: str = "") -> bytes:
    return (
        '<?xml version="1.0"?><rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">'
        f"<channel><title>t</title><link>https://example.com/</link>{channel_extra}"
        "<item><guid>1</guid><title>one</title></item></channel></rss>"
    ).encode()


def refreshed(lenta: Lenta, reply: Reply, *, refresh: int | None = None, times: int = 1) -> Feed:
    with LocalServer({"/feed": reply}) as server:
        feed = asyncio.run(lenta.add_feed(server.url("/feed"), refresh=refresh, discover=False))
        for _ in range(times):
            asyncio.run(lenta.refresh([feed.id]))
    return lenta.get_feed(feed.id)


def wait_of(feed: Feed) -> timedelta:
    assert feed.next_check_at is not None and feed.checked_at is not None
    return feed.next_check_at - feed.checked_at


def about(expected: timedelta, spread: float = 0.05) -> tuple[timedelta, timedelta]:
    return expected * (1 - spread) - timedelta(seconds=1), expected * (1 + spread) + timedelta(seconds=1)


def assert_about(actual: timedelta, expected: timedelta, spread: float = 0.05) -> None:
    low, high = about(expected, spread)
    assert low <= actual <= high, (actual, expected)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("<ttl>180</ttl>", 3 * HOUR),
        ("<ttl>14400</ttl>", 24 * HOUR),  # ten days: clamped to one
        ("<sy:updatePeriod>daily</sy:updatePeriod><sy:updateFrequency>4</sy:updateFrequency>", 6 * HOUR),
        ("<sy:updatePeriod>weekly</sy:updatePeriod>", 24 * HOUR),  # clamped
        ("", HOUR),  # nothing said: the default adaptive interval
    ],
)
def test_feed_hints(lenta: Lenta, extra: str, expected: timedelta) -> None:
    feed = refreshed(lenta, Reply(body=rss(extra), headers={"Content-Type": "application/rss+xml"}))
    assert feed.ttl_minutes is not None or "ttl" not in extra
    assert_about(wait_of(feed), expected)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Cache-Control": "public, max-age=7200"}, 2 * HOUR),
        ({"Cache-Control": "max-age=9999999"}, 24 * HOUR),  # clamped
        ({"Cache-Control": "no-cache"}, HOUR),
    ],
)
def test_cache_control(lenta: Lenta, headers: dict[str, str], expected: timedelta) -> None:
    feed = refreshed(lenta, Reply(body=rss(), headers=headers))
    assert_about(wait_of(feed), expected)


def test_expires_is_measured_against_the_servers_date(lenta: Lenta) -> None:
    server_now = datetime.now(UTC) - timedelta(days=3)  # a server whose clock is wrong
    headers = {"Date": format_datetime(server_now, usegmt=True), "Expires": format_datetime(server_now + 5 * HOUR, usegmt=True)}
    feed = refreshed(lenta, Reply(body=rss(), headers=headers))
    assert_about(wait_of(feed), 5 * HOUR)


def test_cache_headers_count_on_304_too(lenta: Lenta) -> None:
    reply = Reply(body=rss("<ttl>120</ttl>"), etag='"1"', headers={"Cache-Control": "max-age=10800"})
    feed = refreshed(lenta, reply, times=2)
    assert feed.http_status == 304
    assert_about(wait_of(feed), 3 * HOUR)


def test_hints_do_not_shorten_or_override_an_admin_interval(lenta: Lenta) -> None:
    feed = refreshed(lenta, Reply(body=rss("<ttl>600</ttl>")), refresh=900)
    assert_about(wait_of(feed), timedelta(minutes=15))


def test_skip_hours(lenta: Lenta) -> None:
    now = datetime.now(UTC)
    first = (now + HOUR).replace(minute=0, second=0, microsecond=0)
    skipped = [(first + k * HOUR).hour for k in (-1, 0, 1, 2)]
    extra = "<skipHours>" + "".join(f"<hour>{h}</hour>" for h in skipped) + "</skipHours>"
    feed = refreshed(lenta, Reply(body=rss(extra)), refresh=3600)
    assert feed.skip_hours == frozenset(skipped)
    assert feed.next_check_at == first + 3 * HOUR


def test_skip_days(lenta: Lenta) -> None:
    now = datetime.now(UTC)
    names = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    target = now + timedelta(days=1)
    days = {names[(target + timedelta(hours=h)).weekday()] for h in (-2, 0, 2)}
    extra = "<skipDays>" + "".join(f"<day>{d}</day>" for d in sorted(days)) + "</skipDays>"
    feed = refreshed(lenta, Reply(body=rss(extra)), refresh=86400)
    assert feed.next_check_at is not None
    assert names[feed.next_check_at.weekday()] not in days
    assert (feed.next_check_at.hour, feed.next_check_at.minute) == (0, 0)  # the first hour of the first allowed day
    assert timedelta(hours=20) < wait_of(feed) < timedelta(days=4)


@pytest.mark.parametrize("status", [503, 429])
def test_retry_after_seconds(lenta: Lenta, status: int) -> None:
    feed = refreshed(lenta, Reply(status=status, body=b"busy", headers={"Retry-After": "7200"}))
    assert feed.error_kind == ("http_5xx" if status == 503 else "http_4xx")
    assert_about(wait_of(feed), 2 * HOUR, spread=0.0)


def test_retry_after_http_date(lenta: Lenta) -> None:
    server_now = datetime.now(UTC)
    headers = {
        "Date": format_datetime(server_now, usegmt=True),
        "Retry-After": format_datetime(server_now + 3 * HOUR, usegmt=True),
    }
    feed = refreshed(lenta, Reply(status=429, body=b"slow down", headers=headers))
    assert_about(wait_of(feed), 3 * HOUR, spread=0.01)


def test_retry_after_is_clamped_to_a_day(lenta: Lenta) -> None:
    feed = refreshed(lenta, Reply(status=503, body=b"", headers={"Retry-After": str(30 * 86400)}))
    assert_about(wait_of(feed), 24 * HOUR, spread=0.0)


def test_backoff_doubles_with_each_failure(lenta: Lenta) -> None:
    waits = []
    with LocalServer({"/feed": Reply(status=500, body=b"oops")}) as server:
        feed = asyncio.run(lenta.add_feed(server.url("/feed"), discover=False))
        for _ in range(4):
            asyncio.run(lenta.refresh([feed.id]))
            waits.append(wait_of(lenta.get_feed(feed.id)))
    for wait, expected in zip(waits, [15, 30, 60, 120]):
        assert_about(wait, timedelta(minutes=expected), spread=0.2)
    assert lenta.get_feed(feed.id).error_count == 4


def test_a_feed_set_to_never_is_not_scheduled(lenta: Lenta) -> None:
    feed = refreshed(lenta, Reply(body=rss()), refresh=0)
    assert feed.next_check_at is None
    assert feed.checked_at is not None  # an explicit refresh still works
