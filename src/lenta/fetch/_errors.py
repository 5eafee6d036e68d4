"""Failures: what responses mean, and the one place they become FetchError.

:func:`fetch_errors` is the choke point: every request :class:`~lenta.fetch.http.HTTPClient`
makes runs inside it, and whatever escapes leaves as a
:class:`~lenta.exceptions.FetchError` of the most specific kind:

- httpx/httpcore/socket/TLS errors, by their cause (DNS, refused, TLS, timeout...);
- ``TimeoutError`` from ``asyncio.timeout``: the total deadline;
- lenta's internal signals: :class:`BadStatus` (here),
  :class:`~lenta.fetch._decode.TooLarge` and :class:`~lenta.fetch._decode.Undecodable`
  (bodies), :class:`~lenta.fetch._redirects.BadRedirect` (redirects).

lenta's own errors (:class:`~lenta.exceptions.AddressNotAllowedError` from the
guard, worded in :mod:`lenta.fetch.guard`) pass through unchanged.

Every message here is a catalog key (``make messages``): change one, and
the catalogs must change with it.
"""

from __future__ import annotations

import contextlib
import email.utils
import http
import socket
import ssl
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime

import httpx

from lenta.exceptions import FetchError
from lenta.exceptions import FetchErrorKind
from lenta.exceptions import LentaError
from lenta.fetch._decode import TooLarge
from lenta.fetch._decode import Undecodable
from lenta.fetch._redirects import MAX_REDIRECTS
from lenta.fetch._redirects import BadRedirect

ERROR_HEAD = 64 * 1024  # how much of an error page we read to spot a bot wall


class BadStatus(Exception):
    """A status that is not a result; ``head`` is the start of the body, for :func:`bot_wall`."""

    def __init__(self, response: httpx.Response, head: bytes) -> None:
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


def bot_wall(status: int, headers: httpx.Headers, head: bytes) -> str | None:
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
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
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


def _status_error(response: httpx.Response, head: bytes) -> FetchError:
    status = response.status_code
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = response.reason_phrase
    retry_after = None
    if status in {429, 503}:
        retry_after = retry_after_seconds(response.headers.get("retry-after"), _server_now(response.headers))
    marker = bot_wall(status, response.headers, head)
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
def fetch_errors(url: httpx.URL, deadline: float) -> Iterator[None]:
    """Turn whatever one hop to ``url`` raises into a FetchError (lenta's own errors pass)."""
    host = f"[{url.host}]" if ":" in url.host else url.host
    address = f"{host}:{url.port or (443 if url.scheme == 'https' else 80)}"
    try:
        yield
    except LentaError:
        raise
    except BadStatus as exc:
        raise _status_error(exc.response, exc.head) from None
    except (TooLarge, Undecodable) as exc:
        raise body_error(exc) from None
    except BadRedirect as exc:
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


def body_error(exc: TooLarge | Undecodable) -> FetchError:
    """The FetchError for a body over the cap or one that does not decode
    (raised here, or where a deferred body is decoded: a parse worker)."""
    if isinstance(exc, TooLarge):
        return FetchError(
            "the response is larger than {limit} bytes (LENTA_FETCH_MAX_BYTES)",
            kind=FetchErrorKind.TOO_LARGE, limit=exc.limit,
        )
    return FetchError("could not decode the response body ({reason})", reason=str(exc))
