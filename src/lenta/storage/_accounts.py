"""What a user keeps beside their password: a second factor (the TOTP
secret, when it was confirmed, the last step accepted, recovery codes) and
their settings (``user_settings``: name → text).

Codes are checked in :mod:`lenta.totp`; this module keeps what the checks
need, and makes each use of a code a single transaction that either takes
it or finds it taken, so two requests racing with one code cannot both
win.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Connection
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update

from lenta.exceptions import UserNotFoundError
from lenta.storage._base import Database
from lenta.storage.schema import recovery_codes
from lenta.storage.schema import user_settings
from lenta.storage.schema import users

# Where the last accepted TOTP step is kept (a reserved user setting: names
# starting with "_" are never settings, see lenta.user_settings).
LAST_STEP = "_totp_last_step"


class AccountStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- the second factor -----------------------------------------------

    def totp(self, user_id: int) -> tuple[str | None, datetime | None]:
        """The user's TOTP secret and when it was confirmed (None: not yet, or none)."""
        with self.db.read() as connection:
            row = connection.execute(select(users.c.totp_secret, users.c.totp_enabled_at).where(users.c.id == user_id)).first()
        if row is None:
            raise UserNotFoundError(str(user_id))
        return row.totp_secret, row.totp_enabled_at

    def set_pending_secret(self, user_id: int, secret: str) -> None:
        """A secret waiting for its first code (sign-in does not ask for one yet)."""
        with self.db.write() as connection:
            connection.execute(
                update(users).where(users.c.id == user_id, users.c.totp_enabled_at.is_(None)).values(totp_secret=secret)
            )

    def enable(self, user_id: int, secret: str, *, now: datetime, step: int, code_hashes: Iterable[str]) -> bool:
        """Confirm ``secret`` (still the pending one) with the step of the
        code that proved it, and replace the recovery codes. False if the
        secret changed or was confirmed meanwhile."""
        with self.db.write() as connection:
            done = connection.execute(
                update(users)
                .where(users.c.id == user_id, users.c.totp_secret == secret, users.c.totp_enabled_at.is_(None))
                .values(totp_enabled_at=now)
            ).rowcount
            if not done:
                return False
            connection.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))
            connection.execute(insert(recovery_codes), [{"user_id": user_id, "code_hash": h} for h in code_hashes])
            self._put(connection, user_id, {LAST_STEP: str(step)})
        return True

    def disable(self, user_id: int) -> bool:
        """Turn the second factor off: no secret, no recovery codes, no
        remembered step. False if the user had none (not even a pending one)."""
        with self.db.write() as connection:
            changed = connection.execute(
                update(users)
                .where(users.c.id == user_id, users.c.totp_secret.is_not(None))
                .values(totp_secret=None, totp_enabled_at=None)
            ).rowcount
            connection.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))
            connection.execute(delete(user_settings).where(user_settings.c.user_id == user_id, user_settings.c.name == LAST_STEP))
        return bool(changed)

    def last_step(self, user_id: int) -> int | None:
        with self.db.read() as connection:
            return _last_step(connection, user_id)

    def accept_step(self, user_id: int, step: int) -> bool:
        """Take ``step`` as the user's last accepted one, if it is later than
        the one before (a code is good once); False if it is not."""
        with self.db.write() as connection:
            # The user's row first: on PostgreSQL two requests with one code
            # queue here (SQLite's writes queue anyway).
            if connection.execute(select(users.c.id).where(users.c.id == user_id).with_for_update()).first() is None:
                return False
            last = _last_step(connection, user_id)
            if last is not None and step <= last:
                return False
            self._put(connection, user_id, {LAST_STEP: str(step)})
        return True

    def use_recovery_code(self, user_id: int, code_hash: str, *, now: datetime) -> bool:
        """Mark the unused recovery code with this hash used; False if there is none."""
        with self.db.write() as connection:
            return bool(
                connection.execute(
                    update(recovery_codes)
                    .where(
                        recovery_codes.c.user_id == user_id,
                        recovery_codes.c.code_hash == code_hash,
                        recovery_codes.c.used_at.is_(None),
                    )
                    .values(used_at=now)
                ).rowcount
            )

    def recovery_codes_left(self, user_id: int) -> int:
        with self.db.read() as connection:
            return int(
                connection.execute(
                    select(func.count())
                    .select_from(recovery_codes)
                    .where(recovery_codes.c.user_id == user_id, recovery_codes.c.used_at.is_(None))
                ).scalar_one()
            )

    # -- settings --------------------------------------------------------

    def settings(self, user_id: int) -> dict[str, str]:
        """The user's stored settings (lenta's own reserved names left out)."""
        with self.db.read() as connection:
            return self.settings_in(connection, user_id)

    @staticmethod
    def settings_in(connection: Connection, user_id: int) -> dict[str, str]:
        """:meth:`settings`, in the caller's transaction."""
        rows = connection.execute(
            select(user_settings.c.name, user_settings.c.value).where(
                user_settings.c.user_id == user_id, ~user_settings.c.name.startswith("_", autoescape=True)
            )
        )
        return {name: value for name, value in rows}

    def put_settings(self, user_id: int, values: Mapping[str, str]) -> None:
        with self.db.write() as connection:
            self._put(connection, user_id, values)

    @staticmethod
    def _put(connection: Connection, user_id: int, values: Mapping[str, str]) -> None:
        if not values:
            return
        # Two writers of one user's settings queue on the user's row (PostgreSQL; SQLite's writes queue anyway).
        connection.execute(select(users.c.id).where(users.c.id == user_id).with_for_update()).first()
        connection.execute(
            delete(user_settings).where(user_settings.c.user_id == user_id, user_settings.c.name.in_(list(values)))
        )
        connection.execute(
            insert(user_settings), [{"user_id": user_id, "name": name, "value": value} for name, value in values.items()]
        )


def _last_step(connection: Connection, user_id: int) -> int | None:
    value = connection.execute(
        select(user_settings.c.value).where(user_settings.c.user_id == user_id, user_settings.c.name == LAST_STEP)
    ).scalar()
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
