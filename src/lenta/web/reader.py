"""The personal reader's pages (issue 11): a signed-in user's unread, all
and starred items, by feed and by folder, one item at a time, and their
subscriptions and folders.

Every page works without JavaScript: actions are forms that post and come
back (``back``, a local path). Each handler gets the user's
:class:`~lenta.reader.Reader`, whose storage names the user in every
statement, so another user's ids are simply not found (404).
"""

from __future__ import annotations

import functools
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.responses import Response

from lenta import i18n
from lenta import plurals
from lenta import rules as rule_logic
from lenta.core import Lenta
from lenta.exceptions import InvalidInputError
from lenta.exceptions import LentaError
from lenta.exceptions import NotFollowingError
from lenta.i18n import N_
from lenta.reader import VIEWS
from lenta.reader import Cursor
from lenta.reader import Navigation
from lenta.reader import Reader
from lenta.reader import ReaderPage
from lenta.storage._reader import View
from lenta.types import Folder
from lenta.types import Followed
from lenta.types import FollowedBrief
from lenta.types import Tag
from lenta.types import User
from lenta.user_settings import UserSettings
from lenta.web.params import path_id
from lenta.web.render import flash
from lenta.web.render import gettext_for
from lenta.web.render import render
from lenta.web.security import LoginRequired
from lenta.web.security import checked_form
from lenta.web.security import current_user
from lenta.web.security import safe_destination
from lenta.web.security import user_settings_of

READER = "/reader"
PER_PAGE = 30
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _lenta(request: Request) -> Lenta:
    lenta: Lenta = request.app.state.lenta
    return lenta


def _reader(request: Request) -> Reader:
    user: User | None = current_user(request)
    if user is None:
        raise LoginRequired(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return _lenta(request).reader(user)


def _error_text(request: Request, error: LentaError) -> str:
    return i18n.translate_error(error, request.state.language)


def cursor_param(cursor: Cursor) -> str:
    """A cursor as the ``after`` parameter: the item's date in microseconds since 1970, a dash, its id."""
    return f"{(cursor.date - _EPOCH) // timedelta(microseconds=1)}-{cursor.item_id}"


def _cursor(request: Request) -> Cursor | None:
    raw = request.query_params.get("after")
    if not raw:
        return None
    micros, _, item_id = raw.partition("-")
    try:
        # Bounded before arithmetic: a date Python cannot hold is no cursor of ours.
        if not item_id.isdigit() or len(item_id) > 18 or len(micros.lstrip("-")) > 17:
            raise ValueError(raw)
        return Cursor(_EPOCH + timedelta(microseconds=int(micros)), int(item_id))
    except (ValueError, OverflowError):
        raise InvalidInputError("Not a position in a list: {value}.", value=raw[:40]) from None


def _view(request: Request, default: View = "unread") -> View:
    raw = request.query_params.get("view", default)
    for view in VIEWS:
        if raw == view:
            return view
    raise InvalidInputError("No view {view}.", view=raw[:20])


def _nav(reader: Reader, navigation: Navigation | None = None) -> dict[str, Any]:
    """The navigation beside every reader page: folders (nested) and feeds,
    with unread counts summed from the subscriptions (no count query); one
    read, unless the page read it with its own."""
    navigation = navigation or reader.navigation()
    followed, folders = navigation.followed, navigation.folders
    children: dict[int | None, list[Folder]] = {}
    for folder in folders:
        children.setdefault(folder.parent_id, []).append(folder)
    by_folder: dict[int, list[FollowedBrief]] = {}
    for f in followed:
        for folder_id in f.folder_ids:
            by_folder.setdefault(folder_id, []).append(f)

    def unread_in(folder_id: int) -> int:
        seen: dict[int, int] = {}
        todo = [folder_id]
        while todo:
            current = todo.pop()
            for f in by_folder.get(current, ()):
                seen[f.id] = f.unread
            todo.extend(child.id for child in children.get(current, ()))
        return sum(seen.values())

    tree: list[tuple[int, Folder, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for folder in children.get(parent, ()):
            tree.append((depth, folder, unread_in(folder.id)))
            walk(folder.id, depth + 1)

    walk(None, 0)
    return {
        "followed": followed,
        # What the feeds' fragments show (lenta.web.fragments): ids, titles, counts.
        "feeds_key": tuple((f.id, f.title, f.unread) for f in followed),
        "folder_tree": tree,
        "folders": folders,
        "tags": navigation.tags,
        "unread_total": sum(f.unread for f in followed),
    }


def _page_links(request: Request, page: ReaderPage) -> dict[str, Any]:
    if page.next is None:
        return {"next_url": None}
    params = dict(request.query_params)
    params["after"] = cursor_param(page.next)
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return {"next_url": f"{request.url.path}?{query}"}


def _river(
    request: Request,
    *,
    view: View,
    title: str,
    subscription: Followed | None = None,
    folder: Folder | None = None,
    tag: Tag | None = None,
    reader: Reader | None = None,
    nav: dict[str, Any] | None = None,
) -> Response:
    reader = reader or _reader(request)
    own = user_settings_of(request) or UserSettings()
    oldest_first = request.query_params.get("order") == "oldest"
    page = reader.items(
        view,
        subscription_id=subscription.id if subscription else None,
        folder_id=folder.id if folder else None,
        tag_id=tag.id if tag else None,
        after=_cursor(request),
        per_page=own.per_page,
        oldest_first=oldest_first,
    )
    scope: dict[str, str] = {"view": view}
    if subscription is not None:
        scope["feed"] = str(subscription.id)
    if folder is not None:
        scope["folder"] = str(folder.id)
    if tag is not None:
        scope["tag"] = str(tag.id)
    if oldest_first:
        scope["order"] = "oldest"
    context = {
        "page": page,
        "view": view,
        "scope_query": urlencode(scope),
        "full_text": own.full_text,
        "read_on_scroll": own.read_on_scroll,
        "heading": title,
        "subscription": subscription,
        "folder": folder,
        "tag": tag,
        "oldest_first": oldest_first,
        "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "base": request.url.path,
        **(nav if nav is not None else _nav(reader)),
        **_page_links(request, page),
    }
    return render(request, "reader/river.html", context)


def unread(request: Request) -> Response:
    return _river(request, view="unread", title=gettext_for(request, "Unread"))


def everything(request: Request) -> Response:
    return _river(request, view="all", title=gettext_for(request, "All items"))


def starred(request: Request) -> Response:
    return _river(request, view="starred", title=gettext_for(request, "Starred"))


def feed(request: Request) -> Response:
    reader = _reader(request)
    subscription = reader.subscription(path_id(request, "subscription_id"))
    return _river(request, view=_view(request), title=subscription.title, subscription=subscription, reader=reader)


def folder(request: Request) -> Response:
    reader = _reader(request)
    folder_id = path_id(request, "folder_id")
    nav = _nav(reader)  # the user's folders are in it
    found = next((f for f in nav["folders"] if f.id == folder_id), None)
    if found is None:
        raise NotFollowingError(folder_id)
    return _river(request, view=_view(request), title=found.name, folder=found, reader=reader, nav=nav)


def tagged(request: Request) -> Response:
    reader = _reader(request)
    tag_id = path_id(request, "tag_id")
    nav = _nav(reader)  # the user's tags are in it
    found = next((t for t in nav["tags"] if t.id == tag_id), None)
    if found is None:
        raise NotFollowingError(tag_id)
    return _river(request, view=_view(request, "all"), title=found.name, tag=found, reader=reader, nav=nav)


def item(request: Request) -> Response:
    reader = _reader(request)
    found = reader.item(path_id(request, "item_id"))
    if not found.read:
        reader.mark_read([found.item.id])  # read on open, as in Miniflux and FreshRSS
    view = _view(request, "all")
    # The list it was opened from: next and previous walk that list.
    previous, following = reader.neighbors(
        found,
        view,
        subscription_id=_query_id(request, "feed"),
        folder_id=_query_id(request, "folder"),
        tag_id=_query_id(request, "tag"),
        oldest_first=request.query_params.get("order") == "oldest",
    )
    scope = {key: request.query_params[key] for key in ("view", "feed", "folder", "tag", "order") if key in request.query_params}
    return render(
        request,
        "reader/item.html",
        {
            "entry": found,
            "view": view,
            "scope_query": urlencode(scope),
            "previous": previous,
            "following": following,
            "item_tags": reader.tags_of(found.item.id),
            "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            **_nav(reader),
        },
    )


def _date_param(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw[:10])
    except ValueError:
        raise InvalidInputError("Not a date: {value}.", value=raw[:20]) from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _query_id(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise InvalidInputError("Not an id: {value}.", value=raw[:20])
    return int(raw)


def search(request: Request) -> Response:
    """Search the user's items: words, "phrases", prefix*; by view, feed,
    folder and dates (``since`` inclusive, ``until`` inclusive of its day)."""
    reader = _reader(request)
    text = request.query_params.get("q", "")
    view = _view(request, "all")
    until = _date_param(request, "until")
    page_number = _query_id(request, "page") or 0
    results = None
    if text.strip():
        results = reader.search(
            text,
            view,
            subscription_id=_query_id(request, "feed"),
            folder_id=_query_id(request, "folder"),
            tag_id=_query_id(request, "tag"),
            since=_date_param(request, "since"),
            until=until + timedelta(days=1) if until is not None else None,
            page=page_number,
            per_page=(user_settings_of(request) or UserSettings()).per_page,
        )
    params = {key: value for key, value in request.query_params.items() if key != "page"}
    more_url = None
    if results is not None and results.more:
        more_url = f"{READER}/search?" + urlencode({**params, "page": str(page_number + 1)})
    context = {
        "results": results,
        "q": text,
        "view": view,
        "params": params,
        "more_url": more_url,
        "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        **_nav(reader),
    }
    return render(request, "reader/search.html", context)


def _back(form: FormData, fallback: str = READER) -> str:
    back = form.get("back")
    return safe_destination(back) if isinstance(back, str) and back.startswith(READER) else fallback


async def mark(request: Request) -> Response:
    reader = _reader(request)
    item_id = path_id(request, "item_id")
    form = await checked_form(request)
    action = str(form.get("action", ""))
    if action == "read":
        await run_in_threadpool(reader.mark_read, [item_id])
    elif action == "unread":
        await run_in_threadpool(reader.mark_unread, [item_id])
    elif action in ("star", "unstar"):
        await run_in_threadpool(reader.star, item_id, action == "star")
    else:
        raise InvalidInputError("No action {action}.", action=action[:20])
    if request.headers.get("x-requested-with") == "fetch":  # the page's script: no reload
        return Response(status_code=204)
    return RedirectResponse(_back(form), status_code=303)


def _optional_id(form: FormData, name: str) -> int | None:
    raw = str(form.get(name, "")).strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise InvalidInputError("Not an id: {value}.", value=raw[:20])
    return int(raw)


async def mark_all_read(request: Request) -> Response:
    reader = _reader(request)
    form = await checked_form(request)
    through = _optional_id(form, "through")
    if through is None:
        raise InvalidInputError("Not an id: {value}.", value="")
    await run_in_threadpool(
        reader.mark_all_read,
        through=through,
        subscription_id=_optional_id(form, "subscription_id"),
        folder_id=_optional_id(form, "folder_id"),
        tag_id=_optional_id(form, "tag_id"),
    )
    flash(request, gettext_for(request, "Marked as read."))
    return RedirectResponse(_back(form), status_code=303)


# -- subscriptions and folders ---------------------------------------------------

SUBSCRIPTIONS = f"{READER}/subscriptions"


SUBSCRIPTIONS_PER_PAGE = 100  # a form each, with a box per folder: a page of a thousand is megabytes


def _subscriptions_page(request: Request, reader: Reader) -> dict[str, Any]:
    """The page's subscriptions, and the navigation (read with them)."""
    page = _query_id(request, "page") or 0
    start = page * SUBSCRIPTIONS_PER_PAGE
    navigation, shown = reader.subscriptions_page(start, SUBSCRIPTIONS_PER_PAGE)
    return {
        "subscriptions": shown,
        "subscriptions_page": page,
        "subscriptions_more": len(navigation.followed) > start + SUBSCRIPTIONS_PER_PAGE,
        **_nav(reader, navigation),
    }


def subscriptions(request: Request) -> Response:
    reader = _reader(request)
    context = {"error": None, "url": "", **_subscriptions_page(request, reader)}
    return render(request, "reader/subscriptions.html", context)


async def follow(request: Request) -> Response:
    reader = _reader(request)
    form = await checked_form(request)
    url = str(form.get("url", "")).strip()
    folder_id = _optional_id(form, "folder_id")
    try:
        followed = await reader.follow(url, folder_ids=[folder_id] if folder_id is not None else [])
    except LentaError as error:
        context = {"error": _error_text(request, error), "url": url, **_subscriptions_page(request, reader)}
        return render(request, "reader/subscriptions.html", context, status_code=400)
    flash(request, gettext_for(request, "You now follow {title}.", title=followed.title))
    return RedirectResponse(f"{READER}/feeds/{followed.id}", status_code=303)


async def change_subscription(request: Request) -> Response:
    reader = _reader(request)
    subscription_id = path_id(request, "subscription_id")
    form = await checked_form(request)
    title = str(form.get("title", "")).strip() or None
    folder_ids = [int(value) for value in form.getlist("folder_id") if isinstance(value, str) and value.isdigit()]
    await run_in_threadpool(reader.rename, subscription_id, title)
    await run_in_threadpool(reader.file, subscription_id, folder_ids)
    flash(request, gettext_for(request, "Saved."))
    return RedirectResponse(SUBSCRIPTIONS, status_code=303)


async def unfollow(request: Request) -> Response:
    reader = _reader(request)
    subscription_id = path_id(request, "subscription_id")
    await checked_form(request)
    title = reader.subscription(subscription_id).title
    await run_in_threadpool(reader.unfollow, subscription_id)
    flash(request, gettext_for(request, "You no longer follow {title}.", title=title))
    return RedirectResponse(SUBSCRIPTIONS, status_code=303)


async def add_folder(request: Request) -> Response:
    reader = _reader(request)
    form = await checked_form(request)
    try:
        await run_in_threadpool(reader.add_folder, str(form.get("name", "")), _optional_id(form, "parent_id"))
    except InvalidInputError as error:
        flash(request, _error_text(request, error), "error")
    return RedirectResponse(SUBSCRIPTIONS, status_code=303)


async def change_folder(request: Request) -> Response:
    reader = _reader(request)
    folder_id = path_id(request, "folder_id")
    form = await checked_form(request)
    try:
        await run_in_threadpool(reader.change_folder, folder_id, str(form.get("name", "")), _optional_id(form, "parent_id"))
    except InvalidInputError as error:
        flash(request, _error_text(request, error), "error")
    return RedirectResponse(SUBSCRIPTIONS, status_code=303)


async def delete_folder(request: Request) -> Response:
    reader = _reader(request)
    folder_id = path_id(request, "folder_id")
    await checked_form(request)
    await run_in_threadpool(reader.delete_folder, folder_id)
    return RedirectResponse(SUBSCRIPTIONS, status_code=303)


# -- tags ---------------------------------------------------------------------------


async def tag_item(request: Request) -> Response:
    """Put a tag on an item by name (made if new), or take one off (``remove``: its id)."""
    reader = _reader(request)
    item_id = path_id(request, "item_id")
    form = await checked_form(request)
    removed = _optional_id(form, "remove")
    try:
        if removed is not None:
            await run_in_threadpool(reader.tag_item, item_id, removed, False)
        else:
            tag = await run_in_threadpool(reader.add_tag, str(form.get("name", "")))
            await run_in_threadpool(reader.tag_item, item_id, tag.id)
    except InvalidInputError as error:
        flash(request, _error_text(request, error), "error")
    return RedirectResponse(_back(form, f"{READER}/items/{item_id}"), status_code=303)


async def change_tag(request: Request) -> Response:
    reader = _reader(request)
    tag_id = path_id(request, "tag_id")
    form = await checked_form(request)
    try:
        await run_in_threadpool(reader.rename_tag, tag_id, str(form.get("name", "")))
    except InvalidInputError as error:
        flash(request, _error_text(request, error), "error")
    return RedirectResponse(f"{READER}/tags/{tag_id}", status_code=303)


async def delete_tag(request: Request) -> Response:
    reader = _reader(request)
    tag_id = path_id(request, "tag_id")
    await checked_form(request)
    await run_in_threadpool(reader.delete_tag, tag_id)
    return RedirectResponse(READER, status_code=303)


# -- rules --------------------------------------------------------------------------

RULES = f"{READER}/rules"


def rules_page(request: Request, error: str | None = None, values: dict[str, str] | None = None, status: int = 200) -> Response:
    reader = _reader(request)
    context = {
        "rules": reader.rules(),
        "error": error,
        "values": values or {"field": "title", "match": "words", "action": "read"},
        "fields": rule_logic.FIELDS,
        "matches": rule_logic.MATCHES,
        "actions": rule_logic.ACTIONS,
        "labels": rule_logic.LABELS,
        **_nav(reader),
    }
    return render(request, "reader/rules.html", context, status_code=status)


def rules_list(request: Request) -> Response:
    return rules_page(request)


async def add_rule(request: Request) -> Response:
    reader = _reader(request)
    form = await checked_form(request)
    values = {name: str(form.get(name, "")) for name in ("name", "field", "match", "pattern", "action", "scope", "tag", "url")}
    scope = values["scope"]
    subscription_id = int(scope[1:]) if scope[:1] == "s" and scope[1:].isdigit() and len(scope) < 19 else None
    folder_id = int(scope[1:]) if scope[:1] == "f" and scope[1:].isdigit() and len(scope) < 19 else None
    try:
        rule = await run_in_threadpool(
            functools.partial(
                reader.save_rule,
                name=values["name"],
                field=values["field"],
                match=values["match"],
                pattern=values["pattern"],
                action=values["action"],
                subscription_id=subscription_id,
                folder_id=folder_id,
                tag=values["tag"] or None,
                webhook_url=values["url"] or None,
            )
        )
    except InvalidInputError as error:
        return rules_page(request, _error_text(request, error), values, status=400)
    return RedirectResponse(f"{RULES}/{rule.id}", status_code=303)


def rule_page(request: Request) -> Response:
    """A rule: what it would do to the items already there (a preview), its webhook calls."""
    reader = _reader(request)
    rule = reader.rule(path_id(request, "rule_id"))
    context = {
        "rule": rule,
        "labels": rule_logic.LABELS,
        "states": {"pending": N_("to be tried again"), "delivered": N_("delivered"), "failed": N_("given up")},
        "preview": reader.preview_rule(rule.id),
        "deliveries": reader.rule_deliveries(rule.id) if rule.action == "notify" else [],
        "secret": reader.rule_secret(rule.id) if rule.action == "notify" else None,
        **_nav(reader),
    }
    return render(request, "reader/rule.html", context)


async def run_rule(request: Request) -> Response:
    reader = _reader(request)
    rule_id = path_id(request, "rule_id")
    await checked_form(request)
    done = await run_in_threadpool(reader.run_rule, rule_id)
    flash(request, plurals.rule_applied(i18n.translations(request.state.language), sum(1 for e in done if e.changed)))
    return RedirectResponse(f"{RULES}/{rule_id}", status_code=303)


async def delete_rule(request: Request) -> Response:
    reader = _reader(request)
    rule_id = path_id(request, "rule_id")
    await checked_form(request)
    await run_in_threadpool(reader.delete_rule, rule_id)
    return RedirectResponse(RULES, status_code=303)


# -- OPML -----------------------------------------------------------------------------

MAX_OPML_BYTES = 8 * 1024 * 1024  # a reader's subscription list; the body limit refuses more first


def export_opml(request: Request) -> Response:
    reader = _reader(request)
    body = reader.export_opml()
    return Response(
        body,
        media_type="text/x-opml; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="subscriptions.opml"'},
    )


async def import_opml(request: Request) -> Response:
    reader = _reader(request)
    form = await checked_form(request)
    upload = form.get("file")
    data = await upload.read(MAX_OPML_BYTES + 1) if upload is not None and not isinstance(upload, str) else b""
    try:
        if not data:
            raise InvalidInputError("Choose an OPML file to import.")
        if len(data) > MAX_OPML_BYTES:
            raise InvalidInputError("An OPML file can be at most {n} MB.", n=MAX_OPML_BYTES // (1024 * 1024))
        done = await run_in_threadpool(reader.import_opml, data)
    except LentaError as error:
        flash(request, _error_text(request, error), "error")
        return RedirectResponse(SUBSCRIPTIONS, status_code=303)
    flash(
        request,
        plurals.reader_import(
            i18n.translations(request.state.language), added=done.added, already=done.already, skipped=done.skipped
        ),
    )
    return RedirectResponse(SUBSCRIPTIONS, status_code=303)
