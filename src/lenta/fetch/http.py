"""The HTTP fetcher: every request lenta makes goes through :class:`HTTPClient`.

One client per process, used as ``async with HTTPClient(settings) as client``
(asyncio only). Built on ``httpx.AsyncClient`` with HTTP/2 and keep-alive;
what it adds, one concern per module:

- **The outbound guard**, at connect time (:mod:`lenta.fetch._backend`).
  :class:`GuardedBackend` is the httpcore network backend: it resolves the
  host itself, drops every address :mod:`lenta.fetch.guard` refuses, and
  connects to the very address it checked, so DNS rebinding cannot swap in
  127.0.0.1 between check and connect. ``localhost`` and ``*.localhost``
  resolve to loopback without DNS (RFC 6761), and are refused like any
  loopback address unless allowed. Proxies are not supported: the guard
  would check the proxy's address instead of the target's.
- **Redirects by hand** (:mod:`lenta.fetch._redirects`), at most
  :data:`MAX_REDIRECTS`, each hop re-checked (http/https only, and the guard
  again when connecting), loops detected. :meth:`HTTPClient.post` follows none.
- **Limits**: a total deadline (``fetch_deadline``) over the hops (time
  queued for a per-host slot not counted), connect
  and read timeouts (``fetch_timeout``), the body capped at
  ``fetch_max_bytes`` *after* decompression, which is done here, a bounded
  piece at a time, so a gzip or brotli bomb costs at most the cap
  (:mod:`lenta.fetch._decode`).
- **Politeness** (:mod:`lenta.fetch._limits`): at most ``per_host`` requests
  in flight to one host name and, optionally, a minimum spacing between their
  starts; the honest User-Agent.

Every failure leaves as a :class:`~lenta.exceptions.FetchError` built in one
place, :func:`lenta.fetch._errors.fetch_errors`: library exceptions, bad
statuses, bot walls, oversized bodies and redirect trouble alike. The guard's
refusals (:class:`~lenta.exceptions.AddressNotAllowedError`, worded in
:mod:`lenta.fetch.guard`) pass through it unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from http.cookiejar import CookieJar
from http.cookiejar import DefaultCookiePolicy
from types import TracebackType
from urllib.parse import urlencode

import httpx

from lenta.config import Settings
from lenta.exceptions import InvalidFeedURLError
from lenta.fetch import FetchResult
from lenta.fetch import Validators
from lenta.fetch._backend import GuardedBackend
from lenta.fetch._backend import Resolver
from lenta.fetch._backend import ShardedTransport
from lenta.fetch._backend import system_resolver
from lenta.fetch._decode import ACCEPT_ENCODING
from lenta.fetch._decode import MAX_CODINGS
from lenta.fetch._decode import Undecodable
from lenta.fetch._decode import read_body
from lenta.fetch._decode import read_raw
from lenta.fetch._errors import ERROR_HEAD
from lenta.fetch._errors import BadStatus
from lenta.fetch._errors import bot_wall
from lenta.fetch._errors import fetch_errors
from lenta.fetch._errors import retry_after_seconds
from lenta.fetch._errors import split_content_type
from lenta.fetch._limits import HostLimiter
from lenta.fetch._redirects import MAX_REDIRECTS
from lenta.fetch._redirects import PERMANENT_STATUSES
from lenta.fetch._redirects import BadRedirect
from lenta.fetch._redirects import check_redirect_target
from lenta.fetch._redirects import is_redirect
from lenta.fetch._redirects import next_hop
from lenta.fetch.guard import check_url
from lenta.fetch.guard import parse_allowlist

# What other modules import from here; the names defined in the private
# modules are re-exported so that ``lenta.fetch.http`` stays the one door.
__all__ = [
    "ACCEPT_ENCODING",
    "FEED_ACCEPT",
    "FORM_CONTENT_TYPE",
    "KEPT_HEADERS",
    "MAX_CODINGS",
    "MAX_REDIRECTS",
    "POST_MAX_BYTES",
    "GuardedBackend",
    "HTTPClient",
    "PostResult",
    "Resolver",
    "retry_after_seconds",
    "split_content_type",
    "system_resolver",
]

FEED_ACCEPT = (
    "application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, "
    "application/feed+json;q=0.9, application/xml;q=0.8, text/xml;q=0.8, "
    "application/json;q=0.7, */*;q=0.5"
)
KEPT_HEADERS = ("cache-control", "expires", "retry-after", "link", "content-type", "date")
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
# A hub's answer is a status and maybe a line of explanation (WebSub §5.1.2):
# more than this is not worth holding, whatever fetch_max_bytes allows feeds.
POST_MAX_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class PostResult:
    """What a server answered to :meth:`HTTPClient.post`, whatever the status.

    ``url`` is the URL posted to (no redirect is followed: a 3xx is a result
    like any other). ``headers`` holds every response header, names
    lower-cased, repeated ones joined with ", ". ``body`` is decoded and at
    most :data:`POST_MAX_BYTES`; longer is cut, since it only explains the status.
    """

    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes


def _no_cookie_jar() -> httpx.Cookies:
    # The client-wide jar keeps nothing: cookies live for one fetch only (see fetch).
    return httpx.Cookies(CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])))


def _parse_url(url: str) -> httpx.URL:
    """``url`` checked (scheme, host) and parsed, as every request starts."""
    check_url(url)
    try:
        return httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise InvalidFeedURLError("{url} is not a valid URL ({reason})", url=url, reason=str(exc)) from None


def _deferrable(response: httpx.Response) -> bool:
    """Whether the body can be decoded later: feed types (XML, JSON) only;
    HTML must be decoded now, to look for a bot-protection page."""
    media_type, _ = split_content_type(response.headers.get("content-type"))
    return media_type is not None and ("xml" in media_type or "json" in media_type) and "html" not in media_type


class HTTPClient:
    """lenta's one outbound HTTP client; see the module docstring.

    Args:
        settings: fetch_allow, fetch_timeout, fetch_deadline, fetch_max_bytes,
            user_agent, concurrency, per_host and host_interval are used.
        min_host_interval: least seconds between the starts of two requests
            to the same host (0: no spacing); default ``settings.host_interval``.
        resolver: how host names become addresses (default: the system
            resolver); a seam for tests and custom DNS.

    Raises:
        InvalidInputError: ``settings.fetch_allow`` does not parse.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        min_host_interval: float | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self._settings = settings
        self._allowlist = parse_allowlist(settings.fetch_allow)
        self._backend = GuardedBackend(self._allowlist, resolver=resolver or system_resolver)
        self._transport = ShardedTransport(
            self._backend, limits=httpx.Limits(max_connections=max(100, settings.concurrency))
        )
        self._client = httpx.AsyncClient(
            transport=self._transport,
            follow_redirects=False,  # followed in fetch(), so every hop is checked
            timeout=httpx.Timeout(settings.fetch_timeout),
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
            cookies=_no_cookie_jar(),
            event_hooks={"response": [check_redirect_target]},
            trust_env=False,  # no proxies or .netrc from the environment
        )
        self._hosts = HostLimiter(
            settings.per_host, settings.host_interval if min_host_interval is None else min_host_interval
        )

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
        self, url: str, validators: Validators | None = None, *, accept: str = FEED_ACCEPT, decode: bool = True
    ) -> FetchResult:
        """GET ``url``, following redirects; a 304 is a result, not an error.

        Args:
            url: an http(s) URL.
            validators: the last response's ETag / Last-Modified, sent as
                If-None-Match / If-Modified-Since.
            accept: the Accept header (feed types by default; pass
                ``text/html`` for autodiscovery).
            decode: with False, an XML or JSON body comes back still
                compressed (``FetchResult.content_encoding`` says how), capped
                at ``fetch_max_bytes`` as sent, for the caller to decode
                where the CPU is (:func:`lenta.fetch.decode_body`, in a parse
                worker); HTML and other types are decoded here as always.

        Raises:
            InvalidFeedURLError: ``url`` is malformed.
            AddressNotAllowedError: a scheme other than http(s), or an address
                not public and not in LENTA_FETCH_ALLOW, on any hop.
            FetchError: anything else; ``kind`` says what.
        """
        loop = asyncio.get_running_loop()
        started = loop.time()
        current = _parse_url(url)
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
            with fetch_errors(current, self._settings.fetch_deadline):
                request = self._client.build_request("GET", current, headers=headers)
                if cookies:  # only after a redirect that set some: building the header is not free
                    cookies.set_cookie_header(request)
                # The same URL with the same cookies again is a loop; with new
                # cookies it is a site's cookie check, and MAX_REDIRECTS bounds it.
                visit = (str(current), request.headers.get("cookie", ""))
                if visit in seen:
                    raise BadRedirect("loop", str(current))
                seen.add(visit)
                async with self._hosts.slot(current.host):
                    hop_started = loop.time()
                    try:
                        async with asyncio.timeout(max(budget, 0.0)):
                            response, body, raw = await self._exchange(request, cookies, decode)
                    finally:
                        budget -= loop.time() - hop_started
                if not is_redirect(response):
                    break
                if hops == MAX_REDIRECTS:
                    raise BadRedirect("too many")
                hops += 1
                permanent = permanent and response.status_code in PERMANENT_STATUSES
                current = next_hop(current, response.headers["location"])
        return self._result(response, body, validators, permanent if hops else False, loop.time() - started, raw)

    async def post(
        self, url: str, data: Mapping[str, str], *, headers: Mapping[str, str] | None = None
    ) -> PostResult:
        """POST ``data`` form-encoded to ``url``; whatever the status, it is returned.

        Made for WebSub subscription requests (a hub answers 202 Accepted):
        the caller judges the status. Everything else is as for :meth:`fetch`:
        the guard, the per-host limit, the deadline, the User-Agent. What
        differs: no redirect is followed (a 3xx comes back as a result, its
        Location unchecked; only one httpx cannot even parse raises), and
        the body is cut at :data:`POST_MAX_BYTES`.

        Args:
            url: an http(s) URL.
            data: the form fields, sent as application/x-www-form-urlencoded.
            headers: more request headers; they cannot change the Content-Type.

        Raises:
            InvalidFeedURLError: ``url`` is malformed.
            AddressNotAllowedError: a scheme other than http(s), or an address
                not public and not in LENTA_FETCH_ALLOW; nothing was sent.
            FetchError: the request could not be made or answered (DNS,
                refused, TLS, timeout, deadline...); ``kind`` says what.
        """
        target = _parse_url(url)
        request_headers = httpx.Headers(headers or {})
        request_headers["Content-Type"] = FORM_CONTENT_TYPE
        content = urlencode(data).encode("ascii")
        deadline = self._settings.fetch_deadline
        with fetch_errors(target, deadline):
            request = self._client.build_request("POST", target, headers=request_headers, content=content)
            async with self._hosts.slot(target.host):
                async with asyncio.timeout(deadline):  # as for fetch, from the slot on
                    response = await self._client.send(request, stream=True)
                    try:
                        body = await self._post_body(response)
                    finally:
                        await response.aclose()
        return PostResult(
            url=str(response.request.url),
            status=response.status_code,
            headers=dict(response.headers.items()),
            body=body,
        )

    async def _post_body(self, response: httpx.Response) -> bytes:
        limit = min(self._settings.fetch_max_bytes, POST_MAX_BYTES)
        try:
            return await read_body(response, limit, truncate=True)
        except Undecodable:  # as for an error page: the status is the answer
            return b""

    async def _exchange(
        self, request: httpx.Request, cookies: httpx.Cookies, decode: bool = True
    ) -> tuple[httpx.Response, bytes | None, bool]:
        """Send one request; the response (closed), its body (None for
        redirects and 304) and whether that body is still encoded."""
        response = await self._client.send(request, stream=True)
        try:
            # Cookies only matter for the next hop of a redirect; parsing them
            # (http.cookiejar) costs a sixth of a request's time, so skip it
            # for every other response.
            if is_redirect(response) and "set-cookie" in response.headers:
                cookies.extract_cookies(response)
            status = response.status_code
            if status == 304 or is_redirect(response):
                # Read the (empty or short) body to its end: httpcore only
                # returns a connection to the pool after a complete response,
                # and closing it unread would cost a new connection per 304.
                with contextlib.suppress(Undecodable):
                    await read_body(response, ERROR_HEAD, truncate=True)
                return response, None, False
            if not 200 <= status < 300:
                try:
                    head = await read_body(response, ERROR_HEAD, truncate=True)
                except Undecodable:  # the status is what matters
                    head = b""
                raise BadStatus(response, head)
            if not decode and _deferrable(response):
                body = await read_raw(response, self._settings.fetch_max_bytes)
                return response, body, "content-encoding" in response.headers
            body = await read_body(response, self._settings.fetch_max_bytes)
            if bot_wall(status, response.headers, body[:ERROR_HEAD]) is not None:
                raise BadStatus(response, body[:ERROR_HEAD])
            return response, body, False
        finally:
            await response.aclose()

    def _result(
        self,
        response: httpx.Response,
        body: bytes | None,
        sent: Validators | None,
        permanent: bool,
        elapsed: float,
        raw: bool = False,
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
            http_version=response.http_version,
            content_encoding=response.headers.get("content-encoding") if raw else None,
        )
