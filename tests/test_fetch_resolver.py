"""Name resolution: RFC 6761 ``.localhost`` names, and the politeness key.

The resolver tests are offline: ``socket.getaddrinfo`` is replaced,
so a test fails if a ``.localhost`` name reaches DNS and no other name
leaves the machine. The end-to-end tests use a real server on 127.0.0.1
reached under made-up ``*.localhost`` names, as the benchmarks do.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from httpserver import LocalServer
from httpserver import Reply

from lenta.config import Settings
from lenta.exceptions import AddressNotAllowedError
from lenta.fetch._connect import is_localhost
from lenta.fetch._limits import host_key
from lenta.fetch.guard import parse_allowlist
from lenta.fetch.http import AddressGuard
from lenta.fetch.http import HTTPClient
from lenta.fetch.http import system_resolver

pytestmark = pytest.mark.anyio

RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names the system resolver asks DNS for; each gets 192.0.2.7 and 2001:db8::7.

    asyncio's getaddrinfo looks ``socket.getaddrinfo`` up at each call, so
    replacing it here keeps every test below off the network.
    """
    asked: list[str] = []

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        asked.append(host)
        stream = socket.SOCK_STREAM
        return [
            (socket.AF_INET, stream, 6, "", ("192.0.2.7", port)),
            (socket.AF_INET6, stream, 6, "", ("2001:db8::7", port, 0, 0)),
            (socket.AF_INET, stream, 6, "", ("192.0.2.7", port)),  # duplicates are dropped
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


# --- system_resolver ---------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "feeds.localhost",
        "h0001.localhost",
        "a.b.c.localhost",
        "LocalHost",
        "Feeds.LOCALHOST",
        "localhost.",
        "feeds.localhost.",
    ],
)
async def test_localhost_names_are_loopback_without_dns(dns: list[str], host: str) -> None:
    assert is_localhost(host)
    assert await system_resolver(host, 8080) == ["127.0.0.1", "::1"]
    assert dns == []


@pytest.mark.parametrize(
    "host", ["example.com", "localhost.example.com", "notlocalhost", "localhostx", "xn--localhost", "local", "host"]
)
async def test_other_names_ask_dns(dns: list[str], host: str) -> None:
    assert not is_localhost(host)
    assert await system_resolver(host, 80) == ["192.0.2.7", "2001:db8::7"]
    assert dns == [host]


async def test_guard_still_refuses_localhost_names(dns: list[str]) -> None:
    guard = AddressGuard(parse_allowlist(""))
    with pytest.raises(AddressNotAllowedError) as info:
        await guard.allowed_addresses("h0001.localhost", 8080, timeout=1)
    message = str(info.value)
    assert "h0001.localhost:8080" in message and "127.0.0.1 (loopback)" in message and "::1 (loopback)" in message
    assert dns == []


@pytest.mark.parametrize(
    ("allow", "kept"),
    [
        ("127.0.0.1", ["127.0.0.1"]),  # by address: ::1 is not 127.0.0.1
        ("127.0.0.0/8", ["127.0.0.1"]),
        ("::1", ["::1"]),
        ("127.0.0.1:8080", ["127.0.0.1"]),
        ("h0001.localhost", ["127.0.0.1", "::1"]),  # by name: both addresses, IPv4 first
        ("127.0.0.1, ::1", ["127.0.0.1", "::1"]),  # libcurl falls back to ::1 if 127.0.0.1 refuses
    ],
)
async def test_allowlist_lets_localhost_names_through(dns: list[str], allow: str, kept: list[str]) -> None:
    guard = AddressGuard(parse_allowlist(allow))
    assert await guard.allowed_addresses("h0001.localhost", 8080, timeout=1) == kept
    assert dns == []


async def test_allowlist_port_is_respected(dns: list[str]) -> None:
    guard = AddressGuard(parse_allowlist("127.0.0.1:8080"))
    with pytest.raises(AddressNotAllowedError):
        await guard.allowed_addresses("h0001.localhost", 9090, timeout=1)


# --- the politeness key ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("example.com", "example.com"),
        ("Example.COM", "example.com"),
        ("example.com.", "example.com"),  # the same site, fully qualified
        ("a.localhost", "a.localhost"),
        ("::1", "::1"),
    ],
)
def test_host_key(host: str, key: str) -> None:
    assert host_key(host) == key


# --- end to end: a real server under .localhost names ----------------------------------


def make_settings(**changes: Any) -> Settings:
    base = Settings(
        fetch_allow="127.0.0.1",
        fetch_timeout=2.0,
        fetch_deadline=5.0,
        fetch_max_bytes=1_000_000,
        user_agent="lenta-test/1.0",
        per_host=1,
        host_interval=0.0,
    )
    return base.replace(**changes)


async def test_localhost_name_fetched_when_127_0_0_1_is_allowed(server: LocalServer) -> None:
    server.routes["/x"] = Reply(body=RSS)
    async with HTTPClient(make_settings(fetch_allow="127.0.0.1")) as client:
        result = await client.fetch(f"http://feeds.localhost:{server.port}/x")
    assert result.body == RSS and result.url == f"http://feeds.localhost:{server.port}/x"
    assert server.requests[0].headers["host"] == f"feeds.localhost:{server.port}"


@pytest.mark.parametrize("allow", ["", "10.0.0.0/8", "localhost", "other.localhost", "127.0.0.1:1"])
async def test_localhost_name_refused_when_not_allowed(server: LocalServer, allow: str) -> None:
    server.routes["/x"] = Reply(body=RSS)
    async with HTTPClient(make_settings(fetch_allow=allow)) as client:
        with pytest.raises(AddressNotAllowedError) as info:
            await client.fetch(f"http://feeds.localhost:{server.port}/x")
    assert "LENTA_FETCH_ALLOW" in str(info.value)
    assert server.requests == [] and server.connections == 0


async def test_each_localhost_name_is_its_own_host(server: LocalServer) -> None:
    # The benchmark's premise: one server, many sites, each with its own limit.
    server.routes["/x"] = Reply(body=RSS, delay=0.2)
    names = [f"h{index:04}.localhost" for index in range(4)]
    async with HTTPClient(make_settings(per_host=1)) as client:
        await asyncio.gather(*(client.fetch(server.url("/x", host=name)) for name in names))
    assert server.peak_in_flight == 4
    assert sorted(request.headers["host"] for request in server.requests) == [f"{name}:{server.port}" for name in names]


async def test_one_name_on_two_ports_is_one_host() -> None:
    # Politeness is owed to a site, not to a port: the key is the host name alone.
    slow = {"/x": Reply(body=RSS, delay=0.2)}
    with LocalServer(slow) as first, LocalServer(slow) as second:
        async with HTTPClient(make_settings(per_host=1)) as client:
            await asyncio.gather(
                client.fetch(first.url("/x", host="feeds.localhost")),
                client.fetch(second.url("/x", host="feeds.localhost")),
            )
        [one], [other] = first.requests, second.requests
        assert abs(one.started - other.started) >= 0.15  # one after the other


async def test_trailing_dot_is_the_same_host(server: LocalServer) -> None:
    server.routes["/x"] = Reply(body=RSS, delay=0.2)
    async with HTTPClient(make_settings(per_host=1)) as client:
        await asyncio.gather(
            client.fetch(server.url("/x", host="feeds.localhost")),
            client.fetch(server.url("/x", host="feeds.localhost.")),
        )
    assert len(server.requests) == 2 and server.peak_in_flight == 1


@pytest.mark.parametrize("name", ["invalid", "feed.invalid", "a.b.INVALID", "x.invalid."])
def test_invalid_names_fail_without_asking_dns(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_dns(*args: object, **kwargs: object) -> object:
        raise AssertionError("asked DNS for an .invalid name")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    with pytest.raises(socket.gaierror):
        asyncio.run(system_resolver(name, 80))
