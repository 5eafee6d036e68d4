"""Debian's newsboat (2.21 in Debian 12) against lenta over real HTTP (issue 12), with each of its sync
backends: ``miniflux`` (/v1/), ``feedhq`` (Google Reader: ClientLogin, subscription list, the Atom view
of each feed, edit-tag and mark-all-as-read), ``ocnews`` (Nextcloud News v1.2) and ``ttrss`` (Tiny Tiny
RSS, the API switched on for the user).

Each test follows two feeds in lenta and marks an item read there, then runs newsboat headless
(``-x reload``, ``-x print-unread``) with a config, a URL file and a cache of its own, and reads its
cache (SQLite: ``rss_feed``, ``rss_item``): lenta's feeds listed (under the key each backend gives a
feed), every entry with its title and text and a guid holding lenta's item id, the unread count
lenta's, the item read in lenta read there; states changed in lenta after that sync (one item read,
one unread again) show after the next reload. Then newsboat runs in a tmux session of its own: the
feed list shows lenta's titles and counts; a feed opened, its first unread article opened and left
with ``q`` (newsboat 2.21 marks an article read on the first key pressed in its view: read in lenta),
toggled unread with ``N`` in the list (unread in lenta), the feed marked read with ``A`` (all its items
read in lenta, the other feed's untouched), quit with ``q``; its cache agrees with lenta afterwards,
and again after one more reload. Each mark is awaited in lenta before the next key: newsboat's
miniflux and ttrss backends send marks from detached threads, so two quick marks of one item race
(``N`` pressed in the article view sends "read" and "unread" at once, either may land last).

Skipped when ``newsboat`` or ``tmux`` is not installed (``.ci/run`` installs both). newsboat's dates are
local time (``mktime``): it runs with ``TZ=UTC`` (docs/sync-apis.md, section 3).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from httpserver import LocalServer
from httpserver import Reply
from test_reader import RSS
from test_reader import feed_xml
from test_web import PASSWORD
from webserver import AppServer

from lenta.config import Settings
from lenta.core import Lenta
from lenta.types import Followed
from lenta.types import ReaderItem
from lenta.types import User
from lenta.web import create_app

BACKENDS = ["miniflux", "feedhq", "ocnews", "ttrss"]
RUN_TIMEOUT = 60.0  # seconds for one headless newsboat run
WAIT = 15.0  # seconds to wait for a screen or for lenta to see a mark


@dataclass(frozen=True)
class Site:
    web: AppServer
    feeds: LocalServer
    lenta: Lenta
    user: User
    secret: str


@pytest.fixture
def tools() -> tuple[str, str]:
    newsboat, tmux = shutil.which("newsboat"), shutil.which("tmux")
    if newsboat is None:
        pytest.skip("newsboat is not installed (apt-get install newsboat; .ci/run installs it)")
    if tmux is None:
        pytest.skip("tmux is not installed (apt-get install tmux; .ci/run installs it)")
    return newsboat, tmux


@pytest.fixture
def site(lenta: Lenta, settings: Settings) -> Iterator[Site]:
    routes = {
        "/alpha.xml": Reply(body=feed_xml("Alpha", range(1, 6)), headers=RSS),
        "/beta.xml": Reply(body=feed_xml("Beta", range(1, 4)), headers=RSS),
    }
    with LocalServer(routes) as feeds, AppServer(create_app(settings, lenta)) as web:
        user = lenta.add_user("ann", PASSWORD)
        secret = lenta.add_credential(user, "newsboat").secret
        reader = lenta.reader(user)
        for path in ("/alpha.xml", "/beta.xml"):
            asyncio.run(reader.follow(feeds.url(path)))
        yield Site(web, feeds, lenta, user, secret)


def config(backend: str, site: Site) -> str:
    url, login, secret = site.web.url(""), site.user.name, site.secret
    lines = {
        "miniflux": [f'miniflux-url "{url}"', f'miniflux-login "{login}"', f'miniflux-password "{secret}"'],
        "feedhq": [
            f'feedhq-url "{url}"',
            f'feedhq-login "{login}"',
            f'feedhq-password "{secret}"',
            "feedhq-show-special-feeds no",
        ],
        "ocnews": [f'ocnews-url "{url}"', f'ocnews-login "{login}"', f'ocnews-password "{secret}"'],
        "ttrss": [f'ttrss-url "{url}"', f'ttrss-login "{login}"', f'ttrss-password "{secret}"', "ttrss-mode multi"],
    }[backend]
    common = [
        f'urls-source "{backend}"',
        "show-read-feeds no",  # ocnews's empty "Starred" pseudo-feed stays out of the list
        "show-read-articles yes",
        "refresh-on-startup no",
        "reload-threads 1",
        "download-timeout 10",
        "history-limit 0",
        "confirm-exit no",
        'browser "true"',
    ]
    return "\n".join(common + lines) + "\n"


class Newsboat:
    """newsboat with a config, a URL file, a cache and a home of its own in ``root``."""

    def __init__(self, binary: str, tmux: str, root: Path, config_text: str) -> None:
        self.binary, self.tmux, self.root = binary, tmux, root
        home = root / "home"
        (home / ".newsboat").mkdir(parents=True)
        self.config, self.urls, self.cache, self.log = root / "config", root / "urls", root / "cache.db", root / "newsboat.log"
        self.config.write_text(config_text)
        self.urls.write_text("")
        # A tmux server of its own, its socket in a short path (a socket path is at most 107 bytes).
        self.socket_dir = tempfile.TemporaryDirectory(prefix="lenta-newsboat-")
        self.socket = Path(self.socket_dir.name) / "tmux.sock"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "TZ": "UTC",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "TERM": "screen",
        }

    def argv(self) -> list[str]:
        return [self.binary, "-C", str(self.config), "-u", str(self.urls), "-c", str(self.cache), "-d", str(self.log), "-l", "4"]

    def run(self, *commands: str) -> str:
        done = subprocess.run(
            [*self.argv(), "-x", *commands], env=self.env, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False
        )
        assert done.returncode == 0, (done.returncode, done.stdout, done.stderr, self.log_text())
        return done.stdout

    def unread(self) -> int:
        out = self.run("print-unread")
        found = re.fullmatch(r"(\d+) unread articles?\n?", out)
        assert found, out
        return int(found.group(1))

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    def items(self) -> dict[str, tuple[bool, str, str, str]]:
        """title → (unread, content, guid, feed url), as newsboat's cache has them."""
        with contextlib.closing(sqlite3.connect(self.cache)) as db:
            rows = db.execute("SELECT title, unread, content, guid, feedurl FROM rss_item WHERE deleted = 0").fetchall()
        return {title: (bool(unread), content, guid, feedurl) for title, unread, content, guid, feedurl in rows}

    def feeds(self) -> dict[str, str]:
        """feed url → title, as newsboat's cache has them."""
        with contextlib.closing(sqlite3.connect(self.cache)) as db:
            return dict(db.execute("SELECT rssurl, title FROM rss_feed").fetchall())

    # -- the interactive newsboat, in tmux -----------------------------------------------------

    def tmux_call(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [self.tmux, "-S", str(self.socket), *args], env=self.env, capture_output=True, text=True, timeout=10, check=False
        )
        if check:
            assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done

    def start(self) -> None:
        conf = self.root / "tmux.conf"
        conf.write_text('set -g default-terminal "screen"\nset -g remain-on-exit off\n')
        command = shlex.join(self.argv())
        self.tmux_call("-f", str(conf), "new-session", "-d", "-x", "200", "-y", "50", "-s", "newsboat", command)

    def screen(self) -> str:
        done = self.tmux_call("capture-pane", "-p", "-t", "newsboat", check=False)
        return done.stdout if done.returncode == 0 else f"(no screen: {done.stderr.strip()})"

    def keys(self, *keys: str) -> None:
        self.tmux_call("send-keys", "-t", "newsboat", *keys)

    def wait_screen(self, test: Callable[[str], bool], what: str) -> str:
        deadline = time.monotonic() + WAIT
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if test(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"newsboat did not show {what} in {WAIT}s:\n{screen}\n{self.log_text()}")

    def running(self) -> bool:
        return self.tmux_call("has-session", "-t", "newsboat", check=False).returncode == 0

    def wait_exit(self) -> None:
        deadline = time.monotonic() + WAIT
        while self.running():
            assert time.monotonic() < deadline, f"newsboat did not quit:\n{self.screen()}"
            time.sleep(0.1)

    def stop(self) -> None:
        if self.socket.exists():
            self.tmux_call("kill-server", check=False)
        self.socket_dir.cleanup()


def lenta_items(site: Site) -> dict[str, ReaderItem]:
    page = site.lenta.reader(site.user).items("all", per_page=100)
    return {item.item.title or "": item for item in page.items}


def read_in_lenta(site: Site) -> dict[str, bool]:
    return {title: item.read for title, item in lenta_items(site).items()}


def wait_lenta(site: Site, test: Callable[[dict[str, bool]], bool], what: str, newsboat: Newsboat) -> None:
    deadline = time.monotonic() + WAIT
    states = read_in_lenta(site)
    while time.monotonic() < deadline:
        states = read_in_lenta(site)
        if test(states):
            return
        time.sleep(0.1)
    raise AssertionError(f"lenta did not see {what} in {WAIT}s: {states}\n{newsboat.screen()}\n{newsboat.log_text()}")


def feed_url(backend: str, site: Site, followed: Followed) -> str:
    """The "URL" newsboat gives a feed of each backend (its key in the cache)."""
    if backend == "miniflux":  # the feed's id
        return str(followed.id)
    if backend == "feedhq":  # the Atom view of the stream, its id fully percent-encoded, feedhq-min-items
        return site.web.url(f"/reader/atom/feed%2F{followed.id}?n=20")
    if backend == "ocnews":  # the title
        return followed.title
    return f"{followed.url}#{followed.id}"  # ttrss: the feed's own URL and its id


def lenta_id(backend: str, guid: str) -> int:
    """The lenta item id in the guid newsboat keeps for an entry of each backend."""
    if backend == "feedhq":  # the Atom entry's id: Google Reader's long form
        prefix = "tag:google.com,2005:reader/item/"
        assert guid.startswith(prefix), guid
        return int(guid.removeprefix(prefix), 16)
    if backend == "ocnews":  # "<id>:<feedId>/<guid>"
        return int(guid.split(":", 1)[0])
    return int(guid)  # miniflux, ttrss: the id


TITLES = [f"Alpha {n}" for n in range(1, 6)] + [f"Beta {n}" for n in range(1, 4)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_newsboat_syncs_with_lenta(backend: str, tools: tuple[str, str], site: Site, tmp_path: Path) -> None:
    lenta, user = site.lenta, site.user
    if backend == "ttrss":
        lenta.set_ttrss_api_enabled(user, True)
    reader = lenta.reader(user)
    items = lenta_items(site)
    assert sorted(items) == sorted(TITLES)
    reader.mark_read([items["Alpha 2"].item.id])
    assert reader.unread_total() == 7

    newsboat = Newsboat(*tools, tmp_path / "newsboat", config(backend, site))
    try:
        # Headless: the feeds, every entry with its title and text, the read state set in lenta.
        newsboat.run("reload")
        assert newsboat.unread() == reader.unread_total() == 7
        urls = {followed.title: feed_url(backend, site, followed) for followed in reader.followed()}
        assert set(urls.values()) <= set(newsboat.feeds()), (urls, newsboat.feeds())
        cached = newsboat.items()
        assert sorted(cached) == sorted(TITLES), (cached, newsboat.log_text())
        for title, (unread, content, guid, in_feed) in cached.items():
            feed, number = title.split()
            assert in_feed == urls[feed], (title, in_feed, urls)
            assert f"Body {number}" in content, (title, content)
            assert lenta_id(backend, guid) == items[title].item.id, (title, guid)
            assert unread == (title != "Alpha 2"), (title, unread)

        # States changed in lenta after a sync show at the next reload.
        reader.mark_read([items["Beta 1"].item.id])
        reader.mark_unread([items["Alpha 2"].item.id])
        newsboat.run("reload")
        assert newsboat.unread() == reader.unread_total() == 7
        cached = newsboat.items()
        assert {title for title, row in cached.items() if not row[0]} == {"Beta 1"}, cached

        # Interactive, in tmux: open a feed, open its first unread article (read in lenta), toggle it
        # unread (unread in lenta), mark the feed read (all its items read in lenta), quit.
        newsboat.start()
        # The feed list: lenta's feeds by their titles, with their unread and total counts.
        newsboat.wait_screen(
            lambda screen: (
                re.search(r"\(5/5\) +Alpha\b", screen) is not None and re.search(r"\(2/3\) +Beta\b", screen) is not None
            ),
            "the feed list",
        )
        newsboat.keys("Enter")
        screen = newsboat.wait_screen(lambda screen: "Articles in feed '" in screen, "a feed's items")
        heading = re.search(r"Articles in feed '(Alpha|Beta)'", screen)
        assert heading is not None, screen
        opened = heading.group(1)
        other = "Beta" if opened == "Alpha" else "Alpha"
        before = read_in_lenta(site)
        newsboat.keys("Enter")  # open the selected article, the feed's first unread one
        screen = newsboat.wait_screen(lambda screen: re.search(rf"Title: {opened} \d", screen) is not None, "an article")
        shown = re.search(rf"Title: ({opened} \d)", screen)
        assert shown is not None, screen
        article = shown.group(1)
        assert not before[article], (article, before)
        # newsboat 2.21 marks the article read (locally and on the server) on the first key pressed in
        # its view (ItemViewFormAction::process_operation): here the q that goes back to the list.
        newsboat.keys("q")
        newsboat.wait_screen(lambda screen: "Title:" not in screen, "the item list again")
        wait_lenta(site, lambda states: states[article], f"{article} read", newsboat)
        newsboat.keys("N")  # toggle the selected item (still that article): unread again
        wait_lenta(site, lambda states: not states[article], f"{article} unread again", newsboat)
        newsboat.keys("A")  # mark the feed read
        wait_lenta(
            site,
            lambda states: all(states[t] for t in TITLES if t.startswith(opened)),
            f"every {opened} item read",
            newsboat,
        )
        newsboat.keys("q")
        newsboat.keys("q")
        newsboat.wait_exit()
    finally:
        newsboat.stop()
    # The other feed is as it was; newsboat's cache says what lenta says, before and after a reload.
    states = read_in_lenta(site)
    assert {t for t in TITLES if t.startswith(other) and states[t]} == ({"Beta 1"} if other == "Beta" else set()), states
    assert {t: not row[0] for t, row in newsboat.items().items()} == states, newsboat.items()
    assert newsboat.unread() == reader.unread_total() == {"Alpha": 5, "Beta": 2}[other]
    newsboat.run("reload")
    assert {t: not row[0] for t, row in newsboat.items().items()} == read_in_lenta(site) == states, newsboat.items()
