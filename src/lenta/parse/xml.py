"""The one safe way lenta turns feed bytes into an lxml tree, and the small
readers every XML format module shares.

Safety: the document type declaration is cut out before parsing, and the
parser itself never resolves entities, loads a DTD, validates, or touches
the network. So an ``<!ENTITY x SYSTEM "file:///etc/passwd">`` is never
even declared, its references stay the literal text "&x;", and a
billion-laughs document parses in microseconds. ``recover=True`` keeps
whatever a truncated or sloppy document holds.

Size: libxml2's own limits are lifted (``huge_tree=True``): the one that
bites, 10 MB per text node, made it stop at a long channel description
and lose every item after it, without an error. What bounds a document
instead is the body's cap (``LENTA_FETCH_MAX_BYTES``) and, for a document
of tiny items, :func:`cut_items`: the tree is built for at most so many
items (a tree costs many times its document's bytes when the items are
tiny; see ``lenta.update.decide.Limits``).

libxml2's recovery drops what it cannot read as XML: the HTML named
entities real RSS is full of (``&nbsp;``, ``&eacute;``), a bare ``&``, a
``<`` that starts no tag. :func:`repair_text` rewrites them first, in one
pass over the bytes, so that all of the text survives (see there).
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

from lenta._marks import N_
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
        huge_tree=True,  # see the module docstring: bounded by the body's cap and cut_items
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

# Where repair_text() has to look: an "&" that does not start a reference
# libxml2 reads right by itself, and a "<" that cannot start markup. The
# references let through are XML's five entities and the numeric forms that
# are surely valid XML characters (decimal 9, 10, 13, 32-127, 160-54999,
# 58000-64999, 66000-999999; hex with a lower-case x: 9, A, D, 20-7F,
# A0-CFFF, E000-FEFF, 10000-10FFFF; leading zeros allowed, WordPress writes
# "&#038;"), which are nearly all the references real feeds hold. Anything
# else (an upper-case X, C0 and C1 controls, surrogates, out of range)
# stops the scan and is decided in Python. Two patterns rather than one: a
# pattern that starts with one literal byte gets re's fast scan, "[&<]"
# does not and is many times slower.
_SAFE_NUMBER = rb"""
    0*(?:3[2-9]|[4-9][0-9]|[1-9][0-9]{3}|10|13|9|[2-9][0-9]{2}|1[6-9][0-9]|1[01][0-9]|12[0-7]
        |[1-4][0-9]{4}|5[0-4][0-9]{3}|5[89][0-9]{3}|6[0-4][0-9]{3}|6[6-9][0-9]{3}|[7-9][0-9]{4}
        |[1-9][0-9]{5})
  | x0*(?:[9aAdD]|[2-7a-fA-F][0-9a-fA-F]|[1-9a-cA-CeE][0-9a-fA-F]{3}|[1-9a-fA-F][0-9a-fA-F]{2}
        |[fF][0-9a-eA-E][0-9a-fA-F]{2}|[1-9a-fA-F][0-9a-fA-F]{4}|10[0-9a-fA-F]{4})
"""  # what may follow "&#"
_STRAY_AMPERSAND = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos|\#(?:" + _SAFE_NUMBER + rb"));)", re.VERBOSE)
# Inside CDATA and comments only numeric references matter (see
# _replace_invalid_references).
_ODD_NUMBER = re.compile(rb"&\#(?!(?:" + _SAFE_NUMBER + rb");)", re.VERBOSE)
# A name start (ASCII, or any non-ASCII byte), an end tag, a declaration,
# comment or CDATA section, or a processing instruction may follow "<".
# (A "<" that ends the document is not matched: it is truncated markup
# whatever it was meant to be, and a class is cheaper than a lookahead.)
_STRAY_LESS_THAN = re.compile(rb"<[^A-Za-z_:/!?\x80-\xff]")
_REFERENCE = re.compile(rb"&(?:\#([0-9]+)|\#[xX]([0-9A-Fa-f]+)|([A-Za-z][A-Za-z0-9]{0,31}));")
_REPLACEMENT_CHARACTER = b"&#65533;"
_MAX_CODE_POINT = 0x10FFFF


def _character_reference(digits: bytes, base: int) -> bytes:
    """A numeric reference as one libxml2 reads: decimal, for a character
    XML allows. HTML5 (and so browsers and feedparser) reads &#128;-&#159;
    as the windows-1252 characters they were meant as (the apostrophe in
    "&#146;"), and NUL, surrogates and code points past U+10FFFF as U+FFFD;
    so does lenta, and the C0 controls XML 1.0 cannot hold become U+FFFD too
    rather than vanishing."""
    code = _code_point(digits, base)
    if code is None or not _allowed(code):
        return _REPLACEMENT_CHARACTER
    if 0x80 <= code <= 0x9F:
        try:
            code = ord(bytes((code,)).decode("cp1252"))
        except UnicodeDecodeError:
            pass  # 81, 8D, 8F, 90, 9D: no windows-1252 character, kept as they are
    return b"&#%d;" % code


def _code_point(digits: bytes, base: int) -> int | None:
    """The number a reference's digits spell; None past U+10FFFF by length
    alone (so int() never converts a long string)."""
    digits = digits.lstrip(b"0") or b"0"
    return None if len(digits) > 7 else int(digits, base)


def _allowed(code: int) -> bool:
    """Whether an XML 1.0 document can hold the character ``code``."""
    if code < 0x20:
        return code in (0x09, 0x0A, 0x0D)
    return code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= _MAX_CODE_POINT


def _reference_at(data: bytes, at: int) -> tuple[bytes, int]:
    """What the "&" at ``at`` becomes, and where the text after it resumes."""
    match = _REFERENCE.match(data, at)
    if match is not None:
        decimal, hexadecimal, name = match.groups()
        if decimal is not None:
            return _character_reference(decimal, 10), match.end()
        if hexadecimal is not None:
            return _character_reference(hexadecimal, 16), match.end()
        known = _REFERENCES.get(name)
        if known is not None:
            return known, match.end()
    # A bare "&" ("Fish & Chips", "?a=1&b=2") or an unknown name ("&foo;", or
    # one the document's own DTD declares, which we do not read): literal
    # text, as browsers keep it.
    return b"&amp;", at + 1


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


def repair_text(data: bytes) -> bytes:
    """Rewrite the text of a document so that libxml2's recovery keeps all
    of it, in one pass over the bytes.

    In recover mode libxml2 silently drops a bare ``&``, a reference to an
    entity it does not know and a ``<`` that does not start a tag; browsers
    and other feed readers keep them as text. Here:

    - HTML named references become numeric ones (``&eacute;`` → ``&#233;``),
      which XML reads without a DTD;
    - a bare ``&`` and an unknown name become ``&amp;`` (``&foo;`` stays the
      text "&foo;");
    - numeric references in any spelling (``&#X41;``, ``&#x0041;``) become
      one libxml2 reads; invalid ones become U+FFFD (see
      :func:`_character_reference`);
    - a ``<`` that cannot start markup (``<3``, ``< b``, ``a<=b``) becomes
      ``&lt;``.

    Attribute values are text like any other and get the same treatment.
    CDATA sections are copied as they are: there ``&`` and ``<`` are already
    literal, and a rewrite would change the text (an ``&amp;`` would show).
    Comments are skipped too (the parser removes them anyway). The one
    exception in both is a reference to a character XML cannot hold (see
    :func:`_replace_invalid_references`). Returns ``data`` itself when
    nothing needed rewriting.
    """
    size = len(data)
    ampersand = _position(_STRAY_AMPERSAND, data, 0)
    less_than = _position(_STRAY_LESS_THAN, data, 0)
    if ampersand == less_than == size:
        return data
    parts: list[bytes] = []
    copied = 0  # data[:copied] is in parts already
    sections = _sections(data)
    section_start, section_end = next(sections, (size, size))
    while (at := min(ampersand, less_than)) < size:
        while at >= section_end:
            section_start, section_end = next(sections, (size, size))
        if at >= section_start:
            copied = _replace_invalid_references(data, at, section_end, parts, copied)
            resume = section_end
        elif at == ampersand:
            replacement, resume = _reference_at(data, at)
            parts.append(data[copied:at])
            parts.append(replacement)
            copied = resume
        else:
            parts.append(data[copied:at])
            parts.append(b"&lt;")
            copied = resume = at + 1
        if ampersand < resume:
            ampersand = _position(_STRAY_AMPERSAND, data, resume)
        if less_than < resume:
            less_than = _position(_STRAY_LESS_THAN, data, resume)
    if not parts:
        return data
    parts.append(data[copied:])
    return b"".join(parts)


def _replace_invalid_references(data: bytes, start: int, end: int, parts: list[bytes], copied: int) -> int:
    """In the CDATA section or comment ``data[start:end]``, replace each
    reference to a character XML cannot hold with ``&#65533;`` (adding to
    ``parts``); return the new ``copied``.

    Everything else there is literal text and stays as it is. These
    references are rewritten because an opener inside an attribute value
    (``title="<![CDATA["``) makes what follows look like a section when it
    is not, and libxml2 turns such a reference into a control character or
    fails on the whole document. In a real section the change is harmless:
    the text is HTML, where these references read as U+FFFD (or an
    invisible control character) anyway."""
    for odd in _ODD_NUMBER.finditer(data, start, end):
        reference = _REFERENCE.match(data, odd.start(), end)
        if reference is None:
            continue  # "&#" and no number: text
        decimal, hexadecimal, _ = reference.groups()
        code = _code_point(decimal, 10) if decimal is not None else _code_point(hexadecimal, 16)
        if code is None or not _allowed(code):
            parts.append(data[copied : odd.start()])
            parts.append(_REPLACEMENT_CHARACTER)
            copied = reference.end()
    return copied


def _position(pattern: re.Pattern[bytes], data: bytes, start: int) -> int:
    """Where ``pattern`` next matches in ``data`` from ``start``; the
    length of ``data`` when it does not."""
    match = pattern.search(data, start)
    return len(data) if match is None else match.start()


def _sections(data: bytes) -> Iterator[tuple[int, int]]:
    """(start, end) of each CDATA section and comment of ``data``, in order;
    one left open runs to the end, as libxml2 reads it."""
    cdata = data.find(b"<![CDATA[")
    comment = data.find(b"<!--")
    while cdata >= 0 or comment >= 0:
        if comment < 0 or 0 <= cdata < comment:
            start, end = cdata, data.find(b"]]>", cdata + 9)
        else:
            start, end = comment, data.find(b"-->", comment + 4)
        end = len(data) if end < 0 else end + 3
        yield start, end
        if 0 <= cdata < end:
            cdata = data.find(b"<![CDATA[", end)
        if 0 <= comment < end:
            comment = data.find(b"<!--", end)


# Where an item starts: <item>, <entry>, with a namespace prefix or not.
_ITEM_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)[\s>/]")


def cut_items(data: bytes, limit: int) -> tuple[bytes, int]:
    """``data`` ending before its ``limit + 1``-th item (the parser's
    recovery closes what is left open), and how many items were cut off.
    Feeds list their newest items first, so what is cut is the oldest."""
    # Counting is C speed, the pattern is not: most documents stop here.
    if sum(data.count(start) for start in (b"<item", b"<entry", b":item", b":entry")) <= limit:
        return data, 0
    starts = _ITEM_START.finditer(data)
    for _ in range(limit):
        if next(starts, None) is None:
            return data, 0
    first_cut = next(starts, None)
    if first_cut is None:
        return data, 0
    return data[: first_cut.start()], 1 + sum(1 for _ in starts)


def parse_xml(data: bytes, *, max_items: int | None = None) -> tuple[etree._Element, int]:
    """Parse UTF-8 ``data`` (from :func:`lenta.parse.encoding.decode_xml`)
    with the safe parser; the root element, and how many items past
    ``max_items`` were left unread (see :func:`cut_items`).

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
    skipped = 0
    if max_items is not None:
        data, skipped = cut_items(data, max_items)
    data = repair_text(data)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position
        raise ParseError(
            "The XML document is broken beyond repair: {error}",
            brief=N_("The XML document is broken beyond repair at line {line}, column {column}."),
            error=str(exc),
            line=line,
            column=column,
        ) from exc
    if root is None:
        raise ParseError("The XML document is broken beyond repair: no element could be read.")
    return root, skipped


# --- reading helpers shared by rss.py, rdf.py and atom.py ------------------


def text_of(el: etree._Element) -> str | None:
    """The character content of ``el`` (CDATA included; children's text
    too, for feeds that put markup where text belongs), stripped; None
    when empty."""
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


# NUL and the other C0 controls XML 1.0 forbids (parse_xml drops their
# bytes; JSON and base64 text can still hold them), and lone surrogates.
_INVALID_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def clean_text(value: str) -> str:
    """``value`` without the characters no stored string may hold: NUL and
    the other C0 controls but tab, newline and carriage return are removed
    (PostgreSQL refuses NUL in text), a lone surrogate becomes U+FFFD (it
    cannot be encoded to UTF-8)."""
    if _INVALID_CHARACTERS.search(value) is None:
        return value
    return _INVALID_CHARACTERS.sub(_replace_invalid, value)


def _replace_invalid(match: re.Match[str]) -> str:
    return "\ufffd" if match.group() >= "\ud800" else ""


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
    return one_line(value)


# The control characters str.split() does not take for whitespace: C0 but
# tab, newline, carriage return, vertical tab, form feed and 1C-1F; DEL; C1
# but NEL (85).
_NON_SPACE_CONTROLS = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")


def one_line(value: str | None) -> str | None:
    """Text for one line (a title, an author's name): whitespace runs, line
    breaks included, as one space, and no control character, so that what
    ``lenta list`` or a page prints is what the feed said and never a
    terminal's escape sequence ("\x1b[2J", "\x9b31m"); None when empty."""
    if not value:
        return None
    if not value.isprintable():
        value = _NON_SPACE_CONTROLS.sub("", value)
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


_MAX_DIGITS = 20
# What to_int() returns for a longer number: above every bound in
# lenta.parse.model, so callers clamp it or discard it like any too-large
# value, and int() never has to convert thousands of digits.
_HUGE = 10**_MAX_DIGITS


def to_int(value: str | None) -> int | None:
    """A non-negative integer attribute or element text, or None. The
    value is not bounded: callers apply the model's bounds (a number of
    more than 20 digits comes back as 10**20, beyond all of them)."""
    if not value:
        return None
    value = value.strip()
    if not (value.isascii() and value.isdigit()):
        # "1,234" and "1 234" are real; anything else is not a number.
        value = value.replace(",", "").replace(" ", "")
        if not (value.isascii() and value.isdigit()):
            return None
    value = value.lstrip("0") or "0"
    return _HUGE if len(value) > _MAX_DIGITS else int(value)
