"""Webhook calls of readers' "notify" rules (issue 11).

A rule that matches a new item queues a call (``rule_deliveries``, in the
refresh's transaction); :func:`deliver_due` makes the calls that are due:
a POST of one form field, ``payload``, a JSON object (the rule, the item,
its feed), signed with the rule's own key: ``X-Lenta-Signature:
sha256=<hex HMAC-SHA256 of the body>``, which the receiver checks with the
key its owner copied from the rule's page. The call goes through lenta's
HTTP client and its guard: no private address unless ``LENTA_FETCH_ALLOW``
says so, bounded in size and time. A 2xx answer delivers it; anything else
is retried later (after 1 min, 5 min, 30 min, 2 h and 12 h) and then
given up, each attempt in the delivery log the owner sees.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from lenta.exceptions import FetchError
from lenta.fetch.http import HTTPClient
from lenta.storage import Storage
from lenta.storage._rules import Delivery
from lenta.storage._rules import delivered
from lenta.storage._rules import due_deliveries

SIGNATURE_HEADER = "X-Lenta-Signature"


@dataclass(frozen=True, slots=True)
class NotifySummary:
    delivered: int = 0
    failed: int = 0


def payload_of(delivery: Delivery) -> str:
    """The JSON object a call carries."""
    payload = {
        "rule": {"id": delivery.rule_id, "name": delivery.rule_name},
        "item": {
            "id": delivery.item_id,
            "title": delivery.item_title,
            "url": delivery.item_link,
            "date": delivery.item_date.isoformat(),
            "feed": delivery.feed_title,
        },
    }
    return json.dumps(payload, ensure_ascii=False, sort_keys=True)


def signature(secret: str, body: str) -> str:
    """The signature header's value for a form body (as sent: urlencoded)."""
    return "sha256=" + hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()


async def deliver_due(storage: Storage, client: HTTPClient, now: datetime, limit: int = 50) -> NotifySummary:
    """Make the calls that are due (at most ``limit``), recording each outcome."""
    with storage.db.read() as connection:
        due = due_deliveries(connection, now, limit)
    ok = failed = 0
    for delivery in due:
        form = {"payload": payload_of(delivery)}
        headers = {SIGNATURE_HEADER: signature(delivery.secret or "", urlencode(form))}  # the body the client sends
        status: int | None = None
        error: str | None = None
        try:
            result = await client.post(delivery.url, form, headers=headers)
            status = result.status
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except FetchError as problem:
            error = str(problem)
        with storage.db.write() as connection:
            delivered(connection, delivery, now, status=status, error=error)
        ok, failed = (ok + 1, failed) if error is None else (ok, failed + 1)
    return NotifySummary(ok, failed)
