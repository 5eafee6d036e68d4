"""App passwords and API keys (``api_credentials``, migration 0012): one
user's through :class:`CredentialShelf`; a secret's owner by its hash."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update

from lenta.exceptions import NotFollowingError
from lenta.storage._base import Database
from lenta.storage.schema import api_credentials

_c = api_credentials.c
TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often per credential


@dataclass(frozen=True, slots=True)
class Credential:
    id: int
    name: str
    kind: str  # app_password, api_key
    created_at: datetime
    last_used_at: datetime | None


class CredentialShelf:
    def __init__(self, db: Database, user_id: int) -> None:
        self.db = db
        self.user_id = user_id

    def add(self, name: str, kind: str, secret_hash: str, now: datetime, fever_key: str | None = None) -> Credential:
        with self.db.write() as connection:
            new_id = connection.execute(
                insert(api_credentials)
                .values(user_id=self.user_id, name=name, kind=kind, secret_hash=secret_hash, created_at=now, fever_key=fever_key)
                .returning(_c.id)
            ).scalar_one()
        return Credential(new_id, name, kind, now, None)

    def all(self) -> list[Credential]:
        with self.db.read() as connection:
            rows = connection.execute(
                select(_c.id, _c.name, _c.kind, _c.created_at, _c.last_used_at)
                .where(_c.user_id == self.user_id)
                .order_by(_c.created_at, _c.id)
            ).all()
        return [Credential(*row) for row in rows]

    def revoke(self, credential_id: int) -> None:
        with self.db.write() as connection:
            deleted = connection.execute(
                delete(api_credentials).where(_c.id == credential_id, _c.user_id == self.user_id)
            ).rowcount
        if not deleted:
            raise NotFollowingError(credential_id)


def owner_of(db: Database, secret_hash: str, kinds: tuple[str, ...], now: datetime) -> int | None:
    """The user id a secret (by its hash) belongs to, if it is one of ``kinds``;
    its last use noted."""
    with db.read() as connection:
        row = connection.execute(
            select(_c.id, _c.user_id, _c.last_used_at).where(_c.secret_hash == secret_hash, _c.kind.in_(kinds))
        ).first()
    if row is None:
        return None
    if row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY:
        with db.write() as connection:
            connection.execute(update(api_credentials).where(_c.id == row.id).values(last_used_at=now))
    return int(row.user_id)


def owner_by_fever_key(db: Database, key: str, now: datetime) -> int | None:
    """The user id of an app password by its Fever key; its last use noted."""
    with db.read() as connection:
        row = connection.execute(select(_c.id, _c.user_id, _c.last_used_at).where(_c.fever_key == key)).first()
    if row is None:
        return None
    if row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY:
        with db.write() as connection:
            connection.execute(update(api_credentials).where(_c.id == row.id).values(last_used_at=now))
    return int(row.user_id)
