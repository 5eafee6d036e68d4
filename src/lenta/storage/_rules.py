"""A reader's rules and the webhook calls of their "notify" action (issue 11).

:class:`RuleBook` is one user's (every statement names the user);
:func:`apply_new` runs every enabled rule on the items a refresh has just
written, in the writer's transaction, so an item a rule marks read never
shows as unread; :func:`due_deliveries` and :func:`delivered` keep the
queue of webhook calls that :mod:`lenta.notify` makes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import delete
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import true
from sqlalchemy import update

from lenta import rules as rule_logic
from lenta.exceptions import NotFollowingError
from lenta.storage._base import Database
from lenta.storage._reader import UserShelf
from lenta.storage.schema import feeds
from lenta.storage.schema import items
from lenta.storage.schema import rule_deliveries
from lenta.storage.schema import rules
from lenta.types import Rule

_CHUNK = 500
MAX_ITEMS_PER_RUN = 2000  # items a rule is tried on when run on what is already there
RETRY_AFTER = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2), timedelta(hours=12))
_r = rules.c


def _rule_from_row(row: Any) -> Rule:
    return Rule(
        id=row.id,
        name=row.name,
        field=row.field,
        match=row.match,
        pattern=row.pattern,
        action=row.action,
        subscription_id=row.subscription_id,
        folder_id=row.folder_id,
        tag_id=row.tag_id,
        webhook_url=row.webhook_url,
        enabled=bool(row.enabled),
    )


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """A rule as saved (validated by the facade first)."""

    name: str
    field: str
    match: str
    pattern: str
    action: str
    subscription_id: int | None = None
    folder_id: int | None = None
    tag_name: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class Effect:
    """What a rule did, or would do, to one item."""

    item_id: int
    title: str | None
    changed: bool


def _texts(connection: Connection, item_ids: Sequence[int]) -> list[tuple[int, rule_logic.ItemText]]:
    c = items.c
    found = []
    for start in range(0, len(item_ids), _CHUNK):
        rows = connection.execute(
            select(c.id, c.title, c.content, c.summary, c.author, c.link, c.categories).where(
                c.id.in_(item_ids[start : start + _CHUNK])
            )
        )
        for row in rows:
            found.append(
                (row.id, rule_logic.item_text(row.title, row.content, row.summary, row.author, row.link, row.categories))
            )
    return found


class RuleBook:
    """One user's rules."""

    def __init__(self, db: Database, user_id: int) -> None:
        self.db = db
        self.user_id = user_id
        self.shelf = UserShelf(db, user_id)

    def all(self) -> list[Rule]:
        with self.db.read() as connection:
            rows = connection.execute(select(rules).where(_r.user_id == self.user_id).order_by(_r.name, _r.id)).all()
        return [_rule_from_row(row) for row in rows]

    def get(self, rule_id: int) -> Rule:
        with self.db.read() as connection:
            return self._get(connection, rule_id)

    def _get(self, connection: Connection, rule_id: int) -> Rule:
        row = connection.execute(select(rules).where(_r.id == rule_id, _r.user_id == self.user_id)).first()
        if row is None:
            raise NotFollowingError(rule_id)
        return _rule_from_row(row)

    def save(self, spec: RuleSpec, now: datetime, rule_id: int | None = None) -> Rule:
        """Add a rule (or change ``rule_id``); its scope and tag must be the user's."""
        with self.db.write() as connection:
            self._check_scope(connection, spec.subscription_id, spec.folder_id)
            tag_id = self.shelf.tag_named(connection, spec.tag_name).id if spec.action == "tag" and spec.tag_name else None
            values = {
                "name": spec.name,
                "field": spec.field,
                "match": spec.match,
                "pattern": spec.pattern,
                "action": spec.action,
                "subscription_id": spec.subscription_id,
                "folder_id": spec.folder_id,
                "tag_id": tag_id,
                "webhook_url": spec.webhook_url if spec.action == "notify" else None,
                "webhook_secret": spec.webhook_secret if spec.action == "notify" else None,
                "enabled": spec.enabled,
            }
            if rule_id is None:
                rule_id = connection.execute(
                    insert(rules).values(user_id=self.user_id, created_at=now, **values).returning(_r.id)
                ).scalar_one()
            else:
                self._get(connection, rule_id)
                connection.execute(update(rules).where(_r.id == rule_id, _r.user_id == self.user_id).values(**values))
            return self._get(connection, rule_id)

    def delete(self, rule_id: int) -> None:
        with self.db.write() as connection:
            self._get(connection, rule_id)
            connection.execute(delete(rules).where(_r.id == rule_id, _r.user_id == self.user_id))

    def secret(self, rule_id: int) -> str | None:
        with self.db.read() as connection:
            self._get(connection, rule_id)
            return connection.execute(select(_r.webhook_secret).where(_r.id == rule_id)).scalar()

    def deliveries(self, rule_id: int, limit: int = 50) -> list[Any]:
        """The rule's latest webhook calls, newest first."""
        d = rule_deliveries.c
        with self.db.read() as connection:
            self._get(connection, rule_id)
            return list(
                connection.execute(
                    select(d.id, d.item_id, d.state, d.attempts, d.http_status, d.error, d.created_at, d.delivered_at)
                    .where(d.rule_id == rule_id)
                    .order_by(d.id.desc())
                    .limit(limit)
                )
            )

    def _check_scope(self, connection: Connection, subscription_id: int | None, folder_id: int | None) -> None:
        if subscription_id is not None:
            self.shelf._feed_of(connection, subscription_id)
        if folder_id is not None and folder_id not in {f.id for f in self.shelf._folders(connection)}:
            raise NotFollowingError(folder_id)

    def scope_feeds(self, connection: Connection, rule: Rule) -> list[int]:
        if rule.subscription_id is not None:
            return [self.shelf._feed_of(connection, rule.subscription_id)]
        return self.shelf._feeds_in(connection, rule.folder_id)

    def run(self, rule: Rule, now: datetime, *, apply: bool) -> list[Effect]:
        """Try a rule on the newest :data:`MAX_ITEMS_PER_RUN` items of its
        scope: what it matches and what it would change (``apply`` False:
        the preview), or does change."""
        matcher = rule_logic.check(rule.field, rule.match, rule.pattern, rule.action)
        with self.db.write() if apply else self.db.read() as connection:
            entries = self.shelf.items_in(connection, self.scope_feeds(connection, rule), MAX_ITEMS_PER_RUN)
            texts = _texts(connection, [entry.item.id for entry in entries])
            matched = set(rule_logic.matching(matcher, rule.field, texts))
            effects = []
            for entry in entries:
                if entry.item.id not in matched:
                    continue
                changed = _would_change(rule, entry.read, entry.starred)
                if apply:
                    changed = _act(connection, self.shelf, rule, entry.item.id, now)
                effects.append(Effect(entry.item.id, entry.item.title, changed))
            return effects


def _would_change(rule: Rule, read: bool, starred: bool) -> bool:
    if rule.action == "read":
        return not read
    if rule.action == "star":
        return not starred
    return True


def _act(connection: Connection, shelf: UserShelf, rule: Rule, item_id: int, now: datetime) -> bool:
    """Do a rule's action to one item, in the caller's transaction."""
    if rule.action == "read":
        return shelf.mark_in(connection, [item_id], True) > 0
    if rule.action == "star":
        return shelf.star_in(connection, item_id, True, now)
    if rule.action == "hide":
        return shelf.hide_in(connection, item_id)
    if rule.action == "tag" and rule.tag_id is not None:
        return shelf.tag_item_in(connection, item_id, rule.tag_id)
    if rule.action == "notify" and rule.webhook_url:
        connection.execute(
            insert(rule_deliveries).values(
                rule_id=rule.id, item_id=item_id, state="pending", attempts=0, next_attempt_at=now, created_at=now
            )
        )
        return True
    return False


def apply_new(db: Database, connection: Connection, after_id: int, now: datetime) -> int:
    """Run every enabled rule on the items just inserted (ids above
    ``after_id``), in the writer's transaction; returns how many actions it took."""
    found = connection.execute(select(rules).where(_r.enabled == true())).all()
    if not found:
        return 0
    new = connection.execute(select(items.c.id, items.c.feed_id).where(items.c.id > after_id)).all()
    if not new:
        return 0
    by_feed: dict[int, list[int]] = {}
    for item_id, feed_id in new:
        by_feed.setdefault(feed_id, []).append(item_id)
    texts = dict(_texts(connection, [item_id for item_id, _ in new]))
    acted = 0
    for row in found:
        rule = _rule_from_row(row)
        book = RuleBook(db, row.user_id)
        try:
            matcher = rule_logic.check(rule.field, rule.match, rule.pattern, rule.action)
            scope: set[int] = set(book.scope_feeds(connection, rule))
        except Exception:  # a rule saved before a check grew stricter, a folder gone: it does nothing
            continue
        candidates = [(item_id, texts[item_id]) for feed_id in scope for item_id in by_feed.get(feed_id, ()) if item_id in texts]
        for item_id in rule_logic.matching(matcher, rule.field, candidates):
            acted += int(_act(connection, book.shelf, rule, item_id, now))
    return acted


# -- webhook deliveries -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    rule_id: int
    attempts: int
    url: str
    secret: str | None
    rule_name: str
    item_id: int
    item_title: str | None
    item_link: str | None
    item_date: datetime
    feed_title: str


def due_deliveries(connection: Connection, now: datetime, limit: int = 50) -> list[Delivery]:
    d = rule_deliveries.c
    rows = connection.execute(
        select(
            d.id,
            d.rule_id,
            d.attempts,
            _r.webhook_url,
            _r.webhook_secret,
            _r.name,
            items.c.id.label("item_id"),
            items.c.title,
            items.c.link,
            items.c.date,
            feeds.c.custom_title,
            feeds.c.feed_title,
            feeds.c.url,
        )
        .join(rules, _r.id == d.rule_id)
        .join(items, items.c.id == d.item_id)
        .join(feeds, feeds.c.id == items.c.feed_id)
        .where(d.state == "pending", d.next_attempt_at <= now)
        .order_by(d.next_attempt_at, d.id)
        .limit(limit)
    ).all()
    return [
        Delivery(
            row.id,
            row.rule_id,
            row.attempts,
            row.webhook_url or "",
            row.webhook_secret,
            row.name,
            row.item_id,
            row.title,
            row.link,
            row.date,
            row.custom_title or row.feed_title or row.url,
        )
        for row in rows
    ]


def delivered(connection: Connection, delivery: Delivery, now: datetime, *, status: int | None, error: str | None) -> None:
    """Record a webhook call's outcome: delivered, to be retried later, or failed for good."""
    d = rule_deliveries.c
    attempts = delivery.attempts + 1
    if error is None:
        values: dict[str, Any] = {"state": "delivered", "delivered_at": now, "http_status": status, "error": None}
    elif attempts > len(RETRY_AFTER):
        values = {"state": "failed", "http_status": status, "error": error[:500], "next_attempt_at": None}
    else:
        values = {"http_status": status, "error": error[:500], "next_attempt_at": now + RETRY_AFTER[attempts - 1]}
    connection.execute(update(rule_deliveries).where(d.id == delivery.id).values(attempts=attempts, **values))
