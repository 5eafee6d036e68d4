"""Full-text search: the words lenta indexes and the queries it runs (issue 11).

Both backends index the same text, made here: lower-case words, each cut
to its stem by the Snowball stemmer of its alphabet, Russian for a
Cyrillic word and English for any other, so «ленты» and «лентой» index
and query as «лент», "feeds" and "feeding" as "feed", whatever the
feed's declared language (a Russian feed quotes English names, and the
other way round). SQLite keeps the stems in FTS5, PostgreSQL in a
tsvector (the ``simple`` configuration: the words are stemmed already),
and a query becomes the same search on each: every term must match; a
quoted phrase matches its words in a row; ``word*`` matches any stem that
starts with what was typed. So the two give the same hits for the same
query; only the ranking (bm25, ts_rank) may order equal hits apart.

A search reads and ranks the latest hits only (by id, as they arrived:
:data:`lenta.storage._reader.SEARCH_WINDOW` of them), so a word most items
hold costs what a rare one does; SQLite leaves the hits of a query with such
a word unranked, newest first (bm25 counts every item holding each word:
:data:`lenta.storage._search.RANKED_HITS`).

Pure functions; the tables are :mod:`lenta.storage._search`'s.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lenta.exceptions import InvalidInputError

WORD = re.compile(r"[^\W_]+")
_TAG = re.compile(r"<[^>]*>")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_QUERY_PART = re.compile(r'"([^"]*)"?|(\S+)')
MAX_INDEXED_CHARS = 100_000  # of an item's text: the start of a very long item is what a search finds it by
MAX_TERMS = 16
MAX_QUERY_CHARS = 500
MAX_WORD_CHARS = 64  # longer "words" (base64, hashes) are not worth an index entry


@functools.cache
def _stemmer(language: str) -> Any:
    import Stemmer  # PyStemmer: loaded when something is indexed or searched

    return Stemmer.Stemmer(language, 100_000)


def words(text: str) -> list[str]:
    """The words of plain ``text``, lower-cased."""
    return [word for word in WORD.findall(text.lower()) if len(word) <= MAX_WORD_CHARS]


def stems(found: Iterable[str]) -> list[str]:
    """Each word's stem, by the stemmer of its alphabet (Cyrillic: Russian; else English)."""
    russian, english = _stemmer("russian"), _stemmer("english")
    return [(russian if _CYRILLIC.search(word) else english).stemWord(word) for word in found]


def plain_text(fragment: str | None) -> str:
    """Sanitized HTML as text: tags become spaces, entities characters."""
    if not fragment:
        return ""
    return html.unescape(_TAG.sub(" ", fragment[: MAX_INDEXED_CHARS * 2]))[:MAX_INDEXED_CHARS]


def document(title: str | None, content: str | None, summary: str | None) -> tuple[str, str]:
    """(title, body) as indexed: stems joined by spaces."""
    body = plain_text(content) or plain_text(summary)
    return " ".join(stems(words(title or ""))), " ".join(stems(words(body)))


@dataclass(frozen=True, slots=True)
class Term:
    """One part of a query: a word, a quoted phrase (its words in a row), or
    a prefix (``word*``, not stemmed: what was typed is the start of a stem)."""

    stems: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class Query:
    terms: tuple[Term, ...]

    def fts5(self) -> str:
        """The FTS5 MATCH expression: every term, each a quoted string
        (FTS5's own operators cannot be typed in)."""
        parts = []
        for term in self.terms:
            quoted = '"' + " ".join(term.stems) + '"'
            parts.append(quoted + " *" if term.prefix else quoted)
        return " AND ".join(parts)

    def tsquery(self) -> str:
        """The PostgreSQL ``to_tsquery('simple', …)`` text for the same search."""
        parts = []
        for term in self.terms:
            quoted = [f"'{stem}'" for stem in term.stems]
            if term.prefix:
                parts.append(quoted[0] + ":*")
            elif len(quoted) == 1:
                parts.append(quoted[0])
            else:
                parts.append("(" + " <-> ".join(quoted) + ")")
        return " & ".join(parts)


def parse_query(text: str) -> Query:
    """A person's query: words (all must match), "quoted phrases", prefix*.

    Raises:
        InvalidInputError: nothing to search for, or more than the bounds allow.
    """
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidInputError("A search can be at most {n} characters.", n=MAX_QUERY_CHARS)
    terms: list[Term] = []
    for match in _QUERY_PART.finditer(text):
        phrase, bare = match.groups()
        if phrase is not None:
            found = stems(words(phrase))
            if found:
                terms.append(Term(tuple(found)))
            continue
        prefix = bare.endswith("*")
        found = words(bare)
        if prefix and len(found) == 1:
            terms.append(Term((found[0],), prefix=True))
        else:
            terms.extend(Term((stem,)) for stem in stems(found))
    if not terms:
        raise InvalidInputError("Search for at least one word.")
    if len(terms) > MAX_TERMS:
        raise InvalidInputError("A search can have at most {n} words.", n=MAX_TERMS)
    return Query(tuple(terms))
