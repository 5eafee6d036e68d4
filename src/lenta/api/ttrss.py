"""The Tiny Tiny RSS API (issue 12) at ``/api/`` (and ``/tt-rss/api/``),
over the user's reader.

Every call is a POST whose body is a JSON object ``{"op": …, "sid": …,
<arguments>}``, read as JSON whatever Content-Type the client claims
(newsboat 2.21 claims a form; a real url-encoded form is read too), with
arguments as JSON strings, numbers or booleans alike, read as PHP reads
them. Every answer is HTTP 200 ``{"seq": <the call's seq, or 0>,
"status": 0 (ok) | 1 (error), "content": …}``; errors are
``{"error": "NOT_LOGGED_IN" | "LOGIN_ERROR" | "API_DISABLED" |
"INCORRECT_USAGE" | "UNKNOWN_METHOD" | "E_OPERATION_FAILED" | "E_NOT_FOUND"}``.
Shapes are those of TT-RSS's ``classes/API.php`` (API level 23).

Sessions: ``login`` takes the user's name and an app password (or the
account's password, when no second factor guards it; throttled as the
web's sign-in) and gives a ``session_id`` signed with the site's key,
tied to that secret (revoking the app password or changing the password
ends it) and good for 30 days; ``logout`` forgets it in this process. The
API is off for a user until they turn it on on their settings page (as
TT-RSS's "Enable API access"): off, ``login`` answers ``API_DISABLED``,
and so does every call of a session opened before.

Ids, as in the Miniflux adapter: a feed is the user's subscription id, a
category is a folder id (0 is "Uncategorized", the subscriptions in no
folder; a subscription in several folders shows the lowest as its
``cat_id``, and is listed in each), an article is lenta's item id (of a
followed feed; any other id is unknown). Special feeds: -1 starred, -3
fresh (unread, arrived in the last 24 hours), -4 all; special categories:
-1 (those feeds), -3 (every real feed), -4 (every feed, special ones too).
Published (-2), archived (0), recently read (-6), labels (-2 category and
ids below -1024) and tags by name are empty: lenta has no published state,
archive or labels in TT-RSS's sense. The section "Tiny Tiny RSS" of
docs/sync-apis.md lists every deviation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import replace
from datetime import UTC
from datetime import timedelta
from html import unescape
from typing import Any
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.responses import Response
from starlette.routing import Route

from lenta import __version__
from lenta.core import Lenta
from lenta.core import normalize_feed_url
from lenta.exceptions import AlreadyFollowingError
from lenta.exceptions import FetchError
from lenta.exceptions import FetchErrorKind
from lenta.exceptions import InvalidInputError
from lenta.exceptions import LentaError
from lenta.exceptions import LoginThrottledError
from lenta.exceptions import NotAFeedError
from lenta.exceptions import NotFollowingError
from lenta.exceptions import ParseError
from lenta.i18n import translate_error
from lenta.reader import Reader
from lenta.storage._reader import SyncQuery
from lenta.storage._reader import View
from lenta.types import Folder
from lenta.types import Followed
from lenta.types import ReaderItem
from lenta.types import User

API_LEVEL = 23
SID_DAYS = 30
MAX_HEADLINES = 200  # TT-RSS's cap on getHeadlines' limit
MAX_IDS = 10_000  # article ids in one updateArticle or getArticle
FRESH_HOURS = 24  # TT-RSS's FRESH_ARTICLE_MAX_AGE default
FEED_STARRED, FEED_PUBLISHED, FEED_FRESH, FEED_ALL = -1, -2, -3, -4
CATEGORY_UNCATEGORIZED, CATEGORY_SPECIAL, CATEGORY_LABELS = 0, -1, -2
CATEGORY_ALL_EXCEPT_VIRTUAL, CATEGORY_ALL = -3, -4
SPECIAL_FEEDS = {FEED_STARRED: "Starred articles", FEED_FRESH: "Fresh articles", FEED_ALL: "All articles"}
PATHS = ("/api/", "/api", "/api/index.php", "/tt-rss/api/", "/tt-rss/api", "/tt-rss/api/index.php")
_INTEGER = re.compile(r"\s*([+-]?\d+)")
_TAG = re.compile(r"<[^>]*>")
_BOUND = 2**62
MAX_ID = 2**31 - 1  # lenta's ids are 32-bit integers: a larger one names nothing


class Failure(Exception):
    """An error answer: ``{"status": 1, "content": {"error": code, **more}}``."""

    def __init__(self, code: str, **more: Any) -> None:
        super().__init__(code)
        self.content: dict[str, Any] = {"error": code, **more}


def _lenta(request: Request) -> Lenta:
    lenta: Lenta = request.app.state.lenta
    return lenta


# -- arguments, read as PHP reads them ------------------------------------------------------


async def _arguments(request: Request) -> dict[str, Any]:
    """The call's arguments: the body as a JSON object whatever its type;
    else a url-encoded form; nothing else."""
    if request.method != "POST":
        return {}
    raw = await request.body()
    try:
        value = json.loads(raw) if raw.strip() else {}
    except ValueError:
        try:
            return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_IDS))
        except (UnicodeDecodeError, ValueError):
            return {}
    return value if isinstance(value, dict) else {}


def _text(args: dict[str, Any], name: str) -> str:
    value = args.get(name)
    if value is None or isinstance(value, (dict, list)):
        return ""
    if isinstance(value, bool):
        return "1" if value else ""
    return str(value).strip()


def _int(args: dict[str, Any], name: str, default: int = 0) -> int:
    """PHP's ``(int)``: the leading integer of a string ("12abc" is 12), 0 for
    none; kept within ±2^62, so that any of them binds as a database integer."""
    value = args.get(name)
    if value is None:
        return default
    if isinstance(value, (bool, int)):
        number = int(value)
    elif isinstance(value, float):
        number = int(value) if abs(value) < _BOUND else 0
    else:
        found = _INTEGER.match(str(value)[:40])
        number = int(found.group(1)) if found is not None and len(found.group(1)) <= 30 else 0
    return max(-_BOUND, min(_BOUND, number))


def _bool(args: dict[str, Any], name: str, default: bool = False) -> bool:
    """TT-RSS's ``_param_to_bool``: PHP-truthy and not "f" or "false"."""
    value = args.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    text = str(value).strip()
    return text not in ("", "0", "f", "false")


def _id_list(value: Any) -> list[int] | None:
    """TT-RSS's ``_param_to_int_array``: a comma-separated string or a list of
    integers; None when empty or when any part is not an integer."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return [value]
    parts = [str(part).strip() for part in value] if isinstance(value, list) else str(value).split(",")
    parts = [part.strip() for part in parts if part.strip()]
    if not parts or len(parts) > MAX_IDS or not all(re.fullmatch(r"[+-]?\d{1,18}", part) for part in parts):
        return None
    return [int(part) for part in parts if 0 < int(part) <= MAX_ID]  # others name no item


def _feed_number(args: dict[str, Any], name: str) -> int | None:
    """A feed or category id as TT-RSS reads one that may be a tag name: the
    number, or None when it is not numeric (a tag, which lenta has none of)."""
    value = args.get(name)
    if isinstance(value, bool):
        return int(value)
    text = str(value if value is not None else "").strip()
    number = int(text) if re.fullmatch(r"[+-]?\d{1,18}", text) else None
    return number if number is not None and abs(number) <= MAX_ID else None  # beyond: as unknown as a tag


# -- sessions -------------------------------------------------------------------------------


def _sign(key: str, payload: str) -> str:
    return hmac.new(key.encode(), ("ttrss-sid:" + payload).encode(), hashlib.sha256).hexdigest()[:40]


def make_sid(lenta: Lenta, user: User, tag: str) -> str:
    """A session id: the user, when it ends, the secret that opened it
    (:meth:`Lenta.secret_tag`) and a nonce, signed with the site's key."""
    claims = {"u": user.id, "e": int(time.time()) + SID_DAYS * 86400, "s": tag, "n": secrets.token_hex(8)}
    payload = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).decode().rstrip("=")
    return f"{payload}.{_sign(lenta.secret_key(), payload)}"


class _Forgotten:
    """Session ids logged out in this process, until they would have ended anyway."""

    def __init__(self, limit: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._ends: dict[str, float] = {}
        self._limit = limit

    def add(self, sid: str, ends: float) -> None:
        with self._lock:
            if len(self._ends) >= self._limit:
                now = time.time()
                self._ends = {key: end for key, end in self._ends.items() if end > now}
            if len(self._ends) < self._limit:
                self._ends[hashlib.sha256(sid.encode()).hexdigest()] = ends

    def __contains__(self, sid: str) -> bool:
        with self._lock:
            return hashlib.sha256(sid.encode()).hexdigest() in self._ends


FORGOTTEN = _Forgotten()


def user_of_sid(lenta: Lenta, sid: str) -> User | None:
    """The user of a valid, live session id, or None."""
    if not sid or len(sid) > 2048 or "." not in sid:
        return None
    payload, _, signature = sid.rpartition(".")
    if not hmac.compare_digest(signature, _sign(lenta.secret_key(), payload)):
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        user_id, ends, tag = int(claims["u"]), int(claims["e"]), str(claims["s"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None
    if ends < time.time() or sid in FORGOTTEN:
        return None
    try:
        user = lenta.get_user_by_id(user_id)
    except LentaError:
        return None
    return user if lenta.secret_tag_valid(user, tag) else None


def _sid_end(sid: str) -> float:
    payload = sid.rpartition(".")[0]
    try:
        return float(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["e"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        return time.time() + SID_DAYS * 86400


# -- what one call works with -------------------------------------------------------------------


@dataclass
class Call:
    lenta: Lenta
    reader: Reader
    args: dict[str, Any]
    sid: str
    base_url: str


class Shelf:
    """The user's subscriptions and folders, read once per call."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.followed = sorted(reader.followed(), key=lambda f: (f.title.casefold(), f.id))
        self.folders: dict[int, Folder] = {f.id: f for f in reader.folders()}
        self.children: dict[int | None, list[Folder]] = {}
        for folder in sorted(self.folders.values(), key=lambda f: (f.name.casefold(), f.id)):
            self.children.setdefault(folder.parent_id, []).append(folder)
        self.by_feed = {f.feed_id: f for f in self.followed}

    def uncategorized(self) -> list[Followed]:
        return [f for f in self.followed if not f.folder_ids]

    def in_folder(self, folder_id: int, *, nested: bool = False) -> list[Followed]:
        wanted = self.subtree(folder_id) if nested else {folder_id}
        return [f for f in self.followed if wanted.intersection(f.folder_ids)]

    def subtree(self, folder_id: int) -> set[int]:
        found, todo = set(), [folder_id]
        while todo:
            current = todo.pop()
            if current not in found:
                found.add(current)
                todo.extend(child.id for child in self.children.get(current, ()))
        return found

    def unread(self, feeds: list[Followed]) -> int:
        return sum(f.unread for f in feeds)


def cat_id(followed: Followed) -> int:
    """A subscription's category: its folder of the lowest id, else 0 (Uncategorized)."""
    return min(followed.folder_ids) if followed.folder_ids else CATEGORY_UNCATEGORIZED


def _through(reader: Reader) -> int:
    """The newest item id now: how far a "mark all read" reaches."""
    return reader.items("all", per_page=1).through


def _fresh_after(reader: Reader, lenta: Lenta) -> int:
    """Items with a higher id arrived in the last FRESH_HOURS hours."""
    return reader.arrived_through(lenta.clock() - timedelta(hours=FRESH_HOURS))


def _count(reader: Reader, **filters: Any) -> int:
    return sum(reader.feed_counts(**filters).values())


def _special_unread(call: Call, feed_id: int) -> int:
    reader = call.reader
    if feed_id == FEED_STARRED:
        return _count(reader, read=False, starred=True)
    if feed_id == FEED_FRESH:
        return _count(reader, read=False, after_id=_fresh_after(reader, call.lenta))
    if feed_id == FEED_ALL:
        return reader.unread_total()
    return 0


# -- sessions' ops ------------------------------------------------------------------------------


def login(request: Request, args: dict[str, Any]) -> dict[str, Any]:
    lenta = _lenta(request)
    name, password = _text(args, "user"), _text(args, "password")
    if not name or not password or len(name) > 256 or len(password) > 1024:
        raise Failure("LOGIN_ERROR")
    address = request.client.host if request.client else None
    try:
        user = lenta.api_sign_in(name, password, address=address)
    except LoginThrottledError:
        raise Failure("LOGIN_ERROR") from None
    if user is None:
        raise Failure("LOGIN_ERROR")
    if not lenta.ttrss_api_enabled(user):
        raise Failure("API_DISABLED")
    sid = make_sid(lenta, user, lenta.secret_tag(user, password))
    return {"session_id": sid, "config": _config(lenta.reader(user), str(request.base_url)), "api_level": API_LEVEL}


def _config(reader: Reader, base_url: str) -> dict[str, Any]:
    return {
        "custom_sort_types": [],  # PHP's empty array
        "daemon_is_running": True,
        "icons_url": "",  # no public icon files: getFeedIcon gives a feed's icon
        "num_feeds": len(reader.followed()),
    }


def logout(call: Call) -> dict[str, Any]:
    FORGOTTEN.add(call.sid, _sid_end(call.sid))
    return {"status": "OK"}


def is_logged_in(call: Call) -> dict[str, Any]:
    return {"status": True}


def get_api_level(call: Call) -> dict[str, Any]:
    return {"level": API_LEVEL}


def get_version(call: Call) -> dict[str, Any]:
    return {"version": __version__}


def get_config(call: Call) -> dict[str, Any]:
    return _config(call.reader, call.base_url)


PREFS: dict[str, Any] = {
    "ENABLE_API_ACCESS": True,
    "ENABLE_FEED_CATS": True,
    "FRESH_ARTICLE_MAX_AGE": FRESH_HOURS,
    "DEFAULT_ARTICLE_LIMIT": 30,
    "CDM_EXPANDED": True,
    "COMBINED_DISPLAY_MODE": True,
    "HIDE_READ_FEEDS": False,
    "HIDE_READ_SHOWS_SPECIAL": True,
    "SHOW_CONTENT_PREVIEW": True,
    "SORT_HEADLINES_BY_FEED_DATE": False,
    "REVERSE_HEADLINES": False,
}


def get_pref(call: Call) -> dict[str, Any]:
    return {"value": PREFS.get(_text(call.args, "pref_name"))}


# -- counters -----------------------------------------------------------------------------------


def get_unread(call: Call) -> dict[str, Any]:
    raw = _text(call.args, "feed_id")
    if not raw:
        return {"unread": call.reader.unread_total()}
    feed_id = _feed_number(call.args, "feed_id")
    if feed_id is None:
        return {"unread": 0}  # a tag: lenta has none by that name
    shelf = Shelf(call.reader)
    if _bool(call.args, "is_cat"):
        if feed_id > 0:
            return {"unread": shelf.unread(shelf.in_folder(feed_id)) if feed_id in shelf.folders else 0}
        if feed_id == CATEGORY_UNCATEGORIZED:
            return {"unread": shelf.unread(shelf.uncategorized())}
        return {"unread": 0}
    if feed_id > 0:
        followed = next((f for f in shelf.followed if f.id == feed_id), None)
        return {"unread": followed.unread if followed else 0}
    return {"unread": _special_unread(call, feed_id)}


def get_counters(call: Call) -> list[dict[str, Any]]:
    reader, shelf = call.reader, Shelf(call.reader)
    starred = reader.feed_counts(starred=True)
    starred_unread = reader.feed_counts(starred=True, read=False)
    answer: list[dict[str, Any]] = [
        {"id": "global-unread", "counter": reader.unread_total()},
        {"id": "subscribed-feeds", "counter": len(shelf.followed)},
        {"id": 0, "counter": 0, "auxcounter": 0},
        {
            "id": FEED_STARRED,
            "counter": sum(starred_unread.values()),
            "auxcounter": sum(starred.values()),
            "markedcounter": sum(starred.values()),
        },
        {"id": FEED_PUBLISHED, "counter": 0, "auxcounter": 0, "publishedcounter": 0},
        {"id": FEED_FRESH, "counter": _special_unread(call, FEED_FRESH), "auxcounter": 0},
        {"id": FEED_ALL, "counter": reader.unread_total(), "auxcounter": 0},
    ]
    updated = _checked(call.lenta, shelf.followed)
    for followed in shelf.followed:
        answer.append(
            {
                "id": followed.id,
                "title": followed.title[:30],
                "error": followed.error or "",
                "updated": updated.get(followed.id, ""),
                "counter": followed.unread,
                "markedcounter": starred.get(followed.feed_id, 0),
                "publishedcounter": 0,
                "ts": 0,
            }
        )
    answer.append({"id": CATEGORY_LABELS, "kind": "cat", "counter": 0})

    def marked(feeds: list[Followed]) -> int:
        return sum(starred.get(f.feed_id, 0) for f in feeds)

    for folder in sorted(shelf.folders.values(), key=lambda f: f.id):
        feeds = shelf.in_folder(folder.id, nested=True)
        answer.append(
            {
                "id": folder.id,
                "kind": "cat",
                "markedcounter": marked(feeds),
                "publishedcounter": 0,
                "counter": shelf.unread(feeds),
            }
        )
    loose = shelf.uncategorized()
    answer.append({"id": 0, "kind": "cat", "markedcounter": marked(loose), "publishedcounter": 0, "counter": shelf.unread(loose)})
    return answer


def _checked(lenta: Lenta, followed: list[Followed]) -> dict[int, str]:
    """subscription id → when its feed was last fetched ("Y-m-d H:i:s", UTC)."""
    found: dict[int, str] = {}
    for subscription in followed:
        try:
            checked = lenta.get_feed(subscription.feed_id).checked_at
        except LentaError:
            continue
        if checked is not None:
            found[subscription.id] = checked.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    return found


# -- feeds and categories ------------------------------------------------------------------------


def get_categories(call: Call) -> list[dict[str, Any]]:
    unread_only = _bool(call.args, "unread_only")
    nested = _bool(call.args, "enable_nested")
    include_empty = _bool(call.args, "include_empty")
    shelf = Shelf(call.reader)
    found: list[dict[str, Any]] = []
    for folder in sorted(shelf.folders.values(), key=lambda f: f.id):
        if nested and folder.parent_id is not None:
            continue
        direct = shelf.in_folder(folder.id)
        if not (include_empty or direct or shelf.children.get(folder.id)):
            continue
        unread = shelf.unread(shelf.in_folder(folder.id, nested=True) if nested else direct)
        if unread or not unread_only:
            found.append({"id": folder.id, "title": folder.name, "unread": unread, "order_id": 0})
    if include_empty and not unread_only:
        found.append({"id": CATEGORY_LABELS, "title": "Labels", "unread": 0})
    if not unread_only:  # "Special" is never empty, and its unread count is 0 (as TT-RSS counts it)
        found.append({"id": CATEGORY_SPECIAL, "title": "Special", "unread": 0})
    loose = shelf.uncategorized()
    if include_empty or loose:
        unread = shelf.unread(loose)
        if unread or not unread_only:
            found.append({"id": CATEGORY_UNCATEGORIZED, "title": "Uncategorized", "unread": unread})
    return found


def _feed_json(call: Call, followed: Followed, category: int, icons: dict[int, str]) -> dict[str, Any]:
    try:
        feed = call.lenta.get_feed(followed.feed_id)
        refresh, checked = feed.refresh, feed.checked_at
    except LentaError:
        refresh, checked = None, None
    return {
        "feed_url": followed.url,
        "title": followed.title,
        "id": followed.id,
        "unread": followed.unread,
        "has_icon": followed.feed_id in icons,
        "cat_id": category,
        "last_updated": int(checked.timestamp()) if checked is not None else 0,
        "order_id": 0,
        "last_error": followed.error or "",
        "update_interval": -1 if refresh == 0 else (refresh or 0) // 60,
    }


def get_feeds(call: Call) -> list[dict[str, Any]]:
    wanted = _int(call.args, "cat_id")
    unread_only = _bool(call.args, "unread_only")
    limit, offset = max(0, _int(call.args, "limit")), max(0, _int(call.args, "offset"))
    nested = _bool(call.args, "include_nested")
    shelf = Shelf(call.reader)
    found: list[dict[str, Any]] = []
    if wanted in (CATEGORY_ALL, CATEGORY_SPECIAL):
        for feed_id in (FEED_STARRED, FEED_FRESH, FEED_ALL):  # TT-RSS's order, less what lenta lacks
            unread = _special_unread(call, feed_id)
            if unread or not unread_only:
                found.append({"id": feed_id, "title": SPECIAL_FEEDS[feed_id], "unread": unread, "cat_id": CATEGORY_SPECIAL})
    if nested and wanted > 0:
        for child in shelf.children.get(wanted, []):
            unread = shelf.unread(shelf.in_folder(child.id, nested=True))
            if unread or not unread_only:
                found.append({"id": child.id, "title": child.name, "unread": unread, "is_cat": True, "order_id": 0})
    if wanted in (CATEGORY_ALL_EXCEPT_VIRTUAL, CATEGORY_ALL):
        feeds = shelf.followed
    elif wanted == CATEGORY_UNCATEGORIZED:
        feeds = shelf.uncategorized()
    elif wanted > 0:
        feeds = shelf.in_folder(wanted)
    else:
        feeds = []
    feeds = feeds[offset:]
    if limit:
        feeds = feeds[:limit]
    icons = call.lenta.icon_versions([f.feed_id for f in feeds])
    for followed in feeds:
        if followed.unread or not unread_only:
            found.append(_feed_json(call, followed, wanted if wanted > 0 else cat_id(followed), icons))
    return found


def get_feed_tree(call: Call) -> dict[str, Any]:
    include_empty = _bool(call.args, "include_empty")
    shelf = Shelf(call.reader)

    def feed(followed: Followed) -> dict[str, Any]:
        return {
            "id": f"FEED:{followed.id}",
            "bare_id": followed.id,
            "auxcounter": -1,
            "name": followed.title,
            "checkbox": False,
            "unread": -1,
            "error": followed.error or "",
            "icon": False,  # no public icon address: getFeedIcon gives it
            "param": "",
            "type": "feed",
            "updates_disabled": 0,
        }

    def count(node: dict[str, Any]) -> int:
        return sum(count(child) if child["type"] == "category" else 1 for child in node["items"])

    def category(folder: Folder, depth: int) -> dict[str, Any]:
        children = [category(child, depth + 1) for child in shelf.children.get(folder.id, [])] if depth < 32 else []
        node: dict[str, Any] = {
            "id": f"CAT:{folder.id}",
            "bare_id": folder.id,
            "auxcounter": -1,
            "name": folder.name,
            "items": [c for c in children if include_empty or count(c)] + [feed(f) for f in shelf.in_folder(folder.id)],
            "checkbox": False,
            "type": "category",
            "unread": -1,
            "child_unread": -1,
        }
        if folder.parent_id is not None:
            node["parent_id"] = folder.parent_id
        node["param"] = _feeds_param(count(node))
        return node

    special: dict[str, Any] = {
        "id": f"CAT:{CATEGORY_SPECIAL}",
        "items": [
            {
                "id": f"FEED:{feed_id}",
                "name": SPECIAL_FEEDS[feed_id],
                "unread": _special_unread(call, feed_id),
                "type": "feed",
                "error": "",
                "updated": "",
                "icon": False,
                "bare_id": feed_id,
                "auxcounter": 0,
            }
            for feed_id in (FEED_ALL, FEED_FRESH, FEED_STARRED)
        ],
        "name": "Special",
        "type": "category",
        "unread": -1,
        "bare_id": CATEGORY_SPECIAL,
    }
    items: list[dict[str, Any]] = [special]
    for folder in shelf.children.get(None, []):
        node = category(folder, 0)
        if include_empty or count(node):
            items.append(node)
    loose = [feed(f) for f in shelf.uncategorized()]
    if loose or include_empty:
        items.append(
            {
                "id": "CAT:0",
                "bare_id": 0,
                "auxcounter": -1,
                "name": "Uncategorized",
                "items": loose,
                "type": "category",
                "checkbox": False,
                "unread": -1,
                "child_unread": -1,
                "param": _feeds_param(len(loose)),
            }
        )
    return {"categories": {"identifier": "id", "label": "name", "items": items}}


def _feeds_param(n: int) -> str:
    return f"({n} feed)" if n == 1 else f"({n} feeds)"


def get_feed_icon(call: Call) -> Response | dict[str, Any]:
    followed = next((f for f in call.reader.followed() if f.id == _int(call.args, "id")), None)
    icon = call.lenta.feed_icon(followed.feed_id) if followed is not None else None
    if icon is None:
        raise Failure("E_NOT_FOUND")
    return Response(icon.data, media_type=icon.media_type, headers={"Cache-Control": "private, max-age=86400"})


# -- headlines and articles ----------------------------------------------------------------------


def _moment(entry: ReaderItem) -> int:
    item = entry.item
    return int((item.updated_at or item.published_at or item.date).timestamp())


def _attachments(entry: ReaderItem) -> list[dict[str, Any]]:
    return [
        {
            "id": index + 1,
            "content_url": enclosure.url,
            "content_type": enclosure.mime_type or "",
            "title": "",
            "duration": "",
            "width": 0,
            "height": 0,
            "post_id": entry.item.id,
        }
        for index, enclosure in enumerate(entry.item.enclosures)
    ]


def _excerpt(html: str, length: int) -> str:
    text = " ".join(unescape(_TAG.sub(" ", html)).split())
    return text if len(text) <= length else text[:length] + "…"


def _headline(entry: ReaderItem, shelf: Shelf, args: dict[str, Any]) -> dict[str, Any]:
    item = entry.item
    followed = shelf.by_feed.get(item.feed_id)
    content = item.content or item.summary or ""
    row: dict[str, Any] = {
        "id": item.id,
        "guid": item.guid or item.key,
        "unread": not entry.read,
        "marked": entry.starred,
        "published": False,
        "updated": _moment(entry),
        "is_updated": False,
        "title": item.title or "",
        "link": item.link or "",
        "feed_id": followed.id if followed else 0,
        "tags": list(item.categories) or [""],  # PHP's explode(",", "") for none
    }
    if _bool(args, "include_attachments"):
        row["attachments"] = _attachments(entry)
    if _bool(args, "show_excerpt"):
        row["excerpt"] = _excerpt(content, max(1, min(_int(args, "excerpt_length", 100) or 100, 10_000)))
    if _bool(args, "show_content"):
        row["content"] = content
    row.update(
        {
            "labels": [],
            "feed_title": entry.feed_title,
            "comments_count": 0,
            "comments_link": "",
            "always_display_attachments": False,
            "author": item.author or "",
            "score": 0,
            "note": None,
            "lang": "",
            "site_url": (followed.site_url or "") if followed else "",
        }
    )
    if _bool(args, "show_content"):
        image = next((e.url for e in item.enclosures if (e.mime_type or "").startswith("image/")), "")
        row["flavor_image"] = image
        row["flavor_stream"] = ""
    return row


@dataclass(frozen=True)
class Scope:
    """What getHeadlines lists: feeds (None: all), a state, or nothing."""

    feed_ids: list[int] | None = None
    starred: bool | None = None
    fresh: bool = False
    empty: bool = False
    subscription_id: int | None = None
    folder_id: int | None = None


def _scope(call: Call, shelf: Shelf, feed_id: int | None, is_cat: bool, nested: bool) -> Scope:
    if feed_id is None:
        return Scope(empty=True)  # a tag name
    if feed_id == FEED_STARRED:
        return Scope(starred=True)
    if feed_id == FEED_FRESH:
        return Scope(fresh=True)
    if feed_id == FEED_ALL:
        return Scope()
    if is_cat and feed_id > 0:
        if feed_id not in shelf.folders:
            return Scope(empty=True)
        return Scope(feed_ids=[f.feed_id for f in shelf.in_folder(feed_id, nested=nested)], folder_id=feed_id)
    if is_cat and feed_id == CATEGORY_UNCATEGORIZED:
        return Scope(feed_ids=[f.feed_id for f in shelf.uncategorized()])
    if not is_cat and feed_id > 0:
        followed = next((f for f in shelf.followed if f.id == feed_id), None)
        if followed is None:
            return Scope(empty=True)
        return Scope(feed_ids=[followed.feed_id], subscription_id=followed.id)
    return Scope(empty=True)  # published, archived, recently read, labels, plugins' feeds


_ORDERS = {"date_reverse": ("date", False), "feed_dates": ("date", True)}


def get_headlines(call: Call) -> Any:
    args = call.args
    raw = _text(args, "feed_id")
    if not raw:
        raise Failure("INCORRECT_USAGE")
    limit = _int(args, "limit")
    limit = MAX_HEADLINES if limit <= 0 or limit >= MAX_HEADLINES else limit
    offset = max(0, _int(args, "skip"))
    is_cat = _bool(args, "is_cat")
    view_mode = _text(args, "view_mode")
    since_id = max(0, min(_int(args, "since_id"), MAX_ID))
    shelf = Shelf(call.reader)
    feed_id = _feed_number(args, "feed_id")
    scope = _scope(call, shelf, feed_id, is_cat, _bool(args, "include_nested"))
    read: bool | None = None
    starred = scope.starred
    empty = scope.empty
    if view_mode == "unread":
        read = False
    elif view_mode == "marked":
        starred = True
    elif view_mode in ("published", "has_note"):
        empty = True
    elif view_mode == "adaptive" and feed_id != FEED_STARRED and not empty:
        if call.reader.sync_items(_query(call, scope, read=False, starred=starred, since_id=0, limit=1))[1]:
            read = False
    order, descending = _ORDERS.get(_text(args, "order_by"), ("date", True))
    search = _text(args, "search")
    headlines: list[ReaderItem]
    if empty:
        headlines = []
    elif search:
        headlines = _search(call, scope, search, read, starred, limit, offset)
    else:
        spec = _query(call, scope, read=read, starred=starred, since_id=since_id, limit=limit, offset=offset)
        headlines, _ = call.reader.sync_items(replace(spec, order=order, descending=descending))
    rows = [_headline(entry, shelf, args) for entry in headlines]
    if not _bool(args, "include_header"):
        return rows
    first_id = headlines[0].item.id if headlines and offset == 0 else 0
    if not empty and offset > 0:
        spec = _query(call, scope, read=read, starred=starred, since_id=since_id, limit=1)
        first, _ = call.reader.sync_items(replace(spec, order=order, descending=descending))
        first_id = first[0].item.id if first else 0
    header: dict[str, Any] = {"id": feed_id if feed_id is not None else raw, "first_id": first_id, "is_cat": is_cat}
    check = _int(args, "check_first_id")
    if offset > 0 and check and first_id and first_id != check:
        header["first_id_changed"] = True
        rows = []
    return [header, rows]


def _query(
    call: Call, scope: Scope, *, read: bool | None, starred: bool | None, since_id: int, limit: int, offset: int = 0
) -> SyncQuery:
    after = since_id or None
    if scope.fresh:
        read = False
        after = max(since_id, _fresh_after(call.reader, call.lenta))
    return SyncQuery(feed_ids=scope.feed_ids, read=read, starred=starred, after_id=after, limit=limit, offset=offset)


def _search(
    call: Call, scope: Scope, text: str, read: bool | None, starred: bool | None, limit: int, offset: int
) -> list[ReaderItem]:
    """lenta's search (best first) in the scope's subscription or folder, or everywhere."""
    view: View = "starred" if starred else "unread" if read is False or scope.fresh else "all"
    try:
        page = call.reader.search(
            text, view, subscription_id=scope.subscription_id, folder_id=scope.folder_id, page=offset // limit, per_page=limit
        )
    except (InvalidInputError, NotFollowingError):
        return []
    return list(page.items)


def get_article(call: Call) -> Any:
    ids = _id_list(call.args.get("article_id"))
    if ids is None:
        raise Failure("INCORRECT_USAGE")
    found, _ = call.reader.sync_items(SyncQuery(item_ids=ids, order="id", limit=len(ids)))
    shelf = Shelf(call.reader)
    articles = []
    for entry in found:
        item = entry.item
        followed = shelf.by_feed.get(item.feed_id)
        articles.append(
            {
                "id": item.id,
                "guid": item.guid or item.key,
                "title": item.title or "",
                "link": item.link or "",
                "labels": [],
                "unread": not entry.read,
                "marked": entry.starred,
                "published": False,
                "comments": "",
                "author": item.author or "",
                "updated": _moment(entry),
                "feed_id": followed.id if followed else 0,
                "attachments": _attachments(entry),
                "score": 0,
                "feed_title": entry.feed_title,
                "note": None,
                "lang": "",
                "content": item.content or item.summary or "",
            }
        )
    return articles


def update_article(call: Call) -> dict[str, Any]:
    args = call.args
    ids = _id_list(args.get("article_ids"))
    if ids is None:
        raise Failure("INCORRECT_USAGE")
    mode, field = _int(args, "mode"), _int(args, "field")
    if field not in (0, 1, 2, 3, 4) or (field in (0, 1, 2) and mode not in (0, 1, 2)):
        raise Failure("INCORRECT_USAGE")
    reader = call.reader
    updated = 0
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found, _ = reader.sync_items(SyncQuery(item_ids=chunk, order="id", limit=len(chunk)))  # the user's, others unknown
        updated += len(found)
        if field == 0:  # starred
            for entry in found:
                reader.star(entry.item.id, not entry.starred if mode == 2 else mode == 1)
        elif field == 2:  # unread
            if mode == 2:
                reader.mark_read([e.item.id for e in found if not e.read])
                reader.mark_unread([e.item.id for e in found if e.read])
            elif mode == 1:
                reader.mark_unread([e.item.id for e in found])
            else:
                reader.mark_read([e.item.id for e in found])
        # 1 published, 3 note, 4 score: lenta keeps none of them (accepted, nothing changes).
    return {"status": "OK", "updated": updated}


def catchup_feed(call: Call) -> dict[str, Any]:
    args = call.args
    feed_id = _feed_number(args, "feed_id")
    is_cat = _bool(args, "is_cat")
    mode = _text(args, "mode")
    reader, lenta = call.reader, call.lenta
    hours = {"1day": 24, "1week": 24 * 7, "2week": 24 * 14}.get(mode)
    through = reader.arrived_through(lenta.clock() - timedelta(hours=hours)) if hours else _through(reader)
    if feed_id is None or through <= 0:
        return {"status": "OK"}
    shelf = Shelf(reader)
    try:
        if is_cat and feed_id > 0:
            if feed_id in shelf.folders:
                reader.mark_all_read(through=through, folder_id=feed_id)
        elif is_cat and feed_id == CATEGORY_UNCATEGORIZED:
            for followed in shelf.uncategorized():
                reader.mark_all_read(through=through, subscription_id=followed.id)
        elif is_cat:
            pass  # labels, or a special feed named as a category: TT-RSS marks nothing either
        elif feed_id > 0:
            reader.mark_all_read(through=through, subscription_id=feed_id)
        elif feed_id == FEED_ALL:
            reader.mark_all_read(through=through)
        elif feed_id in (FEED_STARRED, FEED_FRESH):
            after = _fresh_after(reader, lenta) if feed_id == FEED_FRESH else None
            starred = True if feed_id == FEED_STARRED else None
            while True:
                spec = SyncQuery(read=False, starred=starred, after_id=after, before_id=through + 1, order="id", limit=1000)
                found, _ = reader.sync_items(spec)
                if not found or not reader.mark_read([e.item.id for e in found]):
                    break
    except NotFollowingError:
        pass  # not the user's: nothing to do, as TT-RSS does
    return {"status": "OK"}


# -- subscriptions -------------------------------------------------------------------------------


async def subscribe_to_feed(call: Call) -> dict[str, Any]:
    url = _text(call.args, "feed_url")
    if not url:
        raise Failure("INCORRECT_USAGE")
    if _text(call.args, "login") or _text(call.args, "password"):
        return {"status": {"code": 5, "message": "A feed you follow cannot have a user name or password."}}
    category = _int(call.args, "category_id")
    folders = [category] if category > 0 else []
    try:
        followed = await call.reader.follow(url, folder_ids=folders)
    except AlreadyFollowingError:
        existing = await run_in_threadpool(call.reader.followed)
        try:
            urls = {url, normalize_feed_url(url)}
        except InvalidInputError:
            urls = {url}
        match = next((f for f in existing if f.url in urls), None)
        return {"status": {"code": 0, "feed_id": match.id if match else 0}}
    except NotFollowingError:
        return {"status": {"code": 7}}  # not the user's category: nothing made
    except InvalidInputError:
        return {"status": {"code": 2}}
    except NotAFeedError as problem:
        return {"status": {"code": 3, "message": translate_error(problem, "en")[:250]}}
    except FetchError as problem:
        code = {FetchErrorKind.NOT_A_FEED: 3, FetchErrorKind.PARSE: 6}.get(problem.kind, 5)
        return {"status": {"code": code, "message": translate_error(problem, "en")[:250]}}
    except ParseError as problem:
        return {"status": {"code": 6, "message": translate_error(problem, "en")[:250]}}
    return {"status": {"code": 1, "feed_id": followed.id}}


def unsubscribe_feed(call: Call) -> dict[str, Any]:
    try:
        call.reader.unfollow(_feed_number(call.args, "feed_id") or 0)
    except NotFollowingError:
        raise Failure("E_OPERATION_FAILED") from None
    return {"status": "OK"}


def update_feed(call: Call) -> dict[str, Any]:
    followed = next((f for f in call.reader.followed() if f.id == _int(call.args, "feed_id")), None)
    if followed is not None:
        call.lenta.refresh_soon([followed.feed_id])
    return {"status": "OK"}


def get_labels(call: Call) -> list[dict[str, Any]]:
    return []  # lenta's tags are not TT-RSS labels


def set_article_label(call: Call) -> dict[str, Any]:
    return {"status": "OK", "updated": 0}  # no label is found, as TT-RSS answers an unknown one


def share_to_published(call: Call) -> dict[str, Any]:
    raise Failure("E_OPERATION_FAILED")


OPS: dict[str, Callable[[Call], Any]] = {
    "logout": logout,
    "isloggedin": is_logged_in,
    "getapilevel": get_api_level,
    "getversion": get_version,
    "getconfig": get_config,
    "getpref": get_pref,
    "getunread": get_unread,
    "getcounters": get_counters,
    "getfeeds": get_feeds,
    "getcategories": get_categories,
    "getfeedtree": get_feed_tree,
    "getfeedicon": get_feed_icon,
    "getheadlines": get_headlines,
    "getarticle": get_article,
    "updatearticle": update_article,
    "catchupfeed": catchup_feed,
    "unsubscribefeed": unsubscribe_feed,
    "updatefeed": update_feed,
    "getlabels": get_labels,
    "setarticlelabel": set_article_label,
    "sharetopublished": share_to_published,
}
ASYNC_OPS: dict[str, Callable[[Call], Awaitable[Any]]] = {"subscribetofeed": subscribe_to_feed}


# -- the endpoint -------------------------------------------------------------------------------


def _answer(seq: int, status: int, content: Any) -> Response:
    return JSONResponse({"seq": seq, "status": status, "content": content})


def _session(request: Request, sid: str) -> tuple[User, bool] | None:
    lenta = _lenta(request)
    user = user_of_sid(lenta, sid)
    return None if user is None else (user, lenta.ttrss_api_enabled(user))


async def api(request: Request) -> Response:
    if request.method != "POST":
        return _answer(-1, 1, {"error": "INCORRECT_USAGE"})
    args = await _arguments(request)
    seq = _int(args, "seq")
    op = _text(args, "op").lower()
    try:
        if op == "login":
            return _answer(seq, 0, await run_in_threadpool(login, request, args))
        sid = _text(args, "sid")
        session = await run_in_threadpool(_session, request, sid) if sid else None
        if session is None:
            if op == "isloggedin":
                return _answer(seq, 0, {"status": False})
            raise Failure("NOT_LOGGED_IN")
        user, enabled = session
        if not enabled and op != "logout":
            raise Failure("API_DISABLED")
        lenta = _lenta(request)
        call = Call(lenta, lenta.reader(user), args, sid, str(request.base_url))
        if op in ASYNC_OPS:
            content = await ASYNC_OPS[op](call)
        elif op in OPS:
            content = await run_in_threadpool(OPS[op], call)
        else:
            raise Failure("UNKNOWN_METHOD", method=op)
    except Failure as failure:
        return _answer(seq, 1, failure.content)
    except LentaError:
        return _answer(seq, 1, {"error": "E_OPERATION_FAILED"})
    if isinstance(content, Response):
        return content
    return _answer(seq, 0, content)


def routes() -> list[Route]:
    return [Route(path, api, methods=["GET", "POST"]) for path in PATHS]
