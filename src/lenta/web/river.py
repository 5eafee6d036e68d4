"""How many of one feed's items a listing of many feeds shows together.

The river and the category pages list items of many feeds newest first; a
feed that posts twenty items at once would fill a whole page. With the site
setting *Items of one feed on a page* (``river_feed_items``), a page shows
at most that many of each feed's items, and folds the rest into one line
where the first hidden item was, linking to the feed's own page, where
every item is listed. Paging is not changed: page N holds the same items
whether they are shown or folded, so page numbers stay seeks (issue 10).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lenta.types import Item


@dataclass(frozen=True, slots=True)
class Folded:
    """Items of one feed on this page that are not shown, as one line."""

    feed_id: int
    feed_title: str
    count: int


def cap_per_feed(items: Sequence[Item], cap: int) -> list[Item | Folded]:
    """``items`` in their order with at most ``cap`` of each feed (0: no cap);
    each feed's hidden items counted in one :class:`Folded`, at the place of
    the first of them."""
    if cap <= 0:
        return list(items)
    shown: dict[int, int] = {}
    hidden: dict[int, int] = {}
    folded_at: dict[int, int] = {}
    entries: list[Item | Folded] = []
    for item in items:
        if shown.get(item.feed_id, 0) < cap:
            shown[item.feed_id] = shown.get(item.feed_id, 0) + 1
            entries.append(item)
            continue
        if item.feed_id not in folded_at:
            folded_at[item.feed_id] = len(entries)
            entries.append(Folded(item.feed_id, item.feed_title, 0))
        hidden[item.feed_id] = hidden.get(item.feed_id, 0) + 1
    for feed_id, index in folded_at.items():
        entry = entries[index]
        assert isinstance(entry, Folded)
        entries[index] = Folded(entry.feed_id, entry.feed_title, hidden[feed_id])
    return entries
