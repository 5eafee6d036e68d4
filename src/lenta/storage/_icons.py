"""Feed icons: the ``feed_icons`` table (migration 0007).

Which icons are due and what counts as an icon is decided in
:mod:`lenta.icons`; this module only reads and writes rows. Test new
queries in tests/test_icons.py, on both backends.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_
from sqlalchemy import exc as sa_exc
from sqlalchemy import insert
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update

from lenta.exceptions import StorageError
from lenta.icons import REFRESH_AFTER
from lenta.icons import RETRY_AFTER
from lenta.icons import FeedIcon
from lenta.icons import IconTarget
from lenta.storage._base import Database
from lenta.storage.schema import feed_icons
from lenta.storage.schema import feeds

# Ids in one IN list: far below both backends' limits on bound parameters.
_CHUNK = 500


class IconStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, feed_id: int, *, published_only: bool = False) -> FeedIcon | None:
        """The feed's icon; None when it has none (yet), or with
        ``published_only`` when the feed is not on the public site."""
        query = select(feed_icons).where(feed_icons.c.feed_id == feed_id, feed_icons.c.data.is_not(None))
        if published_only:
            query = query.where(feed_icons.c.feed_id.in_(select(feeds.c.id).where(feeds.c.id == feed_id, feeds.c.published)))
        with self.db.read() as connection:
            row = connection.execute(query).first()
        if row is None:
            return None
        m = row._mapping
        return FeedIcon(
            feed_id=m["feed_id"],
            data=bytes(m["data"]),
            media_type=m["media_type"],
            digest=m["digest"],
            fetched_at=m["fetched_at"],
            url=m["url"],
        )

    def versions(self, feed_ids: Iterable[int]) -> dict[int, str]:
        """Of ``feed_ids``, those with an icon, each with its digest (the
        pages put it in the icon's URL, so a new icon is a new URL)."""
        ids = sorted(set(feed_ids))
        found: dict[int, str] = {}
        with self.db.read() as connection:
            for start in range(0, len(ids), _CHUNK):
                query = select(feed_icons.c.feed_id, feed_icons.c.digest).where(
                    feed_icons.c.feed_id.in_(ids[start : start + _CHUNK]), feed_icons.c.data.is_not(None)
                )
                found.update({feed_id: digest for feed_id, digest in connection.execute(query)})
        return found

    def due(self, now: datetime, limit: int) -> list[IconTarget]:
        """Feeds whose last refresh succeeded and whose icon is due
        (:func:`lenta.icons.icon_due`), never tried first, then the longest
        waiting; at most ``limit``."""
        has_icon = feed_icons.c.data.is_not(None)
        query = (
            select(feeds.c.id, feeds.c.url, feeds.c.site_url, feeds.c.image_url)
            .select_from(feeds.outerjoin(feed_icons, feed_icons.c.feed_id == feeds.c.id))
            .where(
                feeds.c.checked_at.is_not(None),
                feeds.c.error.is_(None),
                feeds.c.gone.is_(False),
                or_(
                    feed_icons.c.feed_id.is_(None),
                    and_(has_icon, feed_icons.c.checked_at <= now - REFRESH_AFTER),
                    and_(~has_icon, feed_icons.c.checked_at <= now - RETRY_AFTER),
                ),
            )
            .order_by(feed_icons.c.checked_at.is_not(None), feed_icons.c.checked_at, feeds.c.id)
            .limit(limit)
        )
        with self.db.read() as connection:
            return [
                IconTarget(feed_id=r.id, feed_url=r.url, site_url=r.site_url, image_url=r.image_url)
                for r in connection.execute(query)
            ]

    def put(self, feed_id: int, now: datetime, data: bytes, media_type: str, digest: str, url: str) -> None:
        """Store the feed's new icon, fetched ``now`` from ``url``."""
        self._upsert(
            feed_id,
            {"checked_at": now, "fetched_at": now, "url": url, "media_type": media_type, "digest": digest, "data": data},
        )

    def tried(self, feed_id: int, now: datetime) -> None:
        """A try at ``now`` that found no icon: the icon there was (if any) is kept."""
        self._upsert(feed_id, {"checked_at": now})

    def _upsert(self, feed_id: int, values: dict[str, object]) -> None:
        try:
            with self.db.write() as connection:
                changed = connection.execute(update(feed_icons).where(feed_icons.c.feed_id == feed_id).values(values))
                if not changed.rowcount:
                    connection.execute(insert(feed_icons).values(feed_id=feed_id, **values))
        except StorageError as error:
            # Another refresher stored this feed's icon first (PostgreSQL
            # workers; SQLite's write lock lets no two in), or the feed was
            # deleted meanwhile: nothing of ours is lost either way.
            if not isinstance(error.__cause__, sa_exc.IntegrityError):
                raise
