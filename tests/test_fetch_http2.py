"""HTTP/2 where the server offers it, and keep-alive: a real HTTP/2 server
(hypercorn, TLS with ALPN) on 127.0.0.1."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lenta.config import Settings
from lenta.fetch.http import HTTPClient

hypercorn = pytest.importorskip("hypercorn", reason="HTTP/2 tests need hypercorn (pip install -e '.[test]')")

RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>h2</title></channel></rss>'


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/rss+xml"), (b"x-http-version", scope["http_version"].encode())],
        }
    )
    await send({"type": "http.response.body", "body": RSS})


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command to make a test certificate")
    folder = tmp_path_factory.mktemp("h2")
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "key.pem",
            "-out",
            "cert.pem",
            "-days",
            "2",
            "-subj",
            "/CN=h2.localhost",
            "-addext",
            "subjectAltName=DNS:h2.localhost",
        ],
        cwd=folder,
        check=True,
        capture_output=True,
    )
    return folder


@pytest.fixture
def h2_server(certificate: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    config = Config()
    config.certfile = str(certificate / "cert.pem")
    config.keyfile = str(certificate / "key.pem")
    config.alpn_protocols = ["h2", "http/1.1"]
    config.loglevel = "ERROR"
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate / "cert.pem"))  # the client trusts it
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    bound: list[int] = []
    ready = threading.Event()

    async def main() -> None:
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        config.bind = [f"127.0.0.1:{port}"]
        bound.append(port)
        task = asyncio.ensure_future(serve(app, config, shutdown_trigger=stop.wait))  # type: ignore[arg-type]
        await asyncio.sleep(0.3)
        ready.set()
        await task

    thread = threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield bound[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()


def test_http2_is_used_when_the_server_offers_it(h2_server: int) -> None:
    settings = Settings(fetch_allow="127.0.0.1", host_interval=0.0)

    async def go() -> list[str]:
        async with HTTPClient(settings) as client:
            results = [await client.fetch(f"https://h2.localhost:{h2_server}/feed") for _ in range(3)]
        return [r.http_version for r in results] + [results[0].body.decode()[:20] if results[0].body else ""]

    versions = asyncio.run(go())
    assert versions[:3] == ["HTTP/2", "HTTP/2", "HTTP/2"]
    assert versions[3].startswith("<?xml")


def test_keep_alive_reuses_one_connection() -> None:
    from httpserver import LocalServer
    from httpserver import Reply

    settings = Settings(fetch_allow="127.0.0.1", host_interval=0.0)
    with LocalServer({"/feed": Reply(body=RSS)}) as server:

        async def go() -> None:
            async with HTTPClient(settings) as client:
                for _ in range(5):
                    await client.fetch(server.url("/feed"))

        asyncio.run(go())
    assert len(server.requests) == 5
    assert server.connections == 1
