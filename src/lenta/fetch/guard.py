"""The outbound address policy: which URLs and addresses lenta may fetch.

Pure and offline (no sockets, no DNS), so every rule here is tested from a
table. :mod:`lenta.fetch.http` applies it twice:

- :func:`check_url` before each request, redirect hops included: http or
  https, and a host that is well formed;
- :func:`address_allowed` on every address the host resolves to, inside
  the connection backend, right before connecting to *that* address. A
  name that resolves to a public address when checked and to 127.0.0.1 a
  moment later (DNS rebinding) therefore cannot slip through: there is no
  second lookup.

The rule: lenta talks only to globally routable addresses, unless the
admin lists the target in ``LENTA_FETCH_ALLOW`` (:func:`parse_allowlist`).
An entry by host name permits that name whatever it resolves to; an entry
by address or CIDR permits those addresses whatever name led to them. An
entry with a port permits only that port.

We do not trust :attr:`ipaddress.IPv4Address.is_global` alone: it calls
multicast global, its tables changed between 3.11 patch releases, and it
knows nothing of the IPv6 forms that carry an IPv4 address inside
(IPv4-mapped, 6to4, NAT64, Teredo...), through which ``127.0.0.1`` or
``169.254.169.254`` can be reached under an IPv6 disguise.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlsplit

from lenta._marks import N_
from lenta.exceptions import AddressNotAllowedError
from lenta.exceptions import InvalidFeedURLError
from lenta.exceptions import InvalidInputError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

SETTING = "LENTA_FETCH_ALLOW"
SCHEMES = {"http": 80, "https": 443}

_v4 = ipaddress.IPv4Network
_v6 = ipaddress.IPv6Network

# First match wins, so the specific blocks come before the ones holding them.
# Sources: the IANA IPv4/IPv6 Special-Purpose Address Registries.
_REFUSED_V4: tuple[tuple[ipaddress.IPv4Network, str], ...] = (
    (_v4("0.0.0.0/32"), "unspecified"),
    (_v4("0.0.0.0/8"), "'this network'"),
    (_v4("10.0.0.0/8"), "private"),
    (_v4("100.64.0.0/10"), "shared (CGNAT)"),
    (_v4("127.0.0.0/8"), "loopback"),
    (_v4("169.254.169.254/32"), "link-local (cloud metadata)"),
    (_v4("169.254.0.0/16"), "link-local"),
    (_v4("172.16.0.0/12"), "private"),
    (_v4("192.0.0.0/24"), "IETF protocol assignment"),
    (_v4("192.0.2.0/24"), "documentation"),
    (_v4("192.88.99.0/24"), "6to4 relay anycast"),  # deprecated (RFC 7526)
    (_v4("192.168.0.0/16"), "private"),
    (_v4("198.18.0.0/15"), "benchmarking"),
    (_v4("198.51.100.0/24"), "documentation"),
    (_v4("203.0.113.0/24"), "documentation"),
    (_v4("224.0.0.0/4"), "multicast"),
    (_v4("255.255.255.255/32"), "broadcast"),
    (_v4("240.0.0.0/4"), "reserved"),
)

# :: and ::1 sit inside ::/96 (IPv4-compatible), so they are named first.
_SPECIAL_V6: tuple[tuple[ipaddress.IPv6Network, str], ...] = (
    (_v6("::/128"), "unspecified"),
    (_v6("::1/128"), "loopback"),
)
# Consulted only for addresses without an IPv4 inside: those are judged by
# what they carry (see _embedded_ipv4).
_REFUSED_V6: tuple[tuple[ipaddress.IPv6Network, str], ...] = (
    (_v6("100::/64"), "discard-only"),
    (_v6("2001:db8::/32"), "documentation"),
    (_v6("2001::/23"), "IETF protocol assignment"),
    (_v6("3fff::/20"), "documentation"),
    (_v6("5f00::/16"), "segment routing (SRv6)"),
    (_v6("fc00::/7"), "unique-local"),
    (_v6("fe80::/10"), "link-local"),
    (_v6("fec0::/10"), "site-local"),
    (_v6("ff00::/8"), "multicast"),
)
# Global unicast is allocated from 2000::/3 only; the rest is IETF-reserved.
_GLOBAL_UNICAST_V6 = _v6("2000::/3")

_MAPPED = _v6("::ffff:0:0/96")  # IPv4-mapped
_TRANSLATED = _v6("::ffff:0:0:0/96")  # IPv4-translated (SIIT, RFC 2765)
_COMPATIBLE = _v6("::/96")  # IPv4-compatible (deprecated, RFC 4291)
_NAT64 = _v6("64:ff9b::/96")  # well-known NAT64 prefix (RFC 6052)
_NAT64_LOCAL = _v6("64:ff9b:1::/48")  # local-use NAT64 (RFC 8215)


def _as_ip(ip: IPAddress | str) -> IPAddress:
    """An address without its IPv6 zone (``%eth0``): zones never make an address public."""
    text = str(ip).split("%", 1)[0]
    return ipaddress.ip_address(text)


def _rfc6052_ipv4(ip: ipaddress.IPv6Address, prefix_len: int) -> ipaddress.IPv4Address:
    """The IPv4 embedded after a NAT64 prefix of ``prefix_len`` bits (RFC 6052 §2.2).

    Bits 64-71 (the "u" octet) never carry address bits, so squeeze them out
    first; the 32 address bits then start right after the prefix.
    """
    n = int(ip)
    if prefix_len == 96:
        return ipaddress.IPv4Address(n & 0xFFFFFFFF)
    squeezed = (n >> 64) << 56 | (n & ((1 << 56) - 1))  # 120 bits
    return ipaddress.IPv4Address((squeezed >> (120 - prefix_len - 32)) & 0xFFFFFFFF)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[str, tuple[ipaddress.IPv4Address, ...]] | None:
    """The IPv4 addresses an IPv6 address carries, with the form's name; None if none.

    Connecting to any of these forms can reach the embedded IPv4 (the kernel
    for mapped addresses, a translator or relay for the others), so the
    caller judges them by what they carry.
    """
    if ip in _MAPPED:
        return "IPv4-mapped", (_rfc6052_ipv4(ip, 96),)
    if ip in _TRANSLATED:
        return "IPv4-translated", (_rfc6052_ipv4(ip, 96),)
    if ip in _COMPATIBLE:
        return "IPv4-compatible", (_rfc6052_ipv4(ip, 96),)
    if ip in _NAT64:
        return "NAT64", (_rfc6052_ipv4(ip, 96),)
    if ip in _NAT64_LOCAL:
        # The operator picks the prefix length (48..96 bits here), so we cannot
        # tell where the IPv4 sits: every candidate position must be public.
        return "local NAT64", tuple(_rfc6052_ipv4(ip, length) for length in (48, 56, 64, 96))
    if ip.sixtofour is not None:
        return "6to4", (ip.sixtofour,)
    if ip.teredo is not None:
        server, client = ip.teredo
        return "Teredo", (server, client)
    return None


@functools.lru_cache(maxsize=4096)  # a refresh asks about the same few addresses over and over
def why_not_public(ip: IPAddress | str) -> str | None:
    """Why ``ip`` is not a public address ("loopback", "private"...), or None if it is.

    Raises ValueError if ``ip`` is not an IP address.
    """
    address = _as_ip(ip)
    if isinstance(address, ipaddress.IPv4Address):
        for v4_network, reason in _REFUSED_V4:
            if address in v4_network:
                return reason
        return None if address.is_global else "not globally routable"

    for v6_network, reason in _SPECIAL_V6:
        if address in v6_network:
            return reason
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        form, inner = embedded
        for v4 in inner:
            inner_reason = why_not_public(v4)
            if inner_reason is not None:
                return f"{form}, embedding {inner_reason} {v4}"
        return None
    for v6_network, reason in _REFUSED_V6:
        if address in v6_network:
            return reason
    if address not in _GLOBAL_UNICAST_V6:
        return "reserved"
    return None if address.is_global else "not globally routable"


def is_public_address(ip: IPAddress | str) -> bool:
    """Whether ``ip`` is globally routable, looking inside IPv6 forms that embed an IPv4."""
    return why_not_public(ip) is None


# --- the allowlist (LENTA_FETCH_ALLOW) --------------------------------------

_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOSTNAME = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}\.?")


def normalize_host(host: str) -> str | None:
    """``host`` lower-cased, IDNA-encoded and without a trailing dot; None if malformed."""
    host = host.strip().lower()
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    if len(host.rstrip(".")) > 253 or not _HOSTNAME.fullmatch(host):
        return None
    return host.rstrip(".")


@dataclass(frozen=True, slots=True)
class AllowEntry:
    """One ``LENTA_FETCH_ALLOW`` entry: a host name or a network, and maybe a port."""

    text: str  # as the admin wrote it, for messages
    host: str | None = None  # normalized host name
    network: IPNetwork | None = None  # an address is a /32 or /128
    port: int | None = None  # None: any port

    def matches(self, host: str, port: int, ip: IPAddress) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.host is not None:
            return self.host == normalize_host(host)
        assert self.network is not None
        return ip.version == self.network.version and ip in self.network


@dataclass(frozen=True, slots=True)
class Allowlist:
    """The parsed ``LENTA_FETCH_ALLOW``; empty allows nothing beyond public addresses."""

    entries: tuple[AllowEntry, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.entries)

    def permits(self, host: str, port: int, ip: IPAddress | str) -> bool:
        """Whether an entry lets us connect to ``ip``, reached as ``host:port``."""
        address = _as_ip(ip)
        # ::ffff:127.0.0.1 is 127.0.0.1 on a dual-stack socket: an IPv4 entry covers both.
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(entry.matches(host, port, address) for entry in self.entries)


def _parse_port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"{text!r} is not a port number")
    return int(text)


def _parse_entry(text: str) -> AllowEntry:
    """One entry; raises ValueError with the reason."""
    if "/" in text:
        # strict: "10.0.0.1/8" is more likely a typo than a way to write 10/8.
        return AllowEntry(text, network=ipaddress.ip_network(text, strict=True))
    if text.startswith("["):  # [v6] or [v6]:port
        inside, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError("write an IPv6 address with a port as [address]:port")
        port = _parse_port(rest[1:]) if rest else None
        return AllowEntry(text, network=ipaddress.ip_network(ipaddress.IPv6Address(inside)), port=port)
    if text.count(":") > 1:  # a bare IPv6 address
        return AllowEntry(text, network=ipaddress.ip_network(ipaddress.IPv6Address(text)))
    name, colon, port_text = text.partition(":")
    port = _parse_port(port_text) if colon else None
    try:
        return AllowEntry(text, network=ipaddress.ip_network(ipaddress.IPv4Address(name)), port=port)
    except ValueError:
        pass
    host = normalize_host(name)
    if host is None or host.replace(".", "").isdigit():  # "300.1.2.3" is a bad IP, not a name
        raise ValueError("not a host name or IP address")
    return AllowEntry(text, host=host, port=port)


def parse_allowlist(text: str) -> Allowlist:
    """Parse ``LENTA_FETCH_ALLOW``: comma-separated entries, each one of

    ``host``, ``host:port``, ``1.2.3.4``, ``1.2.3.4:port``, ``::1``,
    ``[::1]:port``, ``10.0.0.0/8``, ``fd00::/8``.

    Raises:
        InvalidInputError: an entry is none of those; the message names the
            entry and the setting.
    """
    entries = []
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        try:
            entries.append(_parse_entry(item))
        except ValueError as exc:
            raise InvalidInputError(
                "{setting}: {entry!r} is not a host, host:port, IP address or CIDR network ({reason})",
                setting=SETTING,
                entry=item,
                reason=str(exc),
            ) from None
    return Allowlist(tuple(entries))


def address_allowed(host: str, port: int, ip: IPAddress | str, allowlist: Allowlist) -> bool:
    """The whole policy: ``ip`` is public, or the allowlist permits it for ``host:port``."""
    return is_public_address(ip) or allowlist.permits(host, port, ip)


def not_allowed_error(host: str, port: int, addresses: Iterable[IPAddress]) -> AddressNotAllowedError:
    """The error for a host none of whose ``addresses`` may be reached; it tells
    the admin which setting would allow it."""
    addresses = list(addresses)
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        _as_ip(host)
    except ValueError:
        found = ", ".join(f"{ip} ({why_not_public(ip) or 'not allowed'})" for ip in addresses)
        return AddressNotAllowedError(
            "{target} resolves to {addresses}, which lenta does not fetch from; "
            "to allow it, add {host} or the address to {setting}",
            # The reasons ("loopback"...) are the ipaddress module's terms, left out in other languages.
            brief=N_(
                "{target} resolves to {ips}, which lenta does not fetch from; to allow it, add {host} or the address to {setting}"
            ),
            target=target,
            addresses=found,
            ips=", ".join(str(ip) for ip in addresses),
            host=host,
            setting=SETTING,
        )
    return AddressNotAllowedError(
        "{target} is not a public address ({reason}); to allow it, add it to {setting}",
        brief=N_("{target} is not a public address; to allow it, add it to {setting}"),
        target=target,
        reason=", ".join(why_not_public(ip) or "not allowed" for ip in addresses),
        setting=SETTING,
    )


# --- URLs -------------------------------------------------------------------


class Target(NamedTuple):
    """Where a URL points: scheme, normalized host and port (default filled in)."""

    scheme: str
    host: str
    port: int


_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")


def check_url(url: str) -> Target:
    """Check that ``url`` is an http(s) URL with a well-formed host.

    Says nothing about addresses: those are checked when connecting (see
    the module docstring).

    Raises:
        AddressNotAllowedError: the scheme is not http or https (``file:``,
            ``ftp:``, ``gopher:``...).
        InvalidFeedURLError: the URL is malformed (no scheme, no host, a
            bad port, spaces or control characters, a malformed host).
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidFeedURLError("{url} is not a valid URL ({reason})", url=url, reason=str(exc)) from None
    scheme = parts.scheme.lower()
    if not scheme:
        raise InvalidFeedURLError("{url} is not an absolute URL (no http:// or https://)", url=url)
    if scheme not in SCHEMES:
        raise AddressNotAllowedError("refusing {url}: lenta only fetches http and https URLs", url=url)
    if _SPACE_OR_CONTROL.search(url):
        raise InvalidFeedURLError("{url} is not a valid URL (it contains spaces or control characters)", url=url)
    hostname = parts.hostname or ""
    if "[" in parts.netloc.rpartition("@")[2]:
        try:
            ipaddress.IPv6Address(hostname)
        except ValueError:
            hostname = ""
        host: str | None = hostname or None
    else:
        host = normalize_host(hostname) if hostname else None
    if host is None:
        raise InvalidFeedURLError("{url} has no valid host name", url=url)
    return Target(scheme, host, port if port is not None else SCHEMES[scheme])
