"""HTTPClient against real HTTP servers on 127.0.0.1 (tests/httpserver.py).

Nothing here leaves the machine: every server binds 127.0.0.1, the TLS
tests resolve their made-up names through a test resolver, and the DNS
test asks for a ``.invalid`` name, which never resolves.
"""

from __future__ import annotations

import asyncio
import email.utils
import gzip
import ipaddress
import shutil
import socket
import ssl
import subprocess
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from collections.abc import Sequence
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

import brotli
import pytest
from httpserver import LocalServer
from httpserver import RecordedRequest
from httpserver import Reply
from httpserver import free_port
from httpserver import redirect

from lenta.config import Settings
from lenta.exceptions import AddressNotAllowedError
from lenta.exceptions import FetchError
from lenta.exceptions import FetchErrorKind
from lenta.exceptions import InvalidFeedURLError
from lenta.exceptions import InvalidInputError
from lenta.fetch import FetchResult
from lenta.fetch import Validators
from lenta.fetch._connect import ResolveError
from lenta.fetch.guard import parse_allowlist
from lenta.fetch.http import MAX_REDIRECTS
from lenta.fetch.http import AddressGuard
from lenta.fetch.http import HTTPClient
from lenta.fetch.http import Resolver
from lenta.fetch.http import retry_after_seconds
from lenta.fetch.http import split_content_type

pytestmark = pytest.mark.anyio

UA = "lenta-test/1.0 (+https://lenta.invalid/; feed aggregator)"
RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
RSS_TYPE = {"Content-Type": "application/rss+xml; charset=utf-8"}
CAP = 1_000_000


def make_settings(**changes: Any) -> Settings:
    base = Settings(
        fetch_allow="127.0.0.1",  # the test servers; each guard test sets its own
        fetch_timeout=2.0,
        fetch_deadline=5.0,
        fetch_max_bytes=CAP,
        user_agent=UA,
        per_host=2,
        host_interval=0.0,  # spacing is tested on its own
    )
    return base.replace(**changes)


async def fetch(
    url: str,
    validators: Validators | None = None,
    *,
    resolver: Resolver | None = None,
    **changes: Any,
) -> FetchResult:
    async with HTTPClient(make_settings(**changes), resolver=resolver) as client:
        return await client.fetch(url, validators)


async def fetch_error(url: str, **changes: Any) -> FetchError:
    with pytest.raises(FetchError) as info:
        await fetch(url, **changes)
    return info.value


# --- the module's public names --------------------------------------------------

# What the rest of lenta imports from lenta.fetch.http; the split into private
# modules (_connect, _curl, _decode, _errors, _exchange, _limits, _redirects, _urls) must not move them.
PUBLIC = [
    "ACCEPT_ENCODING",
    "FEED_ACCEPT",
    "FORM_CONTENT_TYPE",
    "KEPT_HEADERS",
    "MAX_CODINGS",
    "MAX_REDIRECTS",
    "POST_MAX_BYTES",
    "AddressGuard",
    "HTTPClient",
    "PostResult",
    "Resolver",
    "retry_after_seconds",
    "split_content_type",
    "system_resolver",
]


def test_public_names_are_exported() -> None:
    from lenta.fetch import http

    assert sorted(http.__all__) == sorted(PUBLIC)
    assert all(hasattr(http, name) for name in PUBLIC)


# --- plain success -----------------------------------------------------------


async def test_200_with_body_and_headers(server: LocalServer) -> None:
    server.routes["/feed"] = Reply(
        body=RSS,
        headers={
            "Content-Type": 'Application/RSS+XML; charset="UTF-8"',
            "Cache-Control": "max-age=600",
            "Expires": "Thu, 01 Jan 2037 00:00:00 GMT",
            "Link": '<https://hub.example/>; rel="hub"',
            "X-Other": "dropped",
        },
        etag='"v1"',
        last_modified="Wed, 21 Oct 2015 07:28:00 GMT",
    )
    result = await fetch(server.url("/feed"))
    assert result.status == 200 and result.body == RSS and not result.not_modified
    assert result.url == server.url("/feed")
    assert (result.content_type, result.charset) == ("application/rss+xml", "utf-8")
    assert result.validators == Validators('"v1"', "Wed, 21 Oct 2015 07:28:00 GMT")
    assert result.permanent_redirect is None
    assert result.headers["cache-control"] == "max-age=600"
    assert result.headers["link"] == '<https://hub.example/>; rel="hub"'
    assert {"expires", "content-type", "date"} <= set(result.headers)
    assert "x-other" not in result.headers and "etag" not in result.headers
    assert result.elapsed > 0


async def test_request_headers(server: LocalServer) -> None:
    server.routes["/feed"] = Reply(body=RSS)
    await fetch(server.url("/feed"))
    headers = server.requests[0].headers
    assert headers["user-agent"] == UA
    assert headers["accept-encoding"] == "gzip, deflate, br"
    assert "application/rss+xml" in headers["accept"] and "application/atom+xml" in headers["accept"]
    assert "if-none-match" not in headers and "if-modified-since" not in headers and "cookie" not in headers


async def test_accept_can_be_chosen(server: LocalServer) -> None:
    server.routes["/page"] = Reply(body="<html></html>", headers={"Content-Type": "text/html"})
    async with HTTPClient(make_settings()) as client:
        result = await client.fetch(server.url("/page"), accept="text/html")
    assert result.content_type == "text/html" and result.charset is None
    assert server.requests[0].headers["accept"] == "text/html"


async def test_keep_alive_reuses_the_connection(server: LocalServer) -> None:
    server.routes["/feed"] = Reply(body=RSS)
    async with HTTPClient(make_settings()) as client:
        for _ in range(3):
            await client.fetch(server.url("/feed"))
    assert len(server.requests) == 3
    assert server.connections == 1


# --- conditional GET -----------------------------------------------------------

LAST_MODIFIED = "Wed, 21 Oct 2015 07:28:00 GMT"


async def test_conditional_get_etag(server: LocalServer) -> None:
    server.routes["/feed"] = Reply(body=RSS, etag='"abc"')
    first = await fetch(server.url("/feed"))
    second = await fetch(server.url("/feed"), first.validators)
    assert second.status == 304 and second.not_modified and second.body is None
    assert second.validators.etag == '"abc"'
    assert server.requests[1].headers["if-none-match"] == '"abc"'


async def test_conditional_get_last_modified(server: LocalServer) -> None:
    server.routes["/feed"] = Reply(body=RSS, last_modified=LAST_MODIFIED)
    result = await fetch(server.url("/feed"), Validators(last_modified=LAST_MODIFIED))
    assert result.not_modified
    assert result.validators == Validators(None, LAST_MODIFIED)
    assert server.requests[0].headers["if-modified-since"] == LAST_MODIFIED


async def test_changed_resource_is_not_304(server: LocalServer) -> None:
    server.routes["/feed"] = Reply(body=RSS, etag='"new"')
    result = await fetch(server.url("/feed"), Validators(etag='"old"'))
    assert result.status == 200 and result.body == RSS and result.validators.etag == '"new"'


# --- content codings -------------------------------------------------------------


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-15)
    return compressor.compress(data) + compressor.flush()


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", raw_deflate),  # no zlib header, as some servers send it
        ("br", brotli.compress),
        ("gzip, br", lambda data: brotli.compress(gzip.compress(data))),
        ("identity", lambda data: data),
    ],
)
async def test_content_codings(server: LocalServer, coding: str, encode: Any) -> None:
    body = RSS * 200
    server.routes["/feed"] = Reply(body=encode(body), headers={"Content-Encoding": coding, **RSS_TYPE})
    result = await fetch(server.url("/feed"))
    assert result.body == body


async def test_gzip_from_the_helper(server: LocalServer) -> None:
    server.routes["/feed"] = Reply(body=RSS, gzip=True)
    assert (await fetch(server.url("/feed"))).body == RSS


async def test_concatenated_gzip_members(server: LocalServer) -> None:
    server.routes["/feed"] = Reply(body=gzip.compress(b"one ") + gzip.compress(b"two"), headers={"Content-Encoding": "gzip"})
    assert (await fetch(server.url("/feed"))).body == b"one two"


async def test_three_codings_refused(server: LocalServer) -> None:
    body = gzip.compress(gzip.compress(gzip.compress(RSS)))
    server.routes["/feed"] = Reply(body=body, headers={"Content-Encoding": "gzip, gzip, gzip"})
    error = await fetch_error(server.url("/feed"))
    assert error.kind is FetchErrorKind.NETWORK
    assert "content codings" in str(error)


async def test_corrupt_gzip(server: LocalServer) -> None:
    server.routes["/feed"] = Reply(body=b"\x1f\x8b\x08\x00garbage" * 10, headers={"Content-Encoding": "gzip"})
    error = await fetch_error(server.url("/feed"))
    assert error.kind is FetchErrorKind.NETWORK and "decode" in str(error)


# --- size cap --------------------------------------------------------------------


async def test_body_exactly_at_the_cap(server: LocalServer) -> None:
    server.routes["/feed"] = Reply(body=b"x" * CAP)
    assert len((await fetch(server.url("/feed"))).body or b"") == CAP


async def test_content_length_over_the_cap(server: LocalServer) -> None:
    server.routes["/big"] = Reply(body=b"x" * (CAP + 1))
    error = await fetch_error(server.url("/big"))
    assert error.kind is FetchErrorKind.TOO_LARGE
    assert str(error) == f"the response is larger than {CAP} bytes (LENTA_FETCH_MAX_BYTES)"


async def test_chunked_body_over_the_cap(server: LocalServer) -> None:
    server.routes["/big"] = Reply(body=lambda: (b"x" * 65536 for _ in range(64)))  # 4 MiB, no Content-Length
    error = await fetch_error(server.url("/big"))
    assert error.kind is FetchErrorKind.TOO_LARGE


def zeros_compressed(coding: str, size: int) -> bytes:
    """``size`` zero bytes, compressed, without ever holding them all."""
    block = bytes(1 << 20)
    if coding == "br":
        brotli_compressor = brotli.Compressor(quality=5)
        parts = [brotli_compressor.process(block) for _ in range(size >> 20)]
        return b"".join(parts) + bytes(brotli_compressor.finish())
    compressor = zlib.compressobj(9, wbits=31)
    parts = [compressor.compress(block) for _ in range(size >> 20)]
    return b"".join(parts) + compressor.flush()


@pytest.mark.parametrize("coding", ["gzip", "br"])
async def test_decompression_bomb(server: LocalServer, coding: str) -> None:
    bomb = zeros_compressed(coding, 256 << 20)  # 256 MiB of zeros
    assert len(bomb) < 300_000
    server.routes["/bomb"] = Reply(body=bomb, headers={"Content-Encoding": coding, **RSS_TYPE})
    tracemalloc.start()
    try:
        error = await fetch_error(server.url("/bomb"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.kind is FetchErrorKind.TOO_LARGE
    assert peak < 16 * CAP, f"fetching the bomb allocated {peak} bytes at once"


# --- redirects -------------------------------------------------------------------


def chain(server: LocalServer, statuses: Sequence[int], final: str = "/final") -> str:
    """Routes /hop0 → /hop1 → … → final with these statuses; the first URL."""
    paths = [f"/hop{index}" for index in range(len(statuses))] + [final]
    for index, status in enumerate(statuses):
        server.routes[paths[index]] = redirect(paths[index + 1], status)
    server.routes.setdefault(final, Reply(body=RSS, headers=RSS_TYPE))
    return server.url(paths[0])


@pytest.mark.parametrize(
    ("statuses", "permanent"),
    [
        ([301], True),
        ([308], True),
        ([301, 308, 301], True),
        ([302], False),
        ([303], False),
        ([307], False),
        ([301, 302], False),
        ([302, 301], False),
        ([308, 307, 308], False),
    ],
)
async def test_redirects(server: LocalServer, statuses: list[int], permanent: bool) -> None:
    result = await fetch(chain(server, statuses))
    assert result.status == 200 and result.body == RSS
    assert result.url == server.url("/final")
    assert result.permanent_redirect == (server.url("/final") if permanent else None)
    assert len(server.requests) == len(statuses) + 1


async def test_absolute_and_relative_locations(server: LocalServer) -> None:
    server.routes["/a/b"] = redirect("c?x=1#frag")
    server.routes["/a/c"] = redirect(server.url("/final"), 301)
    server.routes["/final"] = Reply(body=RSS)
    result = await fetch(server.url("/a/b"))
    assert server.paths == ["/a/b", "/a/c?x=1", "/final"]
    assert result.url == server.url("/final")


async def test_ten_redirects_are_followed(server: LocalServer) -> None:
    result = await fetch(chain(server, [302] * MAX_REDIRECTS))
    assert result.status == 200


async def test_more_than_ten_redirects(server: LocalServer) -> None:
    error = await fetch_error(chain(server, [302] * (MAX_REDIRECTS + 1)))
    assert error.kind is FetchErrorKind.TOO_MANY_REDIRECTS
    assert str(error) == "more than 10 redirects"
    assert len(server.requests) == MAX_REDIRECTS + 1


async def test_redirect_loop(server: LocalServer) -> None:
    server.routes["/a"] = redirect("/b")
    server.routes["/b"] = redirect("/a", 301)
    error = await fetch_error(server.url("/a"))
    assert error.kind is FetchErrorKind.TOO_MANY_REDIRECTS
    assert "loop" in str(error)
    assert server.paths == ["/a", "/b"]


async def test_cookie_check_redirect_is_not_a_loop(server: LocalServer) -> None:
    # A site that sets a cookie and sends the reader back to the same URL.
    def gate(request: RecordedRequest) -> Reply:
        if "seen=1" in request.headers.get("cookie", ""):
            return Reply(body=RSS)
        return Reply(302, headers=[("Set-Cookie", "seen=1; Path=/"), ("Location", "/gate")])

    server.routes["/gate"] = gate
    result = await fetch(server.url("/gate"))
    assert result.body == RSS and len(server.requests) == 2
    await fetch(server.url("/gate"))  # the cookie lived for that fetch only
    assert "cookie" not in server.requests[2].headers


@pytest.mark.parametrize(
    "location", ["file:///etc/passwd", "ftp://127.0.0.1/feed", "gopher://127.0.0.1:70/", "javascript:alert(1)"]
)
async def test_redirect_to_other_schemes_refused(server: LocalServer, location: str) -> None:
    server.routes["/feed"] = redirect(location)
    with pytest.raises(AddressNotAllowedError) as info:
        await fetch(server.url("/feed"))
    assert "http and https" in str(info.value)


@pytest.mark.parametrize("location", ["http://[::1/", "http://", "https:///feed", "http:foo", "http://exa mple.com/"])
async def test_redirect_to_invalid_url(server: LocalServer, location: str) -> None:
    server.routes["/feed"] = redirect(location)
    server.routes["/foo"] = Reply(body=RSS)
    try:
        result = await fetch(server.url("/feed"))
    except FetchError as error:  # never InvalidFeedURLError or a bare httpx error
        assert type(error) is FetchError
        # "http://" joins back onto the same URL, as httpx reads it: a loop.
        assert error.kind in {FetchErrorKind.NETWORK, FetchErrorKind.TOO_MANY_REDIRECTS}
    else:  # read as relative, like a browser would
        assert result.url == server.url("/foo")


async def test_redirect_without_location(server: LocalServer) -> None:
    server.routes["/feed"] = Reply(302)
    error = await fetch_error(server.url("/feed"))
    assert error.status == 302 and str(error) == "HTTP 302 Found"


# --- failures ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind", "message"),
    [
        (404, FetchErrorKind.HTTP_CLIENT, "HTTP 404 Not Found"),
        (401, FetchErrorKind.HTTP_CLIENT, "HTTP 401 Unauthorized"),
        (403, FetchErrorKind.HTTP_CLIENT, "HTTP 403 Forbidden"),
        (429, FetchErrorKind.HTTP_CLIENT, "HTTP 429 Too Many Requests"),
        (410, FetchErrorKind.GONE, "HTTP 410 Gone"),
        (500, FetchErrorKind.HTTP_SERVER, "HTTP 500 Internal Server Error"),
        (502, FetchErrorKind.HTTP_SERVER, "HTTP 502 Bad Gateway"),
        (503, FetchErrorKind.HTTP_SERVER, "HTTP 503 Service Unavailable"),
    ],
)
async def test_http_errors(server: LocalServer, status: int, kind: FetchErrorKind, message: str) -> None:
    server.routes["/feed"] = Reply(status, body="<html><body>nope</body></html>", headers={"Content-Type": "text/html"})
    error = await fetch_error(server.url("/feed"))
    assert (error.kind, error.status, str(error)) == (kind, status, message)
    assert error.retry_after is None


async def test_large_error_page_is_not_read_whole(server: LocalServer) -> None:
    server.routes["/feed"] = Reply(500, body=lambda: (b"x" * 65536 for _ in range(10_000)))  # 640 MiB
    started = time.monotonic()
    error = await fetch_error(server.url("/feed"))
    assert error.kind is FetchErrorKind.HTTP_SERVER
    assert time.monotonic() - started < 3


def http_date(when: datetime) -> str:
    return email.utils.format_datetime(when.astimezone(UTC), usegmt=True)


async def test_503_retry_after_seconds(server: LocalServer) -> None:
    server.routes["/feed"] = Reply(503, headers={"Retry-After": "120"})
    error = await fetch_error(server.url("/feed"))
    assert error.kind is FetchErrorKind.HTTP_SERVER and error.retry_after == 120


async def test_429_retry_after_http_date(server: LocalServer) -> None:
    later = datetime.now(UTC) + timedelta(seconds=90)
    server.routes["/feed"] = Reply(429, headers={"Retry-After": http_date(later)})
    error = await fetch_error(server.url("/feed"))
    assert error.kind is FetchErrorKind.HTTP_CLIENT and error.status == 429
    assert error.retry_after is not None and 85 <= error.retry_after <= 91


async def test_retry_after_date_uses_the_servers_clock(server: LocalServer) -> None:
    server_now = datetime.now(UTC) - timedelta(hours=3)  # a server three hours behind
    server.routes["/feed"] = Reply(
        503, headers={"Date": http_date(server_now), "Retry-After": http_date(server_now + timedelta(seconds=60))}
    )
    error = await fetch_error(server.url("/feed"))
    assert error.retry_after == 60


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("0", 0.0),
        ("3600", 3600.0),
        (" 7 ", 7.0),
        ("", None),
        ("soon", None),
        ("-5", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
    ],  # in the past: now
)
def test_retry_after_parsing(value: str, seconds: float | None) -> None:
    assert retry_after_seconds(value) == seconds


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        (None, (None, None)),
        ("", (None, None)),
        ("text/xml", ("text/xml", None)),
        ('Application/Atom+XML; Charset="ISO-8859-1"', ("application/atom+xml", "iso-8859-1")),
        ("text/html; boundary=x; charset=utf-8", ("text/html", "utf-8")),
        ("text/html; charset=", ("text/html", None)),
    ],
)
def test_split_content_type(value: str | None, parsed: tuple[str | None, str | None]) -> None:
    assert split_content_type(value) == parsed


CLOUDFLARE = """<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="refresh" content="390"></head><body><div class="main-wrapper">
<noscript>Enable JavaScript and cookies to continue</noscript>
<script>(function(){window._cf_chl_opt={cvId: '3'};})();</script></body></html>"""
ATTENTION = "<html><head><title>Attention Required! | Cloudflare</title></head><body>Sorry, you have been blocked</body></html>"
DDOS_GUARD = "<html><head><title>DDoS-Guard</title></head><body>Checking your browser</body></html>"
CAPTCHA = "<html><body><h1>Please solve this captcha to continue</h1></body></html>"


@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [
        (403, CLOUDFLARE, {"Content-Type": "text/html; charset=UTF-8"}),
        (503, CLOUDFLARE, {"Content-Type": "text/html"}),
        (403, ATTENTION, {"Content-Type": "text/html"}),
        (403, DDOS_GUARD, {"Content-Type": "text/html"}),
        (429, CAPTCHA, {"Content-Type": "text/html"}),
        (503, CAPTCHA, {}),  # no Content-Type: the markup says HTML
        (200, CLOUDFLARE, {"Content-Type": "text/html"}),  # some walls answer 200
        (200, "<html><body>hold on</body></html>", {"Content-Type": "text/html", "cf-mitigated": "challenge"}),
    ],
)
async def test_bot_walls(server: LocalServer, status: int, body: str, headers: dict[str, str]) -> None:
    server.routes["/feed"] = Reply(status, body=body, headers=headers, gzip=True)
    error = await fetch_error(server.url("/feed"))
    assert error.kind is FetchErrorKind.BOT_WALL and error.status == status
    assert "bot-protection challenge" in str(error)


async def test_bot_wall_keeps_retry_after(server: LocalServer) -> None:
    server.routes["/feed"] = Reply(503, body=CLOUDFLARE, headers={"Content-Type": "text/html", "Retry-After": "30"})
    error = await fetch_error(server.url("/feed"))
    assert error.kind is FetchErrorKind.BOT_WALL and error.retry_after == 30


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (CAPTCHA, "text/html"),  # "captcha" on a 200 page: a page with a comment form
        (
            "<rss><channel><item><description>cf-chl and Just a moment...</description></item></channel></rss>",
            "application/rss+xml",
        ),
    ],
)
async def test_not_bot_walls(server: LocalServer, body: str, content_type: str) -> None:
    server.routes["/feed"] = Reply(body=body, headers={"Content-Type": content_type})
    assert (await fetch(server.url("/feed"))).status == 200


async def test_read_timeout(server: LocalServer) -> None:
    server.routes["/slow"] = Reply(body=RSS, delay=10)
    started = time.monotonic()
    error = await fetch_error(server.url("/slow"), fetch_timeout=0.3)
    assert error.kind is FetchErrorKind.TIMEOUT
    assert str(error) == f"timed out waiting for 127.0.0.1:{server.port}"
    assert time.monotonic() - started < 2


async def test_total_deadline(server: LocalServer) -> None:
    server.routes["/slow"] = Reply(body=RSS, delay=10)
    started = time.monotonic()
    error = await fetch_error(server.url("/slow"), fetch_timeout=5, fetch_deadline=0.3)
    assert error.kind is FetchErrorKind.TIMEOUT
    assert str(error) == "gave up after the 0.3s deadline (LENTA_FETCH_DEADLINE)"
    assert time.monotonic() - started < 2


async def test_deadline_spans_redirects(server: LocalServer) -> None:
    for index in range(4):  # each hop well within the timeout, together over the deadline
        server.routes[f"/hop{index}"] = Reply(302, headers={"Location": f"/hop{index + 1}"}, delay=0.2)
    server.routes["/hop4"] = Reply(body=RSS)
    error = await fetch_error(server.url("/hop0"), fetch_timeout=1, fetch_deadline=0.5)
    assert error.kind is FetchErrorKind.TIMEOUT and "deadline" in str(error)
    assert len(server.requests) == 3


async def test_connection_refused() -> None:
    port = free_port()
    error = await fetch_error(f"http://127.0.0.1:{port}/feed")
    assert error.kind is FetchErrorKind.REFUSED
    assert str(error) == f"connection refused by 127.0.0.1:{port}"


def ipv6_loopback_port() -> int | None:
    """A port on ::1 nothing listens on, or None without IPv6 loopback here."""
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
            return int(sock.getsockname()[1])
    except OSError:
        return None


async def test_connection_refused_ipv6() -> None:
    port = ipv6_loopback_port()
    if port is None:
        pytest.skip("no IPv6 loopback on this machine")
    error = await fetch_error(f"http://[::1]:{port}/feed", fetch_allow="::1")
    assert error.kind is FetchErrorKind.REFUSED
    assert str(error) == f"connection refused by [::1]:{port}"


async def test_dns_failure() -> None:
    error = await fetch_error("http://nonexistent.invalid/feed", fetch_allow="")
    assert error.kind is FetchErrorKind.DNS
    assert str(error) == "could not resolve host nonexistent.invalid"


async def test_tls_error_from_a_plain_http_server(server: LocalServer) -> None:
    server.routes["/feed"] = Reply(body=RSS)
    error = await fetch_error(f"https://127.0.0.1:{server.port}/feed")
    assert error.kind is FetchErrorKind.TLS
    assert str(error).startswith(f"TLS error with 127.0.0.1:{server.port}: ")


async def test_malformed_and_refused_urls() -> None:
    with pytest.raises(InvalidFeedURLError):
        await fetch("http:///feed")
    with pytest.raises(AddressNotAllowedError):
        await fetch("file:///etc/passwd")


def test_invalid_allowlist_setting() -> None:
    with pytest.raises(InvalidInputError, match="LENTA_FETCH_ALLOW"):
        HTTPClient(make_settings(fetch_allow="10.0.0.1/8"))


# --- TLS: the certificate is checked against the name, not the address we dial ---


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A test CA and a certificate for feed.test, made with the openssl tool."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command to make test certificates")
    folder = tmp_path_factory.mktemp("tls")
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], cwd=folder, check=True, capture_output=True)

    run(
        "req",
        "-x509",
        *key,
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=lenta test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    )
    run("req", *key, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=feed.test")
    (folder / "leaf.ext").write_text(
        "subjectAltName=DNS:feed.test\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\nauthorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n"
    )
    run(
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "leaf.pem",
        "-days",
        "2",
        "-extfile",
        "leaf.ext",
    )
    return folder


@pytest.fixture
def tls_server(certificates: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificates / "leaf.pem", certificates / "leaf.key")
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates / "ca.pem"))  # the client trusts the test CA
    with LocalServer({"/feed": Reply(body=RSS)}, ssl_context=context) as local:
        yield local


async def to_loopback(host: str, port: int) -> list[str]:
    """A resolver for made-up names: every name is 127.0.0.1."""
    return ["127.0.0.1"]


async def test_https_verifies_the_host_name_while_dialing_the_address(tls_server: LocalServer) -> None:
    result = await fetch(f"https://feed.test:{tls_server.port}/feed", resolver=to_loopback)
    assert result.body == RSS
    assert tls_server.requests[0].headers["host"] == f"feed.test:{tls_server.port}"


async def test_https_wrong_host_name(tls_server: LocalServer) -> None:
    error = await fetch_error(f"https://other.test:{tls_server.port}/feed", resolver=to_loopback)
    assert error.kind is FetchErrorKind.TLS
    assert tls_server.requests == []


# --- the guard -----------------------------------------------------------------------


async def test_proxy_settings_in_the_environment_are_ignored(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # A proxy would be the address the guard checks, not the feed's: lenta
    # never uses one, whatever the environment says.
    server.routes["/feed"] = Reply(body=RSS)
    with LocalServer({"/feed": Reply(body=b"from the proxy")}) as proxy:
        for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.setenv(name, proxy.url(""))
        result = await fetch(server.url("/feed"))
        assert result.body == RSS
        assert proxy.requests == [] and proxy.connections == 0


async def test_loopback_refused_without_allowlist(server: LocalServer) -> None:
    server.routes["/feed"] = Reply(body=RSS)
    with pytest.raises(AddressNotAllowedError) as info:
        await fetch(server.url("/feed"), fetch_allow="")
    message = str(info.value)
    assert "LENTA_FETCH_ALLOW" in message and f"127.0.0.1:{server.port}" in message and "loopback" in message
    assert info.value.kind is FetchErrorKind.NOT_ALLOWED
    assert server.requests == [] and server.connections == 0


async def test_localhost_refused(server: LocalServer) -> None:
    server.routes["/feed"] = Reply(body=RSS)
    with pytest.raises(AddressNotAllowedError) as info:
        await fetch(f"http://localhost:{server.port}/feed", fetch_allow="")
    assert "localhost" in str(info.value) and "127.0.0.1 (loopback)" in str(info.value)
    assert server.connections == 0


async def test_redirect_to_a_port_not_allowed() -> None:
    with LocalServer() as allowed, LocalServer({"/secret": Reply(body=b"secret")}) as other:
        allowed.routes["/feed"] = redirect(other.url("/secret"))
        with pytest.raises(AddressNotAllowedError) as info:
            await fetch(allowed.url("/feed"), fetch_allow=f"127.0.0.1:{allowed.port}")
        assert f"127.0.0.1:{other.port}" in str(info.value)
        assert allowed.paths == ["/feed"]
        assert other.requests == [] and other.connections == 0


@pytest.mark.parametrize("allow", ["127.0.0.0/8", "127.0.0.1", "localhost", "localhost:{port}", "127.0.0.1:{port}"])
async def test_allowlist_forms_let_loopback_through(server: LocalServer, allow: str) -> None:
    server.routes["/feed"] = Reply(body=RSS)
    result = await fetch(f"http://localhost:{server.port}/feed", fetch_allow=allow.format(port=server.port))
    assert result.body == RSS


async def test_allowlist_by_cidr_excludes_others(server: LocalServer) -> None:
    server.routes["/feed"] = Reply(body=RSS)
    with pytest.raises(AddressNotAllowedError):
        await fetch(server.url("/feed"), fetch_allow="10.0.0.0/8, 192.168.0.0/16")
    assert server.connections == 0


async def test_connects_to_the_address_it_checked(server: LocalServer) -> None:
    # The name resolves once, through lenta's resolver, and the request goes to the
    # allowed address: "rebind.test" means nothing to the system resolver, so any
    # second lookup (the DNS-rebinding window) would have failed the fetch.
    server.routes["/feed"] = Reply(body=RSS)
    lookups: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.2", "127.0.0.1"]  # .2 is not allowed below, and nothing listens there

    result = await fetch(f"http://rebind.test:{server.port}/feed", resolver=resolver, fetch_allow="127.0.0.1")
    assert result.body == RSS
    assert lookups == ["rebind.test"]
    assert server.requests[0].headers["host"] == f"rebind.test:{server.port}"


# AddressGuard alone, with made-up resolvers: no sockets at all.


def fixed(*addresses: str) -> Resolver:
    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


@pytest.mark.parametrize(
    ("resolved", "allow", "kept"),
    [
        (["93.184.216.34"], "", ["93.184.216.34"]),
        (["10.0.0.1", "93.184.216.34"], "", ["93.184.216.34"]),  # private ones dropped
        (["::ffff:127.0.0.1", "2606:4700::1111"], "", ["2606:4700::1111"]),
        (["10.0.0.1"], "10.0.0.0/8", ["10.0.0.1"]),
        (["10.0.0.1", "127.0.0.1"], "feeds.lan", ["10.0.0.1", "127.0.0.1"]),  # by name: whatever it resolves to
        (["fe80::1%eth0"], "feeds.lan:443", ["fe80::1"]),
        (["93.184.216.34", "10.0.0.1", "1.1.1.1"], "", ["93.184.216.34", "1.1.1.1"]),  # order kept: tried in turn
    ],
)
async def test_guard_keeps_only_allowed_addresses(resolved: list[str], allow: str, kept: list[str]) -> None:
    guard = AddressGuard(parse_allowlist(allow), resolver=fixed(*resolved))
    assert await guard.allowed_addresses("feeds.lan", 443, timeout=1) == kept


@pytest.mark.parametrize("resolved", [["127.0.0.1", "::1"], ["169.254.169.254"], ["::ffff:10.0.0.1"], ["0.0.0.0"]])
async def test_guard_refuses_when_nothing_is_left(resolved: list[str]) -> None:
    guard = AddressGuard(parse_allowlist("other.lan"), resolver=fixed(*resolved))
    with pytest.raises(AddressNotAllowedError, match="LENTA_FETCH_ALLOW"):
        await guard.allowed_addresses("feeds.lan", 80, timeout=1)


def test_guard_checks_each_socket_again() -> None:
    # What libcurl's open-socket callback asks before every connection.
    guard = AddressGuard(parse_allowlist("127.0.0.1:8080"))
    assert guard.admits("feed.test", 8080, "127.0.0.1")
    assert not guard.admits("feed.test", 8081, "127.0.0.1")
    assert not guard.admits("feed.test", 443, "169.254.169.254")
    assert guard.admits("feed.test", 443, "93.184.216.34")
    assert not guard.admits("feed.test", 443, "not an address")


async def test_guard_ip_literal_is_not_resolved() -> None:
    async def no_dns(host: str, port: int) -> list[str]:
        raise AssertionError("resolved an IP literal")

    guard = AddressGuard(parse_allowlist("::1"), resolver=no_dns)
    kept = await guard.allowed_addresses("::1", 80, timeout=1)
    assert kept == ["::1"] and ipaddress.ip_address(kept[0]).is_loopback


async def test_guard_resolution_timeout() -> None:
    async def slow(host: str, port: int) -> list[str]:
        await asyncio.sleep(10)
        return []

    guard = AddressGuard(parse_allowlist(""), resolver=slow)
    with pytest.raises(ResolveError) as info:
        await guard.allowed_addresses("feeds.example", 80, timeout=0.05)
    assert info.value.timed_out


async def test_guard_reuses_a_lookup_but_judges_it_each_time() -> None:
    lookups: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    allowed = AddressGuard(parse_allowlist("127.0.0.1"), resolver=resolver)
    assert await allowed.allowed_addresses("feeds.test", 80, 1) == ["127.0.0.1"]
    assert await allowed.allowed_addresses("FEEDS.test", 80, 1) == ["127.0.0.1"]
    assert lookups == ["feeds.test"]


# --- politeness -----------------------------------------------------------------------


async def test_per_host_limit(server: LocalServer) -> None:
    server.routes["/feed"] = Reply(body=RSS, delay=0.1)
    async with HTTPClient(make_settings(per_host=2)) as client:
        results = await asyncio.gather(*(client.fetch(server.url("/feed")) for _ in range(10)))
    assert all(result.body == RSS for result in results)
    assert len(server.requests) == 10
    assert server.peak_in_flight == 2


async def test_a_slow_answer_does_not_hold_back_the_next_request_to_its_plain_http_host(server: LocalServer) -> None:
    # libcurl's PIPEWAIT made a request wait for a connection still being
    # set up to the same host, to see whether it multiplexes, which plain
    # HTTP never does: a slow feed held back the other feeds of its host.
    server.routes["/slow"] = Reply(body=RSS, delay=3)
    server.routes["/feed"] = Reply(body=RSS)
    async with HTTPClient(make_settings(per_host=2, host_interval=0.0, fetch_timeout=10.0)) as client:
        started = time.monotonic()
        slow = asyncio.ensure_future(client.fetch(server.url("/slow")))
        await asyncio.sleep(0)  # the slow one's connection is on its way when the next request comes
        quick = await client.fetch(server.url("/feed"))
        waited = time.monotonic() - started
        await slow
    assert quick.body == RSS
    assert waited < 2.0, f"the second request waited {waited:.1f} s for the slow one"


async def test_per_host_limit_is_per_host(server: LocalServer) -> None:
    server.routes["/feed"] = Reply(body=RSS, delay=0.2)
    urls = [server.url("/feed"), f"http://localhost:{server.port}/feed"] * 2
    async with HTTPClient(make_settings(per_host=1)) as client:
        await asyncio.gather(*(client.fetch(url) for url in urls))
    assert server.peak_in_flight == 2  # one per host name, both at once


async def test_min_host_interval(server: LocalServer) -> None:
    server.routes["/feed"] = Reply(body=RSS)
    round_started = time.monotonic()
    async with HTTPClient(make_settings(per_host=4), min_host_interval=0.2) as client:
        await asyncio.gather(*(client.fetch(server.url("/feed")) for _ in range(4)))
    starts = sorted(request.started for request in server.requests)
    # The server may be slow to take its first connections, which bunches
    # the starts it sees, but no request can reach it before it was sent:
    # spaced 0.2 s apart, the fourth leaves 0.6 s after the round began.
    assert len(starts) == 4 and starts[-1] - round_started >= 0.55, starts


async def test_requests_to_one_host_are_spaced_by_default(server: LocalServer) -> None:
    server.routes["/feed"] = Reply(body=RSS)
    defaults = Settings()
    assert defaults.host_interval == 0.1 and defaults.per_host == 2
    round_started = time.monotonic()
    async with HTTPClient(make_settings(host_interval=defaults.host_interval)) as client:
        await asyncio.gather(*(client.fetch(server.url("/feed")) for _ in range(4)))
    starts = sorted(request.started for request in server.requests)
    # A lower bound the server's own delays cannot break (see
    # test_min_host_interval): four starts 0.1 s apart end 0.3 s in.
    assert len(starts) == 4 and starts[-1] - round_started >= 0.28, starts


async def test_spacing_can_be_switched_off(server: LocalServer) -> None:
    server.routes["/feed"] = Reply(body=RSS)
    started = time.monotonic()
    async with HTTPClient(make_settings(per_host=4, host_interval=0.0)) as client:
        await asyncio.gather(*(client.fetch(server.url("/feed")) for _ in range(4)))
    assert time.monotonic() - started < 1


async def test_connections_are_reused_after_304s_and_redirects(server: LocalServer) -> None:
    server.routes["/feed"] = Reply(body=RSS, etag='"v1"')
    server.routes["/moved"] = Reply(301, headers={"Location": "/feed"})
    async with HTTPClient(make_settings(per_host=1)) as client:
        for _ in range(3):
            result = await client.fetch(server.url("/feed"), Validators(etag='"v1"'))
            assert result.status == 304
        await client.fetch(server.url("/moved"))
    assert len(server.requests) == 5
    assert server.connections == 1
