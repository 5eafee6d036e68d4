"""OPML import/export: handmade cases, then every file of the shared corpus."""

from __future__ import annotations

import os
import re
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from pathlib import Path

import pytest
from lxml import etree

from lenta.exceptions import OPMLError
from lenta.parse.opml import OPMLDocument
from lenta.parse.opml import OPMLFeed
from lenta.parse.opml import parse_opml
from lenta.parse.opml import render_opml


def opml(body: str, *, head: str = "<head><title>Subs</title></head>", encoding: str = "utf-8") -> bytes:
    return (f'<?xml version="1.0" encoding="{encoding}"?>\n<opml version="2.0">{head}<body>{body}</body></opml>').encode(encoding)


# --- reading -----------------------------------------------------------------


def test_feeds_folders_and_titles_are_read() -> None:
    document = parse_opml(
        opml(
            '<outline type="rss" text="Top" xmlUrl="https://top.example/feed" htmlUrl="https://top.example/"/>'
            '<outline text="Tech" title="ignored when text is there">'
            '  <outline type="rss" text="A" title="A" xmlUrl="https://a.example/rss"/>'
            '  <outline text="Python">'
            '    <outline type="rss" title="B only has a title" xmlUrl="https://b.example/atom"/>'
            "  </outline>"
            "</outline>"
        )
    )
    assert document == OPMLDocument(
        title="Subs",
        outlines=(
            OPMLFeed("https://top.example/feed", "Top", "https://top.example/", ()),
            OPMLFeed("https://a.example/rss", "A", None, ("Tech",)),
            OPMLFeed("https://b.example/atom", "B only has a title", None, ("Tech / Python",)),
        ),
    )


@pytest.mark.parametrize("name", ["xmlUrl", "xmlurl", "XMLURL", "XmlUrl"])
def test_the_xmlurl_attribute_is_found_in_any_case(name: str) -> None:
    document = parse_opml(opml(f'<outline text="F" {name}="https://f.example/feed"/>'))
    assert [feed.url for feed in document.outlines] == ["https://f.example/feed"]


def test_the_category_attribute_adds_categories_without_leading_slashes() -> None:
    document = parse_opml(
        opml(
            '<outline text="Folder">'
            '<outline text="F" xmlUrl="https://f.example/" category="tag, /parent/child,,/Folder"/>'
            "</outline>"
        )
    )
    [feed] = document.outlines
    assert feed.categories == ("Folder", "tag", "parent/child")


def test_a_feed_in_several_folders_is_one_feed_with_several_categories() -> None:
    document = parse_opml(
        opml(
            '<outline text="News"><outline text="F" xmlUrl="https://f.example/"/></outline>'
            '<outline text="G" xmlUrl="https://g.example/"/>'
            '<outline text="Daily">'
            '<outline text="F again" xmlUrl="https://f.example/" htmlUrl="https://f.example/site"/>'
            "</outline>"
        )
    )
    assert document.outlines == (
        OPMLFeed("https://f.example/", "F", "https://f.example/site", ("News", "Daily")),
        OPMLFeed("https://g.example/", "G", None, ()),
    )


def test_outlines_that_are_not_feeds_are_skipped() -> None:
    document = parse_opml(
        opml(
            '<outline text="Included" type="include" url="https://example.com/other.opml"/>'
            '<outline text="A link" type="link" url="https://example.com/"/>'
            '<outline text="Just a note"/>'
            '<outline text="Blank url" xmlUrl="  "/>'
        )
    )
    assert document.outlines == ()


def test_an_opml_without_feeds_is_valid() -> None:
    assert parse_opml(b"<opml/>") == OPMLDocument(title=None, outlines=())
    assert parse_opml(opml("", head="<head/>")) == OPMLDocument(title=None, outlines=())


def test_whitespace_in_urls_and_titles_is_tidied() -> None:
    document = parse_opml(opml('<outline text="  Many\n  words " xmlUrl="\n https://f.example/ "/>'))
    assert document.outlines == (OPMLFeed("https://f.example/", "Many words"),)


def test_a_title_that_is_only_the_url_is_no_title() -> None:
    document = parse_opml(opml('<outline text="https://f.example/" xmlUrl="https://f.example/"/>'))
    assert document.outlines[0].title is None


def test_opml_1_without_version_or_declaration_is_read() -> None:
    data = b'<opml><body><outline text="F" xmlUrl="https://f.example/"/></body></opml>'
    assert [feed.url for feed in parse_opml(data).outlines] == ["https://f.example/"]


# --- messy documents ---------------------------------------------------------


def test_unescaped_ampersands_and_html_entities_are_tolerated() -> None:
    document = parse_opml(
        opml(
            '<outline text="News & Politics">'
            '<outline text="Q&A&nbsp;site &eacute;t&eacute;" xmlUrl="https://f.example/?a=1&b=2"/>'
            "</outline>"
        )
    )
    assert document.outlines == (OPMLFeed("https://f.example/?a=1&b=2", "Q&A site été", None, ("News & Politics",)),)


def test_raw_quotes_and_markup_in_attribute_values_do_not_lose_the_feed() -> None:
    # As in the Plenary exports: HTML pasted into a description, unescaped.
    data = opml(
        '<outline text="Folder">'
        '<outline text="Paper "Daily". Main" title="Paper" description="By <a href="https://x.example" '
        'target="_blank">X</a>. "Quoted"." xmlUrl="https://paper.example/rss" type="rss" />'
        '<outline text="Next" xmlUrl="https://next.example/rss" type="rss" />'
        "</outline>"
    )
    document = parse_opml(data)
    assert document.outlines == (
        OPMLFeed("https://paper.example/rss", 'Paper "Daily". Main', None, ("Folder",)),
        OPMLFeed("https://next.example/rss", "Next", None, ("Folder",)),
    )


def test_a_newline_before_the_xml_declaration_is_tolerated() -> None:
    data = b"\n" + opml('<outline text="F" xmlUrl="https://f.example/"/>')
    assert len(parse_opml(data).outlines) == 1


@pytest.mark.parametrize("encoding", ["iso-8859-1", "windows-1251", "utf-16"])
def test_declared_encodings_are_honoured(encoding: str) -> None:
    name = "Café" if encoding == "iso-8859-1" else "Папка"
    data = opml(
        f'<outline text="{name}"><outline text="{name}!" xmlUrl="https://f.example/"/></outline>',
        encoding=encoding,
    )
    assert parse_opml(data).outlines == (OPMLFeed("https://f.example/", f"{name}!", None, (name,)),)


def test_undeclared_latin1_bytes_are_read_as_windows_1252() -> None:
    data = '<opml><body><outline text="Café"><outline text="Crème" xmlUrl="https://f.example/"/></outline></body></opml>'
    document = parse_opml(data.encode("latin-1"))
    assert document.outlines == (OPMLFeed("https://f.example/", "Crème", None, ("Café",)),)


def test_entities_are_never_expanded() -> None:
    data = (
        b'<?xml version="1.0"?>'
        b'<!DOCTYPE opml [<!ENTITY xxe SYSTEM "file:///etc/passwd"><!ENTITY a "AAAAAAAAAA">]>'
        b'<opml><body><outline text="&xxe;&a;" xmlUrl="https://f.example/"/></body></opml>'
    )
    [feed] = parse_opml(data).outlines
    assert feed.title is not None
    assert "root:" not in feed.title
    assert "AAAAAAAAAA" not in feed.title


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b" \n ", "empty"),
        (b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>', "root element is <rss>"),
        (b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title></feed>', "root element is <feed>"),
        (b"<!DOCTYPE html><html><head><title>Home & away</title><body><p>Hi", "root element is <html>"),
        (b'{"version": "https://jsonfeed.org/version/1.1"}', "could not be read as XML"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "could not be read as XML"),
    ],
)
def test_documents_that_are_not_opml_are_refused_clearly(data: bytes, message: str) -> None:
    with pytest.raises(OPMLError, match=re.escape(message)):
        parse_opml(data)


# --- writing -----------------------------------------------------------------

FEEDS = (
    OPMLFeed("https://a.example/feed", "A & B <news>", "https://a.example/", ("Tech", "Daily")),
    OPMLFeed("https://b.example/rss?x=1&y=2", None, None, ()),
    OPMLFeed("https://c.example/atom", 'Ц "quoted"', None, ("Daily",)),
    OPMLFeed("https://d.example/", "D", "https://d.example/home", ("Tech / Python",)),
)


def attributes(element: etree._Element) -> dict[str, str]:
    return {str(name): str(value) for name, value in element.attrib.items()}


def test_render_writes_folders_per_category_and_uncategorised_feeds_at_the_top_level() -> None:
    root = etree.fromstring(render_opml("My feeds", FEEDS))
    assert root.get("version") == "2.0"
    assert root.findtext("head/title") == "My feeds"
    body = root.find("body")
    assert body is not None
    folders = {outline.get("text"): outline for outline in body if outline.get("xmlUrl") is None}
    assert list(folders) == ["Tech", "Daily", "Tech / Python"]
    assert [o.get("xmlUrl") for o in folders["Tech"]] == ["https://a.example/feed"]
    assert [o.get("xmlUrl") for o in folders["Daily"]] == ["https://a.example/feed", "https://c.example/atom"]
    [top] = [outline for outline in body if outline.get("xmlUrl")]
    url = "https://b.example/rss?x=1&y=2"
    assert attributes(top) == {"type": "rss", "text": url, "xmlUrl": url}
    [a] = folders["Tech"]
    assert attributes(a) == {
        "type": "rss",
        "text": "A & B <news>",
        "title": "A & B <news>",
        "xmlUrl": "https://a.example/feed",
        "htmlUrl": "https://a.example/",
    }


def test_render_is_utf8_pretty_printed_opml_2() -> None:
    data = render_opml("Подписки", FEEDS)
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<opml version=\"2.0\">\n  <head>")
    assert "Подписки".encode() in data
    assert b"&amp;" in data and b"&lt;news&gt;" in data


def comparable(feeds: tuple[OPMLFeed, ...]) -> dict[str, tuple[object, ...]]:
    # Category order cannot survive a round trip (folders are written in
    # order of first appearance), so categories compare as sets.
    return {feed.url: (feed.title, feed.site_url, frozenset(feed.categories)) for feed in feeds}


def test_render_round_trips_through_parse() -> None:
    document = parse_opml(render_opml("My feeds", FEEDS))
    assert document.title == "My feeds"
    assert comparable(document.outlines) == comparable(FEEDS)
    assert len(document.outlines) == len(FEEDS)


def test_render_writes_the_creation_date_in_rfc_822() -> None:
    moment = datetime(2024, 3, 5, 14, 30, 0, tzinfo=timezone(timedelta(hours=2)))
    root = etree.fromstring(render_opml("t", [], date_created=moment))
    assert root.findtext("head/dateCreated") == "Tue, 05 Mar 2024 12:30:00 GMT"
    naive = etree.fromstring(render_opml("t", [], date_created=datetime(2024, 3, 5, 12, 30)))
    assert naive.findtext("head/dateCreated") == "Tue, 05 Mar 2024 12:30:00 GMT"
    assert etree.fromstring(render_opml("t", [])).find("head/dateCreated") is None


def test_render_drops_characters_xml_cannot_carry() -> None:
    feeds = [OPMLFeed("https://f.example/", "bell\x07 and nul\x00", None, ("tab\there\x1b",))]
    [feed] = parse_opml(render_opml("t\x0c", feeds)).outlines
    assert feed.title == "bell and nul"
    assert feed.categories == ("tab here",)


# --- the corpus ----------------------------------------------------------------


def corpus_dir() -> Path:
    default = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
    return Path(os.environ.get("LENTA_CORPUS", default))


OPML_DIR = corpus_dir() / "opml"
NO_CORPUS = f"no OPML corpus at {OPML_DIR} (set LENTA_CORPUS to the shared corpus directory)"


def manifest_counts() -> dict[str, int]:
    """The "feeds (xmlUrl)" column of opml/MANIFEST.md, by file name."""
    manifest = OPML_DIR / "MANIFEST.md"
    if not manifest.is_file():
        return {}
    lines = manifest.read_text(encoding="utf-8").splitlines()
    header = next(line for line in lines if line.startswith("| file |"))
    column = [cell.strip() for cell in header.strip("|").split("|")].index("feeds (xmlUrl)")
    counts = {}
    for line in lines:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if cells and cells[0].startswith("`") and cells[0].endswith(".opml`"):
            counts[cells[0].strip("`")] = int(cells[column])
    return counts


# Where the number of feeds parse_opml returns differs from the manifest's
# column, and why.  Checked by hand against the files.
MANIFEST_DIFFERENCES = {
    # 492 xmlUrl outlines, but 151 repeat a feed in a second folder; they
    # are one feed with two categories.
    "inoreader-export__infosec-feeds.opml": 341,
    # The manifest's count misses outlines with a ">" in an attribute before
    # xmlUrl ("NYT > Japan"): 8, 11, 50 and 24 xmlUrl attributes are there.
    "plenary__country-Japan.opml": 8,
    "plenary__recommended-News.opml": 11,
    "plenary__recommended-Programming.opml": 50,
    "plenary__recommended-Science.opml": 24,
}


def corpus_files() -> list[object]:
    files = sorted(OPML_DIR.glob("*.opml")) if OPML_DIR.is_dir() else []
    if not files:
        return [pytest.param(None, marks=pytest.mark.skip(reason=NO_CORPUS), id="no-corpus")]
    return [pytest.param(path, id=path.name) for path in files]


@pytest.mark.parametrize("path", corpus_files())
def test_every_corpus_file_parses_with_the_expected_number_of_feeds(path: Path) -> None:
    counts = manifest_counts()
    assert path.name in counts, f"{path.name} is not in opml/MANIFEST.md"
    document = parse_opml(path.read_bytes())
    expected = MANIFEST_DIFFERENCES.get(path.name, counts[path.name])
    assert len(document.outlines) == expected


def test_xmlurls_are_returned_as_written_even_when_not_http() -> None:
    # Inoreader exports its e-mail newsletter subscriptions with an address
    # as xmlUrl; refusing such URLs is the importer's job (InvalidFeedURLError).
    document = parse_opml(corpus_file("inoreader-export__infosec-feeds.opml").read_bytes())
    odd = [feed.url for feed in document.outlines if not feed.url.startswith(("http://", "https://"))]
    assert odd == ["incoming-dragonnewsbytes@inoreader.com"]


@pytest.mark.parametrize("path", corpus_files())
def test_every_corpus_file_round_trips_through_render(path: Path) -> None:
    document = parse_opml(path.read_bytes())
    again = parse_opml(render_opml(document.title or "", document.outlines))
    assert again.title == document.title
    assert comparable(again.outlines) == comparable(document.outlines)


def corpus_file(name: str) -> Path:
    path = OPML_DIR / name
    if not path.is_file():
        pytest.skip(NO_CORPUS)
    return path


def test_windows_1251_folder_and_feed_names_are_decoded() -> None:
    document = parse_opml(corpus_file("yarr__sample_win1251.opml").read_bytes())
    assert document.title == "Заголовок"
    assert document.outlines == (
        OPMLFeed("https://foo.com/feed.xml", "пример2", "https://foo.com/", ("папка",)),
        OPMLFeed("https://baz.com/feed.xml", "пример1", "https://baz.com/", ()),
    )


def test_iso_8859_1_files_are_read() -> None:
    # The corpus's ISO-8859-1 files are plain ASCII (and use CR line ends);
    # non-ASCII Latin-1 is covered by test_declared_encodings_are_honoured.
    document = parse_opml(corpus_file("atoma__nested-subscription-list.opml").read_bytes())
    assert document.title == "Nested"
    assert [(feed.title, feed.categories) for feed in document.outlines] == [
        ("1", ()),
        ("2", ()),
        ("3", ("nested",)),
        ("4", ("nested",)),
        ("5", ()),
    ]


def test_non_ascii_folder_names_survive_in_utf8_files() -> None:
    document = parse_opml(corpus_file("inoreader-export__infosec-feeds.opml").read_bytes())
    categories = {category for feed in document.outlines for category in feed.categories}
    assert "📩 Infosec | Newsletter" in categories


def test_nested_folders_and_category_attributes_in_the_corpus() -> None:
    newsboat = parse_opml(corpus_file("newsboat__example.opml").read_bytes())
    by_url = {feed.url: feed.categories for feed in newsboat.outlines}
    assert by_url["https://blogs.example.com/~mike/.rss"] == ("Blogs / friends",)
    assert by_url["https://example.com/feed.xml"] == ()
    mixed = parse_opml(corpus_file("listparser__hier-4-mixed.opml").read_bytes())
    assert mixed.outlines[0].categories == ("grouping", "tag", "parent/child")


def test_broken_plenary_exports_keep_their_titles() -> None:
    document = parse_opml(corpus_file("plenary__country-Russia.opml").read_bytes())
    titles = {feed.url: feed.title for feed in document.outlines}
    assert titles["https://www.kommersant.ru/RSS/main.xml"] == 'Газета "Коммерсантъ". Главное'
    assert all(feed.categories == ("Russia",) for feed in document.outlines)
