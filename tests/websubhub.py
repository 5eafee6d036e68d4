"""A WebSub hub (and the publisher of its feeds) for tests: real HTTP on
127.0.0.1, in a thread.

    with Hub() as hub:
        hub.feeds["/feed.xml"] = (ATOM, "application/atom+xml")    # served on GET
        ...                                                        # lenta subscribes at hub.hub_url
        hub.wait_for(lambda: hub.verified("subscribe"))
        hub.publish(hub.url("/feed.xml"), NEW_ATOM)                 # signed with the subscriber's secret

What it does, as a hub should (W3C WebSub §5-§8):

- ``POST /hub`` with ``hub.mode=subscribe|unsubscribe``, ``hub.topic``,
  ``hub.callback`` (+ ``hub.secret``, ``hub.lease_seconds``): answers
  :attr:`Hub.status` (202), then, from another thread, verifies the intent:
  ``GET callback?hub.mode=…&hub.topic=…&hub.challenge=…&hub.lease_seconds=…``
  and checks that the answer is 2xx and echoes the challenge. A verified
  subscribe is kept (with its secret and lease, :attr:`Hub.lease_seconds`
  overriding the one asked for); a verified unsubscribe removes it.
- :meth:`Hub.publish` POSTs a body to every verified callback of a topic,
  signed (``X-Hub-Signature: sha256=…``, any of sha1/256/384/512), unsigned,
  or with a wrong secret; :meth:`Hub.deny` sends ``hub.mode=denied``.
- It records everything: :attr:`Hub.requests` (the form of each POST),
  :attr:`Hub.verifications` (each GET it made and how it went),
  :attr:`Hub.deliveries` (each push and its status).

Leave the ``with`` (or call :meth:`Hub.stop`) before the test ends: it
joins the verification threads and the server.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs

import httpx

__all__ = ["Hub", "HubRequest", "Verification", "Delivery", "sign"]


def sign(body: bytes, secret: str, algorithm: str = "sha256") -> str:
    """The X-Hub-Signature value of ``body``."""
    return f"{algorithm}=" + hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()


@dataclass(frozen=True)
class HubRequest:
    """A subscription request as the hub received it (the form's fields)."""

    mode: str
    topic: str
    callback: str
    secret: str | None
    lease_seconds: int | None
    fields: dict[str, str]


@dataclass(frozen=True)
class Verification:
    """One intent verification the hub made."""

    mode: str
    topic: str
    callback: str
    status: int
    echoed: bool  # the body was the challenge
    lease_seconds: int | None


@dataclass(frozen=True)
class Delivery:
    callback: str
    status: int
    signature: str | None


@dataclass
class _Subscriber:
    callback: str
    topic: str
    secret: str | None
    lease_seconds: int | None


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins the handler threads
    block_on_close = True
    owner: Hub


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection: nothing lingers at stop()
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        found = self.server.owner.feeds.get(self.path.split("?", 1)[0])
        if found is None:
            self._reply(404, b"not found", "text/plain")
        else:
            self._reply(200, *found)

    def do_POST(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("ascii", "replace")
        fields = {name: values[0] for name, values in parse_qs(raw, keep_blank_values=True).items()}
        if self.path != "/hub":
            self._reply(404, b"not found", "text/plain")
            return
        mode, topic, callback = fields.get("hub.mode", ""), fields.get("hub.topic", ""), fields.get("hub.callback", "")
        lease = fields.get("hub.lease_seconds")
        request = HubRequest(mode, topic, callback, fields.get("hub.secret"), int(lease) if lease else None, fields)
        with owner.lock:
            owner.requests.append(request)
            status = owner.status
        if mode not in {"subscribe", "unsubscribe"} or not topic or not callback:
            self._reply(400, b"bad request", "text/plain")
            return
        self._reply(status, b"", "text/plain")
        if 200 <= status < 300:
            owner._verify_later(request)

    def _reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()


class Hub:
    """See the module docstring.

    Args:
        lease_seconds: the lease the hub grants; None grants the one asked for.
        status: what the hub answers to subscription requests.
    """

    def __init__(self, *, lease_seconds: int | None = None, status: int = 202) -> None:
        self.lease_seconds = lease_seconds
        self.status = status
        self.feeds: dict[str, tuple[bytes, str]] = {}
        self.requests: list[HubRequest] = []
        self.verifications: list[Verification] = []
        self.deliveries: list[Delivery] = []
        self.subscribers: dict[tuple[str, str], _Subscriber] = {}  # (topic, callback) → subscriber
        self.lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def hub_url(self) -> str:
        return self.base_url + "/hub"

    def url(self, path: str) -> str:
        return self.base_url + path

    def __enter__(self) -> Hub:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._thread.join()
        self._httpd.server_close()  # joins the handler threads, so no verification starts after this
        with self.lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=10)

    # -- what the test asks ------------------------------------------------------

    def wait_for(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the hub waited {timeout} s in vain; it saw {self.requests} and verified {self.verifications}"
                )
            time.sleep(0.01)

    def verified(self, mode: str, count: int = 1) -> bool:
        """Whether ``count`` verifications of ``mode`` were echoed correctly."""
        with self.lock:
            return sum(1 for v in self.verifications if v.mode == mode and v.echoed) >= count

    def requested(self, mode: str) -> list[HubRequest]:
        with self.lock:
            return [r for r in self.requests if r.mode == mode]

    # -- what the hub does ---------------------------------------------------------

    def _verify_later(self, request: HubRequest) -> None:
        thread = threading.Thread(target=self._verify, args=(request,), name="test-hub-verify")
        with self.lock:
            self._threads.append(thread)
        thread.start()

    def _verify(self, request: HubRequest) -> None:
        challenge = secrets.token_urlsafe(16)
        params = {"hub.mode": request.mode, "hub.topic": request.topic, "hub.challenge": challenge}
        lease = self.lease_seconds or request.lease_seconds
        if request.mode == "subscribe" and lease:
            params["hub.lease_seconds"] = str(lease)
        try:
            with httpx.Client(timeout=5) as client:
                response = client.get(request.callback, params=params)
            status, echoed = response.status_code, 200 <= response.status_code < 300 and response.text == challenge
        except httpx.HTTPError:  # the subscriber is not there (any more)
            status, echoed = 0, False
        key = (request.topic, request.callback)
        with self.lock:
            self.verifications.append(Verification(request.mode, request.topic, request.callback, status, echoed, lease))
            if echoed and request.mode == "subscribe":
                self.subscribers[key] = _Subscriber(request.callback, request.topic, request.secret, lease)
            elif echoed:
                self.subscribers.pop(key, None)

    def deny(self, topic: str, callback: str, reason: str) -> int:
        params = {"hub.mode": "denied", "hub.topic": topic, "hub.reason": reason}
        with httpx.Client(timeout=5) as client:
            return client.get(callback, params=params).status_code

    def publish(
        self,
        topic: str,
        body: bytes,
        content_type: str = "application/atom+xml",
        *,
        algorithm: str | None = "sha256",
        secret: str | None = None,
    ) -> list[int]:
        """Push ``body`` to every verified subscriber of ``topic``: signed
        with its secret (or ``secret``) by ``algorithm``, or unsigned if
        ``algorithm`` is None. Returns the callbacks' statuses."""
        with self.lock:
            targets = [s for s in self.subscribers.values() if s.topic == topic]
        statuses = []
        for target in targets:
            key = secret if secret is not None else target.secret
            signature = sign(body, key, algorithm) if algorithm and key is not None else None
            statuses.append(self.push(target.callback, body, content_type, signature))
        return statuses

    def push(self, callback: str, body: bytes, content_type: str, signature: str | None) -> int:
        headers = {"Content-Type": content_type}
        if signature is not None:
            headers["X-Hub-Signature"] = signature
        with httpx.Client(timeout=5) as client:
            status = client.post(callback, content=body, headers=headers).status_code
        with self.lock:
            self.deliveries.append(Delivery(callback, status, signature))
        return status
