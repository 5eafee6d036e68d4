"""The background refresher: every tick, refresh the feeds that are due.

It decides nothing itself: which feeds are due is in the database
(``next_check_at``, computed by :mod:`lenta.update.decide`), and the
refresh is :meth:`lenta.core.Lenta.refresh`. Each tick also runs the
WebSub maintenance step (:meth:`lenta.core.Lenta.websub_maintain`).
"""

from __future__ import annotations

import asyncio
import logging

from lenta.core import Lenta
from lenta.fetch.http import HTTPClient

log = logging.getLogger(__name__)


async def run_forever(lenta: Lenta, *, stop: asyncio.Event | None = None) -> None:
    """Refresh due feeds every ``settings.scheduler_tick`` seconds until ``stop`` is set."""
    stop = stop or asyncio.Event()
    async with HTTPClient(lenta.settings) as client:
        lenta.http = client
        try:
            while not stop.is_set():
                try:
                    summary = await lenta.refresh()
                    if summary.ok or summary.failed or summary.not_modified:
                        log.info("refreshed: %s", summary)
                except Exception:  # keep the loop alive; the error is logged with its traceback
                    log.exception("refresh failed")
                try:  # WebSub: subscribe, renew leases, retry, unsubscribe deleted feeds
                    websub = await lenta.websub_maintain()
                    if websub:
                        log.info("websub: %s", websub)
                except Exception:
                    log.exception("websub maintenance failed")
                try:
                    await asyncio.wait_for(stop.wait(), timeout=lenta.settings.scheduler_tick)
                except asyncio.TimeoutError:
                    pass
        finally:
            lenta.http = None
