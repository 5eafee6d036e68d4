"""Attachments (issue 10): audio and video enclosures get a player that
loads nothing until played, images are shown, other files are a link with
their name, type and size (in the page's language); every one passes the
published-URL allowlist, and the Content-Security-Policy lets the media
through."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from email.utils import format_datetime

import httpx
import pytest
from httpserver import LocalServer
from httpserver import Reply
from lxml import html as lxml_html
from pagetext import parse_page
from webserver import AppServer

from lenta.config import Settings
from lenta.core import Lenta
from lenta.parse.model import Enclosure
from lenta.web import create_app
from lenta.web.enclosures import attachment
from lenta.web.enclosures import file_name

RSS = {"Content-Type": "application/rss+xml"}
# (title, url, type, length) of each item's enclosure, newest first.
ENCLOSURES = [
    ("Podcast", "https://media.example.com/show/Episode%2012.mp3", "audio/mpeg", "12345678"),
    ("Clip", "https://media.example.com/clips/clip.webm", "video/webm", "2048"),
    ("Photo", "https://media.example.com/photos/cat.jpg", "image/jpeg", "0"),
    ("Slides", "https://files.example.com/talks/slides.pdf", "application/pdf", "1500000"),
    ("Untyped", "https://media.example.com/untyped/song.ogg", "", ""),
    ("Octets", "https://media.example.com/octets/movie.mp4", "application/octet-stream", "500"),
    ("Script", "javascript:alert(1)//x.mp3", "audio/mpeg", "1"),
    ("Mail", "mailto:editor@example.com", "audio/mpeg", ""),
    ("Junk type", "https://files.example.com/x.bin", 'text/html"><script>', "10"),
]


def enclosure_feed() -> bytes:
    newest = datetime(2025, 6, 1, tzinfo=UTC)
    items = []
    for n, (title, url, mime_type, length) in enumerate(ENCLOSURES):
        attrs = f'url="{url.replace("&", "&amp;").replace(chr(34), "&quot;")}"'
        if mime_type:
            attrs += f' type="{mime_type.replace("&", "&amp;").replace(chr(34), "&quot;").replace("<", "&lt;")}"'
        if length:
            attrs += f' length="{length}"'
        items.append(
            f"<item><title>{title}</title><link>https://example.com/{n}</link><guid>e{n}</guid>"
            f"<pubDate>{format_datetime(newest - timedelta(hours=n), usegmt=True)}</pubDate>"
            f"<description>About {title}</description><enclosure {attrs}/></item>"
        )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Media</title><link>https://example.com/</link>'
        f"<description>Files</description>{''.join(items)}</channel></rss>"
    ).encode()


@pytest.fixture
def media_site(lenta: Lenta, settings: Settings) -> Iterator[AppServer]:
    with LocalServer({"/media.xml": Reply(body=enclosure_feed(), headers=RSS)}) as feeds:
        asyncio.run(lenta.add_feed(feeds.url("/media.xml"), discover=False))
        asyncio.run(lenta.refresh(all_feeds=True))
    with AppServer(create_app(settings, lenta)) as web:
        yield web


def articles(web: AppServer, language: str) -> tuple[httpx.Response, dict[str, lxml_html.HtmlElement]]:
    response = httpx.get(web.url("/aggregator"), headers={"Accept-Language": language})
    assert response.status_code == 200
    page = parse_page(response.text)
    found = {a.cssselect(".feed-item-title")[0].text_content().strip(): a for a in page.cssselect("article.feed-item")}
    return response, found


def details(article: lxml_html.HtmlElement) -> list[str]:
    return [" ".join(e.text_content().split()) for e in article.cssselect(".enclosure-caption")]


def test_audio_and_video_get_players_that_load_nothing_until_played(media_site: AppServer) -> None:
    _, found = articles(media_site, "en")
    audio = found["Podcast"].cssselect("li.enclosure-audio audio")
    assert len(audio) == 1
    url = "https://media.example.com/show/Episode%2012.mp3"
    assert audio[0].get("src") == url and audio[0].get("preload") == "none" and audio[0].get("controls") is not None
    # A plain link inside, for browsers without the player.
    assert [(a.get("href"), a.text_content()) for a in audio[0].cssselect("a")] == [(url, "Download Episode 12.mp3")]
    video = found["Clip"].cssselect("li.enclosure-video video")
    assert len(video) == 1
    assert video[0].get("src") == "https://media.example.com/clips/clip.webm" and video[0].get("preload") == "none"
    # No type given, or a vague one: the file's extension says what it is.
    assert found["Untyped"].cssselect("li.enclosure-audio audio")[0].get("src").endswith("/song.ogg")
    assert found["Octets"].cssselect("li.enclosure-video video")[0].get("src").endswith("/movie.mp4")


def test_images_are_shown_and_other_files_are_links_with_name_type_and_size(media_site: AppServer) -> None:
    _, found = articles(media_site, "en")
    image = found["Photo"].cssselect("li.enclosure-image img")
    assert [i.get("src") for i in image] == ["https://media.example.com/photos/cat.jpg"]
    assert details(found["Photo"]) == ["cat.jpg (image/jpeg)"]  # a length of 0 says nothing
    assert found["Slides"].cssselect("li.enclosure-file audio, li.enclosure-file video, li.enclosure-file img") == []
    assert (
        found["Slides"].cssselect("li.enclosure-file a.enclosure-link")[0].get("href")
        == "https://files.example.com/talks/slides.pdf"
    )
    assert details(found["Slides"]) == ["slides.pdf (application/pdf, 1.5 MB)"]
    assert details(found["Podcast"]) == ["Episode 12.mp3 (audio/mpeg, 12.3 MB)"]
    assert details(found["Clip"]) == ["clip.webm (video/webm, 2 kB)"]
    assert details(found["Untyped"]) == ["song.ogg"]
    # No page shows the MIME type as the link's text any more.
    assert all(a.text_content() != "audio/mpeg" for article in found.values() for a in article.cssselect("a"))


def test_sizes_are_written_as_the_page_s_language_writes_them(media_site: AppServer) -> None:
    _, found = articles(media_site, "ru")
    assert details(found["Slides"]) == ["slides.pdf (application/pdf, 1,5 МБ)"]
    assert details(found["Podcast"]) == ["Episode 12.mp3 (audio/mpeg, 12,3 МБ)"]
    assert details(found["Clip"]) == ["clip.webm (video/webm, 2 кБ)"]
    link = found["Podcast"].cssselect("audio a")[0]
    assert link.text_content() == "Скачать Episode 12.mp3"


def test_every_attachment_url_passes_the_allowlist(media_site: AppServer) -> None:
    response, found = articles(media_site, "en")
    assert "javascript:" not in response.text.lower()
    assert found["Script"].cssselect("ul.feed-item-enclosures") == []
    # A mailto: enclosure is published (the allowlist lets it through) as a link only: no player, no image.
    mail = found["Mail"].cssselect("li.enclosure")
    assert [li.get("class") for li in mail] == ["enclosure enclosure-file"]
    assert mail[0].cssselect("a")[0].get("href") == "mailto:editor@example.com"
    # A type that is no MIME type is not shown; what the feed says is escaped whatever it is.
    assert details(found["Junk type"]) == ["x.bin (10 byte)"]
    assert "<script>" not in response.text


def test_the_content_security_policy_lets_remote_media_and_images_through(media_site: AppServer) -> None:
    response, _ = articles(media_site, "en")
    policy = dict(part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";"))
    for directive in ("img-src", "media-src"):
        assert {"http:", "https:"} <= set(policy[directive].split()), directive


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a/b/Song%20One.mp3?x=1", "Song One.mp3"),
        ("https://example.com/a/dir/", "dir"),
        ("https://example.com", "example.com"),
        ("https://example.com/" + "x" * 200 + ".mp3", "x" * 39 + "…" + "x" * 35 + ".mp3"),
        ("mailto:a@example.com", "mailto:a@example.com"),
    ],
)
def test_file_names(url: str, expected: str) -> None:
    assert file_name(url) == expected


def test_kinds() -> None:
    assert attachment(Enclosure("https://x.example/v", "VIDEO/MP4; codecs=avc1")) is not None
    assert attachment(Enclosure("https://x.example/v", "VIDEO/MP4; codecs=avc1")).kind == "video"  # type: ignore[union-attr]
    assert attachment(Enclosure("https://x.example/a.png", None)).kind == "image"  # type: ignore[union-attr]
    assert attachment(Enclosure("https://x.example/a.zip", "application/zip")).kind == "file"  # type: ignore[union-attr]
    assert attachment(Enclosure(" JaVa\tScRiPt:alert(1)", "audio/mpeg")) is None
    assert attachment(Enclosure("/relative.mp3", "audio/mpeg")) is None
    negative = attachment(Enclosure("https://x.example/a.mp3", "audio/mpeg", -5))
    assert negative is not None and negative.length is None
