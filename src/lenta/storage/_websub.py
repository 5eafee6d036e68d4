"""WebSub subscriptions: the ``websub_subscriptions`` table, and the feeds
that advertise a hub.

What to do with a subscription is decided in :mod:`lenta.websub.decide`;
this module only reads and writes rows. New queries go here; test them in
tests/test_storage.py.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy import and_
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update

from lenta.exceptions import ErrorMessage
from lenta.storage._base import Database
from lenta.storage._feeds import error_params_from_json
from lenta.storage._feeds import error_params_json
from lenta.storage.records import SubscriptionChanges
from lenta.storage.schema import feeds
from lenta.storage.schema import websub_subscriptions as subs
from lenta.types import HubFeed
from lenta.types import Subscription
from lenta.types import SubscriptionMode
from lenta.types import SubscriptionState


def subscription_from_row(row: Row[Any]) -> Subscription:
    m = row._mapping
    return Subscription(
        id=m["id"],
        feed_id=m["feed_id"],
        hub_url=m["hub_url"],
        topic=m["topic"],
        callback=m["callback"],
        token=m["token"],
        secret=m["secret"],
        mode=SubscriptionMode(m["mode"]),
        state=SubscriptionState(m["state"]),
        created_at=m["created_at"],
        lease_seconds=m["lease_seconds"],
        requested_at=m["requested_at"],
        verified_at=m["verified_at"],
        expires_at=m["expires_at"],
        retry_at=m["retry_at"],
        attempts=m["attempts"],
        error=m["error"],
        error_params=error_params_from_json(m["error_params"]),
    )


def _column_value(value: object) -> object:
    if isinstance(value, enum.Enum):
        return value.value
    return error_params_json(value) if isinstance(value, ErrorMessage) else value


class WebSubStore:
    """Queries on WebSub subscriptions."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def hub_feeds(self) -> list[HubFeed]:
        """Every feed that advertises a hub, with its topic: the feed's
        ``rel="self"`` URL, else the URL it is fetched from."""
        query = (
            select(feeds.c.id, feeds.c.hub_url, func.coalesce(feeds.c.self_url, feeds.c.url), feeds.c.gone)
            .where(feeds.c.hub_url.is_not(None))
            .order_by(feeds.c.id)
        )
        with self.db.read() as connection:
            return [HubFeed(feed_id, hub_url, topic, bool(gone)) for feed_id, hub_url, topic, gone in connection.execute(query)]

    def add(
        self,
        feed_id: int,
        *,
        hub_url: str,
        topic: str,
        callback: str,
        token: str,
        secret: str,
        lease_seconds: int,
        now: datetime,
    ) -> Subscription:
        """A new subscription, pending: to be requested at once."""
        with self.db.write() as connection:
            sub_id = connection.execute(
                insert(subs)
                .values(
                    feed_id=feed_id,
                    hub_url=hub_url,
                    topic=topic,
                    callback=callback,
                    token=token,
                    secret=secret,
                    mode=SubscriptionMode.SUBSCRIBE.value,
                    state=SubscriptionState.PENDING.value,
                    lease_seconds=lease_seconds,
                    created_at=now,
                    retry_at=now,
                    attempts=0,
                )
                .returning(subs.c.id)
            ).scalar_one()
            return subscription_from_row(connection.execute(select(subs).where(subs.c.id == sub_id)).one())

    def list(self) -> list[Subscription]:
        with self.db.read() as connection:
            return [subscription_from_row(row) for row in connection.execute(select(subs).order_by(subs.c.id))]

    def get(self, sub_id: int) -> Subscription | None:
        return self._one(subs.c.id == sub_id)

    def by_token(self, token: str) -> Subscription | None:
        return self._one(subs.c.token == token)

    def for_feed(self, feed_id: int) -> Subscription | None:
        return self._one(subs.c.feed_id == feed_id)

    def _one(self, where: Any) -> Subscription | None:
        with self.db.read() as connection:
            row = connection.execute(select(subs).where(where)).first()
        return None if row is None else subscription_from_row(row)

    def change(self, sub_id: int, changes: SubscriptionChanges, *, if_state: SubscriptionState | None = None) -> bool:
        """Update columns of one subscription; with ``if_state``, only if it
        is still in that state (a verification may have come in meanwhile).
        Returns whether a row changed."""
        where = subs.c.id == sub_id
        if if_state is not None:
            where = and_(where, subs.c.state == if_state.value)
        values = {name: _column_value(value) for name, value in changes.changed()}
        if not values:
            return False
        with self.db.write() as connection:
            return bool(connection.execute(update(subs).where(where).values(**values)).rowcount)

    def delete(self, sub_id: int) -> None:
        with self.db.write() as connection:
            connection.execute(delete(subs).where(subs.c.id == sub_id))

    def active_feed_ids(self, now: datetime) -> set[int]:
        """Feeds a hub pushes to at ``now``: a verified subscription whose
        lease has not run out (a renewal in flight included). The update
        pipeline may poll these less often."""
        query = select(subs.c.feed_id).where(
            and_(
                subs.c.feed_id.is_not(None),
                subs.c.mode == SubscriptionMode.SUBSCRIBE.value,
                subs.c.expires_at > now,
            )
        )
        with self.db.read() as connection:
            return {feed_id for (feed_id,) in connection.execute(query)}
