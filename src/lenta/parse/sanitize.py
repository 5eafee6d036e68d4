"""HTML sanitizing for feed content, built on nh3 (Rust's ammonia).

Feed HTML is hostile by default: any publisher (or whoever took over their
domain) can put ``<script>``, ``onerror=`` or ``javascript:`` links into an
item, and lenta shows that HTML on its own origin.  Everything shown to a
reader goes through :meth:`HTMLSanitizer.sanitize` first.

What survives:

* only the tags of the admin's allowlist (``DEFAULT_ALLOWED_TAGS`` unless
  changed, parsed by :func:`parse_allowed_tags`), and on those only the
  attributes of the fixed table ``_ATTRIBUTES`` below;
* URLs with the schemes ``http``, ``https`` and ``mailto``; relative URLs are
  resolved against the item's base URL, and dropped when there is none
  (left relative they would point into lenta itself);
* links get ``rel="noopener noreferrer nofollow"``.

The contents of ``<script>``, ``<style>`` and their kin are dropped, not
shown as text; comments are stripped.

nh3 does the parsing (html5ever, as browsers parse) and the filtering; this
module only configures it.  A :class:`HTMLSanitizer` builds its
``nh3.Cleaner`` once, because a refresh of 1,000 feeds sanitizes ~30,000
items and building a cleaner costs about as much as cleaning one item.
"""

from __future__ import annotations

import functools
import html as html_lib
import re
from collections.abc import Callable
from collections.abc import Iterable
from itertools import accumulate
from itertools import repeat
from urllib.parse import urljoin
from urllib.parse import urlsplit

import nh3

from lenta.exceptions import InvalidInputError

__all__ = [
    "DEFAULT_ALLOWED_TAGS",
    "REFUSED_TAGS",
    "HTMLSanitizer",
    "html_to_text",
    "parse_allowed_tags",
    "sanitize_html",
]

# The admin setting's default, in the syntax of Drupal's "Allowed HTML tags"
# field.  A reader-style list close to Miniflux's: text structure, tables,
# images and media, nothing that runs code, embeds pages or takes input.
# <h1> is left out on purpose (as Drupal does): the page title is the <h1>.
DEFAULT_ALLOWED_TAGS = (
    "<a> <abbr> <acronym> <audio> <b> <bdi> <bdo> <blockquote> <br> <caption> <cite> <code>"
    " <col> <colgroup> <dd> <del> <details> <dfn> <div> <dl> <dt> <em> <figcaption> <figure>"
    " <h2> <h3> <h4> <h5> <h6> <hr> <i> <img> <ins> <kbd> <li> <mark> <ol> <p> <pre> <q>"
    " <rp> <rt> <ruby> <s> <samp> <small> <source> <span> <strike> <strong> <sub> <summary>"
    " <sup> <table> <tbody> <td> <tfoot> <th> <thead> <time> <tr> <tt> <u> <ul> <var>"
    " <video> <wbr>"
)

# Tags an admin cannot allow, whatever the setting says: they run code, load
# other documents, take input, change how the page or its URLs are read, or
# hold raw text that html5ever serializes unescaped (xmp, plaintext, ...), the
# usual ground for mutation XSS.
REFUSED_TAGS = frozenset(
    {
        "applet",
        "base",
        "body",
        "button",
        "embed",
        "form",
        "frame",
        "frameset",
        "head",
        "html",
        "iframe",
        "input",
        "link",
        "math",
        "meta",
        "noembed",
        "noframes",
        "noscript",
        "object",
        "option",
        "plaintext",
        "script",
        "select",
        "style",
        "svg",
        "template",
        "textarea",
        "title",
        "xmp",
    }
)

# Tags whose whole content goes, not just the tag: showing a script's source
# or a select's options as text would be noise.  Kept disjoint from any
# allowlist (nh3 insists) because every one of them is also refused.
_DROP_CONTENT_TAGS = frozenset(
    {
        "applet",
        "button",
        "frame",
        "frameset",
        "iframe",
        "math",
        "noembed",
        "noframes",
        "noscript",
        "object",
        "plaintext",
        "script",
        "select",
        "style",
        "svg",
        "template",
        "textarea",
        "title",
        "xmp",
    }
)

# The attributes kept on each tag; not configurable, so an admin allowing a
# tag cannot open a hole through its attributes.  No style, class, id or on*.
_ATTRIBUTES: dict[str, frozenset[str]] = {
    "*": frozenset({"dir", "lang"}),
    "a": frozenset({"href", "title"}),
    "abbr": frozenset({"title"}),
    "acronym": frozenset({"title"}),
    "audio": frozenset({"controls", "src"}),
    "blockquote": frozenset({"cite"}),
    "col": frozenset({"span"}),
    "colgroup": frozenset({"span"}),
    "del": frozenset({"cite", "datetime"}),
    "details": frozenset({"open"}),
    "dfn": frozenset({"title"}),
    "img": frozenset({"alt", "height", "src", "title", "width"}),
    "ins": frozenset({"cite", "datetime"}),
    "li": frozenset({"value"}),
    "ol": frozenset({"reversed", "start", "type"}),
    "q": frozenset({"cite"}),
    "source": frozenset({"src", "type"}),
    "td": frozenset({"colspan", "rowspan"}),
    "th": frozenset({"colspan", "rowspan", "scope"}),
    "time": frozenset({"datetime"}),
    "video": frozenset({"controls", "height", "poster", "src", "width"}),
}

_URL_SCHEMES = frozenset({"http", "https", "mailto"})
_BASE_SCHEMES = ("http", "https")
_LINK_REL = "noopener noreferrer nofollow"

_SEPARATORS = re.compile(r"[\s,]*")
_TAG_TOKEN = re.compile(r"<([^<>]*)>")
_TAG_NAME = re.compile(r"[a-z][a-z0-9]*")


def parse_allowed_tags(text: str) -> frozenset[str]:
    """Parse an "Allowed HTML tags" setting such as ``"<a> <em> <p>"``.

    Tags may be separated by spaces, commas or nothing (``"<a><em>"``) and
    are case-insensitive.

    Raises:
        InvalidInputError: the text is not a list of ``<tag>`` tokens, a name
            has characters a tag name cannot have, or a tag is one of
            :data:`REFUSED_TAGS` (named in the message).
    """
    tags: set[str] = set()
    pos = _skip_separators(text, 0)
    while pos < len(text):
        token = _TAG_TOKEN.match(text, pos)
        if token is None:
            raise InvalidInputError(
                "Cannot read the allowed tags near {fragment!r}: write each tag as <name>, for example <a> <em> <p>.",
                fragment=text[pos : pos + 20],
            )
        tags.add(_check_tag_name(token.group(1).strip().lower()))
        pos = _skip_separators(text, token.end())
    return frozenset(tags)


def _skip_separators(text: str, pos: int) -> int:
    match = _SEPARATORS.match(text, pos)  # never None: the pattern matches ""
    return match.end() if match else pos


def _check_tag_name(name: str) -> str:
    if not _TAG_NAME.fullmatch(name):
        # Drupal 8+ accepts "<a href hreflang>"; here attributes are fixed,
        # so say so rather than silently ignoring them.
        if " " in name or "=" in name:
            raise InvalidInputError(
                "Attributes cannot be set in the allowed tags: write <{tag}> instead of <{name}>.",
                tag=name.split()[0],
                name=name,
            )
        raise InvalidInputError("<{name}> is not a valid HTML tag name.", name=name)
    if name in REFUSED_TAGS:
        raise InvalidInputError(
            "The tag <{tag}> cannot be allowed: it can run scripts, load other pages or take input.",
            tag=name,
        )
    return name


class HTMLSanitizer:
    """Sanitizes feed HTML against one tag allowlist.

    Build one per allowlist and reuse it; it is safe to share between
    threads.

    >>> HTMLSanitizer().sanitize('<p onclick="x()">Hi <a href="/a">there</a></p>', "https://example.com/")
    '<p>Hi <a href="https://example.com/a" rel="noopener noreferrer nofollow">there</a></p>'
    """

    def __init__(self, allowed_tags: Iterable[str] | None = None) -> None:
        """
        Args:
            allowed_tags: lower-case tag names, as returned by
                :func:`parse_allowed_tags`; ``None`` means
                :data:`DEFAULT_ALLOWED_TAGS`.

        Raises:
            InvalidInputError: a tag name is invalid or refused.
        """
        if allowed_tags is None:
            tags = parse_allowed_tags(DEFAULT_ALLOWED_TAGS)
        else:
            tags = frozenset(_check_tag_name(tag.strip().lower()) for tag in allowed_tags)
        self.allowed_tags = tags
        self._cleaner = nh3.Cleaner(
            tags=set(tags),
            clean_content_tags=set(_DROP_CONTENT_TAGS),
            attributes={tag: set(attributes) for tag, attributes in _ATTRIBUTES.items() if tag == "*" or tag in tags},
            url_schemes=set(_URL_SCHEMES),
            # Relative URLs are resolved after cleaning (see _fix_urls): both
            # ways of doing it inside nh3 cost more than the sanitizing itself
            # on the benchmark corpus — a Python url_relative callback (one
            # FFI call per relative URL), and a cleaner per base URL (building
            # one costs as much as cleaning an item, and items differ in base).
            url_relative="pass_through",
            link_rel=_LINK_REL,
            strip_comments=True,
        )

    def sanitize(self, html: str | None, base_url: str | None) -> str | None:
        """Return the safe subset of ``html``, or ``None`` when nothing
        visible is left (no text, no image or media).

        Args:
            html: an HTML fragment as the feed gave it.
            base_url: what relative URLs in ``html`` are relative to (see
                ``ParsedItem.base_url``); relative URLs are dropped when it is
                ``None`` or not an http(s) URL.
        """
        if html is None or not html.strip():
            return None
        cleaned = _fix_urls(self._cleaner.clean(shallow(html)), base_url if _is_http_url(base_url) else None)
        # HTML parsing drops a newline right after <pre>; html5ever's output
        # does not write one back for text that starts with a newline, so a
        # second parse (a teaser, a re-sanitize) would lose that line break
        # and join the words around it.
        cleaned = _PRE_NEWLINE.sub("\\1\n", cleaned)
        return cleaned if _has_content(cleaned) else None


# How deep elements may nest, as in Chromium's HTML parser. html5ever's time
# grows with the square of the depth of block elements (tests/hostile has a
# feed of 30,000 nested <div>), so what lies deeper is cut off before nh3
# sees it.
MAX_DEPTH = 512
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)[^>]*?(/?)>")
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"})


# For a bound on the depth in C: every "<" an opening, every "</" a closing.
_NOT_MARKS = bytes(range(256)).translate(None, b"<)")
_MARK_STEPS = bytes.maketrans(b"<)", b"\x02\x00")  # +1 and -1, once 1 is taken off each


def shallow(html: str) -> str:
    """``html`` cut where its elements nest deeper than :data:`MAX_DEPTH`
    (the sanitizer closes what is left open).

    Fewer tags than that cannot nest that deep: the common case is one
    count. For a long item, a bound comes next, computed without a Python
    step per tag (void elements and comments counted as openings, so it
    can only be too high); only above the limit are the tags walked one by
    one, a tenth of the speed."""
    if html.count("<") <= MAX_DEPTH:
        return html
    data = html.encode("utf-8", "surrogatepass").replace(b")", b"").replace(b"</", b")")
    steps = data.translate(_MARK_STEPS, _NOT_MARKS)
    if max(accumulate(map(int.__sub__, steps, repeat(1))), default=0) <= MAX_DEPTH:
        return html
    depth = 0
    for match in _TAG.finditer(html):
        closing, name, self_closing = match.groups()
        if closing:
            depth = max(0, depth - 1)
        elif not self_closing and name.lower() not in _VOID:
            depth += 1
            if depth > MAX_DEPTH:
                return html[: match.start()]
    return html


# URL attributes in nh3's output whose value is not an absolute http(s) or
# mailto URL: relative URLs, and cite values (nh3 checks the scheme of href,
# src and poster, not of cite). The output is normalized — attributes after a
# space, values in double quotes with any quote inside escaped, and "<" and
# ">" escaped everywhere but around tags — so a pattern can find them;
# absolute URLs, the common case, never match. Text can hold the same
# characters (a code sample's 'src="a.png"': quotes stay raw in text), so a
# match counts only inside a tag. The pattern starts at '="', a literal the
# regex engine searches for quickly (a pattern starting at the space before
# the name tried every space of the text, several times slower), and looks
# behind for the name.
_LOOSE_URL = re.compile(r'="(?:(?<= href=")|(?<= src=")|(?<= cite=")|(?<= poster="))(?!(?i:https?|mailto):)([^"]*)"')
_LONGEST_NAME = len(" poster")
_SCHEME = re.compile(r"^\s*[a-zA-Z][a-zA-Z0-9+.-]*:")
_NEEDS_ESCAPE = re.compile(r"[&<>\"']")


def _fix_urls(cleaned: str, base: str | None) -> str:
    """Resolve relative URLs against ``base`` (dropping them without one) and
    drop cite values with a scheme that is not allowed."""
    if ' href="' not in cleaned and ' src="' not in cleaned and ' cite="' not in cleaned and ' poster="' not in cleaned:
        return cleaned
    resolver = _base_resolver(base) if base is not None else None
    pieces: list[str] = []
    done = 0  # cleaned[:done] is in pieces
    for match in _LOOSE_URL.finditer(cleaned):
        equals = match.start()
        space = cleaned.rfind(" ", max(0, equals - _LONGEST_NAME), equals)  # before the name (the lookbehind saw it)
        tag = cleaned.rfind("<", 0, space)
        if tag == -1 or cleaned.find(">", tag, space) != -1:  # not inside a tag: text, left alone
            continue
        pieces.append(cleaned[done:space])
        done = match.end()
        value = match.group(1)
        if resolver is None or (":" in value and _SCHEME.match(value)):  # only a cite can carry another scheme here
            continue  # the attribute is dropped
        resolved = resolver((html_lib.unescape(value) if "&" in value else value).strip())
        if not resolved:
            continue
        if _NEEDS_ESCAPE.search(resolved):
            resolved = html_lib.escape(resolved, quote=True)
        pieces.append(f'{cleaned[space:equals]}="{resolved}"')
    if not done:
        return cleaned
    pieces.append(cleaned[done:])
    return "".join(pieces)


@functools.lru_cache(maxsize=1024)
def _base_resolver(base: str) -> Callable[[str], str | None]:
    """A fast relative-URL resolver for one http(s) base (RFC 3986 §5.2).

    Feeds can carry thousands of relative links and ``urljoin`` costs tens of
    microseconds each, so references are joined by string operations worked
    out once per base: "/path", "//host/path", "#x", "?q", "name.png", and
    paths with dot segments through :func:`_remove_dot_segments`. The base
    is http(s), and the reference has no scheme (the caller saw to that), so
    the result is http(s) too.
    """
    parts = urlsplit(base)
    origin = f"{parts.scheme}://{parts.netloc}"
    path = parts.path or "/"
    directory_path = path[: path.rfind("/") + 1]
    without_query = origin + path
    without_fragment = without_query + (f"?{parts.query}" if parts.query else "")

    def resolve(url: str) -> str | None:
        if not url:
            return without_fragment
        first = url[0]
        if first == "#":
            return without_fragment + url
        if first == "?":
            return without_query + url
        if url.startswith("//"):
            return f"{parts.scheme}:{url}"
        if "\\" in url:  # browsers read "\" as "/"; leave such oddities to the full parser
            return _checked(_join(base, url))
        if first == "/":  # dot segments are "/." or "/.." (a "." elsewhere is just a dot)
            return origin + (_remove_dot_segments(url) if "/." in url else url)
        if "." in url and ("./" in url or url.endswith(".")):
            return origin + _remove_dot_segments(directory_path + url)
        return origin + directory_path + url

    return resolve


def _remove_dot_segments(reference: str) -> str:
    """RFC 3986 §5.2.4 on the path part of ``reference`` (query and fragment kept)."""
    cut = len(reference)
    for mark in "?#":
        index = reference.find(mark)
        if index != -1:
            cut = min(cut, index)
    path, rest = reference[:cut], reference[cut:]
    output: list[str] = []
    for segment in path.split("/")[1:] if path.startswith("/") else path.split("/"):
        if segment == "..":
            if output:
                output.pop()
        elif segment != ".":
            output.append(segment)
    if path.endswith(("/.", "/..")) or path in {".", ".."}:
        output.append("")
    return "/" + "/".join(output) + rest


def _join(base: str, url: str) -> str | None:
    try:
        return urljoin(base, url)
    except ValueError:  # e.g. "//[::1" (an unclosed IPv6 literal)
        return None


def _checked(url: str | None) -> str | None:
    """The URL if it parses and is http(s) (protocol-relative and dotted
    paths go through Python's parser, which is not ammonia's)."""
    return url if url is not None and _has_allowed_scheme(url) else None


def _has_allowed_scheme(url: str) -> bool:
    try:
        return urlsplit(url.strip()).scheme.lower() in _URL_SCHEMES
    except ValueError:  # e.g. an invalid IPv6 literal
        return False


# Some text outside tags, or an element that shows something without text.
# A cheap search, not a parse: on real content it stops within the first few
# characters.  Fooled only towards keeping (a ">" inside an attribute value
# looks like text), never towards dropping content.
_SOME_TEXT = re.compile(r"(?:^|>)\s*[^<\s]").search
_SOME_MEDIA = re.compile(r"<(?:img|video|audio|hr)\b").search


def _has_content(cleaned: str) -> bool:
    """False for output that would show nothing: "", "  ", "<p> </p><br>"."""
    return bool(_SOME_TEXT(cleaned) or _SOME_MEDIA(cleaned))


def _is_http_url(url: str | None) -> bool:
    if not url:
        return False
    head = url[:8].lower()
    rest = url[8:] if head == "https://" else url[7:] if head.startswith("http://") else None
    if rest is not None and rest[:1] not in ("", "/", "?", "#") and "[" not in rest and "\\" not in rest:
        return True  # the common case, without parsing: an http(s) URL with a host
    return _is_http_url_parsed(url)


@functools.lru_cache(maxsize=1024)
def _is_http_url_parsed(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in _BASE_SCHEMES and bool(parts.netloc)


_PRE_NEWLINE = re.compile(r"(<(?:pre|textarea|listing)\b[^>]*>)(?=\n)")


@functools.lru_cache(maxsize=8)
def _sanitizer_for(allowed_tags: frozenset[str] | None) -> HTMLSanitizer:
    return HTMLSanitizer(allowed_tags)


def sanitize_html(
    html: str | None,
    base_url: str | None,
    allowed_tags: frozenset[str] | None = None,
) -> str | None:
    """:meth:`HTMLSanitizer.sanitize` with a cached sanitizer per allowlist
    (``None`` means :data:`DEFAULT_ALLOWED_TAGS`)."""
    return _sanitizer_for(allowed_tags).sanitize(html, base_url)


# Elements that separate words when rendered; kept (without attributes) by
# the text cleaner so they can become spaces: "a<br>b" is "a b", not "ab".
_BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "caption",
        "dd",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
_TEXT_CLEANER = nh3.Cleaner(
    tags=set(_BLOCK_TAGS),
    clean_content_tags=set(_DROP_CONTENT_TAGS),
    attributes={"*": set()},
    link_rel=None,
    strip_comments=True,
)
# Safe on the cleaner's output only: no attributes are left, so no ">" can
# hide inside a tag.
_ANY_TAG = re.compile(r"<[^>]*>")


def html_to_text(html: str | None) -> str:
    """Plain text of an HTML fragment, for titles and the search index.

    Tags are removed (block elements become spaces), script/style contents
    dropped, entities decoded and whitespace collapsed to single spaces.
    Plain text passes through: ``"AT&T <3"`` stays ``"AT&T <3"``.
    """
    if not html:
        return ""
    text = _ANY_TAG.sub(" ", _TEXT_CLEANER.clean(html))
    return " ".join(html_lib.unescape(text).split())
