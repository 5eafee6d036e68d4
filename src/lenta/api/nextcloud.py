"""The Nextcloud News API v1.2 and v1.3 at ``/index.php/apps/news/api/`` (issue 12), over the reader.

An edge like the Miniflux adapter (:mod:`lenta.api.miniflux`): each handler
reads its request, calls the user's :class:`~lenta.reader.Reader` and answers
in Nextcloud News' shapes (``lib/Controller/*ApiController.php``,
``lib/Db/{Feed,Folder,Item}.php`` ``toAPI``; docs/sync-apis.md, sections 3.3
and 5). Ids are the user's, as everywhere: a feed is a subscription, a folder
is a folder (its own id: Nextcloud's "no folder" is ``folderId`` null, or 0 in
requests), an item is an item of a followed feed. Auth: HTTP Basic with an app
password (or the account's password when no second factor guards it),
throttled as the web's sign-in is.

Every answer is HTTP 200 unless something is wrong (newsboat's ``ocnews``
takes anything else as a failure); errors are ``{"message": …}`` with
Nextcloud's codes: 404 unknown (or another user's) id, 409 a name or feed
already there, 422 an unusable name or a URL with no feed. Parameters are read
from the query string and from the body alike (JSON whatever the
Content-Type, or a url-encoded form), as Nextcloud's app framework does.

v1.2 and v1.3 answer the same routes: v1.2's PUT and v1.3's POST are both
taken on either, ``items/read/multiple`` and friends take item ids as
``items`` (v1.2) or ``itemIds`` (v1.3), and ``items/star/multiple`` takes
``[{"feedId", "guidHash"}]`` (v1.2) or item ids (v1.3). An item's ``guid`` is
lenta's key for it in its feed (the feed's guid, else its link, else a content
hash), ``guidHash`` its md5; starring by feed and guid also takes the raw guid
(newsboat 2.21 sends it unhashed).

Lists are by item id, as Nextcloud's: newest first, or oldest with
``oldestFirst``; ``offset`` is an item id to go on from (strictly older, or
newer). ``batchSize`` -1 (the default) is everything: such a list is streamed
in chunks, never held whole. ``lastModified`` of an item is when it last
changed for the user (arrival, read or star, a "mark all read" covering it),
in seconds; ``items/updated`` gives the items changed at ``lastModified`` or
later.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import unquote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.responses import StreamingResponse
from starlette.routing import Route

from lenta import __version__
from lenta.api import basic_credentials
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

PREFIX = "/index.php/apps/news/api"
VERSIONS = ("v1-2", "v1-3")
# The News app version whose API this one follows (its docs and controllers were
# read at this version); clients compare it to decide what they may call.
NEWS_VERSION = "28.7.0"
CHUNK = 500  # items read from the database at a time for a long list
MAX_IDS = 10_000  # item ids in one "multiple" request
_ID_BOUND = 2**62  # ids a client sends are clamped here before they reach SQL (newsboat sends LONG_MAX)
_INTEGER = re.compile(r"[+-]?[0-9]{1,40}")
_GUID_HASH = re.compile(r"[0-9a-fA-F]{32}")
_WRITE = ["PUT", "POST"]  # v1.2 takes PUT, v1.3 POST: both are taken on either
GETREAD_REFUSED = "Setting getRead on an already filtered list is not allowed!"
Handler = Callable[[Request, Reader], Awaitable[Response]]

# ListType in Nextcloud News (lib/Db/ListType.php)
FEED, FOLDER, STARRED, ALL_ITEMS, UNREAD = 0, 1, 2, 3, 6


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _dumps(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _json(value: object, status: int = 200) -> Response:
    return Response(_dumps(value), status_code=status, media_type="application/json")


def error(status: int, message: str) -> Response:
    return _json({"message": message}, status)


def _lenta(request: Request) -> Lenta:
    lenta: Lenta = request.app.state.lenta
    return lenta


# -- auth ---------------------------------------------------------------------------------


def authenticate(request: Request) -> User:
    """The user of a request's HTTP Basic credentials. Raises ApiError (401, 429)."""
    credentials = basic_credentials(request)
    if credentials is None:
        raise ApiError(401, "Current user is not logged in")
    name, password = credentials
    address = request.client.host if request.client else None
    try:
        user = _lenta(request).api_sign_in(name, password, address=address)
    except LoginThrottledError as throttled:
        raise ApiError(429, f"Too many failed sign-in attempts. Try again in {throttled.retry_after} seconds.") from None
    if user is None:
        raise ApiError(401, "Current user is not logged in")
    return user


def _cors(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Auth, the user's reader, and Nextcloud's error answers around a handler."""

    async def run(request: Request) -> Response:
        try:
            user = await run_in_threadpool(authenticate, request)
            response = await handler(request, _lenta(request).reader(user))
        except ApiError as problem:
            response = error(problem.status, problem.message)
        except NotFollowingError:
            response = error(404, "Not found")
        except AlreadyFollowingError:
            response = error(409, "Feed already exists")
        except LentaError as problem:
            response = error(422, translate_error(problem, "en"))
        if response.status_code == 401:
            response.headers["WWW-Authenticate"] = 'Basic realm="lenta"'
        return _cors(response)

    return run


async def api_levels(request: Request) -> Response:
    """``GET /index.php/apps/news/api``: the API versions served (no auth, as Nextcloud)."""
    return _cors(_json({"apiLevels": list(VERSIONS)}))


async def preflight(request: Request) -> Response:
    return Response(
        status_code=200,
        headers={
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Methods": "PUT, POST, GET, DELETE, PATCH",
            "Access-Control-Allow-Headers": "Authorization, Content-Type, Accept",
            "Access-Control-Allow-Credentials": "false",
            "Access-Control-Max-Age": "1728000",
        },
    )


# -- request parts ------------------------------------------------------------------------


async def params(request: Request) -> dict[str, Any]:
    """The query string's parameters and the body's (JSON whatever the
    Content-Type says, else a url-encoded form), the body's winning."""
    found: dict[str, Any] = dict(request.query_params)
    raw = await request.body()
    text = raw.decode("utf-8", "replace").strip()
    if not text:
        return found
    if text.startswith(("{", "[")):
        try:
            value = json.loads(text)
        except ValueError as problem:
            raise ApiError(400, f"Invalid JSON: {problem}") from None
        if isinstance(value, dict):
            found.update(value)
        elif value != []:  # PHP's empty array is [] in JSON: an empty object
            raise ApiError(400, "The request body must be a JSON object")
        return found
    found.update(parse_qsl(text, keep_blank_values=True))
    return found


def as_int(value: Any, default: int | None = None) -> int | None:
    """An integer from JSON or a query string; anything else is ``default``."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value.strip())
    return default


def as_bool(value: Any, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "1", "yes", "on"):
            return True
        if lowered in ("false", "0", "no", "off", ""):
            return False
    return default


def _bounded(value: int) -> int:
    return max(-_ID_BOUND, min(value, _ID_BOUND))


def path_id(request: Request, name: str) -> int:
    """A path's id; one that is no positive number is nobody's (404)."""
    raw = str(request.path_params.get(name, ""))
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18 or int(raw) == 0:
        raise NotFollowingError(0)
    return int(raw)


def _seconds(moment: datetime | None) -> int:
    return int(moment.timestamp()) if moment is not None else 0


def _since(value: int) -> datetime:
    """``lastModified`` as Nextcloud reads it: seconds, or microseconds when
    longer than ten digits; clamped to what a datetime holds."""
    seconds = value if len(str(abs(value))) <= 10 else value // 1_000_000
    return datetime.fromtimestamp(max(0, min(seconds, 253402300799)), UTC)


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()


def _ids(value: Any) -> list[int]:
    """The item ids of a "multiple" request (at most :data:`MAX_IDS`), numbers or numeric strings."""
    if not isinstance(value, list):
        return []
    found = [as_int(v) for v in value[:MAX_IDS] if not isinstance(v, dict)]
    return [_bounded(v) for v in found if v is not None]


# -- shapes ---------------------------------------------------------------------------------


def folder_of(followed: Followed) -> int | None:
    """A subscription's folder as Nextcloud shows it (a feed is in one): its
    folder of the lowest id, else none."""
    return min(followed.folder_ids) if followed.folder_ids else None


def folders_json(folders: list[Folder]) -> list[dict[str, Any]]:
    """Every folder, flat, names unique (a repeated name gets its path)."""
    by_id = {f.id: f for f in folders}
    seen: set[str] = set()
    found = []
    for folder in sorted(folders, key=lambda f: f.id):
        name = folder.name
        if name.casefold() in seen:
            names, cursor, hops = [folder.name], folder.parent_id, 0
            while cursor is not None and cursor in by_id and hops < 32:
                names.append(by_id[cursor].name)
                cursor, hops = by_id[cursor].parent_id, hops + 1
            name = " / ".join(reversed(names))
        if name.casefold() in seen:
            name = f"{name} ({folder.id})"
        seen.add(name.casefold())
        found.append({"id": folder.id, "name": name, "opened": True, "feeds": []})
    return found


def feed_json(followed: Followed) -> dict[str, Any]:
    return {
        "id": followed.id,
        "url": followed.url,
        "title": followed.title,
        "faviconLink": None,
        "added": _seconds(followed.created_at),
        "folderId": folder_of(followed),
        "unreadCount": followed.unread,
        "ordering": 0,
        "link": followed.site_url or followed.url,
        "pinned": False,
        "updateErrorCount": 1 if followed.error else 0,
        "lastUpdateError": followed.error or "",
        "items": [],
        "nextUpdateTime": None,
    }


def item_json(entry: ReaderItem, changed: datetime, subscription_of: dict[int, int]) -> dict[str, Any]:
    item = entry.item
    body = item.content or item.summary or ""
    title = item.title or ""
    enclosure = item.enclosures[0] if item.enclosures else None
    link = enclosure.url if enclosure else None
    return {
        "id": item.id,
        "guid": item.key,
        "guidHash": _md5(item.key),
        "url": item.link,
        "title": title,  # never null: newsboat 2.21 reads title, author, body and guid unchecked
        "author": item.author or "",
        "pubDate": _seconds(item.published_at or item.date),
        "updatedDate": None,
        "body": body,
        "enclosureMime": (enclosure.mime_type or None) if enclosure else None,
        "enclosureLink": link,
        "mediaThumbnail": None,
        "mediaDescription": None,
        "feedId": subscription_of.get(item.feed_id, 0),
        "unread": not entry.read,
        "starred": entry.starred,
        "filtered": False,
        "rtl": False,
        "lastModified": _seconds(changed),
        "fingerprint": _md5(title + (item.link or "") + body + (link or "")),
        "contentHash": _md5(title + (item.link or "") + body + (link or "") + (item.author or "")),
    }


def newest_item_id(reader: Reader) -> int | None:
    """The id of the user's newest item (None: they have none)."""
    found = reader.sync_changes(SyncQuery(descending=True, limit=1))
    return found[0][0].item.id if found else None


class Context:
    """The user's subscriptions, read once per request."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.followed = reader.followed()
        self.subscription_of = {f.feed_id: f.id for f in self.followed}

    def subscription(self, subscription_id: int) -> Followed | None:
        return next((f for f in self.followed if f.id == subscription_id), None)

    def feeds_in_folder(self, folder_id: int) -> list[int]:
        """The feed ids shown in a folder (0: in none); none for a folder not the user's."""
        if folder_id == 0:
            return [f.feed_id for f in self.followed if folder_of(f) is None]
        return [f.feed_id for f in self.followed if folder_of(f) == folder_id]

    def feeds_of(self, subscription_id: int) -> list[int]:
        found = self.subscription(subscription_id)
        return [found.feed_id] if found is not None else []


# -- version, status, user ----------------------------------------------------------------


async def version(request: Request, reader: Reader) -> Response:
    return _json({"version": NEWS_VERSION, "lenta": __version__})


async def status(request: Request, reader: Reader) -> Response:
    return _json({"version": NEWS_VERSION, "warnings": {"improperlyConfiguredCron": False, "incorrectDbCharset": False}})


async def user_info(request: Request, reader: Reader) -> Response:
    return _json({"userId": reader.user.name, "displayName": reader.user.name, "lastLoginTimestamp": 0, "avatar": None})


# -- folders ----------------------------------------------------------------------------------


def _folder_name(data: dict[str, Any]) -> str:
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ApiError(422, "Folder name can not be empty")
    return name


def _name_taken(reader: Reader, name: str, moving: int | None = None) -> bool:
    cleaned = " ".join(name.split()).casefold()
    return any(f["name"].casefold() == cleaned and f["id"] != moving for f in folders_json(reader.folders()))


async def folders(request: Request, reader: Reader) -> Response:
    return _json({"folders": folders_json(await run_in_threadpool(reader.folders))})


async def create_folder(request: Request, reader: Reader) -> Response:
    name = _folder_name(await params(request))

    def create() -> dict[str, Any]:
        if _name_taken(reader, name):
            raise ApiError(409, "Folder with this name already exists")
        made = reader.add_folder(name)
        shown = next(f for f in folders_json(reader.folders()) if f["id"] == made.id)
        return {"folders": [shown]}

    return _json(await run_in_threadpool(create))


async def rename_folder(request: Request, reader: Reader) -> Response:
    folder_id = path_id(request, "folder_id")
    name = _folder_name(await params(request))

    def rename() -> None:
        folder = reader.folder(folder_id)
        if _name_taken(reader, name, moving=folder_id):
            raise ApiError(409, "Folder with this name already exists")
        reader.change_folder(folder_id, name, folder.parent_id)

    await run_in_threadpool(rename)
    return _json([])


async def delete_folder(request: Request, reader: Reader) -> Response:
    folder_id = path_id(request, "folder_id")
    await run_in_threadpool(reader.delete_folder, folder_id)
    return _json([])


def _newest_param(data: dict[str, Any]) -> int:
    value = as_int(data.get("newestItemId"))
    if value is None:
        raise ApiError(400, "newestItemId is missing")
    return value


def _mark_read(reader: Reader, subscription_ids: list[int], newest: int) -> None:
    """Mark read these subscriptions' items up to ``newest`` (bounded by the
    user's newest item: newsboat sends LONG_MAX)."""
    through = min(newest, newest_item_id(reader) or 0)
    if through <= 0:
        return
    for subscription_id in subscription_ids:
        reader.mark_all_read(through=through, subscription_id=subscription_id)


async def read_folder(request: Request, reader: Reader) -> Response:
    raw = str(request.path_params.get("folder_id", ""))
    folder_id = 0 if raw == "0" else path_id(request, "folder_id")
    newest = _newest_param(await params(request))

    def mark() -> None:
        context = Context(reader)
        if folder_id != 0:
            reader.folder(folder_id)  # another user's folder: not found
        members = [f.id for f in context.followed if (folder_of(f) or 0) == folder_id]
        _mark_read(reader, members, newest)

    await run_in_threadpool(mark)
    return _json(None)


# -- feeds ------------------------------------------------------------------------------------


async def feeds(request: Request, reader: Reader) -> Response:
    def listing() -> dict[str, Any]:
        found: dict[str, Any] = {
            "feeds": [feed_json(f) for f in reader.followed()],
            "starredCount": reader.sync_items(SyncQuery(starred=True, limit=1))[1],
        }
        newest = newest_item_id(reader)
        if newest is not None:
            found["newestItemId"] = newest
        return found

    return _json(await run_in_threadpool(listing))


def _folder_param(reader: Reader, data: dict[str, Any]) -> list[int]:
    """A request's ``folderId`` as the folders to file a feed in: none for null or 0."""
    raw = data.get("folderId")
    if raw is None or raw == "" or raw == "null":
        return []
    folder_id = as_int(raw)
    if folder_id is None:
        raise ApiError(422, "folderId must be a number or null")
    if folder_id == 0:
        return []
    try:
        reader.folder(folder_id)
    except NotFollowingError:
        raise ApiError(404, "Folder not found") from None
    return [folder_id]


async def create_feed(request: Request, reader: Reader) -> Response:
    data = await params(request)
    url = data.get("url")
    if not isinstance(url, str) or not url.strip():
        raise ApiError(422, "The feed URL is missing")
    folder_ids = await run_in_threadpool(_folder_param, reader, data)
    try:
        followed = await reader.follow(url.strip(), folder_ids=folder_ids)
    except AlreadyFollowingError:
        raise ApiError(409, "Feed already exists") from None
    except NotFollowingError:
        raise ApiError(404, "Folder not found") from None

    def answer() -> dict[str, Any]:
        found: dict[str, Any] = {"feeds": [feed_json(reader.subscription(followed.id))]}
        newest = newest_item_id(reader)
        if newest is not None:
            found["newestItemId"] = newest
        return found

    return _json(await run_in_threadpool(answer))


async def delete_feed(request: Request, reader: Reader) -> Response:
    await run_in_threadpool(reader.unfollow, path_id(request, "feed_id"))
    return _json([])


async def move_feed(request: Request, reader: Reader) -> Response:
    subscription_id = path_id(request, "feed_id")
    data = await params(request)

    def move() -> None:
        reader.subscription(subscription_id)
        reader.file(subscription_id, _folder_param(reader, data))

    await run_in_threadpool(move)
    return _json([])


async def rename_feed(request: Request, reader: Reader) -> Response:
    subscription_id = path_id(request, "feed_id")
    title = (await params(request)).get("feedTitle")
    if not isinstance(title, str):
        raise ApiError(400, "feedTitle is missing")
    await run_in_threadpool(reader.rename, subscription_id, title)
    return _json([])


async def read_feed(request: Request, reader: Reader) -> Response:
    subscription_id = path_id(request, "feed_id")
    newest = _newest_param(await params(request))

    def mark() -> None:
        reader.subscription(subscription_id)
        _mark_read(reader, [subscription_id], newest)

    await run_in_threadpool(mark)
    return _json(None)


# -- items: lists -----------------------------------------------------------------------------


async def _item_list(reader: Reader, context: Context, spec: SyncQuery, since: datetime | None, limit: int | None) -> Response:
    """``{"items": [...]}`` of the items ``spec`` finds by id (keyset pages
    of :data:`CHUNK`), ``limit`` at most (None: all); a list longer than one
    chunk is streamed."""
    if spec.feed_ids is not None and not spec.feed_ids:
        return _json({"items": []})

    def chunk(after: int | None, size: int) -> list[tuple[ReaderItem, datetime]]:
        page = spec if after is None else replace(spec, before_id=after) if spec.descending else replace(spec, after_id=after)
        return reader.sync_changes(replace(page, limit=size), since)

    size = CHUNK if limit is None else min(CHUNK, limit)
    first = await run_in_threadpool(chunk, None, size)
    shaped = [item_json(entry, changed, context.subscription_of) for entry, changed in first]
    if len(first) < size or (limit is not None and limit <= size):
        return _json({"items": shaped})

    async def rest() -> AsyncIterator[bytes]:
        yield b'{"items":[' + b",".join(_dumps(item) for item in shaped)
        remaining = None if limit is None else limit - len(first)
        last = first[-1][0].item.id
        while remaining is None or remaining > 0:
            want = CHUNK if remaining is None else min(CHUNK, remaining)
            found = await run_in_threadpool(chunk, last, want)
            if found:
                yield b"," + b",".join(_dumps(item_json(e, c, context.subscription_of)) for e, c in found)
                last = found[-1][0].item.id
            if len(found) < want:
                break
            if remaining is not None:
                remaining -= len(found)
        yield b"]}"

    return StreamingResponse(rest(), media_type="application/json", headers={"Access-Control-Allow-Origin": "*"})


def _scope(context: Context, kind: int, ident: int) -> SyncQuery:
    """What a list ``type`` and ``id`` ask for (another user's id: nothing)."""
    if kind == FEED:
        return SyncQuery(feed_ids=context.feeds_of(ident))
    if kind == FOLDER:
        return SyncQuery(feed_ids=context.feeds_in_folder(ident))
    if kind == STARRED:
        return SyncQuery(starred=True, feed_ids=context.feeds_of(ident) if ident != 0 else None)
    if kind == ALL_ITEMS:
        return SyncQuery()
    if kind == UNREAD:
        return SyncQuery(read=False)
    raise ApiError(400, "Unexpected Feed type in call")


async def items(request: Request, reader: Reader) -> Response:
    data = await params(request)
    kind = as_int(data.get("type"), ALL_ITEMS)
    ident = as_int(data.get("id"), 0)
    get_read = as_bool(data.get("getRead"), True)
    batch = as_int(data.get("batchSize"), -1)
    offset = _bounded(as_int(data.get("offset"), 0) or 0)
    oldest_first = as_bool(data.get("oldestFirst"), False)
    assert kind is not None and ident is not None and batch is not None
    if kind not in (FEED, FOLDER) and not get_read:
        if kind != ALL_ITEMS:
            return _json({"message": GETREAD_REFUSED})  # as Nextcloud: 200 and no items
        kind = UNREAD
    context = await run_in_threadpool(Context, reader)
    spec = _scope(context, kind, ident)
    if kind in (FEED, FOLDER) and not get_read:
        spec = replace(spec, read=False)
    spec = replace(spec, descending=not oldest_first)
    if offset != 0:
        spec = replace(spec, after_id=offset) if oldest_first else replace(spec, before_id=offset)
    return await _item_list(reader, context, spec, None, batch if batch >= 1 else None)


async def updated_items(request: Request, reader: Reader) -> Response:
    data = await params(request)
    kind = as_int(data.get("type"), ALL_ITEMS)
    ident = as_int(data.get("id"), 0)
    last_modified = as_int(data.get("lastModified"), 0)
    assert kind is not None and ident is not None and last_modified is not None
    context = await run_in_threadpool(Context, reader)
    spec = replace(_scope(context, kind, ident), descending=True)
    return await _item_list(reader, context, spec, _since(last_modified), None)


# -- items: marks -----------------------------------------------------------------------------


async def mark_item(request: Request, reader: Reader) -> Response:
    """``items/{id}/read|unread|star|unstar``: one item by its id (404 if not the user's)."""
    item_id = path_id(request, "item_id")
    action = request.url.path.rsplit("/", 1)[-1]

    def apply() -> None:
        if action in ("read", "unread"):
            (reader.mark_read if action == "read" else reader.mark_unread)([item_id])
        else:
            reader.star(item_id, action == "star")

    await run_in_threadpool(apply)
    return _json([])


def _mark_many(reader: Reader, item_ids: list[int], read: bool) -> None:
    """Mark these items; ids that are not the user's are skipped, as Nextcloud does."""
    mark = reader.mark_read if read else reader.mark_unread
    try:
        mark(item_ids)
    except NotFollowingError:
        for item_id in item_ids:
            try:
                mark([item_id])
            except NotFollowingError:
                continue


async def mark_items(request: Request, reader: Reader) -> Response:
    """``items/read/multiple`` and ``items/unread/multiple``: ids as ``items`` (v1.2) or ``itemIds`` (v1.3)."""
    data = await params(request)
    item_ids = _ids(data.get("itemIds", data.get("items")))
    read = request.url.path.split("/")[-2] == "read"
    await run_in_threadpool(_mark_many, reader, item_ids, read)
    return _json(None)


class GuidIndex:
    """The user's items of one subscription by guid and by guid hash, built
    the first time a request stars by guid (Nextcloud keys an item by feed
    and ``md5(guid)``)."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.context = Context(reader)
        self.by_feed: dict[int, dict[str, int]] = {}

    def find(self, subscription_id: int, guid: str) -> int | None:
        followed = self.context.subscription(subscription_id)
        if followed is None:
            return None
        if subscription_id not in self.by_feed:
            index: dict[str, int] = {}
            after: int | None = None
            while True:
                found = self.reader.sync_changes(SyncQuery(feed_ids=[followed.feed_id], after_id=after, limit=CHUNK))
                for entry, _ in found:
                    index.setdefault(entry.item.key, entry.item.id)
                    index.setdefault(_md5(entry.item.key), entry.item.id)
                if len(found) < CHUNK:
                    break
                after = found[-1][0].item.id
            self.by_feed[subscription_id] = index
        index = self.by_feed[subscription_id]
        if _GUID_HASH.fullmatch(guid) and guid.lower() in index:
            return index[guid.lower()]
        return index.get(guid)


def _star_many(reader: Reader, entries: list[Any], starred: bool) -> None:
    guids: GuidIndex | None = None
    for entry in entries[:MAX_IDS]:
        item_id: int | None
        if isinstance(entry, dict):  # v1.2: {"feedId", "guidHash"}
            feed_id, guid_hash = as_int(entry.get("feedId")), entry.get("guidHash")
            if feed_id is None or not isinstance(guid_hash, str):
                continue
            guids = guids or GuidIndex(reader)
            item_id = guids.find(feed_id, guid_hash)
        else:  # v1.3: item ids
            item_id = as_int(entry)
        if item_id is None:
            continue
        try:
            reader.star(_bounded(item_id), starred)
        except NotFollowingError:
            continue


async def star_items(request: Request, reader: Reader) -> Response:
    """``items/star/multiple`` and ``items/unstar/multiple``: ``items``
    ``[{"feedId", "guidHash"}]`` (v1.2) or ``itemIds`` (v1.3), either on both."""
    data = await params(request)
    entries = data.get("itemIds", data.get("items"))
    starred = request.url.path.split("/")[-2] == "star"
    await run_in_threadpool(_star_many, reader, entries if isinstance(entries, list) else [], starred)
    return _json(None)


async def star_by_guid(request: Request, reader: Reader) -> Response:
    """v1.2's ``items/{feedId}/{guidHash}/star|unstar``. The guid part may be
    the raw guid (newsboat 2.21), slashes, colons and a query string in it:
    it is read from the path as sent."""
    feed_id = path_id(request, "feed_id")
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    sent = raw_path.decode("utf-8", "replace")
    if request.url.query:
        sent += "?" + request.url.query
    marker = f"/items/{request.path_params['feed_id']}/"
    rest = sent.split(marker, 1)[1] if marker in sent else ""
    guid, _, action = rest.rpartition("/")
    if action not in ("star", "unstar") or not guid:
        raise ApiError(404, "Not found")

    def apply() -> None:
        index = GuidIndex(reader)
        item_id = index.find(feed_id, guid)
        if item_id is None and unquote(guid) != guid:
            item_id = index.find(feed_id, unquote(guid))
        if item_id is None:
            raise ApiError(404, "Item not found")
        reader.star(item_id, action == "star")

    await run_in_threadpool(apply)
    return _json([])


async def read_all(request: Request, reader: Reader) -> Response:
    newest = _newest_param(await params(request))

    def mark() -> None:
        through = min(newest, newest_item_id(reader) or 0)
        if through > 0:
            reader.mark_all_read(through=through)

    await run_in_threadpool(mark)
    return _json(None)


async def favicon(request: Request, reader: Reader) -> Response:
    """v1.3's ``favicon/{md5 of the feed's URL}``: the icon of one of the user's feeds."""
    wanted = str(request.path_params.get("url_hash", "")).lower()

    def find() -> Response:
        for followed in reader.followed():
            if _md5(followed.url) == wanted:
                icon = _lenta(request).feed_icon(followed.feed_id)
                if icon is not None and icon.data:
                    return Response(icon.data, media_type=icon.media_type)
        raise ApiError(404, "Not found")

    return await run_in_threadpool(find)


async def unknown(request: Request, reader: Reader) -> Response:
    raise ApiError(404, "Not found")


def routes() -> list[Route]:
    """The API's routes under :data:`PREFIX`, for v1.2 and v1.3 alike."""
    table: list[tuple[str, Handler, list[str]]] = [
        ("/version", version, ["GET"]),
        ("/status", status, ["GET"]),
        ("/user", user_info, ["GET"]),
        ("/folders", folders, ["GET"]),
        ("/folders", create_folder, ["POST"]),
        ("/folders/{folder_id}", rename_folder, ["PUT"]),
        ("/folders/{folder_id}", delete_folder, ["DELETE"]),
        ("/folders/{folder_id}/read", read_folder, _WRITE),
        ("/feeds", feeds, ["GET"]),
        ("/feeds", create_feed, ["POST"]),
        ("/feeds/{feed_id}", delete_feed, ["DELETE"]),
        ("/feeds/{feed_id}/move", move_feed, _WRITE),
        ("/feeds/{feed_id}/rename", rename_feed, _WRITE),
        ("/feeds/{feed_id}/read", read_feed, _WRITE),
        ("/items", items, ["GET"]),
        ("/items/updated", updated_items, ["GET"]),
        ("/items/read", read_all, _WRITE),
        ("/items/read/multiple", mark_items, _WRITE),
        ("/items/unread/multiple", mark_items, _WRITE),
        ("/items/star/multiple", star_items, _WRITE),
        ("/items/unstar/multiple", star_items, _WRITE),
        ("/items/{item_id}/read", mark_item, _WRITE),
        ("/items/{item_id}/unread", mark_item, _WRITE),
        ("/items/{item_id}/star", mark_item, _WRITE),
        ("/items/{item_id}/unstar", mark_item, _WRITE),
        ("/items/{feed_id}/{guid:path}", star_by_guid, _WRITE),
        ("/favicon/{url_hash}", favicon, ["GET"]),
    ]
    found = [Route(PREFIX, api_levels, methods=["GET"])]
    for level in VERSIONS:
        found.extend(Route(f"{PREFIX}/{level}{path}", endpoint(handler), methods=methods) for path, handler, methods in table)
    found.append(Route(f"{PREFIX}/{{rest:path}}", preflight, methods=["OPTIONS"]))
    found.append(Route(f"{PREFIX}/{{rest:path}}", endpoint(unknown), methods=["GET", "POST", "PUT", "DELETE", "PATCH"]))
    return found
