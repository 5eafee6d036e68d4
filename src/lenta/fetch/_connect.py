"""Where a connection may go: name resolution and the outbound guard.

:class:`AddressGuard` resolves a host itself, keeps only the addresses
:mod:`lenta.fetch.guard` allows, and hands exactly those to libcurl
(``CURLOPT_RESOLVE``), so libcurl never looks the name up again: DNS
rebinding cannot swap in 127.0.0.1 between check and connect. Each socket
libcurl opens is checked once more (:meth:`AddressGuard.admits`, from
``CURLOPT_OPENSOCKETFUNCTION``) before it connects. TLS still verifies the
certificate against the host name: libcurl connects to the address but
speaks to the name.

:func:`system_resolver` asks the system, except for the special-use names
of RFC 6761, answered here without DNS as browsers do: ``localhost`` and
names under it are loopback (§6.3; still refused by the guard unless
``LENTA_FETCH_ALLOW`` permits them), and names under ``.invalid`` do not
exist (§6.4), so no query for them ever leaves the machine.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import time
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from lenta.fetch.guard import Allowlist
from lenta.fetch.guard import address_allowed
from lenta.fetch.guard import not_allowed_error

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

# IPv4 first: more local servers listen there, and libcurl tries in order.
LOOPBACK = ("127.0.0.1", "::1")
# How long a lookup is reused, as libcurl's own DNS cache does by default.
DNS_CACHE_SECONDS = 60.0
DNS_THREADS = 32
_DNS_CACHE_MAX = 4096


class ResolveError(Exception):
    """The host has no address (``timed_out``: the lookup took too long)."""

    def __init__(self, host: str, reason: str, *, timed_out: bool = False) -> None:
        super().__init__(f"could not resolve {host}: {reason}")
        self.host = host
        self.timed_out = timed_out


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
    lookup = functools.partial(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    infos = await asyncio.get_running_loop().run_in_executor(_dns_threads(), lookup)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@functools.cache
def _dns_threads() -> ThreadPoolExecutor:
    """Threads for getaddrinfo, which blocks: as many as a big round's new
    hosts can use at once (asyncio's default executor has about six, and a
    round of a thousand hosts would queue behind them). Started on first use,
    so a forked refresher never inherits them."""
    return ThreadPoolExecutor(max_workers=DNS_THREADS, thread_name_prefix="lenta-dns")


def ip_literal(host: str) -> str | None:
    """``host`` as an address if it is an IP literal, else None (a name).

    A name's last label is never all digits, so most names are told apart
    without trying to parse them ("300.1.2.3" is neither: None, a name the
    resolver will not know).
    """
    if ":" not in host and not host.rpartition(".")[2].isdigit():
        return None
    try:
        return str(_ip(host))
    except ValueError:
        return None


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text.split("%", 1)[0])


class AddressGuard:
    """Resolves hosts and keeps only the addresses the policy allows.

    Lookups are cached for :data:`DNS_CACHE_SECONDS` (a refresh asks for the
    same few hundred hosts thousands of times). The policy's verdict on a
    (host, port, address) is remembered too: it is a pure function of them
    and the allowlist, and working it out (``ipaddress`` against a dozen
    networks) cost more than the request itself.
    """

    def __init__(self, allowlist: Allowlist, *, resolver: Resolver = system_resolver) -> None:
        self._allowlist = allowlist
        self._resolve = resolver
        self._cache: dict[tuple[str, int], tuple[float, list[str]]] = {}
        self._verdicts: dict[tuple[str, int, str], bool] = {}
        self._allowed: dict[tuple[str, int], tuple[list[str], list[str]]] = {}  # lookup -> its allowed part
        # Without host-name entries the verdict does not depend on the name:
        # one per address and port, however many hosts share them.
        self._by_name = any(entry.host is not None for entry in allowlist.entries)

    async def allowed_addresses(self, host: str, port: int, timeout: float | None) -> list[str]:
        """The addresses lenta may connect to for ``host:port``, in order.

        Raises:
            ResolveError: the name does not resolve (or not within ``timeout``).
            AddressNotAllowedError: it resolves only to addresses the policy refuses.
        """
        literal = ip_literal(host)
        found = [literal] if literal is not None else await self._lookup(host, port, timeout)
        key = (host, port)
        judged = self._allowed.get(key)
        if judged is None or judged[0] is not found:  # judged afresh for each new lookup
            allowed = [address.split("%", 1)[0] for address in found if self.admits(host, port, address)]
            if len(self._allowed) >= _DNS_CACHE_MAX:
                self._allowed.clear()
            self._allowed[key] = judged = (found, allowed)
        if not judged[1]:
            raise not_allowed_error(host, port, [_ip(address) for address in found])
        return judged[1]

    def admits(self, host: str, port: int, address: str) -> bool:
        """Whether a socket to ``address`` may be opened for ``host:port``."""
        key = (host if self._by_name else "", port, address)
        verdict = self._verdicts.get(key)
        if verdict is None:
            try:
                verdict = address_allowed(host, port, _ip(address), self._allowlist)
            except ValueError:
                verdict = False
            if len(self._verdicts) >= _DNS_CACHE_MAX:
                self._verdicts.clear()
            self._verdicts[key] = verdict
        return verdict

    async def _lookup(self, host: str, port: int, timeout: float | None) -> list[str]:
        key = (host.lower(), port)
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            async with asyncio.timeout(timeout):
                found = list(await self._resolve(host, port))
        except TimeoutError:
            raise ResolveError(host, "timed out", timed_out=True) from None
        except (socket.gaierror, UnicodeError) as exc:
            raise ResolveError(host, str(exc)) from exc
        if not found:
            raise ResolveError(host, "no address")
        if len(self._cache) >= _DNS_CACHE_MAX:
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
            if len(self._cache) >= _DNS_CACHE_MAX:
                self._cache.clear()
        self._cache[key] = (now + DNS_CACHE_SECONDS, found)
        return found
