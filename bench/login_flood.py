"""``lenta serve`` under a flood of wrong sign-ins: its memory, and how fast
a visitor's pages stay meanwhile.

    python bench/login_flood.py [--attackers 100] [--seconds 20] [--items 1000]
                                [--one-address] [--keep]

A fresh database gets an admin and ``--items`` items (one local feed,
refreshed once); ``lenta serve --no-scheduler`` starts on it. Then, for
``--seconds``, ``--attackers`` threads each keep one wrong sign-in in
flight (a new user name every time, so the per-account throttle never
applies), each from an address of its own in 127.0.0.0/8 — a distributed
flood, the worst case for the per-address throttle (``--one-address``: all
from 127.0.0.1). Meanwhile one client loads ``/aggregator?page=K`` (K =
0..9 in turn), one request at a time. Before the flood the same client
loads pages for a few seconds alone, as the baseline.

Prints the serve process's RSS before and at its peak (sampled every
50 ms), the page latencies of both phases (p50/p95/p99/max, how many over
200 ms), and what the flood was answered (400 checked, 429 throttled,
503 turned away).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import multiprocessing
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _measure  # noqa: E402
from _lenta import lenta_cmd  # noqa: E402

SLOW_MS = 200.0
PAGES = 10
PASSWORD = "the admin's real password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def feed_body(items: int) -> bytes:
    entries = "".join(
        f"<item><guid>item-{n}</guid><title>Item {n}</title><link>https://example.com/{n}</link>"
        f"<description>&lt;p&gt;{'Some text of item. ' * 40}{n}&lt;/p&gt;</description></item>"
        for n in range(items)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Bench</title>{entries}</channel></rss>'.encode()


def serve_feed(body: bytes) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run(argv: list[str], env: dict[str, str], stdin: str | None = None) -> None:
    done = subprocess.run(argv, env=env, input=stdin, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.strip()}")


def login_form(port: int, source: str) -> tuple[str, str]:
    """(csrf token, cookie header) from one load of the login form."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    conn.request("GET", "/user/login")
    response = conn.getresponse()
    page = response.read().decode()
    cookies = "; ".join(value.split(";", 1)[0] for name, value in response.getheaders() if name.lower() == "set-cookie")
    conn.close()
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    if match is None:
        raise SystemExit("no CSRF token on /user/login")
    return match.group(1), cookies


async def _attacker(port: int, source: str, number: int, token: str, cookies: str, until: float, statuses: Counter[int]) -> None:
    """Keeps one wrong sign-in in flight from ``source`` until ``until``."""
    attempt = 0
    while time.monotonic() < until:
        attempt += 1
        body = urllib.parse.urlencode(
            {"csrf_token": token, "name": f"guess-{number}-{attempt}", "pass": "not the password", "destination": "/"}
        ).encode()
        request = (
            f"POST /user/login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookies}\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n\r\n"
        ).encode() + body
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
            writer.write(request)
            await writer.drain()
            status_line = await asyncio.wait_for(reader.readline(), 120)
            await reader.read()
            writer.close()
            status = int(status_line.split()[1])
        except (OSError, ValueError, IndexError, TimeoutError):
            status = 0
        statuses[status] += 1


def flood(port: int, attackers: int, seconds: float, one_address: bool, results: Any) -> None:
    """The attackers, in a process of their own: their work must not share an
    interpreter lock with the client whose page times are measured."""
    sources = ["127.0.0.1" if one_address else f"127.0.{1 + n // 250}.{2 + n % 250}" for n in range(attackers)]
    forms = [login_form(port, source) for source in sources]
    statuses: Counter[int] = Counter()

    async def run_all() -> None:
        until = time.monotonic() + seconds
        await asyncio.gather(
            *(
                _attacker(port, source, n, token, cookies, until, statuses)
                for n, (source, (token, cookies)) in enumerate(zip(sources, forms))
            )
        )

    results.put("ready")
    asyncio.run(run_all())
    results.put(dict(statuses))


def load_pages(port: int, stop: threading.Event, latencies: list[float]) -> None:
    conn: http.client.HTTPConnection | None = None
    page = 0
    while not stop.is_set():
        started = time.perf_counter()
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("GET", f"/aggregator?page={page % PAGES}", headers={"Accept-Language": "en"})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise SystemExit(f"/aggregator answered {response.status}")
        except (OSError, http.client.HTTPException):
            if conn is not None:
                conn.close()
            conn = None
            continue
        latencies.append((time.perf_counter() - started) * 1000)
        page += 1


def summary(label: str, latencies: list[float]) -> str:
    if not latencies:
        return f"{label}: no page loaded"
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    slow = sum(1 for value in ordered if value > SLOW_MS)
    return (
        f"{label}: {len(ordered)} pages, p50 {statistics.median(ordered):.1f} ms, p95 {pct(95):.1f} ms, "
        f"p99 {pct(99):.1f} ms, max {ordered[-1]:.1f} ms, over {SLOW_MS:.0f} ms: {slow}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attackers", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--baseline-seconds", type=float, default=5.0)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--one-address", action="store_true", help="every attacker from 127.0.0.1")
    parser.add_argument("--keep", action="store_true", help="keep the temporary database")
    args = parser.parse_args()
    args.attackers = max(1, min(args.attackers, 250))
    args.seconds = max(1.0, min(args.seconds, 300.0))

    tmp = Path(tempfile.mkdtemp(prefix="lenta-flood-"))
    db = tmp / "flood.sqlite"
    env = dict(os.environ, LENTA_DB=str(db), LENTA_FETCH_ALLOW="127.0.0.1", LENTA_SCHEDULER="false")
    feed = serve_feed(feed_body(args.items))
    process: subprocess.Popen[bytes] | None = None
    try:
        run(lenta_cmd("user", "add", "admin", "--admin"), env, PASSWORD + "\n")
        run(lenta_cmd("add", f"http://127.0.0.1:{feed.server_port}/feed.xml"), env)
        run(lenta_cmd("refresh", "--all"), env)
        port = free_port()
        process = subprocess.Popen(
            lenta_cmd("serve", "--port", str(port), "--no-scheduler"),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit("lenta serve did not start") from None
                time.sleep(0.2)

        baseline: list[float] = []
        stop = threading.Event()
        pages = threading.Thread(target=load_pages, args=(port, stop, baseline), daemon=True)
        pages.start()
        time.sleep(args.baseline_seconds)
        stop.set()
        pages.join()
        rss_before, _, _ = _measure.tree_memory(process.pid)

        results: multiprocessing.Queue[Any] = multiprocessing.Queue()
        attack = multiprocessing.Process(target=flood, args=(port, args.attackers, args.seconds, args.one_address, results))
        attack.start()
        if results.get(timeout=120) != "ready":
            raise SystemExit("the attackers did not start")
        sampler = _measure.PeakSampler(process.pid)
        during: list[float] = []
        stop = threading.Event()
        pages = threading.Thread(target=load_pages, args=(port, stop, during), daemon=True)
        started = time.monotonic()
        pages.start()
        time.sleep(args.seconds)
        stop.set()  # pages are timed while the attackers send, not while the last queued sign-ins drain
        pages.join(timeout=60)
        statuses: Counter[int] = Counter(results.get(timeout=300))
        elapsed = time.monotonic() - started
        attack.join(timeout=60)
        sampler.stop()

        mib = 1024 * 1024
        print(
            f"lenta serve, {args.items} items, {args.attackers} attackers "
            f"({'one address' if args.one_address else 'one address each'}) for {args.seconds:.0f} s; "
            f"the sign-ins still queued then took {elapsed - args.seconds:.1f} s more"
        )
        print(
            f"memory: {rss_before / mib:.0f} MB RSS before, peak {sampler.peak_rss / mib:.0f} MB, "
            f"extra {(sampler.peak_rss - rss_before) / mib:.0f} MB (goal: under 300 MB extra)"
        )
        print(summary("pages before the flood", baseline))
        print(summary("pages during the flood", during) + " (goal: under 200 ms)")
        answered = ", ".join(f"{status or 'connection error'}: {count}" for status, count in sorted(statuses.items()))
        print(f"sign-ins answered: {answered} (total {sum(statuses.values())}, {sum(statuses.values()) / elapsed:.0f}/s)")
    finally:
        if process is not None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        feed.shutdown()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
