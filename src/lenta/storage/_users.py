"""Users: names, password hashes (hashing itself is lenta.auth's job), roles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from lenta.exceptions import UserExistsError
from lenta.exceptions import UserNotFoundError
from lenta.storage._base import Database
from lenta.storage.schema import users
from lenta.types import User


class UserStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, name: str, password_hash: str, *, is_admin: bool, now: datetime) -> User:
        with self.db.write() as connection:
            try:
                with connection.begin_nested():
                    connection.execute(
                        insert(users).values(name=name, password_hash=password_hash, is_admin=is_admin, created_at=now)
                    )
            except IntegrityError:
                raise UserExistsError(name) from None
        return self.get(name)

    def get(self, name: str) -> User:
        user, _ = self.get_with_hash(name)
        return user

    def get_with_hash(self, name: str) -> tuple[User, str]:
        with self.db.read() as connection:
            row = connection.execute(select(users).where(users.c.name == name)).first()
        if row is None:
            raise UserNotFoundError(name)
        return User(id=row.id, name=row.name, is_admin=bool(row.is_admin), created_at=row.created_at), row.password_hash

    def set_password_hash(self, name: str, password_hash: str) -> None:
        with self.db.write() as connection:
            if connection.execute(update(users).where(users.c.name == name).values(password_hash=password_hash)).rowcount == 0:
                raise UserNotFoundError(name)

    def get_by_id(self, user_id: int) -> User:
        with self.db.read() as connection:
            row = connection.execute(select(users).where(users.c.id == user_id)).first()
        if row is None:
            raise UserNotFoundError(str(user_id))
        return User(id=row.id, name=row.name, is_admin=bool(row.is_admin), created_at=row.created_at)

    def set_admin(self, name: str, is_admin: bool) -> None:
        with self.db.write() as connection:
            if connection.execute(update(users).where(users.c.name == name).values(is_admin=is_admin)).rowcount == 0:
                raise UserNotFoundError(name)

    def delete(self, name: str) -> None:
        """Delete the user; their sessions go with them (ON DELETE CASCADE)."""
        with self.db.write() as connection:
            if connection.execute(delete(users).where(users.c.name == name)).rowcount == 0:
                raise UserNotFoundError(name)

    def admin_count(self) -> int:
        with self.db.read() as connection:
            return int(connection.execute(select(func.count()).select_from(users).where(users.c.is_admin)).scalar_one())

    def list(self) -> list[User]:
        with self.db.read() as connection:
            rows = connection.execute(select(users).order_by(users.c.name))
            return [User(id=r.id, name=r.name, is_admin=bool(r.is_admin), created_at=r.created_at) for r in rows]
