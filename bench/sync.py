"""A reader app syncing 10,000 unread items over each sync API (issue 12).

    python bench/sync.py [--items 10000] [--feeds 10]

Builds a lenta database on SQLite with ``--feeds`` feeds of ``--items`` /
``--feeds`` items each (served from 127.0.0.1, fetched by lenta), a user
following them all with an app password, then, for each API, does what a
client does to download every unread item (ids, then contents, page by
page) over real HTTP to a lenta server on 127.0.0.1, and prints the
requests made, the seconds, the items got, and the server process's peak
memory. It checks that every API got every unread item once.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from httpserver import LocalServer  # noqa: E402
from httpserver import Reply  # noqa: E402
from webserver import AppServer  # noqa: E402

from lenta.config import load_settings  # noqa: E402
from lenta.core import make_lenta  # noqa: E402
from lenta.web import create_app  # noqa: E402

NEWEST = datetime(2026, 11, 1, tzinfo=UTC)


def feed(n: int, count: int) -> bytes:
    items = "".join(
        f"<item><title>Feed {n} item {i}</title><guid>f{n}-{i}</guid><link>https://example.com/{n}/{i}</link>"
        f"<pubDate>{format_datetime(NEWEST - timedelta(minutes=i * 7 + n), usegmt=True)}</pubDate>"
        f"<description>&lt;p&gt;Text of item {i} of feed {n}, a paragraph long enough to be a real one.&lt;/p&gt;"
        "</description></item>"
        for i in range(count)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {n}</title>{items}</channel></rss>'.encode()


Sync = Callable[[httpx.Client, str, str], tuple[int, set[int]]]


def miniflux(http: httpx.Client, name: str, secret: str) -> tuple[int, set[int]]:
    auth = {"Authorization": "Basic " + base64.b64encode(f"{name}:{secret}".encode()).decode()}
    got: set[int] = set()
    requests, offset = 0, 0
    while True:
        page = http.get(
            "/v1/entries", params={"status": "unread", "limit": 250, "offset": offset, "order": "id"}, headers=auth
        ).json()
        requests += 1
        got.update(e["id"] for e in page["entries"])
        offset += len(page["entries"])
        if not page["entries"]:
            return requests, got


def google_reader(http: httpx.Client, name: str, secret: str) -> tuple[int, set[int]]:
    token = http.post("/accounts/ClientLogin", data={"Email": name, "Passwd": secret}).text.split("Auth=")[1].strip()
    auth = {"Authorization": f"GoogleLogin auth={token}"}
    requests, ids, continuation = 1, [], ""
    while True:
        params: dict[str, Any] = {"s": "user/-/state/com.google/reading-list", "xt": "user/-/state/com.google/read", "n": 1000}
        if continuation:
            params["c"] = continuation
        answer = http.get("/reader/api/0/stream/items/ids", params=params, headers=auth).json()
        requests += 1
        ids += [ref["id"] for ref in answer["itemRefs"]]
        continuation = answer.get("continuation", "")
        if not continuation:
            break
    got: set[int] = set()
    for start in range(0, len(ids), 250):
        items = http.post("/reader/api/0/stream/items/contents", data={"i": ids[start : start + 250]}, headers=auth).json()
        requests += 1
        got.update(int(item["id"].rsplit("/", 1)[1], 16) for item in items["items"])
    return requests, got


def fever(http: httpx.Client, name: str, secret: str) -> tuple[int, set[int]]:
    key = hashlib.md5(f"{name}:{secret}".encode()).hexdigest()  # noqa: S324 (Fever's own key)
    unread = http.post("/fever/?api", data={"api_key": key, "unread_item_ids": ""}).json()["unread_item_ids"]
    ids = [int(i) for i in unread.split(",") if i]
    requests, got = 1, set()
    for start in range(0, len(ids), 50):
        chunk = ",".join(map(str, ids[start : start + 50]))
        items = http.post("/fever/?api&items", data={"api_key": key, "with_ids": chunk}).json()["items"]
        requests += 1
        got.update(int(item["id"]) for item in items)
    return requests, got


def nextcloud(http: httpx.Client, name: str, secret: str) -> tuple[int, set[int]]:
    auth = (name, secret)
    requests, got, offset = 0, set(), 0
    while True:
        params = {"type": 3, "getRead": "false", "batchSize": 500, **({"offset": offset} if offset else {})}
        items = http.get("/index.php/apps/news/api/v1-2/items", params=params, auth=auth).json()["items"]
        requests += 1
        if not items:
            return requests, got
        got.update(int(item["id"]) for item in items)
        offset = min(int(item["id"]) for item in items)


def ttrss(http: httpx.Client, name: str, secret: str) -> tuple[int, set[int]]:
    sid = http.post("/api/", json={"op": "login", "user": name, "password": secret}).json()["content"]["session_id"]
    requests, got, skip = 1, set(), 0
    while True:
        answer = http.post(
            "/api/",
            json={
                "op": "getHeadlines",
                "sid": sid,
                "feed_id": -4,
                "view_mode": "unread",
                "limit": 200,
                "skip": skip,
                "show_content": True,
            },
        ).json()
        requests += 1
        headlines = answer["content"]
        if not headlines:
            return requests, got
        got.update(int(h["id"]) for h in headlines)
        skip += len(headlines)


APIS: dict[str, Sync] = {
    "Miniflux v1": miniflux,
    "Google Reader": google_reader,
    "Fever": fever,
    "Nextcloud News": nextcloud,
    "Tiny Tiny RSS": ttrss,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--feeds", type=int, default=10)
    args = parser.parse_args(argv)
    per_feed = max(1, args.items // args.feeds)
    with tempfile.TemporaryDirectory(prefix="lenta-bench-sync-") as tmp:
        settings = load_settings(
            {}, db=str(Path(tmp) / "lenta.sqlite"), fetch_allow="127.0.0.1", scheduler=False, host_interval=0.0
        )
        lenta = make_lenta(settings)
        user = lenta.add_user("ann", "correct horse battery")
        lenta.set_ttrss_api_enabled(user, True)
        secret = lenta.add_credential(user, "bench").secret
        routes = {
            f"/f{n}.xml": Reply(body=feed(n, per_feed), headers={"Content-Type": "application/rss+xml"})
            for n in range(args.feeds)
        }
        with LocalServer(routes) as feeds:
            reader = lenta.reader(user)
            started = time.perf_counter()
            for n in range(args.feeds):
                asyncio.run(reader.follow(feeds.url(f"/f{n}.xml")))
            unread = set(reader.item_ids(read=False))
            print(
                f"bench/sync.py {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {len(unread):,} unread items in {args.feeds} feeds, "
                f"built in {time.perf_counter() - started:.1f} s"
            )
        print(f"{'API':16} {'requests':>9} {'seconds':>8} {'items':>7} {'peak RSS MB':>12}  all, once")
        with AppServer(create_app(settings, lenta)) as web, httpx.Client(base_url=web.url(""), timeout=120) as http:
            for name, sync in APIS.items():
                started = time.perf_counter()
                requests, got = sync(http, "ann", secret)
                seconds = time.perf_counter() - started
                peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                print(f"{name:16} {requests:>9} {seconds:>8.2f} {len(got):>7} {peak:>12.0f}  {'yes' if got == unread else 'NO'}")
        lenta.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
