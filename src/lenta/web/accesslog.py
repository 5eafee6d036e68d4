"""``lenta serve``'s access log: a line per request (``LENTA_ACCESS_LOG``).

lenta's own rather than uvicorn's, whose line has no duration and quotes the
whole query string. Here a line says the client's address, the method, the
path, the status and how long the answer took; it never says a header (no
cookie, no session token), a body (no password), nor a query value that is
not known to be harmless (``?destination=…``, WebSub's ``hub.challenge``),
and a WebSub callback's secret token shows as ``***``. The path is the one
the client sent, still percent-encoded, so it cannot break the line.

Requests uvicorn answers itself never reach the app, so they have no line:
the 503s beyond ``LENTA_MAX_CONNECTIONS`` and malformed requests.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import parse_qsl
from urllib.parse import quote

from starlette.types import ASGIApp
from starlette.types import Message
from starlette.types import Receive
from starlette.types import Scope
from starlette.types import Send

from lenta.credentials import MASK

log = logging.getLogger("lenta.access")

# Query parameters whose values are shown; every other value is masked.
SHOWN_PARAMETERS = frozenset({"page", "sort", "order", "hub.mode"})
# Paths whose next segment is a secret (the WebSub callback's token).
SECRET_SEGMENT_AFTER = ("/websub/",)
MAX_PATH = 1000


def shown_path(scope: Scope) -> str:
    """The request's path and query as the access log shows them."""
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else quote(str(scope.get("path", "")), safe="/")
    path = path.split("?", 1)[0]
    for prefix in SECRET_SEGMENT_AFTER:
        if path.startswith(prefix) and len(path) > len(prefix):
            rest = path[len(prefix) :].partition("/")
            path = prefix + MASK + rest[1] + rest[2]
    query = scope.get("query_string", b"").decode("latin-1")
    if query:
        parameters = parse_qsl(query, keep_blank_values=True)
        path += "?" + "&".join(
            f"{quote(name, safe='.')}={quote(value, safe='') if name in SHOWN_PARAMETERS else MASK}" for name, value in parameters
        )
    return path[:MAX_PATH]


class AccessLogMiddleware:
    """Logs every HTTP request at info on ``lenta.access`` once it is answered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0  # no answer began (the client went away first)

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        except BaseException:
            status = status or 500
            raise
        finally:
            _log_request(scope, status, time.perf_counter() - started)


def _log_request(scope: Scope, status: int, seconds: float) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    client = scope.get("client")
    address = str(client[0]) if client else "-"
    method = str(scope.get("method", "-"))
    path = shown_path(scope)
    log.info(
        '%s "%s %s" %s %.1f ms',
        address,
        method,
        path,
        status or "-",
        seconds * 1000,
        extra={
            "event": "request",
            "method": method,
            "path": path,
            "status": status or None,
            "duration": round(seconds, 4),
            "client": address,
        },
    )
