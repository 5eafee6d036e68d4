"""The Fever API (issue 12) at ``/fever/`` and ``/api/fever.php``, over the reader.

One endpoint: every request carries ``api_key`` (md5 of "user name:app
password", :meth:`lenta.core.Lenta.user_by_fever_key`) and names what it
wants with bare parameters, in the query string or the (form) body, several
at once: ``groups``, ``feeds``, ``favicons``, ``items`` (``since_id``,
``max_id``, ``with_ids``; 50 a reply), ``links``, ``unread_item_ids``,
``saved_item_ids``, and ``mark`` (``as``, ``id``, ``before``). A bad key is
``{"api_version": 3, "auth": 0}``; every other answer has ``api_version``
3, ``auth`` 1 and ``last_refreshed_on_time``. Shapes as Fever documents
them and as FreshRSS and Miniflux serve them.

Ids are the user's, as in the Miniflux adapter: a feed is a subscription,
a group a folder (its own id: Fever has no "All" group to make room for;
the feeds in no folder are in no group, and clients show them under their
"All items"), an item is an item of a followed feed. A folder's group holds
the feeds of the folders inside it too, as lenta's folder view does; a feed
in several folders is in several groups, which Fever allows.

The Fever section of docs/sync-apis.md lists the deviations.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import UTC
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.responses import Response
from starlette.routing import Route

from lenta.core import Lenta
from lenta.exceptions import FeedNotFoundError
from lenta.exceptions import NotFollowingError
from lenta.reader import Reader
from lenta.storage._reader import SyncQuery
from lenta.storage._reader import descendants
from lenta.types import Folder
from lenta.types import Followed
from lenta.types import ReaderItem

API_VERSION = 3
PER_REPLY = 50  # items a reply, as Fever gives them
MAX_WITH_IDS = 1000  # ids one with_ids or mark=item asks for (Fever's clients ask 50 at a time)
MAX_PARAMETER_CHARS = 64 * 1024
MAX_FIELDS = 100  # in a body: a Fever call has a handful
PATHS = ("/fever/", "/fever", "/api/fever.php")
_LATEST = datetime(9999, 12, 31, tzinfo=UTC)


# -- request parts ------------------------------------------------------------------------


async def parameters(request: Request) -> dict[str, str]:
    """The query string's parameters with the body's over them (PHP's
    ``$_REQUEST``): a form, url-encoded whatever the Content-Type says, or
    multipart; a JSON object is read too."""
    found: dict[str, str] = dict(request.query_params)
    if request.method != "POST":
        return found
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind == "multipart/form-data":
        async with request.form(max_files=10, max_fields=MAX_FIELDS) as form:
            found.update({key: value for key, value in form.items() if isinstance(value, str)})
        return found
    raw = (await request.body()).decode("utf-8", "replace")
    if raw.lstrip().startswith("{"):
        try:
            value = json.loads(raw)
        except ValueError:
            value = None
        if isinstance(value, dict):
            found.update({str(key): _text(item) for key, item in value.items()})
            return found
    try:
        found.update(parse_qsl(raw, keep_blank_values=True, max_num_fields=MAX_FIELDS))
    except ValueError:  # more fields than any Fever call has
        pass
    return found


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list):
        return ",".join(_text(item) for item in value)
    return "" if value is None else str(value)


def _int(raw: str | None) -> int | None:
    """A non-negative integer, or None (missing, empty, garbage, negative)."""
    raw = (raw or "").strip()
    if raw.isascii() and raw.isdigit() and len(raw) <= 18:
        return int(raw)
    return None


def _ids(raw: str | None, limit: int = MAX_WITH_IDS) -> list[int]:
    """A comma-separated list of ids; what is not a positive id is skipped."""
    found: dict[int, None] = {}
    for part in (raw or "")[:MAX_PARAMETER_CHARS].split(","):
        value = _int(part)
        if value:
            found[value] = None
            if len(found) >= limit:
                break
    return list(found)


def _unix(moment: datetime | None) -> int:
    return int(moment.timestamp()) if moment is not None else 0


# -- the user's groups and feeds ----------------------------------------------------------


class Shelf:
    """The user's subscriptions and folders as Fever sees them, read once a request."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.followed = reader.followed()
        self.folders = reader.folders()
        self.by_id = {f.id: f for f in self.followed}
        self.subscription_of = {f.feed_id: f.id for f in self.followed}
        known = {f.id: f for f in self.folders}
        self.members: dict[int, list[Followed]] = {}
        for folder in self.folders:
            inside = descendants(known, folder.id)
            self.members[folder.id] = [f for f in self.followed if inside.intersection(f.folder_ids)]

    def groups(self) -> list[dict[str, Any]]:
        names = [folder.name.casefold() for folder in self.folders]
        known = {f.id: f for f in self.folders}
        return [
            {"id": folder.id, "title": folder.name if names.count(folder.name.casefold()) == 1 else _path(known, folder)}
            for folder in self.folders
        ]

    def feeds_groups(self) -> list[dict[str, Any]]:
        return [
            {"group_id": folder.id, "feed_ids": ",".join(str(f.id) for f in sorted(self.members[folder.id], key=lambda f: f.id))}
            for folder in self.folders
            if self.members[folder.id]
        ]

    def feeds(self, lenta: Lenta) -> list[dict[str, Any]]:
        with_icons = lenta.icon_versions([f.feed_id for f in self.followed])
        found = []
        for followed in self.followed:
            try:
                feed = lenta.get_feed(followed.feed_id)
                updated = _unix(feed.modified_at or feed.checked_at)
            except FeedNotFoundError:  # unfollowed meanwhile
                continue
            found.append(
                {
                    "id": followed.id,
                    "favicon_id": followed.id if followed.feed_id in with_icons else 0,
                    "title": followed.title,
                    "url": followed.url,
                    "site_url": followed.site_url or followed.url,
                    "is_spark": 0,
                    "last_updated_on_time": updated,
                }
            )
        return found

    def favicons(self, lenta: Lenta) -> list[dict[str, Any]]:
        found = []
        for followed in self.followed:
            icon = lenta.feed_icon(followed.feed_id)
            if icon is not None and icon.data:
                encoded = base64.b64encode(icon.data).decode("ascii")
                found.append({"id": followed.id, "data": f"{icon.media_type};base64,{encoded}"})
        return found

    def feed_ids_of(self, values: Mapping[str, str]) -> list[int] | None:
        """The lenta feed ids ``feed_ids`` and ``group_ids`` name (None: no
        filter, or group 0, Fever's "Kindling": every feed). Ids not the
        user's name nothing."""
        if "feed_ids" not in values and "group_ids" not in values:
            return None
        wanted: set[int] = set()
        for sid in _ids(values.get("feed_ids")):
            if sid in self.by_id:
                wanted.add(self.by_id[sid].feed_id)
        for raw in (values.get("group_ids") or "").split(","):
            gid = _int(raw)
            if gid == 0:
                return None
            for followed in self.members.get(gid or -1, []):
                wanted.add(followed.feed_id)
        return sorted(wanted)

    def item_json(self, entry: ReaderItem) -> dict[str, Any]:
        item = entry.item
        return {
            "id": item.id,
            "feed_id": self.subscription_of.get(item.feed_id, 0),
            "title": item.title or "",
            "author": item.author or "",
            "html": item.content or item.summary or "",
            "url": item.link or "",
            "is_saved": 1 if entry.starred else 0,
            "is_read": 1 if entry.read else 0,
            "created_on_time": _unix(item.published_at or item.date),
        }


def _path(folders: dict[int, Folder], folder: Folder) -> str:
    names, cursor, hops = [folder.name], folder.parent_id, 0
    while cursor is not None and cursor in folders and hops < 32:
        names.append(folders[cursor].name)
        cursor, hops = folders[cursor].parent_id, hops + 1
    return " / ".join(reversed(names))


# -- selectors ----------------------------------------------------------------------------


def items(shelf: Shelf, values: Mapping[str, str]) -> tuple[list[dict[str, Any]], int]:
    """Fever's ``items``: 50 after ``since_id`` (oldest first), before
    ``max_id`` (newest first; 0 or empty: the newest), or those ``with_ids``
    names; none of these: the oldest. With the total of the user's items."""
    reader = shelf.reader
    feed_ids = shelf.feed_ids_of(values)
    spec: SyncQuery
    if "max_id" in values:
        max_id = _int(values["max_id"]) or 0
        spec = SyncQuery(feed_ids=feed_ids, before_id=max_id or None, order="id", descending=True, limit=PER_REPLY)
    elif "with_ids" in values:
        wanted = _ids(values["with_ids"])
        spec = SyncQuery(feed_ids=feed_ids, item_ids=wanted, order="id", limit=max(1, len(wanted)))
    else:
        since = _int(values.get("since_id")) or 0
        spec = SyncQuery(feed_ids=feed_ids, after_id=since, order="id", limit=PER_REPLY)
    found: list[ReaderItem] = []
    if (spec.feed_ids is None or spec.feed_ids) and (spec.item_ids is None or spec.item_ids):
        found, _ = reader.sync_items(spec)
    _, total = reader.sync_items(SyncQuery(order="id", limit=1))
    return [shelf.item_json(entry) for entry in found], total


def _id_list(ids: list[int]) -> str:
    return ",".join(str(i) for i in ids)


def mark(reader: Reader, values: Mapping[str, str]) -> str | None:
    """Fever's ``mark``: an item read, unread, saved or unsaved; a feed or a
    group read up to what arrived ``before`` (unix seconds; missing or 0:
    now). Ids not the user's are ignored, as Fever's servers ignore unknown
    ids. Returns which id list the answer carries again (FreshRSS's habit)."""
    what, state = values.get("mark", "").strip().lower(), values.get("as", "").strip().lower()
    if what == "item" and state in ("read", "unread", "saved", "unsaved"):
        for item_id in _ids(values.get("id")):
            try:
                if state == "read":
                    reader.mark_read([item_id])
                elif state == "unread":
                    reader.mark_unread([item_id])
                else:
                    reader.star(item_id, state == "saved")
            except NotFollowingError:
                continue
        return "saved_item_ids" if state in ("saved", "unsaved") else "unread_item_ids"
    if what in ("feed", "group") and state == "read":
        target = _int(values.get("id"))
        if target is None:  # Sparks (-1) and garbage: nothing
            return "unread_item_ids"
        before = (values.get("before") or "").strip()
        if before.startswith("-"):
            return "unread_item_ids"
        seconds = _int(before) or 0  # missing or 0: everything there is now, as FreshRSS
        moment = datetime.fromtimestamp(seconds, UTC) if 0 < seconds < _LATEST.timestamp() else _LATEST
        through = reader.arrived_through(moment)
        try:
            if what == "feed":
                reader.mark_all_read(through=through, subscription_id=target)
            elif target == 0:  # Kindling: everything
                reader.mark_all_read(through=through)
            else:
                reader.mark_all_read(through=through, folder_id=target)
        except NotFollowingError:
            pass
        return "unread_item_ids"
    return None


def answer(lenta: Lenta, reader: Reader, values: Mapping[str, str]) -> dict[str, Any]:
    """Everything a request asks for, marks first (so what it reads shows them)."""
    now = lenta.clock()
    reply: dict[str, Any] = {"api_version": API_VERSION, "auth": 1, "last_refreshed_on_time": _unix(now)}
    again = mark(reader, values) if "mark" in values else None
    shelf = Shelf(reader) if any(name in values for name in ("groups", "feeds", "favicons", "items")) else None
    if shelf is not None and "groups" in values:
        reply["groups"] = shelf.groups()
        reply["feeds_groups"] = shelf.feeds_groups()
    if shelf is not None and "feeds" in values:
        reply["feeds"] = shelf.feeds(lenta)
        reply["feeds_groups"] = shelf.feeds_groups()
    if shelf is not None and "favicons" in values:
        reply["favicons"] = shelf.favicons(lenta)
    if shelf is not None and "items" in values:
        found, total = items(shelf, values)
        reply["total_items"] = total
        reply["items"] = found
    if "links" in values:
        reply["links"] = []  # lenta has no "hot links"
    if "unread_item_ids" in values or again == "unread_item_ids":
        reply["unread_item_ids"] = _id_list(reader.item_ids(read=False))
    if "saved_item_ids" in values or again == "saved_item_ids":
        reply["saved_item_ids"] = _id_list(reader.item_ids(starred=True))
    return reply


# -- the endpoint -------------------------------------------------------------------------


def _is_key(value: str) -> bool:
    return len(value) == 32 and all(c in "0123456789abcdefABCDEF" for c in value)


async def fever(request: Request) -> Response:
    lenta: Lenta = request.app.state.lenta
    values = await parameters(request)
    key = values.get("api_key", "").strip()
    user = await run_in_threadpool(lenta.user_by_fever_key, key) if _is_key(key) else None
    if user is None:
        return JSONResponse({"api_version": API_VERSION, "auth": 0})
    reader = lenta.reader(user)
    return JSONResponse(await run_in_threadpool(answer, lenta, reader, values))


def routes() -> list[Route]:
    """The API's routes: ``/fever/`` (Miniflux's path; ``/fever`` too) and
    ``/api/fever.php`` (FreshRSS's)."""
    return [Route(path, fever, methods=["GET", "POST"]) for path in PATHS]
