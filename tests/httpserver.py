"""A small real HTTP server for tests, on 127.0.0.1, in a thread.

It serves a dict of path → :class:`Reply` (or a function of the request
returning one) and records every request::

    with LocalServer({"/feed": Reply(body=FEED, headers={"Content-Type": "application/rss+xml"})}) as server:
        result = asyncio.run(fetch(server.url("/feed")))
    assert server.requests[0].headers["user-agent"].startswith("lenta/")

What it can do, all from :class:`Reply`:

- status, headers, body (bytes, str, or a function returning an iterable of
  chunks, sent with chunked encoding so nothing large is held in memory);
- ``gzip=True`` compresses the body and sets Content-Encoding;
- ``etag`` / ``last_modified``: sends them and answers 304 to a matching
  If-None-Match / If-Modified-Since;
- ``delay``: sleeps before answering (timeouts, concurrency); stopping the
  server cuts the sleep short.

It answers GET, HEAD and POST alike (a route sees ``request.method``).

And it records: :attr:`LocalServer.requests` (method, path, headers, start
time, and the body of a POST), :attr:`LocalServer.connections` (TCP
connections accepted) and
:attr:`LocalServer.peak_in_flight` (most requests being answered at once, from
arrival until their answer starts to go out).
Unknown paths get a 404. HTTP/1.1 with keep-alive; ``ssl_context`` makes it
HTTPS. Stop it (or leave the ``with``) before the test ends: it joins its
threads and closes every socket, so no ResourceWarning escapes.
"""

from __future__ import annotations

import email.utils
import gzip as gzip_module
import socket
import ssl
import threading
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any

__all__ = ["LocalServer", "RecordedRequest", "Reply", "Route", "free_port", "redirect"]


@dataclass
class Reply:
    """One canned response."""

    status: int = 200
    body: bytes | str | Callable[[], Iterable[bytes]] = b""
    headers: Mapping[str, str] | Sequence[tuple[str, str]] = ()
    gzip: bool = False  # gzip the body (bytes/str bodies only) and say so
    etag: str | None = None  # send ETag; 304 when If-None-Match matches
    last_modified: str | None = None  # send Last-Modified; 304 when If-Modified-Since is not older
    delay: float = 0.0  # seconds to wait before answering

    def header_items(self) -> list[tuple[str, str]]:
        items = self.headers.items() if isinstance(self.headers, Mapping) else self.headers
        return list(items)


@dataclass(frozen=True)
class RecordedRequest:
    """A request as the server saw it. Header names are lower-cased."""

    method: str
    path: str
    headers: dict[str, str]
    started: float  # time.monotonic() when the request line arrived
    client: tuple[str, int]
    body: bytes = b""  # what a POST sent (read whole before the route is asked)


Route = Reply | Callable[[RecordedRequest], Reply]


def redirect(location: str, status: int = 302) -> Reply:
    """A redirect to ``location`` (absolute or relative)."""
    return Reply(status, headers={"Location": location})


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (connecting to it is refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # so server_close() joins the handler threads
    block_on_close = True
    owner: LocalServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up early (size caps, timeouts) is expected here.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10  # an idle keep-alive connection gives up after this
    server: _Server

    def setup(self) -> None:
        owner = self.server.owner
        if owner.ssl_context is not None:
            # socketserver closes only the plain socket it accepted; finish()
            # closes this one. A failed handshake closes itself.
            self.request = owner.ssl_context.wrap_socket(self.request, server_side=True)
        owner._track(self.request, opened=True)
        super().setup()

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._track(self.request, opened=False)
            if isinstance(self.request, ssl.SSLSocket):
                self.request.close()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._answer(time.monotonic(), b"")

    do_HEAD = do_GET

    def do_POST(self) -> None:
        # Read before answering: an unread body would be taken for the next
        # request on this keep-alive connection. Content-Length bodies only
        # (all lenta sends); anything else ends the connection after the reply.
        started = time.monotonic()
        length = self.headers.get("Content-Length", "")
        if length.isdigit():
            body = self.rfile.read(int(length))
        else:
            body, self.close_connection = b"", True
        self._answer(started, body)

    def _answer(self, started: float, body: bytes) -> None:
        owner = self.server.owner
        recorded = RecordedRequest(
            method=self.command,
            path=self.path,
            headers={name.lower(): value for name, value in self.headers.items()},
            started=started,
            client=self.client_address,
            body=body,
        )
        owner._begin(recorded)
        ended = False
        try:
            route = owner.routes.get(self.path) or owner.routes.get(self.path.split("?", 1)[0])
            if route is None:
                reply = Reply(404, b"not found", {"Content-Type": "text/plain"})
            else:
                reply = route(recorded) if callable(route) else route
            if reply.delay and owner._stopping.wait(reply.delay):
                self.close_connection = True
                return
            # No longer in flight once the answer starts to go out: counted
            # any later, a client that keeps its limit could have its next
            # request arrive (on another connection, another thread) first.
            owner._end()
            ended = True
            self._send(reply, recorded)
        finally:
            if not ended:
                owner._end()

    def _start(self, status: int, headers: list[tuple[str, str]]) -> None:
        # Like send_response(), but a Reply may set its own Date or Server.
        self.log_request(status)
        self.send_response_only(status)
        names = {name.lower() for name, _ in headers}
        if "server" not in names:
            self.send_header("Server", self.version_string())
        if "date" not in names:
            self.send_header("Date", self.date_time_string())

    def _send(self, reply: Reply, request: RecordedRequest) -> None:
        headers = reply.header_items()
        if reply.etag is not None:
            headers.append(("ETag", reply.etag))
        if reply.last_modified is not None:
            headers.append(("Last-Modified", reply.last_modified))
        if _not_modified(reply, request):
            self._start(304, headers)
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            return
        self._start(reply.status, headers)
        for name, value in headers:
            self.send_header(name, value)
        if callable(reply.body):
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if self.command == "HEAD":
                return
            for chunk in reply.body():
                if chunk:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
            return
        body = reply.body.encode() if isinstance(reply.body, str) else reply.body
        if reply.gzip:
            body = gzip_module.compress(body)
            self.send_header("Content-Encoding", "gzip")
        if not any(name.lower() == "content-length" for name, _ in headers):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and reply.status not in {204, 304}:
            self.wfile.write(body)


def _not_modified(reply: Reply, request: RecordedRequest) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if reply.etag is not None and if_none_match is not None:
        return if_none_match.strip() == "*" or reply.etag in [tag.strip() for tag in if_none_match.split(",")]
    if_modified_since = request.headers.get("if-modified-since")
    if reply.last_modified is not None and if_modified_since is not None:
        try:
            since = email.utils.parsedate_to_datetime(if_modified_since)
            modified = email.utils.parsedate_to_datetime(reply.last_modified)
        except (TypeError, ValueError):
            return False
        return modified <= since
    return False


class LocalServer:
    """An HTTP(S) server on 127.0.0.1 serving ``routes``; see the module docstring.

    ``routes`` may be changed while the server runs. ``port=0`` picks a free port.
    """

    def __init__(
        self,
        routes: Mapping[str, Route] | None = None,
        *,
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.ssl_context = ssl_context
        self.requests: list[RecordedRequest] = []
        self.connections = 0
        self.peak_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._httpd = _Server(("127.0.0.1", port), _Handler)
        self._httpd.owner = self
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def url(self, path: str = "/", *, host: str | None = None) -> str:
        """This server's URL for ``path``; ``host`` names it otherwise than 127.0.0.1
        (``feeds.localhost``...), for a client that resolves that name here."""
        if host is None:
            return self.base_url + path
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{host}:{self.port}{path}"

    @property
    def paths(self) -> list[str]:
        """The paths requested so far, in order."""
        with self._lock:
            return [request.path for request in self.requests]

    def start(self) -> LocalServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, cut short every delay, close every connection, join every thread."""
        self._stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        with self._lock:
            open_sockets = list(self._sockets)
        for sock in open_sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes a handler waiting on a keep-alive connection
            except OSError:
                pass
        self._httpd.server_close()

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # called from handler threads

    def _track(self, sock: socket.socket, *, opened: bool) -> None:
        with self._lock:
            if opened:
                self.connections += 1
                self._sockets.add(sock)
            else:
                self._sockets.discard(sock)

    def _begin(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)
            self._in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self._in_flight)

    def _end(self) -> None:
        with self._lock:
            self._in_flight -= 1
