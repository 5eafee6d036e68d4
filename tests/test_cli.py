"""Every `lenta` command, run through click's runner on a real SQLite file
against feeds served on 127.0.0.1 (and `lenta worker` as a real process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from click.testing import Result
from conftest import corpus_dir
from httpserver import LocalServer
from httpserver import Reply
from httpserver import free_port
from lxml import etree

from lenta.cli import main
from lenta.config import load_settings
from lenta.core import make_lenta
from lenta.parse.opml import parse_opml

RSS = {"Content-Type": "application/rss+xml"}
FEED = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Example</title><link>https://example.com/</link>'
    b"<item><title>Hello</title><guid>1</guid><description>Hi</description></item>"
    b"<item><title>World</title><guid>2</guid><description>There</description></item></channel></rss>"
)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "cli.sqlite"


def run(db: Path, *args: str, input: str | None = None) -> Result:
    env = {"LENTA_DB": str(db), "LENTA_FETCH_ALLOW": "127.0.0.1"}
    return CliRunner().invoke(main, list(args), input=input, env=env, catch_exceptions=False)


def test_add_list_remove(db: Path) -> None:
    with LocalServer({"/feed": Reply(body=FEED, headers=RSS)}) as server:
        added = run(db, "add", server.url("/feed"), "--title", "My feed", "--category", "News", "--refresh", "3600")
        assert added.exit_code == 0, added.output
        assert added.output.startswith("Added feed 1: ")
        listed = run(db, "list", "--json")
    (row,) = json.loads(listed.output)
    assert (row["id"], row["title"], row["url"], row["items"]) == (1, "My feed", server.url("/feed"), 2)  # fetched at once
    lenta = make_lenta(load_settings({}, db=str(db)))
    feed = lenta.get_feed(1)
    assert feed.refresh == 3600
    assert [c.title for c in lenta.list_categories()] == ["News"]
    lenta.close()
    removed = run(db, "remove", server.url("/feed"))
    assert removed.exit_code == 0 and "Removed feed 1" in removed.output
    assert json.loads(run(db, "list", "--json").output) == []


def test_bad_input_is_a_clear_error_with_status_1(db: Path) -> None:
    result = run(db, "add", "ftp://example.com/feed")
    assert result.exit_code == 1
    assert "Error: Only http and https URLs can be feeds" in result.output
    result = run(db, "add", "https://example.com/feed", "--refresh", "77")
    assert result.exit_code == 1 and "Refresh must be" in result.output
    result = run(db, "remove", "42")
    assert result.exit_code == 1 and "Error: No feed 42." in result.output
    assert json.loads(run(db, "list", "--json").output) == []


def test_adding_the_same_feed_twice_is_refused(db: Path) -> None:
    with LocalServer({"/feed": Reply(body=FEED, headers=RSS)}) as server:
        assert run(db, "add", server.url("/feed")).exit_code == 0
        again = run(db, "add", server.url("/feed"))
    assert again.exit_code == 1 and "already exists" in again.output


def test_refresh_prints_a_summary_and_failures_are_not_fatal(db: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}/feed"
    with LocalServer({"/feed": Reply(body=FEED, headers=RSS, etag='"1"')}) as server:
        run(db, "import", "--no-fetch", str(_opml(db.parent, server.url("/feed"), dead)))  # added, due, not fetched
        first = run(db, "refresh")
        second = run(db, "refresh", "--all")
        only_one = run(db, "refresh", "1")
    assert first.exit_code == 0
    assert "2 feeds: 1 ok, 0 not modified, 1 failed; 2 new items, 0 updated" in first.output
    assert f"failed: {dead}: connection refused" in first.output
    assert "1 not modified" in second.output and "1 failed" in second.output
    assert "1 feed: 0 ok, 1 not modified, 0 failed; 0 new items, 0 updated" in only_one.output
    table = run(db, "list").output.splitlines()
    assert table[0].split() == ["ID", "TITLE", "URL", "ITEMS", "LAST", "CHECK", "NEXT", "CHECK", "LAST", "ERROR"]
    assert "connection refused" in table[2]


def _opml(folder: Path, *urls: str) -> Path:
    """An OPML file of ``urls``: `lenta import --no-fetch` adds them due, unfetched."""
    path = folder / "feeds.opml"
    outlines = "".join(f'<outline type="rss" text="{n}" xmlUrl="{url}"/>' for n, url in enumerate(urls))
    path.write_text(f'<?xml version="1.0"?><opml version="2.0"><body>{outlines}</body></opml>')
    return path


def test_refresh_with_nothing_due_refreshes_nothing(db: Path) -> None:
    result = run(db, "refresh")
    assert result.exit_code == 0
    assert result.output.strip() == "0 feeds: 0 ok, 0 not modified, 0 failed; 0 new items, 0 updated"


def test_user_add_reads_the_password_from_stdin(db: Path) -> None:
    created = run(db, "user", "add", "admin", "--admin", input="correct horse battery\n")
    assert created.exit_code == 0 and "Created admin user admin" in created.output
    short = run(db, "user", "add", "bob", input="short\n")
    assert short.exit_code == 1 and "at least 8 characters" in short.output
    again = run(db, "user", "add", "admin", input="another password\n")
    assert again.exit_code == 1 and "already exists" in again.output
    lenta = make_lenta(load_settings({}, db=str(db)))
    assert lenta.authenticate("admin", "correct horse battery") is not None
    assert lenta.authenticate("admin", "wrong password") is None
    lenta.close()


def test_parse_prints_the_normalized_feed(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes(FEED)
    shown = run(tmp_path / "unused.sqlite", "parse", str(path))
    assert shown.exit_code == 0
    assert shown.output.splitlines()[0].startswith("Example [rss2.0]")
    data = json.loads(run(tmp_path / "unused.sqlite", "parse", str(path), "--json").output)
    assert data["format"] == "rss2.0"
    assert [i["title"] for i in data["items"]] == ["Hello", "World"]
    assert set(data["items"][0]) >= {
        "guid",
        "link",
        "title",
        "author",
        "published",
        "updated",
        "content",
        "summary",
        "enclosures",
        "categories",
    }
    with LocalServer({"/feed": Reply(body=FEED, headers=RSS)}) as server:
        by_url = run(tmp_path / "unused.sqlite", "parse", server.url("/feed"), "--json")
    assert json.loads(by_url.output)["title"] == "Example"
    missing = run(tmp_path / "unused.sqlite", "parse", str(tmp_path / "nope.xml"))
    assert missing.exit_code == 1 and "Cannot read" in missing.output


def test_parse_every_corpus_feed_as_json() -> None:
    real = corpus_dir("real")
    failures = []
    for path in sorted(real.glob("*.*")):
        if path.name == "MANIFEST.md":
            continue
        result = CliRunner().invoke(main, ["parse", str(path), "--json"], catch_exceptions=True)
        if result.exit_code == 0:
            json.loads(result.output)
        elif result.exit_code != 1 or not result.output.startswith("Error: "):
            failures.append((path.name, result.exit_code, result.output[-300:]))
    assert failures == []


def _outline_urls(opml: bytes) -> set[str]:
    root = etree.fromstring(opml)
    return {o.get("xmlUrl") or "" for o in root.iter("outline") if o.get("xmlUrl")}


def test_import_export_round_trip(tmp_path: Path) -> None:
    opml = (
        b'<?xml version="1.0"?><opml version="2.0"><head><title>Mine</title></head><body>'
        b'<outline text="Tech"><outline type="rss" text="A" xmlUrl="https://a.example/feed"/>'
        b'<outline type="rss" text="B" xmlUrl="https://b.example/feed"/></outline>'
        b'<outline type="rss" text="C" xmlUrl="https://c.example/feed" htmlUrl="https://c.example/"/>'
        b'<outline type="rss" text="Bad" xmlUrl="javascript:alert(1)"/></body></opml>'
    )
    source = tmp_path / "in.opml"
    source.write_bytes(opml)
    first = run(tmp_path / "one.sqlite", "import", "--no-fetch", str(source))
    assert first.exit_code == 0
    assert "Imported 3 feeds. 1 entry was skipped. 1 category was created." in first.output
    again = run(tmp_path / "one.sqlite", "import", "--no-fetch", str(source))
    assert "Imported 0 feeds. 3 feeds were already present." in again.output
    exported = CliRunner().invoke(main, ["export"], env={"LENTA_DB": str(tmp_path / "one.sqlite")})
    out = exported.stdout_bytes
    root = etree.fromstring(out)
    assert root.get("version") == "2.0"
    body = root.find("body")
    assert body is not None
    folders = {o.get("text"): [c.get("xmlUrl") for c in o] for o in body if o.get("xmlUrl") is None}
    assert folders == {"Tech": ["https://a.example/feed", "https://b.example/feed"]}
    (tmp_path / "out.opml").write_bytes(out)
    second = run(tmp_path / "two.sqlite", "import", "--no-fetch", str(tmp_path / "out.opml"))
    assert "Imported 3 feeds" in second.output
    reexported = CliRunner().invoke(main, ["export"], env={"LENTA_DB": str(tmp_path / "two.sqlite")}).stdout_bytes
    assert _outline_urls(reexported) == _outline_urls(out)


def test_import_every_corpus_opml_and_export_it_back(tmp_path: Path) -> None:
    opml_dir = corpus_dir("opml")
    for path in sorted(opml_dir.glob("*.opml")):
        db = tmp_path / f"{path.stem}.sqlite"
        result = run(db, "import", "--no-fetch", str(path))  # real sites: never fetched in a test
        if not parse_opml(path.read_bytes()).outlines:  # folders only: nothing to import is an error
            assert (result.exit_code, result.output) == (1, "Error: The OPML file lists no feeds.\n"), path.name
            continue
        assert result.exit_code == 0, (path.name, result.output)
        lenta = make_lenta(load_settings({}, db=str(db)))
        stored = {f.url for f in lenta.list_feeds()}
        exported = lenta.export_opml()
        lenta.close()
        assert _outline_urls(exported) == stored, path.name
        # Re-importing the export into a fresh database gives the same feeds.
        (tmp_path / "x.opml").write_bytes(exported)
        run(tmp_path / f"{path.stem}-again.sqlite", "import", "--no-fetch", str(tmp_path / "x.opml"))
        again = make_lenta(load_settings({}, db=str(tmp_path / f"{path.stem}-again.sqlite")))
        assert {f.url for f in again.list_feeds()} == stored, path.name
        again.close()


def test_import_of_a_file_that_is_not_opml(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes(FEED)
    result = run(tmp_path / "db.sqlite", "import", str(path))
    assert result.exit_code == 1
    assert "not an OPML document" in result.output


def test_worker_refreshes_due_feeds_until_stopped(db: Path) -> None:
    with LocalServer({"/feed": Reply(body=FEED, headers=RSS)}) as server:
        assert run(db, "import", "--no-fetch", str(_opml(db.parent, server.url("/feed")))).exit_code == 0
        env = {**os.environ, "LENTA_DB": str(db), "LENTA_FETCH_ALLOW": "127.0.0.1", "LENTA_SCHEDULER_TICK": "0.2"}
        worker = subprocess.Popen([sys.executable, "-m", "lenta", "worker"], env=env, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                listed = run(db, "list", "--json")
                if json.loads(listed.output)[0]["items"] == 2:
                    break
                time.sleep(0.2)
        finally:
            worker.terminate()
            _, errors = worker.communicate(timeout=30)
    assert json.loads(run(db, "list", "--json").output)[0]["items"] == 2
    assert worker.returncode == 0, errors  # SIGTERM is a clean stop


def test_python_dash_m_and_version() -> None:
    result = subprocess.run([sys.executable, "-m", "lenta", "--version"], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and result.stdout.startswith("lenta, version ")


def test_import_folders_with_non_ascii_names_in_any_case(tmp_path: Path) -> None:
    opml = (
        '<?xml version="1.0" encoding="utf-8"?><opml version="2.0"><body>'
        '<outline text="Русские"><outline type="rss" text="A" xmlUrl="https://a.example/feed"/>'
        '<outline type="rss" text="B" xmlUrl="https://b.example/feed"/></outline>'
        '<outline text="русские"><outline type="rss" text="C" xmlUrl="https://c.example/feed"/></outline>'
        "</body></opml>"
    ).encode()
    source = tmp_path / "ru.opml"
    source.write_bytes(opml)
    result = run(tmp_path / "db.sqlite", "import", "--no-fetch", str(source))
    assert result.exit_code == 0, result.output
    assert "Imported 3 feeds. 1 category was created." in result.output
    lenta = make_lenta(load_settings({}, db=str(tmp_path / "db.sqlite")))
    (category,) = lenta.list_categories()
    assert category.title == "Русские" and category.feed_count == 3
    lenta.close()
