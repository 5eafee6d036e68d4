"""Connecting: name resolution and the outbound guard, below httpx.

:class:`GuardedBackend` is the httpcore network backend every connection
goes through: it resolves the host itself, drops every address
:mod:`lenta.fetch.guard` refuses, and connects to the very address it
checked, so DNS rebinding cannot swap in 127.0.0.1 between check and
connect. TLS still verifies the certificate against the host name (httpcore
passes the URL's host to ``start_tls``). :class:`GuardedTransport` is
httpx's transport with its pool on that backend.

:func:`system_resolver` asks the system, except for the special-use names
of RFC 6761, answered here without DNS as browsers do: ``localhost`` and
names under it are loopback (§6.3; still refused by the guard unless
``LENTA_FETCH_ALLOW`` permits them), and names under ``.invalid`` do not
exist (§6.4), so no query for them ever leaves the machine.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import typing
import zlib
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Sequence

import httpcore
import httpx

from lenta.fetch.guard import Allowlist
from lenta.fetch.guard import address_allowed
from lenta.fetch.guard import not_allowed_error

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

# IPv4 first: more local servers listen there, and the backend tries in order.
LOOPBACK = ("127.0.0.1", "::1")


def is_invalid(host: str) -> bool:
    """Whether ``host`` is ``invalid`` or under ``.invalid`` (RFC 6761 §6.4)."""
    name = host.rstrip(".").lower()
    return name == "invalid" or name.endswith(".invalid")


def is_localhost(host: str) -> bool:
    """Whether ``host`` is ``localhost`` or a name under ``.localhost`` (any case, trailing dot or not)."""
    name = host.rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost")


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, in the system's preferred order.

    ``localhost`` and ``*.localhost`` are 127.0.0.1 and ::1 without asking
    DNS: RFC 6761 §6.3 says resolvers SHOULD answer them so, and neither
    /etc/hosts nor glibc covers subdomains of localhost everywhere.
    """
    if is_localhost(host):
        return list(LOOPBACK)
    if is_invalid(host):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that only connects to addresses the guard allows.

    ``connect_tcp(host, port)`` resolves ``host`` (with ``resolver``), keeps
    the addresses :func:`~lenta.fetch.guard.address_allowed` accepts, and
    asks the ``inner`` backend to connect to those IP addresses, in order,
    never to the name. No address left raises
    :class:`~lenta.exceptions.AddressNotAllowedError` before any packet
    is sent to the host.
    """

    def __init__(
        self,
        allowlist: Allowlist,
        *,
        resolver: Resolver = system_resolver,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._allowlist = allowlist
        self._resolve = resolver
        self._inner = inner if inner is not None else httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        started = loop.time()
        last_error: Exception | None = None
        for address in await self._allowed_addresses(host, port, timeout):
            remaining = None if timeout is None else max(0.0, timeout - (loop.time() - started))
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout=remaining, local_address=local_address, socket_options=socket_options
                )
            except httpcore.ConnectError as exc:  # try the next address
                last_error = exc
        assert last_error is not None
        raise last_error

    async def _allowed_addresses(self, host: str, port: int, timeout: float | None) -> list[str]:
        try:
            candidates = [ipaddress.ip_address(host)]
        except ValueError:
            try:
                async with asyncio.timeout(timeout):
                    found = await self._resolve(host, port)
            except TimeoutError as exc:
                raise httpcore.ConnectTimeout(f"timed out resolving {host}") from exc
            except socket.gaierror as exc:
                raise httpcore.ConnectError(f"could not resolve {host}: {exc}") from exc
            if not found:
                raise httpcore.ConnectError(f"{host} has no address") from socket.gaierror(
                    socket.EAI_NONAME, "no address"
                )
            candidates = [ipaddress.ip_address(address.split("%", 1)[0]) for address in found]
        allowed = [str(ip) for ip in candidates if address_allowed(host, port, ip, self._allowlist)]
        if not allowed:
            raise not_allowed_error(host, port, candidates)
        return allowed

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("lenta does not fetch over Unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport, with its connection pool built on :class:`GuardedBackend`.

    httpx 0.28 gives ``AsyncHTTPTransport`` no ``network_backend`` argument,
    so we let it build its pool, then replace ``self._pool`` (which
    ``handle_async_request`` uses) with the same pool on our backend. If a
    new httpx stops keeping its pool there, we refuse to start rather than
    fetch unguarded; ``test_transport_pool_is_guarded`` fails too.
    """

    def __init__(
        self, backend: GuardedBackend, *, limits: httpx.Limits, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        # create_ssl_context honours SSL_CERT_FILE / SSL_CERT_DIR; it loads
        # the CA store, so shards share one.
        ssl_context = ssl_context or httpx.create_ssl_context()
        super().__init__(verify=ssl_context, http2=True, limits=limits)
        if not isinstance(getattr(self, "_pool", None), httpcore.AsyncConnectionPool):
            raise RuntimeError("this httpx keeps no AsyncConnectionPool in _pool; lenta's fetch guard cannot plug in")
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=True,
            network_backend=backend,
        )


class ShardedTransport(httpx.AsyncBaseTransport):
    """Several guarded pools, each host always on the same one.

    httpcore's pool looks at every connection it holds each time it places
    a request (and asks the OS whether each idle one is still readable), so
    its cost grows with the square of the connections open. Refreshing a
    thousand feeds from hundreds of hosts, that bookkeeping was a sixth of
    the main process's time; split over :data:`SHARDS` pools it is a
    small fraction. Keep-alive is unaffected: a host's connections live in
    its own shard.
    """

    SHARDS = 256

    def __init__(self, backend: GuardedBackend, *, limits: httpx.Limits, shards: int = SHARDS) -> None:
        ssl_context = httpx.create_ssl_context()
        self._shards = [GuardedTransport(backend, limits=limits, ssl_context=ssl_context) for _ in range(shards)]

    def _shard(self, host: str) -> GuardedTransport:
        # zlib.crc32, not hash(): the same host maps to the same shard in
        # every process, which keeps tests and traces repeatable.
        return self._shards[zlib.crc32(host.lower().encode()) % len(self._shards)]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._shard(request.url.host).handle_async_request(request)

    async def aclose(self) -> None:
        for shard in self._shards:
            await shard.aclose()
