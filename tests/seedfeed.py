"""The seed page, read back into posts, and an RSS feed built from it.

``../shared/seed/aggregator-page-10.ru.txt`` is the text of page 10 of a
Drupal 7 aggregator: "Вы здесь", the page title, then 20 posts (title
line, content lines, "Discuss"), then the pager. :func:`seed_feed` puts
those 20 posts at positions 181–200 of a 300-item RSS 2.0 feed, newest
first, with other posts around them, the way LessWrong's feed carries
them: content as HTML, ending in the feed's own "Discuss" link.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path

FEED_SIZE = 300
SEED_FIRST = 181  # 1-based position of the first seed post in the feed
NEWEST = datetime(2025, 11, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class SeedPage:
    breadcrumb: str
    title: str
    posts: tuple[Post, ...]
    pager: tuple[str, ...]  # the lines after the last post: "Страницы", "- « первая", ...


@dataclass(frozen=True)
class Post:
    title: str
    lines: tuple[str, ...]  # content lines, without the final "Discuss"
    slug: str

    @property
    def link(self) -> str:
        return f"https://www.lesswrong.com/posts/{self.slug}"

    @property
    def discuss_link(self) -> str:
        return f"{self.link}#comments"


def read_seed(path: Path) -> SeedPage:
    lines = path.read_text(encoding="utf-8").rstrip("\n").split("\n")
    breadcrumb, title = lines[0], lines[1]
    posts: list[Post] = []
    current: list[str] = []
    index = 2
    while index < len(lines):
        line = lines[index]
        if line == "Discuss":
            posts.append(Post(current[0], tuple(current[1:]), f"seed{len(posts) + 1:02d}/post-{len(posts) + 1}"))
            current = []
        else:
            current.append(line)
        index += 1
    return SeedPage(breadcrumb, title, tuple(posts), tuple(current))


def content_html(post: Post) -> str:
    """The post's lines as HTML: "- " lines become list items, others paragraphs."""
    parts: list[str] = []
    in_list = False
    for line in post.lines:
        if line.startswith("- "):
            if not in_list:
                parts.append("<ul>")
                in_list = True
            parts.append(f"<li>{html.escape(line[2:], quote=False)}</li>")
            continue
        if in_list:
            parts.append("</ul>")
            in_list = False
        parts.append(f"<p>{html.escape(line, quote=False)}</p>")
    if in_list:
        parts.append("</ul>")
    parts.append(f'<p><a href="{html.escape(post.discuss_link)}">Discuss</a></p>')
    return "".join(parts)


def other_post(position: int) -> Post:
    return Post(
        f"Other post number {position}",
        (f"This is the body of post {position}.", "It has a second paragraph & an ampersand."),
        f"other{position:03d}/post-{position}",
    )


def feed_posts(seed: SeedPage) -> list[Post]:
    """All 300 posts, newest first, the seed's 20 at positions 181–200."""
    posts = [other_post(p) for p in range(1, FEED_SIZE + 1)]
    for offset, post in enumerate(seed.posts):
        posts[SEED_FIRST - 1 + offset] = post
    return posts


def seed_feed(seed: SeedPage) -> bytes:
    """RSS 2.0 bytes of the 300-post feed (LessWrong's shape)."""
    items = []
    for position, post in enumerate(feed_posts(seed), start=1):
        date = NEWEST - timedelta(hours=position)
        items.append(
            "<item>"
            f"<title>{html.escape(post.title, quote=False)}</title>"
            f"<link>{html.escape(post.link)}</link>"
            f'<guid isPermaLink="false">{html.escape(post.slug)}</guid>'
            f"<dc:creator>Author {position}</dc:creator>"
            f"<pubDate>{format_datetime(date, usegmt=True)}</pubDate>"
            f"<description><![CDATA[{content_html(post)}]]></description>"
            "</item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        "<title>LessWrong</title><link>https://www.lesswrong.com</link>"
        "<description>A community blog devoted to refining the art of rationality</description>"
        + "".join(items)
        + "</channel></rss>"
    ).encode("utf-8")
