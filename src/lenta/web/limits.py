"""Request bodies are bounded before they are read.

Every route takes a body of a known kind and size (:func:`body_limit`):
small url-encoded forms everywhere, a file upload only on the OPML import
form, a feed-sized body of any type on the WebSub callback.
:class:`BodyLimitMiddleware` answers before a handler runs when the request
says what it is: 415 for a body of another type, 413 for a declared
Content-Length over the limit. A body that does not declare its length
(chunked) is counted as the handler reads it and cut off with 413 the
moment it passes the limit, so nothing past the limit is ever buffered,
parsed or spooled to disk. (The server reads the rest of a refused body
and drops it, so that the client sees the answer: closing at once would
reset the connection under it. ``lenta serve`` gives it LENTA_HEADER_TIMEOUT
seconds to finish: see :mod:`lenta.web.server`.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.responses import Response
from starlette.types import ASGIApp
from starlette.types import Message
from starlette.types import Receive
from starlette.types import Scope
from starlette.types import Send

from lenta.web.admin import ADMIN
from lenta.web.admin import MAX_OPML_BYTES

FORM_BYTES = 64 * 1024
API_BYTES = 1024 * 1024  # a sync API's JSON request: ids by the ten thousand at most
URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
# Methods whose body is a form here; others (GET …) get the size limit only.
_FORM_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True, slots=True)
class BodyLimit:
    """What a route accepts: at most ``max_bytes`` of one of ``media_types``
    (None: any type, the handler judges)."""

    max_bytes: int
    media_types: frozenset[str] | None = frozenset({URLENCODED})


def body_limit(scope: Scope) -> BodyLimit:
    """The limit of the route ``scope`` is for. A new route that takes
    anything but a small url-encoded form needs a line here."""
    path: str = scope["path"]
    if path.startswith("/websub/"):
        # Hubs push feeds, in their own types, as large as a fetched one may be.
        max_bytes: int = scope["app"].state.lenta.settings.fetch_max_bytes
        return BodyLimit(max_bytes, None)
    if path in (f"{ADMIN}/add/opml", "/reader/subscriptions/import"):
        # The file and the form's other fields with their multipart framing.
        return BodyLimit(MAX_OPML_BYTES + FORM_BYTES, frozenset({URLENCODED, MULTIPART}))
    if path.startswith(("/reader/api/0/", "/accounts/ClientLogin")):
        # Google Reader: forms of item ids by the thousand; an OPML file on subscription/import.
        big = path == "/reader/api/0/subscription/import"
        return BodyLimit(MAX_OPML_BYTES if big else API_BYTES, None if big else frozenset({URLENCODED}))
    if path.startswith("/v1/"):
        # The Miniflux API: JSON whatever type the client claims (some claim
        # a form, some none); an OPML file on /v1/import.
        return BodyLimit(MAX_OPML_BYTES if path == "/v1/import" else API_BYTES, None)
    if path in ("/fever", "/fever/", "/api/fever.php"):
        # The Fever API: a url-encoded form, or multipart, or whatever type a client claims.
        return BodyLimit(API_BYTES, None)
    if path.startswith("/index.php/apps/news/api/"):
        # The Nextcloud News API: JSON whatever type the client claims (newsboat claims a form), or a form.
        return BodyLimit(API_BYTES, None)
    if path in ("/api", "/api/", "/api/index.php", "/tt-rss/api", "/tt-rss/api/", "/tt-rss/api/index.php"):
        # The Tiny Tiny RSS API: JSON whatever type the client claims (newsboat 2.21 claims a form).
        return BodyLimit(API_BYTES, None)
    return BodyLimit(FORM_BYTES)


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a body passes its limit: the handler
    reading it stops there, and the request is answered 413."""

    def __init__(self) -> None:
        super().__init__(status_code=413)


Refusal = Callable[[Request, int], Response]


def plain_refusal(request: Request, status: int) -> Response:
    return PlainTextResponse({413: "Content Too Large", 415: "Unsupported Media Type"}.get(status, ""), status_code=status)


class BodyLimitMiddleware:
    """Applies ``limits`` (default :func:`body_limit`) to every HTTP request;
    ``refuse`` builds the 413 and 415 answers it gives itself."""

    def __init__(self, app: ASGIApp, refuse: Refusal = plain_refusal, limits: Callable[[Scope], BodyLimit] = body_limit) -> None:
        self.app = app
        self.refuse = refuse
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits(scope)
        headers = Headers(scope=scope)
        declared = _content_length(headers)
        if scope["method"] in _FORM_METHODS and limit.media_types is not None and _media_type(headers) not in limit.media_types:
            await self._refuse(scope, receive, send, 415)
            return
        if declared is not None and declared > limit.max_bytes:
            await self._refuse(scope, receive, send, 413)
            return

        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            if received > limit.max_bytes:
                raise BodyTooLarge()
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit.max_bytes:
                    raise BodyTooLarge()
            return message

        async def watched_send(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyTooLarge:
            if response_started:
                raise
            await self._refuse(scope, receive, send, 413)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, status: int) -> None:
        await self.refuse(Request(scope, receive), status)(scope, receive, send)


def _content_length(headers: Headers) -> int | None:
    value = headers.get("content-length", "").strip()
    return int(value) if value.isascii() and value.isdigit() else None


def _media_type(headers: Headers) -> str:
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()
