"""Feed documents for the hostile server: small honest ones to carry bad
headers, and the bad documents themselves (bombs, floods, deep nesting,
entity tricks, absurd numbers). Big ones are built once, on first use.

Placeholders (``@INTERNAL@``...) are filled in by the server when it
serves a body through :func:`hostile.server.reply` (see :mod:`hostile.server`).
"""

from __future__ import annotations

import functools
import gzip
import json
import zlib
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from email.utils import format_datetime
from html import escape

import brotli

RSS_TYPE = "application/rss+xml; charset=utf-8"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
JSON_TYPE = "application/feed+json"
RSS = [("Content-Type", RSS_TYPE)]
ATOM = [("Content-Type", ATOM_TYPE)]
JSON = [("Content-Type", JSON_TYPE)]
HTML = [("Content-Type", "text/html; charset=utf-8")]

BASE_DATE = datetime(2024, 1, 1, tzinfo=UTC)
MANY = 100_000  # items in the flood feeds
NEWEST_KEPT = 1_000  # what lenta keeps of one fetch: the newest this many
MB = 1024 * 1024


def rss_date(when: datetime) -> str:
    return format_datetime(when, usegmt=True)


def item(
    title: str,
    guid: str,
    *,
    date: datetime | None = BASE_DATE,
    link: str | None = None,
    description: str | None = "<p>body</p>",
    extra: str = "",
    raw: bool = False,
) -> str:
    """An RSS item; ``raw`` puts ``title`` and ``link`` in as they are (no escaping)."""
    parts = [f"<title>{title if raw else escape(title, quote=False)}</title>", f'<guid isPermaLink="false">{escape(guid)}</guid>']
    if link is not None:
        parts.append(f"<link>{link if raw else escape(link, quote=False)}</link>")
    if date is not None:
        parts.append(f"<pubDate>{rss_date(date)}</pubDate>")
    if description is not None:
        parts.append(f"<description>{escape(description, quote=False)}</description>")
    return "<item>" + "".join(parts) + extra + "</item>"


def rss(*items: str, title: str = "Hostile feed", channel: str = "", prolog: str = "", namespaces: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{prolog}<rss version="2.0"{namespaces}><channel>'
        f"<title>{title}</title><link>https://hostile.example/</link><description>d</description>"
        f"{channel}{''.join(items)}</channel></rss>"
    ).encode()


def small(title: str = "A small honest feed", n: int = 2) -> bytes:
    """A small, valid RSS feed of ``n`` items (carrier for bad headers)."""
    return rss(*(item(f"Item {i}", f"small-{i}", date=BASE_DATE + timedelta(days=i)) for i in range(n)), title=title)


def atom(*entries: str, title: str = "Hostile Atom", feed_attrs: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"{feed_attrs}>'
        f"<title>{title}</title><id>urn:hostile:atom</id><updated>2024-01-01T00:00:00Z</updated>"
        f"{''.join(entries)}</feed>"
    ).encode()


def entry(title: str, entry_id: str, *, updated: str = "2024-01-01T00:00:00Z", extra: str = "") -> str:
    return (
        f"<entry><title>{escape(title, quote=False)}</title><id>{escape(entry_id)}</id>"
        f"<updated>{updated}</updated>{extra}</entry>"
    )


def json_feed(items: list[dict[str, object]], **top: object) -> bytes:
    document: dict[str, object] = {"version": "https://jsonfeed.org/version/1.1", "title": "Hostile JSON", **top, "items": items}
    return json.dumps(document).encode()


# --- huge counts ----------------------------------------------------------------


def flood_order(i: int) -> int:
    """Item ``i``'s rank by date (0 oldest, MANY-1 newest): a permutation, so
    the newest items sit all over the document, not at its start or end."""
    return (i * 7919) % MANY


def flood_date(i: int) -> datetime:
    return BASE_DATE + timedelta(minutes=flood_order(i))


@functools.cache
def items_100000_rss() -> bytes:
    parts = [
        f"<item><title>item {i}</title><guid>urn:hostile:{i}</guid><pubDate>{rss_date(flood_date(i))}</pubDate></item>"
        for i in range(MANY)
    ]
    return rss(*parts, title="One hundred thousand items")


@functools.cache
def items_100000_json() -> bytes:
    items: list[dict[str, object]] = [
        {"id": f"urn:hostile:{i}", "title": f"item {i}", "content_text": "x", "date_published": flood_date(i).isoformat()}
        for i in range(MANY)
    ]
    return json_feed(items, title="One hundred thousand JSON items")


@functools.cache
def items_100000_same_guid() -> bytes:
    parts = [
        f"<item><title>same {i}</title><guid>urn:hostile:same</guid><pubDate>{rss_date(flood_date(i))}</pubDate></item>"
        for i in range(MANY)
    ]
    return rss(*parts, title="One guid, a hundred thousand times")


MINIMAL = 600_000  # the most items that fit under the default 20 MB cap, near enough


@functools.cache
def items_minimal() -> bytes:
    """600,000 items of one guid each: 18 MB, under the body cap."""
    return (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Six hundred thousand</title>'
        + b"".join(b"<item><guid>%d</guid></item>" % i for i in range(MINIMAL))
        + b"</channel></rss>"
    )


@functools.cache
def content_10mb() -> bytes:
    body = "<p>" + "All work and no play makes Jack a dull boy. " * (10 * MB // 45) + "</p>"
    return rss(item("Ten megabytes of content", "big-content", description=body), title="Big content")


@functools.cache
def title_10mb() -> bytes:
    return rss(item("T" * (10 * MB), "big-title"), title="Big title")


@functools.cache
def enclosures_10000() -> bytes:
    enclosures = "".join(
        f'<enclosure url="https://hostile.example/e{i}.mp3" type="audio/mpeg" length="{i}"/>' for i in range(10_000)
    )
    return rss(item("Ten thousand enclosures", "many-enclosures", extra=enclosures), title="Enclosures")


@functools.cache
def categories_100000() -> bytes:
    categories = "".join(f"<category>c{i}</category>" for i in range(100_000))
    return rss(item("A hundred thousand categories", "many-categories", extra=categories), title="Categories")


@functools.cache
def description_10mb() -> bytes:
    return rss(item("ok", "small-1"), title="Big channel description").replace(
        b"<description>d</description>", b"<description>" + b"D" * (10 * MB) + b"</description>", 1
    )


def warm() -> None:
    """Build every big body now (once), so that no request waits for one."""
    for build in (
        items_100000_rss,
        items_100000_json,
        items_100000_same_guid,
        items_minimal,
        content_10mb,
        title_10mb,
        enclosures_10000,
        categories_100000,
        description_10mb,
        gzip_bomb,
        deflate_bomb,
        brotli_bomb,
        gzip_gzip_bomb,
        quadratic_blowup,
        deep_xml,
        deep_json,
        deep_html,
        deep_html_title,
    ):
        build()


# --- bombs ------------------------------------------------------------------------

_ZEROS = bytes(MB)


@functools.cache
def _deflate_segment() -> bytes:
    """1 MB of zeros as raw deflate blocks that stand alone (a full flush
    resets the dictionary): repeated, they make a stream of any length."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    compressor.compress(_ZEROS)
    compressor.flush(zlib.Z_FULL_FLUSH)
    segment = compressor.compress(_ZEROS) + compressor.flush(zlib.Z_FULL_FLUSH)
    return segment


GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"


@functools.cache
def gzip_bomb(megabytes: int = 1024) -> bytes:
    """``megabytes`` MB of zeros, gzipped (about a thousandth of that)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    tail = compressor.flush(zlib.Z_FINISH)  # an empty final block
    # The trailer's CRC is not computed (a reader gives up long before it).
    size = (megabytes * MB) & 0xFFFFFFFF
    return GZIP_HEADER + _deflate_segment() * megabytes + tail + bytes(4) + size.to_bytes(4, "little")


def gzip_bomb_endless_prefix() -> bytes:
    return GZIP_HEADER


def gzip_bomb_endless_chunk() -> bytes:
    return _deflate_segment()


@functools.cache
def deflate_bomb(megabytes: int = 1024) -> bytes:
    """zlib-wrapped deflate (Content-Encoding: deflate)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    tail = compressor.flush(zlib.Z_FINISH)
    return b"\x78\xda" + _deflate_segment() * megabytes + tail + bytes(4)  # the checksum is not computed


@functools.cache
def brotli_bomb(megabytes: int = 512) -> bytes:
    return bytes(brotli.compress(bytes(megabytes * MB), quality=1))


@functools.cache
def gzip_gzip_bomb() -> bytes:
    """A gzip bomb, gzipped again (Content-Encoding: gzip, gzip)."""
    return gzip.compress(gzip_bomb(4096), 9)


# --- entity tricks and XML's other doors -------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>Billion laughs &lol9;</title><link>https://hostile.example/</link>
<description>&lol9;</description>
<item><title>Laugh &lol9;</title><guid>laughs-1</guid><description>&lol9;&lol9;</description></item>
</channel></rss>"""


@functools.cache
def quadratic_blowup() -> bytes:
    big = "a" * 100_000
    refs = "&a;" * 10_000
    return (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "{big}">]>'
        f'<rss version="2.0"><channel><title>Quadratic</title><link>https://hostile.example/</link>'
        f"<description>d</description><item><title>blow {refs}</title><guid>quad-1</guid>"
        f"<description>{refs}</description></item></channel></rss>"
    ).encode()


def _doctype_feed(doctype: str, title: str = "before &xxe; after", description: str = "&xxe;") -> bytes:
    return (
        f'<?xml version="1.0"?>\n{doctype}\n<rss version="2.0"><channel><title>Entities</title>'
        f"<link>https://hostile.example/</link><description>d</description>"
        f"<item><title>{title}</title><guid>xxe-1</guid><description>{description}</description></item>"
        f"</channel></rss>"
    ).encode()


XXE_INTERNAL = _doctype_feed('<!DOCTYPE rss [<!ENTITY xxe SYSTEM "http://@INTERNAL@/xxe">]>')
XXE_FILE = _doctype_feed('<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>')
XXE_PARAMETER = _doctype_feed(
    '<!DOCTYPE rss [<!ENTITY % remote SYSTEM "http://@INTERNAL@/evil.dtd"> %remote; <!ENTITY xxe "x">]>'
)
DTD_EXTERNAL = _doctype_feed('<!DOCTYPE rss SYSTEM "http://@INTERNAL@/rss.dtd">', title="external subset", description="d")
XINCLUDE = (
    b'<?xml version="1.0"?><rss version="2.0" xmlns:xi="http://www.w3.org/2001/XInclude"><channel>'
    b"<title>XInclude</title><link>https://hostile.example/</link><description>d</description>"
    b'<item><title>include <xi:include href="file:///etc/passwd" parse="text"/></title><guid>xi-1</guid>'
    b'<description><xi:include href="http://@INTERNAL@/xi" parse="text"/></description></item>'
    b"</channel></rss>"
)
XSL_PI = (
    b'<?xml version="1.0"?><?xml-stylesheet type="text/xsl" href="http://@INTERNAL@/style.xsl"?>'
    + small("Stylesheet").split(b"?>", 1)[1]
)


# --- deep nesting ---------------------------------------------------------------------


@functools.cache
def deep_xml() -> bytes:
    depth = 100_000
    return rss(
        item("Before the abyss", "deep-0"),
        "<item><title>The abyss</title><guid>deep-1</guid><description>"
        + "<div>" * depth
        + "bottom"
        + "</div>" * depth
        + "</description></item>",
        title="Deep XML",
    )


@functools.cache
def deep_json() -> bytes:
    depth = 100_000
    return (
        b'{"version":"https://jsonfeed.org/version/1.1","title":"Deep JSON","items":[{"id":"1","content_text":"x",'
        b'"_deep":' + b"[" * depth + b"]" * depth + b"}]}"
    )


HTML_DEPTH = 30_000  # 330 KB: under any cap on content, so only a bound on depth helps


@functools.cache
def deep_html() -> bytes:
    depth = HTML_DEPTH
    return rss(item("Deep HTML", "deep-html", description="<div>" * depth + "bottom" + "</div>" * depth), title="Deep HTML")


@functools.cache
def deep_html_title() -> bytes:
    depth = HTML_DEPTH
    return rss(item("<div>" * depth + "Deep title" + "</div>" * depth, "deep-title"), title="Deep HTML title")


# --- not feeds --------------------------------------------------------------------------

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>Just a page</title></head><body><h1>Welcome</h1>"
    b"<p>No feed here, and no link to one.</p></body></html>"
)
CLOUDFLARE = (
    b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
    b"<div>Checking your browser before accessing hostile.example.</div>"
    b'<script src="/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1"></script></body></html>'
)
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"><rect/></svg>'
