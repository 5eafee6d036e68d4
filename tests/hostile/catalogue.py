"""Every bad answer the hostile server gives, and what lenta must make of it.

Each :class:`Endpoint` is a name, a class (``group``), a behaviour of
:mod:`hostile.server` and an :class:`Expect`: the ``FetchErrorKind`` value
stored on the feed (or ``"ok"``, with facts about what is stored), bounds
on the feed's next check, and named :data:`Check` functions for the rest.
What "careful" means here comes from the README (Refreshing, Security) and
issue 8: a round never dies of one feed, numbers are clamped, at most
:data:`~hostile.feeds.NEWEST_KEPT` items are stored per fetch (the newest),
fields are capped, titles keep their text, credentials never show, and
nothing but the hostile server's own ``host:port`` is ever contacted.

The field caps below are this test's reading of "capped field sizes"; the
issue gives no numbers, so they are generous and named in one place.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from datetime import timedelta

from hostile import feeds as f
from hostile.server import INTERNAL_SECRET
from hostile.server import Handler
from hostile.server import HostileServer
from hostile.server import Request
from hostile.server import ServerProcess
from hostile.server import auth_required
from hostile.server import chain
from hostile.server import close_now
from hostile.server import cookie_loop
from hostile.server import drip
from hostile.server import head
from hostile.server import one_xx_forever
from hostile.server import raw
from hostile.server import redirect
from hostile.server import reply
from hostile.server import reset
from hostile.server import silent
from hostile.server import stream
from lenta.storage.records import FetchLogRecord
from lenta.types import Feed
from lenta.types import Item

# Caps on what one item or feed may store (this test's reading of the issue).
TITLE_MAX = 2_048  # characters of a title (item or feed)
CONTENT_MAX = 1_048_576  # characters of an item's content or summary, or a feed's description
ENCLOSURES_MAX = 100  # enclosures of one item
CATEGORIES_MAX = 100  # categories of one item
VALIDATOR_MAX = 1_024  # characters of a stored ETag or Last-Modified
INT64_MAX = 2**63 - 1

DAY = timedelta(days=1)
OK_NEXT_MAX = DAY * 1.05 + timedelta(minutes=2)  # the longest adaptive interval, jitter included
ERROR_NEXT_MAX = DAY + timedelta(minutes=2)  # backoff and Retry-After are capped at a day
HONORED_DAY = timedelta(hours=23)  # "wait a day or more" was heard: capped at a day, not ignored
SKIP_NEXT_MAX = OK_NEXT_MAX + timedelta(hours=23)  # then moved past 23 skipped hours
HINTED_DAY = DAY * 0.95 - timedelta(minutes=2)  # a feed or cache hint of a day or more, jitter included

USER, PASSWORD = "user", "secret"


# The time bound of an endpoint with huge counts, run alone: it catches work
# that grows faster than the input (work quadratic in 100,000 items), not
# a speed figure (bench/ measures speed), so it leaves room for a busy machine.
HUGE_SECONDS = 20.0


@dataclass(frozen=True)
class Observation:
    """What lenta stored for one endpoint's feed, and what the servers saw."""

    name: str
    feed: Feed
    items: list[Item]
    log: list[FetchLogRecord]
    requests: list[Request]  # to this endpoint
    server: HostileServer | ServerProcess
    # What lenta publishes about the feed (its source page, /aggregator/rss,
    # /aggregator/opml), fetched only for endpoints with a check that needs it.
    outputs: dict[str, str] = field(default_factory=dict)


Check = Callable[[Observation], str | None]  # a problem, or None


def needs_outputs(check: Check) -> Check:
    """Mark ``check`` as reading :attr:`Observation.outputs`."""
    check.needs_outputs = True  # type: ignore[attr-defined]
    return check


@dataclass(frozen=True)
class Expect:
    """What a careful aggregator makes of an endpoint.

    ``kind``: the stored ``error_kind`` (a FetchErrorKind value), or "ok"
    for no error; a tuple allows any of them. ``items`` / ``min_items``:
    items stored. ``title`` / ``link``: exactly those of the newest item.
    ``next_min`` / ``next_max``: the next check, from the check it follows.
    ``slow``: may take up to the fetch deadline; ``seconds`` overrides the
    time bound when the test runs the endpoint alone.
    """

    kind: str | tuple[str, ...]
    items: int | None = None
    min_items: int | None = None
    title: str | None = None
    link: str | None = None
    next_min: timedelta | None = None
    next_max: timedelta | None = None
    slow: bool = False
    seconds: float | None = None
    checks: tuple[Check, ...] = field(default=())

    @property
    def kinds(self) -> tuple[str, ...]:
        return self.kind if isinstance(self.kind, tuple) else (self.kind,)


@dataclass(frozen=True)
class Endpoint:
    name: str
    group: str
    serve: Handler
    expect: Expect
    doc: str
    userinfo: str | None = None  # "user:password" in the feed's URL

    def url(self, server: HostileServer | ServerProcess) -> str:
        return server.url(self.name, userinfo=self.userinfo)


# --- checks -------------------------------------------------------------------------------------------------


def _texts(observation: Observation) -> list[tuple[str, str]]:
    """Every stored text of the feed and its items, with where it is."""
    feed = observation.feed
    texts = [
        (f"feed.{name}", getattr(feed, name))
        for name in ("url", "title", "feed_title", "description", "site_url", "image_url", "error", "pending_url", "hub_url")
    ]
    for entry in observation.log:
        texts.append(("fetch log error", entry.error))
    for stored in observation.items:
        texts += [
            (f"item {stored.key[:40]!r}.{name}", getattr(stored, name))
            for name in ("key", "guid", "link", "title", "author", "content", "summary")
        ]
        texts += [(f"item {stored.key[:40]!r}.enclosure", enclosure.url) for enclosure in stored.enclosures]
        texts += [(f"item {stored.key[:40]!r}.category", category) for category in stored.categories]
    return [(where, text) for where, text in texts if text]


def no_text(*needles: str) -> Check:
    """None of ``needles`` (case-insensitive) in anything stored."""

    def check(observation: Observation) -> str | None:
        for where, text in _texts(observation):
            lowered = text.lower()
            for needle in needles:
                if needle.lower() in lowered:
                    return f"{needle!r} stored in {where}: {text[:120]!r}"
        return None

    check.__name__ = f"no_text{needles}"
    return check


# URL-bearing attributes and elements in HTML, RSS and OPML.
_URL_ATTRIBUTE = re.compile(
    r"""\b(?:href|src|action|formaction|poster|cite|url|xmlUrl|htmlUrl)\s*=\s*(["'])(.*?)\1""", re.IGNORECASE | re.DOTALL
)
_URL_ELEMENT = re.compile(r"<(link|url|comments|docs|guid)\b[^>]*>(.*?)</\1>", re.IGNORECASE | re.DOTALL)
_BAD_SCHEMES = ("javascript:", "vbscript:", "data:")
_BROWSER_EDGES = "".join(chr(code) for code in range(0x21))


def _as_browser_reads(value: str) -> str:
    """A URL as a browser reads it: entities decoded, C0 controls and spaces
    at the ends and tabs and newlines anywhere dropped, lower case."""
    text = html.unescape(html.unescape(value)).strip(_BROWSER_EDGES)
    return re.sub(r"[\t\n\r]", "", text).lower()


@needs_outputs
def safe_outputs(observation: Observation) -> str | None:
    """Nothing lenta publishes links to a javascript:, vbscript: or data: URL;
    no script URL is kept in stored HTML either (sanitized on the way in)."""
    if not observation.outputs:
        return "no outputs were fetched"
    for where, text in observation.outputs.items():
        values = [m.group(2) for m in _URL_ATTRIBUTE.finditer(text)]
        values += [m.group(2).replace("<![CDATA[", "").replace("]]>", "") for m in _URL_ELEMENT.finditer(text)]
        for value in values:
            if _as_browser_reads(value).startswith(_BAD_SCHEMES):
                return f"{where} links to {value[:100]!r}"
    for stored in observation.items:
        for body in (stored.content, stored.summary):
            lowered = _as_browser_reads(body or "")
            for bad in ("javascript:", "vbscript:", "data:text/html", "<script"):
                if bad in lowered:
                    return f"item {stored.key!r} keeps {bad!r} in its stored HTML: {(body or '')[:200]!r}"
    return None


def outputs_without(needle: str) -> Check:
    """``needle`` in none of the outputs (the source page, RSS, OPML)."""

    @needs_outputs
    def check(observation: Observation) -> str | None:
        for where, text in observation.outputs.items():
            if needle in text:
                at = text.index(needle)
                return f"{needle!r} shown in {where}: {text[max(0, at - 80) : at + 40]!r}"
        return None

    check.__name__ = f"outputs_without({needle})"
    return check


_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def no_controls(observation: Observation) -> str | None:
    """No control characters (a terminal's escape sequences among them) in
    stored text that ``lenta list`` or ``lenta parse`` print: errors, titles."""
    texts = [("feed.error", observation.feed.error), ("feed.feed_title", observation.feed.feed_title)]
    texts += [("fetch log error", entry.error) for entry in observation.log]
    texts += [
        (f"item {stored.key[:40]!r}.{name}", getattr(stored, name))
        for stored in observation.items
        for name in ("title", "author")
    ]
    for where, text in texts:
        if text and _CONTROLS.search(text):
            return f"control characters in {where}: {text[:120]!r}"
    return None


def capped(observation: Observation) -> str | None:
    """Field sizes within the caps."""
    feed = observation.feed
    if feed.feed_title and len(feed.feed_title) > TITLE_MAX:
        return f"feed title of {len(feed.feed_title):,} characters"
    if feed.description and len(feed.description) > CONTENT_MAX:
        return f"feed description of {len(feed.description):,} characters"
    for stored in observation.items:
        if stored.title and len(stored.title) > TITLE_MAX:
            return f"item title of {len(stored.title):,} characters"
        for name in ("content", "summary"):
            value = getattr(stored, name)
            if value and len(value) > CONTENT_MAX:
                return f"item {name} of {len(value):,} characters"
        if len(stored.enclosures) > ENCLOSURES_MAX:
            return f"{len(stored.enclosures):,} enclosures on one item"
        if len(stored.categories) > CATEGORIES_MAX:
            return f"{len(stored.categories):,} categories on one item"
    return None


def newest_kept(observation: Observation) -> str | None:
    """The items stored are the newest :data:`~hostile.feeds.NEWEST_KEPT` of the flood."""
    ranks = sorted(
        f.flood_order(int(stored.key.rsplit(":", 1)[1]))
        for stored in observation.items
        if stored.key.startswith("urn:hostile:") and stored.key.rsplit(":", 1)[1].isdigit()
    )
    if not ranks:
        return "none of the flood's items is stored"
    if ranks[0] < f.MANY - f.NEWEST_KEPT:
        return f"an item of rank {ranks[0]} (0 = oldest) is stored; only the newest {f.NEWEST_KEPT} should be"
    return None


def dates_sane(observation: Observation) -> str | None:
    """No item sorts in the future (more than the tolerance ahead of the check)."""
    checked = observation.feed.checked_at
    for stored in observation.items:
        if checked is not None and stored.date > checked + timedelta(minutes=10):
            return f"item {stored.key!r} sorts at {stored.date.isoformat()}, after its fetch"
    return None


def hints_sane(observation: Observation) -> str | None:
    """Polling hints stored as sane numbers."""
    feed = observation.feed
    for name in ("ttl_minutes", "update_frequency"):
        value = getattr(feed, name)
        if value is not None and not 0 <= value <= INT64_MAX:
            return f"feed.{name} = {value}"
    bad_hours = sorted(hour for hour in feed.skip_hours if not 0 <= hour <= 23)
    if bad_hours:
        return f"skip hours stored outside 0-23: {bad_hours[:5]}"
    return None


def lengths_sane(observation: Observation) -> str | None:
    for stored in observation.items:
        for enclosure in stored.enclosures:
            if enclosure.length is not None and not 0 <= enclosure.length <= INT64_MAX:
                return f"enclosure length {enclosure.length}"
    return None


def validators_capped(observation: Observation) -> str | None:
    for name in ("etag", "last_modified"):
        value = getattr(observation.feed, name)
        if value is not None and len(value) > VALIDATOR_MAX:
            return f"feed.{name} of {len(value):,} characters stored (sent back as a request header every fetch)"
    return None


def authenticated(observation: Observation) -> str | None:
    if not any(request.basic_auth() == (USER, PASSWORD) for request in observation.requests):
        return "the server never saw the URL's credentials"
    return None


def no_credentials_at(name: str) -> Check:
    def check(observation: Observation) -> str | None:
        sent = [r for r in observation.server.requests_for(name) if "authorization" in r.headers]
        if sent:
            return f"credentials sent on to {name}: {sent[0].headers['authorization']!r}"
        return None

    check.__name__ = f"no_credentials_at({name})"
    return check


def requests_at_most(limit: int) -> Check:
    def check(observation: Observation) -> str | None:
        if len(observation.requests) > limit:
            return f"{len(observation.requests)} requests to one endpoint in one fetch (at most {limit})"
        return None

    check.__name__ = f"requests_at_most({limit})"
    return check


# --- the catalogue ------------------------------------------------------------------------------------------


def ok(**kwargs: object) -> Expect:
    return Expect("ok", **kwargs)  # type: ignore[arg-type]


def err(kind: str | tuple[str, ...], **kwargs: object) -> Expect:
    return Expect(kind, **kwargs)  # type: ignore[arg-type]


SMALL = f.small()
HUGE_DIGITS = "99999999999999999999"
Y9999 = "Fri, 31 Dec 9999 23:59:59 GMT"
EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"
FISH = "Fish & Chips & more <3"
QUERY = "https://example.com/?a=1&b=2&c"
NOT_SECRET = no_text(PASSWORD, INTERNAL_SECRET)
NOT_SHOWN = outputs_without(PASSWORD)
RSS = f.RSS


def _status(status: int, retry_after: str, *extra: tuple[str, str]) -> Handler:
    return reply(status, [("Retry-After", retry_after), ("Content-Type", "text/plain"), *extra], b"come back later")


def _headers(*headers: tuple[str, str], body: bytes = SMALL) -> Handler:
    return reply(200, [*RSS, *headers], body)


def _links_feed(scheme_url: str, note: str) -> bytes:
    html = (
        f'<p><a href="{scheme_url}">click</a> <img src="{scheme_url}"> <iframe src="{scheme_url}"></iframe>'
        f'<form action="{scheme_url}"><button>go</button></form></p>'
    )
    enclosure = f'<enclosure url="{scheme_url}" type="audio/mpeg" length="1"/>'
    return f.rss(f.item(f"{note} links", f"{note}-1", link=scheme_url, description=html, extra=enclosure))


def _entities(title: str, *, link: str = "https://example.com/fish") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Text</title>'
        f"<link>https://hostile.example/</link><description>d</description>"
        f"<item><title>{title}</title><link>{link}</link><guid>text-1</guid>"
        f"<pubDate>{f.rss_date(f.BASE_DATE)}</pubDate></item></channel></rss>"
    ).encode()


def _numbers(channel: str = "", item_extra: str = "", namespaces: str = "", date: str | None = None) -> bytes:
    pub = f"<pubDate>{date}</pubDate>" if date is not None else ""
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"{namespaces}><channel><title>Numbers</title>'
        f"<link>https://hostile.example/</link><description>d</description>{channel}"
        f"<item><title>numbers</title><guid>numbers-1</guid>{pub}{item_extra}</item>"
        f"<item><title>plain</title><guid>numbers-2</guid><pubDate>{f.rss_date(f.BASE_DATE)}</pubDate></item>"
        f"</channel></rss>"
    ).encode()


SY = ' xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"'


def _good_feed(content_type: str | None = f.RSS_TYPE) -> Handler:
    return reply(200, [("Content-Type", content_type)] if content_type else [], SMALL)


def _gzip(data: bytes, times: int = 1) -> bytes:
    import gzip

    for _ in range(times):
        data = gzip.compress(data)
    return data


def build() -> list[Endpoint]:
    """The catalogue, in a fresh list (endpoints hold no state)."""
    E = Endpoint
    slow_body = f.small("Dripping")[:200]
    return [
        # --- absurd headers: Retry-After, on 429 and 503 ----------------------------------------------------
        E(
            "retry_after_huge_503",
            "headers",
            _status(503, HUGE_DIGITS),
            err("http_5xx", next_min=HONORED_DAY, next_max=ERROR_NEXT_MAX),
            "503, Retry-After: 10^20 seconds (crashed the round with OverflowError)",
        ),
        E(
            "retry_after_huge_429",
            "headers",
            _status(429, HUGE_DIGITS),
            err("http_4xx", next_min=HONORED_DAY, next_max=ERROR_NEXT_MAX),
            "429, Retry-After: 10^20 seconds",
        ),
        E(
            "retry_after_thousand_digits_503",
            "headers",
            _status(503, "9" * 1000),
            err("http_5xx", next_min=HONORED_DAY, next_max=ERROR_NEXT_MAX),
            "503, Retry-After of a thousand nines (a float infinity)",
        ),
        E(
            "retry_after_negative_503",
            "headers",
            _status(503, "-86400"),
            err("http_5xx", next_max=ERROR_NEXT_MAX),
            "503, Retry-After: -86400",
        ),
        E(
            "retry_after_garbage_429",
            "headers",
            _status(429, "soon, maybe 1e999 seconds"),
            err("http_4xx", next_max=ERROR_NEXT_MAX),
            "429, Retry-After that is neither seconds nor a date",
        ),
        E(
            "retry_after_year_9999_503",
            "headers",
            _status(503, Y9999),
            err("http_5xx", next_min=HONORED_DAY, next_max=ERROR_NEXT_MAX),
            "503, Retry-After: a date in 9999",
        ),
        E(
            "retry_after_year_9999_429",
            "headers",
            _status(429, Y9999),
            err("http_4xx", next_min=HONORED_DAY, next_max=ERROR_NEXT_MAX),
            "429, Retry-After: a date in 9999",
        ),
        E(
            "retry_after_date_vs_epoch_server_clock_503",
            "headers",
            _status(503, Y9999, ("Date", EPOCH)),
            err("http_5xx", next_min=HONORED_DAY, next_max=ERROR_NEXT_MAX),
            "503, Retry-After in 9999 measured against a server Date of 1970",
        ),
        # --- absurd headers: caching ------------------------------------------------------------------------
        E(
            "cache_max_age_huge",
            "headers",
            _headers(("Cache-Control", f"max-age={HUGE_DIGITS}")),
            ok(items=2, next_min=HINTED_DAY, next_max=OK_NEXT_MAX),
            "Cache-Control: max-age=10^20",
        ),
        E(
            "cache_max_age_400_digits",
            "headers",
            _headers(("Cache-Control", "max-age=" + "9" * 400)),
            ok(items=2, next_min=HINTED_DAY, next_max=OK_NEXT_MAX),
            "Cache-Control: max-age of 400 digits (past a float)",
        ),
        E(
            "cache_max_age_negative",
            "headers",
            _headers(("Cache-Control", "max-age=-86400")),
            ok(items=2, next_max=OK_NEXT_MAX),
            "Cache-Control: max-age=-86400",
        ),
        E(
            "cache_max_age_duplicated",
            "headers",
            _headers(
                ("Cache-Control", "max-age=60"),
                ("Cache-Control", "max-age=" + HUGE_DIGITS + "0000"),
                ("Cache-Control", "s-maxage=abc, max-age"),
            ),
            ok(items=2, next_max=OK_NEXT_MAX),
            "three Cache-Control headers that disagree",
        ),
        E(
            "expires_year_9999",
            "headers",
            _headers(("Expires", Y9999)),
            ok(items=2, next_min=HINTED_DAY, next_max=OK_NEXT_MAX),
            "Expires in 9999",
        ),
        E(
            "expires_epoch_date_9999",
            "headers",
            _headers(("Expires", EPOCH), ("Date", Y9999)),
            ok(items=2, next_max=OK_NEXT_MAX),
            "Expires in 1970 and a server Date in 9999",
        ),
        E(
            "expires_9999_date_epoch",
            "headers",
            _headers(("Expires", Y9999), ("Date", EPOCH)),
            ok(items=2, next_min=HINTED_DAY, next_max=OK_NEXT_MAX),
            "Expires in 9999 and a server Date in 1970",
        ),
        E(
            "expires_and_date_garbage",
            "headers",
            _headers(("Expires", "0"), ("Date", "Mon, 99 Foo 0000 99:99:99 GMT"), ("Last-Modified", "yesterday")),
            ok(items=2, next_max=OK_NEXT_MAX),
            "Expires: 0, a Date and a Last-Modified that are not dates",
        ),
        E(
            "validators_huge",
            "headers",
            _headers(("ETag", '"' + "e" * 60_000 + '"'), ("Last-Modified", "L" * 60_000)),
            ok(items=2, checks=(validators_capped,)),
            "a 60 KB ETag and a 60 KB Last-Modified",
        ),
        # --- absurd headers: Content-Length -----------------------------------------------------------------
        E(
            "content_length_huge",
            "headers",
            reply(200, [*RSS, ("Content-Length", "9000000000000000000")], SMALL),
            err("too_large"),
            "Content-Length: 9*10^18 on a small body",
        ),
        E(
            "content_length_overflow",
            "headers",
            reply(200, [*RSS, ("Content-Length", "9" * 40)], SMALL),
            err("too_large"),
            "Content-Length of 40 digits (past 64 bits)",
        ),
        E(
            "content_length_negative",
            "headers",
            reply(200, [*RSS, ("Content-Length", "-1")], SMALL),
            err("network"),
            "Content-Length: -1",
        ),
        E(
            "content_length_short",
            "headers",
            reply(200, [*RSS, ("Content-Length", "300")], SMALL),
            ok(items=1),
            "Content-Length: 300 on a longer feed: what arrives is read (the first item)",
        ),
        E(
            "content_length_long_then_close",
            "headers",
            raw(head(200, [*RSS, ("Content-Length", "100000")]) + SMALL),
            err("network"),
            "Content-Length: 100000, a short body, then the connection closes",
        ),
        E(
            "content_length_long_then_stall",
            "headers",
            raw(head(200, [*RSS, ("Content-Length", "100000")]) + SMALL, then="stall"),
            err("timeout", slow=True),
            "Content-Length: 100000, a short body, then silence",
        ),
        E(
            "content_length_conflicting",
            "headers",
            raw(head(200, [*RSS, ("Content-Length", "10"), ("Content-Length", str(len(SMALL)))]) + SMALL),
            err("network"),
            "two Content-Length headers that disagree",
        ),
        E(
            "content_length_and_chunked",
            "headers",
            raw(
                head(200, [*RSS, ("Content-Length", "10"), ("Transfer-Encoding", "chunked")])
                + b"%x\r\n%s\r\n0\r\n\r\n" % (len(SMALL), SMALL)
            ),
            ok(items=2),
            "Content-Length and Transfer-Encoding: chunked together: chunked wins (RFC 9112 6.3)",
        ),
        # --- absurd headers: size, number, bytes ------------------------------------------------------------
        E("header_line_1mb", "headers", _headers(("X-Hostile", "h" * (1024 * 1024))), err("too_large"), "a header line of 1 MB"),
        E(
            "headers_10000",
            "headers",
            _headers(*((f"X-Hostile-{i:05}", "v") for i in range(10_000))),
            err("too_large"),
            "10,000 headers (about 200 KB)",
        ),
        E(
            "headers_100000_endless",
            "headers",
            stream(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n", b"X-Hostile: again and again\r\n" * 64),
            err("too_large"),
            "a head that never ends: headers forever",
        ),
        E(
            "header_binary_garbage",
            "headers",
            raw(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nX-\x00\xff\xfe: \x00\x01\x02\r\n"
                b"no colon at all \x00\r\n: empty name\r\n\r\n" + SMALL
            ),
            err("network"),
            "header lines with NUL bytes, no colon, an empty name",
        ),
        E(
            "cookie_flood_redirects",
            "headers",
            cookie_loop(),
            err("redirects", checks=(requests_at_most(12),)),
            "a new cookie and a redirect to itself, forever",
        ),
        # --- absurd headers: content types and codings ------------------------------------------------------
        E("content_type_png_on_feed", "headers", _good_feed("image/png"), ok(items=2), "a good feed labelled image/png"),
        E("content_type_missing", "headers", _good_feed(None), ok(items=2), "a good feed with no Content-Type"),
        E("content_type_html_on_feed", "headers", _good_feed("text/html"), ok(items=2), "a good feed labelled text/html"),
        E(
            "content_type_garbage",
            "headers",
            _good_feed(';;;=;; charset="\x01\x02"; boundary'),
            ok(items=2),
            "a Content-Type of semicolons and control characters",
        ),
        E(
            "charset_unknown",
            "headers",
            reply(
                200,
                [("Content-Type", "application/rss+xml; charset=x-no-such-charset-9000")],
                f.rss(f.item("Ёлка и café", "cs-1")),
            ),
            ok(items=1, title="Ёлка и café"),
            "a charset nobody has heard of, on UTF-8",
        ),
        E(
            "gzip_claimed_not_gzip",
            "headers",
            _headers(("Content-Encoding", "gzip")),
            err("network"),
            "Content-Encoding: gzip on a plain body",
        ),
        E(
            "gzip_twice",
            "headers",
            reply(200, [*RSS, ("Content-Encoding", "gzip, gzip")], _gzip(SMALL, 2)),
            ok(items=2),
            "Content-Encoding: gzip, gzip, honestly twice gzipped",
        ),
        E(
            "gzip_thrice",
            "headers",
            reply(200, [*RSS, ("Content-Encoding", "gzip, gzip, gzip")], _gzip(SMALL, 3)),
            err("network"),
            "three codings stacked",
        ),
        E(
            "coding_unknown",
            "headers",
            _headers(("Content-Encoding", "x-hostile-coding")),
            ok(items=2),
            "an unknown Content-Encoding on a plain body",
        ),
        E(
            "brotli_claimed_not_brotli",
            "headers",
            _headers(("Content-Encoding", "br")),
            err("network"),
            "Content-Encoding: br on a plain body",
        ),
        # --- absurd statuses --------------------------------------------------------------------------------
        E("status_999", "status", reply(999, RSS, SMALL), err("network"), "HTTP/1.1 999 with a feed"),
        E(
            "status_line_garbage",
            "status",
            raw(b"HTTP/1.1 2x0 Fine\r\nContent-Type: application/rss+xml\r\n\r\n" + SMALL),
            err("network"),
            "a status line whose code is not a number",
        ),
        E(
            "status_1xx_forever",
            "status",
            one_xx_forever(),
            err("network"),
            "100 Continue, again and again, never a final answer",
        ),
        E(
            "status_1xx_then_feed",
            "status",
            raw(head(102, reason="Processing") * 3 + head(200, [*RSS, ("Content-Length", str(len(SMALL)))]) + SMALL),
            ok(items=2),
            "three 102 Processing, then the feed",
        ),
        E("status_204", "status", reply(204, RSS, b""), err("not_a_feed"), "204 No Content"),
        E("status_304_unasked", "status", reply(304, RSS, b""), ok(items=0), "304 Not Modified to a request with no validators"),
        E("status_302_no_location", "status", reply(302, RSS, SMALL), err("network"), "302 without a Location"),
        E("status_410", "status", reply(410, [("Content-Type", "text/plain")], b"gone"), err("gone"), "410 Gone"),
        E(
            "status_500_endless_body",
            "status",
            stream(head(500, [("Content-Type", "text/html")]), b"<p>oops</p>" * 1000),
            err("http_5xx"),
            "500 with an error page that never ends",
        ),
        E("http_0_9", "status", raw(SMALL), err("network"), "no status line, no headers: just the feed (HTTP/0.9)"),
        # --- bombs ------------------------------------------------------------------------------------------
        E(
            "gzip_bomb",
            "bombs",
            reply(200, [*RSS, ("Content-Encoding", "gzip")], f.gzip_bomb),
            err("too_large"),
            "1 GB of zeros in 1 MB of gzip",
        ),
        E(
            "gzip_bomb_endless",
            "bombs",
            stream(head(200, [*RSS, ("Content-Encoding", "gzip")]) + f.GZIP_HEADER, f.gzip_bomb_endless_chunk),
            err("too_large"),
            "a gzip stream of zeros that never ends",
        ),
        E(
            "gzip_bomb_html",
            "bombs",
            reply(200, [*f.HTML, ("Content-Encoding", "gzip")], f.gzip_bomb),
            err("too_large"),
            "a gzip bomb labelled text/html (decoded while fetching)",
        ),
        E(
            "gzip_bomb_nested",
            "bombs",
            reply(200, [*RSS, ("Content-Encoding", "gzip, gzip")], f.gzip_gzip_bomb),
            err("too_large"),
            "4 GB of zeros gzipped twice",
        ),
        E(
            "brotli_bomb",
            "bombs",
            reply(200, [*RSS, ("Content-Encoding", "br")], f.brotli_bomb),
            err("too_large"),
            "512 MB of zeros in brotli",
        ),
        E(
            "deflate_bomb",
            "bombs",
            reply(200, [*RSS, ("Content-Encoding", "deflate")], f.deflate_bomb),
            err("too_large"),
            "1 GB of zeros in deflate",
        ),
        E(
            "gzip_bomb_error_page",
            "bombs",
            reply(503, [*f.HTML, ("Content-Encoding", "gzip")], f.gzip_bomb),
            err("http_5xx"),
            "a 503 whose error page is a gzip bomb",
        ),
        E(
            "billion_laughs",
            "bombs",
            reply(200, RSS, f.BILLION_LAUGHS),
            ok(items=1, checks=(no_text("lollol"), capped)),
            "the billion laughs",
        ),
        E(
            "quadratic_blowup",
            "bombs",
            reply(200, RSS, f.quadratic_blowup),
            ok(items=1, checks=(no_text("a" * 1000), capped)),
            "a 100 KB entity referenced 10,000 times",
        ),
        # --- entity tricks and XML's other doors ------------------------------------------------------------
        E(
            "xxe_internal_service",
            "entities",
            reply(200, RSS, f.XXE_INTERNAL),
            ok(items=1, checks=(NOT_SECRET,)),
            "an external entity on the internal service",
        ),
        E(
            "xxe_file_passwd",
            "entities",
            reply(200, RSS, f.XXE_FILE),
            ok(items=1, checks=(no_text("root:"),)),
            "an external entity on file:///etc/passwd",
        ),
        E(
            "xxe_parameter_entity",
            "entities",
            reply(200, RSS, f.XXE_PARAMETER),
            ok(items=1, checks=(NOT_SECRET,)),
            "a parameter entity loading a DTD from the internal service",
        ),
        E(
            "dtd_external_subset",
            "entities",
            reply(200, RSS, f.DTD_EXTERNAL),
            ok(items=1),
            "a DOCTYPE whose external subset is on the internal service",
        ),
        E(
            "xinclude",
            "entities",
            reply(200, RSS, f.XINCLUDE),
            ok(items=1, checks=(no_text("root:"), NOT_SECRET)),
            "XInclude of /etc/passwd and of the internal service",
        ),
        E(
            "xml_stylesheet_internal",
            "entities",
            reply(200, RSS, f.XSL_PI),
            ok(items=2),
            "an xml-stylesheet processing instruction on the internal service",
        ),
        # --- endless and dripping bodies --------------------------------------------------------------------
        E(
            "drip_body_byte_per_second",
            "slow",
            drip(head(200, RSS), slow_body),
            err("timeout", slow=True),
            "the head at once, then a byte of feed a second, forever",
        ),
        E(
            "drip_head_byte_per_second",
            "slow",
            drip(b"", head(200, RSS)),
            err("timeout", slow=True),
            "the status line and headers a byte a second",
        ),
        E(
            "endless_feed",
            "slow",
            stream(head(200, RSS) + f.rss().split(b"</channel>")[0], f.item("again", "again").encode() * 100),
            err("too_large"),
            "a valid-looking feed that never ends (no Content-Length, no end)",
        ),
        E(
            "endless_feed_chunked",
            "slow",
            stream(head(200, [*RSS, ("Transfer-Encoding", "chunked")]), f.item("again", "again").encode() * 100, chunked=True),
            err("too_large"),
            "a chunked feed that never ends",
        ),
        E(
            "stall_mid_body",
            "slow",
            raw(head(200, [*RSS, ("Content-Length", str(len(SMALL)))]) + SMALL[:150], then="stall"),
            err("timeout", slow=True),
            "half a feed, then silence",
        ),
        E("stall_before_answer", "slow", silent(), err("timeout", slow=True), "the request is read, never answered"),
        E(
            "stall_mid_head",
            "slow",
            raw(b"HTTP/1.1 200 OK\r\nContent-Type: appl", then="stall"),
            err("timeout", slow=True),
            "half a head, then silence",
        ),
        # --- broken connections -----------------------------------------------------------------------------
        E("close_without_answer", "connection", close_now(), err("network"), "the connection closes, no answer"),
        E("reset_without_answer", "connection", reset(), err("refused"), "the connection is reset (RST), no answer"),
        E(
            "close_mid_chunk",
            "connection",
            raw(head(200, [*RSS, ("Transfer-Encoding", "chunked")]) + b"%x\r\n" % len(SMALL) + SMALL[:100]),
            err("network"),
            "a chunk announced whole, cut in the middle, the connection closed",
        ),
        E(
            "chunk_size_absurd",
            "connection",
            raw(head(200, [*RSS, ("Transfer-Encoding", "chunked")]) + b"ffffffffffffffffffffffff\r\n" + SMALL),
            err("network"),
            "a chunk size of 24 hex digits",
        ),
        E("garbage_instead_of_http", "connection", raw(bytes(range(256)) * 64), err("network"), "random bytes instead of HTTP"),
        # --- redirects: loops and chains --------------------------------------------------------------------
        E("redirect_self_loop", "redirects", redirect("@ME@"), err("redirects", checks=(requests_at_most(2),)), "302 to itself"),
        E("redirect_ping_pong", "redirects", chain(1, None), err("redirects", checks=(requests_at_most(3),)), "A → B → A"),
        E(
            "redirect_chain_50",
            "redirects",
            chain(50, reply(200, RSS, SMALL)),
            err("redirects", checks=(requests_at_most(12),)),
            "50 hops before the feed",
        ),
        E(
            "redirect_chain_3",
            "redirects",
            chain(3, reply(200, RSS, SMALL), status=307),
            ok(items=2),
            "3 temporary hops, then the feed (a good one)",
        ),
        E(
            "redirect_empty_location",
            "redirects",
            reply(302, [("Location", "")], b""),
            err("redirects"),
            "302 with an empty Location (a redirect to itself)",
        ),
        # --- redirects: to the internal service -------------------------------------------------------------
        E(
            "redirect_internal_other_ip",
            "redirects",
            redirect("http://@INTERNAL@/admin"),
            err("not_allowed"),
            "to the internal service on another loopback address",
        ),
        E(
            "redirect_internal_same_ip_other_port",
            "redirects",
            redirect("http://127.0.0.1:@INTERNAL_PORT@/admin"),
            err("not_allowed"),
            "to the internal service on 127.0.0.1, another port",
        ),
        E(
            "redirect_internal_localhost",
            "redirects",
            redirect("http://localhost:@INTERNAL_PORT@/admin"),
            err("not_allowed"),
            "to the internal service by the name localhost",
        ),
        E(
            "redirect_internal_decimal_ip",
            "redirects",
            redirect("http://2130706433:@INTERNAL_PORT@/admin"),
            err("not_allowed"),
            "to the internal service as http://2130706433/",
        ),
        E(
            "redirect_internal_hex_ip",
            "redirects",
            redirect("http://0x7f000001:@INTERNAL_PORT@/admin"),
            err("not_allowed"),
            "to the internal service as http://0x7f000001/",
        ),
        E(
            "redirect_internal_short_ip",
            "redirects",
            redirect("http://127.1:@INTERNAL_PORT@/admin"),
            err("not_allowed"),
            "to the internal service as http://127.1/",
        ),
        E(
            "redirect_internal_ipv6_mapped",
            "redirects",
            redirect("http://[::ffff:127.0.0.1]:@INTERNAL_PORT@/admin"),
            err("not_allowed"),
            "to the internal service as IPv4-mapped IPv6",
        ),
        E(
            "redirect_internal_zero_ip",
            "redirects",
            redirect("http://0.0.0.0:@INTERNAL_PORT@/admin"),
            err("not_allowed"),
            "to the internal service as 0.0.0.0",
        ),
        E(
            "redirect_internal_userinfo_trick",
            "redirects",
            redirect("http://@SELF@@@INTERNAL@/admin"),
            err("not_allowed"),
            "to http://<hostile>@<internal>/: the host is the internal one",
        ),
        E(
            "redirect_cloud_metadata",
            "redirects",
            redirect("http://169.254.169.254/latest/meta-data/"),
            err("not_allowed"),
            "to the cloud metadata address",
        ),
        E("redirect_file", "redirects", redirect("file:///etc/passwd"), err("not_allowed"), "to file:///etc/passwd"),
        E(
            "redirect_gopher",
            "redirects",
            redirect("gopher://@INTERNAL@/_GET%20/admin"),
            err("not_allowed"),
            "to gopher:// on the internal service",
        ),
        E("redirect_ftp", "redirects", redirect("ftp://@INTERNAL@/pub"), err("not_allowed"), "to ftp://"),
        E(
            "redirect_relative_garbage",
            "redirects",
            redirect("/feed with spaces/\x01\x7f/%%%"),
            err("network"),
            "a relative Location with spaces, control characters and bad escapes",
        ),
        E(
            "redirect_terminal_escapes",
            "redirects",
            redirect("/\x1b]0;owned\x07\x1b[2J\x1b[31mred"),
            err("network", checks=(no_controls,)),
            "a Location of terminal escape sequences (shown by `lenta list`)",
        ),
        E(
            "redirect_unclosed_ipv6",
            "redirects",
            redirect("http://[::1/feed"),
            err("network"),
            "a Location with an unclosed IPv6 literal",
        ),
        # --- wrong types ------------------------------------------------------------------------------------
        E("html_page", "types", reply(200, f.HTML, f.HTML_PAGE), err("not_a_feed"), "an HTML page with no feed"),
        E("png_image", "types", reply(200, [("Content-Type", "image/png")], f.PNG), err("not_a_feed"), "a PNG"),
        E(
            "json_not_feed",
            "types",
            reply(200, [("Content-Type", "application/json")], b'{"hello": ["world", 1]}'),
            err("not_a_feed"),
            "JSON that is not a feed",
        ),
        E("empty_200", "types", reply(200, RSS, b""), err("not_a_feed"), "200 with an empty body"),
        E("xml_not_feed", "types", reply(200, [("Content-Type", "application/xml")], f.SVG), err("not_a_feed"), "an SVG image"),
        E(
            "bot_wall_503",
            "types",
            reply(503, [*f.HTML, ("cf-mitigated", "challenge")], f.CLOUDFLARE),
            err("bot_wall", next_max=ERROR_NEXT_MAX),
            "a Cloudflare challenge on a 503",
        ),
        E("bot_wall_200", "types", reply(200, f.HTML, f.CLOUDFLARE), err("bot_wall"), "a challenge page on a 200"),
        # --- huge counts ------------------------------------------------------------------------------------
        E(
            "items_100000",
            "counts",
            reply(200, RSS, f.items_100000_rss),
            ok(items=f.NEWEST_KEPT, checks=(newest_kept,), seconds=HUGE_SECONDS),
            "100,000 items (11 MB)",
        ),
        E(
            "items_100000_json",
            "counts",
            reply(200, f.JSON, f.items_100000_json),
            ok(items=f.NEWEST_KEPT, checks=(newest_kept,), seconds=HUGE_SECONDS),
            "100,000 JSON Feed items",
        ),
        E(
            "items_100000_same_guid",
            "counts",
            reply(200, RSS, f.items_100000_same_guid),
            ok(items=1, seconds=HUGE_SECONDS),
            "100,000 items with one guid",
        ),
        E(
            "items_600000_minimal",
            "counts",
            reply(200, RSS, f.items_minimal),
            ok(items=f.NEWEST_KEPT, seconds=HUGE_SECONDS),
            "600,000 one-guid items in 18 MB (under the body cap): the most items a body can hold",
        ),
        E(
            "item_content_10mb",
            "counts",
            reply(200, RSS, f.content_10mb),
            ok(items=1, checks=(capped,), seconds=HUGE_SECONDS),
            "an item with 10 MB of content",
        ),
        E(
            "item_title_10mb",
            "counts",
            reply(200, RSS, f.title_10mb),
            ok(items=1, checks=(capped,), seconds=HUGE_SECONDS),
            "an item with a 10 MB title",
        ),
        E(
            "item_enclosures_10000",
            "counts",
            reply(200, RSS, f.enclosures_10000),
            ok(items=1, checks=(capped,)),
            "an item with 10,000 enclosures",
        ),
        E(
            "item_categories_100000",
            "counts",
            reply(200, RSS, f.categories_100000),
            ok(items=1, checks=(capped,)),
            "an item with 100,000 categories",
        ),
        E(
            "channel_description_10mb",
            "counts",
            reply(200, RSS, f.description_10mb),
            ok(items=1, checks=(capped,), seconds=HUGE_SECONDS),
            "a channel description of 10 MB",
        ),
        # --- deep nesting -----------------------------------------------------------------------------------
        E(
            "nesting_xml_100000",
            "nesting",
            reply(200, RSS, f.deep_xml),
            ok(min_items=1),
            "an item with 100,000 nested elements, after a good item",
        ),
        E(
            "nesting_json_100000",
            "nesting",
            reply(200, f.JSON, f.deep_json),
            err("parse"),
            "JSON Feed with an array nested 100,000 deep",
        ),
        E(
            "nesting_html_content",
            "nesting",
            reply(200, RSS, f.deep_html),
            ok(items=1, checks=(capped,)),
            f"escaped HTML nested {f.HTML_DEPTH:,} deep in a description (330 KB)",
        ),
        E(
            "nesting_html_title",
            "nesting",
            reply(200, RSS, f.deep_html_title),
            ok(items=1, title="Deep title"),
            f"escaped HTML nested {f.HTML_DEPTH:,} deep in a title (330 KB)",
        ),
        # --- text fidelity ----------------------------------------------------------------------------------
        E(
            "text_title_escaped",
            "text",
            reply(200, RSS, _entities("Fish &amp; Chips &amp; more &lt;3")),
            ok(items=1, title=FISH),
            "Fish &amp; Chips &amp; more &lt;3",
        ),
        E(
            "text_title_bare_ampersands",
            "text",
            reply(200, RSS, _entities("Fish & Chips & more &lt;3")),
            ok(items=1, title=FISH),
            "bare & in a title (not well-formed XML)",
        ),
        E(
            "text_title_unknown_entity",
            "text",
            reply(200, RSS, _entities("Fish &chips; &amp; more")),
            ok(items=1, title="Fish &chips; & more"),
            "an entity nobody defined, in a title",
        ),
        E(
            "text_title_html_entities",
            "text",
            reply(200, RSS, _entities("Caf&eacute; &copy; 2025 &mdash; &hellip;")),
            ok(items=1, title="Café © 2025 — …"),
            "HTML named entities in a title",
        ),
        E(
            "text_title_cdata",
            "text",
            reply(200, RSS, _entities("<![CDATA[Fish & Chips & more <3]]>")),
            ok(items=1, title=FISH),
            "a CDATA title",
        ),
        E(
            "text_link_bare_ampersands",
            "text",
            reply(200, RSS, _entities("link", link=QUERY)),
            ok(items=1, link=QUERY),
            "a link with bare & in its query",
        ),
        E(
            "text_link_escaped_ampersands",
            "text",
            reply(200, RSS, _entities("link", link=QUERY.replace("&", "&amp;"))),
            ok(items=1, link=QUERY),
            "a link with &amp; in its query",
        ),
        E(
            "text_json_escape_codes",
            "text",
            reply(
                200,
                f.JSON,
                f.json_feed(
                    [
                        {
                            "id": "esc",
                            "title": "\x1b[2J\x1b]0;owned\x07Clear \x9b31m screen",
                            "content_text": "x",
                            "authors": [{"name": "\x1b[31mred\x1b[0m"}],
                        }
                    ],
                    title="\x1b[5mblink",
                ),
            ),
            ok(items=1, checks=(no_controls,)),
            "terminal escape sequences in JSON titles and authors",
        ),
        E(
            "text_json_title",
            "text",
            reply(200, f.JSON, f.json_feed([{"id": "j1", "title": FISH, "url": QUERY, "content_text": "x"}])),
            ok(items=1, title=FISH, link=QUERY),
            "a JSON Feed with the same title and link",
        ),
        # --- numbers in the document ------------------------------------------------------------------------
        E(
            "ttl_huge",
            "numbers",
            reply(200, RSS, _numbers(f"<ttl>{HUGE_DIGITS}</ttl>")),
            ok(items=2, next_min=HINTED_DAY, next_max=OK_NEXT_MAX, checks=(hints_sane,)),
            "<ttl>10^20</ttl>",
        ),
        E(
            "ttl_negative",
            "numbers",
            reply(200, RSS, _numbers("<ttl>-60</ttl>")),
            ok(items=2, next_max=OK_NEXT_MAX),
            "<ttl>-60</ttl>",
        ),
        E(
            "sy_frequency_zero",
            "numbers",
            reply(
                200,
                RSS,
                _numbers("<sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>0</sy:updateFrequency>", namespaces=SY),
            ),
            ok(items=2, next_max=OK_NEXT_MAX),
            "sy:updateFrequency 0",
        ),
        E(
            "sy_frequency_huge",
            "numbers",
            reply(
                200,
                RSS,
                _numbers(
                    f"<sy:updatePeriod>yearly</sy:updatePeriod><sy:updateFrequency>{HUGE_DIGITS}</sy:updateFrequency>",
                    namespaces=SY,
                ),
            ),
            ok(items=2, next_max=OK_NEXT_MAX, checks=(hints_sane,)),
            "sy:updateFrequency 10^20",
        ),
        E(
            "sy_frequency_negative",
            "numbers",
            reply(
                200,
                RSS,
                _numbers(
                    "<sy:updatePeriod>fortnightly</sy:updatePeriod><sy:updateFrequency>-3</sy:updateFrequency>", namespaces=SY
                ),
            ),
            ok(items=2, next_max=OK_NEXT_MAX),
            "sy:updateFrequency -3 and an unknown period",
        ),
        E(
            "skip_hours_10000",
            "numbers",
            reply(200, RSS, _numbers("<skipHours>" + "".join(f"<hour>{i % 23}</hour>" for i in range(10_000)) + "</skipHours>")),
            ok(items=2, next_max=SKIP_NEXT_MAX, checks=(hints_sane,)),
            "skipHours with 10,000 entries (23 hours)",
        ),
        E(
            "skip_hours_absurd",
            "numbers",
            reply(
                200,
                RSS,
                _numbers(
                    "<skipHours><hour>99</hour><hour>-1</hour><hour>1e400</hour>"
                    f"<hour>{HUGE_DIGITS}</hour><hour>24</hour></skipHours>"
                    "<skipDays>" + "<day>Someday</day>" * 10_000 + "</skipDays>"
                ),
            ),
            ok(items=2, next_max=OK_NEXT_MAX, checks=(hints_sane,)),
            "skipHours 99, -1, 1e400, 10^20; 10,000 odd skipDays",
        ),
        E(
            "enclosure_length_absurd",
            "numbers",
            reply(
                200,
                RSS,
                _numbers(
                    item_extra=(
                        '<enclosure url="https://hostile.example/a.mp3" type="audio/mpeg" length="1e400"/>'
                        f'<enclosure url="https://hostile.example/b.mp3" type="audio/mpeg" length="{HUGE_DIGITS}000"/>'
                        '<enclosure url="https://hostile.example/c.mp3" type="audio/mpeg" length="-5"/>'
                    )
                ),
            ),
            ok(items=2, checks=(lengths_sane,)),
            "enclosure lengths 1e400, 10^23, -5",
        ),
        E(
            "pubdate_year_99999",
            "numbers",
            reply(200, RSS, _numbers(date="Mon, 01 Jan 99999 00:00:00 GMT")),
            ok(items=2, checks=(dates_sane,)),
            "pubDate in the year 99999",
        ),
        E(
            "pubdate_year_1",
            "numbers",
            reply(200, RSS, _numbers(date="Mon, 01 Jan 0001 00:00:00 GMT")),
            ok(items=2, checks=(dates_sane,)),
            "pubDate in the year 1",
        ),
        E(
            "atom_updated_overflow",
            "numbers",
            reply(
                200,
                f.ATOM,
                f.atom(
                    f.entry("end of time", "urn:a:1", updated="9999-12-31T23:59:59-23:59"),
                    f.entry("start of time", "urn:a:2", updated="0001-01-01T00:00:00+23:59"),
                ),
            ),
            ok(items=2, checks=(dates_sane,)),
            "Atom dates that overflow once moved to UTC",
        ),
        E(
            "json_numbers_absurd",
            "numbers",
            reply(
                200,
                f.JSON,
                f.json_feed(
                    [
                        {
                            "id": "n1",
                            "title": "numbers",
                            "content_text": "x",
                            "date_published": "99999-01-01T00:00:00Z",
                            "attachments": [
                                {
                                    "url": "https://hostile.example/a.mp3",
                                    "mime_type": "audio/mpeg",
                                    "size_in_bytes": 10**30,
                                    "duration_in_seconds": -1,
                                }
                            ],
                        },
                        {"id": "n2", "title": "more", "content_text": "x", "date_published": "0000-00-00T00:00:00Z"},
                    ]
                ).replace(b"1000000000000000000000000000000", b"1e400"),
            ),
            ok(items=2, checks=(dates_sane, lengths_sane)),
            "JSON Feed: size 1e400 (infinity), year 99999, year 0",
        ),
        # --- credentials ------------------------------------------------------------------------------------
        E(
            "credentials_in_url",
            "credentials",
            auth_required(USER, PASSWORD, reply(200, RSS, SMALL)),
            ok(items=2, checks=(authenticated, NOT_SECRET, NOT_SHOWN)),
            "user:secret@ in the feed URL, checked by the server",
            userinfo=f"{USER}:{PASSWORD}",
        ),
        E(
            "credentials_rejected",
            "credentials",
            auth_required(USER, "other", reply(200, RSS, SMALL)),
            err("http_4xx", checks=(NOT_SECRET, NOT_SHOWN)),
            "user:secret@ in the feed URL, refused with 401",
            userinfo=f"{USER}:{PASSWORD}",
        ),
        E(
            "credentials_redirect_elsewhere",
            "credentials",
            auth_required(USER, PASSWORD, redirect("http://localhost:@SELF_PORT@/e/credentials_probe")),
            ok(items=2, checks=(NOT_SECRET, NOT_SHOWN, no_credentials_at("credentials_probe"))),
            "user:secret@ in the URL, redirected to another host name",
            userinfo=f"{USER}:{PASSWORD}",
        ),
        E(
            "credentials_probe",
            "credentials",
            reply(200, RSS, SMALL),
            ok(items=2),
            "what the redirect above leads to (records whether credentials came along)",
        ),
        E(
            "redirect_ftp_with_credentials",
            "credentials",
            redirect(f"ftp://{USER}:{PASSWORD}@@INTERNAL@/pub"),
            err("not_allowed", checks=(NOT_SECRET,)),
            "to ftp://user:secret@…: the error must not show the password",
        ),
        E(
            "redirect_invalid_with_credentials",
            "credentials",
            redirect(f"http://{USER}:{PASSWORD}@[::1/feed"),
            err("network", checks=(NOT_SECRET,)),
            "to an invalid URL holding user:secret",
        ),
        # --- hostile URLs in the feed -----------------------------------------------------------------------
        E(
            "links_javascript",
            "urls",
            reply(200, RSS, _links_feed("javascript:alert(document.domain)", "javascript")),
            ok(items=1, checks=(safe_outputs,)),
            "javascript: links, images, forms and enclosures",
        ),
        E(
            "links_data",
            "urls",
            reply(200, RSS, _links_feed("data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "data")),
            ok(items=1, checks=(safe_outputs,)),
            "data: links and enclosures",
        ),
        E(
            "links_vbscript",
            "urls",
            reply(200, RSS, _links_feed("vbscript:msgbox(1)", "vbscript")),
            ok(items=1, checks=(safe_outputs,)),
            "vbscript: links and enclosures",
        ),
        E(
            "links_obfuscated_javascript",
            "urls",
            reply(200, RSS, _links_feed(" JaVa&#x09;ScRiPt:alert(1)", "obfuscated")),
            ok(items=1, checks=(safe_outputs,)),
            "javascript: in mixed case, with a tab and a leading space",
        ),
        E(
            "links_to_internal_service",
            "urls",
            reply(200, RSS, _links_feed("http://@INTERNAL@/pixel.png", "internal")),
            ok(items=1, checks=(NOT_SECRET,)),
            "links, images and enclosures on the internal service (never fetched)",
        ),
        E(
            "feed_links_javascript",
            "urls",
            reply(
                200,
                RSS,
                f.rss(
                    f.item("x", "x-1"),
                    channel=(
                        "<image><url>javascript:alert(1)</url><title>i</title><link>javascript:alert(2)</link></image>"
                        '<atom:link xmlns:atom="http://www.w3.org/2005/Atom" rel="hub" href="http://@INTERNAL@/hub"/>'
                    ),
                ).replace(b"<link>https://hostile.example/</link>", b"<link>javascript:alert(3)</link>", 1),
            ),
            ok(items=1, checks=(safe_outputs,)),
            "the channel's link and image are javascript:, its hub is internal",
        ),
        E(
            "xml_base_javascript",
            "urls",
            reply(
                200,
                f.ATOM,
                f.atom(
                    f.entry(
                        "based", "urn:b:1", extra='<link href="x"/><content type="html">&lt;a href="y"&gt;y&lt;/a&gt;</content>'
                    ),
                    feed_attrs=' xml:base="javascript:alert(1)//"',
                ),
            ),
            ok(items=1, checks=(safe_outputs,)),
            "xml:base javascript:, relative links under it",
        ),
    ]


CATALOGUE: list[Endpoint] = build()
BY_NAME = {endpoint.name: endpoint for endpoint in CATALOGUE}
GROUPS = sorted({endpoint.group for endpoint in CATALOGUE})

if len(BY_NAME) != len(CATALOGUE):  # pragma: no cover - a typo in the catalogue
    raise RuntimeError("two endpoints share a name")
