"""The icon step: after a refresh round, fetch the feed icons that are due.

::

    storage.icons.due ── feeds refreshed fine whose icon is missing or old
      │                  (at most ICONS_PER_ROUND), each marked as tried first
      ▼
    find_icon, for each at once ── the feed's image, the home page's
      │                            <link rel="icon">, /favicon.ico: the
      │                            first that is an image (lenta.icons)
      ▼
    storage.icons.put ── the bytes, what they are, their digest

Every request goes through :class:`lenta.fetch.http.HTTPClient`, so the
address guard (``LENTA_FETCH_ALLOW``), redirects, decompression and
per-host limits apply as to feeds; the bounds are an icon's: bodies of at
most :data:`lenta.icons.MAX_ICON_BYTES` (the home page
:data:`lenta.icons.MAX_PAGE_BYTES`), short timeouts, and the whole step
within :data:`lenta.icons.ICON_STEP_SECONDS`. No credentials are sent: an
icon is public, and a feed's password is for its feed.

Nothing here raises for one feed's trouble: a feed without an icon just
shows none, and is tried again a day later.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from lenta.config import Settings
from lenta.exceptions import FetchError
from lenta.exceptions import InvalidInputError
from lenta.fetch.http import HTTPClient
from lenta.fetch.http import Resolver
from lenta.icons import ICON_DEADLINE
from lenta.icons import ICON_STEP_SECONDS
from lenta.icons import ICON_TIMEOUT
from lenta.icons import ICONS_PER_ROUND
from lenta.icons import MAX_ICON_BYTES
from lenta.icons import MAX_PAGE_BYTES
from lenta.icons import IconTarget
from lenta.icons import digest
from lenta.icons import favicon_url
from lenta.icons import home_page
from lenta.icons import icon_links
from lenta.icons import is_image_type
from lenta.icons import sniff_image
from lenta.storage import Storage

log = logging.getLogger(__name__)

IMAGE_ACCEPT = "image/png, image/x-icon, image/gif, image/jpeg, image/webp, image/*;q=0.8"
# Icons a page names that are tried, after the feed's own image and before /favicon.ico.
MAX_PAGE_ICONS = 3


@dataclass(frozen=True, slots=True)
class FoundIcon:
    url: str
    data: bytes
    media_type: str


@dataclass(frozen=True, slots=True)
class IconSummary:
    """What one step did: feeds tried, icons found."""

    tried: int = 0
    found: int = 0


class IconFetcher:
    """Two guarded clients with an icon's bounds: one for images, one for
    home pages (bigger bodies, HTML)."""

    def __init__(self, images: HTTPClient, pages: HTTPClient) -> None:
        self.images = images
        self.pages = pages

    @classmethod
    @asynccontextmanager
    async def open(cls, settings: Settings, resolver: Resolver | None = None) -> AsyncIterator[IconFetcher]:
        bounded = settings.replace(
            fetch_timeout=min(settings.fetch_timeout, ICON_TIMEOUT), fetch_deadline=min(settings.fetch_deadline, ICON_DEADLINE)
        )
        images = HTTPClient(bounded.replace(fetch_max_bytes=min(settings.fetch_max_bytes, MAX_ICON_BYTES)), resolver=resolver)
        pages = HTTPClient(bounded.replace(fetch_max_bytes=min(settings.fetch_max_bytes, MAX_PAGE_BYTES)), resolver=resolver)
        async with images, pages:
            yield cls(images, pages)

    async def find(self, target: IconTarget) -> FoundIcon | None:
        """The feed's icon: the first candidate that is an image (see
        :mod:`lenta.icons` for the order); None if none is."""
        tried: set[str] = set()
        if target.image_url:
            found = await self._image(target.image_url, tried)
            if found is not None:
                return found
        for url in (await self._page_icons(target))[:MAX_PAGE_ICONS]:
            found = await self._image(url, tried)
            if found is not None:
                return found
        return await self._image(favicon_url(target), tried)

    async def _image(self, url: str, tried: set[str]) -> FoundIcon | None:
        if url in tried:
            return None
        tried.add(url)
        try:
            result = await self.images.fetch(url, accept=IMAGE_ACCEPT)
        except (FetchError, InvalidInputError) as error:  # the guard's refusals are FetchErrors too
            log.debug("no icon at %s: %s", url, error)
            return None
        body = result.body or b""
        media_type = sniff_image(body)
        if result.status != 200 or not is_image_type(result.content_type) or media_type is None:
            log.debug("no icon at %s: not an image (%s)", url, result.content_type)
            return None
        return FoundIcon(url=result.url, data=body, media_type=media_type)

    async def _page_icons(self, target: IconTarget) -> list[str]:
        url = home_page(target)
        try:
            result = await self.pages.fetch(url, accept="text/html, application/xhtml+xml;q=0.9")
        except (FetchError, InvalidInputError) as error:
            log.debug("no home page at %s: %s", url, error)
            return []
        if not result.body or result.content_type not in {"text/html", "application/xhtml+xml", None}:
            return []
        return icon_links(result.body, result.url)


async def refresh_icons(
    storage: Storage,
    settings: Settings,
    now: datetime,
    *,
    limit: int = ICONS_PER_ROUND,
    resolver: Resolver | None = None,
) -> IconSummary:
    """Fetch the icons that are due at ``now`` (at most ``limit``) and store
    what was found. Raises StorageError only (the database failed)."""
    targets = storage.icons.due(now, limit)
    if not targets:
        return IconSummary()
    for target in targets:
        # Marked first: a feed the step runs out of time on waits its day like any other.
        storage.icons.tried(target.feed_id, now)
    found: list[FoundIcon | None] = [None] * len(targets)
    async with IconFetcher.open(settings, resolver) as fetcher:

        async def one(index: int) -> None:
            found[index] = await fetcher.find(targets[index])

        try:
            async with asyncio.timeout(ICON_STEP_SECONDS):
                await asyncio.gather(*(one(index) for index in range(len(targets))))
        except TimeoutError:
            log.info("the icon step ran out of time; the icons not found yet are tried again later")
    for target, icon in zip(targets, found):
        if icon is not None:
            storage.icons.put(target.feed_id, now, icon.data, icon.media_type, digest(icon.data), icon.url)
    return IconSummary(tried=len(targets), found=sum(icon is not None for icon in found))
