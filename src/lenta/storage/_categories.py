"""Categories (Drupal's aggregator categories) and their feeds."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from lenta.exceptions import CategoryExistsError
from lenta.exceptions import CategoryNotFoundError
from lenta.storage._base import Database
from lenta.storage.schema import categories
from lenta.storage.schema import feed_categories
from lenta.types import Category
from lenta.types import Page


class CategoryStore:
    """Queries on categories; test new ones in tests/test_storage.py."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _select(self) -> Select[Any]:
        counts = select(feed_categories.c.category_id, func.count().label("n")).group_by(feed_categories.c.category_id).subquery()
        return select(categories, counts.c.n).select_from(categories.outerjoin(counts, counts.c.category_id == categories.c.id))

    def add(self, title: str, description: str | None = None) -> Category:
        with self.db.write() as connection:
            try:
                with connection.begin_nested():
                    category_id = connection.execute(
                        insert(categories).values(title=title, description=description).returning(categories.c.id)
                    ).scalar_one()
            except IntegrityError:
                raise CategoryExistsError(title) from None
        return self.get(category_id)

    def get(self, category_id: int) -> Category:
        with self.db.read() as connection:
            row = connection.execute(self._select().where(categories.c.id == category_id)).first()
        if row is None:
            raise CategoryNotFoundError(category_id)
        return Category(id=row.id, title=row.title, description=row.description, feed_count=row.n or 0)

    def find(self, title: str) -> Category | None:
        """The category with this title, ignoring case in any script (SQLite's
        lower() only folds ASCII, so the comparison is made here)."""
        key = title.casefold()
        return next((category for category in self.list() if category.title.casefold() == key), None)

    def list(self) -> list[Category]:
        with self.db.read() as connection:
            rows = connection.execute(self._select().order_by(func.lower(categories.c.title), categories.c.id))
            return [Category(id=r.id, title=r.title, description=r.description, feed_count=r.n or 0) for r in rows]

    def page(self, page: int, per_page: int) -> Page[Category]:
        """Categories by title, Drupal's ``?page=N`` slicing (``/aggregator/categories``)."""
        query = self._select().order_by(func.lower(categories.c.title), categories.c.id).limit(per_page).offset(page * per_page)
        with self.db.read() as connection:
            total = connection.execute(select(func.count()).select_from(categories)).scalar_one()
            rows = connection.execute(query).all()
        found = tuple(Category(id=r.id, title=r.title, description=r.description, feed_count=r.n or 0) for r in rows)
        return Page(items=found, page=page, per_page=per_page, total=total)

    def change(self, category_id: int, *, title: str, description: str | None) -> Category:
        with self.db.write() as connection:
            try:
                with connection.begin_nested():
                    result = connection.execute(
                        update(categories).where(categories.c.id == category_id).values(title=title, description=description)
                    )
            except IntegrityError:
                raise CategoryExistsError(title) from None
            if result.rowcount == 0:
                raise CategoryNotFoundError(category_id)
        return self.get(category_id)

    def delete(self, category_id: int) -> None:
        with self.db.write() as connection:
            if connection.execute(delete(categories).where(categories.c.id == category_id)).rowcount == 0:
                raise CategoryNotFoundError(category_id)
