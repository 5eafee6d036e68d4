"""The parser against real feeds: the shared corpus of 165 captured
documents (see its MANIFEST.md), plus golden files for three small ones.

Every corpus file must end as a ParsedFeed or as ParseError/NotAFeedError
— never another exception. For files the manifest lists as a feed, the
item count and title must match the manifest's; for the non-UTF-8 files,
the decoded text must hold the right non-ASCII characters.
"""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from lenta.exceptions import NotAFeedError
from lenta.exceptions import ParseError
from lenta.parse import ParsedFeed
from lenta.parse import parse_feed

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("LENTA_CORPUS", REPO.parent / "shared" / "corpus"))
REAL = CORPUS / "real"
DATA = Path(__file__).resolve().parent / "data" / "parse"
NO_CORPUS = f"the shared corpus is not at {CORPUS} (set LENTA_CORPUS to its directory)"

# manifest "format" → ParsedFeed.format, for the documents that are feeds
FEED_FORMATS = {
    "RSS 2.0": "rss2.0",
    "RSS 0.91": "rss0.9x",
    "RSS 1.0 (RDF)": "rss1.0",
    "RSS 0.90 (RDF)": "rss0.9x",
    "Atom 1.0": "atom1.0",
    "JSON Feed 1.0": "json1.0",
    "JSON Feed 1.1": "json1.1",
    "RSS-in-JSON (scripting.com)": "rss2.0",
}
# manifest "format" → the error a non-feed document must end in
NOT_FEEDS: dict[str, type[ParseError]] = {
    # an Atom <feed> inside an XHTML page: a page, for discovery to handle
    "HTML": NotAFeedError,
    # truncated JSON: broken, not "something else"
    "JSON (unparseable)": ParseError,
}


def _manifest() -> dict[str, dict[str, Any]]:
    path = CORPUS / "manifest.json"
    if not path.is_file():
        return {}
    files = json.loads(path.read_text(encoding="utf-8"))["files"]
    return {entry["file"].removeprefix("real/"): entry for entry in files if entry["file"].startswith("real/")}


MANIFEST = _manifest()
FILES = sorted(path.name for path in REAL.iterdir() if path.is_file()) if REAL.is_dir() else []


def params(names: list[str]) -> list[Any]:
    """``names`` as test parameters; one skipped parameter saying why when
    the corpus is not there (rather than pytest's "empty parameter set")."""
    if not FILES:
        return [pytest.param("", marks=pytest.mark.skip(reason=NO_CORPUS))]
    return list(names)


def parse(name: str) -> ParsedFeed:
    return parse_feed((REAL / name).read_bytes(), url=f"https://corpus.example/{name}")


def test_corpus_is_present() -> None:
    if not FILES:
        pytest.skip(NO_CORPUS)
    assert len([name for name in FILES if name in MANIFEST]) >= 165


@pytest.mark.parametrize("name", params(FILES))
def test_every_file_parses_or_fails_cleanly(name: str) -> None:
    try:
        parse(name)
    except ParseError:
        pass  # NotAFeedError included; anything else fails the test


FEEDS = [name for name in FILES if MANIFEST.get(name, {}).get("format") in FEED_FORMATS]


@pytest.mark.parametrize("name", params(FEEDS))
def test_feed_matches_the_manifest(name: str) -> None:
    entry = MANIFEST[name]
    feed = parse(name)
    assert feed.format == FEED_FORMATS[entry["format"]]
    if entry.get("items") is not None:
        assert len(feed.items) == entry["items"]
    if entry.get("title"):
        expected = _normalize_title(entry["title"])
        if expected.endswith("…"):  # the manifest shortens long titles
            assert (feed.title or "").startswith(expected[:-1])
        else:
            assert feed.title == expected


def _normalize_title(title: str) -> str:
    # The manifest quotes the title's raw XML text: entities undecoded, and
    # control characters kept (the C1 ones in a double-encoded title), which
    # lenta drops from one-line text.
    return " ".join(_CONTROLS.sub("", html.unescape(title)).split())


_CONTROLS = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")


@pytest.mark.parametrize("name", params([name for name in FILES if MANIFEST.get(name, {}).get("format") in NOT_FEEDS]))
def test_non_feeds_end_in_the_right_error(name: str) -> None:
    expected = NOT_FEEDS[MANIFEST[name]["format"]]
    with pytest.raises(expected) as info:
        parse(name)
    if expected is ParseError:
        assert not isinstance(info.value, NotAFeedError)


# file → text that must appear, decoded, in the feed (title, an item title,
# the description or the first item's content)
NON_UTF8 = {
    "netnewswire__kc0011.rss": "投资资讯网交易在线--流通纪念币最新20篇论坛主题",  # gb2312
    "miniflux__encoding_WINDOWS-1251.xml": "Новый цитатник Рунета",
    "codehollow__Rss091Stadtfeuerwehr.xml": "Stadtfeuerwehr Weiz - Einsätze",  # ISO-8859-1
    "codehollow__Rss20ISO88591Intranet30.xml": "SVART MÅNAD - DÖDSOLYCKA i Vetlanda",
    "miniflux__encoding_ISO-8859-1.xml": "Von KI erstelltes Porträt für 432.500",
    "miniflux__no_encoding_ISO-8859-1.xml": "pourraient être à l'origine",  # undeclared
    "simplepie__feed-utf16be.xml": "Test feed title 1",  # UTF-16 without BOM
    "simplepie__feed-utf16le.xml": "Test feed title 1",
}
MOJIBAKE = ("Ã", "Ð", "Â", "\ufffd", "\x00")


@pytest.mark.parametrize(("name", "expected"), sorted(NON_UTF8.items()))
def test_non_utf8_files_decode_without_mojibake(name: str, expected: str) -> None:
    if name not in FILES:
        pytest.skip(NO_CORPUS)
    feed = parse(name)
    texts = [feed.title or "", feed.description or ""]
    texts += [item.title or "" for item in feed.items]
    texts += [feed.items[0].content or ""] if feed.items else []
    assert any(expected in text for text in texts)
    for text in [feed.title or ""] + [item.title or "" for item in feed.items]:
        assert not any(marker in text for marker in MOJIBAKE)


GOLDEN = {
    "rubycocos-comics__xkcd.rss": "https://xkcd.com/rss.xml",
    "rubycocos-comics__xkcd.atom": "https://xkcd.com/atom.xml",
    "rubycocos-misc__jsonfeed.json": "https://jsonfeed.org/feed.json",
}


@pytest.mark.parametrize(("name", "url"), sorted(GOLDEN.items()))
def test_golden(name: str, url: str) -> None:
    actual = parse_feed((DATA / name).read_bytes(), url=url).to_json_dict()
    expected_path = DATA / f"{name}.expected.json"
    if os.environ.get("LENTA_UPDATE_GOLDEN"):
        expected_path.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    assert actual == expected
