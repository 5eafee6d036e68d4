"""The HTTP fetcher: every request lenta makes goes through :class:`HTTPClient`.

One client per process, used as ``async with HTTPClient(settings) as client``
(asyncio only). Built on libcurl (pycurl), driven by the event loop
(:mod:`lenta.fetch._curl`): HTTP/1.1 keep-alive, HTTP/2 where a TLS server
offers it (ALPN), certificates verified against the host name. What lenta
adds, one concern per module:

- **The outbound guard**, at connect time (:mod:`lenta.fetch._connect`):
  the host is resolved here, every address :mod:`lenta.fetch.guard`
  refuses is dropped, and libcurl is told to use exactly the remaining
  ones (``CURLOPT_RESOLVE``), so DNS rebinding cannot swap in 127.0.0.1
  between check and connect; each socket libcurl opens is checked again.
  ``localhost`` and ``*.localhost`` resolve to loopback without DNS
  (RFC 6761), and are refused like any loopback address unless allowed.
  Proxies are off, whatever the environment says: the guard would check
  the proxy's address instead of the target's. Only http and https.
- **Redirects by hand** (:mod:`lenta.fetch._redirects`), at most
  :data:`MAX_REDIRECTS`, each hop re-checked (http/https only, and the guard
  again when connecting), loops detected; cookies a site sets on the way
  live for that one fetch. :meth:`HTTPClient.post` follows none.
- **Limits**: a total deadline (``fetch_deadline``) over the hops (time
  queued for a per-host slot not counted), connect and idle-read timeouts
  (``fetch_timeout``), the body capped at ``fetch_max_bytes`` *after*
  decompression, which is done here (or, for feeds, in a parse worker), a
  bounded piece at a time, so a gzip or brotli bomb costs at most the cap
  (:mod:`lenta.fetch._decode`); a Content-Length over the cap is refused
  before the body is read.
- **Politeness** (:mod:`lenta.fetch._limits`): at most ``per_host`` requests
  in flight to one host name and, optionally, a minimum spacing between their
  starts; the honest User-Agent.

Every failure leaves as a :class:`~lenta.exceptions.FetchError` built in one
place, :func:`lenta.fetch._errors.fetch_errors`: libcurl's errors, bad
statuses, bot walls, oversized bodies and redirect trouble alike. The guard's
refusals (:class:`~lenta.exceptions.AddressNotAllowedError`, worded in
:mod:`lenta.fetch.guard`) pass through it unchanged.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import urlencode

import certifi
import pycurl

from lenta.config import Settings
from lenta.credentials import split_userinfo
from lenta.exceptions import InvalidFeedURLError
from lenta.fetch import FetchResult
from lenta.fetch import Validators
from lenta.fetch._connect import AddressGuard
from lenta.fetch._connect import Resolver
from lenta.fetch._connect import ip_literal
from lenta.fetch._connect import system_resolver
from lenta.fetch._curl import CurlError
from lenta.fetch._curl import CurlLoop
from lenta.fetch._decode import ACCEPT_ENCODING
from lenta.fetch._decode import MAX_CODINGS
from lenta.fetch._decode import BodySink
from lenta.fetch._errors import ERROR_HEAD
from lenta.fetch._errors import BadStatus
from lenta.fetch._errors import bot_wall
from lenta.fetch._errors import fetch_errors
from lenta.fetch._errors import retry_after_seconds
from lenta.fetch._errors import split_content_type
from lenta.fetch._exchange import Exchange
from lenta.fetch._exchange import Response
from lenta.fetch._exchange import SinkChooser
from lenta.fetch._limits import HostLimiter
from lenta.fetch._redirects import MAX_REDIRECTS
from lenta.fetch._redirects import PERMANENT_STATUSES
from lenta.fetch._redirects import BadRedirect
from lenta.fetch._redirects import is_redirect
from lenta.fetch._redirects import next_hop
from lenta.fetch._urls import request_url
from lenta.fetch.guard import Target
from lenta.fetch.guard import not_allowed_error
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
    "AddressGuard",
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


def _parse_url(url: str) -> tuple[str, Target]:
    """``url`` checked (scheme, host) and made ready to send, as every request starts."""
    wire, target = request_url(url)
    if not wire.isascii():  # only a user name or password can still carry such characters
        raise InvalidFeedURLError("{url} is not a valid URL ({reason})", url=url, reason="non-ASCII user information")
    return wire, target


def _deferrable(headers: Mapping[str, str]) -> bool:
    """Whether the body can be decoded later: feed types (XML, JSON) only;
    HTML must be decoded now, to look for a bot-protection page."""
    media_type, _ = split_content_type(headers.get("content-type"))
    return media_type is not None and ("xml" in media_type or "json" in media_type) and "html" not in media_type


@functools.lru_cache(maxsize=16)
def _static_lines(accept: str) -> tuple[bytes, ...]:
    return tuple(_header_lines({"Accept": accept, "Accept-Encoding": ACCEPT_ENCODING}))


def _header_lines(headers: Mapping[str, str]) -> list[bytes]:
    # Header values are bytes on the wire; ETags and dates come back as we got them.
    return [f"{name}: {value}".encode("latin-1", "replace") for name, value in headers.items()]


@functools.lru_cache(maxsize=4096)
def _resolve_entry(host: str, port: int, addresses: tuple[str, ...]) -> list[str]:
    """libcurl's CURLOPT_RESOLVE for ``host:port``: exactly these addresses."""
    listed = ",".join(f"[{address}]" if ":" in address else address for address in addresses)
    return [f"{host}:{port}:{listed}"]


class HTTPClient:
    """lenta's one outbound HTTP client; see the module docstring.

    Args:
        settings: fetch_allow, fetch_timeout, fetch_deadline, fetch_max_bytes,
            user_agent, concurrency (requests on the wire at once), per_host
            and host_interval are used.
        min_host_interval: least seconds between the starts of two requests
            to the same host (0: no spacing); default ``settings.host_interval``.
        host_limits: connections this client may open to some hosts, in
            place of ``settings.per_host`` (a process's share of a host
            other processes fetch from too).
        resolver: how host names become addresses (default: the system
            resolver); a seam for tests and custom DNS.

    Certificates are checked against ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``
    when set, else against certifi's bundle.

    Raises:
        InvalidInputError: ``settings.fetch_allow`` does not parse.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        min_host_interval: float | None = None,
        resolver: Resolver | None = None,
        host_limits: Mapping[str, int] | None = None,
    ) -> None:
        self._settings = settings
        self._guard = AddressGuard(parse_allowlist(settings.fetch_allow), resolver=resolver or system_resolver)
        self._hosts = HostLimiter(
            settings.per_host, settings.host_interval if min_host_interval is None else min_host_interval, host_limits
        )
        self._ca_file = os.environ.get("SSL_CERT_FILE") or certifi.where()
        self._ca_dir = os.environ.get("SSL_CERT_DIR")
        # Requests on the wire at once; taken after the host's slot, so a request
        # waiting out its host's spacing does not hold one that another host could use.
        self._in_flight = asyncio.Semaphore(settings.concurrency)
        # Idle keep-alive connections kept: enough for every host of a big round.
        self._max_connections = min(1024, max(256, settings.concurrency * settings.per_host))
        self._curl: CurlLoop | None = None
        self._template: pycurl.Curl | None = None

    async def __aenter__(self) -> HTTPClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._curl is not None:
            self._curl.close()
            self._curl = None
        if self._template is not None:
            self._template.close()
            self._template = None

    def _transfers(self) -> CurlLoop:
        loop = asyncio.get_running_loop()
        if self._curl is None or self._curl.loop is not loop:
            self._curl = CurlLoop(max_connections=self._max_connections)
        return self._curl

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
        wire, target = _parse_url(url)
        lines = list(_static_lines(accept))
        if validators is not None and validators.etag:
            lines += _header_lines({"If-None-Match": validators.etag})
        if validators is not None and validators.last_modified:
            lines += _header_lines({"If-Modified-Since": validators.last_modified})
        # One handle for every hop, with libcurl's cookie engine on: some sites
        # set a cookie and redirect back to the same URL, expecting it. The
        # cookies die with the handle, at the end of this fetch.
        handle = self._handle(cookies=True)
        seen: set[tuple[str, tuple[str, ...]]] = set()
        budget = self._settings.fetch_deadline  # waiting for a host slot does not count
        permanent = True
        hops = 0
        try:
            while True:
                with fetch_errors(target, self._settings.fetch_deadline):
                    # The same URL with the same cookies again is a loop; with new
                    # cookies it is a site's cookie check, and MAX_REDIRECTS bounds it.
                    visit = (wire, tuple(handle.getinfo(pycurl.INFO_COOKIELIST)))
                    if visit in seen:
                        raise BadRedirect("loop", wire)
                    seen.add(visit)
                    async with self._hosts.slot(target.host), self._in_flight:
                        hop_started = loop.time()
                        try:
                            async with asyncio.timeout(max(budget, 0.0)):
                                exchange = await self._transfer(handle, wire, target, lines, self._feed_sink(decode), budget)
                        finally:
                            budget -= loop.time() - hop_started
                    response, body, raw = self._outcome(handle, exchange, wire, decode)
                    if not is_redirect(response.status, response.headers):
                        break
                    if hops == MAX_REDIRECTS:
                        raise BadRedirect("too many")
                    hops += 1
                    permanent = permanent and response.status in PERMANENT_STATUSES
                    wire, target = next_hop(wire, response.headers["location"])
        finally:
            handle.close()
        return self._result(response, body, validators, permanent if hops else False, loop.time() - started, raw)

    async def post(self, url: str, data: Mapping[str, str], *, headers: Mapping[str, str] | None = None) -> PostResult:
        """POST ``data`` form-encoded to ``url``; whatever the status, it is returned.

        Made for WebSub subscription requests (a hub answers 202 Accepted):
        the caller judges the status. Everything else is as for :meth:`fetch`:
        the guard, the per-host limit, the deadline, the User-Agent. What
        differs: no redirect is followed (a 3xx comes back as a result, its
        Location unchecked), and the body is cut at :data:`POST_MAX_BYTES`.

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
        wire, target = _parse_url(url)
        request_headers = {
            name: value
            for name, value in (headers or {}).items()
            if name.lower() not in {"content-type", "expect", "content-length"}
        }
        request_headers["Accept-Encoding"] = ACCEPT_ENCODING
        request_headers["Content-Type"] = FORM_CONTENT_TYPE
        request_headers["Expect"] = ""  # no 100-continue round trip
        content = urlencode(data).encode("ascii")
        deadline = self._settings.fetch_deadline
        limit = min(self._settings.fetch_max_bytes, POST_MAX_BYTES)
        handle = self._handle(cookies=False)
        handle.setopt(pycurl.POSTFIELDS, content)
        try:
            with fetch_errors(target, deadline):
                async with self._hosts.slot(target.host), self._in_flight:
                    async with asyncio.timeout(deadline):  # as for fetch, from the slot on
                        exchange = await self._transfer(
                            handle, wire, target, _header_lines(request_headers), _answer_sink(limit), deadline
                        )
                body = exchange.body()
                response = exchange.response(wire, handle.getinfo(pycurl.INFO_HTTP_VERSION))
        finally:
            handle.close()
        return PostResult(url=wire, status=response.status, headers=dict(response.headers), body=body)

    def _handle(self, *, cookies: bool) -> pycurl.Curl:
        """A libcurl handle with what every request shares: copied from a
        template, one call instead of a dozen option calls per request."""
        if self._template is None:
            template = pycurl.Curl()
            template.setopt(pycurl.NOSIGNAL, 1)
            template.setopt(pycurl.PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
            template.setopt(pycurl.PROXY, "")  # never a proxy, whatever http_proxy says
            template.setopt(pycurl.USERAGENT, self._settings.user_agent)
            template.setopt(pycurl.HTTP_CONTENT_DECODING, 0)  # bodies are decoded here, bounded (_decode)
            template.setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_2TLS)
            template.setopt(pycurl.CONNECTTIMEOUT_MS, max(1, int(self._settings.fetch_timeout * 1000)))
            template.setopt(pycurl.CAINFO, self._ca_file)
            if self._ca_dir:
                template.setopt(pycurl.CAPATH, self._ca_dir)
            self._template = template
        handle = self._template.duphandle()
        if cookies:
            handle.setopt(pycurl.COOKIEFILE, "")  # the cookie engine on, with an empty jar
        return handle

    async def _transfer(
        self,
        handle: pycurl.Curl,
        wire: str,
        target: Target,
        lines: list[bytes],
        choose: SinkChooser,
        budget: float,
    ) -> Exchange:
        """One request on ``handle``: the guard, then libcurl; the finished exchange."""
        timeout = self._settings.fetch_timeout
        addresses = await self._guard.allowed_addresses(target.host, target.port, timeout)
        exchange = Exchange(choose, grace=timeout)
        refused: list[str] = []

        def open_socket(purpose: int, address: tuple[int, int, int, tuple[str, int]]) -> int:
            family, kind, protocol, peer = address
            if not self._guard.admits(target.host, target.port, peer[0]):
                refused.append(peer[0])
                return int(pycurl.SOCKET_BAD)
            # A bare descriptor: libcurl owns it from here and closes it.
            return socket.socket(family, kind, protocol).detach()

        handle.setopt(pycurl.URL, wire)
        # Over TLS, rather wait for a connection being set up to the host and
        # multiplex on it (HTTP/2) than open another. Plain HTTP never
        # multiplexes here, and waiting would hold this request behind a
        # slow answer on that connection.
        handle.setopt(pycurl.PIPEWAIT, int(target.scheme == "https"))
        handle.setopt(pycurl.HTTPHEADER, lines)
        if ip_literal(target.host) is None:  # a name: libcurl must not look it up itself
            handle.setopt(pycurl.RESOLVE, _resolve_entry(target.host, target.port, tuple(addresses)))
        handle.setopt(pycurl.OPENSOCKETFUNCTION, open_socket)
        handle.setopt(pycurl.HEADERFUNCTION, exchange.on_header)
        handle.setopt(pycurl.WRITEFUNCTION, exchange.on_body)
        # libcurl's own deadline only backs up asyncio's, a second later.
        handle.setopt(pycurl.TIMEOUT_MS, max(1, int((max(budget, 0.0) + 1.0) * 1000)))
        try:
            await self._transfers().perform(handle, idle_timeout=timeout, progress=exchange.progress)
        except CurlError:
            if exchange.stopped_by is not None:
                raise exchange.stopped_by from None
            if refused:
                raise not_allowed_error(target.host, target.port, map(ipaddress.ip_address, refused)) from None
            if exchange.sink is None or not exchange.sink.full:
                raise
        return exchange

    def _feed_sink(self, decode: bool) -> SinkChooser:
        limit = self._settings.fetch_max_bytes

        def choose(status: int, headers: Mapping[str, str]) -> BodySink:
            if status == 304 or is_redirect(status, headers):
                # Read the (empty or short) body to its end, keeping nothing:
                # only a complete response leaves its connection reusable.
                return BodySink("", 0, decode=False, truncate=True)
            coding = headers.get("content-encoding", "")
            if not 200 <= status < 300:
                return _answer_sink(ERROR_HEAD)(status, headers)
            defer = not decode and _deferrable(headers)
            return BodySink(coding, limit, decode=not defer, declared=headers.get("content-length"))

        return choose

    def _outcome(self, handle: pycurl.Curl, exchange: Exchange, wire: str, decode: bool) -> tuple[Response, bytes | None, bool]:
        """The response, its body (None for redirects and 304) and whether
        that body is still encoded; BadStatus for a status that is no result."""
        response = exchange.response(wire, handle.getinfo(pycurl.INFO_HTTP_VERSION))
        status, headers = response.status, response.headers
        if status == 304 or is_redirect(status, headers):
            return response, None, False
        if not 200 <= status < 300:
            raise BadStatus(response, exchange.body())
        body = exchange.body()
        if not decode and _deferrable(headers):
            return response, body, "content-encoding" in headers
        if bot_wall(status, headers, body[:ERROR_HEAD]) is not None:
            raise BadStatus(response, body[:ERROR_HEAD])
        return response, body, False

    def _result(
        self,
        response: Response,
        body: bytes | None,
        sent: Validators | None,
        permanent: bool,
        elapsed: float,
        raw: bool = False,
    ) -> FetchResult:
        headers = response.headers
        media_type, charset = split_content_type(headers.get("content-type"))
        etag = headers.get("etag")
        last_modified = headers.get("last-modified")
        if response.status == 304 and sent is not None:  # a 304 may omit them
            etag, last_modified = etag or sent.etag, last_modified or sent.last_modified
        url = split_userinfo(response.url)[0]  # credentials are for the request, never for the caller to keep
        return FetchResult(
            url=url,
            status=response.status,
            body=body if response.status != 304 else None,
            content_type=media_type,
            charset=charset,
            validators=Validators(etag=etag, last_modified=last_modified),
            permanent_redirect=url if permanent else None,
            headers={name: headers[name] for name in KEPT_HEADERS if name in headers},
            elapsed=elapsed,
            http_version=response.http_version,
            content_encoding=headers.get("content-encoding") if raw else None,
        )


def _answer_sink(limit: int) -> SinkChooser:
    """For bodies that only explain a status (error pages, hub answers): the
    first ``limit`` bytes, decoded; an undecodable one is no body at all."""

    def choose(status: int, headers: Mapping[str, str]) -> BodySink:
        return BodySink(headers.get("content-encoding", ""), limit, truncate=True, lenient=True)

    return choose
