"""WebSub (W3C), the subscriber side: hubs push new feed content to lenta.

::

    scheduler tick ─► WebSub.maintain ── decide.plan(feeds with a hub, rows, now)
                        │  create / subscribe / renew / retry / unsubscribe / forget
                        ▼
                      HTTPClient.post(hub, hub.mode=subscribe, hub.topic,
                                      hub.callback={base_url}/websub/{token}, hub.secret, hub.lease_seconds)
                        │ 2xx: state "requested"        non-2xx, FetchError: "failed", retry_at (backoff)
                        ▼
    hub ─ GET /websub/{token}?hub.mode&hub.topic&hub.challenge&hub.lease_seconds
                        └► WebSub.verify ── decide.judge_verification ─► echo challenge, "active" until expires_at
    hub ─ POST /websub/{token} (X-Hub-Signature)
                        └► WebSub.deliver ── decide.judge_delivery ─► Pipeline.ingest_push, or drop

Subscriptions are made only when the public base URL (``LENTA_BASE_URL``)
is set: a hub must be able to reach the callback. A request row is written
*before* the POST, because many hubs verify before they answer it; a
failure afterwards only overwrites a row still waiting (``if_state``), so a
verification that won the race stands.

Every decision is in :mod:`lenta.websub.decide`; this module moves data
between it, storage and the HTTP client. A failing hub becomes a stored
error with a retry time (visible through ``Lenta.websub_subscription``),
never an exception out of :meth:`WebSub.maintain`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from lenta._marks import N_
from lenta.exceptions import FeedNotFoundError
from lenta.exceptions import FetchError
from lenta.exceptions import InvalidInputError
from lenta.exceptions import LentaError
from lenta.fetch.http import HTTPClient
from lenta.fetch.http import retry_after_seconds
from lenta.fetch.http import split_content_type
from lenta.storage import Storage
from lenta.storage.records import SubscriptionChanges
from lenta.types import Feed
from lenta.types import HubFeed
from lenta.types import Subscription
from lenta.types import SubscriptionMode
from lenta.types import SubscriptionState
from lenta.update.store import error_params
from lenta.update.store import error_text
from lenta.websub import decide
from lenta.websub.decide import Delivery
from lenta.websub.decide import DeliveryKind
from lenta.websub.decide import Detach
from lenta.websub.decide import Step
from lenta.websub.decide import StepKind
from lenta.websub.decide import Verdict
from lenta.websub.decide import VerdictKind

__all__ = ["WebSub", "MaintenanceSummary", "Delivery", "DeliveryKind", "Verdict", "VerdictKind"]

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Ingest = Callable[[Feed, bytes, str | None, str | None], Awaitable[object]]

# Most hub requests in flight at once during one maintenance step.
CONCURRENCY = 8


@dataclass(frozen=True, slots=True)
class MaintenanceSummary:
    """What one maintenance step did: requests sent, and how many failed."""

    requests: int = 0
    failures: int = 0
    forgotten: int = 0

    def __bool__(self) -> bool:
        return bool(self.requests or self.forgotten)

    def __add__(self, other: MaintenanceSummary) -> MaintenanceSummary:
        return MaintenanceSummary(
            self.requests + other.requests, self.failures + other.failures, self.forgotten + other.forgotten
        )


class WebSub:
    """Applies the WebSub decisions to storage and the hubs.

    Args:
        storage: where subscriptions and feeds live.
        clock: returns aware UTC now.
    """

    def __init__(self, storage: Storage, *, clock: Clock) -> None:
        self.storage = storage
        self.clock = clock

    # -- the periodic step ---------------------------------------------------

    async def maintain(self, client: HTTPClient, base_url: str) -> MaintenanceSummary:
        """Create, renew, retry and unsubscribe what is due now."""
        base = decide.callback_base(base_url)
        if not base:
            return MaintenanceSummary()
        feeds, subs = await asyncio.gather(
            asyncio.to_thread(self.storage.websub.hub_feeds), asyncio.to_thread(self.storage.websub.list)
        )
        steps = decide.plan(feeds, subs, self.clock(), base)
        semaphore = asyncio.Semaphore(CONCURRENCY)

        async def one(step: Step) -> MaintenanceSummary:
            async with semaphore:
                try:
                    return await self._apply(step, client, base)
                except LentaError:  # a storage hiccup on one row must not stop the others
                    log.exception("websub step %s failed", step.kind)
                    return MaintenanceSummary(failures=1)

        total = MaintenanceSummary()
        for done in await asyncio.gather(*(one(step) for step in steps)):
            total += done
        return total

    async def _apply(self, step: Step, client: HTTPClient, base: str) -> MaintenanceSummary:
        sub = step.subscription
        if step.kind == StepKind.CREATE:
            assert step.feed is not None
            return await self._request(await self._create(step.feed, base), client)
        assert sub is not None
        if step.kind == StepKind.REPLACE:
            assert step.feed is not None
            old = await self._request(await asyncio.to_thread(self.detach, sub), client)
            return old + await self._request(await self._create(step.feed, base), client)
        if step.kind == StepKind.DETACH:
            return await self._request(await asyncio.to_thread(self.detach, sub), client)
        if step.kind in {StepKind.SUBSCRIBE, StepKind.UNSUBSCRIBE}:
            return await self._request(sub, client)
        if step.kind == StepKind.TIMEOUT:
            minutes = int(decide.VERIFY_TIMEOUT.total_seconds() // 60)
            error = LentaError(N_("The hub did not confirm the request within {minutes} minutes."), minutes=minutes)
            await asyncio.to_thread(self._fail, sub, error)
            return MaintenanceSummary(failures=1)
        assert step.kind == StepKind.FORGET
        log.warning(
            "websub: giving up unsubscribing %s at %s after %d attempts: %s", sub.topic, sub.hub_url, sub.attempts, sub.error
        )
        await asyncio.to_thread(self.storage.websub.delete, sub.id)
        return MaintenanceSummary(forgotten=1)

    async def _create(self, feed: HubFeed, base: str) -> Subscription:
        token = secrets.token_urlsafe(32)  # 256 bits: the callback URL cannot be guessed
        return await asyncio.to_thread(
            self.storage.websub.add,
            feed.feed_id,
            hub_url=feed.hub_url,
            topic=feed.topic,
            callback=base + token,
            token=token,
            secret=secrets.token_urlsafe(32),  # 32 random bytes, 43 characters (hubs take < 200)
            lease_seconds=decide.LEASE_SECONDS,
            now=self.clock(),
        )

    async def _request(self, sub: Subscription | None, client: HTTPClient) -> MaintenanceSummary:
        """Send ``sub``'s request (its ``mode``) to its hub; None: nothing to send."""
        if sub is None:
            return MaintenanceSummary(forgotten=1)
        data = {"hub.mode": str(sub.mode), "hub.topic": sub.topic, "hub.callback": sub.callback}
        if sub.mode == SubscriptionMode.SUBSCRIBE:
            data["hub.secret"] = sub.secret
            data["hub.lease_seconds"] = str(decide.LEASE_SECONDS)
        # Written before the POST: the hub may verify before it answers.
        await asyncio.to_thread(
            self.storage.websub.change, sub.id, SubscriptionChanges(state=SubscriptionState.REQUESTED, requested_at=self.clock())
        )
        try:
            result = await client.post(sub.hub_url, data)
        except FetchError as error:
            await asyncio.to_thread(self._fail, sub, error, error.retry_after)
            return MaintenanceSummary(requests=1, failures=1)
        except InvalidInputError as error:  # a hub URL that is not one
            await asyncio.to_thread(self._fail, sub, error)
            return MaintenanceSummary(requests=1, failures=1)
        if not 200 <= result.status < 300:
            retry_after = retry_after_seconds(result.headers.get("retry-after"))
            answered = LentaError(N_("The hub answered {status}."), status=result.status)
            await asyncio.to_thread(self._fail, sub, answered, retry_after)
            return MaintenanceSummary(requests=1, failures=1)
        log.info("websub: %s of %s accepted by %s", sub.mode, sub.topic, sub.hub_url)
        return MaintenanceSummary(requests=1)

    def _fail(self, sub: Subscription, error: LentaError, retry_after: float | None = None) -> None:
        """Record a failed request (if still waiting) with its retry time."""
        attempts = sub.attempts + 1
        retry_at = self.clock() + decide.retry_delay(attempts, retry_after)
        changed = self.storage.websub.change(
            sub.id,
            SubscriptionChanges(
                state=SubscriptionState.FAILED,
                attempts=attempts,
                error=error_text(error),
                error_params=error_params(error),
                retry_at=retry_at,
            ),
            if_state=SubscriptionState.REQUESTED,
        )
        if changed:
            log.warning(
                "websub: %s of %s at %s failed (%d in a row), retry at %s: %s",
                sub.mode,
                sub.topic,
                sub.hub_url,
                attempts,
                retry_at.isoformat(),
                error,
            )

    # -- a feed goes away ----------------------------------------------------

    def detach_feed(self, feed_id: int) -> None:
        """Before a feed is deleted: its subscription is to be undone at the hub."""
        sub = self.storage.websub.for_feed(feed_id)
        if sub is not None:
            self.detach(sub)

    def detach(self, sub: Subscription) -> Subscription | None:
        """Cut ``sub`` from its feed: forget it if the hub never took it,
        else mark it for unsubscription (returned, to be sent)."""
        if decide.on_detach(sub) == Detach.FORGET:
            self.storage.websub.delete(sub.id)
            return None
        now = self.clock()
        changes = SubscriptionChanges(
            feed_id=None,
            mode=SubscriptionMode.UNSUBSCRIBE,
            state=SubscriptionState.PENDING,
            retry_at=now,
            attempts=0,
            error=None,
        )
        self.storage.websub.change(sub.id, changes)
        return self.storage.websub.get(sub.id)

    # -- the callback ----------------------------------------------------------

    def verify(
        self,
        token: str,
        *,
        mode: str | None,
        topic: str | None,
        challenge: str | None,
        lease_seconds: str | None,
        reason: str | None = None,
    ) -> Verdict:
        """A hub's intent verification: confirm (echo ``challenge``), note a
        denial, or refuse (:data:`VerdictKind.REFUSE`: answer 404)."""
        sub = self.storage.websub.by_token(token)
        verdict = decide.judge_verification(sub, mode, topic, challenge, lease_seconds, reason)
        if sub is None or verdict.kind == VerdictKind.REFUSE:
            log.info("websub: verification refused for token %.6s… (mode=%s, topic=%s)", token, mode, topic)
            return verdict
        now = self.clock()
        if verdict.kind == VerdictKind.SUBSCRIBED:
            assert verdict.lease_seconds is not None
            self.storage.websub.change(
                sub.id,
                SubscriptionChanges(
                    state=SubscriptionState.ACTIVE,
                    verified_at=now,
                    lease_seconds=verdict.lease_seconds,
                    expires_at=now + timedelta(seconds=verdict.lease_seconds),
                    attempts=0,
                    error=None,
                    retry_at=None,
                ),
            )
            log.info("websub: subscribed to %s at %s for %d s", sub.topic, sub.hub_url, verdict.lease_seconds)
        elif verdict.kind == VerdictKind.UNSUBSCRIBED or sub.mode == SubscriptionMode.UNSUBSCRIBE:
            self.storage.websub.delete(sub.id)
            log.info("websub: unsubscribed from %s at %s", sub.topic, sub.hub_url)
        else:
            attempts = sub.attempts + 1
            error = LentaError(
                N_("The hub denied the subscription: {reason}"),
                brief=N_("The hub denied the subscription."),  # the reason is the hub's words
                reason=verdict.reason or "-",
            )
            self.storage.websub.change(
                sub.id,
                SubscriptionChanges(
                    state=SubscriptionState.FAILED,
                    attempts=attempts,
                    error=error_text(error),
                    error_params=error_params(error),
                    expires_at=None,
                    retry_at=now + decide.retry_delay(attempts),
                ),
            )
            log.warning("websub: %s at %s: %s", sub.topic, sub.hub_url, error)
        return verdict

    async def deliver(
        self, token: str, body: bytes, *, signature: str | None, content_type: str | None, ingest: Ingest
    ) -> Delivery:
        """A body pushed to a callback: ``ingest`` it if correctly signed."""
        sub = await asyncio.to_thread(self.storage.websub.by_token, token)
        delivery = decide.judge_delivery(sub, signature, body)
        if delivery.kind == DeliveryKind.DROP:
            assert sub is not None
            log.warning("websub: dropped a push for %s from %s: signature %s", sub.topic, sub.hub_url, delivery.signature)
        if delivery.kind != DeliveryKind.INGEST:
            return delivery
        assert sub is not None and sub.feed_id is not None
        try:
            feed = await asyncio.to_thread(self.storage.feeds.get, sub.feed_id)
        except FeedNotFoundError:  # deleted a moment ago
            return Delivery(DeliveryKind.GONE)
        media_type, charset = split_content_type(content_type)
        await ingest(feed, body, media_type, charset)
        return delivery
