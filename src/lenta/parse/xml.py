"""The one safe way lenta turns feed bytes into an lxml tree, and the small
readers every XML format module shares.

Safety: the document type declaration is cut out before parsing, and the
parser itself never resolves entities, loads a DTD, validates, or touches
the network, and keeps libxml2's size limits (``huge_tree=False``). So an
``<!ENTITY x SYSTEM "file:///etc/passwd">`` is never even declared, its
references are dropped, and a billion-laughs document parses in
microseconds. ``recover=True`` keeps whatever a truncated or sloppy
document holds.

Because entities are off, the HTML named entities real RSS is full of
(``&nbsp;``, ``&eacute;``) would be lost; :func:`parse_xml` rewrites them to
numeric character references first, which needs no DTD.
"""

from __future__ import annotations

import html
import html.entities
import re
import threading
from collections.abc import Iterator
from typing import cast
from urllib.parse import urljoin

from lxml import etree

from lenta.exceptions import NotAFeedError
from lenta.exceptions import ParseError

XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
XHTML_NS = "http://www.w3.org/1999/xhtml"

_local = threading.local()


def make_parser() -> etree.XMLParser:
    """A new safe parser. lxml parsers must not be shared between threads;
    :func:`parse_xml` keeps one per thread."""
    return etree.XMLParser(
        encoding="utf-8",  # decode_xml() has already transcoded to UTF-8
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        recover=True,
        remove_comments=True,
        remove_pis=True,
        remove_blank_text=False,
        collect_ids=False,
    )


def _parser() -> etree.XMLParser:
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = make_parser()
    return parser


# Named references that are not one of XML's five predefined entities.
_NAMED_REFERENCE = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos);)([A-Za-z][A-Za-z0-9]{1,31});")
# C0 controls other than tab/newline/return are not allowed anywhere in XML
# 1.0; real feeds leak them from copy-pasted text. In UTF-8 these bytes only
# ever stand for themselves, so deleting them is safe.
_CONTROL_BYTES = bytes(range(0x00, 0x09)) + b"\x0b\x0c" + bytes(range(0x0E, 0x20))
_JUNK_PREFIX = 2048
_PROLOG = 1024  # where a DOCTYPE can start: after the declaration and a comment or two


# b"eacute" -> b"&#233;", for every HTML5 name that ends in ";" (the others
# are legacy forms without the semicolon, which XML cannot have anyway).
_REFERENCES: dict[bytes, bytes] = {
    name[:-1].encode("ascii"): "".join(f"&#{ord(char)};" for char in chars).encode("ascii")
    for name, chars in html.entities.html5.items()
    if name.endswith(";")
}


def _numeric_reference(match: re.Match[bytes]) -> bytes:
    # Unknown names (or ones declared in the document's own DTD, which we do
    # not read) are left for the parser, which keeps them unexpanded.
    return _REFERENCES.get(match.group(1), match.group(0))


_DOCTYPE_END = re.compile(rb"\]\s*>")
_START_TAG = re.compile(rb"<[A-Za-z_]")


def strip_doctype(data: bytes) -> bytes:
    """Remove the document type declaration, internal subset and all.

    The parser would not load or expand anything from it, but libxml2 still
    reads the entity declarations and gives up on the whole document when
    they look like an amplification attack. Feeds have no use for a DTD (the
    RSS 0.91 one only declares the HTML entities we map ourselves)."""
    start = data.find(b"<!DOCTYPE", 0, _PROLOG)
    if start < 0:
        start = data.find(b"<!doctype", 0, _PROLOG)
        if start < 0:
            return data
    if _START_TAG.search(data, 0, start) is not None:
        return data  # not in the prolog: text that mentions a doctype
    close = data.find(b">", start)
    subset = data.find(b"[", start, close if close >= 0 else None)
    if subset >= 0:
        match = _DOCTYPE_END.search(data, subset)
        close = match.end() - 1 if match else -1
    if close < 0:
        return data
    return data[:start] + data[close + 1 :]


def replace_html_entities(data: bytes) -> bytes:
    """``&eacute;`` → ``&#233;``: HTML named entities as numeric character
    references, which XML understands without a DTD. Works inside
    attributes too, and in CDATA the reference is harmless HTML."""
    if _NAMED_REFERENCE.search(data) is None:
        return data
    return _NAMED_REFERENCE.sub(_numeric_reference, data)


def parse_xml(data: bytes) -> etree._Element:
    """Parse UTF-8 ``data`` (from :func:`lenta.parse.encoding.decode_xml`)
    with the safe parser and return the root element.

    Raises:
        NotAFeedError: the bytes do not start like an XML document.
        ParseError: nothing could be recovered from them.
    """
    if not data.startswith(b"<"):
        # Junk before the declaration (a PHP warning, say) is a known server
        # bug; anything else that does not start with "<" is not XML.
        start = data.find(b"<?xml", 0, _JUNK_PREFIX)
        if start < 0:
            raise NotAFeedError("The document is neither XML nor JSON.")
        data = data[start:]
    # One C pass, cheaper than searching for the bytes first.
    data = data.translate(None, _CONTROL_BYTES)
    data = strip_doctype(data)
    data = replace_html_entities(data)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise ParseError("The XML document is broken beyond repair: {error}", error=str(exc)) from exc
    if root is None:
        raise ParseError("The XML document is broken beyond repair: no element could be read.")
    return root


# --- reading helpers shared by rss.py, rdf.py and atom.py ------------------


def text_of(el: etree._Element) -> str | None:
    """The character content of ``el`` (CDATA included; children's text
    too, for feeds that put markup where text belongs), stripped; None
    when empty. Unexpanded entity references are left out."""
    text = el.text if len(el) == 0 else _mixed_text(el)
    if not text:
        return None
    text = text.strip()
    return text or None


def itertext(el: etree._Element) -> Iterator[str]:
    """``el.itertext()``. lxml-stubs type it as ``str | bytes`` (a Python 2
    leftover); on Python 3 lxml yields ``str`` only."""
    return cast(Iterator[str], el.itertext())


def _mixed_text(el: etree._Element) -> str:
    parts = [el.text or ""]
    for child in el:
        if isinstance(child.tag, str):
            parts.extend(itertext(child))
        parts.append(child.tail or "")
    return "".join(parts)


def markup_of(el: etree._Element) -> str | None:
    """The HTML held by an RSS-style markup element (``description``,
    ``content:encoded``). Usually that is escaped text or CDATA; when the
    feed put raw (X)HTML elements inside, they are serialized back."""
    if len(el) == 0:
        text = el.text
        if not text:
            return None
        return text.strip() or None
    return inner_html(el)


def inner_html(el: etree._Element) -> str | None:
    """The content of ``el`` — text escaped, child elements serialized as
    HTML with their namespaces removed — e.g. the inner ``div`` of Atom
    ``type="xhtml"`` content."""
    strip_namespaces(el)
    # Serializing the children one by one would repeat every namespace
    # declaration in scope on each of them; serialize the container once
    # and cut its own tags off instead. The HTML method writes <br> and
    # <p></p>, which HTML parsers read back right (unlike XML's <p/>), and
    # escapes ">" in attribute values, so the first ">" ends the start tag.
    markup = etree.tostring(el, method="html", encoding="unicode", with_tail=False)
    start = markup.find(">") + 1
    end = markup.rfind("</")
    if end < start:
        return None
    return markup[start:end].strip() or None


def strip_namespaces(el: etree._Element) -> None:
    """Drop namespaces from ``el``'s descendants in place, so serialized
    markup reads ``<p>`` rather than ``<html:p xmlns:html=...>``, and HTML
    serialization knows ``<br>`` is a void element."""
    changed = False
    for node in el.iterdescendants():
        tag = node.tag
        if isinstance(tag, str) and tag[:1] == "{":
            node.tag = tag.rpartition("}")[2]
            changed = True
    if changed:
        etree.cleanup_namespaces(el)


_TAG = re.compile(r"</?[A-Za-z!?][^>]*>")


def plain_text(value: str | None, *, strip_tags: bool = True) -> str | None:
    """A title as plain text: tags stripped when the value is (or may be)
    HTML, entities decoded, whitespace collapsed; None when empty.

    Entities are decoded even in fields the format calls plain text (Atom
    ``type="text"``, JSON Feed): feeds that escape twice ("I&amp;#039;m")
    far outnumber titles that mean a literal "&amp;"."""
    if not value:
        return None
    if strip_tags and "<" in value:
        value = _TAG.sub("", value)
    if "&" in value:
        value = html.unescape(value)
    value = " ".join(value.split())
    return value or None


def text_to_html(text: str | None) -> str | None:
    """Plain text as HTML: escaped, blank-line-separated paragraphs as
    ``<p>``, single line breaks as ``<br>``."""
    if not text or text.isspace():
        return None
    paragraphs = _BLANK_LINE.split(text.strip().replace("\r\n", "\n"))
    return "".join(
        "<p>" + html.escape(paragraph.strip(), quote=False).replace("\n", "<br>") + "</p>"
        for paragraph in paragraphs
        if paragraph.strip()
    )


_BLANK_LINE = re.compile(r"\n[ \t]*\n\s*")


def resolve_url(base: str | None, href: str | None) -> str | None:
    """``href`` made absolute against ``base``; absolute URLs are returned
    unchanged without the cost of ``urljoin``."""
    if not href:
        return None
    href = href.strip()
    if not href:
        return None
    if not base or href.startswith(("http://", "https://")):
        return href
    try:
        return urljoin(base, href)
    except ValueError:
        return href


def element_base(el: etree._Element, base: str | None) -> tuple[str | None, bool]:
    """The base URL in effect inside ``el`` given its parent's ``base``, and
    whether ``el`` set one itself with ``xml:base``."""
    own = el.get(XML_BASE)
    if own is None:
        return base, False
    return resolve_url(base, own), True


def to_int(value: str | None) -> int | None:
    """A non-negative integer attribute or element text, or None."""
    if not value:
        return None
    value = value.strip()
    if not value.isdigit():
        # "1,234" and "1 234" are real; anything else is not a number.
        value = value.replace(",", "").replace(" ", "")
        if not value.isdigit():
            return None
    try:
        return int(value)
    except ValueError:
        return None
