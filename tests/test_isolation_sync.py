"""No user sees or changes another's data through a sync API (issue 12),
as tests/test_isolation.py shows for the web pages and the Miniflux API.

Every route of Google Reader, Nextcloud News, Fever and Tiny Tiny RSS is
tried, as Bob with his own app password, with Ann's ids: her subscription,
her folder, her tag (Google Reader names folders and tags), her items.
For Fever the "routes" are the parameters it reads and the marks it makes;
for Tiny Tiny RSS, the ops it dispatches. They are read from the APIs
themselves (route tables, ``OPS``, the names the code compares), and one
this test has no check for fails it, so that a new route or op is added
here. Each answers as its protocol answers an unknown id (not found, an
error, an empty list), nothing of Ann's shows anywhere in Bob's answers
(not her titles, names or marks, not even as a count), and her
subscriptions, folders, tags, read and starred marks and unread counts are
the same afterwards. Both follow one feed too: Bob's marks on its items
are his own, and his "mark everything read" leaves hers."""

from __future__ import annotations

import ast
import asyncio
import hashlib
import inspect
import re
import textwrap
import time
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from httpserver import LocalServer
from httpserver import Reply
from starlette.routing import Route
from test_isolation import setup  # noqa: F401 - Ann's private feed, folder, tagged item...; asked for by name
from test_reader import RSS
from test_reader import feed_xml
from webserver import AppServer

from lenta.api import fever
from lenta.api import greader
from lenta.api import nextcloud
from lenta.api import ttrss
from lenta.core import Lenta
from lenta.storage._reader import SyncQuery
from lenta.types import User

# What of Ann's would show if it leaked: her private feed's title (and its
# items' titles, links and guids, "Private 1"...), its URL, her folder, her tag.
ANNS_WORDS = ("Private", "private.xml", "Secret", "secret")
LONG_MAX = 2**63 - 1


def shows_nothing_of_anns(text: str, where: str) -> None:
    for word in ANNS_WORDS:
        assert word not in text, (where, word, text[:300])


def compared_constants(function: Callable[..., object], name: str) -> set[object]:
    """The constants ``name`` is compared with (``==``, ``in``) in a function: the cases it dispatches on."""
    found: set[object] = set()
    for node in ast.walk(ast.parse(textwrap.dedent(inspect.getsource(function)))):
        if isinstance(node, ast.Compare) and isinstance(node.left, ast.Name) and node.left.id == name:
            for side in node.comparators:
                found |= {c.value for c in ast.walk(side) if isinstance(c, ast.Constant) and c.value is not None}
    return found


def methods_of(route: Route) -> list[str]:
    return sorted((route.methods or {"GET"}) - {"HEAD"})


# -- the world: Ann's things, Bob's, a feed both follow ----------------------------------------


@dataclass
class World:
    web: AppServer
    lenta: Lenta
    ann: User
    bob: User
    secret: str  # Bob's app password
    subscription: int  # Ann's private subscription, folder and tag
    folder: int
    tag: int
    private_feed: int
    private_url: str
    private_items: list[int]  # items only Ann follows
    private_guids: list[str]
    shared_items: list[int]  # items of a feed both follow
    shared_url: str
    other_url: str  # a feed nobody follows
    bob_subscription: int
    bob_folder: int

    def snapshot(self) -> tuple[object, ...]:
        """Ann's subscriptions (with unread counts), folders, tags, every item's marks and tags."""
        reader = self.lenta.reader(self.ann)
        items, total = reader.sync_items(SyncQuery(order="id", limit=1000))
        marks = [(e.item.id, e.read, e.starred, tuple(t.id for t in reader.tags_of(e.item.id))) for e in items]
        due = self.lenta.get_feed(self.private_feed).next_check_at  # Bob may not have her private feed fetched
        return reader.followed(), reader.folders(), reader.tags(), reader.unread_total(), total, marks, due

    def bobs(self, *, read: bool | None = None, starred: bool | None = None) -> set[int]:
        """Bob's item ids (read, starred, as asked), as his reader has them."""
        found, _ = self.lenta.reader(self.bob).sync_items(SyncQuery(read=read, starred=starred, order="id", limit=1000))
        return {e.item.id for e in found}


@pytest.fixture
def world(request: pytest.FixtureRequest, lenta: Lenta) -> Iterator[World]:
    """tests/test_isolation.py's world (Ann's private feed, folder "Secret", tag "secret"...), and:
    her marks, a feed both follow (Ann's marks on it differ from Bob's), Bob's folder and tag."""
    anns_world: tuple[AppServer, dict[str, int]] = request.getfixturevalue("setup")
    web, ids = anns_world
    ann, bob = lenta.get_user("ann"), lenta.get_user("bob")
    lenta.set_ttrss_api_enabled(ann, True)
    lenta.set_ttrss_api_enabled(bob, True)
    routes = {
        "/shared.xml": Reply(body=feed_xml("Shared", range(1, 4)), headers=RSS),
        "/other.xml": Reply(body=feed_xml("Other", range(1, 3)), headers=RSS),
    }
    with LocalServer(routes) as feeds:
        anns, bobs = lenta.reader(ann), lenta.reader(bob)
        private = anns.file(ids["subscription_id"], [ids["folder_id"]])
        found, _ = anns.sync_items(SyncQuery(feed_ids=[private.feed_id], order="id"))
        private_items, private_guids = [e.item.id for e in found], [e.item.key for e in found]
        anns.star(private_items[0])
        anns.mark_read([private_items[1]])
        shared = asyncio.run(anns.follow(feeds.url("/shared.xml")))
        found, _ = anns.sync_items(SyncQuery(feed_ids=[shared.feed_id], order="id"))
        shared_items = [e.item.id for e in found]
        anns.star(shared_items[0])
        anns.mark_read([shared_items[1]])
        bob_folder = bobs.add_folder("Bobs")
        bob_subscription = asyncio.run(bobs.follow(feeds.url("/shared.xml"), folder_ids=[bob_folder.id]))
        bobs.tag_item(shared_items[2], bobs.add_tag("bobs").id)
        made = World(
            web=web,
            lenta=lenta,
            ann=ann,
            bob=bob,
            secret=lenta.add_credential(bob, "bob's app").secret,
            subscription=private.id,
            folder=ids["folder_id"],
            tag=ids["tag_id"],
            private_feed=private.feed_id,
            private_url=private.url,
            private_items=private_items,
            private_guids=private_guids,
            shared_items=shared_items,
            shared_url=shared.url,
            other_url=feeds.url("/other.xml"),
            bob_subscription=bob_subscription.id,
            bob_folder=bob_folder.id,
        )
        assert len(private_items) == 3 and len(shared_items) == 3 and set(private_items).isdisjoint(shared_items)
        # Bob's marks start as his own: none of Ann's shows in his reader.
        assert made.bobs() == set(shared_items) and made.bobs(read=True) == set() and made.bobs(starred=True) == set()
        assert lenta.reader(ann).tags_of(ids["item_id"])[0].name == "secret"
        yield made


@dataclass
class Bob:
    """Bob's client on one API, with the world he is tried in."""

    http: httpx.Client
    world: World
    key: str = ""  # a Fever key or a Tiny Tiny RSS session

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        body: Any = None,
        content: bytes | None = None,
        expect: int | tuple[int, ...] = 200,
        mine: bool = False,
    ) -> httpx.Response:
        """Ask; the answer must have the expected status and (unless it shows
        what Bob named himself: ``mine``) nothing of Ann's."""
        answer = self.http.request(method, path, params=params, data=data, json=body, content=content)
        expected = (expect,) if isinstance(expect, int) else expect
        assert answer.status_code in expected, (method, path, params, data, body, answer.status_code, answer.text[:300])
        if not mine:
            shows_nothing_of_anns(answer.text, f"{method} {path} {params} {data} {body}")
        return answer

    def ask(self, method: str, path: str, fields: dict[str, Any], expect: int | tuple[int, ...] = 200) -> httpx.Response:
        """Fields in the query (GET) or a form (POST), as Google Reader's clients send them
        (``output=json`` too: a POST with no form is refused before it reaches the API)."""
        if method == "GET":
            return self.call(method, path, params=fields, expect=expect)
        return self.call(method, path, data={"output": "json", **fields}, expect=expect)


def check_coverage(found: set[Any], checked: set[Any], what: str) -> None:
    unknown = found - checked
    assert not unknown, f"{what} this test does not try: {sorted(map(str, unknown))}"
    gone = checked - found
    assert not gone, f"{what} this test tries that are gone: {sorted(map(str, gone))}"


# -- Google Reader ----------------------------------------------------------------------------------

GR = "/reader/api/0"


def label(name: str) -> str:
    return f"{greader.LABEL}{name}"


def anns_streams(w: World) -> list[str]:
    return [f"feed/{w.subscription}", label("Secret"), label("secret")]


def item_forms(ids: list[int]) -> list[str]:
    """Item ids in the three forms Google Reader's clients send."""
    return [form for i in ids for form in (str(i), f"{i:016x}", greader.long_id(i))]


def gr_items_are_bobs(bob: Bob, items: list[dict[str, Any]]) -> None:
    w = bob.world
    read, starred = w.bobs(read=True), w.bobs(starred=True)
    for item in items:
        number = greader.item_id(item["id"])
        assert number in w.bobs(), item
        assert (greader.READ in item["categories"]) == (number in read), item
        assert (greader.STARRED in item["categories"]) == (number in starred), item
        assert item["origin"]["streamId"] == f"feed/{w.bob_subscription}", item


def gr_token(bob: Bob, method: str, path: str) -> None:
    assert len(bob.ask(method, path, {}).text) == 57


def gr_user_info(bob: Bob, method: str, path: str) -> None:
    info = bob.call(method, path).json()
    assert (info["userName"], info["userId"]) == ("bob", str(bob.world.bob.id))


def gr_subscription_list(bob: Bob, method: str, path: str) -> None:
    w = bob.world
    subscriptions = bob.call(method, path).json()["subscriptions"]
    assert [s["id"] for s in subscriptions] == [f"feed/{w.bob_subscription}"]
    assert [c["label"] for c in subscriptions[0]["categories"]] == ["Bobs"]


def gr_subscription_edit(bob: Bob, method: str, path: str) -> None:
    actions = compared_constants(greader.subscription_edit, "action")
    assert actions == {"subscribe", "unsubscribe", "edit"}, actions
    for action in sorted(map(str, actions)):
        for extra in ({"t": "mine", "a": label("Secret")}, {"a": label("Mine")}, {"r": label("Secret")}):
            # "feed/<Ann's id>" to subscribe to is a URL of no feed.
            bob.ask(method, path, {"ac": action, "s": f"feed/{bob.world.subscription}", **extra}, expect=(400, 404))
    w = bob.world
    assert "Mine" not in {folder.name for folder in w.lenta.reader(w.bob).folders()}  # refused: nothing made


def gr_quickadd(bob: Bob, method: str, path: str) -> None:
    w = bob.world
    bob.ask(method, path, {"quickadd": f"feed/{w.subscription}"}, expect=400)
    again = bob.ask(method, path, {"quickadd": w.shared_url}).json()  # followed by both: Bob's own subscription
    assert again["streamId"] == f"feed/{w.bob_subscription}"


def gr_export(bob: Bob, method: str, path: str) -> None:
    assert bob.world.shared_url in bob.call(method, path).text


def gr_import(bob: Bob, method: str, path: str) -> None:
    opml = f'<?xml version="1.0"?><opml version="2.0"><body><outline type="rss" xmlUrl="{bob.world.shared_url}"/></body></opml>'
    bob.call(method, path, content=opml.encode())


def gr_tag_list(bob: Bob, method: str, path: str) -> None:
    reader = bob.world.lenta.reader(bob.world.bob)
    mine = {greader.STARRED} | {label(f.name) for f in reader.folders()} | {label(t.name) for t in reader.tags()}
    assert {t["id"] for t in bob.call(method, path).json()["tags"]} == mine


def gr_rename_tag(bob: Bob, method: str, path: str) -> None:
    for name in ("Secret", "secret"):
        bob.ask(method, path, {"s": label(name), "dest": label("Mine too")}, expect=404)


def gr_disable_tag(bob: Bob, method: str, path: str) -> None:
    for name in ("Secret", "secret"):
        bob.ask(method, path, {"s": label(name)}, expect=404)


def gr_unread_count(bob: Bob, method: str, path: str) -> None:
    w = bob.world
    counts = {c["id"]: c["count"] for c in bob.call(method, path).json()["unreadcounts"]}
    unread = len(w.bobs(read=False))
    assert counts == {f"feed/{w.bob_subscription}": unread, label("Bobs"): unread, greader.READING_LIST: unread}


def gr_item_ids(bob: Bob, method: str, path: str) -> None:
    w = bob.world
    for stream in anns_streams(w):
        bob.ask(method, path, {"s": stream}, expect=404)
    for stream, wanted in (
        (greader.READING_LIST, w.bobs()),
        (greader.STARRED, w.bobs(starred=True)),
        (greader.READ, w.bobs(read=True)),
    ):
        refs = bob.ask(method, path, {"s": stream, "n": "1000"}).json()["itemRefs"]
        assert {int(r["id"]) for r in refs} == wanted, stream


def gr_items_contents(bob: Bob, method: str, path: str) -> None:
    w = bob.world
    items = bob.ask(method, path, {"i": item_forms(w.private_items) + [str(i) for i in w.shared_items]}).json()["items"]
    assert {greader.item_id(i["id"]) for i in items} == set(w.shared_items)
    gr_items_are_bobs(bob, items)


def gr_stream_contents(bob: Bob, method: str, path: str) -> None:
    w = bob.world
    for stream in anns_streams(w):
        if "{stream:path}" in path:
            bob.ask(method, path.replace("{stream:path}", stream), {}, expect=404)
        else:
            bob.ask(method, path, {"s": stream}, expect=404)
    for stream in (greader.READING_LIST, greader.STARRED, label("Bobs"), label("bobs")):
        if "{stream:path}" in path:
            answer = bob.ask(method, path.replace("{stream:path}", stream), {"n": "1000"})
        else:
            answer = bob.ask(method, path, {"s": stream, "n": "1000"})
        gr_items_are_bobs(bob, answer.json()["items"])


def gr_edit_tag(bob: Bob, method: str, path: str) -> None:
    anns = item_forms(bob.world.private_items)
    for change in (
        {"a": [greader.READ, greader.STARRED, label("Mine")]},
        {"r": [greader.READ, greader.STARRED, label("secret")]},
        {"a": [greader.KEPT_UNREAD]},
    ):
        assert bob.ask(method, path, {"i": anns, **change}).text == "OK"  # as the originals: ignored
    w = bob.world
    assert "mine" not in {tag.name.lower() for tag in w.lenta.reader(w.bob).tags()}  # no tag made for another's items


def gr_mark_all_as_read(bob: Bob, method: str, path: str) -> None:
    for stream in anns_streams(bob.world):
        bob.ask(method, path, {"s": stream}, expect=404)
        bob.ask(method, path, {"s": stream, "ts": str(int(time.time()) + 3600)}, expect=404)


def gr_atom(bob: Bob, method: str, path: str) -> None:
    w = bob.world
    for stream in anns_streams(w):
        bob.call(method, path.replace("{stream:path}", stream), expect=404)
    atom = bob.call(method, path.replace("{stream:path}", greader.READING_LIST)).text
    assert {int(found, 16) for found in re.findall(r"<id>tag:google.com,2005:reader/item/([0-9a-f]+)</id>", atom)} == w.bobs()


def gr_client_login(bob: Bob, method: str, path: str) -> None:
    w = bob.world
    assert "Auth=" in bob.ask(method, path, {"Email": "bob", "Passwd": w.secret}).text
    bob.ask(method, path, {"Email": "ann", "Passwd": w.secret}, expect=401)  # Bob's password opens no one else's


GREADER: dict[str, Callable[[Bob, str, str], None]] = {
    f"{GR}/token": gr_token,
    f"{GR}/user-info": gr_user_info,
    f"{GR}/subscription/list": gr_subscription_list,
    f"{GR}/subscription/edit": gr_subscription_edit,
    f"{GR}/subscription/quickadd": gr_quickadd,
    f"{GR}/subscription/export": gr_export,
    f"{GR}/subscription/import": gr_import,
    f"{GR}/tag/list": gr_tag_list,
    f"{GR}/rename-tag": gr_rename_tag,
    f"{GR}/disable-tag": gr_disable_tag,
    f"{GR}/unread-count": gr_unread_count,
    f"{GR}/stream/items/ids": gr_item_ids,
    f"{GR}/stream/items/contents": gr_items_contents,
    f"{GR}/stream/contents/{{stream:path}}": gr_stream_contents,
    f"{GR}/stream/contents": gr_stream_contents,
    f"{GR}/edit-tag": gr_edit_tag,
    f"{GR}/mark-all-as-read": gr_mark_all_as_read,
    "/reader/atom/{stream:path}": gr_atom,
    "/accounts/ClientLogin": gr_client_login,
}


def test_every_google_reader_route_refuses_another_users_ids(world: World) -> None:
    w = world
    routes = greader.routes()
    check_coverage({r.path for r in routes}, set(GREADER), "Google Reader routes")
    before = w.snapshot()
    answer = httpx.post(w.web.url("/accounts/ClientLogin"), data={"Email": "bob", "Passwd": w.secret})
    token = answer.text.split("Auth=")[1].strip()
    with httpx.Client(base_url=w.web.url(""), headers={"Authorization": f"GoogleLogin auth={token}"}) as http:
        bob = Bob(http, w)
        for route in routes:
            for method in methods_of(route):
                GREADER[route.path](bob, method, route.path)
        assert w.snapshot() == before
        # Bob's own "everything" and his marks on the feed both follow are his.
        bob.ask("POST", f"{GR}/mark-all-as-read", {"s": greader.READING_LIST})
        bob.ask("POST", f"{GR}/edit-tag", {"i": str(w.shared_items[1]), "a": greader.STARRED})
    assert w.bobs(read=False) == set() and w.bobs(starred=True) == {w.shared_items[1]}
    assert w.snapshot() == before


# -- Nextcloud News ----------------------------------------------------------------------------------


def nc_fill(w: World, path: str) -> str:
    """A route's path with Ann's ids (and the rest of a catch-all)."""
    guid = hashlib.md5(w.private_guids[0].encode()).hexdigest()  # noqa: S324 (Nextcloud's guidHash)
    values = {
        "folder_id": str(w.folder),
        "feed_id": str(w.subscription),
        "item_id": str(w.private_items[0]),
        "guid:path": f"{guid}/star",
        "url_hash": hashlib.md5(w.private_url.encode()).hexdigest(),  # noqa: S324
        "rest:path": f"v1-3/feeds/{w.subscription}/unknown",
    }
    for name in re.findall(r"{([\w:]+)}", path):
        path = path.replace("{" + name + "}", values[name])
    return path


def nc_refused(bob: Bob, method: str, path: str) -> None:
    """A route with Ann's id in its path: 404, whatever the body says."""
    body = {"name": "Mine", "feedTitle": "Mine", "folderId": 0, "newestItemId": LONG_MAX}
    bob.call(method, nc_fill(bob.world, path), body=body, expect=404)


def nc_levels(bob: Bob, method: str, path: str) -> None:
    assert bob.call(method, path).json() == {"apiLevels": list(nextcloud.VERSIONS)}


def nc_plain(bob: Bob, method: str, path: str) -> None:
    assert bob.call(method, path).json()["version"] == nextcloud.NEWS_VERSION


def nc_user(bob: Bob, method: str, path: str) -> None:
    assert bob.call(method, path).json()["userId"] == "bob"


def nc_folders(bob: Bob, method: str, path: str) -> None:
    mine = {f.id for f in bob.world.lenta.reader(bob.world.bob).folders()}
    assert {f["id"] for f in bob.call(method, path).json()["folders"]} == mine


def nc_create_folder(bob: Bob, method: str, path: str) -> None:
    w = bob.world
    # The name of Ann's folder is free for Bob (a 409 would tell him of hers).
    made = bob.call(method, path, body={"name": "Secret"}, mine=True).json()["folders"][0]
    assert made["name"] == "Secret" and made["id"] != w.folder
    bob.call("DELETE", f"{path}/{made['id']}")


def nc_feeds(bob: Bob, method: str, path: str) -> None:
    w = bob.world
    answer = bob.call(method, path).json()
    assert [(f["id"], f["folderId"], f["unreadCount"]) for f in answer["feeds"]] == [
        (w.bob_subscription, w.bob_folder, len(w.bobs(read=False)))
    ]
    assert answer["starredCount"] == len(w.bobs(starred=True)) and answer["newestItemId"] in w.bobs()


def nc_create_feed(bob: Bob, method: str, path: str) -> None:
    w = bob.world
    bob.call(method, path, body={"url": w.other_url, "folderId": w.folder}, expect=404)
    assert w.other_url not in {f.url for f in w.lenta.reader(w.bob).followed()}


def nc_move_feed(bob: Bob, method: str, path: str) -> None:
    w = bob.world
    nc_refused(bob, method, path)
    own = path.replace("{feed_id}", str(w.bob_subscription))
    bob.call(method, own, body={"folderId": w.folder}, expect=404)  # his own feed into her folder
    assert w.lenta.reader(w.bob).subscription(w.bob_subscription).folder_ids == (w.bob_folder,)


def nc_items(bob: Bob, method: str, path: str) -> None:
    w = bob.world
    feed, folder, starred = nextcloud.FEED, nextcloud.FOLDER, nextcloud.STARRED
    for kind, ident in ((feed, w.subscription), (folder, w.folder), (starred, w.subscription)):
        for get_read in ("true", "false"):
            asked = {"type": kind, "id": ident, "getRead": get_read, "lastModified": 0}
            assert bob.call(method, path, params=asked).json().get("items", []) == [], asked
    read, marked = w.bobs(read=True), w.bobs(starred=True)
    for kind, wanted in ((starred, marked), (nextcloud.ALL_ITEMS, w.bobs()), (nextcloud.UNREAD, w.bobs(read=False))):
        items = bob.call(method, path, params={"type": kind, "id": 0, "lastModified": 0}).json()["items"]
        assert {i["id"] for i in items} == wanted, kind
        for item in items:
            assert item["feedId"] == w.bob_subscription
            assert (item["unread"], item["starred"]) == (item["id"] not in read, item["id"] in marked), item


def nc_read_all(bob: Bob, method: str, path: str) -> None:
    bob.call(method, path, body={"newestItemId": max(bob.world.private_items)})  # names Ann's newest: Bob's up to it


def nc_many(bob: Bob, method: str, path: str) -> None:
    w = bob.world
    by_guid = [
        {"feedId": feed, "guidHash": hashlib.md5(guid.encode()).hexdigest()}  # noqa: S324
        for feed in (w.subscription, w.bob_subscription)
        for guid in w.private_guids
    ]
    for body in ({"itemIds": w.private_items}, {"items": w.private_items}, {"items": by_guid}):
        bob.call(method, path, body=body)  # as Nextcloud: unknown ids are skipped


def nc_star_by_guid(bob: Bob, method: str, path: str) -> None:
    w = bob.world
    for feed in (w.subscription, w.bob_subscription):
        for guid in (hashlib.md5(w.private_guids[0].encode()).hexdigest(), w.private_guids[0]):  # noqa: S324
            for action in ("star", "unstar"):
                bob.call(method, path.replace("{feed_id}", str(feed)).replace("{guid:path}", f"{guid}/{action}"), expect=404)


def nc_preflight(bob: Bob, method: str, path: str) -> None:
    assert bob.call(method, nc_fill(bob.world, path)).content == b""


NC_ROOT = "/index.php/apps/news/api"
NC_LEVEL = "/{level}"
NEXTCLOUD: dict[tuple[str, str], Callable[[Bob, str, str], None]] = {
    ("", "GET"): nc_levels,
    ("/{level}/version", "GET"): nc_plain,
    ("/{level}/status", "GET"): nc_plain,
    ("/{level}/user", "GET"): nc_user,
    ("/{level}/folders", "GET"): nc_folders,
    ("/{level}/folders", "POST"): nc_create_folder,
    ("/{level}/folders/{folder_id}", "PUT"): nc_refused,
    ("/{level}/folders/{folder_id}", "DELETE"): nc_refused,
    ("/{level}/folders/{folder_id}/read", "PUT"): nc_refused,
    ("/{level}/folders/{folder_id}/read", "POST"): nc_refused,
    ("/{level}/feeds", "GET"): nc_feeds,
    ("/{level}/feeds", "POST"): nc_create_feed,
    ("/{level}/feeds/{feed_id}", "DELETE"): nc_refused,
    ("/{level}/feeds/{feed_id}/move", "PUT"): nc_move_feed,
    ("/{level}/feeds/{feed_id}/move", "POST"): nc_move_feed,
    ("/{level}/feeds/{feed_id}/rename", "PUT"): nc_refused,
    ("/{level}/feeds/{feed_id}/rename", "POST"): nc_refused,
    ("/{level}/feeds/{feed_id}/read", "PUT"): nc_refused,
    ("/{level}/feeds/{feed_id}/read", "POST"): nc_refused,
    ("/{level}/items", "GET"): nc_items,
    ("/{level}/items/updated", "GET"): nc_items,
    ("/{level}/items/read", "PUT"): nc_read_all,
    ("/{level}/items/read", "POST"): nc_read_all,
    **{
        (f"/{{level}}/items/{what}/multiple", method): nc_many
        for what in ("read", "unread", "star", "unstar")
        for method in ("PUT", "POST")
    },
    **{
        (f"/{{level}}/items/{{item_id}}/{what}", method): nc_refused
        for what in ("read", "unread", "star", "unstar")
        for method in ("PUT", "POST")
    },
    ("/{level}/items/{feed_id}/{guid:path}", "PUT"): nc_star_by_guid,
    ("/{level}/items/{feed_id}/{guid:path}", "POST"): nc_star_by_guid,
    ("/{level}/favicon/{url_hash}", "GET"): nc_refused,
    ("/{rest:path}", "OPTIONS"): nc_preflight,
    **{("/{rest:path}", method): nc_refused for method in ("GET", "POST", "PUT", "DELETE", "PATCH")},
}


def nc_key(route: Route, method: str) -> tuple[str, str]:
    """A route's entry in :data:`NEXTCLOUD`: its path under the API's root, the level as ``{level}``."""
    assert route.path.startswith(NC_ROOT), route.path
    rest = route.path[len(NC_ROOT) :]
    for level in nextcloud.VERSIONS:
        if rest.startswith(f"/{level}/"):
            rest = NC_LEVEL + rest[len(level) + 1 :]
    return rest, method


def test_every_nextcloud_route_refuses_another_users_ids(world: World) -> None:
    w = world
    routes = [(route, method) for route in nextcloud.routes() for method in methods_of(route)]
    check_coverage({nc_key(route, method) for route, method in routes}, set(NEXTCLOUD), "Nextcloud News routes")
    before = w.snapshot()
    with httpx.Client(base_url=w.web.url(""), auth=("bob", w.secret)) as http:
        bob = Bob(http, w)
        for route, method in routes:
            NEXTCLOUD[nc_key(route, method)](bob, method, route.path)
        assert w.snapshot() == before
        # Bob's own "everything" and his marks on the feed both follow are his.
        bob.call("PUT", f"{NC_ROOT}/v1-2/items/read", body={"newestItemId": LONG_MAX})
        bob.call("POST", f"{NC_ROOT}/v1-3/items/star/multiple", body={"itemIds": [w.shared_items[1]]})
        bob.call("POST", f"{NC_ROOT}/v1-3/folders/0/read", body={"newestItemId": LONG_MAX})
        assert w.bobs(read=False) == set() and w.bobs(starred=True) == {w.shared_items[1]}
        assert w.snapshot() == before
        # What Ann does to the items of the feed both follow is no change of Bob's.
        since = int(time.time()) + 1
        time.sleep(max(0.0, since - time.time()))
        anns = w.lenta.reader(w.ann)
        anns.mark_unread([w.shared_items[1]])
        anns.star(w.shared_items[2])
        shared = next(f.id for f in anns.followed() if f.url == w.shared_url)
        anns.mark_all_read(through=max(w.shared_items), subscription_id=shared)
        assert w.snapshot() != before  # (the snapshot sees her marks)
        changed = bob.call("GET", f"{NC_ROOT}/v1-3/items/updated", params={"type": 3, "id": 0, "lastModified": since})
        assert changed.json()["items"] == []


# -- Fever --------------------------------------------------------------------------------------------

# Every mark Fever makes: (mark, as).
FEVER_MARKS = {("item", "read"), ("item", "unread"), ("item", "saved"), ("item", "unsaved"), ("feed", "read"), ("group", "read")}


def fever_parameters() -> set[str]:
    """The parameters the Fever module reads: ``values.get(x)``, ``values[x]``, ``x in values``."""

    def values(node: ast.expr) -> bool:
        return isinstance(node, ast.Name) and node.id == "values"

    found: set[str] = set()
    for node in ast.walk(ast.parse(inspect.getsource(fever))):
        name: ast.expr | None = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" and node.args:
            name = node.args[0] if values(node.func.value) else None
        elif isinstance(node, ast.Subscript) and values(node.value):
            name = node.slice
        elif isinstance(node, ast.Compare) and any(values(side) for side in node.comparators):
            name = node.left
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            found.add(name.value)
    return found


def fv(bob: Bob, fields: dict[str, Any], *, method: str = "POST", path: str = "/fever/") -> dict[str, Any]:
    """A Fever call as Bob: the selectors in the query, the rest in the form (everything in the query for a GET)."""
    selectors = {name: "" for name, value in fields.items() if value is None}
    rest = {name: str(value) for name, value in fields.items() if value is not None}
    if method == "GET":
        answer = bob.call(method, path, params={"api": "", "api_key": bob.key, **selectors, **rest})
    else:
        answer = bob.call(method, path, params={"api": "", **selectors}, data={"api_key": bob.key, **rest})
    reply: dict[str, Any] = answer.json()
    assert reply["auth"] == 1, reply
    return reply


def fv_ids(text: str) -> set[int]:
    return {int(part) for part in text.split(",") if part}


def fv_key(bob: Bob) -> None:
    w = bob.world
    anns_key = hashlib.md5(f"ann:{w.secret}".encode()).hexdigest()  # noqa: S324 (Fever's own key)
    refused = bob.call("POST", "/fever/", params={"api": ""}, data={"api_key": anns_key}).json()
    assert refused == {"api_version": 3, "auth": 0}


def fv_groups(bob: Bob) -> None:
    w = bob.world
    reply = fv(bob, {"groups": None})
    assert [g["id"] for g in reply["groups"]] == [w.bob_folder]
    assert reply["feeds_groups"] == [{"group_id": w.bob_folder, "feed_ids": str(w.bob_subscription)}]


def fv_feeds(bob: Bob) -> None:
    w = bob.world
    reply = fv(bob, {"feeds": None})
    assert [f["id"] for f in reply["feeds"]] == [w.bob_subscription]
    assert reply["feeds_groups"] == [{"group_id": w.bob_folder, "feed_ids": str(w.bob_subscription)}]


def fv_favicons(bob: Bob) -> None:
    assert {f["id"] for f in fv(bob, {"favicons": None})["favicons"]} <= {bob.world.bob_subscription}


def fv_items(bob: Bob) -> None:
    w = bob.world
    read, saved = w.bobs(read=True), w.bobs(starred=True)
    anns = ",".join(map(str, w.private_items))
    everything: list[dict[str, Any]] = [
        {},
        {"since_id": 0},
        {"max_id": 0},
        {"max_id": LONG_MAX // 2},
        {"with_ids": f"{anns},{w.shared_items[0]}"},
    ]
    for asked in everything:
        reply = fv(bob, {"items": None, **asked})
        wanted = {w.shared_items[0]} if "with_ids" in asked else w.bobs()
        assert {i["id"] for i in reply["items"]} == wanted and reply["total_items"] == len(w.bobs()), asked
        for item in reply["items"]:
            assert item["feed_id"] == w.bob_subscription
            assert (item["is_read"], item["is_saved"]) == (int(item["id"] in read), int(item["id"] in saved)), item
    nothing: list[dict[str, Any]] = [
        {"with_ids": anns},
        {"feed_ids": w.subscription},
        {"group_ids": w.folder},
        {"feed_ids": w.subscription, "max_id": 0},
        {"group_ids": w.folder, "since_id": 0},
        {"feed_ids": w.subscription, "with_ids": f"{anns},{w.shared_items[0]}"},
    ]
    for asked in nothing:
        assert fv(bob, {"items": None, **asked})["items"] == [], asked


def fv_links(bob: Bob) -> None:
    assert fv(bob, {"links": None})["links"] == []


def fv_id_lists(bob: Bob) -> None:
    w = bob.world
    reply = fv(bob, {"unread_item_ids": None, "saved_item_ids": None})
    assert fv_ids(reply["unread_item_ids"]) == w.bobs(read=False)
    assert fv_ids(reply["saved_item_ids"]) == w.bobs(starred=True)


def fv_marks(bob: Bob) -> None:
    w = bob.world
    assert {what for what, _ in FEVER_MARKS} == compared_constants(fever.mark, "what")
    assert {state for _, state in FEVER_MARKS} == compared_constants(fever.mark, "state")
    targets = {"item": ",".join(map(str, w.private_items)), "feed": str(w.subscription), "group": str(w.folder)}
    for what, state in sorted(FEVER_MARKS):
        for before in ("", "0", str(int(time.time()) + 3600)):
            reply = fv(bob, {"mark": what, "as": state, "id": targets[what], "before": before})
            again = "saved_item_ids" if state in ("saved", "unsaved") else "unread_item_ids"
            assert fv_ids(reply[again]) == w.bobs(**({"starred": True} if again == "saved_item_ids" else {"read": False}))


FEVER: dict[str, Callable[[Bob], None]] = {
    "api_key": fv_key,
    "groups": fv_groups,
    "feeds": fv_feeds,
    "favicons": fv_favicons,
    "items": fv_items,
    "since_id": fv_items,
    "max_id": fv_items,
    "with_ids": fv_items,
    "feed_ids": fv_items,
    "group_ids": fv_items,
    "links": fv_links,
    "unread_item_ids": fv_id_lists,
    "saved_item_ids": fv_id_lists,
    "mark": fv_marks,
    "as": fv_marks,
    "id": fv_marks,
    "before": fv_marks,
}


def test_every_fever_parameter_and_mark_refuses_another_users_ids(world: World) -> None:
    w = world
    check_coverage(fever_parameters(), set(FEVER), "Fever parameters")
    routes = [(route.path, method) for route in fever.routes() for method in methods_of(route)]
    assert {path for path, _ in routes} == set(fever.PATHS)
    before = w.snapshot()
    key = hashlib.md5(f"bob:{w.secret}".encode()).hexdigest()  # noqa: S324 (Fever's own key)
    with httpx.Client(base_url=w.web.url("")) as http:
        bob = Bob(http, w, key)
        for path, method in routes:
            reply = fv(
                bob, {"groups": None, "feeds": None, "items": None, "with_ids": w.private_items[0]}, method=method, path=path
            )
            assert reply["items"] == [] and [f["id"] for f in reply["feeds"]] == [w.bob_subscription]
        for check in dict.fromkeys(FEVER.values()):
            check(bob)
        assert w.snapshot() == before
        # Bob's own "everything" (Kindling, group 0) and his marks on the feed both follow are his.
        fv(bob, {"mark": "group", "as": "read", "id": 0, "before": 0})
        fv(bob, {"mark": "item", "as": "saved", "id": w.shared_items[1]})
    assert w.bobs(read=False) == set() and w.bobs(starred=True) == {w.shared_items[1]}
    assert w.snapshot() == before


# -- Tiny Tiny RSS ----------------------------------------------------------------------------------


def tt(bob: Bob, op: str, *, error: str | None = None, path: str = "/api/", **args: Any) -> Any:
    """An op as Bob, in his session; its content (or the error it must be)."""
    answer = bob.call("POST", path, body={"op": op, "sid": bob.key, "seq": 7, **args}).json()
    if error is not None:
        assert (answer["status"], answer["content"]["error"]) == (1, error), (op, args, answer)
        return None
    assert answer["status"] == 0 and answer["seq"] == 7, (op, args, answer)
    return answer["content"]


def tt_login(bob: Bob) -> None:
    w = bob.world
    content = bob.call("POST", "/api/", body={"op": "login", "user": "bob", "password": w.secret}).json()["content"]
    assert content["config"]["num_feeds"] == 1
    refused = bob.call("POST", "/api/", body={"op": "login", "user": "ann", "password": w.secret}).json()
    assert refused["content"]["error"] == "LOGIN_ERROR"


def tt_logout(bob: Bob) -> None:
    w = bob.world
    sid = bob.call("POST", "/api/", body={"op": "login", "user": "bob", "password": w.secret}).json()["content"]["session_id"]
    other = Bob(bob.http, w, sid)
    assert tt(other, "logout") == {"status": "OK"}
    assert tt(other, "isLoggedIn") == {"status": False}
    assert tt(bob, "isLoggedIn") == {"status": True}  # his other session goes on


def tt_plain(op: str) -> Callable[[Bob], None]:
    def check(bob: Bob) -> None:
        tt(bob, op, pref_name="ENABLE_API_ACCESS")

    return check


def tt_config(bob: Bob) -> None:
    assert tt(bob, "getConfig")["num_feeds"] == 1


def tt_unread(bob: Bob) -> None:
    w = bob.world
    assert tt(bob, "getUnread", feed_id=w.subscription) == {"unread": 0}
    assert tt(bob, "getUnread", feed_id=w.folder, is_cat=True) == {"unread": 0}
    for feed in (None, ttrss.FEED_ALL):
        assert tt(bob, "getUnread", feed_id=feed) == {"unread": len(w.bobs(read=False))}
    assert tt(bob, "getUnread", feed_id=ttrss.FEED_STARRED) == {"unread": len(w.bobs(read=False, starred=True))}


def tt_counters(bob: Bob) -> None:
    w = bob.world
    counters = tt(bob, "getCounters")
    feeds = {c["id"] for c in counters if isinstance(c["id"], int) and c["id"] > 0 and c.get("kind") != "cat"}
    cats = {c["id"] for c in counters if c.get("kind") == "cat"}
    assert feeds == {w.bob_subscription} and cats == {w.bob_folder, 0, ttrss.CATEGORY_LABELS}
    starred = next(c for c in counters if c["id"] == ttrss.FEED_STARRED)
    assert starred["auxcounter"] == len(w.bobs(starred=True))
    assert next(c for c in counters if c["id"] == "global-unread")["counter"] == len(w.bobs(read=False))


def tt_feeds(bob: Bob) -> None:
    w = bob.world
    for nested in (False, True):
        assert tt(bob, "getFeeds", cat_id=w.folder, include_nested=nested) == []
    for cat in (ttrss.CATEGORY_ALL, ttrss.CATEGORY_ALL_EXCEPT_VIRTUAL, w.bob_folder):
        assert {f["id"] for f in tt(bob, "getFeeds", cat_id=cat) if f["id"] > 0} == {w.bob_subscription}, cat


def tt_categories(bob: Bob) -> None:
    w = bob.world
    found = {c["id"] for c in tt(bob, "getCategories", include_empty=True)}
    assert found == {w.bob_folder, ttrss.CATEGORY_LABELS, ttrss.CATEGORY_SPECIAL, ttrss.CATEGORY_UNCATEGORIZED}


def tt_feed_tree(bob: Bob) -> None:
    w = bob.world

    def bare(node: dict[str, Any], kind: str) -> set[int]:
        found = {node["bare_id"]} if node.get("type") == kind else set()
        for child in node.get("items", []):
            found |= bare(child, kind)
        return found

    tree = tt(bob, "getFeedTree", include_empty=True)["categories"]
    assert bare(tree, "feed") - set(ttrss.SPECIAL_FEEDS) == {w.bob_subscription}
    assert bare(tree, "category") == {w.bob_folder, ttrss.CATEGORY_SPECIAL, ttrss.CATEGORY_UNCATEGORIZED}


def tt_feed_icon(bob: Bob) -> None:
    tt(bob, "getFeedIcon", id=bob.world.subscription, error="E_NOT_FOUND")


def tt_headlines(bob: Bob) -> None:
    w = bob.world
    scopes: list[dict[str, Any]] = [
        {"feed_id": w.subscription},
        {"feed_id": w.folder, "is_cat": True},
        {"feed_id": w.folder, "is_cat": True, "include_nested": True},
        {"feed_id": w.subscription, "search": "Private"},
        {"feed_id": ttrss.FEED_ALL, "search": "Private"},
        {"feed_id": w.folder, "is_cat": True, "search": "Body"},
    ]
    for asked in scopes:
        for mode in ("all_articles", "unread", "marked", "adaptive"):
            content = tt(bob, "getHeadlines", view_mode=mode, include_header=True, show_content=True, **asked)
            assert content[1] == [], (asked, mode)
    read, marked = w.bobs(read=True), w.bobs(starred=True)
    for feed, wanted in ((ttrss.FEED_ALL, w.bobs()), (ttrss.FEED_STARRED, marked), (ttrss.FEED_FRESH, w.bobs(read=False))):
        rows = tt(bob, "getHeadlines", feed_id=feed, show_content=True)
        assert {r["id"] for r in rows} == wanted, feed
        for row in rows:
            assert row["feed_id"] == w.bob_subscription
            assert (row["unread"], row["marked"]) == (row["id"] not in read, row["id"] in marked), row
    assert {r["id"] for r in tt(bob, "getHeadlines", feed_id=ttrss.FEED_ALL, search="Body")} == w.bobs()


def tt_article(bob: Bob) -> None:
    w = bob.world
    assert tt(bob, "getArticle", article_id=",".join(map(str, w.private_items))) == []
    mixed = tt(bob, "getArticle", article_id=[*w.private_items, w.shared_items[0]])
    assert [(a["id"], a["feed_id"], a["marked"]) for a in mixed] == [(w.shared_items[0], w.bob_subscription, False)]


def tt_update_article(bob: Bob) -> None:
    w = bob.world
    fields = {number for number in compared_constants(ttrss.update_article, "field") if isinstance(number, int)}
    assert fields == {0, 1, 2, 3, 4}
    for field in sorted(fields):
        for mode in (0, 1, 2):
            answer = tt(bob, "updateArticle", article_ids=",".join(map(str, w.private_items)), field=field, mode=mode, data="x")
            assert answer == {"status": "OK", "updated": 0}, (field, mode)


def tt_catchup(bob: Bob) -> None:
    w = bob.world
    scopes: list[dict[str, Any]] = [{"feed_id": w.subscription}, {"feed_id": w.folder, "is_cat": True}]
    for asked in scopes:
        for mode in ("all", "1day", "1week", "2week"):
            assert tt(bob, "catchupFeed", mode=mode, **asked) == {"status": "OK"}


def tt_unsubscribe(bob: Bob) -> None:
    tt(bob, "unsubscribeFeed", feed_id=bob.world.subscription, error="E_OPERATION_FAILED")


def tt_update_feed(bob: Bob) -> None:
    assert tt(bob, "updateFeed", feed_id=bob.world.subscription) == {"status": "OK"}  # her feed is not fetched for him


def tt_labels(bob: Bob) -> None:
    assert tt(bob, "getLabels", article_id=bob.world.private_items[0]) == []


def tt_set_label(bob: Bob) -> None:
    w = bob.world
    answer = tt(bob, "setArticleLabel", article_ids=",".join(map(str, w.private_items)), label_id=-1025, assign=True)
    assert answer == {"status": "OK", "updated": 0}


def tt_share(bob: Bob) -> None:
    tt(bob, "shareToPublished", title="x", url=bob.world.private_url, content="x", error="E_OPERATION_FAILED")


def tt_subscribe(bob: Bob) -> None:
    w = bob.world
    assert tt(bob, "subscribeToFeed", feed_url=w.other_url, category_id=w.folder) == {"status": {"code": 7}}
    assert w.other_url not in {f.url for f in w.lenta.reader(w.bob).followed()}
    again = tt(bob, "subscribeToFeed", feed_url=w.shared_url)  # followed by both: Bob's own subscription
    assert again == {"status": {"code": 0, "feed_id": w.bob_subscription}}


TTRSS: dict[str, Callable[[Bob], None]] = {
    "login": tt_login,
    "logout": tt_logout,
    "isloggedin": tt_plain("isLoggedIn"),
    "getapilevel": tt_plain("getApiLevel"),
    "getversion": tt_plain("getVersion"),
    "getconfig": tt_config,
    "getpref": tt_plain("getPref"),
    "getunread": tt_unread,
    "getcounters": tt_counters,
    "getfeeds": tt_feeds,
    "getcategories": tt_categories,
    "getfeedtree": tt_feed_tree,
    "getfeedicon": tt_feed_icon,
    "getheadlines": tt_headlines,
    "getarticle": tt_article,
    "updatearticle": tt_update_article,
    "catchupfeed": tt_catchup,
    "unsubscribefeed": tt_unsubscribe,
    "updatefeed": tt_update_feed,
    "getlabels": tt_labels,
    "setarticlelabel": tt_set_label,
    "sharetopublished": tt_share,
    "subscribetofeed": tt_subscribe,
}


def test_every_tiny_tiny_rss_op_refuses_another_users_ids(world: World) -> None:
    w = world
    ops = set(ttrss.OPS) | set(ttrss.ASYNC_OPS) | {op for op in compared_constants(ttrss.api, "op") if isinstance(op, str)}
    check_coverage(ops, set(TTRSS), "Tiny Tiny RSS ops")
    routes = [(route.path, method) for route in ttrss.routes() for method in methods_of(route)]
    assert {path for path, _ in routes} == set(ttrss.PATHS)
    before = w.snapshot()
    with httpx.Client(base_url=w.web.url("")) as http:
        login = {"op": "login", "user": "bob", "password": w.secret}
        bob = Bob(http, w, http.post("/api/", json=login).json()["content"]["session_id"])
        for path, method in routes:
            if method == "POST":
                assert tt(bob, "getArticle", path=path, article_id=w.private_items[0]) == []
            else:  # TT-RSS takes only POSTs
                asked = {"op": "getArticle", "sid": bob.key, "article_id": w.private_items[0]}
                assert bob.call(method, path, params=asked).json()["content"] == {"error": "INCORRECT_USAGE"}
        for op in sorted(ops):
            TTRSS[op](bob)
        assert w.snapshot() == before
        # Bob's own "everything" (the special feed "all") and his marks on the feed both follow are his.
        assert tt(bob, "catchupFeed", feed_id=ttrss.FEED_ALL) == {"status": "OK"}
        assert tt(bob, "updateArticle", article_ids=str(w.shared_items[1]), field=0, mode=1)["updated"] == 1
    assert w.bobs(read=False) == set() and w.bobs(starred=True) == {w.shared_items[1]}
    assert w.snapshot() == before
