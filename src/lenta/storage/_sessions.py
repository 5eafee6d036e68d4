"""Signed-in sessions and the failed sign-ins that throttle logins.

A session row is keyed by the SHA-256 of the token in the browser's cookie
(the token itself is never stored), belongs to one user, carries that
browser's CSRF token and its pending flash messages, and ends at a fixed
time. What counts as too many failures is decided in :mod:`lenta.logins`;
this module only keeps the counts.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterable
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Connection
from sqlalchemy import delete
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from lenta.logins import FailureState
from lenta.storage._base import Database
from lenta.storage.schema import login_failures
from lenta.storage.schema import sessions
from lenta.storage.schema import users
from lenta.types import Session
from lenta.types import User

# Flash messages a session holds at most (an OPML import reports every bad
# entry: 500 of them still fit); older ones go first.
MAX_MESSAGES = 5000


class SessionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, session_id: str, user_id: int, csrf_token: str, *, now: datetime, expires_at: datetime) -> None:
        with self.db.write() as connection:
            connection.execute(
                insert(sessions).values(
                    id=session_id, user_id=user_id, csrf_token=csrf_token, created_at=now, expires_at=expires_at
                )
            )

    def get(self, session_id: str, now: datetime) -> Session | None:
        """The live session with this id, with its user; None if there is
        none, or it has ended."""
        with self.db.read() as connection:
            return self.get_in(connection, session_id, now)

    @staticmethod
    def get_in(connection: Connection, session_id: str, now: datetime) -> Session | None:
        """:meth:`get`, in the caller's transaction."""
        query = (
            select(
                sessions.c.id,
                sessions.c.csrf_token,
                sessions.c.created_at,
                sessions.c.expires_at,
                users.c.id.label("user_id"),
                users.c.name,
                users.c.is_admin,
                users.c.created_at.label("user_created"),
                sessions.c.messages.is_not(None).label("has_messages"),
            )
            .select_from(sessions.join(users, users.c.id == sessions.c.user_id))
            .where(sessions.c.id == session_id, sessions.c.expires_at > now)
        )
        row = connection.execute(query).first()
        if row is None:
            return None
        user = User(id=row.user_id, name=row.name, is_admin=bool(row.is_admin), created_at=row.user_created)
        return Session(
            id=row.id,
            user=user,
            csrf_token=row.csrf_token,
            created_at=row.created_at,
            expires_at=row.expires_at,
            has_messages=bool(row.has_messages),
        )

    def delete(self, session_id: str) -> None:
        with self.db.write() as connection:
            connection.execute(delete(sessions).where(sessions.c.id == session_id))

    def delete_for_user(self, user_id: int, *, keep: str | None = None) -> int:
        """End every session of the user (but ``keep``, if given)."""
        query = delete(sessions).where(sessions.c.user_id == user_id)
        if keep is not None:
            query = query.where(sessions.c.id != keep)
        with self.db.write() as connection:
            return connection.execute(query).rowcount

    def delete_all(self) -> int:
        with self.db.write() as connection:
            return connection.execute(delete(sessions)).rowcount

    def delete_expired(self, now: datetime) -> int:
        with self.db.write() as connection:
            return connection.execute(delete(sessions).where(sessions.c.expires_at <= now)).rowcount

    def add_messages(self, session_id: str, messages: Iterable[Mapping[str, str]]) -> None:
        new = [dict(message) for message in messages]
        with self.db.write() as connection:
            stored = connection.execute(select(sessions.c.messages).where(sessions.c.id == session_id)).first()
            if stored is None:
                return  # the session ended meanwhile: nobody is left to read them
            queued = json.loads(stored.messages) if stored.messages else []
            queued = (queued + new)[-MAX_MESSAGES:]
            connection.execute(
                update(sessions).where(sessions.c.id == session_id).values(messages=json.dumps(queued, ensure_ascii=False))
            )

    def pop_messages(self, session_id: str) -> builtins.list[dict[str, str]]:
        with self.db.read() as connection:
            stored = connection.execute(select(sessions.c.messages).where(sessions.c.id == session_id)).scalar()
        if not stored:  # the common case: nothing to show, nothing to write
            return []
        with self.db.write() as connection:
            stored = connection.execute(select(sessions.c.messages).where(sessions.c.id == session_id)).scalar()
            connection.execute(update(sessions).where(sessions.c.id == session_id).values(messages=None))
        found: builtins.list[dict[str, str]] = json.loads(stored) if stored else []
        return found


class LoginFailureStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, keys: Iterable[str]) -> dict[str, FailureState]:
        wanted = builtins.list(keys)
        with self.db.read() as connection:
            rows = connection.execute(select(login_failures).where(login_failures.c.key.in_(wanted)))
            return {row.key: FailureState(row.failures, row.last_at, row.locked_until) for row in rows}

    def put(self, states: Mapping[str, FailureState], *, forget_before: datetime) -> None:
        """Store each key's new state; rows last touched before
        ``forget_before`` are dropped on the way, so the table stays small."""
        with self.db.write() as connection:
            connection.execute(delete(login_failures).where(login_failures.c.last_at < forget_before))
            for key, state in states.items():
                values = {"failures": state.failures, "last_at": state.last_at, "locked_until": state.locked_until}
                changed = connection.execute(update(login_failures).where(login_failures.c.key == key).values(**values)).rowcount
                if changed:
                    continue
                try:
                    with connection.begin_nested():
                        connection.execute(insert(login_failures).values(key=key, **values))
                except IntegrityError:  # another process made the row meanwhile (PostgreSQL): update it
                    connection.execute(update(login_failures).where(login_failures.c.key == key).values(**values))

    def clear(self, key: str) -> None:
        with self.db.write() as connection:
            connection.execute(delete(login_failures).where(login_failures.c.key == key))
