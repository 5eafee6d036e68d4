"""Tags and rules in the reader (issue 11), on SQLite and PostgreSQL:
rules act on new items as a refresh writes them, preview and run on what
is there, refuse slow or malformed patterns, and call signed webhooks
with retries; tags and starred items outlive retention; nothing crosses
from one user to another."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from httpserver import LocalServer
from httpserver import Reply
from test_search import DAY
from test_search import RSS
from test_search import rss

from lenta import rules as rule_logic
from lenta.config import load_settings
from lenta.core import Lenta
from lenta.core import make_lenta
from lenta.exceptions import InvalidInputError
from lenta.exceptions import NotFollowingError
from lenta.reader import Reader
from lenta.storage import open_storage
from lenta.storage._rules import RETRY_AFTER

FIRST = [
    ("a-1", "Лента новостей", "<p>Мы запустили ленту.</p>", 1),
    ("a-2", "Weather", "<p>Rain tomorrow.</p>", 2),
]
LATER = [
    ("a-3", "Новые ленты", "<p>Ещё одна лента.</p>", 3),
    ("a-4", "Sports", "<p>Football results, price 42 EUR.</p>", 4),
    ("a-5", "Release 2.0", "<p>Our project is out.</p>", 5),
]


@pytest.fixture
def feeds() -> Iterator[LocalServer]:
    with LocalServer({"/news.xml": Reply(body=rss("News", FIRST), headers=RSS)}) as server:
        yield server


@pytest.fixture
def site(backend_url: str, tmp_path: Path) -> Iterator[Lenta]:
    settings = load_settings({}, db=backend_url, fetch_allow="127.0.0.1,::1", scheduler=False, host_interval=0.0)
    instance = make_lenta(settings)
    yield instance
    instance.close()


@pytest.fixture
def ann(site: Lenta, feeds: LocalServer) -> Reader:
    reader = site.reader(site.add_user("ann", "correct horse battery"))
    asyncio.run(reader.follow(feeds.url("/news.xml")))
    return reader


def later(site: Lenta, feeds: LocalServer) -> None:
    """The feed gains three items, and lenta refreshes it."""
    feeds.routes["/news.xml"] = Reply(body=rss("News", FIRST + LATER), headers=RSS)
    asyncio.run(site.refresh(all_feeds=True))


def by_guid(reader: Reader, view: str = "all", **scope: int) -> dict[str, bool]:
    """guid → read, of a view."""
    return {e.item.guid or "": e.read for e in reader.items(view, per_page=100, **scope).items}  # type: ignore[arg-type]


def test_rules_act_on_new_items_as_they_are_written(site: Lenta, feeds: LocalServer, ann: Reader) -> None:
    ann.save_rule(name="Ribbons", field="title", match="words", pattern="лента", action="read")
    ann.save_rule(name="Money", field="content", match="regex", pattern=r"\d+ (EUR|USD)", action="star")
    ann.save_rule(name="Releases", field="any", match="regex", pattern=r"release \d", action="tag", tag="releases")
    ann.save_rule(name="No sports", field="title", match="words", pattern="sports", action="hide")
    later(site, feeds)
    seen = by_guid(ann)
    assert seen == {"a-1": False, "a-2": False, "a-3": True, "a-5": False}  # a-4 hidden; a-3 read by its rule
    assert ann.unread_total() == 3 and ann.followed()[0].unread == 3
    assert {e.item.guid for e in ann.items("starred").items} == set()  # a-4 is starred but hidden
    release = next(e for e in ann.items("all", per_page=100).items if e.item.guid == "a-5")
    releases = next(t for t in ann.tags() if t.name == "releases")
    assert [e.item.guid for e in ann.items("all", tag_id=releases.id).items] == ["a-5"]
    assert [t.name for t in ann.tags_of(release.item.id)] == ["releases"]
    # The hidden item still opens on its own page: read (so no count shows it), starred by the other rule.
    feed_items = site.items_page(0, 50, feed_id=ann.followed()[0].feed_id).items
    hidden = ann.item(next(item.id for item in feed_items if item.guid == "a-4"))
    assert hidden.starred and hidden.read


def test_preview_then_run_on_existing_items(site: Lenta, feeds: LocalServer, ann: Reader) -> None:
    later(site, feeds)
    rule = ann.save_rule(name="Ribbons", field="any", match="words", pattern="ленты", action="read")
    preview = ann.preview_rule(rule.id)
    titles = sorted(effect.title or "" for effect in preview)
    assert titles == ["Лента новостей", "Новые ленты"] and all(effect.changed for effect in preview)
    assert ann.unread_total() == 5  # a preview changes nothing
    done = ann.run_rule(rule.id)
    assert len(done) == 2 and ann.unread_total() == 3
    assert all(not effect.changed for effect in ann.preview_rule(rule.id))  # nothing left to do


def test_bad_or_slow_patterns_are_refused_when_saved(ann: Reader) -> None:
    for pattern in ["(a+)+$", "(x+x+)+y", r"(\w+\s?)+$", "(unclosed", "x" * 501, "   "]:
        with pytest.raises(InvalidInputError):
            ann.save_rule(name="bad", field="title", match="regex", pattern=pattern, action="read")
    for field, match, action in [("body", "words", "read"), ("title", "glob", "read"), ("title", "words", "delete")]:
        with pytest.raises(InvalidInputError):
            ann.save_rule(name="bad", field=field, match=match, pattern="x", action=action)
    with pytest.raises(InvalidInputError):
        ann.save_rule(name="no tag", field="title", match="words", pattern="x", action="tag")
    with pytest.raises(InvalidInputError):
        ann.save_rule(name="no url", field="title", match="words", pattern="x", action="notify")
    assert ann.rules() == []


def test_a_slow_match_at_run_time_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    # A pattern that slipped past the probes still stops at RUN_SECONDS and counts as no match.
    monkeypatch.setattr(rule_logic, "_probes", lambda pattern: ())
    matcher = rule_logic.compile_rule("regex", "(q+q+)+z")
    started = time.monotonic()
    assert matcher("q" * 64) is False
    assert time.monotonic() - started < 2.0


def test_words_match_every_form(ann: Reader) -> None:
    matcher = rule_logic.compile_rule("words", "лента новость")
    assert matcher("Ленты новостей")
    assert not matcher("Лента погоды")


def test_notify_calls_a_signed_webhook_and_retries(site: Lenta, feeds: LocalServer, ann: Reader) -> None:
    feeds.routes["/hook"] = Reply(status=500)
    rule = ann.save_rule(
        name="Ping", field="title", match="words", pattern="release", action="notify", webhook_url=feeds.url("/hook")
    )
    secret = ann.rule_secret(rule.id)
    assert secret and len(secret) >= 32
    later(site, feeds)
    first = asyncio.run(site.deliver_notifications())
    assert (first.delivered, first.failed) == (0, 1)
    log = ann.rule_deliveries(rule.id)
    assert [(d.state, d.attempts, d.http_status) for d in log] == [("pending", 1, 500)]
    assert asyncio.run(site.deliver_notifications()).failed == 0  # not due again yet
    # The receiver comes back; the retry is due a minute later.
    feeds.routes["/hook"] = Reply(status=204)
    clock = site.clock
    site.clock = lambda: clock() + timedelta(minutes=2)
    try:
        second = asyncio.run(site.deliver_notifications())
    finally:
        site.clock = clock
    assert (second.delivered, second.failed) == (1, 0)
    assert [(d.state, d.attempts) for d in ann.rule_deliveries(rule.id)] == [("delivered", 2)]
    call = [r for r in feeds.requests if r.path == "/hook"][-1]
    assert call.method == "POST"
    expected = "sha256=" + hmac.new(secret.encode(), call.body, hashlib.sha256).hexdigest()
    assert call.headers["x-lenta-signature"] == expected
    payload = json.loads(parse_qs(call.body.decode())["payload"][0])
    assert payload["item"]["title"] == "Release 2.0" and payload["rule"]["name"] == "Ping"


def test_a_webhook_to_a_private_address_is_refused_and_logged(site: Lenta, feeds: LocalServer, ann: Reader) -> None:
    rule = ann.save_rule(
        name="Inside", field="title", match="words", pattern="release", action="notify", webhook_url="http://10.255.255.1/hook"
    )
    later(site, feeds)
    assert asyncio.run(site.deliver_notifications()).failed == 1
    [entry] = ann.rule_deliveries(rule.id)
    assert entry.state == "pending" and entry.http_status is None and "10.255.255.1" in (entry.error or "")


def test_tags_and_stars_outlive_retention(site: Lenta, feeds: LocalServer, ann: Reader, backend_url: str) -> None:
    later(site, feeds)
    entries = {e.item.guid: e.item.id for e in ann.items("all", per_page=100).items}
    keep = ann.add_tag("keep")
    ann.tag_item(entries["a-1"], keep.id)
    ann.star(entries["a-2"])
    storage = open_storage(backend_url)
    try:
        deleted = storage.items.delete_older_than(DAY + timedelta(days=4, hours=12))
    finally:
        storage.close()
    assert deleted == 2  # a-3 and a-4; a-1 tagged and a-2 starred stay
    assert set(by_guid(ann)) == {"a-1", "a-2", "a-5"}


def test_tags_and_rules_are_the_users_own(site: Lenta, feeds: LocalServer, ann: Reader) -> None:
    bob = site.reader(site.add_user("bob", "correct horse battery"))
    tag = ann.add_tag("mine")
    rule = ann.save_rule(name="r", field="title", match="words", pattern="weather", action="read")
    item_id = ann.items("all").items[0].item.id
    subscription = ann.followed()[0]
    for attempt in (
        lambda: bob.rule(rule.id),
        lambda: bob.delete_rule(rule.id),
        lambda: bob.preview_rule(rule.id),
        lambda: bob.rule_deliveries(rule.id),
        lambda: bob.rename_tag(tag.id, "x"),
        lambda: bob.delete_tag(tag.id),
        lambda: bob.items("all", tag_id=tag.id),
        lambda: bob.tag_item(item_id, tag.id),
        lambda: bob.save_rule(
            name="r", field="title", match="words", pattern="x", action="read", subscription_id=subscription.id
        ),
        lambda: bob.save_rule(name="r", field="title", match="words", pattern="x", action="read", rule_id=rule.id),
    ):
        with pytest.raises(NotFollowingError):
            attempt()
    bob_tag = bob.add_tag("mine")  # the same name, his own
    with pytest.raises(NotFollowingError):
        ann.tag_item(item_id, bob_tag.id)
    assert [r.id for r in ann.rules()] == [rule.id] and bob.rules() == []
    with pytest.raises(InvalidInputError):
        ann.rename_tag(ann.add_tag("other").id, "MINE")  # names are unique per user, case aside


def test_a_webhook_that_keeps_failing_is_tried_six_times_then_given_up(site: Lenta, feeds: LocalServer, ann: Reader) -> None:
    feeds.routes["/hook"] = Reply(status=503)
    rule = ann.save_rule(
        name="Ping", field="title", match="words", pattern="release", action="notify", webhook_url=feeds.url("/hook")
    )
    later(site, feeds)
    clock = site.clock
    elapsed = timedelta()
    try:
        for wait in (timedelta(), *RETRY_AFTER):
            elapsed += wait
            site.clock = lambda at=elapsed: clock() + at  # type: ignore[misc]
            assert asyncio.run(site.deliver_notifications()).failed == 1
        site.clock = lambda: clock() + elapsed + timedelta(days=1)
        assert asyncio.run(site.deliver_notifications()).failed == 0  # given up: not tried again
    finally:
        site.clock = clock
    [entry] = ann.rule_deliveries(rule.id)
    assert (entry.state, entry.attempts, entry.http_status) == ("failed", 6, 503)
