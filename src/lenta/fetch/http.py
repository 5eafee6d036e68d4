"""The HTTP fetcher: every request lenta makes goes through :class:`HTTPClient`.

One client per process, used as ``async with HTTPClient(settings) as client``
(asyncio only). Built on ``httpx.AsyncClient`` with HTTP/2 and keep-alive;
what it adds:

- **The outbound guard**, at connect time. :class:`GuardedBackend` is the
  httpcore network backend: it resolves the host itself, drops every address
  :mod:`lenta.fetch.guard` refuses, and connects to the very address it
  checked, so DNS rebinding cannot swap in 127.0.0.1 between check and
  connect. TLS still verifies the certificate against the host name (httpcore
  passes the URL's host to ``start_tls``). Proxies are not supported: the
  guard would check the proxy's address instead of the target's.
- **Redirects by hand**, at most :data:`MAX_REDIRECTS`, each hop re-checked
  (http/https only, and the guard again when connecting), loops detected.
- **Limits**: a total deadline (``fetch_deadline``) over the hops (time
  queued for a per-host slot not counted), connect
  and read timeouts (``fetch_timeout``), the body capped at
  ``fetch_max_bytes`` *after* decompression, which is done here, a bounded
  piece at a time, so a gzip or brotli bomb costs at most the cap.
- **Politeness**: at most ``per_host`` requests in flight to one host and,
  optionally, a minimum spacing between their starts; the honest User-Agent.

Every failure leaves as a :class:`~lenta.exceptions.FetchError` built in one
place, :func:`_fetch_errors`: library exceptions, bad statuses, bot walls,
oversized bodies and redirect trouble alike. The guard's refusals
(:class:`~lenta.exceptions.AddressNotAllowedError`, worded in
:mod:`lenta.fetch.guard`) pass through it unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import http
import ipaddress
import socket
import ssl
import typing
import zlib
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from datetime import timezone
from http.cookiejar import CookieJar
from http.cookiejar import DefaultCookiePolicy
from types import TracebackType

import brotli  # type: ignore[import-untyped]
import httpcore
import httpx

from lenta.config import Settings
from lenta.exceptions import FetchError
from lenta.exceptions import FetchErrorKind
from lenta.exceptions import InvalidFeedURLError
from lenta.exceptions import LentaError
from lenta.fetch import FetchResult
from lenta.fetch import Validators
from lenta.fetch.guard import Allowlist
from lenta.fetch.guard import address_allowed
from lenta.fetch.guard import check_url
from lenta.fetch.guard import not_allowed_error
from lenta.fetch.guard import parse_allowlist

FEED_ACCEPT = (
    "application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, "
    "application/feed+json;q=0.9, application/xml;q=0.8, text/xml;q=0.8, "
    "application/json;q=0.7, */*;q=0.5"
)
MAX_REDIRECTS = 10
MAX_CODINGS = 2  # more than gzip-inside-br is no honest server's doing
KEPT_HEADERS = ("cache-control", "expires", "retry-after", "link", "content-type", "date")

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT = frozenset({301, 308})
_PIECE = 64 * 1024  # most bytes one decompression step may produce
_ERROR_HEAD = 64 * 1024  # how much of an error page we read to spot a bot wall

# brotli >= 1.2 can bound each decompression step; an older one cannot, and
# then we do not ask for br at all rather than risk a brotli bomb.
_BROTLI_BOUNDED = hasattr(brotli.Decompressor(), "can_accept_more_data")
ACCEPT_ENCODING = "gzip, deflate, br" if _BROTLI_BOUNDED else "gzip, deflate"

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, in the system's preferred order."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


# --- connecting: the guard --------------------------------------------------


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


class _GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport, with its connection pool built on :class:`GuardedBackend`.

    httpx 0.28 gives ``AsyncHTTPTransport`` no ``network_backend`` argument,
    so we let it build its pool, then replace ``self._pool`` (which
    ``handle_async_request`` uses) with the same pool on our backend. If a
    new httpx stops keeping its pool there, we refuse to start rather than
    fetch unguarded; ``test_transport_pool_is_guarded`` fails too.
    """

    def __init__(self, backend: GuardedBackend, *, limits: httpx.Limits) -> None:
        ssl_context = httpx.create_ssl_context()  # honours SSL_CERT_FILE / SSL_CERT_DIR
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


# --- politeness: per-host limits --------------------------------------------


@dataclass(slots=True)
class _Gate:
    semaphore: asyncio.Semaphore
    lock: asyncio.Lock  # serializes the spacing wait
    next_start: float = 0.0
    users: int = 0


class _HostLimiter:
    """At most ``per_host`` requests in flight to one host, their starts at
    least ``interval`` seconds apart. Gates of idle hosts are dropped."""

    def __init__(self, per_host: int, interval: float) -> None:
        self._per_host = per_host
        self._interval = interval
        self._gates: dict[str, _Gate] = {}

    @contextlib.asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        gate = self._gates.get(host)
        if gate is None:
            self._prune(loop.time())
            gate = self._gates[host] = _Gate(asyncio.Semaphore(self._per_host), asyncio.Lock())
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
                self._gates.pop(host, None)

    def _prune(self, now: float) -> None:
        # Gates kept only for their spacing: drop them once it has passed.
        if len(self._gates) > 256:
            for host, gate in list(self._gates.items()):
                if gate.users == 0 and gate.next_start <= now:
                    del self._gates[host]


# --- bodies: bounded decompression ------------------------------------------


class _ZlibDecoder:
    """gzip or deflate, yielding at most ``_PIECE`` bytes per step."""

    def __init__(self, coding: str) -> None:
        self._coding = coding
        self._wbits = 31 if coding == "gzip" else 15  # 31: gzip header; 15: zlib header
        self._z = zlib.decompressobj(self._wbits)
        self._started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        while True:
            try:
                out = self._z.decompress(data, _PIECE)
            except zlib.error:
                if self._coding == "deflate" and not self._started:
                    # Some servers send raw deflate without the zlib header.
                    self._wbits, self._z, self._started = -15, zlib.decompressobj(-15), True
                    continue
                raise
            self._started = True
            if out:
                yield out
            data = self._z.unconsumed_tail
            if self._z.eof and self._z.unused_data[:2] == b"\x1f\x8b":
                data, self._z = self._z.unused_data, zlib.decompressobj(self._wbits)  # another gzip member
            # A full piece may leave output pending even with no input left.
            if not data and len(out) < _PIECE:
                return

    def flush(self) -> Iterator[bytes]:
        yield self._z.flush()


class _BrotliDecoder:
    def __init__(self) -> None:
        self._d = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        yield self._d.process(data, output_buffer_limit=_PIECE)
        while not self._d.can_accept_more_data():
            yield self._d.process(b"", output_buffer_limit=_PIECE)

    def flush(self) -> Iterator[bytes]:
        return iter(())


_Decoder = _ZlibDecoder | _BrotliDecoder


def _decoders(content_encoding: str) -> list[_Decoder]:
    """Decoders for a Content-Encoding, in the order to apply them (last coding first)."""
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    # Unknown codings ("identity", "none", even "utf-8") are passed through, as
    # httpx and most readers do: misconfigured servers send them on plain feeds.
    known = [c for c in codings if c in {"gzip", "x-gzip", "deflate", "br"}]
    if len(known) > MAX_CODINGS:
        raise _Undecodable(f"{len(known)} content codings ({content_encoding})")
    if "br" in known and not _BROTLI_BOUNDED:
        raise _Undecodable("br, which this brotli module cannot decode in bounded steps")
    return [_BrotliDecoder() if c == "br" else _ZlibDecoder("deflate" if c == "deflate" else "gzip")
            for c in reversed(known)]


def _feed(decoders: Sequence[_Decoder], data: bytes) -> Iterator[bytes]:
    if not decoders:
        if data:
            yield data
        return
    for piece in decoders[0].feed(data):
        yield from _feed(decoders[1:], piece)


def _flush(decoders: Sequence[_Decoder]) -> Iterator[bytes]:
    for index, decoder in enumerate(decoders):
        for piece in decoder.flush():
            yield from _feed(decoders[index + 1 :], piece)


async def _read_body(response: httpx.Response, limit: int, *, truncate: bool = False) -> bytes:
    """The decoded body, at most ``limit`` bytes. Over the limit: the first
    ``limit`` bytes if ``truncate``, else :class:`_TooLarge`."""
    declared = response.headers.get("content-length", "")
    if not truncate and declared.isdigit() and int(declared) > limit:
        raise _TooLarge(limit)
    decoders = _decoders(response.headers.get("content-encoding", ""))
    body = bytearray()
    raw_total = 0
    try:
        async for raw in response.aiter_raw():
            raw_total += len(raw)
            for piece in _feed(decoders, raw):
                body += piece
                if len(body) > limit:
                    if truncate:
                        return bytes(body[:limit])
                    raise _TooLarge(limit)
            if raw_total > limit and not truncate:  # compressed, and still over
                raise _TooLarge(limit)
        for piece in _flush(decoders):
            body += piece
            if len(body) > limit and not truncate:
                raise _TooLarge(limit)
    except (zlib.error, brotli.error) as exc:
        raise _Undecodable(f"{response.headers.get('content-encoding')}: {exc}") from exc
    return bytes(body[:limit])


# --- responses: what they mean ----------------------------------------------

# Challenge pages of bot-protection services. Specific enough to check on any
# HTML response, a 200 included (some walls answer 200).
_CHALLENGE_MARKERS = (
    "<title>just a moment...</title>",
    "cf-chl",
    "cf_chl",
    "/cdn-cgi/challenge-platform/",
    "attention required! | cloudflare",
    "ddos-guard",
    "checking your browser before accessing",
    "sucuri website firewall",
    "_incapsula_resource",
    "captcha-delivery.com",
    "px-captcha",
)
# Too common in ordinary pages to mean a wall except on a 403/429/503.
_REFUSAL_MARKERS = ("captcha", "just a moment", "are you a robot", "are you human", "bot protection")
_REFUSAL_STATUSES = frozenset({403, 429, 503})


def _bot_wall(status: int, headers: httpx.Headers, head: bytes) -> str | None:
    """The sign that this response is a bot-protection challenge, or None."""
    if headers.get("cf-mitigated", "").lower() == "challenge":
        return "cf-mitigated: challenge"
    media_type, _ = split_content_type(headers.get("content-type"))
    text = head[:_ERROR_HEAD].decode("latin-1").lower()
    looks_html = media_type in {"text/html", "application/xhtml+xml"} or (
        media_type in {None, "text/plain", "application/octet-stream"} and "<html" in text[:1024]
    )
    if not looks_html:
        return None  # a feed (or an image...) is never a challenge page
    markers = _CHALLENGE_MARKERS + (_REFUSAL_MARKERS if status in _REFUSAL_STATUSES else ())
    return next((marker for marker in markers if marker in text), None)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """A Retry-After header (delta-seconds or HTTP-date) in seconds from ``now``."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def _server_now(headers: httpx.Headers) -> datetime | None:
    """The server's clock (its Date header), so an HTTP-date Retry-After is
    measured on the clock that wrote it, whatever the skew with ours."""
    try:
        return email.utils.parsedate_to_datetime(headers.get("date", ""))
    except (TypeError, ValueError, IndexError):
        return None


def split_content_type(value: str | None) -> tuple[str | None, str | None]:
    """``'Application/RSS+XML; charset="UTF-8"'`` → ``('application/rss+xml', 'utf-8')``."""
    if not value:
        return None, None
    media_type, *params = value.split(";")
    charset = None
    for param in params:
        name, _, param_value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = param_value.strip().strip("\"'").lower() or None
    return media_type.strip().lower() or None, charset


# --- errors: the one choke point --------------------------------------------


class _TooLarge(Exception):
    def __init__(self, limit: int) -> None:
        self.limit = limit


class _Undecodable(Exception):
    pass


class _BadStatus(Exception):
    def __init__(self, response: httpx.Response, head: bytes) -> None:
        self.response = response
        self.head = head


class _BadRedirect(Exception):
    """A redirect we will not follow: ``problem`` is "loop", "too many" or "invalid"."""

    def __init__(self, problem: str, detail: str = "") -> None:
        self.problem = problem
        self.detail = detail


def _status_error(response: httpx.Response, head: bytes) -> FetchError:
    status = response.status_code
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = response.reason_phrase
    retry_after = None
    if status in {429, 503}:
        retry_after = retry_after_seconds(response.headers.get("retry-after"), _server_now(response.headers))
    marker = _bot_wall(status, response.headers, head)
    if marker is not None:
        return FetchError(
            "HTTP {code}: a bot-protection challenge page instead of the feed ({marker})",
            kind=FetchErrorKind.BOT_WALL, status=status, retry_after=retry_after, code=status, marker=marker,
        )
    if status == 410:
        kind = FetchErrorKind.GONE
    elif 400 <= status < 500:
        kind = FetchErrorKind.HTTP_CLIENT
    elif 500 <= status < 600:
        kind = FetchErrorKind.HTTP_SERVER
    else:  # 1xx leftovers, a 3xx without Location, 6xx...
        kind = FetchErrorKind.NETWORK
    if not reason:
        return FetchError("HTTP {code}", kind=kind, status=status, retry_after=retry_after, code=status)
    return FetchError(
        "HTTP {code} {reason}", kind=kind, status=status, retry_after=retry_after, code=status, reason=reason
    )


def _find_cause(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> BaseException | None:
    """The first exception of ``kinds`` in ``exc``'s cause/context chain."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kinds):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


@contextlib.contextmanager
def _fetch_errors(url: httpx.URL, deadline: float) -> Iterator[None]:
    """Turn whatever one hop to ``url`` raises into a FetchError (lenta's own errors pass)."""
    host = f"[{url.host}]" if ":" in url.host else url.host
    address = f"{host}:{url.port or (443 if url.scheme == 'https' else 80)}"
    try:
        yield
    except LentaError:
        raise
    except _BadStatus as exc:
        raise _status_error(exc.response, exc.head) from None
    except _TooLarge as exc:
        raise FetchError(
            "the response is larger than {limit} bytes (LENTA_FETCH_MAX_BYTES)",
            kind=FetchErrorKind.TOO_LARGE, limit=exc.limit,
        ) from None
    except _Undecodable as exc:
        raise FetchError("could not decode the response body ({reason})", reason=str(exc)) from exc
    except _BadRedirect as exc:
        if exc.problem == "invalid":
            raise FetchError("redirect to an invalid URL: {location}", location=exc.detail) from None
        if exc.problem == "loop":
            raise FetchError(
                "redirect loop at {url}", kind=FetchErrorKind.TOO_MANY_REDIRECTS, url=exc.detail
            ) from None
        raise FetchError(
            "more than {count} redirects", kind=FetchErrorKind.TOO_MANY_REDIRECTS, count=MAX_REDIRECTS
        ) from None
    except httpx.InvalidURL as exc:  # from httpx's own look at a Location header
        raise FetchError("redirect to an invalid URL ({reason})", reason=str(exc)) from exc
    except httpx.TimeoutException as exc:
        if isinstance(exc, httpx.ConnectTimeout):
            message = "timed out connecting to {address}"
        else:
            message = "timed out waiting for {address}"
        raise FetchError(message, kind=FetchErrorKind.TIMEOUT, address=address) from exc
    except TimeoutError as exc:  # asyncio.timeout: the deadline
        raise FetchError(
            "gave up after the {seconds:g}s deadline (LENTA_FETCH_DEADLINE)",
            kind=FetchErrorKind.TIMEOUT, seconds=deadline,
        ) from exc
    except (httpx.HTTPError, OSError, ssl.SSLError) as exc:
        cause = _find_cause(exc, (socket.gaierror, ssl.SSLError, ConnectionRefusedError, ConnectionResetError))
        if isinstance(cause, socket.gaierror):
            raise FetchError("could not resolve host {host}", kind=FetchErrorKind.DNS, host=url.host) from exc
        if isinstance(cause, ssl.SSLError):
            reason = getattr(cause, "verify_message", None) or getattr(cause, "reason", None) or str(cause)
            raise FetchError(
                "TLS error with {address}: {reason}", kind=FetchErrorKind.TLS, address=address, reason=reason
            ) from exc
        if isinstance(cause, ConnectionRefusedError):
            raise FetchError("connection refused by {address}", kind=FetchErrorKind.REFUSED, address=address) from exc
        if isinstance(cause, ConnectionResetError):
            raise FetchError("connection reset by {address}", kind=FetchErrorKind.REFUSED, address=address) from exc
        raise FetchError(
            "network error with {address}: {reason}", address=address, reason=str(exc) or type(exc).__name__
        ) from exc


# --- the client -------------------------------------------------------------


def _next_hop(base: httpx.URL, location: str) -> httpx.URL:
    """Where a redirect leads, checked like the first URL (no file:, ftp:...)."""
    try:
        target = base.join(location.strip()).copy_with(fragment=None)
    except (httpx.InvalidURL, ValueError):
        raise _BadRedirect("invalid", location) from None
    try:
        check_url(str(target))  # AddressNotAllowedError for file:, ftp:... passes through
    except InvalidFeedURLError:
        raise _BadRedirect("invalid", location) from None
    return target


async def _check_redirect_target(response: httpx.Response) -> None:
    """A response hook: check a redirect's target our way first, because
    httpx builds its own next request from Location before send() returns,
    and some targets (``javascript:…``) make that fail with a bare InvalidURL."""
    if response.status_code in _REDIRECTS and "location" in response.headers:
        _next_hop(response.request.url, response.headers["location"])


def _no_cookie_jar() -> httpx.Cookies:
    # The client-wide jar keeps nothing: cookies live for one fetch only (see fetch).
    return httpx.Cookies(CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])))


class HTTPClient:
    """lenta's one outbound HTTP client; see the module docstring.

    Args:
        settings: fetch_allow, fetch_timeout, fetch_deadline, fetch_max_bytes,
            user_agent and per_host are used.
        min_host_interval: least seconds between the starts of two requests
            to the same host (0: no spacing).
        resolver: how host names become addresses (default: the system
            resolver); a seam for tests and custom DNS.

    Raises:
        InvalidInputError: ``settings.fetch_allow`` does not parse.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        min_host_interval: float = 0.0,
        resolver: Resolver | None = None,
    ) -> None:
        self._settings = settings
        self._allowlist = parse_allowlist(settings.fetch_allow)
        self._backend = GuardedBackend(self._allowlist, resolver=resolver or system_resolver)
        self._transport = _GuardedTransport(self._backend, limits=httpx.Limits(max_connections=100))
        self._client = httpx.AsyncClient(
            transport=self._transport,
            follow_redirects=False,  # followed in fetch(), so every hop is checked
            timeout=httpx.Timeout(settings.fetch_timeout),
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
            cookies=_no_cookie_jar(),
            event_hooks={"response": [_check_redirect_target]},
            trust_env=False,  # no proxies or .netrc from the environment
        )
        self._hosts = _HostLimiter(settings.per_host, min_host_interval)

    async def __aenter__(self) -> HTTPClient:
        await self._client.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        await self._client.__aexit__(exc_type, exc_value, traceback)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(
        self, url: str, validators: Validators | None = None, *, accept: str = FEED_ACCEPT
    ) -> FetchResult:
        """GET ``url``, following redirects; a 304 is a result, not an error.

        Args:
            url: an http(s) URL.
            validators: the last response's ETag / Last-Modified, sent as
                If-None-Match / If-Modified-Since.
            accept: the Accept header (feed types by default; pass
                ``text/html`` for autodiscovery).

        Raises:
            InvalidFeedURLError: ``url`` is malformed.
            AddressNotAllowedError: a scheme other than http(s), or an address
                not public and not in LENTA_FETCH_ALLOW, on any hop.
            FetchError: anything else; ``kind`` says what.
        """
        loop = asyncio.get_running_loop()
        started = loop.time()
        check_url(url)
        try:
            current = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise InvalidFeedURLError("{url} is not a valid URL ({reason})", url=url, reason=str(exc)) from None
        headers = {"Accept": accept}
        if validators is not None and validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators is not None and validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        # Cookies are kept across the hops of one fetch only: some sites set one
        # and redirect back to the same URL, expecting it.
        cookies = httpx.Cookies()
        seen: set[tuple[str, str]] = set()
        budget = self._settings.fetch_deadline  # waiting for a host slot does not count
        permanent = True
        hops = 0
        while True:
            with _fetch_errors(current, self._settings.fetch_deadline):
                request = self._client.build_request("GET", current, headers=headers)
                cookies.set_cookie_header(request)
                # The same URL with the same cookies again is a loop; with new
                # cookies it is a site's cookie check, and MAX_REDIRECTS bounds it.
                visit = (str(current), request.headers.get("cookie", ""))
                if visit in seen:
                    raise _BadRedirect("loop", str(current))
                seen.add(visit)
                async with self._hosts.slot(current.host):
                    hop_started = loop.time()
                    try:
                        async with asyncio.timeout(max(budget, 0.0)):
                            response, body = await self._exchange(request, cookies)
                    finally:
                        budget -= loop.time() - hop_started
                if response.status_code not in _REDIRECTS or "location" not in response.headers:
                    break
                if hops == MAX_REDIRECTS:
                    raise _BadRedirect("too many")
                hops += 1
                permanent = permanent and response.status_code in _PERMANENT
                current = _next_hop(current, response.headers["location"])
        return self._result(response, body, validators, permanent if hops else False, loop.time() - started)

    async def _exchange(self, request: httpx.Request, cookies: httpx.Cookies) -> tuple[httpx.Response, bytes | None]:
        """Send one request; the response (closed) and its body (None for redirects and 304)."""
        response = await self._client.send(request, stream=True)
        try:
            cookies.extract_cookies(response)
            status = response.status_code
            if status == 304 or (status in _REDIRECTS and "location" in response.headers):
                return response, None
            if not 200 <= status < 300:
                try:
                    head = await _read_body(response, _ERROR_HEAD, truncate=True)
                except _Undecodable:  # the status is what matters
                    head = b""
                raise _BadStatus(response, head)
            body = await _read_body(response, self._settings.fetch_max_bytes)
            if _bot_wall(status, response.headers, body[:_ERROR_HEAD]) is not None:
                raise _BadStatus(response, body[:_ERROR_HEAD])
            return response, body
        finally:
            await response.aclose()

    def _result(
        self,
        response: httpx.Response,
        body: bytes | None,
        sent: Validators | None,
        permanent: bool,
        elapsed: float,
    ) -> FetchResult:
        final = str(response.request.url)
        media_type, charset = split_content_type(response.headers.get("content-type"))
        etag = response.headers.get("etag")
        last_modified = response.headers.get("last-modified")
        if response.status_code == 304 and sent is not None:  # a 304 may omit them
            etag, last_modified = etag or sent.etag, last_modified or sent.last_modified
        return FetchResult(
            url=final,
            status=response.status_code,
            body=body if response.status_code != 304 else None,
            content_type=media_type,
            charset=charset,
            validators=Validators(etag=etag, last_modified=last_modified),
            permanent_redirect=final if permanent else None,
            headers={name: response.headers[name] for name in KEPT_HEADERS if name in response.headers},
            elapsed=elapsed,
        )
