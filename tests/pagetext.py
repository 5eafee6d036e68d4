"""Reading a rendered page back as lines of text, the way the seed page
was captured: one line per block, list items as "- text"."""

from __future__ import annotations

from lxml import html as lxml_html

BLOCKS = {
    "p",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "blockquote",
    "pre",
    "table",
    "tr",
    "article",
    "section",
    "nav",
    "figure",
    "figcaption",
    "header",
    "footer",
    "main",
    "dl",
    "dt",
    "dd",
}


def block_lines(element: lxml_html.HtmlElement) -> list[str]:
    """Text lines of ``element``: a new line at every block boundary."""
    lines: list[str] = []
    buffer: list[str] = []

    def flush() -> None:
        text = " ".join("".join(buffer).split())
        if text:
            lines.append(text)
        buffer.clear()

    def walk(node: lxml_html.HtmlElement) -> None:
        is_block = node.tag in BLOCKS
        if is_block:
            flush()
            if node.tag == "li":
                buffer.append("- ")
        if node.text:
            buffer.append(node.text)
        for child in node:
            if isinstance(child.tag, str):
                walk(child)
            if child.tail:
                buffer.append(child.tail)
        if is_block:
            flush()

    walk(element)
    flush()
    return lines


def parse_page(text: str) -> lxml_html.HtmlElement:
    return lxml_html.fromstring(text)


def seed_view(page: lxml_html.HtmlElement) -> list[str]:
    """The parts of an aggregator page that the seed text holds, in order:
    breadcrumb heading, page title, each item's title and body, the pager."""
    lines: list[str] = []
    lines += block_lines(page.cssselect("nav.breadcrumb-region h2")[0])
    lines += block_lines(page.cssselect("h1#page-title")[0])
    for article in page.cssselect("article.feed-item"):
        lines += block_lines(article.cssselect(".feed-item-title")[0])
        body = article.cssselect(".feed-item-body")
        if body:
            lines += block_lines(body[0])
    for pager in page.cssselect("nav.pager-region"):
        lines += block_lines(pager)
    return lines
