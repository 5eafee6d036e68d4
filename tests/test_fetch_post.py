"""HTTPClient.post (WebSub subscription requests) against real servers on 127.0.0.1.

What a POST shares with fetch (the guard, the per-host limit, the deadline,
the choke point for failures) is tested here through post itself; what
differs (no redirects, any status returned, a small body cap) too.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import parse_qsl

import pytest
from httpserver import LocalServer
from httpserver import Reply
from httpserver import free_port
from httpserver import redirect
from test_fetch_http import UA
from test_fetch_http import make_settings

from lenta.exceptions import AddressNotAllowedError
from lenta.exceptions import FetchError
from lenta.exceptions import FetchErrorKind
from lenta.exceptions import InvalidFeedURLError
from lenta.fetch.http import FORM_CONTENT_TYPE
from lenta.fetch.http import POST_MAX_BYTES
from lenta.fetch.http import HTTPClient
from lenta.fetch.http import PostResult

pytestmark = pytest.mark.anyio

SUBSCRIBE = {
    "hub.mode": "subscribe",
    "hub.topic": "https://example.org/feed.xml",
    "hub.callback": "https://lenta.example/websub/17?token=a&b",
    "hub.secret": "s3cr=t +/",
}


async def post(url: str, data: dict[str, str] = SUBSCRIBE, **changes: Any) -> PostResult:
    async with HTTPClient(make_settings(**changes)) as client:
        return await client.post(url, data)


# --- what is sent, what comes back -----------------------------------------------


async def test_form_posted_and_202_returned(server: LocalServer) -> None:
    server.routes["/hub"] = Reply(202, body="accepted", headers={"Content-Type": "text/plain", "X-Hub": "yes"})
    result = await post(server.url("/hub"))
    assert result == PostResult(url=server.url("/hub"), status=202, headers=result.headers, body=b"accepted")
    assert result.headers["x-hub"] == "yes" and result.headers["content-type"] == "text/plain"
    [request] = server.requests
    assert request.method == "POST" and request.path == "/hub"
    assert request.headers["content-type"] == FORM_CONTENT_TYPE
    assert request.headers["content-length"] == str(len(request.body))
    assert request.headers["user-agent"] == UA
    assert dict(parse_qsl(request.body.decode("ascii"), strict_parsing=True)) == SUBSCRIBE


async def test_non_ascii_fields_are_utf8_percent_encoded(server: LocalServer) -> None:
    server.routes["/hub"] = Reply(202)
    await post(server.url("/hub"), {"hub.topic": "https://пример.рф/лента"})
    body = server.requests[0].body
    assert body.isascii() and b"%D0%BF" in body
    assert dict(parse_qsl(body.decode("ascii"))) == {"hub.topic": "https://пример.рф/лента"}


async def test_extra_headers_but_not_the_content_type(server: LocalServer) -> None:
    server.routes["/hub"] = Reply(202)
    async with HTTPClient(make_settings()) as client:
        await client.post(server.url("/hub"), SUBSCRIBE, headers={"X-Trace": "1", "content-type": "text/plain"})
    headers = server.requests[0].headers
    assert headers["x-trace"] == "1" and headers["content-type"] == FORM_CONTENT_TYPE


@pytest.mark.parametrize("status", [200, 204, 400, 403, 404, 410, 429, 500, 503])
async def test_every_status_is_returned(server: LocalServer, status: int) -> None:
    server.routes["/hub"] = Reply(status, body="" if status == 204 else "why", headers={"Retry-After": "60"})
    result = await post(server.url("/hub"))
    assert result.status == status and result.headers["retry-after"] == "60"
    assert result.body == (b"" if status == 204 else b"why")


async def test_a_challenge_page_is_returned_too(server: LocalServer) -> None:
    # fetch would call this a bot wall; for a POST the caller reads the status.
    page = "<html><head><title>Just a moment...</title></head></html>"
    server.routes["/hub"] = Reply(403, body=page, headers={"Content-Type": "text/html"})
    assert (await post(server.url("/hub"))).status == 403


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("location", ["/elsewhere", "file:///etc/passwd", "http://10.0.0.1/"])
async def test_redirects_are_returned_not_followed(server: LocalServer, status: int, location: str) -> None:
    server.routes["/hub"] = redirect(location, status)
    server.routes["/elsewhere"] = Reply(202)
    result = await post(server.url("/hub"))
    assert (result.status, result.headers["location"]) == (status, location)
    assert server.paths == ["/hub"]


async def test_a_location_that_is_no_url_is_returned_too(server: LocalServer) -> None:
    # Nothing looks at a POST's Location: even one no parser accepts comes back as sent.
    server.routes["/hub"] = redirect("http://[::1/", 302)
    result = await post(server.url("/hub"))
    assert (result.status, result.headers["location"]) == (302, "http://[::1/")


async def test_compressed_body_is_decoded(server: LocalServer) -> None:
    server.routes["/hub"] = Reply(400, body="hub.topic is missing", gzip=True)
    assert (await post(server.url("/hub"))).body == b"hub.topic is missing"


async def test_long_body_is_cut_at_the_cap(server: LocalServer) -> None:
    server.routes["/hub"] = Reply(202, body=lambda: (b"x" * 65536 for _ in range(1000)))  # 64 MiB, chunked
    started = time.monotonic()
    result = await post(server.url("/hub"))
    assert result.status == 202 and result.body == b"x" * POST_MAX_BYTES
    assert time.monotonic() - started < 3


async def test_a_smaller_fetch_cap_applies(server: LocalServer) -> None:
    server.routes["/hub"] = Reply(202, body=b"x" * 1000)
    assert (await post(server.url("/hub"), fetch_max_bytes=100)).body == b"x" * 100


async def test_undecodable_body_is_dropped_not_the_status(server: LocalServer) -> None:
    server.routes["/hub"] = Reply(202, body=b"\x1f\x8b\x08\x00garbage" * 10, headers={"Content-Encoding": "gzip"})
    result = await post(server.url("/hub"))
    assert (result.status, result.body) == (202, b"")


async def test_keep_alive_after_a_post(server: LocalServer) -> None:
    server.routes["/hub"] = Reply(202)
    server.routes["/feed"] = Reply(body=b"<rss/>")
    async with HTTPClient(make_settings()) as client:
        await client.post(server.url("/hub"), SUBSCRIBE)
        await client.post(server.url("/hub"), {"hub.mode": "unsubscribe"})
        assert (await client.fetch(server.url("/feed"))).body == b"<rss/>"
    assert [r.method for r in server.requests] == ["POST", "POST", "GET"]
    assert server.requests[1].body == b"hub.mode=unsubscribe"
    assert server.connections == 1


# --- the guard ---------------------------------------------------------------------


async def test_loopback_refused_and_nothing_sent(server: LocalServer) -> None:
    server.routes["/hub"] = Reply(202)
    with pytest.raises(AddressNotAllowedError) as info:
        await post(server.url("/hub"), fetch_allow="")
    assert "LENTA_FETCH_ALLOW" in str(info.value) and info.value.kind is FetchErrorKind.NOT_ALLOWED
    assert server.requests == [] and server.connections == 0


async def test_localhost_name_refused_and_nothing_sent(server: LocalServer) -> None:
    server.routes["/hub"] = Reply(202)
    with pytest.raises(AddressNotAllowedError):
        await post(server.url("/hub", host="hub.localhost"), fetch_allow="10.0.0.0/8")
    assert server.requests == [] and server.connections == 0


async def test_localhost_name_allowed_by_address(server: LocalServer) -> None:
    server.routes["/hub"] = Reply(202)
    result = await post(server.url("/hub", host="hub.localhost"), fetch_allow="127.0.0.1")
    assert result.status == 202 and result.url == server.url("/hub", host="hub.localhost")
    assert server.requests[0].headers["host"] == f"hub.localhost:{server.port}"


async def test_other_port_refused() -> None:
    with LocalServer() as allowed, LocalServer({"/hub": Reply(202)}) as other:
        with pytest.raises(AddressNotAllowedError):
            await post(other.url("/hub"), fetch_allow=f"127.0.0.1:{allowed.port}")
        assert other.requests == [] and other.connections == 0


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/hub"])
async def test_other_schemes_refused(url: str) -> None:
    with pytest.raises(AddressNotAllowedError, match="http and https"):
        await post(url)


async def test_malformed_url() -> None:
    with pytest.raises(InvalidFeedURLError):
        await post("http:///hub")


# --- failures and limits -------------------------------------------------------------


async def test_connection_refused() -> None:
    port = free_port()
    with pytest.raises(FetchError) as info:
        await post(f"http://127.0.0.1:{port}/hub")
    assert info.value.kind is FetchErrorKind.REFUSED
    assert str(info.value) == f"connection refused by 127.0.0.1:{port}"


async def test_read_timeout(server: LocalServer) -> None:
    server.routes["/hub"] = Reply(202, delay=10)
    with pytest.raises(FetchError) as info:
        await post(server.url("/hub"), fetch_timeout=0.3)
    assert info.value.kind is FetchErrorKind.TIMEOUT
    assert str(info.value) == f"timed out waiting for 127.0.0.1:{server.port}"


async def test_total_deadline(server: LocalServer) -> None:
    server.routes["/hub"] = Reply(202, delay=10)
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        await post(server.url("/hub"), fetch_timeout=5, fetch_deadline=0.3)
    assert info.value.kind is FetchErrorKind.TIMEOUT and "LENTA_FETCH_DEADLINE" in str(info.value)
    assert time.monotonic() - started < 2


async def test_per_host_limit_is_shared_with_fetch(server: LocalServer) -> None:
    server.routes["/hub"] = Reply(202, delay=0.1)
    server.routes["/feed"] = Reply(body=b"<rss/>", delay=0.1)
    async with HTTPClient(make_settings(per_host=1)) as client:
        await asyncio.gather(
            *(client.post(server.url("/hub"), SUBSCRIBE) for _ in range(3)),
            *(client.fetch(server.url("/feed")) for _ in range(3)),
        )
    assert len(server.requests) == 6
    assert server.peak_in_flight == 1


async def test_min_host_interval_spaces_posts(server: LocalServer) -> None:
    server.routes["/hub"] = Reply(202)
    round_started = time.monotonic()
    async with HTTPClient(make_settings(per_host=4), min_host_interval=0.2) as client:
        await asyncio.gather(*(client.post(server.url("/hub"), SUBSCRIBE) for _ in range(3)))
    starts = sorted(request.started for request in server.requests)
    # When the last can reach the server, not the gaps it sees: a server slow to
    # take its first connections bunches them (see test_fetch_http).
    assert len(starts) == 3 and starts[-1] - round_started >= 0.38, starts
