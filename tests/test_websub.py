"""WebSub, the subscriber side: the pure decisions (tables), the store (on
every backend), and the whole exchange over real HTTP on 127.0.0.1 with a
test hub (tests/websubhub.py) and lenta's app under uvicorn."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import replace
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import httpx
import pytest
from webserver import AppServer
from websubhub import Hub
from websubhub import sign

from lenta.config import Settings
from lenta.core import Lenta
from lenta.core import make_lenta
from lenta.storage import Storage
from lenta.storage import open_storage
from lenta.storage.records import FeedChanges
from lenta.storage.records import SubscriptionChanges
from lenta.types import HubFeed
from lenta.types import Subscription
from lenta.types import SubscriptionMode
from lenta.types import SubscriptionState
from lenta.web import create_app
from lenta.websub import decide
from lenta.websub.decide import DeliveryKind
from lenta.websub.decide import Detach
from lenta.websub.decide import SignatureCheck
from lenta.websub.decide import StepKind
from lenta.websub.decide import VerdictKind

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BASE = "https://lenta.example/websub/"
FEED = "/feed.xml"
ATOM = "application/atom+xml"


# -- pure decisions ------------------------------------------------------------------


def sub(**fields: object) -> Subscription:
    values: dict[str, object] = {
        "id": 1,
        "feed_id": 7,
        "hub_url": "https://hub.example/",
        "topic": "https://example.com/feed",
        "callback": BASE + "tok",
        "token": "tok",
        "secret": "s" * 43,
        "mode": SubscriptionMode.SUBSCRIBE,
        "state": SubscriptionState.ACTIVE,
        "created_at": NOW - timedelta(days=30),
        "lease_seconds": 864000,
        "requested_at": NOW - timedelta(days=5),
        "verified_at": NOW - timedelta(days=5),
        "expires_at": NOW + timedelta(days=5),
        "retry_at": None,
        "attempts": 0,
        "error": None,
    }
    values.update(fields)
    return Subscription(**values)  # type: ignore[arg-type]


HUB_FEED = HubFeed(7, "https://hub.example/", "https://example.com/feed")
S, U = SubscriptionMode.SUBSCRIBE, SubscriptionMode.UNSUBSCRIBE
PENDING, REQUESTED = SubscriptionState.PENDING, SubscriptionState.REQUESTED
ACTIVE, FAILED = SubscriptionState.ACTIVE, SubscriptionState.FAILED
DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("feeds", "subs", "base", "expected"),
    [
        # WebSub off (no base URL): nothing, whatever is due.
        ([HUB_FEED], [], "", []),
        ([HUB_FEED], [sub(state=PENDING, retry_at=NOW)], "", []),
        # A feed with a hub and no subscription: create one.
        ([HUB_FEED], [], BASE, [StepKind.CREATE]),
        # A gone feed is not subscribed; its subscription is let go.
        ([replace(HUB_FEED, gone=True)], [], BASE, []),
        ([replace(HUB_FEED, gone=True)], [sub()], BASE, [StepKind.DETACH]),
        # Active, lease far from its end: nothing.
        ([HUB_FEED], [sub()], BASE, []),
        # Active, 10-day lease with less than a day left: renew.
        (
            [HUB_FEED],
            [sub(verified_at=NOW - 9 * DAY - timedelta(hours=1), expires_at=NOW + timedelta(hours=23))],
            BASE,
            [StepKind.SUBSCRIBE],
        ),
        # Pending or failed: (re)subscribe once the retry time has come.
        ([HUB_FEED], [sub(state=PENDING, retry_at=NOW)], BASE, [StepKind.SUBSCRIBE]),
        ([HUB_FEED], [sub(state=FAILED, retry_at=NOW + timedelta(seconds=1), attempts=3)], BASE, []),
        ([HUB_FEED], [sub(state=FAILED, retry_at=NOW - timedelta(seconds=1), attempts=30)], BASE, [StepKind.SUBSCRIBE]),
        # Requested: wait for the verification, up to the timeout.
        ([HUB_FEED], [sub(state=REQUESTED, requested_at=NOW - timedelta(minutes=59))], BASE, []),
        ([HUB_FEED], [sub(state=REQUESTED, requested_at=NOW - timedelta(minutes=60))], BASE, [StepKind.TIMEOUT]),
        # The feed moved to another hub, another topic (rel=self), or our base URL changed: start over.
        ([replace(HUB_FEED, hub_url="https://other.example/")], [sub()], BASE, [StepKind.REPLACE]),
        ([replace(HUB_FEED, topic="https://example.com/self")], [sub()], BASE, [StepKind.REPLACE]),
        ([HUB_FEED], [sub(callback="https://old.example/websub/tok")], BASE, [StepKind.REPLACE]),
        # The feed no longer has a hub: let the subscription go.
        ([], [sub()], BASE, [StepKind.DETACH]),
        # Deleted feeds: unsubscribe when due, wait for the hub, give up after a few failures.
        ([], [sub(feed_id=None, mode=U, state=PENDING, retry_at=NOW)], BASE, [StepKind.UNSUBSCRIBE]),
        ([], [sub(feed_id=None, mode=U, state=FAILED, retry_at=NOW + DAY, attempts=1)], BASE, []),
        ([], [sub(feed_id=None, mode=U, state=REQUESTED, requested_at=NOW)], BASE, []),
        ([], [sub(feed_id=None, mode=U, state=REQUESTED, requested_at=NOW - DAY)], BASE, [StepKind.TIMEOUT]),
        (
            [],
            [sub(feed_id=None, mode=U, state=FAILED, retry_at=NOW + DAY, attempts=decide.MAX_UNSUBSCRIBE_ATTEMPTS)],
            BASE,
            [StepKind.FORGET],
        ),
    ],
)
def test_plan(feeds: list[HubFeed], subs: list[Subscription], base: str, expected: list[StepKind]) -> None:
    assert [step.kind for step in decide.plan(feeds, subs, NOW, base)] == expected


@pytest.mark.parametrize(
    ("attempts", "retry_after", "expected"),
    [
        (1, None, timedelta(minutes=1)),
        (2, None, timedelta(minutes=2)),
        (5, None, timedelta(minutes=16)),
        (11, None, timedelta(minutes=1024)),
        (12, None, DAY),  # 2048 minutes would be more than a day
        (1000, None, DAY),
        (1, 600.0, timedelta(minutes=10)),  # the hub's Retry-After, when longer
        (1, 10 * 86400.0, DAY),  # ...still capped
    ],
)
def test_retry_delay(attempts: int, retry_after: float | None, expected: timedelta) -> None:
    assert decide.retry_delay(attempts, retry_after) == expected


@pytest.mark.parametrize(
    ("lease", "renew_before_end"),
    [
        (timedelta(days=10), DAY),  # 10 % = a day
        (timedelta(days=30), timedelta(days=3)),  # 10 %
        (timedelta(days=5), DAY),  # a day is more than 10 %
        (timedelta(hours=1), timedelta(minutes=30)),  # never before half-way
        (timedelta(seconds=60), timedelta(seconds=30)),
    ],
)
def test_renew_at(lease: timedelta, renew_before_end: timedelta) -> None:
    assert decide.renew_at(NOW, NOW + lease) == NOW + lease - renew_before_end


@pytest.mark.parametrize(
    ("subscription", "expected"),
    [
        (sub(), Detach.UNSUBSCRIBE),
        (sub(state=REQUESTED, verified_at=None), Detach.UNSUBSCRIBE),  # the hub may be verifying it now
        (sub(state=FAILED), Detach.UNSUBSCRIBE),  # a renewal failed; the lease may still run
        (sub(state=FAILED, verified_at=None), Detach.FORGET),  # the hub never took it
        (sub(state=PENDING, verified_at=None), Detach.FORGET),
    ],
)
def test_on_detach(subscription: Subscription, expected: Detach) -> None:
    assert decide.on_detach(subscription) == expected


TOPIC = "https://example.com/feed"


@pytest.mark.parametrize(
    ("subscription", "mode", "topic", "challenge", "lease", "expected", "granted"),
    [
        (sub(), "subscribe", TOPIC, "c", "3600", VerdictKind.SUBSCRIBED, 3600),
        (sub(lease_seconds=500), "subscribe", TOPIC, "c", None, VerdictKind.SUBSCRIBED, 500),  # the lease we asked for
        (sub(state=REQUESTED), "subscribe", TOPIC, "c", "864000", VerdictKind.SUBSCRIBED, 864000),
        (None, "subscribe", TOPIC, "c", "3600", VerdictKind.REFUSE, None),  # unknown token
        (sub(), "subscribe", TOPIC + "?x", "c", "3600", VerdictKind.REFUSE, None),  # another topic
        (sub(), "unsubscribe", TOPIC, "c", None, VerdictKind.REFUSE, None),  # not what we asked
        (sub(mode=U), "subscribe", TOPIC, "c", "3600", VerdictKind.REFUSE, None),
        (sub(), "subscribe", TOPIC, "", "3600", VerdictKind.REFUSE, None),  # no challenge
        (sub(), "subscribe", TOPIC, "c", "-5", VerdictKind.REFUSE, None),
        (sub(), "subscribe", TOPIC, "c", "soon", VerdictKind.REFUSE, None),
        (sub(), "subscribe", TOPIC, "c", "0", VerdictKind.REFUSE, None),
        (sub(), "bogus", TOPIC, "c", None, VerdictKind.REFUSE, None),
        (sub(mode=U), "unsubscribe", TOPIC, "c", None, VerdictKind.UNSUBSCRIBED, None),
        (sub(), "denied", TOPIC, None, None, VerdictKind.DENIED, None),
        (sub(), "denied", "https://elsewhere/", None, None, VerdictKind.REFUSE, None),
    ],
)
def test_judge_verification(
    subscription: Subscription | None,
    mode: str,
    topic: str,
    challenge: str | None,
    lease: str | None,
    expected: VerdictKind,
    granted: int | None,
) -> None:
    verdict = decide.judge_verification(subscription, mode, topic, challenge, lease)
    assert (verdict.kind, verdict.lease_seconds) == (expected, granted)


SECRET = "k" * 43
BODY = b"<feed/>"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (sign(BODY, SECRET, "sha1"), SignatureCheck.VALID),
        (sign(BODY, SECRET, "sha256"), SignatureCheck.VALID),
        (sign(BODY, SECRET, "sha384"), SignatureCheck.VALID),
        (sign(BODY, SECRET, "sha512"), SignatureCheck.VALID),
        (sign(BODY, SECRET, "sha256").upper(), SignatureCheck.VALID),  # any case
        (None, SignatureCheck.MISSING),
        ("", SignatureCheck.MISSING),
        (sign(BODY, "wrong secret", "sha256"), SignatureCheck.MISMATCH),
        (sign(BODY + b" ", SECRET, "sha256"), SignatureCheck.MISMATCH),
        (sign(BODY, SECRET, "sha256")[:-2], SignatureCheck.MISMATCH),
        (sign(BODY, SECRET, "md5"), SignatureCheck.MALFORMED),
        ("sha256", SignatureCheck.MALFORMED),
        ("sha256=ä" + "0" * 63, SignatureCheck.MALFORMED),
    ],
)
def test_check_signature(header: str | None, expected: SignatureCheck) -> None:
    assert decide.check_signature(header, BODY, SECRET) == expected


@pytest.mark.parametrize(
    ("subscription", "signature", "expected"),
    [
        (None, sign(BODY, SECRET), DeliveryKind.UNKNOWN),
        (sub(secret=SECRET), sign(BODY, SECRET), DeliveryKind.INGEST),
        (sub(secret=SECRET, state=REQUESTED), sign(BODY, SECRET), DeliveryKind.INGEST),  # a renewal in flight
        (sub(secret=SECRET), None, DeliveryKind.DROP),
        (sub(secret=SECRET), sign(BODY, "other"), DeliveryKind.DROP),
        (sub(secret=SECRET, feed_id=None, mode=U), sign(BODY, SECRET), DeliveryKind.GONE),
    ],
)
def test_judge_delivery(subscription: Subscription | None, signature: str | None, expected: DeliveryKind) -> None:
    assert decide.judge_delivery(subscription, signature, BODY).kind == expected


# -- storage (every backend) ------------------------------------------------------------


def test_store_round_trip_and_feed_deletion_detaches(storage: Storage) -> None:
    feed = storage.feeds.add("https://example.com/feed", now=NOW)
    assert storage.websub.hub_feeds() == []
    storage.feeds.change(feed.id, FeedChanges(hub_url="https://hub.example/"))
    assert storage.websub.hub_feeds() == [HubFeed(feed.id, "https://hub.example/", "https://example.com/feed")]
    storage.feeds.change(feed.id, FeedChanges(self_url="https://example.com/self"))  # the topic is rel=self when known
    assert storage.websub.hub_feeds()[0].topic == "https://example.com/self"

    added = storage.websub.add(
        feed.id,
        hub_url="https://hub.example/",
        topic="https://example.com/self",
        callback=BASE + "tok",
        token="tok",
        secret=SECRET,
        lease_seconds=100,
        now=NOW,
    )
    assert (added.state, added.mode, added.retry_at, added.attempts) == (PENDING, S, NOW, 0)
    assert storage.websub.by_token("tok") == added == storage.websub.for_feed(feed.id) == storage.websub.get(added.id)
    assert storage.websub.by_token("other") is None
    assert SECRET not in repr(added)

    # A conditional change only applies in the expected state.
    assert not storage.websub.change(added.id, SubscriptionChanges(state=FAILED), if_state=REQUESTED)
    assert storage.websub.change(added.id, SubscriptionChanges(state=ACTIVE, expires_at=NOW + DAY), if_state=PENDING)
    assert storage.websub.active_feed_ids(NOW) == {feed.id}
    assert storage.websub.active_feed_ids(NOW + DAY) == set()
    assert storage.websub.get(added.id) == replace(added, state=ACTIVE, expires_at=NOW + DAY)
    assert not storage.websub.change(added.id, SubscriptionChanges())  # nothing to write

    storage.feeds.delete(feed.id)  # the row outlives the feed
    [left] = storage.websub.list()
    assert left.feed_id is None and left.topic == "https://example.com/self"
    assert storage.websub.active_feed_ids(NOW) == set()
    storage.websub.delete(left.id)
    assert storage.websub.list() == []


# -- over HTTP: lenta under uvicorn, a hub in a thread -------------------------------------


class Clock:
    """Real time, which a test may move forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


def atom(hub: Hub, *titles: str) -> bytes:
    entries = "".join(
        f"<entry><id>urn:lenta-test:{title.replace(' ', '-')}</id><title>{title}</title>"
        f"<link href='https://example.com/{n}'/><updated>2025-06-01T00:00:{n:02d}Z</updated>"
        f"<content type='html'>&lt;p&gt;About {title}&lt;/p&gt;</content></entry>"
        for n, title in enumerate(titles)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>Pushed source</title><id>urn:lenta-test:feed</id><updated>2025-06-01T00:00:00Z</updated>"
        f'<link rel="hub" href="{hub.hub_url}"/><link rel="self" href="{hub.url(FEED)}"/>'
        f'<link href="https://example.com/"/>{entries}</feed>'
    ).encode()


@dataclass
class Site:
    lenta: Lenta
    web: AppServer
    hub: Hub
    clock: Clock
    storage: Storage  # the database opened again, for what the facade does not show

    def maintain(self) -> None:
        asyncio.run(self.lenta.websub_maintain())

    def add_feed(self) -> int:
        """A feed served by the hub's publisher, refreshed once so its hub is known."""
        self.hub.feeds[FEED] = (atom(self.hub, "First post"), ATOM)
        feed = asyncio.run(self.lenta.add_feed(self.hub.url(FEED)))
        asyncio.run(self.lenta.refresh([feed.id]))
        assert self.lenta.get_feed(feed.id).hub_url == self.hub.hub_url
        return feed.id

    def subscribe(self) -> int:
        feed_id = self.add_feed()
        self.maintain()
        self.hub.wait_for(lambda: self.hub.verified("subscribe"))
        return feed_id

    def subscription(self, feed_id: int) -> Subscription:
        found = self.lenta.websub_subscription(feed_id)
        assert found is not None
        return found

    def aggregator(self) -> str:
        return httpx.get(self.web.url("/aggregator")).text


def shown_within(site: Site, text: str, seconds: float = 1.0) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        if text in site.aggregator():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)


@pytest.fixture
def site(settings: Settings) -> Iterator[Site]:
    clock = Clock()
    lenta = make_lenta(settings, clock=clock)
    storage = open_storage(settings.database)
    with Hub() as hub, AppServer(create_app(settings, lenta)) as web:
        # The public base URL is the app server's, known once it has a port.
        lenta.settings = settings.replace(base_url=web.url(""))
        yield Site(lenta, web, hub, clock, storage)
    storage.close()
    lenta.close()


def test_subscription_request_and_verification(site: Site) -> None:
    before = site.clock()
    feed_id = site.subscribe()
    [request] = site.hub.requested("subscribe")
    found = site.subscription(feed_id)
    assert request.topic == site.hub.url(FEED)  # rel="self"
    assert request.callback == site.web.url(f"/websub/{found.token}") == found.callback
    assert len(found.token) >= 43 and found.token not in site.hub.url(FEED)
    assert request.secret == found.secret and len(request.secret.encode()) >= 32
    assert request.lease_seconds == decide.LEASE_SECONDS
    assert found.state == ACTIVE and found.error is None and found.lease_seconds == decide.LEASE_SECONDS
    assert found.expires_at is not None
    assert before + timedelta(seconds=decide.LEASE_SECONDS) <= found.expires_at
    assert found.expires_at <= site.clock() + timedelta(seconds=decide.LEASE_SECONDS)
    assert site.storage.websub.active_feed_ids(site.clock()) == {feed_id}
    # Nothing more to do until the renewal.
    site.maintain()
    assert len(site.hub.requests) == 1


def test_each_secret_and_callback_is_its_own(site: Site) -> None:
    first = site.subscribe()
    site.hub.feeds["/second.xml"] = (atom(site.hub, "Second source"), ATOM)
    second = asyncio.run(site.lenta.add_feed(site.hub.url("/second.xml"))).id
    asyncio.run(site.lenta.refresh([second]))
    site.maintain()
    site.hub.wait_for(lambda: site.hub.verified("subscribe", 2))
    one, two = site.subscription(first), site.subscription(second)
    assert one.token != two.token and one.secret != two.secret


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha384", "sha512"])
def test_signed_push_is_stored_and_shown_at_once(site: Site, algorithm: str) -> None:
    feed_id = site.subscribe()
    assert site.hub.publish(site.hub.url(FEED), atom(site.hub, "Pushed news", "First post"), algorithm=algorithm) == [202]
    assert shown_within(site, "Pushed news")
    assert site.lenta.get_feed(feed_id).item_count == 2
    assert site.lenta.fetch_history(feed_id)[0].outcome == "push"


def test_unsigned_and_wrongly_signed_pushes_are_dropped(site: Site) -> None:
    feed_id = site.subscribe()
    topic = site.hub.url(FEED)
    found = site.subscription(feed_id)
    assert site.hub.publish(topic, atom(site.hub, "Unsigned news"), algorithm=None) == [202]
    assert site.hub.publish(topic, atom(site.hub, "Forged news"), secret="not the secret") == [202]
    body = atom(site.hub, "Tampered news")
    assert site.hub.push(found.callback, body, ATOM, sign(atom(site.hub, "Signed news"), found.secret)) == 202
    assert site.hub.push(found.callback, body, ATOM, "md5=" + "0" * 32) == 202
    page = site.aggregator()
    assert "First post" in page
    assert not any(title in page for title in ("Unsigned news", "Forged news", "Tampered news"))
    assert site.lenta.get_feed(feed_id).item_count == 1


def test_oversized_push_is_refused(site: Site) -> None:
    feed_id = site.subscribe()
    site.lenta.settings = site.lenta.settings.replace(fetch_max_bytes=2000)
    found = site.subscription(feed_id)
    body = atom(site.hub, *(f"Big news {n}" for n in range(20)))
    assert len(body) > 2000
    assert site.hub.push(found.callback, body, ATOM, sign(body, found.secret)) == 413
    assert site.lenta.get_feed(feed_id).item_count == 1


def test_lease_is_renewed_before_it_runs_out(site: Site) -> None:
    site.hub.lease_seconds = 60  # the hub grants less than asked for
    feed_id = site.subscribe()
    first = site.subscription(feed_id)
    assert first.lease_seconds == 60 and first.expires_at is not None
    site.clock.advance(29)  # renewal is due half-way through a lease this short
    site.maintain()
    assert len(site.hub.requested("subscribe")) == 1
    site.clock.advance(2)
    site.maintain()
    site.hub.wait_for(lambda: site.hub.verified("subscribe", 2))
    requests = site.hub.requested("subscribe")
    assert len(requests) == 2 and requests[1].callback == first.callback and requests[1].secret == first.secret
    renewed = site.subscription(feed_id)
    assert renewed.state == ACTIVE and renewed.expires_at is not None
    assert renewed.expires_at > first.expires_at + timedelta(seconds=30)
    # Pushes still count during and after the renewal.
    assert site.hub.publish(site.hub.url(FEED), atom(site.hub, "After renewal")) == [202]
    assert shown_within(site, "After renewal")


def test_removing_the_feed_unsubscribes_at_the_hub(site: Site) -> None:
    feed_id = site.subscribe()
    found = site.subscription(feed_id)
    site.lenta.remove_feed(feed_id)
    [waiting] = site.storage.websub.list()
    assert (waiting.feed_id, waiting.mode) == (None, U)
    # Until the hub confirms, pushes are answered 410 Gone (the hub may stop) and not stored.
    assert site.hub.publish(site.hub.url(FEED), atom(site.hub, "Too late")) == [410]
    site.maintain()
    site.hub.wait_for(lambda: site.hub.verified("unsubscribe"))
    [request] = site.hub.requested("unsubscribe")
    assert (request.topic, request.callback) == (found.topic, found.callback)
    assert site.storage.websub.list() == []
    assert site.hub.push(found.callback, b"<feed/>", ATOM, sign(b"<feed/>", found.secret)) == 404


def test_verification_must_match_what_was_asked(site: Site) -> None:
    feed_id = site.subscribe()
    found = site.subscription(feed_id)
    callback = found.callback
    asked = {"hub.mode": "subscribe", "hub.topic": found.topic, "hub.challenge": "abc", "hub.lease_seconds": "5"}
    for wrong in ({"hub.topic": "https://example.com/other"}, {"hub.mode": "unsubscribe"}, {"hub.challenge": ""}):
        assert httpx.get(callback, params={**asked, **wrong}).status_code == 404
    assert site.subscription(feed_id) == found
    response = httpx.get(callback, params=asked)
    assert (response.status_code, response.text) == (200, "abc")
    assert response.headers["content-type"].startswith("text/plain")


def test_a_denied_subscription_is_visible_and_retried(site: Site) -> None:
    feed_id = site.subscribe()
    found = site.subscription(feed_id)
    assert site.hub.deny(found.topic, found.callback, "no more room") == 200
    denied = site.subscription(feed_id)
    assert denied.state == FAILED and denied.error is not None and "no more room" in denied.error
    assert denied.expires_at is None and denied.retry_at is not None and denied.retry_at > site.clock()
    assert site.storage.websub.active_feed_ids(site.clock()) == set()


def test_no_subscription_without_a_base_url(lenta: Lenta, settings: Settings) -> None:
    assert settings.base_url == ""
    with Hub() as hub:
        hub.feeds[FEED] = (atom(hub, "First post"), ATOM)
        feed = asyncio.run(lenta.add_feed(hub.url(FEED)))
        asyncio.run(lenta.refresh([feed.id]))
        assert lenta.get_feed(feed.id).hub_url == hub.hub_url
        asyncio.run(lenta.websub_maintain())
    assert hub.requests == []
    assert lenta.websub_subscription(feed.id) is None


def test_a_failing_hub_leaves_a_visible_error_and_a_retry_time(site: Site) -> None:
    site.hub.status = 500
    feed_id = site.add_feed()
    site.maintain()
    failed = site.subscription(feed_id)
    assert failed.state == FAILED and failed.attempts == 1
    assert failed.error == "The hub answered 500."
    assert failed.retry_at is not None
    assert abs((failed.retry_at - site.clock()) - timedelta(minutes=1)) < timedelta(seconds=5)
    site.maintain()  # not yet
    assert len(site.hub.requests) == 1
    site.clock.advance(61)
    site.maintain()
    again = site.subscription(feed_id)
    assert len(site.hub.requests) == 2 and again.attempts == 2
    assert again.retry_at is not None
    assert abs((again.retry_at - site.clock()) - timedelta(minutes=2)) < timedelta(seconds=5)
    # Once the hub works again, the subscription goes through and the error is gone.
    site.hub.status = 202
    site.clock.advance(121)
    site.maintain()
    site.hub.wait_for(lambda: site.hub.verified("subscribe"))
    recovered = site.subscription(feed_id)
    assert (recovered.state, recovered.error, recovered.attempts) == (ACTIVE, None, 0)


def test_an_unreachable_hub_is_a_failure_too(site: Site) -> None:
    feed_id = site.add_feed()
    site.storage.feeds.change(feed_id, FeedChanges(hub_url="http://127.0.0.1:9/hub"))  # discard port: refused
    site.maintain()
    failed = site.subscription(feed_id)
    assert failed.state == FAILED and failed.error and failed.retry_at is not None


def test_unknown_callback_token_is_404(site: Site) -> None:
    url = site.web.url("/websub/no-such-token")
    params = {"hub.mode": "subscribe", "hub.topic": "https://example.com/", "hub.challenge": "x"}
    assert httpx.get(url, params=params).status_code == 404
    assert httpx.post(url, content=b"<feed/>", headers={"X-Hub-Signature": "sha256=00"}).status_code == 404


def test_the_scheduler_subscribes_and_pushes_arrive(settings: Settings) -> None:
    from httpserver import free_port

    # The refresher runs in a child process with these settings: the public
    # base URL must be known before the app starts.
    port = free_port()
    settings = settings.replace(scheduler=True, scheduler_tick=0.1, base_url=f"http://127.0.0.1:{port}")
    lenta = make_lenta(settings)
    with Hub() as hub, AppServer(create_app(settings, lenta), port=port) as web:
        hub.feeds[FEED] = (atom(hub, "First post"), ATOM)
        feed = asyncio.run(lenta.add_feed(hub.url(FEED), discover=False))
        hub.wait_for(lambda: hub.verified("subscribe"), timeout=10)
        assert hub.publish(hub.url(FEED), atom(hub, "Scheduled push")) == [202]
        assert "Scheduled push" in httpx.get(web.url("/aggregator")).text
        subscription = lenta.websub_subscription(feed.id)
        assert subscription is not None and subscription.state == ACTIVE
    lenta.close()


def test_a_pushed_feed_is_still_polled_but_more_slowly(site: Site) -> None:
    feed_id = site.subscribe()
    assert site.lenta.get_feed(feed_id).next_check_at is not None
    asyncio.run(site.lenta.refresh([feed_id]))
    feed = site.lenta.get_feed(feed_id)
    assert feed.next_check_at is not None and feed.checked_at is not None
    assert feed.next_check_at - feed.checked_at >= timedelta(hours=6) * 0.95


def test_the_topic_is_the_feeds_self_url(site: Site) -> None:
    # The feed is fetched at another URL than its rel="self": the hub is asked about rel="self".
    site.hub.feeds["/alias.xml"] = (atom(site.hub, "Via alias"), ATOM)
    feed = asyncio.run(site.lenta.add_feed(site.hub.url("/alias.xml")))
    asyncio.run(site.lenta.refresh([feed.id]))
    site.maintain()
    site.hub.wait_for(lambda: site.hub.verified("subscribe"))
    [request] = site.hub.requested("subscribe")
    assert request.topic == site.hub.url(FEED)


def test_the_health_page_shows_the_subscription(site: Site) -> None:
    from test_web import PASSWORD
    from test_web import client
    from test_web import sign_in

    feed_id = site.subscribe()
    site.lenta.add_user("admin", PASSWORD, is_admin=True)
    with client(site.web) as http:
        sign_in(http)
        page = http.get(f"/admin/config/services/aggregator/health/{feed_id}").text
    assert site.hub.hub_url in page and "subscribed, the hub pushes updates" in page
