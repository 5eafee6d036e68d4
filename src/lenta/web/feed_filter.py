"""The admin feed table's filter: which feeds it shows, by a piece of their
title or URL and by their state. A pure function of the feeds and the
query (``?q=…&state=…``); the table's "all feeds shown" bulk action applies
the same filter again on the server, so what is acted on is what matches.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from lenta.i18n import N_
from lenta.types import Feed

MAX_TEXT = 200  # a filter longer than any title or URL shown is no filter to keep


def _failing(feed: Feed) -> bool:
    return bool(feed.error) and not feed.gone


def _never_fetched(feed: Feed) -> bool:
    return feed.checked_at is None and not feed.gone


def _healthy(feed: Feed) -> bool:
    return feed.checked_at is not None and not feed.error and not feed.gone


# state → (label, test); "" is every feed.
STATES: dict[str, tuple[str, Callable[[Feed], bool]]] = {
    "": (N_("any state"), lambda feed: True),
    "errors": (N_("with errors"), _failing),
    "new": (N_("not fetched yet"), _never_fetched),
    "ok": (N_("working"), _healthy),
    "gone": (N_("gone (no longer polled)"), lambda feed: feed.gone),
}


@dataclass(frozen=True, slots=True)
class FeedFilter:
    """``text``: a piece of the title or URL, any case; ``state``: a key of :data:`STATES`."""

    text: str = ""
    state: str = ""

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> FeedFilter:
        """From a query string or a form; an unknown state is any state."""
        text = " ".join(str(params.get("q", "") or "").split())[:MAX_TEXT]
        state = str(params.get("state", "") or "")
        return cls(text, state if state in STATES else "")

    @property
    def active(self) -> bool:
        return bool(self.text or self.state)

    def matches(self, feed: Feed) -> bool:
        if not STATES[self.state][1](feed):
            return False
        if not self.text:
            return True
        needle = self.text.casefold()
        return needle in feed.title.casefold() or needle in feed.display_url.casefold()

    def apply(self, feeds: Iterable[Feed]) -> list[Feed]:
        return [feed for feed in feeds if self.matches(feed)]

    def query(self, **more: str) -> str:
        """The filter as a query string (``q=…&state=…``, empty parts left
        out), with ``more`` parameters, for links that keep it."""
        params = {"q": self.text, "state": self.state, **more}
        return urlencode({name: value for name, value in params.items() if value})
