"""Numbers in URLs: path ids and Drupal's ``?page=N``.

``int()`` is too generous for them: it takes ``"٣"`` (an Arabic-Indic
three), ``" 3"``, ``"+3"`` and ``"99999999999999999999"``, and a number
past a column's range overflows when it is bound (SQLite raises
OverflowError, PostgreSQL an error of its own). Only ASCII digits within
range get through here; anything else is no such page.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.exceptions import HTTPException
from starlette.requests import Request

# Ids are INTEGER columns: PostgreSQL's are 32-bit, the narrower backend.
MAX_ID = 2**31 - 1
# A page this far is past the end of any listing, and page * per_page stays
# well inside a 64-bit OFFSET.
MAX_PAGE = 2**31 - 1


def parse_id(raw: object) -> int | None:
    """``raw`` as an id (1 … MAX_ID, ASCII digits only), or None."""
    if not isinstance(raw, str) or not raw.isascii() or not raw.isdigit():
        return None
    digits = raw.lstrip("0") or "0"
    if len(digits) > len(str(MAX_ID)):  # past it: no need to convert them all
        return None
    number = int(digits)
    return number if 1 <= number <= MAX_ID else None


def path_id(request: Request, name: str) -> int:
    """The id in path parameter ``name``; 404 for anything that cannot be one."""
    number = parse_id(request.path_params.get(name))
    if number is None:
        raise HTTPException(status_code=404)
    return number


def form_ids(values: Iterable[object]) -> list[int]:
    """The ids among ``values`` (a multi-valued form field); the rest are left out."""
    return [number for number in map(parse_id, values) if number is not None]


def page_number(request: Request) -> int:
    """Drupal's zero-based ``?page=N``: junk, signs and other scripts' digits
    mean the first page; beyond MAX_PAGE is MAX_PAGE (past the end: the
    caller shows the last page, as Drupal 7's pager does)."""
    raw = request.query_params.get("page", "0")
    if not raw.isascii() or not raw.isdigit():
        return 0
    digits = raw.lstrip("0") or "0"
    return MAX_PAGE if len(digits) > len(str(MAX_PAGE)) else min(int(digits), MAX_PAGE)
