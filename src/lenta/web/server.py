"""How ``lenta serve`` runs the app: uvicorn, with limits for the open internet.

uvicorn's own timeout (``timeout_keep_alive``) covers only the wait
between requests on a kept-alive connection, and is forgotten at the next
byte: a client that opens a connection and sends its headers a byte at a
time holds it forever, and enough of them hold every connection
(slowloris). :class:`HeaderTimeoutH11` closes a connection whose request
line and headers are not all in within ``LENTA_HEADER_TIMEOUT`` seconds of
its opening (or of the previous answer, on a kept-alive connection),
however steadily the bytes come. The same time is given to the rest of a
body the app answered without reading (a refusal, see
:mod:`lenta.web.limits`), which uvicorn reads and drops so that the client
sees the answer. ``LENTA_MAX_CONNECTIONS`` bounds the
connections served at once (uvicorn's ``limit_concurrency``): a request
beyond it is answered 503 at once. Request lines and headers together are
bounded by h11 (16 KiB).

Logs go through lenta's own handler (:mod:`lenta.logs`): uvicorn is told
not to set up its own, and its access log is replaced by lenta's
(:mod:`lenta.web.accesslog`, ``LENTA_ACCESS_LOG``), which keeps secrets out.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from lenta.config import Settings
from lenta.exceptions import InvalidInputError
from lenta.web.accesslog import AccessLogMiddleware


class HeaderTimeoutH11(H11Protocol):
    """uvicorn's h11 protocol with a deadline on what the client owes:
    a request's headers, or the rest of a body already answered."""

    header_timeout = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._watch()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop()
        super().connection_lost(exc)

    def _owed(self) -> bool:
        """Whether the client is to send something the server waits on: a
        request's headers, or a body whose answer has gone out."""
        if self.transport.is_closing():
            return False
        return self.conn.their_state is h11.IDLE or (self.conn.their_state is h11.SEND_BODY and self.conn.our_state is h11.DONE)

    def _watch(self) -> None:
        """Start the deadline when something becomes owed (bytes arriving do
        not move it); drop it once it is in."""
        if not self._owed():
            self._stop()
        elif self._deadline is None:
            self._deadline = self.loop.call_later(self.header_timeout, self._too_slow)

    def _stop(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self._owed():
            self.transport.close()


def protocol_class(header_timeout: float) -> type[HeaderTimeoutH11]:
    """:class:`HeaderTimeoutH11` with ``header_timeout`` seconds (uvicorn
    builds the protocol itself, from a class)."""

    class LentaH11Protocol(HeaderTimeoutH11):
        pass

    LentaH11Protocol.header_timeout = header_timeout
    return LentaH11Protocol


def server_config(app: Any, settings: Settings) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        # lenta.logs has set up the root logger; uvicorn's own messages at warning and above go there.
        log_config=None,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
        http=protocol_class(settings.header_timeout),
        # uvicorn counts the connection asking too: one more lets exactly max_connections be served.
        limit_concurrency=settings.max_connections + 1,
        # uvloop where it is installed (a dependency on Linux and macOS): under a flood of
        # connections it keeps the loop that also serves the pages far less busy (bench/README.md).
        loop="auto",
    )


def check_address(host: str, port: int) -> None:
    """Raise :class:`InvalidInputError` unless ``host``:``port`` can be
    listened on now, binding (and closing) a socket on each of its addresses
    as uvicorn's server will: a taken port or a foreign address is then a
    sentence before anything starts, not uvicorn's log line after the
    refresher has."""
    try:
        found = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (OSError, UnicodeError) as error:  # gaierror is an OSError; an over-long label a UnicodeError
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise InvalidInputError("Cannot listen on {host}: {reason}.", host=host, reason=reason) from None
    for family, kind, proto, _, address in found:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)  # as asyncio's servers bind
            try:
                probe.bind(address)
            except OSError as error:
                raise InvalidInputError(
                    "Cannot listen on {host} port {port}: {reason}.",
                    host=address[0],
                    port=port,
                    reason=error.strerror or str(error),
                ) from None


def serve(app: Any, settings: Settings) -> None:
    """Run ``app`` until SIGINT or SIGTERM."""
    if settings.access_log:
        app = AccessLogMiddleware(app)
    uvicorn.Server(server_config(app, settings)).run()
