"""Failures: what responses mean, and the one place they become FetchError.

:func:`fetch_errors` is the choke point: every request :class:`~lenta.fetch.http.HTTPClient`
makes runs inside it, and whatever escapes leaves as a
:class:`~lenta.exceptions.FetchError` of the most specific kind:

- libcurl's errors (:class:`~lenta.fetch._curl.CurlError`), by their
  ``CURLE_*`` code (refused, TLS, timeout...), and the resolver's
  (:class:`~lenta.fetch._connect.ResolveError`: DNS);
- :class:`~lenta.fetch._curl.ReadTimeout` (no byte for too long) and
  ``TimeoutError`` from ``asyncio.timeout`` (the total deadline);
- lenta's internal signals: :class:`BadStatus` (here),
  :class:`~lenta.fetch._decode.TooLarge` and :class:`~lenta.fetch._decode.Undecodable`
  (bodies), :class:`~lenta.fetch._redirects.BadRedirect` (redirects).

lenta's own errors (:class:`~lenta.exceptions.AddressNotAllowedError` from the
guard, worded in :mod:`lenta.fetch.guard`) pass through unchanged.

Every message here is a catalog key (``make messages``): change one, and
the catalogs must change with it. A message that quotes outside words
(a reason phrase, libcurl's explanation, a page's marker) has a ``brief``
without them: what a feed's error shows in languages other than English.
"""

from __future__ import annotations

import email.utils
import http
from collections.abc import Mapping
from datetime import UTC
from datetime import datetime

import pycurl

from lenta._marks import N_
from lenta.exceptions import FetchError
from lenta.exceptions import FetchErrorKind
from lenta.exceptions import LentaError
from lenta.fetch._connect import ResolveError
from lenta.fetch._curl import CurlError
from lenta.fetch._curl import ReadTimeout
from lenta.fetch._decode import TooLarge
from lenta.fetch._decode import Undecodable
from lenta.fetch._exchange import Response
from lenta.fetch._redirects import MAX_REDIRECTS
from lenta.fetch._redirects import BadRedirect
from lenta.fetch.guard import Target

ERROR_HEAD = 64 * 1024  # how much of an error page we read to spot a bot wall


class BadStatus(Exception):
    """A status that is not a result; ``head`` is the start of the body, for :func:`bot_wall`."""

    def __init__(self, response: Response, head: bytes) -> None:
        self.response = response
        self.head = head


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


def bot_wall(status: int, headers: Mapping[str, str], head: bytes) -> str | None:
    """The sign that this response is a bot-protection challenge, or None."""
    if headers.get("cf-mitigated", "").lower() == "challenge":
        return "cf-mitigated: challenge"
    media_type, _ = split_content_type(headers.get("content-type"))
    text = head[:ERROR_HEAD].decode("latin-1").lower()
    looks_html = media_type in {"text/html", "application/xhtml+xml"} or (
        media_type in {None, "text/plain", "application/octet-stream"} and "<html" in text[:1024]
    )
    if not looks_html:
        return None  # a feed (or an image...) is never a challenge page
    markers = _CHALLENGE_MARKERS + (_REFUSAL_MARKERS if status in _REFUSAL_STATUSES else ())
    return next((marker for marker in markers if marker in text), None)


# Longer than anything a scheduler here waits for (a day); a longer
# Retry-After is read as this much, before any arithmetic.
MAX_RETRY_AFTER = 7 * 86400.0
_RETRY_AFTER_DIGITS = 9  # more digits than that are past the cap: not converted at all


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """A Retry-After header (delta-seconds or HTTP-date) in seconds from
    ``now``, within 0 … :data:`MAX_RETRY_AFTER`; None for junk."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        digits = value.lstrip("0") or "0"
        return MAX_RETRY_AFTER if len(digits) > _RETRY_AFTER_DIGITS else min(float(digits), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return min(max(0.0, (when - now).total_seconds()), MAX_RETRY_AFTER)


def _server_now(headers: Mapping[str, str]) -> datetime | None:
    """The server's clock (its Date header), so an HTTP-date Retry-After is
    measured on the clock that wrote it, whatever the skew with ours."""
    try:
        return email.utils.parsedate_to_datetime(headers.get("date", ""))
    except (TypeError, ValueError, IndexError, OverflowError):
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


def _status_error(response: Response, head: bytes) -> FetchError:
    status = response.status
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = response.reason
    retry_after = None
    if status in {429, 503}:
        retry_after = retry_after_seconds(response.headers.get("retry-after"), _server_now(response.headers))
    marker = bot_wall(status, response.headers, head)
    if marker is not None:
        return FetchError(
            "HTTP {code}: a bot-protection challenge page instead of the feed ({marker})",
            brief=N_("HTTP {code}: a bot-protection challenge page instead of the feed"),
            kind=FetchErrorKind.BOT_WALL,
            status=status,
            retry_after=retry_after,
            code=status,
            marker=marker,
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
        "HTTP {code} {reason}",
        brief=N_("HTTP {code}"),
        kind=kind,
        status=status,
        retry_after=retry_after,
        code=status,
        reason=reason,
    )


# libcurl's failures, by code: the TLS family, and what a reset looks like.
_TLS_CODES = frozenset(
    {
        pycurl.E_SSL_CONNECT_ERROR,
        pycurl.E_PEER_FAILED_VERIFICATION,
        pycurl.E_SSL_CERTPROBLEM,
        pycurl.E_SSL_CIPHER,
        pycurl.E_SSL_CACERT_BADFILE,
        pycurl.E_SSL_ISSUER_ERROR,
        pycurl.E_USE_SSL_FAILED,
        pycurl.E_SSL_PINNEDPUBKEYNOTMATCH,
        pycurl.E_SSL_INVALIDCERTSTATUS,
        pycurl.E_SSL_SHUTDOWN_FAILED,
        pycurl.E_SSL_CRL_BADFILE,
        pycurl.E_SSL_ENGINE_NOTFOUND,
    }
)
_TRANSFER_CODES = frozenset({pycurl.E_RECV_ERROR, pycurl.E_SEND_ERROR})
# CURLE_TOO_LARGE (libcurl 8.6+): a header line or all of them over libcurl's
# limit (300 KB); pycurl names it in no release yet.
_E_TOO_LARGE = 100


def _curl_error(exc: CurlError, target: Target, address: str) -> FetchError:
    code, message = exc.code, exc.message
    if code == pycurl.E_COULDNT_RESOLVE_HOST:
        return FetchError("could not resolve host {host}", kind=FetchErrorKind.DNS, host=target.host)
    if code == pycurl.E_COULDNT_CONNECT:
        return FetchError("connection refused by {address}", kind=FetchErrorKind.REFUSED, address=address)
    if code == pycurl.E_OPERATION_TIMEDOUT:
        if message.lower().startswith(("connection timed out", "failed to connect", "resolving timed out")):
            return FetchError("timed out connecting to {address}", kind=FetchErrorKind.TIMEOUT, address=address)
        return FetchError("timed out waiting for {address}", kind=FetchErrorKind.TIMEOUT, address=address)
    if code in _TLS_CODES:
        return FetchError(
            "TLS error with {address}: {reason}",
            brief=N_("TLS error with {address}"),
            kind=FetchErrorKind.TLS,
            address=address,
            reason=message,
        )
    if code == _E_TOO_LARGE:
        return FetchError(
            "the response's headers from {address} are larger than lenta accepts", kind=FetchErrorKind.TOO_LARGE, address=address
        )
    if code in _TRANSFER_CODES and "reset" in message.lower():
        return FetchError("connection reset by {address}", kind=FetchErrorKind.REFUSED, address=address)
    reason = message or "libcurl error " + str(code)
    return network_error(address, reason)


def fetch_errors(target: Target, deadline: float) -> _FetchErrors:
    """``with fetch_errors(target, deadline):`` turns whatever one hop to
    ``target`` raises into a FetchError (lenta's own errors pass)."""
    return _FetchErrors(target, deadline)


class _FetchErrors:
    # A class rather than @contextmanager: every request enters one.
    __slots__ = ("_target", "_deadline")

    def __init__(self, target: Target, deadline: float) -> None:
        self._target = target
        self._deadline = deadline

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, traceback: object) -> None:
        if exc is None or isinstance(exc, LentaError) or not isinstance(exc, Exception):
            return
        error, keep_cause = _translate(exc, self._target, self._deadline)
        if error is not None:
            raise error from (exc if keep_cause else None)


def _translate(exc: Exception, target: Target, deadline: float) -> tuple[FetchError | None, bool]:
    """The FetchError for ``exc``, and whether to keep ``exc`` as its cause;
    (None, False) for what is not ours to translate."""
    host = f"[{target.host}]" if ":" in target.host else target.host
    address = f"{host}:{target.port}"
    if isinstance(exc, BadStatus):
        return _status_error(exc.response, exc.head), False
    if isinstance(exc, (TooLarge, Undecodable)):
        return body_error(exc), False
    if isinstance(exc, BadRedirect):
        if exc.problem == "invalid":
            return FetchError("redirect to an invalid URL: {location}", location=exc.detail), False
        if exc.problem == "loop":
            return FetchError("redirect loop at {url}", kind=FetchErrorKind.TOO_MANY_REDIRECTS, url=exc.detail), False
        return FetchError("more than {count} redirects", kind=FetchErrorKind.TOO_MANY_REDIRECTS, count=MAX_REDIRECTS), False
    if isinstance(exc, ResolveError):
        if exc.timed_out:
            return FetchError("timed out connecting to {address}", kind=FetchErrorKind.TIMEOUT, address=address), True
        return FetchError("could not resolve host {host}", kind=FetchErrorKind.DNS, host=target.host), True
    if isinstance(exc, ReadTimeout):
        return FetchError("timed out waiting for {address}", kind=FetchErrorKind.TIMEOUT, address=address), True
    if isinstance(exc, TimeoutError):  # asyncio.timeout: the deadline
        return FetchError(
            "gave up after the {seconds:g}s deadline (LENTA_FETCH_DEADLINE)", kind=FetchErrorKind.TIMEOUT, seconds=deadline
        ), True
    if isinstance(exc, CurlError):
        return _curl_error(exc, target, address), True
    if isinstance(exc, (OSError, ValueError)):
        return network_error(address, str(exc) or type(exc).__name__), True
    return None, False


def body_error(exc: TooLarge | Undecodable) -> FetchError:
    """The FetchError for a body over the cap or one that does not decode
    (raised here, or where a deferred body is decoded: a parse worker)."""
    if isinstance(exc, TooLarge):
        return FetchError(
            "the response is larger than {limit} bytes (LENTA_FETCH_MAX_BYTES)",
            kind=FetchErrorKind.TOO_LARGE,
            limit=exc.limit,
        )
    return FetchError(
        "could not decode the response body ({reason})", brief=N_("could not decode the response body"), reason=str(exc)
    )


def network_error(address: str, reason: str) -> FetchError:
    """A transport failure none of the kinds names; ``reason`` is libcurl's or the system's."""
    return FetchError(
        "network error with {address}: {reason}", brief=N_("network error with {address}"), address=address, reason=reason
    )
