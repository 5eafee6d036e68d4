"""Saved views as feeds (issue 11): the owner's page and the public ones.

/reader/views                     the signed-in reader's views: save a search,
                                  a folder or a tag; rename, publish, revoke, delete
/views/{token}                    a published view, 20 items a page, Drupal's pager
/views/{token}.rss                RSS 2.0 of its newest items
/views/{token}.atom               Atom 1.0
/views/{token}.json               JSON Feed 1.1

The owner's handlers go through :class:`lenta.saved_views.SavedViews`,
whose storage names the user in every statement: another user's view ids
are not found (404). A token nobody holds, a revoked one and a deleted
view's all answer 404 alike. Every link an item carries out passes
:func:`lenta.links.safe_url`, as in the site's own RSS; the items' HTML
was sanitized when it was stored. The public answers ask search engines
not to index them and browsers to send no Referer (the address is the
secret).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from lxml import etree
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.responses import Response

from lenta import i18n
from lenta.core import Lenta
from lenta.exceptions import InvalidInputError
from lenta.links import safe_url
from lenta.saved_views import FEED_ITEMS
from lenta.saved_views import PER_PAGE
from lenta.saved_views import TOKEN
from lenta.saved_views import PublishedView
from lenta.saved_views import SavedView
from lenta.saved_views import SavedViews
from lenta.types import Item
from lenta.types import User
from lenta.web.params import page_number
from lenta.web.params import parse_id
from lenta.web.params import path_id
from lenta.web.public import _base_url
from lenta.web.public import _text
from lenta.web.public import _xml_safe
from lenta.web.reader import _nav
from lenta.web.render import flash
from lenta.web.render import gettext_for
from lenta.web.render import render
from lenta.web.security import LoginRequired
from lenta.web.security import checked_form
from lenta.web.security import current_user

VIEWS = "/reader/views"
PUBLIC = "/views"
ATOM_NS = "http://www.w3.org/2005/Atom"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
# The address is the secret: not to be indexed, nor sent on to the sites its items link to.
PUBLIC_HEADERS = {"X-Robots-Tag": "noindex, nofollow", "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"}


def _lenta(request: Request) -> Lenta:
    lenta: Lenta = request.app.state.lenta
    return lenta


def _user(request: Request) -> User:
    user: User | None = current_user(request)
    if user is None:
        raise LoginRequired(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return user


def _saved(request: Request) -> SavedViews:
    return _lenta(request).saved_views(_user(request))


def addresses(base: str, token: str) -> dict[str, str]:
    """A published view's page and feeds."""
    page = f"{base}{PUBLIC}/{token}"
    return {"page": page, "rss": f"{page}.rss", "atom": f"{page}.atom", "json": f"{page}.json"}


# -- the owner's page --------------------------------------------------------------


def manage(request: Request) -> Response:
    """The reader's saved views, and forms to save more (``?q=…&folder=…``
    fill in the search form: the search page's "save this search")."""
    user = _user(request)
    saved = _lenta(request).saved_views(user)
    base = _base_url(request)
    folder_names = {f.id: f.name for f in saved.folders()}
    tags = saved.tags()
    tag_names = {t.id: t.name for t in tags}
    entries = [
        {
            "view": view,
            "urls": addresses(base, view.token) if view.token else None,
            "what": _what(request, view, folder_names, tag_names),
        }
        for view in saved.list()
    ]
    context = {
        "entries": entries,
        "tags": tags,
        "q": request.query_params.get("q", "")[:500],
        "chosen_folder": parse_id(request.query_params.get("folder")),
        **_nav(_lenta(request).reader(user)),
    }
    return render(request, "views/manage.html", context)


def _what(request: Request, view: SavedView, folder_names: dict[int, str], tag_names: dict[int, str]) -> str:
    """What a view is of, in the page's language."""
    if view.kind == "folder":
        return gettext_for(request, "Folder {name}", name=folder_names.get(view.folder_id or 0, "?"))
    if view.kind == "tag":
        return gettext_for(request, "Tag {name}", name=tag_names.get(view.tag_id or 0, "?"))
    if view.folder_id is not None:
        return gettext_for(
            request, "Search for {query} in {folder}", query=view.query or "", folder=folder_names.get(view.folder_id, "?")
        )
    return gettext_for(request, "Search for {query}", query=view.query or "")


def _form_id(form: FormData, name: str) -> int | None:
    raw = str(form.get(name, "")).strip()
    if not raw:
        return None
    number = parse_id(raw)
    if number is None:
        raise InvalidInputError("Not an id: {value}.", value=raw[:20])
    return number


async def save(request: Request) -> Response:
    saved = _saved(request)
    form = await checked_form(request)
    kind = str(form.get("kind", ""))
    name = str(form.get("name", "")).strip() or None
    try:
        if kind == "search":
            view = await run_in_threadpool(
                saved.save_search, str(form.get("q", "")), name=name, folder_id=_form_id(form, "folder_id")
            )
        elif kind == "folder":
            folder_id = _form_id(form, "folder_id")
            if folder_id is None:
                raise InvalidInputError("Choose a folder.")
            view = await run_in_threadpool(saved.save_folder, folder_id, name=name)
        elif kind == "tag":
            tag_id = _form_id(form, "tag_id")
            if tag_id is None:
                raise InvalidInputError("Choose a tag.")
            view = await run_in_threadpool(saved.save_tag, tag_id, name=name)
        else:
            raise InvalidInputError("No kind of view {kind}.", kind=kind[:20])
    except InvalidInputError as error:
        flash(request, i18n.translate_error(error, request.state.language), "error")
        return RedirectResponse(VIEWS, status_code=303)
    flash(request, gettext_for(request, "Saved the view {name}.", name=view.name))
    return RedirectResponse(VIEWS, status_code=303)


async def rename(request: Request) -> Response:
    saved = _saved(request)
    view_id = path_id(request, "view_id")
    form = await checked_form(request)
    try:
        await run_in_threadpool(saved.rename, view_id, str(form.get("name", "")))
    except InvalidInputError as error:
        saved.get(view_id)  # another user's view: 404, not their error
        flash(request, i18n.translate_error(error, request.state.language), "error")
        return RedirectResponse(VIEWS, status_code=303)
    flash(request, gettext_for(request, "Saved."))
    return RedirectResponse(VIEWS, status_code=303)


async def publish(request: Request) -> Response:
    saved = _saved(request)
    view_id = path_id(request, "view_id")
    await checked_form(request)
    view = await run_in_threadpool(saved.publish, view_id)
    flash(request, gettext_for(request, "The view {name} is published at a new address.", name=view.name))
    return RedirectResponse(VIEWS, status_code=303)


async def revoke(request: Request) -> Response:
    saved = _saved(request)
    view_id = path_id(request, "view_id")
    await checked_form(request)
    view = await run_in_threadpool(saved.revoke, view_id)
    flash(request, gettext_for(request, "The view {name} is no longer published.", name=view.name))
    return RedirectResponse(VIEWS, status_code=303)


async def delete(request: Request) -> Response:
    saved = _saved(request)
    view_id = path_id(request, "view_id")
    await checked_form(request)
    name = saved.get(view_id).name
    await run_in_threadpool(saved.delete, view_id)
    flash(request, gettext_for(request, "Deleted the view {name}.", name=name))
    return RedirectResponse(VIEWS, status_code=303)


# -- the public side -----------------------------------------------------------------


def _published(request: Request) -> PublishedView:
    token = request.path_params.get("token", "")
    if not isinstance(token, str) or not TOKEN.fullmatch(token):
        raise HTTPException(status_code=404)
    return _lenta(request).published_view(token)  # NotFollowingError: a 404


def page(request: Request) -> Response:
    """A published view, newest first, with Drupal's full pager (``?page=N``;
    a page past the end is the last one, as on the aggregator's pages)."""
    shown = _published(request)
    found = shown.page(page_number(request), PER_PAGE)
    if found.page >= found.page_count:
        found = shown.page(found.page_count - 1, PER_PAGE)
    context = {
        "name": shown.name,
        "page": found,
        "path": f"{PUBLIC}/{shown.token}",
        "urls": addresses("", shown.token),
    }
    response = render(request, "views/public.html", context)
    response.headers.update(PUBLIC_HEADERS)
    return response


def _feed_response(body: bytes, media_type: str) -> Response:
    return Response(body, media_type=media_type, headers=PUBLIC_HEADERS)


def _guid(base: str, item: Item) -> str:
    """An item's identity in lenta's feeds (as in /aggregator/rss): the same
    in every view and on the site."""
    return f"{base}/aggregator#item-{item.id}"


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def rss(request: Request) -> Response:
    """RSS 2.0 of a published view's newest items."""
    shown = _published(request)
    base = _base_url(request)
    urls = addresses(base, shown.token)
    root = etree.Element("rss", version="2.0", nsmap={"atom": ATOM_NS})
    channel = etree.SubElement(root, "channel")
    _text(channel, "title", shown.name)
    _text(channel, "link", urls["page"])
    _text(channel, "description", shown.name)
    etree.SubElement(channel, f"{{{ATOM_NS}}}link", rel="self", type="application/rss+xml", href=_xml_safe(urls["rss"]))
    _text(channel, "generator", "lenta")
    for item in shown.latest(FEED_ITEMS):
        entry = etree.SubElement(channel, "item")
        _text(entry, "title", item.title or "")
        link = safe_url(item.link)
        if link:
            _text(entry, "link", link)
        _text(entry, "description", item.content or item.summary or "")
        _text(entry, "pubDate", format_datetime(item.date, usegmt=True))
        _text(entry, "guid", _guid(base, item)).set("isPermaLink", "false")
        for url, mime_type, length in _enclosures(item):
            etree.SubElement(entry, "enclosure", {"url": url, "type": mime_type, "length": str(length)})
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return _feed_response(body, "application/rss+xml; charset=utf-8")


def atom(request: Request) -> Response:
    """Atom 1.0 of a published view's newest items."""
    shown = _published(request)
    base = _base_url(request)
    urls = addresses(base, shown.token)
    latest = shown.latest(FEED_ITEMS)
    default_namespace: Any = {None: ATOM_NS}  # lxml takes None for the default namespace; its stubs want str keys
    root = etree.Element(f"{{{ATOM_NS}}}feed", nsmap=default_namespace)

    def add(parent: etree._Element, tag: str, value: str, **attributes: str) -> etree._Element:
        element = _text(parent, f"{{{ATOM_NS}}}{tag}", value)
        for name, attribute in attributes.items():
            element.set(name, attribute)
        return element

    def link(parent: etree._Element, **attributes: str) -> None:
        etree.SubElement(parent, f"{{{ATOM_NS}}}link", {name: _xml_safe(value) for name, value in attributes.items()})

    add(root, "title", shown.name)
    add(root, "id", urls["page"])
    add(root, "updated", _rfc3339(max((item.updated_at or item.date for item in latest), default=_lenta(request).clock())))
    link(root, rel="self", type="application/atom+xml", href=urls["atom"])
    link(root, rel="alternate", type="text/html", href=urls["page"])
    add(root, "generator", "lenta")
    for item in latest:
        entry = etree.SubElement(root, f"{{{ATOM_NS}}}entry")
        add(entry, "title", item.title or "", type="text")
        add(entry, "id", _guid(base, item))
        add(entry, "updated", _rfc3339(item.updated_at or item.date))
        if item.published_at is not None:
            add(entry, "published", _rfc3339(item.published_at))
        author = etree.SubElement(entry, f"{{{ATOM_NS}}}author")  # every entry has one: the feed needs none
        add(author, "name", item.author or item.feed_title)
        target = safe_url(item.link)
        if target:
            link(entry, rel="alternate", type="text/html", href=target)
        for url, mime_type, length in _enclosures(item):
            link(entry, rel="enclosure", href=url, type=mime_type, length=str(length))
        if item.content and item.summary:
            add(entry, "summary", item.summary, type="html")
        add(entry, "content", item.content or item.summary or "", type="html")
        source = etree.SubElement(entry, f"{{{ATOM_NS}}}source")
        add(source, "title", item.feed_title)
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return _feed_response(body, "application/atom+xml; charset=utf-8")


def json_feed(request: Request) -> Response:
    """JSON Feed 1.1 of a published view's newest items."""
    shown = _published(request)
    base = _base_url(request)
    urls = addresses(base, shown.token)
    entries: list[dict[str, Any]] = []
    for item in shown.latest(FEED_ITEMS):
        entry: dict[str, Any] = {"id": _guid(base, item), "title": _xml_safe(item.title or "")}
        link = safe_url(item.link)
        if link:
            entry["url"] = link
        entry["content_html"] = _xml_safe(item.content or item.summary or "")
        entry["date_published"] = _rfc3339(item.published_at or item.date)
        if item.updated_at is not None:
            entry["date_modified"] = _rfc3339(item.updated_at)
        entry["authors"] = [{"name": _xml_safe(item.author or item.feed_title)}]
        attachments = [
            {"url": url, "mime_type": mime_type, **({"size_in_bytes": length} if length else {})}
            for url, mime_type, length in _enclosures(item)
        ]
        if attachments:
            entry["attachments"] = attachments
        entries.append(entry)
    document = {
        "version": JSON_FEED_VERSION,
        "title": _xml_safe(shown.name),
        "home_page_url": urls["page"],
        "feed_url": urls["json"],
        "items": entries,
    }
    # ASCII with escapes: no byte of it depends on an encoding a reader might guess wrong.
    body = json.dumps(document, ensure_ascii=True, indent=1).encode("ascii")
    return _feed_response(body, "application/feed+json; charset=utf-8")


def _enclosures(item: Item) -> Iterable[tuple[str, str, int]]:
    """(url, type, length) of an item's enclosures whose URLs lenta may publish."""
    for enclosure in item.enclosures:
        url = safe_url(enclosure.url)
        if url:
            yield _xml_safe(url), _xml_safe(enclosure.mime_type or "application/octet-stream"), max(0, enclosure.length or 0)
