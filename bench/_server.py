"""The feed server: the cached corpus over HTTP on 127.0.0.1, in several processes.

Run as a script (``python bench/_server.py --corpus-seed … --feeds …``); it
prints ``READY <port>`` once every worker listens. The parent loads every
body (and its gzip) into memory, then forks the workers, so they share the
pages copy-on-write; each worker has its own SO_REUSEPORT socket on the same
port and the kernel spreads connections among them.

Every feed answers with ETag and Last-Modified, 304 to a matching
If-None-Match (or, without one, If-Modified-Since), gzip when the client
accepts it, after ``--latency-ms``; keep-alive is aiohttp's default.
``GET /_stats`` sums the workers' counters (requests, 200s, 304s, gzip
responses, body bytes sent).

The server stops by itself after ``--max-seconds`` and when its parent dies.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import multiprocessing
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from email.utils import format_datetime
from email.utils import parsedate_to_datetime
from multiprocessing.sharedctypes import SynchronizedArray
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _corpus  # noqa: E402

PATH = re.compile(r"^/f(\d{5})\.xml$")
STATS = ("requests", "ok", "not_modified", "not_found", "gzip", "body_bytes")


class Page:
    __slots__ = ("raw", "gz", "headers")

    def __init__(self, raw: bytes, gz: bytes, meta: _corpus.FeedMeta) -> None:
        self.raw = raw
        self.gz = gz
        self.headers = {
            "ETag": '"' + hashlib.sha1(raw).hexdigest()[:20] + '"',
            "Last-Modified": format_datetime(meta.updated, usegmt=True),
            "Content-Type": meta.content_type,
            "Cache-Control": "max-age=0",
            "Vary": "Accept-Encoding",
        }


def load_pages(seed: int, feeds: int, items: int) -> list[Page]:
    directory = _corpus.corpus_dir(seed, items)
    return [
        Page(
            (directory / f"f{n:05d}.body").read_bytes(),
            (directory / f"f{n:05d}.body.gz").read_bytes(),
            _corpus.feed_meta(seed, n),
        )
        for n in range(feeds)
    ]


def _etag_matches(header: str, etag: str) -> bool:
    tags = [t.strip() for t in header.split(",")]
    return "*" in tags or any(t.removeprefix("W/") == etag for t in tags)


def _not_modified(request: web.Request, page: Page) -> bool:
    inm = request.headers.get("If-None-Match")
    if inm is not None:  # RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since
        return _etag_matches(inm, page.headers["ETag"])
    ims = request.headers.get("If-Modified-Since")
    if ims is None:
        return False
    try:
        return parsedate_to_datetime(page.headers["Last-Modified"]) <= parsedate_to_datetime(ims)
    except (TypeError, ValueError):
        return False


def _accepts_gzip(request: web.Request) -> bool:
    for part in request.headers.get("Accept-Encoding", "").split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in {"gzip", "*"}:
            return params.replace(" ", "").lower() not in {"q=0", "q=0.0", "q=0.00", "q=0.000"}
    return False


def make_app(pages: list[Page], latency: float, stats: SynchronizedArray, slot: int) -> web.Application:
    base = slot * len(STATS)

    def count(name: str, value: int = 1) -> None:
        stats[base + STATS.index(name)] += value  # own slot: no lock needed

    async def feed(request: web.Request) -> web.Response:
        count("requests")
        match = PATH.match(request.path)
        if latency:
            await asyncio.sleep(latency)
        if match is None or int(match[1]) >= len(pages):
            count("not_found")
            return web.Response(status=404, text="no such feed\n")
        page = pages[int(match[1])]
        if _not_modified(request, page):
            count("not_modified")
            headers = {k: v for k, v in page.headers.items() if k != "Content-Type"}
            return web.Response(status=304, headers=headers)
        count("ok")
        headers = dict(page.headers)
        body = page.raw
        if _accepts_gzip(request):
            count("gzip")
            body = page.gz
            headers["Content-Encoding"] = "gzip"
        count("body_bytes", len(body))
        return web.Response(body=body, headers=headers)

    async def stats_view(request: web.Request) -> web.Response:
        totals = {name: sum(stats[w * len(STATS) + i] for w in range(len(stats) // len(STATS))) for i, name in enumerate(STATS)}
        return web.json_response(totals)

    app = web.Application()
    app.router.add_get("/_stats", stats_view)
    app.router.add_get("/{name}", feed)
    return app


def _worker(
    sock: socket.socket, pages: list[Page], latency: float, stats: SynchronizedArray, slot: int, deadline: float, parent: int
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    async def main() -> None:
        runner = web.AppRunner(make_app(pages, latency, stats, slot), access_log=None, keepalive_timeout=75)
        await runner.setup()
        await web.SockSite(runner, sock, backlog=1024).start()
        while time.monotonic() < deadline and os.getppid() == parent:
            await asyncio.sleep(0.5)
        await runner.cleanup()

    asyncio.run(main())


def reuseport_sockets(count: int) -> tuple[int, list[socket.socket]]:
    """``count`` listening sockets on one 127.0.0.1 port (chosen by the kernel)."""
    sockets: list[socket.socket] = []
    port = 0
    for _ in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(("127.0.0.1", port))
        port = sock.getsockname()[1]
        sock.listen(1024)
        sock.setblocking(False)
        sockets.append(sock)
    return port, sockets


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--feeds", type=int, required=True)
    parser.add_argument("--items", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-seconds", type=float, default=3 * 3600)
    args = parser.parse_args(argv)

    pages = load_pages(args.seed, args.feeds, args.items)
    stats = multiprocessing.Array("q", args.workers * len(STATS), lock=False)
    port, sockets = reuseport_sockets(args.workers)
    deadline = time.monotonic() + args.max_seconds
    ctx = multiprocessing.get_context("fork")
    workers = [
        ctx.Process(target=_worker, args=(sock, pages, args.latency_ms / 1000, stats, i, deadline, os.getpid()), daemon=True)
        for i, sock in enumerate(sockets)
    ]
    for worker in workers:
        worker.start()
    for sock in sockets:
        sock.close()
    print(f"READY {port}", flush=True)
    stop = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while not stop and time.monotonic() < deadline and all(w.is_alive() for w in workers):
        time.sleep(0.2)
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.join(5)
    return 0


class FeedServer:
    """Start ``_server.py`` as a subprocess; a context manager."""

    def __init__(self, seed: int, feeds: int, items: int, latency_ms: float, workers: int = 2) -> None:
        self._proc = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--seed",
                str(seed),
                "--feeds",
                str(feeds),
                "--items",
                str(items),
                "--latency-ms",
                str(latency_ms),
                "--workers",
                str(workers),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()  # the parent loads the corpus first
        if not line.startswith("READY "):
            self._proc.kill()
            raise RuntimeError(f"feed server did not start: {line!r}")
        self.port = int(line.split()[1])
        self.pid = self._proc.pid

    def stats(self) -> dict[str, int]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/_stats", timeout=10) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def __enter__(self) -> FeedServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if __name__ == "__main__":
    sys.exit(main())
