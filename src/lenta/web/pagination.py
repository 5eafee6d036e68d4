"""Drupal 7's full pager (``theme_pager``), as a list of links for templates.

    « first  ‹ previous  …  6 7 8 9 [10] 11 12 13 14  …  next ›  last »

Up to ``quantity`` (9) page numbers centred on the current one; "first" and
"previous" are left out on the first page, "next" and "last" on the last;
an ellipsis stands for pages hidden on either side; one page, no pager.

One deliberate difference from Drupal 7: its right-hand ellipsis test is
``$i < $pager_max``, so when exactly one page is hidden on the right it
shows no ellipsis. lenta shows an ellipsis whenever pages are hidden, on
the right as on the left.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["first", "previous", "ellipsis", "item", "current", "next", "last"]


@dataclass(frozen=True, slots=True)
class PagerLink:
    kind: Kind
    page: int | None  # zero-based target page; None for ellipsis
    label: str  # page number for item/current; empty for the rest (templates translate)


def drupal_pager(page: int, page_count: int, quantity: int = 9) -> list[PagerLink]:
    """The pager for zero-based ``page`` of ``page_count`` pages."""
    if page_count <= 1:
        return []
    page = max(0, min(page, page_count - 1))
    current = page + 1  # Drupal counts from 1 here
    middle = -(-quantity // 2)
    first = current - middle + 1
    last = current + quantity - middle
    if last > page_count:
        first += page_count - last
        last = page_count
    if first <= 0:
        last += 1 - first
        first = 1
    last = min(last, page_count)

    links: list[PagerLink] = []
    if page > 0:
        links.append(PagerLink("first", 0, ""))
        links.append(PagerLink("previous", page - 1, ""))
    if first > 1:
        links.append(PagerLink("ellipsis", None, ""))
    for number in range(first, last + 1):
        kind: Kind = "current" if number == current else "item"
        links.append(PagerLink(kind, number - 1, str(number)))
    if last < page_count:
        links.append(PagerLink("ellipsis", None, ""))
    if page < page_count - 1:
        links.append(PagerLink("next", page + 1, ""))
        links.append(PagerLink("last", page_count - 1, ""))
    return links
