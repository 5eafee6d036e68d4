"""Teasers: an item's HTML cut to a length, still well-formed and sanitized.

Drupal's "trim" (``text_summary``): the text is cut after about ``length``
characters, at a word's end, and every element still open there is closed;
what followed is dropped. Only text counts towards the length (markup, and
runs of white space beyond one, cost nothing), so ``<p>a</p>`` is one
character whatever its attributes.

The cut is made on a tree (lxml), never on the markup's characters, so it
cannot leave half a tag or an unclosed element; the result then goes
through the sanitizer again (:func:`lenta.parse.sanitize.sanitize_html`),
which holds it to the site's allowlist and serializes it as browsers parse
it, whatever lxml's parser made of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import lxml.etree
import lxml.html

from lenta.parse.sanitize import sanitize_html

__all__ = ["ELLIPSIS", "Teaser", "text_length", "trim_html"]

ELLIPSIS = "…"
# How much of an item is parsed first: this many characters of markup for
# each character of the teaser, and at least PREFIX_MIN.
PREFIX_PER_CHARACTER = 16
PREFIX_MIN = 16 * 1024
_WORD = re.compile(r"\S+")
# Parsing only: no network, nothing but the elements the sanitizer left.
_PARSER = lxml.html.HTMLParser(no_network=True, remove_comments=True, remove_pis=True)


@dataclass(frozen=True, slots=True)
class Teaser:
    """``html`` (sanitized), and whether it is shorter than the item's."""

    html: str
    trimmed: bool


def trim_html(html: str, length: int, allowed_tags: frozenset[str] | None = None) -> Teaser:
    """``html`` cut to about ``length`` characters of text (see the module's
    docstring); unchanged when ``length`` is 0 or its text is no longer.

    Args:
        html: sanitized HTML (an item's stored content).
        length: characters of text to keep; 0 keeps everything.
        allowed_tags: the site's allowlist, which the teaser is held to
            (None: the default list).
    """
    # Markup is never shorter than its text: a short one needs no parse.
    if length <= 0 or len(html) <= length:
        return Teaser(html, False)
    # An item may be 256 KiB and the teaser a few hundred characters: its
    # beginning is parsed first, and the whole only when the cut is not
    # safely inside that beginning (see _cut).
    prefix = max(PREFIX_MIN, PREFIX_PER_CHARACTER * length)
    root = _cut(html[:prefix], length, whole=False) if len(html) > prefix else None
    if root is None:
        root = _cut(html, length, whole=True)
    if root is None:
        return Teaser(html, False)
    inner = lxml.html.tostring(root, encoding="unicode")
    inner = inner[len("<div>") : -len("</div>")]
    return Teaser(sanitize_html(inner, None, allowed_tags) or "", True)


def _cut(html: str, length: int, *, whole: bool) -> lxml.html.HtmlElement | None:
    """``html`` parsed and cut; None when it needs no cut or cannot be read
    (shown whole, as stored) or, for a beginning of an item (``whole``
    False), when the cut would come at its last word: that word, and the
    tag the beginning ends in, may be cut in half."""
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div", parser=_PARSER)
    except (lxml.etree.ParserError, ValueError):
        return None
    words = sum(len(_WORD.findall(text)) for text in root.itertext())
    if text_length(root) <= length:
        return None
    cutter = _Cutter(length)
    cutter.element(root)
    if not whole and cutter.cut_at >= words - 1:
        return None
    return root


def text_length(root: lxml.html.HtmlElement) -> int:
    """The length :func:`trim_html` measures: each word and one space after it."""
    return sum(len(word) + 1 for text in root.itertext() for word in _WORD.findall(text))


class _Cutter:
    """Walks a tree in document order, spending ``budget`` on its words, and
    removes everything after the word that does not fit."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.spent = 0
        self.done = False
        self.cut_at = -1  # the index of the word the cut was made at
        self._words = 0

    def element(self, element: lxml.html.HtmlElement) -> None:
        element.text = self.text(element.text)
        for child in list(element):
            if self.done:
                element.remove(child)  # its tail goes with it
                continue
            self.element(child)
            child.tail = None if self.done else self.text(child.tail)

    def text(self, text: str | None) -> str | None:
        if not text or self.done:
            return None if self.done else text
        for word in _WORD.finditer(text):
            cost = len(word.group()) + 1
            if self.spent + cost <= self.budget + 1:  # the last word needs no space after it
                self.spent += cost
                self._words += 1
                continue
            self.done = True
            self.cut_at = self._words
            if self.spent == 0:  # one word longer than the whole teaser (a URL): cut inside it
                return text[: word.start() + self.budget] + ELLIPSIS
            kept = text[: word.start()].rstrip()
            return kept + ELLIPSIS if kept else kept
        return text
