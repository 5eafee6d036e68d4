"""The Miniflux REST API v1 at ``/v1/`` (issue 12), over the reader.

An edge like the web pages: each handler reads its request, calls the
user's :class:`~lenta.reader.Reader`, and answers in Miniflux's shapes
(docs/sync-apis.md, section 1, has the reference and section 2 the
mapping). Ids are the user's: a feed is a subscription, a category is a
folder (its id plus one; 1 is "All", the subscriptions in no folder), an
entry is an item of a followed feed. Auth: an API key in ``X-Auth-Token``,
else HTTP Basic with an app password (or the account's password when no
second factor guards it). Every error is ``{"error_message": …}``.

Deviations, on purpose: deleting a category keeps its feeds (Miniflux
deletes them); a feed's URL cannot be changed (the feed is shared); an
entry list's ``total`` is counted up to 100,000; ``search`` uses lenta's
search (words in any form) and ``order`` falls back to ``published_at``
for columns lenta does not have.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.responses import Response
from starlette.routing import Route

from lenta import __version__
from lenta.api import basic_credentials
from lenta.api import openapi
from lenta.core import Lenta
from lenta.exceptions import AlreadyFollowingError
from lenta.exceptions import LentaError
from lenta.exceptions import LoginThrottledError
from lenta.exceptions import NotFollowingError
from lenta.i18n import translate_error
from lenta.reader import Reader
from lenta.storage._reader import SyncQuery
from lenta.types import Folder
from lenta.types import Followed
from lenta.types import ReaderItem
from lenta.types import User

ALL_CATEGORY = 1  # the subscriptions in no folder
MAX_LIMIT = 1000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ORDERS = ("id", "status", "changed_at", "published_at", "created_at", "category_title", "category_id", "title", "author")
Handler = Callable[[Request, Reader], Awaitable[Response]]


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error(status: int, message: str) -> Response:
    # "application/json" exactly: the Python client compares the header with ==.
    return Response(json.dumps({"error_message": message}), status_code=status, media_type="application/json")


def _json(value: object, status: int = 200) -> Response:
    return JSONResponse(value, status_code=status)


# -- auth -------------------------------------------------------------------------------


def _lenta(request: Request) -> Lenta:
    lenta: Lenta = request.app.state.lenta
    return lenta


def authenticate(request: Request) -> User:
    """The user an API request is for (X-Auth-Token first, then Basic). Raises ApiError(401)."""
    lenta = _lenta(request)
    token = request.headers.get("x-auth-token", "")
    if token:
        user = lenta.user_by_secret(token, ("api_key",))
        if user is None:
            raise ApiError(401, "access unauthorized")
        return user
    credentials = basic_credentials(request)
    if credentials is None:
        raise ApiError(401, "access unauthorized")
    name, password = credentials
    address = request.client.host if request.client else None
    try:
        user = lenta.api_sign_in(name, password, address=address)
    except LoginThrottledError:
        raise ApiError(429, "too many failed sign-in attempts") from None
    if user is None:
        raise ApiError(401, "access unauthorized")
    return user


def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Auth, the user's reader, and Miniflux's error bodies around a handler."""

    async def run(request: Request) -> Response:
        try:
            user = await run_in_threadpool(authenticate, request)
            response = await handler(request, _lenta(request).reader(user))
        except ApiError as problem:
            response = error(problem.status, problem.message)
        except NotFollowingError:
            response = error(404, "resource not found")
        except AlreadyFollowingError:
            response = error(400, "This feed already exists.")
        except LentaError as problem:
            response = error(400, translate_error(problem, "en"))
        if response.status_code == 401:
            response.headers["WWW-Authenticate"] = 'Basic realm="Restricted"'
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response

    return run


async def preflight(request: Request) -> Response:
    return Response(
        status_code=204,
        headers={
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, OPTIONS",
            "Access-Control-Allow-Headers": "X-Auth-Token, Authorization, Content-Type, Accept",
            "Access-Control-Max-Age": "3600",
        },
    )


# -- request parts ----------------------------------------------------------------------


async def body(request: Request) -> dict[str, Any]:
    """The JSON body, whatever Content-Type the client claims."""
    raw = await request.body()
    if not raw.strip():
        raise ApiError(400, "EOF")
    try:
        value = json.loads(raw)
    except ValueError as problem:
        raise ApiError(400, f"invalid JSON: {problem}") from None
    if not isinstance(value, dict):
        raise ApiError(400, "the request body must be a JSON object")
    return value


MAX_ID = 2**63 - 1  # a database integer: larger numbers are no id (and would overflow a query)


def path_int(request: Request, name: str, what: str) -> int:
    raw = str(request.path_params.get(name, ""))
    if not raw.isdigit() or len(raw) > 19 or not 0 < int(raw) <= MAX_ID:
        raise ApiError(400, f"invalid {what} ID")
    return int(raw)


def query_int(request: Request, name: str, default: int | None = None) -> int | None:
    raw = request.query_params.get(name, "")
    if raw.isdigit() and len(raw) <= 19 and int(raw) <= MAX_ID:
        return int(raw)
    return default  # missing, unparsable, negative or out of range: the default, as Miniflux


def query_bool(request: Request, name: str) -> bool | None:
    raw = request.query_params.get(name, "")
    if raw in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if raw in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    return None


def _moment(value: datetime | None) -> str:
    if value is None:
        return "0001-01-01T00:00:00Z"
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _from_unix(seconds: int | None) -> datetime | None:
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(min(seconds, 253402300799), UTC)
    except (OverflowError, OSError, ValueError):
        return None


# -- shapes -------------------------------------------------------------------------------


def category_id(followed: Followed) -> int:
    """A subscription's category: its folder of the lowest id, else All."""
    return min(followed.folder_ids) + 1 if followed.folder_ids else ALL_CATEGORY


def categories_of(reader: Reader) -> dict[int, dict[str, Any]]:
    """category id → Miniflux category, titles unique (a repeated name gets its path)."""
    folders = {f.id: f for f in reader.folders()}
    found: dict[int, dict[str, Any]] = {ALL_CATEGORY: _category(ALL_CATEGORY, "All", reader.user.id)}
    seen: set[str] = {"all"}
    for folder in sorted(folders.values(), key=lambda f: f.id):
        title = folder.name
        if title.casefold() in seen:
            title = _path(folders, folder)
        seen.add(title.casefold())
        found[folder.id + 1] = _category(folder.id + 1, title, reader.user.id)
    return found


def _path(folders: dict[int, Folder], folder: Folder) -> str:
    names, cursor, hops = [folder.name], folder.parent_id, 0
    while cursor is not None and cursor in folders and hops < 32:
        names.append(folders[cursor].name)
        cursor, hops = folders[cursor].parent_id, hops + 1
    return " / ".join(reversed(names))


def _category(cid: int, title: str, user_id: int) -> dict[str, Any]:
    return {"id": cid, "title": title, "user_id": user_id, "hide_globally": False}


def feed_json(followed: Followed, categories: dict[int, dict[str, Any]], user_id: int) -> dict[str, Any]:
    return {
        "id": followed.id,
        "user_id": user_id,
        "feed_url": followed.url,
        "site_url": followed.site_url or followed.url,
        "title": followed.title,
        "description": "",
        "language": "",
        "checked_at": _moment(None),
        "next_check_at": _moment(None),
        "etag_header": "",
        "last_modified_header": "",
        "parsing_error_message": followed.error or "",
        "parsing_error_count": 1 if followed.error else 0,
        "scraper_rules": "",
        "rewrite_rules": "",
        "blocklist_rules": "",
        "keeplist_rules": "",
        "user_agent": "",
        "cookie": "",
        "username": "",
        "password": "",
        "disabled": False,
        "no_media_player": False,
        "ignore_http_cache": False,
        "allow_self_signed_certificates": False,
        "fetch_via_proxy": False,
        "hide_globally": False,
        "crawler": False,
        "category": categories.get(category_id(followed), categories[ALL_CATEGORY]),
        "icon": {"feed_id": followed.id, "icon_id": 0, "external_icon_id": ""},
    }


def entry_json(
    entry: ReaderItem, feeds: dict[int, dict[str, Any]], subscription_of: dict[int, int], user_id: int
) -> dict[str, Any]:
    item = entry.item
    subscription = subscription_of.get(item.feed_id, 0)
    text = item.content or item.summary or ""
    return {
        "id": item.id,
        "user_id": user_id,
        "feed_id": subscription,
        "status": "read" if entry.read else "unread",
        "hash": item.key[:64],
        "title": item.title or "",
        "url": item.link or "",
        "comments_url": "",
        "published_at": _moment(item.published_at or item.date),
        "created_at": _moment(item.first_seen_at or item.date),
        "changed_at": _moment(item.first_seen_at or item.date),
        "content": text,
        "author": item.author or "",
        "share_code": "",
        "starred": entry.starred,
        "reading_time": max(0, len(text.split()) // 265),
        "enclosures": [
            {
                "id": index + 1,
                "user_id": user_id,
                "entry_id": item.id,
                "url": enclosure.url,
                "mime_type": enclosure.mime_type or "",
                "size": enclosure.length or 0,
                "media_progression": 0,
            }
            for index, enclosure in enumerate(item.enclosures)
        ],
        "tags": list(item.categories),
        "feed": feeds.get(subscription),
    }


class Context:
    """What shaping many entries needs, read once per request."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.followed = reader.followed()
        self.categories = categories_of(reader)
        self.feeds = {f.id: feed_json(f, self.categories, reader.user.id) for f in self.followed}
        self.subscription_of = {f.feed_id: f.id for f in self.followed}

    def entries(self, found: list[ReaderItem]) -> list[dict[str, Any]]:
        return [entry_json(e, self.feeds, self.subscription_of, self.reader.user.id) for e in found]

    def subscription(self, subscription_id: int) -> Followed:
        for followed in self.followed:
            if followed.id == subscription_id:
                return followed
        raise NotFollowingError(subscription_id)

    def in_category(self, cid: int) -> list[Followed]:
        if cid != ALL_CATEGORY and cid not in self.categories:
            raise NotFollowingError(cid)
        return [f for f in self.followed if category_id(f) == cid]


# -- handlers -------------------------------------------------------------------------------


async def me(request: Request, reader: Reader) -> Response:
    user = reader.user
    return _json(
        {
            "id": user.id,
            "username": user.name,
            "is_admin": user.is_admin,
            "theme": "light_serif",
            "language": "en_US",
            "timezone": "UTC",
            "entry_sorting_direction": "asc",
            "entry_sorting_order": "published_at",
            "entries_per_page": 100,
            "keyboard_shortcuts": True,
            "show_reading_time": True,
            "entry_swipe": True,
            "last_login_at": None,
            "stylesheet": "",
            "google_id": "",
            "openid_connect_id": "",
            "display_mode": "standalone",
            "default_reading_speed": 265,
            "cjk_reading_speed": 500,
            "default_home_page": "unread",
            "categories_sorting_order": "unread_count",
            "mark_read_on_view": True,
        }
    )


async def version(request: Request, reader: Reader) -> Response:
    return _json(
        {"version": __version__, "commit": "", "build_date": "", "go_version": "", "compiler": "lenta", "arch": "", "os": ""}
    )


async def categories(request: Request, reader: Reader) -> Response:
    context = await run_in_threadpool(Context, reader)
    found = sorted(context.categories.values(), key=lambda c: c["title"].casefold())
    if query_bool(request, "counts"):
        for category in found:
            members = context.in_category(category["id"])
            category["feed_count"] = len(members)
            category["total_unread"] = sum(f.unread for f in members)
    return _json(found)


async def create_category(request: Request, reader: Reader) -> Response:
    data = await body(request)
    title = str(data.get("title") or "").strip()
    if not title:
        raise ApiError(400, "The title is mandatory.")
    existing = await run_in_threadpool(categories_of, reader)
    if any(c["title"].casefold() == title.casefold() for c in existing.values()):
        raise ApiError(400, "This category already exists.")
    folder = await run_in_threadpool(reader.add_folder, title)
    return _json(_category(folder.id + 1, folder.name, reader.user.id), 201)


async def update_category(request: Request, reader: Reader) -> Response:
    cid = path_int(request, "category_id", "category")
    data = await body(request)
    title = str(data.get("title") or "").strip()
    if cid == ALL_CATEGORY:
        raise ApiError(400, "This category cannot be changed.")
    folder = await run_in_threadpool(reader.folder, cid - 1)
    if title:
        folder = await run_in_threadpool(reader.change_folder, folder.id, title, folder.parent_id)
    return _json(_category(cid, folder.name, reader.user.id), 201)


async def delete_category(request: Request, reader: Reader) -> Response:
    cid = path_int(request, "category_id", "category")
    if cid == ALL_CATEGORY:
        raise ApiError(400, "This category cannot be removed.")
    await run_in_threadpool(reader.delete_folder, cid - 1)  # its feeds are kept (a deviation)
    return Response(status_code=204)


async def category_feeds(request: Request, reader: Reader) -> Response:
    cid = path_int(request, "category_id", "category")
    context = await run_in_threadpool(Context, reader)
    return _json([context.feeds[f.id] for f in context.in_category(cid)])


async def category_mark_read(request: Request, reader: Reader) -> Response:
    cid = path_int(request, "category_id", "category")

    def mark() -> None:
        context = Context(reader)
        through = reader.items("all", per_page=1).through
        for followed in context.in_category(cid):
            reader.mark_all_read(through=through, subscription_id=followed.id)

    await run_in_threadpool(mark)
    return Response(status_code=204)


async def feeds(request: Request, reader: Reader) -> Response:
    context = await run_in_threadpool(Context, reader)
    ordered = sorted(context.followed, key=lambda f: (-int(bool(f.error)), f.title.casefold()))
    return _json([context.feeds[f.id] for f in ordered])


async def feed(request: Request, reader: Reader) -> Response:
    sid = path_int(request, "feed_id", "feed")
    context = await run_in_threadpool(Context, reader)
    return _json(context.feeds[context.subscription(sid).id])


async def create_feed(request: Request, reader: Reader) -> Response:
    data = await body(request)
    url = str(data.get("feed_url") or "").strip()
    if not url:
        raise ApiError(400, "The URL and the category are mandatory.")
    cid = data.get("category_id") or ALL_CATEGORY
    if not isinstance(cid, int) or isinstance(cid, bool) or cid < 1:
        raise ApiError(400, "This category does not exist or does not belong to this user.")
    folder_ids: list[int] = []
    if cid != ALL_CATEGORY:
        try:
            await run_in_threadpool(reader.folder, cid - 1)
        except NotFollowingError:
            raise ApiError(400, "This category does not exist or does not belong to this user.") from None
        folder_ids = [cid - 1]
    try:
        followed = await reader.follow(url, folder_ids=folder_ids)
    except AlreadyFollowingError:
        raise ApiError(400, "This feed already exists.") from None
    except LentaError as problem:  # no feed there: Miniflux answers 500 with the reason
        raise ApiError(500, translate_error(problem, "en")) from None
    return _json({"feed_id": followed.id}, 201)


async def update_feed(request: Request, reader: Reader) -> Response:
    sid = path_int(request, "feed_id", "feed")
    data = await body(request)

    def change() -> dict[str, Any]:
        context = Context(reader)
        followed = context.subscription(sid)
        url = data.get("feed_url")
        if isinstance(url, str) and url.strip() and url.strip() != followed.url:
            raise ApiError(400, "The feed URL cannot be changed: the feed is shared with its other readers.")
        title = data.get("title")
        if isinstance(title, str) and title.strip():
            followed = reader.rename(sid, title)
        cid = data.get("category_id")
        if isinstance(cid, int) and not isinstance(cid, bool) and cid != category_id(followed):
            kept = [f for f in followed.folder_ids if f + 1 != category_id(followed)]
            if cid == ALL_CATEGORY:
                kept = []
            elif cid - 1 not in {f.id for f in reader.folders()}:
                raise ApiError(400, "This category does not exist or does not belong to this user.")
            else:
                kept.append(cid - 1)
            reader.file(sid, kept)
        context = Context(reader)
        return context.feeds[sid]

    return _json(await run_in_threadpool(change), 201)


async def delete_feed(request: Request, reader: Reader) -> Response:
    sid = path_int(request, "feed_id", "feed")
    await run_in_threadpool(reader.unfollow, sid)
    return Response(status_code=204)


async def refresh_feed(request: Request, reader: Reader) -> Response:
    sid = path_int(request, "feed_id", "feed")
    followed = await run_in_threadpool(reader.subscription, sid)
    await _lenta(request).refresh([followed.feed_id])
    return Response(status_code=204)


async def refresh_all(request: Request, reader: Reader) -> Response:
    followed = await run_in_threadpool(reader.followed)
    await run_in_threadpool(_lenta(request).refresh_soon, [f.feed_id for f in followed])
    return Response(status_code=204)


async def refresh_category(request: Request, reader: Reader) -> Response:
    cid = path_int(request, "category_id", "category")

    def due() -> None:
        members = Context(reader).in_category(cid)  # another user's category: not found
        _lenta(request).refresh_soon([f.feed_id for f in members])

    await run_in_threadpool(due)
    return Response(status_code=204)


async def counters(request: Request, reader: Reader) -> Response:
    followed = await run_in_threadpool(reader.followed)
    return _json({"reads": {}, "unreads": {str(f.id): f.unread for f in followed if f.unread}})


async def feed_icon(request: Request, reader: Reader) -> Response:
    sid = path_int(request, "feed_id", "feed")
    followed = await run_in_threadpool(reader.subscription, sid)
    icon = await run_in_threadpool(_lenta(request).feed_icon, followed.feed_id)
    if icon is None or not icon.data:
        raise ApiError(404, "resource not found")
    encoded = base64.b64encode(icon.data).decode("ascii")
    return _json({"id": sid, "mime_type": icon.media_type, "data": f"{icon.media_type};base64,{encoded}"})


async def feed_mark_read(request: Request, reader: Reader) -> Response:
    sid = path_int(request, "feed_id", "feed")

    def mark() -> None:
        reader.subscription(sid)
        reader.mark_all_read(through=reader.items("all", per_page=1).through, subscription_id=sid)

    await run_in_threadpool(mark)
    return Response(status_code=204)


def _entry_query(request: Request, feed_ids: list[int] | None) -> SyncQuery:
    statuses = request.query_params.getlist("status")
    for status in statuses:
        if status not in ("read", "unread"):
            raise ApiError(400, 'invalid entry status, valid status values are: "read" and "unread"')
    read = None if len(set(statuses)) != 1 else statuses[0] == "read"
    limit = query_int(request, "limit", 100) or MAX_LIMIT
    if limit > MAX_LIMIT:
        raise ApiError(400, f"limit value should be <= {MAX_LIMIT}")
    order = request.query_params.get("order", "published_at")
    if order not in _ORDERS:
        raise ApiError(400, f"invalid order, valid order values are: {', '.join(_ORDERS)}")
    direction = request.query_params.get("direction", "asc")
    if direction not in ("asc", "desc"):
        raise ApiError(400, 'invalid direction, valid direction values are: "asc" or "desc"')
    after = query_int(request, "after") or query_int(request, "published_after")
    before = query_int(request, "before") or query_int(request, "published_before")
    return SyncQuery(
        feed_ids=feed_ids,
        read=read,
        starred=query_bool(request, "starred"),
        after_id=query_int(request, "after_entry_id"),
        before_id=query_int(request, "before_entry_id"),
        published_after=_from_unix(after),
        published_before=_from_unix(before),
        order=order if order in ("id", "published_at", "created_at") else "published_at",
        descending=direction == "desc",
        limit=limit,
        offset=query_int(request, "offset", 0) or 0,
    )


async def _entries(request: Request, reader: Reader, scope: Callable[[Context], list[int] | None]) -> Response:
    def find() -> dict[str, Any]:
        context = Context(reader)
        feed_ids = scope(context)
        override = query_int(request, "feed_id")
        if override:
            try:
                feed_ids = [context.subscription(override).feed_id]
            except NotFollowingError:
                raise ApiError(400, "invalid feed ID") from None
        category = query_int(request, "category_id")
        if category:
            try:
                feed_ids = [f.feed_id for f in context.in_category(category)]
            except NotFollowingError:
                raise ApiError(400, "invalid category ID") from None
        text = request.query_params.get("search", "").strip()
        if text:
            found = [
                e for e in reader.search(text, "all", per_page=MAX_LIMIT).items if feed_ids is None or e.item.feed_id in feed_ids
            ]
            return {"total": len(found), "entries": context.entries(found)}
        spec = _entry_query(request, feed_ids)
        found, total = reader.sync_items(spec)
        return {"total": total, "entries": context.entries(found)}

    return _json(await run_in_threadpool(find))


async def entries(request: Request, reader: Reader) -> Response:
    return await _entries(request, reader, lambda context: None)


async def feed_entries(request: Request, reader: Reader) -> Response:
    sid = path_int(request, "feed_id", "feed")

    def scope(context: Context) -> list[int]:
        try:
            return [context.subscription(sid).feed_id]
        except NotFollowingError:
            raise ApiError(400, "invalid feed ID") from None

    return await _entries(request, reader, scope)


async def category_entries(request: Request, reader: Reader) -> Response:
    cid = path_int(request, "category_id", "category")

    def scope(context: Context) -> list[int]:
        try:
            return [f.feed_id for f in context.in_category(cid)]
        except NotFollowingError:
            raise ApiError(400, "invalid category ID") from None

    return await _entries(request, reader, scope)


async def entry(request: Request, reader: Reader) -> Response:
    eid = path_int(request, "entry_id", "entry")

    def find() -> dict[str, Any]:
        context = Context(reader)
        found = reader.item(eid)
        shaped = context.entries([found])[0]
        sid = request.path_params.get("feed_id")
        if sid is not None and shaped["feed_id"] != path_int(request, "feed_id", "feed"):
            raise NotFollowingError(eid)
        cid = request.path_params.get("category_id")
        if cid is not None and category_id(context.subscription(shaped["feed_id"])) != path_int(
            request, "category_id", "category"
        ):
            raise NotFollowingError(eid)
        return shaped

    return _json(await run_in_threadpool(find))


async def update_entries(request: Request, reader: Reader) -> Response:
    data = await body(request)
    ids = data.get("entry_ids")
    if not isinstance(ids, list) or not ids:
        raise ApiError(400, "the list of entries cannot be empty")
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise ApiError(400, "entry_ids must be a list of integers")
    status, starred = data.get("status"), data.get("starred")
    if status is None and starred is None:
        raise ApiError(400, "either the status or the starred field must be specified")
    if status is not None and status not in ("read", "unread"):
        raise ApiError(400, 'invalid entry status, valid status values are: "read" and "unread"')

    def apply() -> None:
        for item_id in ids[: MAX_LIMIT * 10]:
            if not 0 < item_id <= MAX_ID:
                continue
            try:  # ids the user cannot see are skipped, as Miniflux does
                if status is not None:
                    (reader.mark_read if status == "read" else reader.mark_unread)([item_id])
                if isinstance(starred, bool):
                    reader.star(item_id, starred)
            except NotFollowingError:
                continue

    await run_in_threadpool(apply)
    return Response(status_code=204)


async def toggle_bookmark(request: Request, reader: Reader) -> Response:
    eid = path_int(request, "entry_id", "entry")

    def toggle() -> None:
        reader.star(eid, not reader.item(eid).starred)

    await run_in_threadpool(toggle)
    return Response(status_code=204)


async def mark_user_read(request: Request, reader: Reader) -> Response:
    if path_int(request, "user_id", "user") != reader.user.id:
        raise ApiError(403, "access forbidden")
    await run_in_threadpool(lambda: reader.mark_all_read(through=reader.items("all", per_page=1).through))
    return Response(status_code=204)


async def discover(request: Request, reader: Reader) -> Response:
    data = await body(request)
    url = str(data.get("url") or "").strip()
    if not url.startswith(("http://", "https://")):
        raise ApiError(400, "The URL must be absolute.")
    try:
        found = await _lenta(request).discover(url)
    except LentaError as problem:
        raise ApiError(500, translate_error(problem, "en")) from None
    if not found:
        raise ApiError(404, "resource not found")
    return _json([{"title": title or "", "url": address, "type": kind} for address, title, kind in found])


async def export(request: Request, reader: Reader) -> Response:
    return Response(await run_in_threadpool(reader.export_opml), media_type="text/xml; charset=utf-8")


async def import_opml(request: Request, reader: Reader) -> Response:
    data = await request.body()
    try:
        await run_in_threadpool(reader.import_opml, data)
    except LentaError as problem:
        raise ApiError(500, translate_error(problem, "en")) from None
    return _json({"message": "Feeds imported successfully"}, 201)


def routes() -> list[Route]:
    """The API's routes, to mount under ``/v1``."""
    table: list[tuple[str, Handler, list[str]]] = [
        ("/me", me, ["GET"]),
        ("/version", version, ["GET"]),
        ("/categories", categories, ["GET"]),
        ("/categories", create_category, ["POST"]),
        ("/categories/{category_id}", update_category, ["PUT"]),
        ("/categories/{category_id}", delete_category, ["DELETE"]),
        ("/categories/{category_id}/feeds", category_feeds, ["GET"]),
        ("/categories/{category_id}/entries", category_entries, ["GET"]),
        ("/categories/{category_id}/entries/{entry_id}", entry, ["GET"]),
        ("/categories/{category_id}/mark-all-as-read", category_mark_read, ["PUT"]),
        ("/categories/{category_id}/refresh", refresh_category, ["PUT"]),
        ("/feeds", feeds, ["GET"]),
        ("/feeds", create_feed, ["POST"]),
        ("/feeds/counters", counters, ["GET"]),
        ("/feeds/refresh", refresh_all, ["PUT"]),
        ("/feeds/{feed_id}", feed, ["GET"]),
        ("/feeds/{feed_id}", update_feed, ["PUT"]),
        ("/feeds/{feed_id}", delete_feed, ["DELETE"]),
        ("/feeds/{feed_id}/refresh", refresh_feed, ["PUT"]),
        ("/feeds/{feed_id}/icon", feed_icon, ["GET"]),
        ("/feeds/{feed_id}/mark-all-as-read", feed_mark_read, ["PUT"]),
        ("/feeds/{feed_id}/entries", feed_entries, ["GET"]),
        ("/feeds/{feed_id}/entries/{entry_id}", entry, ["GET"]),
        ("/entries", entries, ["GET"]),
        ("/entries", update_entries, ["PUT"]),
        ("/entries/{entry_id}", entry, ["GET"]),
        ("/entries/{entry_id}/bookmark", toggle_bookmark, ["PUT"]),
        ("/entries/{entry_id}/star", toggle_bookmark, ["PUT"]),
        ("/users/{user_id}/mark-all-as-read", mark_user_read, ["PUT"]),
        ("/discover", discover, ["POST"]),
        ("/export", export, ["GET"]),
        ("/import", import_opml, ["POST"]),
    ]
    found = [Route("/v1/openapi.json", openapi.serve, methods=["GET"])]  # public: it describes, it opens nothing
    found += [Route(f"/v1{path}", endpoint(handler), methods=methods) for path, handler, methods in table]
    found.append(Route("/v1/{rest:path}", preflight, methods=["OPTIONS"]))
    return found
