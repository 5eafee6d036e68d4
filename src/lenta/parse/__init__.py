"""Feed formats in, one normalized model out (the dispatcher is :mod:`lenta.parse.formats`).

::

    bytes ──┬─ JSON ──────────────────────────────── jsonfeed.parse ──┐
            └─ XML ── encoding.decode_xml ── xml.parse_xml ──┬ rss   ├─▶ ParsedFeed
                                                             ├ rdf   │
                                                             └ atom ─┘

:func:`parse_feed` is the only entry point and the single choke point for
errors (see :mod:`lenta.parse.formats`). It is loaded on first use: the
format modules bring lxml and charset detection, which a process that only
fetches (``lenta refresh`` hands bodies to parse workers) never needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from lenta.parse.model import Enclosure
from lenta.parse.model import ParsedFeed
from lenta.parse.model import ParsedItem

if TYPE_CHECKING:
    from lenta.parse.formats import detect_format
    from lenta.parse.formats import parse_feed

__all__ = [
    "Enclosure",
    "ParsedFeed",
    "ParsedItem",
    "detect_format",
    "parse_feed",
]

_LAZY = frozenset({"detect_format", "parse_feed"})


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from lenta.parse import formats

        return getattr(formats, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
