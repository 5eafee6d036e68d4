"""The public aggregator pages, at Drupal's paths.

/aggregator                      all items, newest first, 20 a page
/aggregator/sources              each feed with its latest items
/aggregator/sources/{id}         one feed and its items
/aggregator/categories           every category with its latest items
/aggregator/categories/{id}      the items of one category's feeds
/aggregator/rss                  RSS 2.0 of the latest items
/aggregator/opml                 OPML of every feed
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from email.utils import format_datetime
from typing import Any
from typing import TypeVar

from lxml import etree
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.responses import Response

from lenta.core import Lenta
from lenta.exceptions import FeedNotFoundError
from lenta.links import safe_url
from lenta.site_settings import ITEMS_PER_PAGE
from lenta.types import Item
from lenta.types import Page
from lenta.web.params import page_number
from lenta.web.params import path_id
from lenta.web.render import render
from lenta.web.river import cap_per_feed
from lenta.web.security import site_settings_of

RSS_ITEMS = 20
# Feeds a page of /aggregator/sources shows, categories a page of
# /aggregator/categories, each with its latest items: a site of 2,000 feeds
# cannot render every one of them fast (Drupal 7 shows them all).
SOURCES_PER_PAGE = 20
CATEGORIES_PER_PAGE = 20

T = TypeVar("T")


def _lenta(request: Request) -> Lenta:
    lenta: Lenta = request.app.state.lenta
    return lenta


def _paged(request: Request, listing: Callable[[int], Page[T]]) -> Page[T]:
    """The ``?page=N`` of a listing; a page past the end is the last page,
    as Drupal 7's pager has it (its pager already marks the last as current)."""
    page = listing(page_number(request))
    if page.page >= page.page_count:
        page = listing(page.page_count - 1)
    return page


def _items_page(request: Request, *, feed_id: int | None = None, category_id: int | None = None) -> Page[Item]:
    lenta = _lenta(request)
    return _paged(request, lambda n: lenta.items_page(n, ITEMS_PER_PAGE, feed_id=feed_id, category_id=category_id))


def _icons(request: Request, feed_ids: Iterable[int]) -> dict[int, str]:
    """The icons of the feeds a page shows (templates: ``feed_icon``)."""
    return _lenta(request).icon_versions(feed_ids)


def home(request: Request) -> Response:
    return RedirectResponse("/aggregator", status_code=302)


def aggregator(request: Request) -> Response:
    page = _items_page(request)
    icons = _icons(request, {it.feed_id for it in page.items})
    entries = cap_per_feed(page.items, site_settings_of(request).river_feed_items)
    return render(
        request,
        "aggregator/items.html",
        {"page": page, "entries": entries, "title_key": "Feed aggregator", "feed": None, "icons": icons},
    )


def sources(request: Request) -> Response:
    lenta = _lenta(request)
    page = _paged(request, lambda n: lenta.sources_page(n, SOURCES_PER_PAGE))
    per_source = site_settings_of(request).source_items
    latest = lenta.latest_items_per_feed([f.id for f in page.items], per_source)
    icons = _icons(request, [f.id for f in page.items])
    return render(request, "aggregator/sources.html", {"page": page, "latest": latest, "icons": icons})


def source(request: Request) -> Response:
    lenta = _lenta(request)
    feed = lenta.get_feed(path_id(request, "feed_id"))
    if not feed.published:  # a feed only readers follow is not the site's to show
        raise FeedNotFoundError(feed.id)
    page = _items_page(request, feed_id=feed.id)
    return render(request, "aggregator/source.html", {"feed": feed, "page": page, "icons": _icons(request, [feed.id])})


def categories(request: Request) -> Response:
    lenta = _lenta(request)
    page = _paged(request, lambda n: lenta.categories_page(n, CATEGORIES_PER_PAGE))
    per_source = site_settings_of(request).source_items
    latest = lenta.latest_items_per_category([c.id for c in page.items], per_source)
    icons = _icons(request, {it.feed_id for items in latest.values() for it in items})
    return render(request, "aggregator/categories.html", {"page": page, "latest": latest, "icons": icons})


def category(request: Request) -> Response:
    lenta = _lenta(request)
    found = lenta.get_category(path_id(request, "category_id"))
    page = _items_page(request, category_id=found.id)
    icons = _icons(request, {it.feed_id for it in page.items})
    entries = cap_per_feed(page.items, site_settings_of(request).river_feed_items)
    return render(request, "aggregator/category.html", {"category": found, "page": page, "entries": entries, "icons": icons})


def _base_url(request: Request) -> str:
    configured: str = request.app.state.settings.base_url
    return configured.rstrip("/") if configured else str(request.base_url).rstrip("/")


def rss(request: Request) -> Response:
    """RSS 2.0 of the site's latest items (Drupal's /aggregator/rss)."""
    lenta = _lenta(request)
    site = site_settings_of(request)
    base = _base_url(request)
    root = etree.Element("rss", version="2.0")
    channel = etree.SubElement(root, "channel")
    _text(channel, "title", f"{site.site_name} aggregator")
    _text(channel, "link", f"{base}/aggregator")
    _text(channel, "description", f"{site.site_name} aggregator")
    _text(channel, "generator", "lenta")
    for item in lenta.latest_items(RSS_ITEMS):
        entry = etree.SubElement(channel, "item")
        _text(entry, "title", item.title or "")
        link = safe_url(item.link)  # feeds carry javascript: and worse; readers of ours must not get them
        if link:
            _text(entry, "link", link)
        _text(entry, "description", item.content or item.summary or "")
        _text(entry, "pubDate", format_datetime(item.date, usegmt=True))
        _text(entry, "source", item.feed_title).set("url", f"{base}/aggregator/sources/{item.feed_id}")
        guid = _text(entry, "guid", f"{base}/aggregator#item-{item.id}")
        guid.set("isPermaLink", "false")
        for enclosure in item.enclosures:
            url = safe_url(enclosure.url)
            if not url:
                continue
            attrs: dict[str, Any] = {
                "url": _xml_safe(url),
                "type": _xml_safe(enclosure.mime_type or "application/octet-stream"),
                "length": str(enclosure.length or 0),
            }
            etree.SubElement(entry, "enclosure", attrs)
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return Response(body, media_type="application/rss+xml; charset=utf-8")


def _text(parent: etree._Element, tag: str, value: str) -> etree._Element:
    element = etree.SubElement(parent, tag)
    element.text = _xml_safe(value)
    return element


def _xml_safe(value: str) -> str:
    """Drop characters XML 1.0 cannot carry (controls, surrogates, U+FFFE/U+FFFF)."""
    return "".join(ch for ch in value if _xml_char(ord(ch))) if value else value


def _xml_char(code: int) -> bool:
    if code < 0x20:
        return code in (0x9, 0xA, 0xD)
    return not (0xD800 <= code <= 0xDFFF or code in (0xFFFE, 0xFFFF))


def opml(request: Request) -> Response:
    body = _lenta(request).export_opml()
    return Response(
        body, media_type="text/x-opml; charset=utf-8", headers={"Content-Disposition": 'inline; filename="aggregator.opml"'}
    )
