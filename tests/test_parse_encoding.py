"""lenta decides the encoding itself: BOM, then the XML declaration, then
HTTP, then UTF-8, then a guess — and never fails to decode."""

from __future__ import annotations

import codecs

import pytest

from lenta.parse import parse_feed
from lenta.parse.encoding import decode_xml
from lenta.parse.encoding import detect_encoding
from lenta.parse.encoding import normalize_encoding

URL = "https://example.com/feed"


def doc(title: str, encoding: str | None = None) -> str:
    declaration = f'<?xml version="1.0" encoding="{encoding}"?>' if encoding else '<?xml version="1.0"?>'
    return f'{declaration}<rss version="2.0"><channel><title>{title}</title></channel></rss>'


def title_of(body: bytes, charset: str | None = None) -> str | None:
    return parse_feed(body, url=URL, charset=charset).title


def test_valid_utf8_is_passed_through_untouched() -> None:
    body = doc("Grüße").encode("utf-8")
    assert decode_xml(body) is body
    assert title_of(body) == "Grüße"


@pytest.mark.parametrize("codec", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"])
def test_bom_wins_over_a_wrong_declaration(codec: str) -> None:
    text = doc("Ελληνικά ✓", encoding="iso-8859-1")
    body = text.encode(codec)
    if codec in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"):
        bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE,
               "utf-32-le": codecs.BOM_UTF32_LE, "utf-32-be": codecs.BOM_UTF32_BE}[codec]  # fmt: skip
        body = bom + body
    assert title_of(body, charset="koi8-r") == "Ελληνικά ✓"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_utf16_and_utf32_without_bom_are_recognised(codec: str) -> None:
    body = doc("日本語のフィード", encoding="UTF-16").encode(codec)
    assert detect_encoding(body) == codec
    assert title_of(body) == "日本語のフィード"


def test_declaration_is_used() -> None:
    body = doc("Новости", encoding="windows-1251").encode("cp1251")
    assert title_of(body) == "Новости"


def test_declaration_beats_the_http_charset() -> None:
    body = doc("Новости", encoding="windows-1251").encode("cp1251")
    assert title_of(body, charset="utf-8") == "Новости"


def test_http_charset_is_used_without_a_declaration() -> None:
    body = doc("Новости").encode("koi8-r")
    assert title_of(body, charset="KOI8-R") == "Новости"


def test_iso_8859_1_is_read_as_windows_1252() -> None:
    # 0x80 and 0x93/0x94 are C1 controls in ISO-8859-1 but € and quotes in
    # windows-1252, which is what such feeds mean.
    body = doc("Caf\xe9 \x93quoted\x94 \x80", encoding="ISO-8859-1").encode("latin-1")
    assert title_of(body) == "Café “quoted” €"


def test_gb2312_is_read_as_gb18030() -> None:
    # 镕 is in GBK/GB18030 but not in GB2312; Chinese feeds declaring gb2312
    # use it anyway.
    body = doc("朱镕基", encoding="gb2312").encode("gb18030")
    assert title_of(body) == "朱镕基"


def test_a_declaration_that_does_not_decode_falls_back() -> None:
    body = doc("Ça ira — très bien", encoding="utf-8").encode("cp1252")
    assert title_of(body) == "Ça ira — très bien"


def test_undeclared_single_byte_text_is_guessed() -> None:
    body = doc("Les études montrent qu'être à l'écoute aide. " * 3).encode("cp1252")
    assert title_of(body) == " ".join(["Les études montrent qu'être à l'écoute aide."] * 3)


def test_stray_windows_1252_bytes_in_utf8_keep_the_utf8() -> None:
    body = doc("Grüße").encode("utf-8").replace(b"</title>", b" \x93ok\x94</title>")
    assert title_of(body) == "Grüße “ok”"


def test_unknown_encoding_names_are_skipped() -> None:
    body = doc("Grüße", encoding="x-no-such-charset").encode("utf-8")
    assert title_of(body, charset="also-bogus") == "Grüße"


def test_a_utf16_declaration_on_ascii_bytes_is_ignored() -> None:
    body = doc("Grüße", encoding="UTF-16").encode("utf-8")
    assert title_of(body) == "Grüße"


def test_nothing_fails_to_decode() -> None:
    body = b'<?xml version="1.0" encoding="utf-16"?><rss><channel><title>\xff\xfe\x00\xc3(</title></channel></rss>'
    assert decode_xml(body).decode("utf-8")  # valid UTF-8 out, whatever came in
    assert parse_feed(body, url=URL).title is not None


@pytest.mark.parametrize(
    ("name", "codec"),
    [
        ("UTF-8", "utf-8"),
        ("utf8", "utf-8"),
        ("ISO-8859-1", "cp1252"),
        ("latin1", "cp1252"),
        ("US-ASCII", "cp1252"),
        ("windows-1251", "cp1251"),
        ("GB2312", "gb18030"),
        ("Shift_JIS", "cp932"),
        ("EUC-KR", "cp949"),
        ("'koi8-r'", "koi8-r"),
        ("no-such-thing", None),
        ("", None),
        (None, None),
    ],
)
def test_encoding_names(name: str | None, codec: str | None) -> None:
    assert normalize_encoding(name) == codec
