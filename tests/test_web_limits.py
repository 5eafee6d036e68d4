"""Request bodies are bounded before they are read (lenta.web.limits).

A declared Content-Length over a route's limit is answered 413 by the real
server before a byte of the body is waited for; a chunked body is cut off
the moment it passes the limit (the app is driven in-process, so the test
sees how much of the body was ever asked for); only the OPML form takes
multipart, and nothing refused is spooled to the temporary directory; a
push to an unknown WebSub callback is answered without its body read.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from test_web import ADMIN
from test_web import PASSWORD
from test_web import client
from test_web import form_token
from test_web import sign_in
from webserver import AppServer

from lenta.config import Settings
from lenta.core import Lenta
from lenta.storage import Storage
from lenta.web import create_app
from lenta.web.admin import MAX_OPML_BYTES
from lenta.web.limits import FORM_BYTES

CHUNK = 16 * 1024
OPML_LIMIT = MAX_OPML_BYTES + FORM_BYTES
BOUNDARY = "lenta-test-boundary"
URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


# -- what the process opens: Python's audit hook sees every open(), os.open() included ------------------

_opened: list[str] | None = None


def _audit(event: str, args: tuple[object, ...]) -> None:
    if _opened is not None and event == "open" and args and isinstance(args[0], (str, bytes)):
        _opened.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)  # hooks cannot be removed: it records only inside files_opened_in()


@contextlib.contextmanager
def files_opened_in(directory: Path) -> Iterator[list[str]]:
    """The paths under ``directory`` opened meanwhile (a spooled upload opens
    the temporary directory itself, O_TMPFILE, or a file in it)."""
    global _opened
    _opened = []
    found: list[str] = []
    try:
        yield found
    finally:
        found += [path for path in _opened if path == str(directory) or path.startswith(f"{directory}/")]
        _opened = None


@pytest.fixture
def spool_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary directory uploads would be spooled to, for this test alone."""
    directory = tmp_path / "spool"
    directory.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(directory))
    return directory


# -- a body the app pulls chunk by chunk ---------------------------------------------------------------


class Body:
    """A request body of ``total`` bytes (``head`` first, then filler) sent
    in chunks only as the app asks for them; ``sent`` counts what it took."""

    def __init__(self, total: int, head: bytes = b"", filler: bytes = b"a") -> None:
        self.total = total
        self.head = head
        self.filler = filler
        self.sent = 0

    async def chunks(self) -> AsyncIterator[bytes]:
        data = self.head
        while self.sent < self.total:
            if not data:
                data = self.filler * (CHUNK // len(self.filler))
            piece = data[: min(CHUNK, self.total - self.sent)]
            data = data[len(piece) :]
            self.sent += len(piece)
            yield piece


def multipart_head(token: str, filename: str = "big.opml") -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="upload"; filename="{filename}"\r\n'
        f"Content-Type: text/x-opml\r\n\r\n"
    ).encode()


@contextlib.asynccontextmanager
async def in_process(settings: Settings, lenta: Lenta) -> AsyncIterator[httpx.AsyncClient]:
    """The app driven in this process: its ``receive`` pulls the request body lazily."""
    transport = httpx.ASGITransport(app=create_app(settings, lenta))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        yield http


async def signed_in(http: httpx.AsyncClient) -> str:
    """Signs the admin in; returns a CSRF token of the session."""
    token = form_token((await http.get("/user/login")).text)
    response = await http.post("/user/login", data={"csrf_token": token, "name": "admin", "pass": PASSWORD, "destination": ADMIN})
    assert response.status_code == 303, response.text
    return form_token((await http.get(f"{ADMIN}/add/opml")).text)


@pytest.fixture
def admin(lenta: Lenta) -> Lenta:
    lenta.add_user("admin", PASSWORD, is_admin=True)
    return lenta


# -- declared lengths, over real HTTP ---------------------------------------------------------------------


def raw_exchange(port: int, request: bytes, timeout: float = 5.0) -> tuple[int, bytes, float]:
    """Sends ``request`` as it is and reads one answer; returns its status
    (0 for none within ``timeout``), the answer, and the seconds it took."""
    started = time.monotonic()
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        with contextlib.suppress(TimeoutError, ConnectionResetError):
            while not complete(answer) and (chunk := sock.recv(65536)):
                answer += chunk
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
    return status, answer, time.monotonic() - started


def complete(answer: bytes) -> bool:
    head, found, body = answer.partition(b"\r\n\r\n")
    lengths = [line.split(b":", 1)[1] for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")]
    return bool(found and lengths and len(body) >= int(lengths[0]))


@pytest.mark.parametrize(
    ("path", "content_type", "length", "signed"),
    [
        ("/user/login", URLENCODED, 2**30, False),  # a gigabyte "login"
        ("/user/login", URLENCODED, FORM_BYTES + 1, False),
        (f"{ADMIN}/add/feed", URLENCODED, FORM_BYTES + 1, True),
        (f"{ADMIN}/settings", URLENCODED, FORM_BYTES + 1, True),
        (f"{ADMIN}/add/opml", MULTIPART, OPML_LIMIT + 1, True),
        ("/websub/any-token", "application/atom+xml", 20 * 1024 * 1024 + 1, False),
    ],
)
def test_a_declared_length_over_the_limit_is_refused_at_once(
    admin: Lenta, settings: Settings, path: str, content_type: str, length: int, signed: bool
) -> None:
    with AppServer(create_app(settings, admin)) as web, client(web, "ru") as http:
        if signed:
            sign_in(http)
        cookies = "; ".join(f"{name}={value}" for name, value in http.cookies.items())
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{web.port}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {length}\r\nAccept-Language: ru\r\nCookie: {cookies}\r\n\r\n"
        ).encode()
        # The first bytes of the body come along; the rest never will.
        status, answer, seconds = raw_exchange(web.port, head + b"csrf_token=x&" + b"a" * 1000)
    assert status == 413, answer[:300]
    assert seconds < 2
    assert "Слишком большой запрос" in answer.decode("utf-8", "replace")  # a page, in the visitor's language


def test_bodies_within_the_limits_still_go_through(admin: Lenta, settings: Settings) -> None:
    opml = (
        b'<?xml version="1.0"?><opml version="2.0"><body>'
        + b"".join(b'<outline type="rss" text="F%d" xmlUrl="https://f%d.example/feed"/>' % (n, n) for n in range(2000))
        + b"</body></opml>"
    )
    assert FORM_BYTES < len(opml) < MAX_OPML_BYTES
    with AppServer(create_app(settings, admin)) as web, client(web) as http:
        sign_in(http)
        token = form_token(http.get(f"{ADMIN}/add/opml").text)
        uploaded = http.post(
            f"{ADMIN}/add/opml", data={"csrf_token": token}, files={"upload": ("list.opml", opml, "text/x-opml")}
        )
        long_title = http.post(
            f"{ADMIN}/add/category", data={"csrf_token": token, "title": "t" * 250, "description": "d" * 60000}
        )
    assert uploaded.status_code == 303 and len(admin.list_feeds()) == 2000
    assert long_title.status_code == 303


# -- chunked bodies, in-process ---------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_chunked_form_is_cut_off_once_it_passes_the_limit(admin: Lenta, settings: Settings, spool_dir: Path) -> None:
    async with in_process(settings, admin) as http:
        login = Body(10 * FORM_BYTES, b"csrf_token=x&name=admin&pass=")
        login_answer = await http.post("/user/login", content=login.chunks(), headers={"Content-Type": URLENCODED})
        token = await signed_in(http)
        feed = Body(10 * FORM_BYTES, f"csrf_token={token}&url=".encode())
        feed_answer = await http.post(f"{ADMIN}/add/feed", content=feed.chunks(), headers={"Content-Type": URLENCODED})
        upload = Body(2 * OPML_LIMIT, multipart_head(token), b"<!-- padding -->")
        with files_opened_in(spool_dir) as spooled:
            upload_answer = await http.post(f"{ADMIN}/add/opml", content=upload.chunks(), headers={"Content-Type": MULTIPART})
    assert (login_answer.status_code, feed_answer.status_code, upload_answer.status_code) == (413, 413, 413)
    assert "Request too large" in upload_answer.text
    # Nothing past the limit was even asked for.
    assert login.sent <= FORM_BYTES + CHUNK and feed.sent <= FORM_BYTES + CHUNK
    assert upload.sent <= OPML_LIMIT + CHUNK
    assert spooled == []
    assert admin.list_feeds() == []


@pytest.mark.anyio
async def test_only_the_opml_form_takes_multipart_and_forms_take_only_forms(
    admin: Lenta, settings: Settings, spool_dir: Path
) -> None:
    async with in_process(settings, admin) as http:
        login = Body(2 * 1024 * 1024, multipart_head("x", "avatar.png"))
        with files_opened_in(spool_dir) as spooled:
            multipart_login = await http.post("/user/login", content=login.chunks(), headers={"Content-Type": MULTIPART})
        other_types = [
            (await http.post("/user/login", content=b'{"name": "admin"}', headers={"Content-Type": kind})).status_code
            for kind in ("application/json", "text/plain", "application/xml")
        ]
        untyped = await http.post("/user/login", content=b"name=admin")
        token = await signed_in(http)
        feed = Body(1024, multipart_head(token, "feed.xml"))
        multipart_feed = await http.post(f"{ADMIN}/add/feed", content=feed.chunks(), headers={"Content-Type": MULTIPART})
        opml = (
            b'<?xml version="1.0"?><opml version="2.0"><body>'
            b'<outline type="rss" text="A" xmlUrl="https://a.example/feed"/></body></opml>'
        )
        by_upload = await http.post(
            f"{ADMIN}/add/opml", data={"csrf_token": token}, files={"upload": ("list.opml", opml, "text/x-opml")}
        )
        form_without_file = await http.post(f"{ADMIN}/add/opml", data={"csrf_token": token})
    assert multipart_login.status_code == 415 and login.sent == 0
    assert spooled == []
    assert other_types == [415, 415, 415] and untyped.status_code == 415
    assert multipart_feed.status_code == 415 and feed.sent == 0
    assert by_upload.status_code == 303 and [f.url for f in admin.list_feeds()] == ["https://a.example/feed"]
    assert form_without_file.status_code == 400  # "Either upload a file or enter a URL": a form, read


# -- the WebSub callback --------------------------------------------------------------------------------


def subscribe(storage: Storage, token: str) -> int:
    now = datetime.now(UTC)
    feed = storage.feeds.add("https://example.com/feed", now=now)
    storage.websub.add(
        feed.id,
        hub_url="https://hub.example/",
        topic="https://example.com/feed",
        callback=f"https://lenta.example/websub/{token}",
        token=token,
        secret="s" * 43,
        lease_seconds=3600,
        now=now,
    )
    return feed.id


@pytest.mark.anyio
async def test_a_push_to_an_unknown_callback_is_404_without_its_body_read(
    lenta: Lenta, lenta_storage: Storage, settings: Settings
) -> None:
    subscribe(lenta_storage, "known-token")
    push = Body(10 * 1024 * 1024, b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">')
    async with in_process(settings, lenta) as http:
        answer = await http.post(
            "/websub/no-such-token",
            content=push.chunks(),
            headers={"Content-Type": "application/atom+xml", "X-Hub-Signature": "sha256=00"},
        )
    assert answer.status_code == 404
    assert push.sent == 0


@pytest.mark.anyio
async def test_a_push_over_the_limit_to_a_known_callback_is_413(lenta: Lenta, lenta_storage: Storage, settings: Settings) -> None:
    limit = 256 * 1024
    settings = settings.replace(fetch_max_bytes=limit)
    lenta.settings = settings
    feed_id = subscribe(lenta_storage, "known-token")
    push = Body(20 * limit, b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">', b"<!-- x -->")
    async with in_process(settings, lenta) as http:
        answer = await http.post(
            "/websub/known-token",
            content=push.chunks(),
            headers={"Content-Type": "application/atom+xml", "X-Hub-Signature": "sha256=00"},
        )
    assert answer.status_code == 413
    assert push.sent <= limit + CHUNK
    assert lenta.get_feed(feed_id).item_count == 0
