"""Decide a feed document's character encoding and hand lxml UTF-8.

lenta does not let libxml2 guess: its guesses differ from what browsers and
other readers do with the same bytes, and a wrong declaration makes it stop
at the first bad byte. The order we trust the evidence in:

1. a byte order mark (UTF-8, UTF-16, UTF-32) — unambiguous, always wins;
2. UTF-16/UTF-32 without a BOM, recognised from the zero-byte pattern of
   the first character (XML 1.0 Appendix F);
3. the ``encoding`` of the XML declaration;
4. the HTTP ``charset`` (a hint: servers default it more often than not);
5. UTF-8, if the bytes decode strictly;
6. charset-normalizer's guess.

A candidate that does not decode strictly is skipped. When none does, the
document is decoded as UTF-8 with replacement characters (bytes that are
not UTF-8 inside otherwise UTF-8 text are read as windows-1252, which is
what such stray bytes nearly always are), so decoding never fails.

The common case — UTF-8, declared or not — costs one strict validation and
no re-encoding.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

# Names the web uses for encodings that Python either lacks or implements
# more narrowly than browsers do. Like the WHATWG Encoding Standard, a
# declared ISO-8859-1/ASCII is read as its superset windows-1252, and GB2312
# as GB18030, so that the characters real feeds put in them survive.
_ALIASES: dict[str, str] = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "iso_8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "iso-8859-9": "cp1254",
    "latin5": "cp1254",
    "iso-8859-11": "cp874",
    "tis-620": "cp874",
    "windows-874": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "euc-cn": "gb18030",
    "cp936": "gb18030",
    "big5": "big5hkscs",
    "x-x-big5": "big5hkscs",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "x-mac-roman": "mac_roman",
    "macintosh": "mac_roman",
    "utf8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
}

_BOMS: tuple[tuple[bytes, str], ...] = (
    # UTF-32 first: its little-endian BOM starts with UTF-16's.
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

_WHITESPACE = b" \t\r\n"
_DECLARATION = re.compile(rb"""^<\?xml[^>]*?\bencoding\s*=\s*["']\s*([A-Za-z0-9._:-]+)""")
_DECLARATION_HEAD = 512
_DETECT_SAMPLE = 64 * 1024


def normalize_encoding(name: str | None) -> str | None:
    """The Python codec name to decode a declared encoding with, or None
    when the name is unknown (the candidate is then skipped)."""
    if not name:
        return None
    key = name.strip().strip("\"'").lower()
    key = _ALIASES.get(key, key)
    try:
        return codecs.lookup(key).name
    except LookupError:
        return None


def sniff_bom(body: bytes) -> tuple[str, int] | None:
    """The encoding named by a byte order mark and the mark's length."""
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return encoding, len(bom)
    return None


def sniff_wide(body: bytes) -> str | None:
    """UTF-16/32 without a BOM, told from where the zero bytes of the first
    (ASCII) character fall, as XML 1.0 Appendix F describes."""
    head = body[:4]
    if len(head) < 4 or 0 not in head:
        return None
    zeros = tuple(byte == 0 for byte in head)
    patterns: dict[tuple[bool, ...], str] = {
        (True, True, True, False): "utf-32-be",
        (False, True, True, True): "utf-32-le",
        (True, False, True, False): "utf-16-be",
        (False, True, False, True): "utf-16-le",
    }
    return patterns.get(zeros)


def declared_encoding(body: bytes) -> str | None:
    """The raw ``encoding`` pseudo-attribute of the XML declaration, if any
    (leading whitespace before ``<?xml`` is tolerated: real feeds have it)."""
    match = _DECLARATION.match(body[:_DECLARATION_HEAD].lstrip(_WHITESPACE))
    return match.group(1).decode("ascii") if match else None


def detect_encoding(body: bytes, http_charset: str | None = None) -> str:
    """The Python codec name :func:`decode_xml` reads ``body`` with."""
    return _decide(body, http_charset)[0]


def decode_xml(body: bytes, http_charset: str | None = None) -> bytes:
    """``body`` as UTF-8 bytes ready for a parser told ``encoding="utf-8"``.

    The BOM and any whitespace before the first ``<`` are removed; the XML
    declaration is left alone (the parser's explicit encoding overrides
    it). Never raises: undecodable bytes become U+FFFD.
    """
    encoding, start, text = _decide(body, http_charset)
    if text is None:
        # Already valid UTF-8: hand the bytes over as they are.
        return body[start:].lstrip(_WHITESPACE) if start or body[:1] in b" \t\r\n" else body
    return text.lstrip().encode("utf-8")


def decode_text(body: bytes, http_charset: str | None = None) -> str:
    """``body`` decoded with the same rules as :func:`decode_xml`."""
    encoding, start, text = _decide(body, http_charset)
    if text is None:
        return body[start:].decode("utf-8")
    return text


def _decide(body: bytes, http_charset: str | None) -> tuple[str, int, str | None]:
    """(encoding, bytes to skip, decoded text or None when ``body[skip:]``
    is valid UTF-8 and needs no transcoding)."""
    bom = sniff_bom(body)
    if bom is not None:
        bom_encoding, skip = bom
        return bom_encoding, skip, _decode_forced(body[skip:], bom_encoding)

    wide = sniff_wide(body)
    if wide is not None:
        return wide, 0, _decode_forced(body, wide)

    candidates = [
        normalize_encoding(declared_encoding(body)),
        normalize_encoding(http_charset),
        "utf-8",
    ]
    tried: set[str] = set()
    for encoding in candidates:
        if encoding is None or encoding in tried or _is_wide(encoding):
            # A UTF-16/32 declaration on bytes that are plainly not UTF-16
            # (the zero-byte sniff failed) is a lie left over from a
            # re-encoding; ignore it.
            continue
        tried.add(encoding)
        if encoding == "utf-8":
            if _is_utf8(body):
                return "utf-8", 0, None
            continue
        try:
            return encoding, 0, body.decode(encoding)
        except UnicodeDecodeError:
            continue

    if _mostly_utf8(body):
        # UTF-8 with a few stray single-byte characters pasted in: keep the
        # UTF-8 and read just the stray bytes as windows-1252.
        return "utf-8", 0, body.decode("utf-8", errors=_CP1252_FALLBACK)

    guessed = _guess(body)
    if guessed is not None and guessed not in tried:
        try:
            return guessed, 0, body.decode(guessed)
        except UnicodeDecodeError:
            pass
    return "utf-8", 0, body.decode("utf-8", errors=_CP1252_FALLBACK)


def _decode_forced(body: bytes, encoding: str) -> str | None:
    """Decode with an encoding we are sure of (BOM or zero-byte pattern):
    bad bytes become replacement characters rather than a new guess."""
    if encoding == "utf-8":
        if _is_utf8(body):
            return None
        return body.decode("utf-8", errors=_CP1252_FALLBACK)
    return body.decode(encoding, errors="replace")


def _is_utf8(body: bytes) -> bool:
    if body.isascii():
        return True
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _is_wide(encoding: str) -> bool:
    return encoding.startswith(("utf-16", "utf-32"))


def _mostly_utf8(body: bytes) -> bool:
    """True when ``body`` holds at least as many well-formed UTF-8
    multi-byte sequences as invalid bytes, so the invalid bytes are strays
    pasted into UTF-8 rather than the sign of a single-byte encoding (whose
    text only rarely forms valid UTF-8 sequences by accident)."""
    text = body.decode("utf-8", errors="replace")
    invalid = text.count("\ufffd")
    # Each valid multi-byte sequence shortens the text by 1-3 characters
    # relative to the bytes; each replaced byte keeps one for one.
    multibyte = len(body) - len(text)
    return multibyte > 0 and multibyte >= invalid


def _guess(body: bytes) -> str | None:
    results = charset_normalizer.from_bytes(body[:_DETECT_SAMPLE])
    best = results.best()
    if best is None:
        return None
    for match in results:
        # Short Western text fits cp1250, cp1252, cp1257… equally well;
        # break the tie the way browsers default, towards windows-1252.
        if match.chaos == best.chaos and match.coherence == best.coherence and "cp1252" in match.could_be_from_charset:
            return "cp1252"
    return normalize_encoding(best.encoding)


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return bad.decode("cp1252", errors="replace"), error.end


_CP1252_FALLBACK = "lenta-cp1252-fallback"
codecs.register_error(_CP1252_FALLBACK, _cp1252_fallback)
