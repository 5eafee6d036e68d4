"""The Google Reader API (the FreshRSS and Miniflux flavour) at
``/reader/api/0/``, ``/accounts/ClientLogin`` and the Atom view of a
stream at ``/reader/atom/<stream>`` (issue 12), over the user's reader.

Streams: ``user/-/state/com.google/reading-list`` (everything followed),
``…/starred``, ``…/read``, ``feed/<subscription id>`` and
``user/-/label/<name>`` (a folder, or else a tag of that name). Item ids
are lenta's item ids, read in the three forms clients send: the long
``tag:google.com,2005:reader/item/<16 hex>``, 16 hex digits, and decimal
(negative ones as Google's signed 64 bits). Auth: ``ClientLogin`` with
the user's name and an app password (or the account's, without a second
factor) gives a token, signed with the site's key and tied to that app
password, sent as ``Authorization: GoogleLogin auth=<token>``; POSTs also
take the short ``T`` token. Revoking the app password ends its tokens.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Awaitable
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape
from xml.sax.saxutils import quoteattr

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.responses import PlainTextResponse
from starlette.responses import Response
from starlette.routing import Route

from lenta.core import Lenta
from lenta.exceptions import AlreadyFollowingError
from lenta.exceptions import LentaError
from lenta.exceptions import LoginThrottledError
from lenta.exceptions import NotFollowingError
from lenta.i18n import translate_error
from lenta.reader import Reader
from lenta.storage._reader import SyncQuery
from lenta.types import Followed
from lenta.types import ReaderItem
from lenta.types import User

READING_LIST = "user/-/state/com.google/reading-list"
STARRED = "user/-/state/com.google/starred"
READ = "user/-/state/com.google/read"
KEPT_UNREAD = "user/-/state/com.google/kept-unread"
LABEL = "user/-/label/"
ITEM_PREFIX = "tag:google.com,2005:reader/item/"
TOKEN_DAYS = 30
MAX_ITEMS = 1000
MAX_IDS_PER_REQUEST = 10_000
Handler = Callable[[Request, Reader], Awaitable[Response]]


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _lenta(request: Request) -> Lenta:
    lenta: Lenta = request.app.state.lenta
    return lenta


# -- tokens ---------------------------------------------------------------------------------


def _sign(key: str, payload: str) -> str:
    return hmac.new(key.encode(), payload.encode(), hashlib.sha256).hexdigest()[:40]


def make_token(lenta: Lenta, user: User, tag: str) -> str:
    """A ClientLogin token: the user, when it ends, and which secret opened
    it (``tag``, :meth:`Lenta.secret_tag`: revoking or changing that secret
    ends the token)."""
    payload = base64.urlsafe_b64encode(
        json.dumps({"u": user.id, "e": int(time.time()) + TOKEN_DAYS * 86400, "s": tag}).encode()
    ).decode()
    return f"{user.name}/{payload}.{_sign(lenta.secret_key(), payload)}"


def user_of_token(lenta: Lenta, token: str) -> tuple[User, str] | None:
    """(the user, the secret's tag) of a valid token, or None."""
    if len(token) > 1024 or "/" not in token or "." not in token:
        return None
    _, _, rest = token.partition("/")
    payload, _, signature = rest.rpartition(".")
    if not hmac.compare_digest(signature, _sign(lenta.secret_key(), payload)):
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode()))
        user_id, expires, tag = int(claims["u"]), int(claims["e"]), str(claims["s"])
    except (ValueError, KeyError, TypeError, binascii_error()):
        return None
    if expires < time.time():
        return None
    try:
        user = lenta.get_user_by_id(user_id)
    except LentaError:
        return None
    if not lenta.secret_tag_valid(user, tag):
        return None
    return user, tag


def binascii_error() -> type[Exception]:
    import binascii

    return binascii.Error


def short_token(lenta: Lenta, token: str) -> str:
    """The ``T`` token of a session: what POSTs echo back."""
    return _sign(lenta.secret_key(), "T:" + token)[:57].ljust(57, "Z")


# -- request parts ----------------------------------------------------------------------------


async def _params(request: Request) -> dict[str, list[str]]:
    """Query and form fields together (clients send either), each a list."""
    found: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        found.setdefault(key, []).append(value)
    if request.method == "POST":
        form: FormData = await request.form(max_files=0, max_fields=MAX_IDS_PER_REQUEST)
        for key, field in form.multi_items():
            if isinstance(field, str):
                found.setdefault(key, []).append(field)
    return found


def _one(params: dict[str, list[str]], name: str, default: str = "") -> str:
    values = params.get(name)
    return values[0] if values else default


def _int(params: dict[str, list[str]], name: str, default: int) -> int:
    raw = _one(params, name)
    return int(raw) if raw.isdigit() and len(raw) <= 18 else default


def item_id(raw: str) -> int | None:
    """An item id in any of the three forms; None if it is none of them."""
    text = raw.strip()
    if text.startswith(ITEM_PREFIX):
        text = text[len(ITEM_PREFIX) :]
        return int(text, 16) if 0 < len(text) <= 16 and all(c in "0123456789abcdefABCDEF" for c in text) else None
    if len(text) == 16 and all(c in "0123456789abcdefABCDEF" for c in text):
        return int(text, 16)
    if text.lstrip("-").isdigit() and len(text) <= 20:
        value = int(text)
        return value + 2**64 if value < 0 else value
    return None


def long_id(value: int) -> str:
    return f"{ITEM_PREFIX}{value:016x}"


def _usec(moment: datetime | None) -> int:
    if moment is None:
        return 0
    return int(moment.timestamp() * 1_000_000)


# -- the endpoint wrapper -----------------------------------------------------------------------


def endpoint(handler: Handler, *, post: bool = False) -> Callable[[Request], Awaitable[Response]]:
    """Auth by GoogleLogin (any method) or T (POST), the user's reader, plain-text errors."""

    async def run(request: Request) -> Response:
        lenta = _lenta(request)
        header = request.headers.get("authorization", "")
        token = header.split("auth=", 1)[1].strip() if header.lower().startswith("googlelogin auth=") else ""
        found = await run_in_threadpool(user_of_token, lenta, token) if token else None
        if found is None and request.method == "POST":
            params = await _params(request)
            short = _one(params, "T")
            found = await run_in_threadpool(_by_short_token, lenta, short, request) if short else None
        if found is None:
            return PlainTextResponse("Unauthorized!", status_code=401, headers={"Google-Bad-Token": "true"})
        try:
            return await handler(request, lenta.reader(found[0]))
        except ApiError as problem:
            return PlainTextResponse(str(problem), status_code=problem.status)
        except NotFollowingError:
            return PlainTextResponse("Not found", status_code=404)
        except LentaError as problem:
            return PlainTextResponse(translate_error(problem, "en"), status_code=400)

    return run


def _by_short_token(lenta: Lenta, short: str, request: Request) -> tuple[User, str] | None:
    # The T token stands for the session that asked for it: the cookie-less
    # clients send it with the GoogleLogin header too; alone, it is matched
    # against the token in the "auth" field or query, when there is one.
    auth = request.query_params.get("auth", "")
    if auth and hmac.compare_digest(short_token(lenta, auth), short):
        return user_of_token(lenta, auth)
    return None


def ok() -> Response:
    return PlainTextResponse("OK")


# -- login ---------------------------------------------------------------------------------------


async def client_login(request: Request) -> Response:
    lenta = _lenta(request)
    params = await _params(request)
    name, password = _one(params, "Email"), _one(params, "Passwd")
    if not name or not password or len(name) > 256 or len(password) > 1024:
        return PlainTextResponse("Error=BadAuthentication\n", status_code=401)
    address = request.client.host if request.client else None
    try:
        user = await run_in_threadpool(lambda: lenta.api_sign_in(name, password, address=address))
    except LoginThrottledError as throttled:
        return PlainTextResponse(
            "Error=BadAuthentication\n", status_code=429, headers={"Retry-After": str(throttled.retry_after)}
        )
    if user is None:
        return PlainTextResponse("Error=BadAuthentication\n", status_code=401)
    tag = await run_in_threadpool(lenta.secret_tag, user, password)
    token = make_token(lenta, user, tag)
    return PlainTextResponse(f"SID={token}\nLSID=null\nAuth={token}\n")


async def token(request: Request, reader: Reader) -> Response:
    header = request.headers.get("authorization", "")
    auth = header.split("auth=", 1)[1].strip() if "auth=" in header else ""
    return PlainTextResponse(short_token(_lenta(request), auth))


async def user_info(request: Request, reader: Reader) -> Response:
    user = reader.user
    return JSONResponse({"userId": str(user.id), "userName": user.name, "userProfileId": str(user.id), "userEmail": ""})


# -- subscriptions and tags ----------------------------------------------------------------------


def _folders(reader: Reader) -> dict[int, str]:
    return {f.id: f.name for f in reader.folders()}


def _subscription_json(followed: Followed, folders: dict[int, str]) -> dict[str, Any]:
    return {
        "id": f"feed/{followed.id}",
        "title": followed.title,
        "categories": [{"id": f"{LABEL}{folders[f]}", "label": folders[f]} for f in followed.folder_ids if f in folders],
        "url": followed.url,
        "htmlUrl": followed.site_url or followed.url,
        "iconUrl": "",
    }


async def subscription_list(request: Request, reader: Reader) -> Response:
    def shape() -> dict[str, Any]:
        folders = _folders(reader)
        return {"subscriptions": [_subscription_json(f, folders) for f in reader.followed()]}

    return JSONResponse(await run_in_threadpool(shape))


def _subscription_id(stream: str) -> int:
    if stream.startswith("feed/") and stream[5:].isdigit() and len(stream) < 25:
        return int(stream[5:])
    raise NotFollowingError(stream[:60])


def _folder_named(reader: Reader, label: str) -> int:
    name = label[len(LABEL) :] if label.startswith(LABEL) else label
    for folder in reader.folders():
        if folder.name == name:
            return folder.id
    return reader.add_folder(name).id


async def subscription_edit(request: Request, reader: Reader) -> Response:
    params = await _params(request)
    action = _one(params, "ac")
    streams = params.get("s", [])
    if not streams:
        raise ApiError(400, "Missing s")
    for stream in streams:
        if action == "subscribe":
            url = stream[5:] if stream.startswith("feed/") else stream
            try:
                followed = await reader.follow(url)
            except AlreadyFollowingError:
                continue
            await run_in_threadpool(_edit, reader, followed.id, params)
        elif action == "unsubscribe":
            await run_in_threadpool(reader.unfollow, _subscription_id(stream))
        elif action == "edit":
            await run_in_threadpool(_edit, reader, _subscription_id(stream), params)
        else:
            raise ApiError(400, "Unknown ac")
    return ok()


def _edit(reader: Reader, subscription_id: int, params: dict[str, list[str]]) -> None:
    current = set(reader.subscription(subscription_id).folder_ids)  # another's: not found, before any folder is made
    title = _one(params, "t")
    if title:
        reader.rename(subscription_id, title)
    added = [_folder_named(reader, label) for label in params.get("a", []) if label.startswith(LABEL)]
    removed_names = {label[len(LABEL) :] for label in params.get("r", []) if label.startswith(LABEL)}
    if added or removed_names:
        folders = {f.id: f.name for f in reader.folders()}
        kept = {f for f in current if folders.get(f) not in removed_names} | set(added)
        reader.file(subscription_id, kept)


async def quickadd(request: Request, reader: Reader) -> Response:
    params = await _params(request)
    url = _one(params, "quickadd")
    if url.startswith("feed/"):
        url = url[5:]
    try:
        followed = await reader.follow(url)
    except AlreadyFollowingError:
        followed = next(f for f in reader.followed() if f.url == url)
    return JSONResponse({"numResults": 1, "query": url, "streamId": f"feed/{followed.id}", "streamName": followed.title})


async def export(request: Request, reader: Reader) -> Response:
    return Response(await run_in_threadpool(reader.export_opml), media_type="text/x-opml; charset=utf-8")


async def import_opml(request: Request, reader: Reader) -> Response:
    data = await request.body()
    await run_in_threadpool(reader.import_opml, data)
    return ok()


async def tag_list(request: Request, reader: Reader) -> Response:
    def shape() -> dict[str, Any]:
        tags: list[dict[str, Any]] = [{"id": STARRED}]
        tags += [{"id": f"{LABEL}{f.name}", "type": "folder"} for f in reader.folders()]
        tags += [{"id": f"{LABEL}{t.name}", "type": "tag"} for t in reader.tags()]
        return {"tags": tags}

    return JSONResponse(await run_in_threadpool(shape))


async def rename_tag(request: Request, reader: Reader) -> Response:
    params = await _params(request)
    source, destination = _one(params, "s"), _one(params, "dest")
    if not source.startswith(LABEL) or not destination.startswith(LABEL):
        raise ApiError(400, "Bad label")
    old, new = source[len(LABEL) :], destination[len(LABEL) :]

    def rename() -> None:
        for folder in reader.folders():
            if folder.name == old:
                reader.change_folder(folder.id, new, folder.parent_id)
                return
        for tag in reader.tags():
            if tag.name == old:
                reader.rename_tag(tag.id, new)
                return
        raise NotFollowingError(old)

    await run_in_threadpool(rename)
    return ok()


async def disable_tag(request: Request, reader: Reader) -> Response:
    params = await _params(request)
    label = _one(params, "s")
    name = label[len(LABEL) :] if label.startswith(LABEL) else label

    def remove() -> None:
        for folder in reader.folders():
            if folder.name == name:
                reader.delete_folder(folder.id)
                return
        for tag in reader.tags():
            if tag.name == name:
                reader.delete_tag(tag.id)
                return
        raise NotFollowingError(name)

    await run_in_threadpool(remove)
    return ok()


async def unread_count(request: Request, reader: Reader) -> Response:
    def shape() -> dict[str, Any]:
        followed = reader.followed()
        folders = _folders(reader)
        counts = [{"id": f"feed/{f.id}", "count": f.unread, "newestItemTimestampUsec": "0"} for f in followed]
        by_folder: dict[int, int] = {}
        for f in followed:
            for folder_id in f.folder_ids:
                by_folder[folder_id] = by_folder.get(folder_id, 0) + f.unread
        counts += [
            {"id": f"{LABEL}{folders[i]}", "count": n, "newestItemTimestampUsec": "0"}
            for i, n in by_folder.items()
            if i in folders
        ]
        total = sum(f.unread for f in followed)
        counts.append({"id": READING_LIST, "count": total, "newestItemTimestampUsec": "0"})
        return {"max": total, "unreadcounts": counts}

    return JSONResponse(await run_in_threadpool(shape))


# -- streams ----------------------------------------------------------------------------------------


def _stream_query(reader: Reader, stream: str, params: dict[str, list[str]]) -> SyncQuery:
    """The items of a stream, filtered and ordered as asked, from the continuation on."""
    feed_ids: list[int] | None = None
    starred: bool | None = None
    read: bool | None = None
    tag_id: int | None = None
    if stream in ("", READING_LIST):
        pass
    elif stream == STARRED:
        starred = True
    elif stream == READ:
        read = True
    elif stream.startswith("feed/"):
        feed_ids = [reader.subscription(_subscription_id(stream)).feed_id]
    elif stream.startswith(LABEL):
        name = stream[len(LABEL) :]
        folder = next((f for f in reader.folders() if f.name == name), None)
        if folder is not None:
            feed_ids = [f.feed_id for f in reader.followed() if _in_tree(reader, f.folder_ids, folder.id)]
        else:
            tag = next((t for t in reader.tags() if t.name == name), None)
            if tag is None:
                raise NotFollowingError(name)
            tag_id = tag.id
    else:
        raise NotFollowingError(stream[:60])
    for excluded in params.get("xt", []):
        if excluded == READ:
            read = False
        elif excluded == STARRED:
            starred = False
    for included in params.get("it", []):
        if included == STARRED:
            starred = True
        elif included == READ:
            read = True
    older = _seconds(_one(params, "nt"))
    newer = _seconds(_one(params, "ot"))
    limit = max(1, min(_int(params, "n", 20), MAX_ITEMS))
    continuation = _int(params, "c", 0)
    if tag_id is not None:
        ids = [e.item.id for e in reader.items("all", tag_id=tag_id, per_page=200).items]
        return SyncQuery(item_ids=ids, read=read, starred=starred, limit=limit, offset=continuation)
    return SyncQuery(
        feed_ids=feed_ids,
        read=read,
        starred=starred,
        published_after=newer,
        published_before=older,
        order="published_at",
        descending=_one(params, "r") != "o",
        limit=limit,
        offset=continuation,
    )


def _in_tree(reader: Reader, folder_ids: tuple[int, ...], root: int) -> bool:
    parents = {f.id: f.parent_id for f in reader.folders()}
    for folder_id in folder_ids:
        cursor: int | None = folder_id
        hops = 0
        while cursor is not None and hops < 32:
            if cursor == root:
                return True
            cursor, hops = parents.get(cursor), hops + 1
    return False


def _seconds(raw: str) -> datetime | None:
    if not raw.isdigit() or len(raw) > 20:
        return None
    value = int(raw)
    if value > 10**12:  # microseconds
        value //= 1_000_000
    try:
        return datetime.fromtimestamp(min(value, 253402300799), UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _continuation(found: list[ReaderItem], spec: SyncQuery) -> str | None:
    return str(spec.offset + len(found)) if len(found) == spec.limit else None


async def item_ids(request: Request, reader: Reader) -> Response:
    params = await _params(request)

    def find() -> dict[str, Any]:
        spec = _stream_query(reader, _one(params, "s", READING_LIST), params)
        found, _ = reader.sync_items(spec)
        answer: dict[str, Any] = {
            "itemRefs": [
                {"id": str(e.item.id), "directStreamIds": [], "timestampUsec": str(_usec(e.item.published_at or e.item.date))}
                for e in found
            ]
        }
        more = _continuation(found, spec)
        if more is not None:
            answer["continuation"] = more
        return answer

    return JSONResponse(await run_in_threadpool(find))


class _Shaper:
    def __init__(self, reader: Reader) -> None:
        self.followed = {f.feed_id: f for f in reader.followed()}
        self.folders = _folders(reader)

    def item(self, entry: ReaderItem) -> dict[str, Any]:
        item = entry.item
        followed = self.followed.get(item.feed_id)
        categories = [READING_LIST]
        if entry.read:
            categories.append(READ)
        if entry.starred:
            categories.append(STARRED)
        if followed is not None:
            categories += [f"{LABEL}{self.folders[f]}" for f in followed.folder_ids if f in self.folders]
        moment = item.published_at or item.date
        seen = item.first_seen_at or item.date
        return {
            "id": long_id(item.id),
            "crawlTimeMsec": str(_usec(seen) // 1000),
            "timestampUsec": str(_usec(moment)),
            "published": int(moment.timestamp()),
            "updated": int((item.updated_at or moment).timestamp()),
            "title": item.title or "",
            "canonical": [{"href": item.link}] if item.link else [],
            "alternate": [{"href": item.link, "type": "text/html"}] if item.link else [],
            "categories": categories,
            "origin": {
                "streamId": f"feed/{followed.id}" if followed else "",
                "title": followed.title if followed else "",
                "htmlUrl": (followed.site_url or followed.url) if followed else "",
            },
            "summary": {"direction": "ltr", "content": item.content or item.summary or ""},
            "author": item.author or "",
            "enclosure": [{"href": e.url, "type": e.mime_type or "", "length": e.length or 0} for e in item.enclosures],
        }


async def items_contents(request: Request, reader: Reader) -> Response:
    params = await _params(request)

    def find() -> dict[str, Any]:
        wanted = [item_id(raw) for raw in params.get("i", [])[:MAX_ITEMS]]
        ids = [value for value in wanted if value is not None]
        found, _ = reader.sync_items(SyncQuery(item_ids=ids, limit=MAX_ITEMS, order="published_at", descending=True))
        shaper = _Shaper(reader)
        return {"id": READING_LIST, "updated": int(time.time()), "items": [shaper.item(e) for e in found]}

    return JSONResponse(await run_in_threadpool(find))


async def stream_contents(request: Request, reader: Reader) -> Response:
    params = await _params(request)
    stream = str(request.path_params.get("stream", "")) or _one(params, "s", READING_LIST)

    def find() -> dict[str, Any]:
        spec = _stream_query(reader, stream, params)
        found, _ = reader.sync_items(spec)
        shaper = _Shaper(reader)
        answer: dict[str, Any] = {"id": stream, "updated": int(time.time()), "items": [shaper.item(e) for e in found]}
        more = _continuation(found, spec)
        if more is not None:
            answer["continuation"] = more
        return answer

    return JSONResponse(await run_in_threadpool(find))


async def edit_tag(request: Request, reader: Reader) -> Response:
    params = await _params(request)
    ids = [value for value in (item_id(raw) for raw in params.get("i", [])[:MAX_IDS_PER_REQUEST]) if value is not None]
    add, remove = params.get("a", []), params.get("r", [])
    adds_labels = any(label.startswith(LABEL) for label in add)

    def apply() -> None:
        for identifier in ids:
            try:
                if adds_labels:
                    reader.item(identifier)  # another's item: no tag made for it
                if READ in add:
                    reader.mark_read([identifier])
                if READ in remove or KEPT_UNREAD in add:
                    reader.mark_unread([identifier])
                if STARRED in add:
                    reader.star(identifier, True)
                if STARRED in remove:
                    reader.star(identifier, False)
                for label in add:
                    if label.startswith(LABEL):
                        reader.tag_item(identifier, reader.add_tag(label[len(LABEL) :]).id)
                for label in remove:
                    if label.startswith(LABEL):
                        tag = next((t for t in reader.tags() if t.name == label[len(LABEL) :]), None)
                        if tag is not None:
                            reader.tag_item(identifier, tag.id, False)
            except NotFollowingError:  # not the user's: nothing to do, as the originals answer
                continue

    await run_in_threadpool(apply)
    return ok()


async def mark_all_as_read(request: Request, reader: Reader) -> Response:
    params = await _params(request)
    stream = _one(params, "s", READING_LIST)
    before = _seconds(_one(params, "ts"))

    def mark() -> None:
        spec = _stream_query(reader, stream, {"xt": [READ], "n": [str(MAX_ITEMS)]})
        if before is None and spec.item_ids is None and spec.starred is None and spec.read is None:
            through = reader.items("all", per_page=1).through
            if spec.feed_ids is None:
                reader.mark_all_read(through=through)
                return
            for followed in reader.followed():
                if followed.feed_id in spec.feed_ids:
                    reader.mark_all_read(through=through, subscription_id=followed.id)
            return
        while True:  # a time or a state: the unread items up to it, a page at a time
            page = SyncQuery(
                feed_ids=spec.feed_ids,
                item_ids=spec.item_ids,
                starred=spec.starred,
                read=False,
                published_before=before,
                limit=MAX_ITEMS,
            )
            found, _ = reader.sync_items(page)
            if not found:
                return
            reader.mark_read([e.item.id for e in found])

    await run_in_threadpool(mark)
    return ok()


async def atom(request: Request, reader: Reader) -> Response:
    """A stream as Atom, with Google's read labels (newsboat's feedhq reads this)."""
    params = await _params(request)
    stream = str(request.path_params.get("stream", ""))

    def render() -> str:
        spec = _stream_query(reader, stream, params)
        found, _ = reader.sync_items(spec)
        title = stream
        if stream.startswith("feed/"):  # the feed's own title, as Google Reader gave
            title = reader.subscription(_subscription_id(stream)).title
        elif stream.startswith(LABEL):
            title = stream[len(LABEL) :]
        parts = [
            '<?xml version="1.0" encoding="utf-8"?>',
            '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:gr="http://www.google.com/schemas/reader/atom/">',
            f"<id>{escape(stream)}</id><title>{escape(title)}</title>",
            f"<updated>{datetime.now(UTC).isoformat(timespec='seconds').replace('+00:00', 'Z')}</updated>",
        ]
        for entry in found:
            item = entry.item
            label = "read" if entry.read else "fresh"
            term = READ if entry.read else "user/-/state/com.google/fresh"
            moment = (item.published_at or item.date).isoformat(timespec="seconds").replace("+00:00", "Z")
            parts.append(
                "<entry>"
                f"<id>{long_id(item.id)}</id>"
                f'<title type="html">{escape(item.title or "")}</title>'
                f"<published>{moment}</published><updated>{moment}</updated>"
                + (f'<link rel="alternate" href={quoteattr(item.link)} type="text/html"/>' if item.link else "")
                + f'<content type="html">{escape(item.content or item.summary or "")}</content>'
                + (f"<author><name>{escape(item.author)}</name></author>" if item.author else "")
                + f'<category term="{term}" scheme="http://www.google.com/reader/" label="{label}"/>'
                + (
                    f'<category term="{STARRED}" scheme="http://www.google.com/reader/" label="starred"/>'
                    if entry.starred
                    else ""
                )
                + "</entry>"
            )
        parts.append("</feed>")
        return "".join(parts)

    # No validators: a read state changes what the same items say.
    return Response(
        await run_in_threadpool(render), media_type="application/atom+xml; charset=utf-8", headers={"Cache-Control": "no-store"}
    )


def routes() -> list[Route]:
    base = "/reader/api/0"
    table: list[tuple[str, Handler, list[str]]] = [
        ("/token", token, ["GET", "POST"]),
        ("/user-info", user_info, ["GET"]),
        ("/subscription/list", subscription_list, ["GET"]),
        ("/subscription/edit", subscription_edit, ["POST"]),
        ("/subscription/quickadd", quickadd, ["POST"]),
        ("/subscription/export", export, ["GET"]),
        ("/subscription/import", import_opml, ["POST"]),
        ("/tag/list", tag_list, ["GET"]),
        ("/rename-tag", rename_tag, ["POST"]),
        ("/disable-tag", disable_tag, ["POST"]),
        ("/unread-count", unread_count, ["GET"]),
        ("/stream/items/ids", item_ids, ["GET", "POST"]),
        ("/stream/items/contents", items_contents, ["GET", "POST"]),
        ("/stream/contents/{stream:path}", stream_contents, ["GET", "POST"]),
        ("/stream/contents", stream_contents, ["GET", "POST"]),
        ("/edit-tag", edit_tag, ["POST"]),
        ("/mark-all-as-read", mark_all_as_read, ["POST"]),
    ]
    found = [Route(f"{base}{path}", endpoint(handler), methods=methods) for path, handler, methods in table]
    found.append(Route("/reader/atom/{stream:path}", endpoint(atom), methods=["GET"]))
    found.append(Route("/accounts/ClientLogin", client_login, methods=["GET", "POST"]))
    return found
