"""The synthetic feed corpus: deterministic, seeded, cached on disk.

Feed ``n`` depends only on (seed, n, items per feed), never on how many
feeds a run asks for, so the first 1,000 feeds of an N=5000 corpus are the
N=1000 corpus and the cache (``bench/out/corpus/…``) is shared. Each feed is
stored twice: the body as served and its gzip (level 6) for
``Content-Encoding: gzip``.

Mix: RSS 2.0 / Atom 1.0 / RSS 1.0 (RDF) / JSON Feed 1.1 at 45/30/10/15 %;
languages en/ru/fr/de; XML feeds mostly UTF-8, some windows-1251 (Russian),
ISO-8859-1 (French, German) and UTF-16 with a BOM, always declared in the
XML declaration and, where the Content-Type carries a charset, there too.
Item HTML is lognormal in size (median about 3 KB, capped at 200 KB).
"""

from __future__ import annotations

import gzip
import html
import json
import math
import multiprocessing
import os
import random
import statistics
import time
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from email.utils import format_datetime
from pathlib import Path

import _text

VERSION = 1
MEDIAN_HTML = 2800
SIGMA_HTML = 0.85
LONG_SHARE = 0.002
MAX_HTML = 200_000
MIN_HTML = 200
BASE_TIME = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)
OUT = Path(__file__).resolve().parent / "out"
FEEDS_PER_HOST = 4

FORMATS = (("rss", 45), ("atom", 30), ("rdf", 10), ("json", 15))
LANGS = (("en", 55), ("ru", 25), ("fr", 15), ("de", 5))
ENCODINGS = {  # XML feeds only; JSON Feed is UTF-8 by definition
    "en": (("utf-8", 95), ("utf-16", 5)),
    "ru": (("utf-8", 70), ("windows-1251", 20), ("utf-16", 10)),
    "fr": (("utf-8", 70), ("iso-8859-1", 22), ("utf-16", 8)),
    "de": (("utf-8", 70), ("iso-8859-1", 22), ("utf-16", 8)),
}
MEDIA_TYPES = {
    "rss": (("application/rss+xml", 70), ("text/xml", 20), ("application/xml", 10)),
    "atom": (("application/atom+xml", 90), ("application/xml", 10)),
    "rdf": (("application/rdf+xml", 60), ("text/xml", 40)),
    "json": (("application/feed+json", 100),),
}


def _pick(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([k for k, _ in table], weights=[w for _, w in table])[0]


@dataclass(frozen=True, slots=True)
class FeedMeta:
    n: int
    fmt: str
    lang: str
    encoding: str
    content_type: str
    site: str
    title: str
    updated: datetime  # newest item; the Last-Modified the server sends

    @property
    def host(self) -> int:
        return self.n // FEEDS_PER_HOST


def feed_meta(seed: int, n: int) -> FeedMeta:
    """The cheap, body-independent facts of feed ``n``."""
    rng = random.Random(f"meta:{VERSION}:{seed}:{n}")
    fmt = _pick(rng, FORMATS)
    lang = _pick(rng, LANGS)
    encoding = "utf-8" if fmt == "json" else _pick(rng, ENCODINGS[lang])
    media = _pick(rng, MEDIA_TYPES[fmt])
    if fmt != "json" and (media.startswith("text/") or rng.random() < 0.5):
        media += f"; charset={encoding}"  # text/* without charset would mean us-ascii (RFC 3023)
    site = f"https://blog{n:05d}.example.org/"
    title = f"{_text.plain_title(rng, lang)} #{n}"
    updated = (BASE_TIME - timedelta(seconds=rng.randint(0, 5 * 86400))).replace(microsecond=0)
    return FeedMeta(n, fmt, lang, encoding, media, site, title, updated)


@dataclass(slots=True)
class Item:
    key: int
    title: str
    link: str
    guid: str | None
    date: datetime
    author: str
    tags: list[str]
    summary: str
    html: str
    enclosure: tuple[str, int, str] | None


def _items(meta: FeedMeta, rng: random.Random, count: int) -> list[Item]:
    lang = meta.lang
    interval = rng.choice((2, 6, 24, 72)) * 3600.0
    podcast = rng.random() < 0.1
    guids = rng.random() < 0.85
    date = meta.updated
    out = []
    for i in range(count):
        key = count * 7 - i
        link = f"{meta.site}{date:%Y/%m}/post-{key}.html"
        size = int(rng.lognormvariate(math.log(MEDIAN_HTML), SIGMA_HTML))
        if rng.random() < LONG_SHARE:  # the long tail: a few very long posts
            size = rng.randint(50_000, MAX_HTML)
        size = min(MAX_HTML, max(MIN_HTML, size))
        enclosure = None
        if podcast:
            enclosure = (f"{meta.site}media/ep{key}.mp3", rng.randint(10**6, 10**8), "audio/mpeg")
        elif rng.random() < 0.05:
            enclosure = (f"{meta.site}media/p{key}.jpg", rng.randint(10**4, 10**6), "image/jpeg")
        out.append(
            Item(
                key=key,
                title=_text.plain_title(rng, lang),
                link=link,
                guid=(f"urn:uuid:{random.Random(f'{meta.n}:{key}').getrandbits(128):032x}" if guids else None),
                date=date,
                author=rng.choice(_text.NAMES[lang]),
                tags=rng.sample(_text.TAGS[lang], rng.randint(0, 3)),
                summary=_text.summary(rng, lang),
                html=_text.item_html(rng, lang, size, meta.site),
                enclosure=enclosure,
            )
        )
        date -= timedelta(seconds=int(rng.expovariate(1 / interval)) + 60)
    return out


def _e(text: str) -> str:
    return html.escape(text, quote=False)


def _a(text: str) -> str:
    return html.escape(text, quote=True)


def _html_text(body: str, cdata: bool) -> str:
    return f"<![CDATA[{body}]]>" if cdata else _e(body)


def _rss(meta: FeedMeta, rng: random.Random, items: list[Item]) -> str:
    encoded = rng.random() < 0.7
    cdata = rng.random() < 0.5
    gmt = rng.random() < 0.6
    out = [
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n',
        f"<title>{_e(meta.title)}</title>\n<link>{meta.site}</link>\n",
        f"<description>{_e(_text.plain_title(rng, meta.lang))}</description>\n<language>{meta.lang}</language>\n",
        f"<lastBuildDate>{format_datetime(meta.updated, usegmt=True)}</lastBuildDate>\n",
        f'<atom:link href="{meta.site}feed.xml" rel="self" type="application/rss+xml"/>\n',
        f"<generator>bench/{VERSION}</generator><ttl>60</ttl>\n",
        f"<image><url>{meta.site}logo.png</url><title>{_e(meta.title)}</title><link>{meta.site}</link></image>\n",
    ]
    for it in items:
        date = format_datetime(it.date, usegmt=True) if gmt else format_datetime(it.date.astimezone(timezone(timedelta(hours=3))))
        out.append(f"<item>\n<title>{_e(it.title)}</title>\n<link>{it.link}</link>\n")
        if it.guid:
            out.append(f'<guid isPermaLink="false">{it.guid}</guid>\n')
        out.append(f"<pubDate>{date}</pubDate>\n<dc:creator>{_e(it.author)}</dc:creator>\n")
        out.extend(f"<category>{_e(tag)}</category>\n" for tag in it.tags)
        if encoded:
            out.append(f"<description>{it.summary}</description>\n")
            out.append(f"<content:encoded>{_html_text(it.html, cdata)}</content:encoded>\n")
        else:
            out.append(f"<description>{_html_text(it.html, cdata)}</description>\n")
        if it.enclosure:
            url, length, kind = it.enclosure
            out.append(f'<enclosure url="{url}" length="{length}" type="{kind}"/>\n')
        out.append(f"<comments>{it.link}#comments</comments>\n</item>\n")
    out.append("</channel>\n</rss>\n")
    return "".join(out)


def _atom(meta: FeedMeta, rng: random.Random, items: list[Item]) -> str:
    xhtml = rng.random() < 0.2
    base = rng.random() < 0.3
    summaries = rng.random() < 0.5
    out = [
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{meta.lang}">\n',
        f"<title>{_e(meta.title)}</title>\n<subtitle>{_e(_text.plain_title(rng, meta.lang))}</subtitle>\n",
        f"<id>tag:blog{meta.n:05d}.example.org,2005:feed</id>\n<updated>{meta.updated.isoformat()}</updated>\n",
        f'<link rel="alternate" type="text/html" href="{meta.site}"/>\n',
        f'<link rel="self" type="application/atom+xml" href="{meta.site}atom.xml"/>\n',
        f"<author><name>{_e(_text.NAMES[meta.lang][0])}</name></author>\n<generator>bench</generator>\n",
    ]
    for it in items:
        entry_base = f' xml:base="{it.link}"' if base else ""
        out.append(f'<entry{entry_base}>\n<title type="text">{_e(it.title)}</title>\n')
        out.append(f"<id>{it.guid or it.link}</id>\n")
        out.append(f'<link rel="alternate" type="text/html" href="{it.link}"/>\n')
        out.append(f"<published>{it.date.isoformat()}</published>\n<updated>{it.date.isoformat()}</updated>\n")
        out.append(f"<author><name>{_e(it.author)}</name></author>\n")
        out.extend(f'<category term="{_a(tag)}"/>\n' for tag in it.tags)
        if summaries:
            out.append(f'<summary type="html">{_e(it.summary)}</summary>\n')
        if xhtml:
            out.append(f'<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">{it.html}</div></content>\n')
        else:
            out.append(f'<content type="html">{_e(it.html)}</content>\n')
        if it.enclosure:
            url, length, kind = it.enclosure
            out.append(f'<link rel="enclosure" href="{url}" length="{length}" type="{kind}"/>\n')
        out.append("</entry>\n")
    out.append("</feed>\n")
    return "".join(out)


def _rdf(meta: FeedMeta, rng: random.Random, items: list[Item]) -> str:
    cdata = rng.random() < 0.5
    out = [
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/">\n',
        f'<channel rdf:about="{meta.site}index.rdf">\n<title>{_e(meta.title)}</title>\n<link>{meta.site}</link>\n',
        f"<description>{_e(_text.plain_title(rng, meta.lang))}</description>\n",
        f"<dc:language>{meta.lang}</dc:language>\n<dc:date>{meta.updated.isoformat()}</dc:date>\n<items><rdf:Seq>\n",
    ]
    out.extend(f'<rdf:li rdf:resource="{it.link}"/>\n' for it in items)
    out.append("</rdf:Seq></items>\n</channel>\n")
    for it in items:
        out.append(f'<item rdf:about="{it.link}">\n<title>{_e(it.title)}</title>\n<link>{it.link}</link>\n')
        out.append(f"<description>{it.summary}</description>\n")
        out.append(f"<content:encoded>{_html_text(it.html, cdata)}</content:encoded>\n")
        out.append(f"<dc:date>{it.date.isoformat()}</dc:date>\n<dc:creator>{_e(it.author)}</dc:creator>\n")
        out.extend(f"<dc:subject>{_e(tag)}</dc:subject>\n" for tag in it.tags)
        out.append("</item>\n")
    out.append("</rdf:RDF>\n")
    return "".join(out)


def _json(meta: FeedMeta, rng: random.Random, items: list[Item]) -> str:
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": meta.title,
        "home_page_url": meta.site,
        "feed_url": f"{meta.site}feed.json",
        "description": _text.plain_title(rng, meta.lang),
        "language": meta.lang,
        "authors": [{"name": _text.NAMES[meta.lang][0]}],
        "items": [],
    }
    for it in items:
        entry: dict[str, object] = {
            "id": it.guid or it.link,
            "url": it.link,
            "title": it.title,
            "content_html": it.html,
            "date_published": it.date.isoformat(),
            "authors": [{"name": it.author}],
            "tags": it.tags,
        }
        if rng.random() < 0.5:
            entry["summary"] = html.unescape(it.summary)
        if it.enclosure:
            url, length, kind = it.enclosure
            entry["attachments"] = [{"url": url, "mime_type": kind, "size_in_bytes": length}]
        doc["items"].append(entry)  # type: ignore[attr-defined]
    return json.dumps(doc, ensure_ascii=rng.random() < 0.2)


WRITERS = {"rss": _rss, "atom": _atom, "rdf": _rdf, "json": _json}


def feed_body(seed: int, n: int, items: int) -> tuple[bytes, list[int]]:
    """Feed ``n``'s bytes as served, and the size of each item's HTML."""
    meta = feed_meta(seed, n)
    rng = random.Random(f"body:{VERSION}:{seed}:{n}:{items}")
    entries = _items(meta, rng, items)
    text = WRITERS[meta.fmt](meta, rng, entries)
    sizes = [len(it.html) for it in entries]
    if meta.fmt == "json":
        return text.encode("utf-8"), sizes
    declared = meta.encoding.upper()
    document = f'<?xml version="1.0" encoding="{declared}"?>\n{text}'
    # "utf-16" writes a BOM (native order); the others must not have one.
    return document.encode(meta.encoding, errors="xmlcharrefreplace"), sizes


def corpus_dir(seed: int, items: int) -> Path:
    return OUT / "corpus" / f"v{VERSION}-s{seed}-i{items}"


def _generate(job: tuple[int, int, int]) -> tuple[int, list[int]]:
    seed, n, items = job
    body, sizes = feed_body(seed, n, items)
    directory = corpus_dir(seed, items)
    for name, data in ((f"f{n:05d}.body", body), (f"f{n:05d}.body.gz", gzip.compress(body, 6, mtime=0))):
        tmp = directory / (name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, directory / name)
    return n, sizes


@dataclass(frozen=True, slots=True)
class Corpus:
    directory: Path
    seed: int
    feeds: int
    items: int
    raw_bytes: int
    gzip_bytes: int
    generated: int
    seconds: float
    html_sizes: list[int]
    by_format: dict[str, int]
    by_encoding: dict[str, int]

    def describe(self) -> str:
        sizes = sorted(self.html_sizes)
        pct = lambda p: sizes[min(len(sizes) - 1, int(p * len(sizes)))]  # noqa: E731
        return (
            f"corpus: {self.feeds} feeds, {self.feeds * self.items} items, {self.raw_bytes / 1e6:.1f} MB as served "
            f"({self.gzip_bytes / 1e6:.1f} MB gzipped); formats {self.by_format}; encodings {self.by_encoding}\n"
            f"  item HTML: median {statistics.median(sizes) / 1e3:.1f} KB, p99 {pct(0.99) / 1e3:.0f} KB, "
            f"max {sizes[-1] / 1e3:.0f} KB, {sum(s >= 50_000 for s in sizes)} items >= 50 KB; "
            f"{self.generated} feeds generated now in {self.seconds:.1f} s, the rest from {self.directory}"
        )


def ensure_corpus(feeds: int, items: int, seed: int, jobs: int = 2) -> Corpus:
    """Generate whatever feeds are missing from the cache; describe the whole set."""
    started = time.perf_counter()
    directory = corpus_dir(seed, items)
    directory.mkdir(parents=True, exist_ok=True)
    index_path = directory / "sizes.json"
    index: dict[str, list[int]] = json.loads(index_path.read_text()) if index_path.exists() else {}
    missing = [n for n in range(feeds) if str(n) not in index or not (directory / f"f{n:05d}.body.gz").exists()]
    if missing:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            for n, sizes in pool.imap_unordered(_generate, [(seed, n, items) for n in missing], chunksize=8):
                index[str(n)] = sizes
        tmp = index_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(index))
        os.replace(tmp, index_path)
    raw = sum((directory / f"f{n:05d}.body").stat().st_size for n in range(feeds))
    gz = sum((directory / f"f{n:05d}.body.gz").stat().st_size for n in range(feeds))
    metas = [feed_meta(seed, n) for n in range(feeds)]
    by_format: dict[str, int] = {}
    by_encoding: dict[str, int] = {}
    for meta in metas:
        by_format[meta.fmt] = by_format.get(meta.fmt, 0) + 1
        by_encoding[meta.encoding] = by_encoding.get(meta.encoding, 0) + 1
    return Corpus(
        directory,
        seed,
        feeds,
        items,
        raw,
        gz,
        len(missing),
        time.perf_counter() - started,
        [s for n in range(feeds) for s in index[str(n)]],
        by_format,
        by_encoding,
    )


def feed_url(port: int, n: int, *, host_names: bool) -> str:
    """lenta's URL (one host name per FEEDS_PER_HOST feeds) or reader's (127.0.0.1)."""
    host = f"h{n // FEEDS_PER_HOST:04d}.localhost" if host_names else "127.0.0.1"
    return f"http://{host}:{port}/f{n:05d}.xml"


def write_opml(path: Path, seed: int, urls: list[str]) -> None:
    """An OPML 2.0 file of ``urls`` (feed i is urls[i]), in a few folders."""
    folders: dict[str, list[str]] = {}
    for n, url in enumerate(urls):
        meta = feed_meta(seed, n)
        # "ru: ленты" rather than "Русские": lenta 0.1.0's import matches categories with SQLite's
        # ASCII-only lower(), so a capital Cyrillic first letter fails on the second feed of the folder.
        folder = {"en": "English", "ru": "ru: ленты", "fr": "Français", "de": "Deutsch"}[meta.lang]
        folders.setdefault(folder, []).append(
            f'    <outline type="rss" text="{_a(meta.title)}" title="{_a(meta.title)}" '
            f'xmlUrl="{_a(url)}" htmlUrl="{meta.site}"/>\n'
        )
    body = "".join(f'  <outline text="{_a(name)}">\n{"".join(lines)}  </outline>\n' for name, lines in sorted(folders.items()))
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">\n<head><title>bench</title></head>\n'
        f"<body>\n{body}</body>\n</opml>\n",
        encoding="utf-8",
    )
