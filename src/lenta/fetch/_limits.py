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
from collections.abc import Mapping
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


class _Slot:
    """``async with limiter.slot(host)``: a class, not a generator, since
    every request enters one."""

    __slots__ = ("_limiter", "_key", "_gate", "_held")

    def __init__(self, limiter: HostLimiter, key: str) -> None:
        self._limiter = limiter
        self._key = key
        self._gate: _Gate | None = None
        self._held = False

    async def __aenter__(self) -> None:
        limiter = self._limiter
        loop = asyncio.get_running_loop()
        gate = self._gate = limiter._gate(self._key, loop.time())
        try:
            await gate.semaphore.acquire()
            self._held = True
            if limiter._interval > 0:
                async with gate.lock:
                    delay = gate.next_start - loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    gate.next_start = loop.time() + limiter._interval
        except BaseException:
            self._exit(loop)
            raise

    async def __aexit__(self, *exc_info: object) -> None:
        self._exit(asyncio.get_running_loop())

    def _exit(self, loop: asyncio.AbstractEventLoop) -> None:
        gate = self._gate
        if gate is None:
            return
        self._gate = None
        if self._held:
            gate.semaphore.release()
            self._held = False
        self._limiter._release(self._key, gate, loop.time())


class HostLimiter:
    """At most ``per_host`` requests in flight to one host, their starts at
    least ``interval`` seconds apart. Gates of idle hosts are dropped.

    ``limits`` overrides ``per_host`` for some hosts (keys as
    :func:`host_key` makes them): the share of a host's connections a
    process has when other processes fetch from it too
    (:class:`lenta.update.order.Shard`)."""

    def __init__(self, per_host: int, interval: float, limits: Mapping[str, int] | None = None) -> None:
        self._per_host = per_host
        self._interval = interval
        self._limits = dict(limits or {})
        self._gates: dict[str, _Gate] = {}

    def slot(self, host: str) -> _Slot:
        """Wait for a slot for ``host`` (see :func:`host_key`); hold it inside the ``async with``."""
        return _Slot(self, host_key(host))

    def _gate(self, key: str, now: float) -> _Gate:
        gate = self._gates.get(key)
        if gate is None:
            self._prune(now)
            gate = self._gates[key] = _Gate(asyncio.Semaphore(self._limits.get(key, self._per_host)), asyncio.Lock())
        gate.users += 1
        return gate

    def _release(self, key: str, gate: _Gate, now: float) -> None:
        gate.users -= 1
        if gate.users == 0 and gate.next_start <= now:
            self._gates.pop(key, None)

    def _prune(self, now: float) -> None:
        # Gates kept only for their spacing: drop them once it has passed.
        if len(self._gates) > _PRUNE_ABOVE:
            for key, gate in list(self._gates.items()):
                if gate.users == 0 and gate.next_start <= now:
                    del self._gates[key]
