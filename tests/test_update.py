"""Refreshing feeds from a real HTTP server: conditional GET, item identity
and updates in place, retention, and per-feed errors that leave the other
feeds alone."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from email.utils import format_datetime

import pytest
from httpserver import LocalServer
from httpserver import RecordedRequest
from httpserver import Reply
from httpserver import free_port

from lenta.config import Settings
from lenta.core import Lenta
from lenta.update import RefreshProgress

RSS = "application/rss+xml; charset=utf-8"


def rss(*items: str, title: str = "Test feed") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>https://example.com/</link><description>d</description>{''.join(items)}</channel></rss>"
    ).encode()


def item(
    title: str, *, guid: str | None = None, link: str | None = None, date: datetime | None = None, body: str = "body"
) -> str:
    parts = [f"<title>{title}</title>", f"<description>&lt;p&gt;{body}&lt;/p&gt;</description>"]
    if guid is not None:
        parts.append(f"<guid>{guid}</guid>")
    if link is not None:
        parts.append(f"<link>{link}</link>")
    if date is not None:
        parts.append(f"<pubDate>{format_datetime(date, usegmt=True)}</pubDate>")
    return "<item>" + "".join(parts) + "</item>"


class Mutable:
    """A route whose reply a test can swap between refreshes."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply

    def __call__(self, request: RecordedRequest) -> Reply:
        return self.reply


def refresh(lenta: Lenta, *ids: int) -> object:
    return asyncio.run(lenta.refresh(ids, all_feeds=not ids))


def add(lenta: Lenta, url: str) -> int:
    return asyncio.run(lenta.add_feed(url)).id


def titles(lenta: Lenta) -> list[str | None]:
    return [i.title for i in lenta.items_page(0, 100).items]


def test_second_refresh_sends_validators_and_stores_nothing_new(lenta: Lenta) -> None:
    feed = Reply(
        body=rss(item("One", guid="1"), item("Two", guid="2")),
        headers={"Content-Type": RSS},
        etag='"v1"',
        last_modified="Wed, 01 Oct 2025 10:00:00 GMT",
    )
    with LocalServer({"/feed": feed}) as server:
        feed_id = add(lenta, server.url("/feed"))
        first = refresh(lenta)
        stored = lenta.get_feed(feed_id)
        second = refresh(lenta)
        feed_requests = [r for r in server.requests if r.path == "/feed"]
    assert first.new_items == 2  # type: ignore[attr-defined]
    assert (stored.etag, stored.last_modified) == ('"v1"', "Wed, 01 Oct 2025 10:00:00 GMT")
    assert second.not_modified == 1 and second.new_items == 0  # type: ignore[attr-defined]
    last = feed_requests[-1].headers
    assert last["if-none-match"] == '"v1"'
    assert last["if-modified-since"] == "Wed, 01 Oct 2025 10:00:00 GMT"
    assert lenta.get_feed(feed_id).http_status == 304
    assert lenta.items_page(0, 1).total == 2


def test_progress_hears_the_round_start_and_every_feed(lenta: Lenta) -> None:
    routes = {f"/f{n}": Reply(body=rss(item(f"Item {n}", guid=str(n))), headers={"Content-Type": RSS}) for n in range(3)}
    heard: list[RefreshProgress] = []
    with LocalServer(routes) as server:
        ids = [add(lenta, server.url(path)) for path in routes]
        summary = asyncio.run(lenta.refresh(all_feeds=True, progress=heard.append))
    assert summary.ok == 3
    assert heard[0] == RefreshProgress(total=3, done=0)
    assert [(step.total, step.done) for step in heard] == [(3, 0), (3, 1), (3, 2), (3, 3)]
    assert sorted(step.outcome.feed_id for step in heard if step.outcome is not None) == sorted(ids)


def test_items_are_identified_by_guid_then_link_then_content(lenta: Lenta) -> None:
    route = Mutable(
        Reply(
            body=rss(item("A", guid="g1", link="https://e.x/1"), item("B", link="https://e.x/2"), item("C")),
            headers={"Content-Type": RSS},
        )
    )
    with LocalServer({"/feed": route}) as server:
        add(lenta, server.url("/feed"))
        refresh(lenta)
        keys = sorted(i.key for i in lenta.items_page(0, 10).items)
        assert keys[:2] == ["g1", "https://e.x/2"] and keys[2].startswith("sha256:")
        # The same items again (the guid item with a new link) add nothing.
        route.reply = Reply(
            body=rss(item("A", guid="g1", link="https://e.x/moved"), item("B", link="https://e.x/2"), item("C")),
            headers={"Content-Type": RSS},
        )
        summary = refresh(lenta)
    assert summary.new_items == 0 and summary.updated_items == 1  # type: ignore[attr-defined]
    assert lenta.items_page(0, 1).total == 3


def test_an_item_changed_upstream_is_updated_in_place(lenta: Lenta) -> None:
    date = datetime(2025, 10, 1, tzinfo=UTC)
    route = Mutable(Reply(body=rss(item("Draft title", guid="p1", date=date, body="first")), headers={"Content-Type": RSS}))
    with LocalServer({"/feed": route}) as server:
        add(lenta, server.url("/feed"))
        refresh(lenta)
        (before,) = lenta.items_page(0, 10).items
        route.reply = Reply(body=rss(item("Final title", guid="p1", date=date, body="second")), headers={"Content-Type": RSS})
        summary = refresh(lenta)
    (after,) = lenta.items_page(0, 10).items
    assert summary.updated_items == 1 and summary.new_items == 0  # type: ignore[attr-defined]
    assert after.id == before.id
    assert (after.title, after.content) == ("Final title", "<p>second</p>")


def test_duplicate_guids_in_one_document_are_stored_once(lenta: Lenta) -> None:
    body = rss(item("First", guid="same"), item("Second", guid="same"))
    with LocalServer({"/feed": Reply(body=body, headers={"Content-Type": RSS})}) as server:
        add(lenta, server.url("/feed"))
        refresh(lenta)
    assert titles(lenta) == ["First"]


def test_retention_discards_items_older_than_the_setting(lenta: Lenta) -> None:
    now = datetime.now(UTC)
    body = rss(item("Fresh", guid="1", date=now - timedelta(hours=1)), item("Stale", guid="2", date=now - timedelta(days=30)))
    with LocalServer({"/feed": Reply(body=body, headers={"Content-Type": RSS})}) as server:
        add(lenta, server.url("/feed"))
        refresh(lenta)
        assert titles(lenta) == ["Fresh", "Stale"]
        lenta.save_site_settings({"discard_after": str(7 * 86400)})
        refresh(lenta)
        assert titles(lenta) == ["Fresh"]
        # And the stale item is not stored again by the next refresh.
        lenta.remove_items(lenta.list_feeds()[0].id)
        refresh(lenta)
    assert titles(lenta) == ["Fresh"]


def test_retention_off_by_default_keeps_everything(lenta: Lenta) -> None:
    old = datetime(2001, 1, 1, tzinfo=UTC)
    with LocalServer({"/feed": Reply(body=rss(item("Ancient", guid="1", date=old)), headers={"Content-Type": RSS})}) as server:
        add(lenta, server.url("/feed"))
        refresh(lenta)
        refresh(lenta)
    assert titles(lenta) == ["Ancient"]
    assert lenta.site_settings().discard_after == 0


BadFeed = Callable[[LocalServer], str]


@pytest.mark.parametrize(
    ("name", "make_url", "kind", "message"),
    [
        ("unreachable", lambda s: f"http://127.0.0.1:{free_port()}/feed", "refused", "refused"),
        ("404", lambda s: s.url("/missing"), "http_4xx", "404"),
        ("html", lambda s: s.url("/page"), "not_a_feed", "not a feed"),
        ("malformed", lambda s: s.url("/broken"), "parse", "invalid at line 1"),
    ],
)
def test_a_bad_feed_stores_a_readable_error_and_the_others_refresh(
    lenta: Lenta, name: str, make_url: BadFeed, kind: str, message: str
) -> None:
    routes = {
        "/good": Reply(body=rss(item("Good news", guid="1")), headers={"Content-Type": RSS}),
        "/page": Reply(
            body=b"<!doctype html><html><head><title>Hi</title></head><body><p>No feed here.</p></body></html>",
            headers={"Content-Type": "text/html; charset=utf-8"},
        ),
        "/broken": Reply(
            body=b'{"version": "https://jsonfeed.org/version/1.1", "items": [', headers={"Content-Type": "application/feed+json"}
        ),
    }
    with LocalServer(routes) as server:
        bad_id = add(lenta, make_url(server))
        good_id = add(lenta, server.url("/good"))
        summary = refresh(lenta)
    assert summary.ok == 1 and summary.failed == 1  # type: ignore[attr-defined]
    bad = lenta.get_feed(bad_id)
    assert bad.error_kind == kind
    assert bad.error and message.lower() in bad.error.lower()
    assert bad.error_count >= 1
    assert bad.next_check_at is not None and bad.next_check_at > bad.checked_at  # type: ignore[operator]
    assert lenta.get_feed(good_id).item_count == 1
    assert titles(lenta) == ["Good news"]


def test_an_error_clears_on_the_next_good_fetch(lenta: Lenta) -> None:
    route = Mutable(Reply(status=500, body=b"oops"))
    with LocalServer({"/feed": route}) as server:
        feed_id = add(lenta, server.url("/feed"))
        refresh(lenta)
        assert lenta.get_feed(feed_id).error_kind == "http_5xx"
        route.reply = Reply(body=rss(item("Back", guid="1")), headers={"Content-Type": RSS})
        refresh(lenta)
    feed = lenta.get_feed(feed_id)
    assert (feed.error, feed.error_kind, feed.error_count, feed.http_status) == (None, None, 0, 200)


def test_gone_feeds_stop_being_polled(lenta: Lenta) -> None:
    with LocalServer({"/feed": Reply(status=410, body=b"gone")}) as server:
        feed_id = add(lenta, server.url("/feed"))
        refresh(lenta)
    feed = lenta.get_feed(feed_id)
    assert feed.gone and feed.next_check_at is None and feed.error_kind == "gone"
    assert lenta.health().feeds_due == 0 and lenta.health().feeds_by_state["gone"] == 1


def test_permanent_redirect_moves_the_feed_once_confirmed(lenta: Lenta) -> None:
    body = rss(item("Moved", guid="1"))
    with LocalServer(
        {"/old": Reply(status=301, headers={"Location": "/new"}), "/new": Reply(body=body, headers={"Content-Type": RSS})}
    ) as server:
        feed_id = asyncio.run(lenta.add_feed(server.url("/old"), discover=False)).id
        refresh(lenta)
        assert lenta.get_feed(feed_id).url == server.url("/old")
        refresh(lenta)
        assert lenta.get_feed(feed_id).url == server.url("/new")


def test_autodiscovery_follows_a_page_to_its_feed(lenta: Lenta) -> None:
    page = (
        b'<html><head><link rel="alternate" type="application/rss+xml" href="/feed.xml" title="Feed">'
        b"</head><body>hi</body></html>"
    )
    with LocalServer(
        {
            "/": Reply(body=page, headers={"Content-Type": "text/html"}),
            "/feed.xml": Reply(body=rss(item("Found", guid="1")), headers={"Content-Type": RSS}),
        }
    ) as server:
        feed = asyncio.run(lenta.add_feed(server.url("/")))
        assert feed.url == server.url("/feed.xml")
        refresh(lenta)
    assert titles(lenta) == ["Found"]


def test_feed_html_is_sanitized_and_titles_are_plain_text(lenta: Lenta) -> None:
    evil = (
        "<item><title>&lt;b&gt;Bold&lt;/b&gt; title</title><guid>1</guid>"
        '<description>&lt;p onclick="x()"&gt;Hi&lt;script&gt;alert(1)&lt;/script&gt;'
        '&lt;a href="javascript:alert(1)"&gt;link&lt;/a&gt;&lt;img src="/a.png"&gt;&lt;/p&gt;</description></item>'
    )
    with LocalServer({"/feed": Reply(body=rss(evil), headers={"Content-Type": RSS})}) as server:
        add(lenta, server.url("/feed"))
        refresh(lenta)
    (stored,) = lenta.items_page(0, 10).items
    assert stored.title == "Bold title"
    assert stored.content is not None
    assert "script" not in stored.content and "onclick" not in stored.content and "javascript" not in stored.content
    assert f'src="{lenta.get_feed(stored.feed_id).url.rsplit("/", 1)[0]}/a.png"' in stored.content


def test_compressed_bodies_are_decoded_in_the_worker_with_the_cap(lenta: Lenta) -> None:
    import gzip as gzip_module

    big = rss(*(item(f"Item {n}", guid=str(n), body="x" * 2000) for n in range(200)))
    assert len(gzip_module.compress(big)) < 20_000 < len(big)
    with LocalServer({"/feed": Reply(body=big, headers={"Content-Type": RSS}, gzip=True)}) as server:
        feed_id = add(lenta, server.url("/feed"))
        refresh(lenta)
        assert lenta.get_feed(feed_id).item_count == 200
        # The same body, with a cap between its compressed and decoded sizes.
        lenta.settings = lenta.settings.replace(fetch_max_bytes=100_000)
        lenta.remove_items(feed_id)
        refresh(lenta)
    feed = lenta.get_feed(feed_id)
    assert feed.error_kind == "too_large" and "LENTA_FETCH_MAX_BYTES" in (feed.error or "")
    assert feed.item_count == 0


def test_lenta_errors_survive_pickling() -> None:
    import pickle

    from lenta.exceptions import FeedNotFoundError
    from lenta.exceptions import FetchError
    from lenta.exceptions import FetchErrorKind

    error = FetchError("the response is larger than {limit} bytes", kind=FetchErrorKind.TOO_LARGE, status=200, limit=5)
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy), copy.kind, copy.status, copy.message_id, copy.args_for_message) == (
        FetchError,
        "the response is larger than 5 bytes",
        FetchErrorKind.TOO_LARGE,
        200,
        "the response is larger than {limit} bytes",
        {"limit": 5},
    )
    missing = pickle.loads(pickle.dumps(FeedNotFoundError(7)))
    assert str(missing) == "No feed 7." and missing.feed == 7


def test_two_refreshers_never_fetch_the_same_due_feed(settings: Settings) -> None:
    import threading

    from lenta.core import make_lenta

    with LocalServer(
        {f"/f{n}": Reply(body=rss(item(f"Item {n}", guid=str(n))), headers={"Content-Type": RSS}, delay=0.05) for n in range(40)}
    ) as server:
        setup = make_lenta(settings)
        for n in range(40):
            asyncio.run(setup.add_feed(server.url(f"/f{n}"), discover=False))
        setup.close()
        results = []

        def refresher() -> None:
            own = make_lenta(settings)
            results.append(asyncio.run(own.refresh()))
            own.close()

        threads = [threading.Thread(target=refresher) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    fetched = sorted(r.path for r in server.requests)
    assert fetched == sorted(f"/f{n}" for n in range(40))  # each exactly once
    assert sum(r.ok for r in results) == 40
