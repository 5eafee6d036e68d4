"""Page latency of ``lenta serve`` while its scheduler refreshes every feed.

    python bench/web_latency.py [--feeds 1000] [--items 30] [--latency-ms 50]
                                [--max-seconds 900] [--idle-seconds 10] [--keep]

Same corpus and feed server as bench/refresh.py. ``lenta import`` puts the
feeds into a fresh database (all due), then ``lenta serve`` starts with
``LENTA_SCHEDULER_TICK=1``, so its scheduler refreshes them all at once.
Meanwhile one client loads ``/aggregator?page=K`` (K = 0..9 in turn), one
request at a time on a keep-alive connection, until every feed has been
checked (the database is polled every second) or ``--max-seconds`` pass;
then for ``--idle-seconds`` more with the scheduler idle, as a baseline.
Prints count, p50/p95/p99/max and how many took over 200 ms, per phase.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _corpus  # noqa: E402
import _measure  # noqa: E402
from _lenta import choose_url_form  # noqa: E402
from _lenta import lenta_cmd  # noqa: E402
from _lenta import lenta_env  # noqa: E402
from _lenta import source_fingerprint  # noqa: E402
from _server import FeedServer  # noqa: E402

SLOW_MS = 200.0
PAGES = 10


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PageClient:
    """GET pages one at a time on one keep-alive connection (reconnecting on errors)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def get(self, path: str) -> tuple[int, float]:
        """(status or 0 on a connection error, milliseconds)."""
        started = time.perf_counter()
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.conn.request("GET", path, headers={"Accept-Language": "en"})
            response = self.conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            if self.conn is not None:
                self.conn.close()
            self.conn = None
            status = 0
        return status, (time.perf_counter() - started) * 1000


def checked_feeds(db: Path) -> tuple[int, int]:
    """(feeds checked at least once, items stored), read-only."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            checked = conn.execute("SELECT count(*) FROM feeds WHERE checked_at IS NOT NULL").fetchone()[0]
            items = conn.execute("SELECT count(*) FROM items").fetchone()[0]
            return int(checked), int(items)
    except sqlite3.Error:
        return -1, -1


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))]


def report(name: str, samples: list[tuple[int, float]], seconds: float) -> None:
    ok = [ms for status, ms in samples if status == 200]
    errors = len(samples) - len(ok)
    if not ok:
        print(f"  {name:<22} no successful request ({errors} errors)")
        return
    print(
        f"  {name:<22} {len(ok):6d} requests in {seconds:6.1f} s  p50 {percentile(ok, 50):7.1f} ms  "
        f"p95 {percentile(ok, 95):7.1f}  p99 {percentile(ok, 99):7.1f}  max {max(ok):7.1f}  "
        f"> {SLOW_MS:.0f} ms: {sum(ms > SLOW_MS for ms in ok)} ({sum(ms > SLOW_MS for ms in ok) / len(ok):.1%})"
        f"  errors {errors}"
    )


def load_pages(
    client: PageClient, seconds: float, until: Callable[[], bool] | None = None
) -> tuple[list[tuple[int, float]], float]:
    """Request pages in turn for ``seconds`` or until ``until()`` says so (checked every second)."""
    samples: list[tuple[int, float]] = []
    started = time.monotonic()
    next_poll = started + 1.0
    while time.monotonic() - started < seconds:
        samples.append(client.get(f"/aggregator?page={len(samples) % PAGES}"))
        if until is not None and time.monotonic() >= next_poll:
            next_poll = time.monotonic() + 1.0
            if until():
                break
    return samples, time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-seconds", type=float, default=900.0, help="longest wait for every feed to be checked")
    parser.add_argument("--idle-seconds", type=float, default=10.0, help="baseline load after the refresh")
    parser.add_argument("--keep", action="store_true", help="keep the temporary database")
    args = parser.parse_args(argv)

    print(f"bench/web_latency.py {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; {_measure.machine()}")
    print(
        f"lenta source fingerprint {source_fingerprint()}; load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; latency {args.latency_ms:g} ms"
    )
    corpus = _corpus.ensure_corpus(args.feeds, args.items, args.seed)
    print(corpus.describe(), flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="lenta-web-"))
    db = tmp / "lenta.sqlite"
    serve: subprocess.Popen[bytes] | None = None
    try:
        with FeedServer(args.seed, args.feeds, args.items, args.latency_ms) as server:
            host_names = choose_url_form(server.port)
            env = lenta_env(db, host_names)
            env["LENTA_SCHEDULER_TICK"] = "1"
            opml = tmp / "feeds.opml"
            _corpus.write_opml(
                opml, args.seed, [_corpus.feed_url(server.port, n, host_names=host_names) for n in range(args.feeds)]
            )
            done = subprocess.run(lenta_cmd("import", str(opml)), env=env, capture_output=True, text=True, timeout=600)
            print(f"lenta import: {done.stdout.strip()} {done.stderr.strip()[-300:]}".rstrip(), flush=True)
            port = free_port()
            started = time.monotonic()
            with open(tmp / "serve.log", "wb") as log:
                serve = subprocess.Popen(
                    lenta_cmd("serve", "--port", str(port)), env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
            sampler = _measure.PeakSampler(serve.pid)
            client = PageClient(port)
            while time.monotonic() - started < 60:
                status, _ = client.get("/aggregator")
                if status == 200 or serve.poll() is not None:
                    break
                time.sleep(0.1)
            print(
                f"lenta serve up after {time.monotonic() - started:.1f} s (pid {serve.pid}, port {port}); "
                f"loading /aggregator?page=0..{PAGES - 1} one request at a time",
                flush=True,
            )
            progress: list[tuple[float, int, int]] = []

            def all_checked() -> bool:
                checked, items = checked_feeds(db)
                progress.append((time.monotonic() - started, checked, items))
                return checked >= args.feeds

            busy, busy_seconds = load_pages(client, args.max_seconds, all_checked)
            all_checked()
            refresh_seconds = progress[-1][0]
            idle, idle_seconds = load_pages(client, args.idle_seconds)
            sampler.stop()
            _, checked, items = progress[-1]
            print(
                f"\nscheduler: {checked}/{args.feeds} feeds checked, {items} items stored, "
                f"{refresh_seconds:.1f} s after `lenta serve` started"
                f"{'' if checked >= args.feeds else ' (gave up: --max-seconds)'}; "
                f"lenta serve peak RSS {sampler.peak_rss / 2**20:.0f} MB (PSS {sampler.peak_pss / 2**20:.0f} MB, "
                f"{sampler.peak_procs} processes)"
            )
            shown = progress[:: max(1, -(-len(progress) // 10))]
            if shown[-1] != progress[-1]:
                shown.append(progress[-1])
            for when, done_feeds, stored in shown:
                print(f"    t={when:6.1f} s  checked {done_feeds:5d}  items {stored}")
            print("\n/aggregator?page=K latency:")
            report("during the refresh", busy, busy_seconds)
            report("idle afterwards", idle, idle_seconds)
    finally:
        if serve is not None and serve.poll() is None:
            os.killpg(serve.pid, signal.SIGTERM)
            try:
                serve.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(serve.pid, signal.SIGKILL)
                serve.wait()
        if serve is not None:
            tail = (tmp / "serve.log").read_text(errors="replace").strip().splitlines()[-8:]
            if tail:
                print("lenta serve log (last lines):\n" + "\n".join(f"   | {line}" for line in tail))
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
