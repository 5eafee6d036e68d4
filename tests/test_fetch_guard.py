"""The outbound address policy, from tables: no sockets, no DNS."""

from __future__ import annotations

import ipaddress

import pytest

from lenta.exceptions import AddressNotAllowedError
from lenta.exceptions import InvalidFeedURLError
from lenta.exceptions import InvalidInputError
from lenta.fetch.guard import Allowlist
from lenta.fetch.guard import Target
from lenta.fetch.guard import address_allowed
from lenta.fetch.guard import check_url
from lenta.fetch.guard import is_public_address
from lenta.fetch.guard import not_allowed_error
from lenta.fetch.guard import parse_allowlist
from lenta.fetch.guard import why_not_public

# (address, the reason it is refused, in part)
REFUSED = [
    # IPv4
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "this network"),
    ("10.0.0.1", "private"),
    ("10.255.255.255", "private"),
    ("100.64.0.1", "CGNAT"),
    ("100.127.255.254", "CGNAT"),
    ("100.100.100.200", "CGNAT"),  # Alibaba Cloud metadata
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("169.254.169.254", "cloud metadata"),
    ("169.254.0.1", "link-local"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.0.0.1", "IETF"),
    ("192.0.0.9", "IETF"),
    ("192.0.2.1", "documentation"),
    ("192.88.99.1", "6to4 relay"),
    ("192.168.1.1", "private"),
    ("198.18.0.1", "benchmarking"),
    ("198.19.255.255", "benchmarking"),
    ("198.51.100.7", "documentation"),
    ("203.0.113.9", "documentation"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "broadcast"),
    # IPv6, plain
    ("::", "unspecified"),
    ("::1", "loopback"),
    ("100::1", "discard"),
    ("2001:db8::1", "documentation"),
    ("2001:2::1", "IETF"),
    ("2001:10::1", "IETF"),
    ("3fff::1", "documentation"),
    ("5f00::1", "SRv6"),
    ("fc00::1", "unique-local"),
    ("fd00:ec2::254", "unique-local"),  # AWS metadata over IPv6
    ("fe80::1", "link-local"),
    ("fe80::1%eth0", "link-local"),
    ("febf:ffff::1", "link-local"),
    ("fec0::1", "site-local"),
    ("ff02::1", "multicast"),
    ("ff0e::1", "multicast"),
    ("4000::1", "reserved"),  # outside 2000::/3
    ("1::1", "reserved"),
    # IPv6 carrying a non-public IPv4
    ("::ffff:127.0.0.1", "IPv4-mapped, embedding loopback"),
    ("::ffff:7f00:1", "IPv4-mapped, embedding loopback"),
    ("::ffff:169.254.169.254", "IPv4-mapped, embedding link-local"),
    ("::ffff:10.0.0.1", "IPv4-mapped, embedding private"),
    ("::ffff:0.0.0.0", "IPv4-mapped, embedding unspecified"),
    ("::ffff:0:127.0.0.1", "IPv4-translated, embedding loopback"),
    ("::127.0.0.1", "IPv4-compatible, embedding loopback"),
    ("::10.0.0.1", "IPv4-compatible, embedding private"),
    ("::8.8.8.8", None),  # compatible form of a public address: allowed (see PUBLIC)
    ("64:ff9b::127.0.0.1", "NAT64, embedding loopback"),
    ("64:ff9b::a9fe:a9fe", "NAT64, embedding link-local"),
    ("64:ff9b::192.168.0.1", "NAT64, embedding private"),
    ("64:ff9b:1::7f00:1", "local NAT64"),
    ("64:ff9b:1:7f00:1::", "local NAT64"),  # /48 position
    ("64:ff9b:1:8:808:0:0:0", "local NAT64"),  # public at /56, zero elsewhere
    ("2002:7f00:1::1", "6to4, embedding loopback"),
    ("2002:a00:1::", "6to4, embedding private"),
    ("2002:a9fe:a9fe::1", "6to4, embedding link-local"),
    ("2002:c000:204::1", "6to4, embedding documentation"),
    # Teredo: server 65.54.227.120, client 192.0.2.45 (RFC 4380 example; client bits inverted)
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo, embedding documentation 192.0.2.45"),
    ("2001:0:a00:1:0:0:f7f7:f7f7", "Teredo, embedding private 10.0.0.1"),  # server private
    ("2001:0:808:808:0:0:80ff:fffe", "Teredo, embedding loopback 127.0.0.1"),  # client loopback
]

PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "100.63.255.255",  # just below CGNAT
    "100.128.0.0",  # just above
    "172.15.255.255",
    "172.32.0.0",
    "192.0.1.1",
    "198.17.255.255",
    "198.20.0.0",
    "223.255.255.255",
    "2606:4700:4700::1111",
    "2a00:1450:4001:82b::200e",
    "2001:4860:4860::8888",
    "::ffff:8.8.8.8",
    "::8.8.8.8",
    "64:ff9b::8.8.8.8",
    "64:ff9b::1.1.1.1",
    "2002:808:808::1",
    "2001:0:808:808:0:0:f7f7:f7f7",  # Teredo: server 8.8.8.8, client 8.8.8.8
]


@pytest.mark.parametrize(("address", "reason"), [row for row in REFUSED if row[1] is not None])
def test_refused_addresses(address: str, reason: str) -> None:
    assert not is_public_address(address)
    why = why_not_public(address)
    assert why is not None and reason in why


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses(address: str) -> None:
    assert why_not_public(address) is None
    assert is_public_address(ipaddress.ip_address(address))


def test_is_global_alone_would_let_these_through() -> None:
    # Why the module keeps its own tables: ipaddress calls these global.
    for address in ("224.0.0.1", "239.255.255.250"):
        assert ipaddress.ip_address(address).is_global
        assert not is_public_address(address)


def test_not_an_address() -> None:
    with pytest.raises(ValueError):
        is_public_address("example.com")


# --- the allowlist -----------------------------------------------------------

ALLOWLIST = (
    "intranet.example, feeds.lan:8080, 127.0.0.1:9000, 192.168.1.10, 10.0.0.0/8, fd00::/8, ::1, [fe80::1]:8443, Bücher.example"
)

# (host, port, ip, permitted)
PERMITS = [
    # a host name permits that name, whatever it resolves to, on any port
    ("intranet.example", 80, "192.168.5.5", True),
    ("INTRANET.example.", 443, "127.0.0.1", True),
    ("other.example", 80, "192.168.5.5", False),
    ("sub.intranet.example", 80, "192.168.5.5", False),
    # host:port permits that port only
    ("feeds.lan", 8080, "10.9.9.9", True),
    ("feeds.lan", 80, "172.16.0.1", False),
    # ip:port
    ("127.0.0.1", 9000, "127.0.0.1", True),
    ("localhost", 9000, "127.0.0.1", True),  # by address, whatever the name
    ("localhost", 9000, "::ffff:127.0.0.1", True),  # the mapped form is the same host
    ("127.0.0.1", 9001, "127.0.0.1", False),
    ("127.0.0.2", 9000, "127.0.0.2", False),
    # ip, any port
    ("192.168.1.10", 1, "192.168.1.10", True),
    ("nas.local", 5000, "192.168.1.10", True),
    ("192.168.1.11", 80, "192.168.1.11", False),
    # CIDR
    ("10.1.2.3", 80, "10.1.2.3", True),
    ("wiki.corp", 80, "10.255.255.255", True),
    ("11.0.0.1", 80, "11.0.0.1", False),
    ("x", 80, "fd12:3456::1", True),
    ("x", 80, "fc00::1", False),
    # IPv6 address, with and without a port
    ("::1", 1234, "::1", True),
    ("fe80::1", 8443, "fe80::1", True),
    ("fe80::1", 443, "fe80::1", False),
    # IDN host names compare in their ASCII form
    ("xn--bcher-kva.example", 80, "10.0.0.1", True),
    ("bücher.example", 80, "192.168.0.1", True),
]


@pytest.mark.parametrize(("host", "port", "ip", "permitted"), PERMITS)
def test_allowlist_permits(host: str, port: int, ip: str, permitted: bool) -> None:
    assert parse_allowlist(ALLOWLIST).permits(host, port, ip) is permitted


@pytest.mark.parametrize(
    ("text", "count"),
    [("", 0), (" ", 0), (",,", 0), ("a.example", 1), (" a.example , b.example:81 ,", 2), ("[::1]:80", 1)],
)
def test_allowlist_forms(text: str, count: int) -> None:
    allowlist = parse_allowlist(text)
    assert len(allowlist.entries) == count
    assert bool(allowlist) is (count > 0)


@pytest.mark.parametrize(
    "entry",
    [
        "10.0.0.1/8",  # host bits set: probably a typo
        "10.0.0.0/33",
        "300.1.2.3",
        "1.2.3.4:0",
        "1.2.3.4:70000",
        "host:port",
        "host:",
        "[::1",
        "[::1]80",
        "[example.com]:80",
        "::1::2",
        "bad host",
        "under-.example-",
        "http://example.com",
        "a" * 64 + ".example",
    ],
)
def test_allowlist_invalid_entries(entry: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_allowlist(f"ok.example, {entry}")
    assert "LENTA_FETCH_ALLOW" in str(info.value)
    assert repr(entry) in str(info.value)


# (host, port, ip, allowed): the whole policy
POLICY = [
    ("example.com", 443, "93.184.216.34", True),
    ("example.com", 443, "127.0.0.1", False),
    ("example.com", 443, "::ffff:127.0.0.1", False),
    ("127.0.0.1", 9000, "127.0.0.1", True),  # in the allowlist below
    ("127.0.0.1", 9001, "127.0.0.1", False),
]


@pytest.mark.parametrize(("host", "port", "ip", "allowed"), POLICY)
def test_address_allowed(host: str, port: int, ip: str, allowed: bool) -> None:
    assert address_allowed(host, port, ip, parse_allowlist("127.0.0.1:9000")) is allowed


# RFC 6761 names resolve to 127.0.0.1 and ::1 (lenta.fetch._backend); the
# policy gives them no favour: loopback, so an allowlist entry must permit them.
LOCALHOST_NAMES = [
    ("h0001.localhost", 8080, "127.0.0.1", "", False),
    ("h0001.localhost", 8080, "::1", "", False),
    ("h0001.localhost", 8080, "127.0.0.1", "127.0.0.1", True),  # by address, whatever the name
    ("h0001.localhost", 8080, "::1", "127.0.0.1", False),  # ::1 is not 127.0.0.1
    ("h0001.localhost", 8080, "::1", "::1", True),
    ("h0001.localhost", 8080, "127.0.0.1", "localhost", False),  # a name entry is that name only
    ("h0001.localhost", 8080, "127.0.0.1", "h0001.localhost", True),
    ("h0001.localhost", 8080, "127.0.0.1", "127.0.0.1:8081", False),
]


@pytest.mark.parametrize(("host", "port", "ip", "allow", "allowed"), LOCALHOST_NAMES)
def test_localhost_names_are_plain_loopback(host: str, port: int, ip: str, allow: str, allowed: bool) -> None:
    assert address_allowed(host, port, ip, parse_allowlist(allow)) is allowed


def test_empty_allowlist_permits_nothing() -> None:
    assert not Allowlist().permits("localhost", 80, "127.0.0.1")
    assert not address_allowed("localhost", 80, "127.0.0.1", Allowlist())


def test_refusal_message_names_the_setting_and_address() -> None:
    error = not_allowed_error("localhost", 8080, [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")])
    message = str(error)
    assert "LENTA_FETCH_ALLOW" in message
    assert "localhost:8080" in message and "127.0.0.1 (loopback)" in message and "::1 (loopback)" in message
    literal = str(not_allowed_error("::1", 80, [ipaddress.ip_address("::1")]))
    assert "[::1]:80" in literal and "LENTA_FETCH_ALLOW" in literal


# --- URLs --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("http://example.com/feed", Target("http", "example.com", 80)),
        ("https://Example.COM./feed.xml?x=1#top", Target("https", "example.com", 443)),
        ("HTTP://example.com:8080", Target("http", "example.com", 8080)),
        ("http://user:pass@example.com/", Target("http", "example.com", 80)),
        ("http://127.0.0.1:9000/", Target("http", "127.0.0.1", 9000)),
        ("http://[::1]:8080/", Target("http", "::1", 8080)),
        ("http://bücher.example/", Target("http", "xn--bcher-kva.example", 80)),
        ("http://_dmarc.example.com/", Target("http", "_dmarc.example.com", 80)),
    ],
)
def test_check_url_accepts(url: str, target: Target) -> None:
    assert check_url(url) == target


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/feed",
        "gopher://example.com/",
        "javascript:alert(1)",
        "data:text/xml,<rss/>",
        "feed://example.com/",
    ],
)
def test_check_url_refuses_schemes(url: str) -> None:
    with pytest.raises(AddressNotAllowedError):
        check_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://",
        "http:///feed",
        "//example.com/feed",
        "example.com/feed",
        "http://example.com:99999/",
        "http://example.com:port/",
        "http://[::1/",
        "http://[not-v6]/",
        "http://exa mple.com/",
        "http://example.com/\nfeed",
        "http://%31%32%37.0.0.1/",
        "http://exa$mple.com/",
        "http://-example.com/",
    ],
)
def test_check_url_refuses_malformed(url: str) -> None:
    with pytest.raises(InvalidFeedURLError):
        check_url(url)
