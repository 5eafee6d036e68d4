"""WebSub decisions, pure: no I/O, no settings, the clock passed in.

- :func:`plan` — at time ``now``, which subscriptions to create, (re)request,
  renew, retry, unsubscribe, give up on;
- :func:`on_detach` — what a subscription whose feed is gone comes to;
- :func:`judge_verification` — the answer to a hub's intent verification;
- :func:`check_signature` — ``X-Hub-Signature`` against the raw body;
- :func:`judge_delivery` — what to do with a pushed body;
- :func:`retry_delay`, :func:`renew_at` — backoff and renewal times.

:mod:`lenta.websub` applies what these return.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from lenta._bounds import duration
from lenta.types import HubFeed
from lenta.types import Subscription
from lenta.types import SubscriptionMode
from lenta.types import SubscriptionState

# What we ask the hub for; the hub may grant another lease.
LEASE_SECONDS = 10 * 86400
# Renew when this share of the lease is left, or a day if that is longer,
# but never earlier than half-way through (a short lease is not renewed
# on every tick).
RENEW_FRACTION = 0.1
RENEW_MARGIN = timedelta(days=1)
# Backoff after failures: 1 min, 2, 4, … capped at a day; never given up
# while the feed has a hub.
FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(days=1)
# A request the hub accepted but did not verify within this counts as failed.
VERIFY_TIMEOUT = timedelta(hours=1)
# An unsubscription (the feed is deleted) is tried this many times, then forgotten.
MAX_UNSUBSCRIBE_ATTEMPTS = 5

SIGNATURE_ALGORITHMS = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}


def callback_base(base_url: str) -> str:
    """Where callbacks live under the public base URL; empty: WebSub is off."""
    return base_url.rstrip("/") + "/websub/" if base_url.strip() else ""


def retry_delay(attempts: int, retry_after: float | None = None) -> timedelta:
    """How long to wait after the ``attempts``-th failure in a row; a hub's
    Retry-After is honoured up to the same cap."""
    exponent = min(max(attempts, 1) - 1, 20)  # 2**20 minutes is far past the cap
    factor: int = 2**exponent  # int ** int is typed Any
    delay = min(FIRST_RETRY * factor, MAX_RETRY)
    wait = duration(retry_after, MAX_RETRY)
    if wait is not None:
        delay = max(delay, wait)
    return delay


def renew_at(verified_at: datetime, expires_at: datetime) -> datetime:
    """When to renew a lease granted at ``verified_at`` until ``expires_at``."""
    lease = expires_at - verified_at
    margin = min(max(lease * RENEW_FRACTION, RENEW_MARGIN), lease / 2)
    return expires_at - margin


# -- the periodic plan ---------------------------------------------------------


class StepKind(enum.StrEnum):
    CREATE = "create"  # the feed has a hub and no subscription: make one, subscribe
    REPLACE = "replace"  # the feed's hub, topic or our callback changed: detach the old, create anew
    DETACH = "detach"  # the feed lost its hub (or is gone): unsubscribe, or forget
    SUBSCRIBE = "subscribe"  # (re)send the subscription request: first time, retry, renewal
    UNSUBSCRIBE = "unsubscribe"  # (re)send the unsubscription request
    TIMEOUT = "timeout"  # the hub never verified a request: count it as a failure
    FORGET = "forget"  # an unsubscription failed too often: delete the row


@dataclass(frozen=True, slots=True)
class Step:
    kind: StepKind
    subscription: Subscription | None = None
    feed: HubFeed | None = None


def plan(feeds: Sequence[HubFeed], subscriptions: Sequence[Subscription], now: datetime, base: str) -> list[Step]:
    """What to do at ``now``.

    Args:
        feeds: every feed that advertises a hub.
        subscriptions: every subscription row.
        base: :func:`callback_base`; empty means WebSub is off and nothing is done.
    """
    if not base:
        return []
    by_feed = {s.feed_id: s for s in subscriptions if s.feed_id is not None}
    steps: list[Step] = []
    for feed in feeds:
        if feed.gone:
            continue
        sub = by_feed.pop(feed.feed_id, None)
        if sub is None:
            steps.append(Step(StepKind.CREATE, feed=feed))
        elif (sub.hub_url, sub.topic) != (feed.hub_url, feed.topic) or not sub.callback.startswith(base):
            steps.append(Step(StepKind.REPLACE, sub, feed))
        else:
            steps.extend(_due(sub, now))
    for sub in subscriptions:
        if sub.feed_id is not None and by_feed.get(sub.feed_id) is sub:  # its feed has no hub now
            steps.append(Step(StepKind.DETACH, sub))
        elif sub.feed_id is None:
            steps.extend(_due(sub, now))
    return steps


def _due(sub: Subscription, now: datetime) -> list[Step]:
    """The step one subscription needs at ``now``, if any."""
    if sub.state == SubscriptionState.REQUESTED:
        waited_since = sub.requested_at or sub.created_at
        return [Step(StepKind.TIMEOUT, sub)] if now >= waited_since + VERIFY_TIMEOUT else []
    if sub.mode == SubscriptionMode.UNSUBSCRIBE:
        if sub.state == SubscriptionState.FAILED and sub.attempts >= MAX_UNSUBSCRIBE_ATTEMPTS:
            return [Step(StepKind.FORGET, sub)]
        if sub.state in {SubscriptionState.PENDING, SubscriptionState.FAILED} and _retry_due(sub, now):
            return [Step(StepKind.UNSUBSCRIBE, sub)]
        return []
    if sub.state in {SubscriptionState.PENDING, SubscriptionState.FAILED}:
        return [Step(StepKind.SUBSCRIBE, sub)] if _retry_due(sub, now) else []
    if sub.state == SubscriptionState.ACTIVE:
        if sub.verified_at is None or sub.expires_at is None or now >= renew_at(sub.verified_at, sub.expires_at):
            return [Step(StepKind.SUBSCRIBE, sub)]
    return []


def _retry_due(sub: Subscription, now: datetime) -> bool:
    return sub.retry_at is None or sub.retry_at <= now


class Detach(enum.StrEnum):
    UNSUBSCRIBE = "unsubscribe"
    FORGET = "forget"


def on_detach(sub: Subscription) -> Detach:
    """A subscription whose feed is deleted or moved: unsubscribe at the hub,
    unless the hub never took it (nothing there to undo)."""
    if sub.mode == SubscriptionMode.UNSUBSCRIBE:
        return Detach.UNSUBSCRIBE
    never_taken = sub.verified_at is None and sub.state in {SubscriptionState.PENDING, SubscriptionState.FAILED}
    return Detach.FORGET if never_taken else Detach.UNSUBSCRIBE


# -- intent verification (GET on the callback) ------------------------------------


class VerdictKind(enum.StrEnum):
    REFUSE = "refuse"  # unknown token, wrong topic or mode: 404
    SUBSCRIBED = "subscribed"  # echo the challenge; the lease starts
    UNSUBSCRIBED = "unsubscribed"  # echo the challenge; the row goes
    DENIED = "denied"  # the hub refuses the subscription: note it, retry later


@dataclass(frozen=True, slots=True)
class Verdict:
    kind: VerdictKind
    lease_seconds: int | None = None
    reason: str = ""


REFUSE = Verdict(VerdictKind.REFUSE)


def judge_verification(
    sub: Subscription | None,
    mode: str | None,
    topic: str | None,
    challenge: str | None,
    lease_seconds: str | None,
    reason: str | None = None,
) -> Verdict:
    """The answer to ``GET callback?hub.mode=…&hub.topic=…&hub.challenge=…``.

    A hub's verification is confirmed only for a request we made: the
    subscription exists, the topic is its topic and the mode is what we
    last asked for. A subscribe verification without ``hub.lease_seconds``
    gets the lease we asked for; a malformed one is refused.
    """
    if sub is None or topic != sub.topic:
        return REFUSE
    if mode == "denied":
        return Verdict(VerdictKind.DENIED, reason=(reason or "").strip()[:500])
    if mode != sub.mode or not challenge:
        return REFUSE
    if mode == SubscriptionMode.UNSUBSCRIBE:
        return Verdict(VerdictKind.UNSUBSCRIBED)
    if lease_seconds is None or lease_seconds == "":
        return Verdict(VerdictKind.SUBSCRIBED, sub.lease_seconds or LEASE_SECONDS)
    if not lease_seconds.isascii() or not lease_seconds.isdigit() or int(lease_seconds) == 0:
        return REFUSE
    return Verdict(VerdictKind.SUBSCRIBED, min(int(lease_seconds), 10 * 365 * 86400))


# -- content distribution (POST on the callback) ---------------------------------


class SignatureCheck(enum.StrEnum):
    VALID = "valid"
    MISSING = "missing"  # no X-Hub-Signature
    MALFORMED = "malformed"  # not method=hexdigest, or an unknown method
    MISMATCH = "mismatch"  # the HMAC differs


def check_signature(header: str | None, body: bytes, secret: str) -> SignatureCheck:
    """``X-Hub-Signature: sha256=<hex>``: an HMAC of the raw body keyed with
    the subscription's secret (sha1, sha256, sha384 or sha512)."""
    if header is None or not header.strip():
        return SignatureCheck.MISSING
    method, sep, given = header.strip().partition("=")
    algorithm = SIGNATURE_ALGORITHMS.get(method.strip().lower())
    given = given.strip().lower()
    if not sep or algorithm is None or not given.isascii():
        return SignatureCheck.MALFORMED
    expected = hmac.new(secret.encode(), body, algorithm).hexdigest()
    return SignatureCheck.VALID if hmac.compare_digest(expected, given) else SignatureCheck.MISMATCH


class DeliveryKind(enum.StrEnum):
    UNKNOWN = "unknown"  # no such callback: 404
    GONE = "gone"  # the feed is gone or being unsubscribed: 410, the hub may stop
    DROP = "drop"  # unsigned or wrongly signed: ignored, acknowledged (2xx) as the spec allows
    INGEST = "ingest"  # store it like a fetched body


@dataclass(frozen=True, slots=True)
class Delivery:
    kind: DeliveryKind
    signature: SignatureCheck | None = None


def judge_delivery(sub: Subscription | None, signature: str | None, body: bytes) -> Delivery:
    """What to do with a body a hub pushed to a callback."""
    if sub is None:
        return Delivery(DeliveryKind.UNKNOWN)
    if sub.feed_id is None or sub.mode != SubscriptionMode.SUBSCRIBE:
        return Delivery(DeliveryKind.GONE)
    check = check_signature(signature, body, sub.secret)
    return Delivery(DeliveryKind.INGEST if check == SignatureCheck.VALID else DeliveryKind.DROP, check)
