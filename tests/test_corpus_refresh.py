"""The whole real-world corpus, served over HTTP and refreshed through the
pipeline: every file ends parsed or as a stored per-feed error, and every
page of the result renders."""

from __future__ import annotations

import asyncio
import json

import httpx
from conftest import corpus_dir
from httpserver import LocalServer
from httpserver import Reply
from webserver import AppServer

from lenta.config import Settings
from lenta.core import Lenta
from lenta.web import create_app

CONTENT_TYPES = {
    ".json": "application/feed+json",
    ".atom": "application/atom+xml",
    ".rss": "application/rss+xml",
    ".rdf": "application/rdf+xml",
    ".html": "text/html",
}


def test_every_corpus_file_is_stored_or_gets_a_readable_error(lenta: Lenta, settings: Settings) -> None:
    real = corpus_dir("real")
    manifest = (
        {
            entry["file"]: entry
            for entry in json.loads((real.parent / "manifest.json").read_text())["files"]
            if entry["file"].startswith("real/")
        }
        if (real.parent / "manifest.json").exists()
        else {}
    )
    files = sorted(p for p in real.iterdir() if p.name != "MANIFEST.md")
    routes = {
        f"/{p.name}": Reply(body=p.read_bytes(), headers={"Content-Type": CONTENT_TYPES.get(p.suffix, "application/xml")})
        for p in files
    }
    with LocalServer(routes) as server:
        for path in files:
            asyncio.run(lenta.add_feed(server.url(f"/{path.name}"), discover=False))
        summary = asyncio.run(lenta.refresh(all_feeds=True))
    assert summary.ok + summary.failed == len(files)
    feeds = lenta.list_feeds()
    failed = [f for f in feeds if f.error]
    for feed in failed:
        assert feed.error_kind in {"parse", "not_a_feed"}, (feed.url, feed.error)
        assert len(feed.error or "") > 10
    # Nearly everything in the corpus is a readable feed.
    assert summary.ok >= len(files) - 5, [(f.url, f.error) for f in failed]
    assert summary.new_items > 3000
    if manifest:
        by_name = {f.url.rsplit("/", 1)[1]: f for f in feeds}
        for name, entry in manifest.items():
            items = entry.get("items")
            found = by_name.get(name.split("/", 1)[1])
            if found is not None and isinstance(items, int) and not found.error and items > 0:
                assert found.item_count > 0, name

    # Every page of the aggregator renders, whatever the feeds contained.
    with AppServer(create_app(settings, lenta)) as web, httpx.Client(base_url=web.url("")) as http:
        pages = lenta.items_page(0, 20).page_count
        for page in range(pages):
            response = http.get(f"/aggregator?page={page}")
            assert response.status_code == 200, page
            assert "<script" not in response.text.lower()
        for feed in feeds:
            assert http.get(f"/aggregator/sources/{feed.id}").status_code == 200
        assert http.get("/aggregator/sources").status_code == 200
        assert http.get("/aggregator/rss").status_code == 200
