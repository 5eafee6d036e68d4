"""A hostile HTTP server, and the private service behind it that must stay private.

:class:`HostileServer` listens on 127.0.0.1 (a free port) and is built on raw
asyncio streams, not :mod:`http.server`: a behaviour writes whatever bytes it
likes (a malformed status line, a 1 MB header, a Content-Length that lies, a
chunk cut in half), drips them, never ends, or resets the connection. It
serves

- ``/e/<name>[/more]``: the endpoint ``name`` of a catalogue (a mapping of
  name → :data:`Handler`; see :mod:`hostile.catalogue`);
- ``/good/<name>``: a good feed (:class:`GoodFeed`), served honestly.

Every request is recorded (:attr:`HostileServer.requests`), with the
endpoint it reached. Behaviours are built with the small functions below
(:func:`reply`, :func:`redirect`, :func:`drip`, :func:`stream`...); bodies
and headers may hold placeholders filled in when served:

- ``@SELF@``: this server's ``127.0.0.1:port`` (``@SELF_PORT@``: the port);
- ``@INTERNAL@``: the internal service's ``host:port`` on another loopback
  address (127.0.0.2 when it can be bound);
- ``@INTERNAL_PORT@``: the port of the internal service's second socket,
  on 127.0.0.1 itself (same address as this server, another port);
- ``@ME@``: the path of the endpoint being served (``/e/<name>``).

:class:`InternalService` plays a private service (an admin API, cloud
metadata): it records every request it gets and answers with a feed full
of ``INTERNAL-SECRET``. lenta, allowed only this server's exact
``host:port``, must never reach it: the test asserts it recorded nothing.

Both run on one event loop in one thread; :meth:`HostileServer.stop` cancels
every behaviour still dripping, closes every socket and joins the thread.
The tests run them in a process of their own (:class:`ServerProcess`,
``python -m hostile.server``), so that the memory and CPU a test measures
are lenta's; the child tells what it saw through :data:`CONTROL`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

__all__ = [
    "Body",
    "Conn",
    "GoodFeed",
    "Handler",
    "HostileServer",
    "ServerProcess",
    "InternalService",
    "Request",
    "auth_required",
    "chain",
    "close_now",
    "cookie_loop",
    "drip",
    "head",
    "one_xx_forever",
    "raw",
    "redirect",
    "reply",
    "reset",
    "silent",
    "stream",
]

Body = bytes | Callable[[], bytes]  # a function: built once, when first served (big bodies)
HeaderList = Sequence[tuple[str, str]]

MAX_FOREVER = 120.0  # "forever" ends after this many seconds, whatever the client does
MAX_STREAM = 512 * 1024 * 1024  # an endless body ends after this many bytes
INTERNAL_SECRET = "INTERNAL-SECRET"
CONTROL = "/_control/state"  # the test reads what the servers saw here (never lenta)
NO_REQUESTS = 2**62  # as ``since``: the state without the request log


@dataclass(frozen=True)
class Request:
    """A request as the server read it (header names lower-cased, repeats joined)."""

    method: str
    target: str
    headers: dict[str, str]
    peer: tuple[str, int]
    started: float
    endpoint: str | None = None  # the catalogue name it reached, or "good:<name>"

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    def basic_auth(self) -> tuple[str, str] | None:
        value = self.headers.get("authorization", "")
        if not value.lower().startswith("basic "):
            return None
        try:
            user, _, password = base64.b64decode(value[6:].strip()).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return user, password


class Conn:
    """One connection and its request, handed to a behaviour."""

    def __init__(
        self,
        server: HostileServer,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        request: Request,
        base: str,
        rest: str,
    ) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.request = request
        self.base = base  # /e/<name>
        self.rest = rest  # what follows it in the path ("" or "/3")

    def fill(self, data: bytes) -> bytes:
        """``data`` with its placeholders filled in."""
        if b"@" not in data:
            return data
        for name, value in self.server.placeholders(self.base).items():
            data = data.replace(name, value)
        return data

    def write(self, data: bytes) -> None:
        self.writer.write(data)

    async def drain(self) -> bool:
        """Wait until what was written is on its way; False once the client is gone."""
        if self.writer.is_closing():
            return False
        try:
            await self.writer.drain()
        except (ConnectionError, OSError):
            return False
        return True

    async def until_closed(self, limit: float = MAX_FOREVER) -> None:
        """Wait (at most ``limit`` seconds) for the client to hang up."""
        deadline = time.monotonic() + limit
        with contextlib.suppress(ConnectionError, OSError, asyncio.TimeoutError):
            while time.monotonic() < deadline:
                data = await asyncio.wait_for(self.reader.read(65536), deadline - time.monotonic())
                if not data:
                    return


Handler = Callable[[Conn], Awaitable[None]]


def _body(body: Body) -> bytes:
    return body() if callable(body) else body


def head(status: int | str = 200, headers: HeaderList = (), *, reason: str | None = None, version: str = "HTTP/1.1") -> bytes:
    """A response head: status line, headers, blank line. ``status`` may be any text."""
    if reason is None:
        reason = "OK" if status == 200 else "Hostile"
    lines = [f"{version} {status} {reason}".rstrip(" ").encode("latin-1")]
    lines += [f"{name}: {value}".encode("latin-1") for name, value in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def reply(
    status: int | str = 200,
    headers: HeaderList = (),
    body: Body = b"",
    *,
    reason: str | None = None,
    length: bool = True,
    close: bool = True,
) -> Handler:
    """An ordinary answer: Content-Length added unless ``headers`` has one or
    ``length`` is False (then the body ends when the connection does)."""

    async def serve(conn: Conn) -> None:
        data = conn.fill(_body(body))
        items = [(name, conn.fill(value.encode("latin-1")).decode("latin-1")) for name, value in headers]
        if length and not any(name.lower() in {"content-length", "transfer-encoding"} for name, _ in items):
            items.append(("Content-Length", str(len(data))))
        if close:
            items.append(("Connection", "close"))
        conn.write(head(status, items, reason=reason))
        if conn.request.method != "HEAD" and status not in {204, 304}:
            conn.write(data)
        await conn.drain()

    return serve


def raw(data: Body, *, then: str = "close", template: bool = False) -> Handler:
    """Exactly these bytes, then ``then``: "close", "stall" (keep the
    connection open, silent, until the client hangs up) or "reset"."""

    async def serve(conn: Conn) -> None:
        payload = _body(data)
        conn.write(conn.fill(payload) if template else payload)
        if not await conn.drain():
            return
        if then == "stall":
            await conn.until_closed()
        elif then == "reset":
            _reset(conn)

    return serve


def _reset(conn: Conn) -> None:
    sock = conn.writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.writer.transport.abort()


def reset() -> Handler:
    """Read the request, then reset the connection (RST, no answer)."""

    async def serve(conn: Conn) -> None:
        _reset(conn)

    return serve


def close_now() -> Handler:
    """Read the request, then close without a byte."""

    async def serve(conn: Conn) -> None:
        return None

    return serve


def silent() -> Handler:
    """Read the request and never answer (until the client gives up)."""

    async def serve(conn: Conn) -> None:
        await conn.until_closed()

    return serve


def drip(prefix: Body, body: Body, *, every: float = 1.0, step: int = 1) -> Handler:
    """Send ``prefix`` at once, then ``body`` ``step`` bytes every ``every``
    seconds, over and over, until the client hangs up (or :data:`MAX_FOREVER`)."""

    async def serve(conn: Conn) -> None:
        start = _body(prefix)
        if start:
            conn.write(start)
            if not await conn.drain():
                return
        data = _body(body)
        deadline = time.monotonic() + MAX_FOREVER
        position = 0
        while time.monotonic() < deadline:
            conn.write(data[position : position + step])
            position = (position + step) % len(data)
            if not await conn.drain():
                return
            await asyncio.sleep(every)

    return serve


def stream(prefix: Body, chunk: Body, *, chunked: bool = False) -> Handler:
    """Send ``prefix``, then ``chunk`` again and again as fast as the client
    reads (as HTTP chunks with ``chunked``), up to :data:`MAX_STREAM` bytes."""

    async def serve(conn: Conn) -> None:
        conn.write(_body(prefix))
        piece = _body(chunk)
        if chunked:
            piece = b"%x\r\n%s\r\n" % (len(piece), piece)
        sent = 0
        while sent < MAX_STREAM:
            conn.write(piece)
            sent += len(piece)
            if not await conn.drain():
                return
            await asyncio.sleep(0)  # drain() does not yield while the socket takes it all: let the others run

    return serve


def redirect(location: str, status: int = 302, headers: HeaderList = ()) -> Handler:
    """A redirect; ``location`` may hold placeholders (``@ME@``...)."""
    return reply(status, [("Location", location), ("Content-Type", "text/plain"), *headers], b"moved")


def chain(hops: int, final: Handler | None, *, status: int = 302) -> Handler:
    """``@ME@`` → ``@ME@/1`` → … → ``@ME@/hops``, which is ``final`` (or,
    without one, a redirect back to the start: a loop ``hops`` long)."""

    async def serve(conn: Conn) -> None:
        step = int(conn.rest.strip("/") or 0)
        if step >= hops:
            if final is not None:
                await final(conn)
                return
            await redirect(conn.base, status)(conn)
            return
        await redirect(f"{conn.base}/{step + 1}", status)(conn)

    return serve


def cookie_loop(cookies: int = 50) -> Handler:
    """A redirect to the same URL that sets ``cookies`` new 4 KB cookies each
    time: never the same visit twice, so only a cap on hops ends it."""
    counter = iter(range(10**9))

    async def serve(conn: Conn) -> None:
        round_ = next(counter)
        jar = [("Set-Cookie", f"c{round_}_{i}={'x' * 4000}; Path=/") for i in range(cookies)]
        await reply(302, [("Location", conn.base), *jar], b"")(conn)

    return serve


def one_xx_forever(status: int = 100, every: float = 0.0) -> Handler:
    """Informational answers, one after another, and never a final one."""

    async def serve(conn: Conn) -> None:
        deadline = time.monotonic() + MAX_FOREVER
        line = head(status, reason="Continue" if status == 100 else "Processing")
        while time.monotonic() < deadline:
            conn.write(line * 64)
            if not await conn.drain():
                return
            await asyncio.sleep(every)  # 0: still a yield

    return serve


def auth_required(user: str, password: str, then: Handler) -> Handler:
    """``then`` for a request with these Basic credentials, 401 for any other."""

    async def serve(conn: Conn) -> None:
        if conn.request.basic_auth() == (user, password):
            await then(conn)
            return
        await reply(401, [("WWW-Authenticate", 'Basic realm="hostile"'), ("Content-Type", "text/plain")], b"who are you?")(conn)

    return serve


@dataclass(frozen=True)
class GoodFeed:
    """A good feed, served with its type (and gzip, an ETag or chunks, so
    the good ones also cover honest variety)."""

    name: str
    body: bytes
    content_type: str
    gzip: bool = False
    chunked: bool = False
    etag: str | None = None

    def handler(self) -> Handler:
        import gzip as gzip_module

        headers: list[tuple[str, str]] = [("Content-Type", self.content_type)]
        body = self.body
        if self.gzip:
            body = gzip_module.compress(body)
            headers.append(("Content-Encoding", "gzip"))
        if self.etag:
            headers.append(("ETag", self.etag))
        if not self.chunked:
            return reply(200, headers, body)
        chunks = (
            b"".join(b"%x\r\n%s\r\n" % (len(body[i : i + 4096]), body[i : i + 4096]) for i in range(0, len(body), 4096))
            + b"0\r\n\r\n"
        )
        return reply(200, [*headers, ("Transfer-Encoding", "chunked")], chunks)


class _Loop:
    """An event loop in a thread, shared by the hostile server and the internal service."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task[object]] = set()
        self.errors: list[str] = []  # exceptions of the servers' own (bugs of this test server)

    def start(self) -> None:
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self.loop.call_soon(ready.set)
            self.loop.run_forever()

        self._thread = threading.Thread(target=run, name="hostile-server", daemon=True)
        self._thread.start()
        ready.wait(10)

    def call(self, coroutine: Awaitable[object], timeout: float = 30.0) -> object:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)  # type: ignore[arg-type]

    def track(self) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _cancel_all(self) -> None:
        tasks = [task for task in self._tasks if not task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def stop(self, servers: Iterable[asyncio.Server]) -> None:
        async def shutdown() -> None:
            for server in servers:
                server.close()
            await self._cancel_all()
            for server in servers:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(server.wait_closed(), 5)

        if self._thread is None:
            return
        self.call(shutdown())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(30)
        self._thread = None
        self.loop.close()


async def _read_request(reader: asyncio.StreamReader, peer: tuple[str, int]) -> Request | None:
    try:
        raw_head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
    except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, OSError):
        return None
    lines = raw_head.decode("latin-1").split("\r\n")
    method, _, rest = lines[0].partition(" ")
    target = rest.rpartition(" ")[0] or rest
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            key = name.strip().lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    return Request(method, target, headers, peer, time.monotonic())


class InternalService:
    """A private service lenta must never reach: listens on another loopback
    address (127.0.0.2, else 127.0.0.1) and also on 127.0.0.1 at another
    port, records every request (even one that never finishes its head)
    and answers with a feed of secrets."""

    def __init__(self, loop: _Loop) -> None:
        self._loop = loop
        self.requests: list[tuple[str, str]] = []  # (address it reached, first line of the request)
        self.connections = 0
        self.servers: list[asyncio.Server] = []
        self.other_host = "127.0.0.2"
        self.other_port = 0
        self.loopback_port = 0
        self._lock = threading.Lock()

    async def open(self) -> None:
        try:
            other = await asyncio.start_server(self._serve, self.other_host, 0)
        except OSError:  # no 127.0.0.2 here: the other address is 127.0.0.1 too
            self.other_host = "127.0.0.1"
            other = await asyncio.start_server(self._serve, self.other_host, 0)
        loopback = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.servers = [other, loopback]
        self.other_port = other.sockets[0].getsockname()[1]
        self.loopback_port = loopback.sockets[0].getsockname()[1]

    @property
    def address(self) -> str:
        return f"{self.other_host}:{self.other_port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._loop.track()
        local = "%s:%s" % writer.get_extra_info("sockname")[:2]
        with self._lock:
            self.connections += 1
        try:
            try:
                first = await asyncio.wait_for(reader.readline(), 5)
            except (TimeoutError, ConnectionError, OSError, ValueError):
                first = b""
            with self._lock:
                self.requests.append((local, first.decode("latin-1").strip()))
            feed = (
                f'<?xml version="1.0"?><rss version="2.0"><channel><title>{INTERNAL_SECRET}</title>'
                f"<item><title>{INTERNAL_SECRET} root:x:0:0</title><guid>{INTERNAL_SECRET}</guid></item>"
                "</channel></rss>"
            ).encode()
            writer.write(
                head(200, [("Content-Type", "application/rss+xml"), ("Content-Length", str(len(feed))), ("Connection", "close")])
                + feed
            )
            with contextlib.suppress(ConnectionError, OSError):
                await writer.drain()
        except asyncio.CancelledError:
            writer.transport.abort()
        finally:
            writer.close()

    def seen(self) -> list[tuple[str, str]]:
        """Every request so far (and every connection without one, as "")."""
        with self._lock:
            return list(self.requests)


class HostileServer:
    """The hostile server and its internal service; see the module docstring.

    ``endpoints`` maps names to behaviours (``/e/<name>``); ``good`` are the
    good feeds (``/good/<name>``).
    """

    def __init__(self, endpoints: Mapping[str, Handler], good: Sequence[GoodFeed] = ()) -> None:
        self.endpoints = dict(endpoints)
        self.good = {feed.name: feed.handler() for feed in good}
        self._loop = _Loop()
        self.internal = InternalService(self._loop)
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server: asyncio.Server | None = None
        self.port = 0

    # -- addresses -----------------------------------------------------------

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, name: str, *, userinfo: str | None = None) -> str:
        """The URL of endpoint ``name`` (``userinfo``: ``user:password@`` in it)."""
        return f"http://{userinfo + '@' if userinfo else ''}{self.address}/e/{name}"

    def good_url(self, name: str) -> str:
        return f"http://{self.address}/good/{name}"

    def placeholders(self, base: str) -> dict[bytes, bytes]:
        return {
            b"@SELF@": self.address.encode(),
            b"@SELF_PORT@": str(self.port).encode(),
            b"@INTERNAL@": self.internal.address.encode(),
            b"@INTERNAL_PORT@": str(self.internal.loopback_port).encode(),
            b"@ME@": base.encode(),
        }

    @property
    def errors(self) -> list[str]:
        return self._loop.errors

    def requests_for(self, name: str) -> list[Request]:
        with self._lock:
            return [request for request in self.requests if request.endpoint == name]

    # -- running ---------------------------------------------------------------

    def start(self) -> HostileServer:
        self._loop.start()

        async def open_all() -> None:
            await self.internal.open()
            # A 1 MB limit on a request head: lenta's are small.
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, limit=1 << 20, backlog=4096)
            self.port = self._server.sockets[0].getsockname()[1]

        self._loop.call(open_all())
        return self

    def stop(self) -> None:
        servers = [*self.internal.servers, *([self._server] if self._server else [])]
        self._loop.stop(servers)

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._loop.track()
        peer = writer.get_extra_info("peername")[:2]
        try:
            request = await _read_request(reader, peer)
            if request is None:
                return
            if request.path == CONTROL:
                since = int(request.target.partition("?since=")[2] or 0)
                await reply(200, [("Content-Type", "application/json")], self._state(since))(
                    Conn(self, reader, writer, request, CONTROL, "")
                )
                return
            handler, name, base, rest = self._route(request.path)
            request = Request(request.method, request.target, request.headers, peer, request.started, name)
            with self._lock:
                self.requests.append(request)
            await handler(Conn(self, reader, writer, request, base, rest))
        except asyncio.CancelledError:
            # The server stops. Not raised on: asyncio (3.11) would log a
            # cancelled connection task as an error.
            writer.transport.abort()
        except (ConnectionError, OSError):
            pass
        except Exception as exc:  # a bug of this server: the test reports it
            self._loop.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            writer.close()

    def _state(self, since: int = 0) -> bytes:
        """What both servers saw (the requests from number ``since`` on), as JSON."""
        with self._lock:
            count = len(self.requests)
            requests = [dataclasses.asdict(request) for request in self.requests[since:]]
        return json.dumps(
            {"count": count, "requests": requests, "internal": self.internal.seen(), "errors": self.errors}
        ).encode()

    def _route(self, path: str) -> tuple[Handler, str | None, str, str]:
        parts = path.split("/")
        if len(parts) >= 3 and parts[1] == "e" and parts[2] in self.endpoints:
            return self.endpoints[parts[2]], parts[2], f"/e/{parts[2]}", "/".join(["", *parts[3:]]).rstrip("/")
        if len(parts) == 3 and parts[1] == "good" and parts[2] in self.good:
            return self.good[parts[2]], f"good:{parts[2]}", path, ""
        return reply(404, [("Content-Type", "text/plain")], b"no such endpoint"), None, path, ""


# --- in a process of its own ---------------------------------------------------------


class _InternalView:
    def __init__(self, owner: ServerProcess) -> None:
        self._owner = owner
        self.address = ""

    def seen(self) -> list[tuple[str, str]]:
        return [(str(entry[0]), str(entry[1])) for entry in self._owner.state(NO_REQUESTS)["internal"]]


class ServerProcess:
    """:class:`HostileServer` (with the catalogue of :mod:`hostile.catalogue`)
    in a process of its own, so that its memory, its CPU and its GIL are not
    lenta's: what a test measures of lenta is lenta's. The same interface as
    :class:`HostileServer` for what a test reads (``address``, ``url``,
    ``good_url``, ``requests``, ``requests_for``, ``internal.seen()``,
    ``errors``), read from the child's control path.

    ``good``: (name, path of the file, content type, gzip, chunked, etag) of each good feed.
    """

    def __init__(self, good: Sequence[tuple[str, str, str, bool, bool, str | None]] = ()) -> None:
        self._good = [list(spec) for spec in good]
        self._process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.internal = _InternalView(self)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, name: str, *, userinfo: str | None = None) -> str:
        return f"http://{userinfo + '@' if userinfo else ''}{self.address}/e/{name}"

    def good_url(self, name: str) -> str:
        return f"http://{self.address}/good/{name}"

    def start(self) -> ServerProcess:
        tests = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [tests, os.environ.get("PYTHONPATH")])))
        self._process = subprocess.Popen(
            [sys.executable, "-m", "hostile.server", json.dumps(self._good)],
            cwd=tests,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            self._process.wait(10)
            raise RuntimeError(f"the hostile server did not start (exit status {self._process.returncode})")
        ready = json.loads(line)
        self.port = ready["port"]
        self.internal.address = ready["internal"]
        return self

    def state(self, since: int = 0) -> dict[str, Any]:
        import http.client

        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request("GET", f"{CONTROL}?since={since}")
            return json.loads(connection.getresponse().read())  # type: ignore[no-any-return]
        finally:
            connection.close()

    def mark(self) -> int:
        """How many requests the server has seen: pass it to :meth:`requests_since`."""
        return int(self.state(NO_REQUESTS)["count"])

    def requests_since(self, mark: int) -> list[Request]:
        return [
            Request(r["method"], r["target"], r["headers"], tuple(r["peer"]), r["started"], r["endpoint"])
            for r in self.state(mark)["requests"]
        ]

    @property
    def requests(self) -> list[Request]:
        return self.requests_since(0)

    def requests_for(self, name: str) -> list[Request]:
        return [request for request in self.requests if request.endpoint == name]

    @property
    def errors(self) -> list[str]:
        return [str(error) for error in self.state(NO_REQUESTS)["errors"]]

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        assert process.stdin is not None and process.stdout is not None
        process.stdin.close()  # the child's signal to stop
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        process.stdout.close()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def main() -> None:
    """``python -m hostile.server [GOOD-JSON]``: serve the catalogue until stdin closes."""
    from hostile.catalogue import CATALOGUE
    from hostile.feeds import warm

    warm()
    good = [
        GoodFeed(name, open(path, "rb").read(), content_type, gzip, chunked, etag)
        for name, path, content_type, gzip, chunked, etag in json.loads(sys.argv[1] if len(sys.argv) > 1 else "[]")
    ]
    server = HostileServer({endpoint.name: endpoint.serve for endpoint in CATALOGUE}, good).start()
    try:
        print(json.dumps({"port": server.port, "internal": server.internal.address}), flush=True)
        sys.stdin.read()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
