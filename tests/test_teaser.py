"""Teaser mode (issue 10): Drupal's "trim". With the site's "Length of
trimmed items" set, the river, source and category pages show each item
cut to about that many characters of text, still well-formed and
sanitized, with a "Read more" link to the item's original; whole items by
default."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

import httpx
import lxml.html
import pytest
from httpserver import LocalServer
from httpserver import Reply
from hypothesis import HealthCheck
from hypothesis import example
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pagetext import parse_page
from test_web import ADMIN
from test_web import PASSWORD
from test_web import client
from test_web import form_token
from test_web import sign_in
from webserver import AppServer

from lenta.config import Settings
from lenta.core import Lenta
from lenta.parse.sanitize import sanitize_html
from lenta.web import create_app
from lenta.web.teaser import ELLIPSIS
from lenta.web.teaser import text_length
from lenta.web.teaser import trim_html

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WORDS = " ".join(f"word{n:03d}" for n in range(400))  # 3,200 characters
LONG = (
    f'<p>Intro <a href="https://example.com/x" rel="noopener noreferrer nofollow"><strong>{WORDS[:300]}</strong></a> more</p>'
    f"<ul><li>{WORDS[300:900]}</li><li>second</li></ul><pre>{WORDS[900:1500]}</pre><p>{WORDS[1500:]}</p>"
)
_VOID = {"area", "br", "col", "hr", "img", "source", "track", "wbr"}
_TAG = re.compile(r"<(/?)([a-z][a-z0-9]*)[^>]*>")


def balanced(html: str) -> bool:
    """Every element opened is closed, in order (void elements aside)."""
    stack: list[str] = []
    for match in _TAG.finditer(html):
        closing, name = match.group(1), match.group(2)
        if name in _VOID:
            continue
        if not closing:
            stack.append(name)
        elif not stack or stack.pop() != name:
            return False
    return not stack


def text_of(html: str) -> str:
    return " ".join(lxml.html.fragment_fromstring(html, create_parent="div").text_content().split())


# -- the trim itself ---------------------------------------------------------------------


def test_a_long_item_is_cut_at_a_word_with_its_elements_closed() -> None:
    teaser = trim_html(LONG, 200)
    assert teaser.trimmed
    assert balanced(teaser.html)
    assert sanitize_html(teaser.html, None) == teaser.html  # sanitized: the sanitizer changes nothing
    text = text_of(teaser.html)
    assert text.endswith(ELLIPSIS) and len(text) <= 200 + len(ELLIPSIS)
    assert len(text) > 150  # about the length asked, not far below
    assert text_of(LONG).startswith(text.removesuffix(ELLIPSIS))  # words of the item, in its order, none cut in half
    assert re.fullmatch(r"Intro word\d{3}( word\d{3})*…", text)
    # The link around the cut is kept, and closed.
    assert teaser.html.startswith('<p>Intro <a href="https://example.com/x" rel="noopener noreferrer nofollow"><strong>word000')
    assert teaser.html.endswith("…</strong></a></p>")


def test_short_items_and_the_whole_setting_are_left_alone() -> None:
    assert trim_html(LONG, 0).html == LONG and not trim_html(LONG, 0).trimmed
    short = '<p>Short <img src="https://example.com/a.png" alt=""> text</p>'
    assert trim_html(short, 200) == trim_html(short, 200).__class__(short, False)
    # Markup longer than the limit, text within it: whole.
    marked = "<p>" + "<b>a</b> " * 100 + "</p>"
    assert text_length(lxml.html.fragment_fromstring(marked, create_parent="div")) == 200
    assert not trim_html(marked, 200).trimmed


def test_the_cut_is_inside_a_word_only_when_the_first_word_is_longer_than_the_teaser() -> None:
    teaser = trim_html(f"<p>{'x' * 500} tail</p>", 200)
    assert teaser.html == f"<p>{'x' * 200}{ELLIPSIS}</p>"


def test_pre_keeps_its_text_and_later_elements_are_dropped() -> None:
    html = f"<p>a b</p><pre>line one\n  line two {'z ' * 300}</pre><p>after</p><img src='https://example.com/i.png'>"
    teaser = trim_html(html, 50)
    assert teaser.trimmed and balanced(teaser.html)
    assert "<pre>line one\n  line two" in teaser.html
    assert "after" not in teaser.html and "<img" not in teaser.html


def test_a_long_item_is_cut_from_its_beginning_as_from_the_whole() -> None:
    # Only the item's beginning is parsed when the cut falls well inside it;
    # otherwise (the text starts late, or the beginning ends inside a tag or
    # a word where the cut would be) the whole: the teaser is the same.
    words = " ".join(f"w{n:05d}" for n in range(20_000))
    big = f'<p>{words}</p><p><a href="https://example.com/{"q" * 100}">end</a></p>'
    assert trim_html(big, 200).html == trim_html_whole(big, 200)
    late = '<p><img src="https://example.com/i.png" alt="' + "x" * 20_000 + f'"> {words}</p>'
    assert trim_html(late, 200).html == trim_html_whole(late, 200)
    assert trim_html(late, 200).html.endswith(f"w00027{ELLIPSIS}</p>")
    edge = "<p>" + "y" * 16_380 + " " + "z" * 100 + "</p>"  # the beginning ends inside the word the cut is at
    assert trim_html(edge, 16_384 // 16).html == trim_html_whole(edge, 16_384 // 16)


def trim_html_whole(html: str, length: int) -> str:
    """:func:`trim_html` with the whole item parsed at once."""
    from lenta.web import teaser

    saved = teaser.PREFIX_MIN
    teaser.PREFIX_MIN = len(html) + 1
    try:
        return trim_html(html, length).html
    finally:
        teaser.PREFIX_MIN = saved


def test_the_site_s_allowed_tags_hold_the_teaser() -> None:
    teaser = trim_html(LONG, 200, frozenset({"p", "a"}))
    assert "<strong>" not in teaser.html and "<a href" in teaser.html


_TAGS = st.sampled_from(["p", "b", "em", "a", "ul", "li", "blockquote", "pre", "code", "span", "div", "table", "tr", "td"])
_TEXT = st.text(alphabet=st.sampled_from("ab cd\u00e9\u044f<>&\"'\n"), max_size=40)


@st.composite
def fragments(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        if depth < 4 and draw(st.booleans()):
            tag = draw(_TAGS)
            parts.append(f"<{tag}>{draw(fragments(depth + 1))}</{tag}>")
        else:
            parts.append(escape(draw(_TEXT)))
        if draw(st.booleans()):
            parts.append('<img src="https://example.com/p.png" alt="">')
    return "".join(parts)


@given(fragment=fragments(), length=st.integers(1, 120))
@example(fragment="<p>&lt;&lt;&lt;<p><pre>\n\n&lt;&lt;&lt;</pre></p></p>", length=5)  # a line break opening a <pre>
@hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_item_s_teaser_is_sanitized_well_formed_and_its_words_a_prefix(fragment: str, length: int) -> None:
    html = sanitize_html(fragment, None) or ""
    if not html:
        return
    teaser = trim_html(html, length)
    if not teaser.trimmed:
        assert teaser.html == html
        return
    assert balanced(teaser.html), teaser.html
    assert sanitize_html(teaser.html, None) in (teaser.html, None)
    words = text_of(teaser.html).removesuffix(ELLIPSIS).split()
    original = text_of(html).split()
    # The teaser's words are the item's first words; only the last may be cut (a word longer than the teaser).
    assert words[:-1] == original[: len(words) - 1]
    if words:
        assert original[len(words) - 1].startswith(words[-1])
    assert sum(len(word) + 1 for word in words) <= length + 1


# -- the setting and the pages -----------------------------------------------------------------


def item_feed() -> bytes:
    items = [
        ("Long", "https://example.com/long", LONG),
        ("Short", "https://example.com/short", "<p>Just a few words.</p>"),
        ("Linkless", None, LONG),
    ]
    body = "".join(
        f"<item><title>{title}</title>{f'<link>{link}</link>' if link else ''}<guid>{title}</guid>"
        f"<pubDate>{format_datetime(NOW - timedelta(hours=n), usegmt=True)}</pubDate>"
        f"<description>{escape(content)}</description></item>"
        for n, (title, link, content) in enumerate(items)
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Teasing</title><link>https://example.com/</link>'
        f"<description>d</description>{body}</channel></rss>"
    ).encode()


@pytest.fixture
def teaser_site(lenta: Lenta, settings: Settings) -> Iterator[tuple[AppServer, int, int]]:
    lenta.add_user("admin", PASSWORD, is_admin=True)
    with LocalServer({"/feed.xml": Reply(body=item_feed(), headers={"Content-Type": "application/rss+xml"})}) as feeds:
        category = lenta.add_category("Reading")
        feed_id = asyncio.run(lenta.add_feed(feeds.url("/feed.xml"), discover=False, category_ids=[category.id])).id
        asyncio.run(lenta.refresh(all_feeds=True))
    with AppServer(create_app(settings, lenta)) as web:
        yield web, feed_id, category.id


def items_on(web: AppServer, path: str, language: str = "en") -> dict[str, lxml.html.HtmlElement]:
    response = httpx.get(web.url(path), headers={"Accept-Language": language})
    assert response.status_code == 200
    page = parse_page(response.text)
    return {a.cssselect(".feed-item-title")[0].text_content().strip(): a for a in page.cssselect("article.feed-item")}


def test_items_are_whole_by_default(teaser_site: tuple[AppServer, int, int], lenta: Lenta) -> None:
    web, _, _ = teaser_site
    assert lenta.site_settings().teaser_length == 0
    found = items_on(web, "/aggregator")
    assert text_of(LONG) in " ".join(found["Long"].cssselect(".feed-item-body")[0].text_content().split())
    assert all(not article.cssselect(".read-more") for article in found.values())


def test_the_setting_trims_the_river_source_and_category_pages(teaser_site: tuple[AppServer, int, int], lenta: Lenta) -> None:
    web, feed_id, category_id = teaser_site
    with client(web) as http:
        sign_in(http)
        form = http.get(f"{ADMIN}/settings").text
        options = [o.get("value") for o in parse_page(form).cssselect("select#edit-teaser-length option")]
        assert options[:3] == ["0", "200", "400"]
        saved = http.post(f"{ADMIN}/settings", data={"csrf_token": form_token(form), "teaser_length": "200"})
        assert saved.status_code == 303
        refused = http.post(f"{ADMIN}/settings", data={"csrf_token": form_token(form), "teaser_length": "123"})
        assert refused.status_code == 400 and "Unsupported length of trimmed items: 123" in refused.text
    assert lenta.site_settings().teaser_length == 200
    for path in ("/aggregator", f"/aggregator/sources/{feed_id}", f"/aggregator/categories/{category_id}"):
        found = items_on(web, path)
        long = found["Long"]
        body = long.cssselect(".feed-item-body")[0]
        assert "feed-item-teaser" in body.get("class"), path
        text = " ".join(body.text_content().split())
        assert text.endswith(ELLIPSIS) and len(text) <= 200 + len(ELLIPSIS), path
        more = long.cssselect(".read-more a")
        assert [a.get("href") for a in more] == ["https://example.com/long"], path
        assert " ".join(more[0].text_content().split()) == "Read more about Long"
        assert more[0].cssselect(".element-invisible")  # "about …" for screen readers only, as Drupal has it
        # Short items are whole, and so is an item with no original to read the rest at.
        assert not found["Short"].cssselect(".read-more"), path
        assert text_of(LONG) in " ".join(found["Linkless"].cssselect(".feed-item-body")[0].text_content().split()), path
    russian = items_on(web, "/aggregator", "ru")["Long"].cssselect(".read-more a")[0]
    assert " ".join(russian.text_content().split()) == "Подробнее о «Long»"
