"""A reader's rules (issue 11): which items a rule matches. Pure functions.

A rule looks at one field of an item (title, content, author, link,
category, or any of them) and matches either **words** (every word of the
pattern, in any of its forms: the search's stems, so «лента» matches
«ленты») or a **regular expression** (case-insensitive). Regular
expressions run in the ``regex`` module, which stops a match after a time
limit: a pattern is refused when saved if it is malformed, too long, or
slow on texts made to trip backtracking, and any match that still runs
over its limit when applied counts as no match (and is logged), so one
user's pattern cannot hold a refresh.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lenta._marks import N_
from lenta.exceptions import InvalidInputError
from lenta.search import plain_text
from lenta.search import stems
from lenta.search import words

log = logging.getLogger(__name__)

FIELDS = ("title", "content", "author", "link", "category", "any")
MATCHES = ("words", "regex")
ACTIONS = ("read", "star", "tag", "hide", "notify")
# What the rules page calls each (translated there).
LABELS = {
    "title": N_("in the title"),
    "content": N_("in the text"),
    "author": N_("in the author"),
    "link": N_("in the link"),
    "category": N_("in the categories"),
    "any": N_("anywhere"),
    "words": N_("has the words (in any form)"),
    "regex": N_("matches the regular expression"),
    "read": N_("mark it read"),
    "star": N_("star it"),
    "tag": N_("tag it"),
    "hide": N_("hide it"),
    "notify": N_("call a webhook"),
}
MAX_PATTERN_CHARS = 500
MAX_TEXT_CHARS = 100_000  # of a field: where a rule looks
RUN_SECONDS = 0.05  # one rule on one item
CHECK_SECONDS = 0.1  # one probe when a pattern is saved
# Texts that make backtracking patterns ((a+)+$, (.*a){20}, (\w|\d)+x …) take exponential time.
_PROBES = tuple(
    body + tail
    for body in ("a" * 4000, "ab" * 2000, " " * 4000, "0" * 4000, "aA1_" * 1000, "<a>" * 1300, "лента" * 800)
    for tail in ("", "!", "\x00")
)


@dataclass(frozen=True, slots=True)
class ItemText:
    """The fields a rule can look at, as plain text."""

    title: str
    content: str
    author: str
    link: str
    categories: tuple[str, ...]

    def field(self, name: str) -> str:
        if name == "category":
            return "\n".join(self.categories)
        if name == "any":
            return "\n".join((self.title, self.content, self.author, self.link, *self.categories))
        text: str = getattr(self, name)
        return text


def item_text(
    title: str | None, content: str | None, summary: str | None, author: str | None, link: str | None, categories: Any
) -> ItemText:
    """An item's fields as a rule reads them (``categories``: a list, or its JSON as stored)."""
    if isinstance(categories, str):
        try:
            categories = json.loads(categories)
        except ValueError:
            categories = []
    found = tuple(str(c) for c in categories or () if isinstance(c, str))
    return ItemText(
        title=(title or "")[:MAX_TEXT_CHARS],
        content=plain_text(content) or plain_text(summary),
        author=(author or "")[:MAX_TEXT_CHARS],
        link=(link or "")[:MAX_TEXT_CHARS],
        categories=found,
    )


Matcher = Callable[[str], bool]


def _probes(pattern: str) -> tuple[str, ...]:
    """The stock probes, and the same trap built of each letter the pattern names ((x+x+)+y)."""
    letters = sorted({ch for ch in pattern if ch.isalnum()})[:12]
    return (*_PROBES, *(ch * 3000 + tail for ch in letters for tail in ("", "!")))


def compile_rule(match: str, pattern: str) -> Matcher:
    """A function telling whether a text matches.

    Raises:
        InvalidInputError: an unknown kind, an empty or too long pattern, a
            malformed regular expression, or one slow on the probe texts.
    """
    if match not in MATCHES:
        raise InvalidInputError("No match kind {value}.", value=match[:20])
    if not pattern.strip():
        raise InvalidInputError("A rule needs a pattern.")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise InvalidInputError("A pattern can be at most {n} characters.", n=MAX_PATTERN_CHARS)
    if match == "words":
        wanted = set(stems(words(pattern)))
        if not wanted:
            raise InvalidInputError("A rule needs a pattern.")

        def has_words(text: str) -> bool:
            return wanted <= set(stems(words(text)))

        return has_words
    import regex  # loaded when a rule with a regular expression is saved or run

    try:
        compiled = regex.compile(pattern, regex.IGNORECASE | regex.UNICODE | regex.V0)
    except (regex.error, OverflowError, RecursionError, ValueError) as error:
        raise InvalidInputError("Not a valid regular expression: {reason}.", reason=str(error)[:200]) from None
    for probe in _probes(pattern):
        try:
            compiled.search(probe, timeout=CHECK_SECONDS)
        except TimeoutError:
            raise InvalidInputError(
                "This regular expression takes too long on some texts; write it without nested repeats."
            ) from None

    def has_match(text: str) -> bool:
        try:
            return compiled.search(text[:MAX_TEXT_CHARS], timeout=RUN_SECONDS) is not None
        except TimeoutError:
            log.warning("a rule's regular expression ran over %s s on an item; taken as no match", RUN_SECONDS)
            return False

    return has_match


def check(field: str, match: str, pattern: str, action: str) -> Matcher:
    """Validate a rule's parts; its matcher. Raises InvalidInputError."""
    if field not in FIELDS:
        raise InvalidInputError("No field {value}.", value=field[:20])
    if action not in ACTIONS:
        raise InvalidInputError("No action {action}.", action=action[:20])
    return compile_rule(match, pattern)


def matching(matcher: Matcher, field: str, texts: Iterable[tuple[int, ItemText]]) -> list[int]:
    """The ids of the items whose ``field`` the matcher matches."""
    return [item_id for item_id, text in texts if matcher(text.field(field))]
