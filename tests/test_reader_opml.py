"""A reader's OPML (issue 11): import keeps nested folders and a feed in
several, adds no fetch for a feed lenta has, and export writes back what
import reads; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from httpserver import LocalServer
from httpserver import Reply
from test_reader import RSS
from test_reader import feed_xml

from lenta.config import load_settings
from lenta.core import Lenta
from lenta.core import make_lenta
from lenta.exceptions import OPMLError
from lenta.parse.opml import parse_opml


@pytest.fixture
def feeds() -> Iterator[LocalServer]:
    routes = {f"/{name}.xml": Reply(body=feed_xml(name.title(), range(1, 3)), headers=RSS) for name in ("alpha", "beta", "gamma")}
    with LocalServer(routes) as server:
        yield server


@pytest.fixture
def site(backend_url: str, tmp_path: Path) -> Iterator[Lenta]:
    settings = load_settings({}, db=backend_url, fetch_allow="127.0.0.1,::1", scheduler=False, host_interval=0.0)
    instance = make_lenta(settings)
    yield instance
    instance.close()


def opml(feeds: LocalServer) -> bytes:
    return f"""<?xml version="1.0"?>
<opml version="2.0"><head><title>Mine</title></head><body>
  <outline text="News">
    <outline text="Tech">
      <outline type="rss" text="Alpha" xmlUrl="{feeds.url("/alpha.xml")}"/>
    </outline>
    <outline type="rss" text="Beta" xmlUrl="{feeds.url("/beta.xml")}"/>
  </outline>
  <outline text="Fun"><outline type="rss" text="Beta" xmlUrl="{feeds.url("/beta.xml")}"/></outline>
  <outline type="rss" text="Gamma (mine)" xmlUrl="{feeds.url("/gamma.xml")}"/>
  <outline type="rss" text="Not a feed" xmlUrl="javascript:alert(1)"/>
</body></opml>""".encode()


def test_import_keeps_nesting_and_several_folders_and_export_reads_back(site: Lenta, feeds: LocalServer) -> None:
    asyncio.run(site.add_and_fetch(feeds.url("/alpha.xml")))  # the admin's already
    fetched = len(feeds.requests)
    ann = site.reader(site.add_user("ann", "correct horse battery"))
    done = ann.import_opml(opml(feeds))
    assert (done.added, done.already, done.skipped, done.folders) == (3, 0, 1, 3)
    assert len(feeds.requests) == fetched  # new feeds wait for the refresher; the known one is not fetched again
    folders = {f.name: f for f in ann.folders()}
    assert set(folders) == {"News", "Tech", "Fun"} and folders["Tech"].parent_id == folders["News"].id
    by_title = {f.title: f for f in ann.followed()}
    assert set(by_title) == {"Alpha", "Beta", "Gamma (mine)"}
    assert set(by_title["Beta"].folder_ids) == {folders["News"].id, folders["Fun"].id}
    assert by_title["Alpha"].folder_ids == (folders["Tech"].id,) and by_title["Gamma (mine)"].folder_ids == ()
    assert not site.get_feed(by_title["Beta"].feed_id).published  # a reader's import publishes nothing

    exported = parse_opml(ann.export_opml())
    categories = {outline.url: set(outline.categories) for outline in exported.outlines}
    assert categories == {
        feeds.url("/alpha.xml"): {"News / Tech"},
        feeds.url("/beta.xml"): {"News", "Fun"},
        feeds.url("/gamma.xml"): set(),
    }
    again = ann.import_opml(ann.export_opml())  # a round trip changes nothing
    assert (again.added, again.already, again.folders) == (0, 3, 0)
    assert len(ann.folders()) == 3 and len(ann.followed()) == 3


def test_import_refuses_what_is_not_opml(site: Lenta) -> None:
    ann = site.reader(site.add_user("ann", "correct horse battery"))
    with pytest.raises(OPMLError):
        ann.import_opml(b"<html><body>not a list of feeds</body></html>")
    assert ann.followed() == [] and ann.folders() == []
