"""Site settings an admin changes at run time: name → text value."""

from __future__ import annotations

from sqlalchemy import Connection
from sqlalchemy import delete
from sqlalchemy import insert
from sqlalchemy import select

from lenta.storage._base import Database
from lenta.storage.schema import site_settings


class SettingStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def all(self) -> dict[str, str]:
        with self.db.read() as connection:
            return self.all_in(connection)

    @staticmethod
    def all_in(connection: Connection) -> dict[str, str]:
        """:meth:`all`, in the caller's transaction."""
        return {name: value for name, value in connection.execute(select(site_settings))}

    def put(self, values: dict[str, str]) -> None:
        with self.db.write() as connection:
            if values:
                connection.execute(delete(site_settings).where(site_settings.c.name.in_(list(values))))
                connection.execute(insert(site_settings), [{"name": k, "value": v} for k, v in values.items()])
