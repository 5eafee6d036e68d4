"""Politeness: how many requests lenta has in flight to one host, and how often.

The key is the **host name** alone (:func:`host_key`): lower-cased, without a
trailing dot, the port ignored. Politeness is owed to a site, and a site is
a name: ``example.com:80`` and ``example.com:8080`` are most likely the same
machine and the same people, so they share one limit, while ``a.localhost``
and ``b.localhost`` are two sites even when one server answers both (as in
the benchmarks, which serve many "sites" from one 127.0.0.1 port). The key
is not the address either: one CDN address fronts many unrelated sites.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

_PRUNE_ABOVE = 256  # gates kept before idle ones are swept


def host_key(host: str) -> str:
    """The limiter's key for ``host`` (a URL's host, without the port)."""
    return host.rstrip(".").lower()


@dataclass(slots=True)
class _Gate:
    semaphore: asyncio.Semaphore
    lock: asyncio.Lock  # serializes the spacing wait
    next_start: float = 0.0
    users: int = 0


class HostLimiter:
    """At most ``per_host`` requests in flight to one host, their starts at
    least ``interval`` seconds apart. Gates of idle hosts are dropped."""

    def __init__(self, per_host: int, interval: float) -> None:
        self._per_host = per_host
        self._interval = interval
        self._gates: dict[str, _Gate] = {}

    @contextlib.asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        """Wait for a slot for ``host`` (see :func:`host_key`); hold it inside the ``async with``."""
        key = host_key(host)
        loop = asyncio.get_running_loop()
        gate = self._gates.get(key)
        if gate is None:
            self._prune(loop.time())
            gate = self._gates[key] = _Gate(asyncio.Semaphore(self._per_host), asyncio.Lock())
        gate.users += 1
        try:
            async with gate.semaphore:
                if self._interval > 0:
                    async with gate.lock:
                        delay = gate.next_start - loop.time()
                        if delay > 0:
                            await asyncio.sleep(delay)
                        gate.next_start = loop.time() + self._interval
                yield
        finally:
            gate.users -= 1
            if gate.users == 0 and gate.next_start <= loop.time():
                self._gates.pop(key, None)

    def _prune(self, now: float) -> None:
        # Gates kept only for their spacing: drop them once it has passed.
        if len(self._gates) > _PRUNE_ABOVE:
            for key, gate in list(self._gates.items()):
                if gate.users == 0 and gate.next_start <= now:
                    del self._gates[key]
