"""Numbers from the outside world, made safe before arithmetic.

Feeds and servers hand lenta numbers of any size: ``Retry-After:
99999999999999999999``, ``<ttl>1e400</ttl>``, ``max-age=-5``. Python's ints
never overflow, but ``timedelta``, ``datetime`` and database columns do, and
one OverflowError must not cost a whole refresh round. Every such number
goes through one of these functions before it meets them.
"""

from __future__ import annotations

import math
from datetime import timedelta

# timedelta's own limit is about 2.7 million years; nothing lenta schedules
# needs more than a few weeks, so a decade leaves every caller its own cap.
MAX_SECONDS = 10 * 365 * 86400.0
# Ids are INTEGER columns, 32-bit on PostgreSQL (the narrower backend): a
# larger number names nothing, and binding it would overflow.
MAX_ID = 2**31 - 1


def clamp_number(value: float | int | None, low: float, high: float) -> float | None:
    """``value`` within ``[low, high]``; None for None and NaN (no number at
    all), infinities to the nearer bound."""
    if value is None:
        return None
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        number = math.inf if value > 0 else -math.inf
    if math.isnan(number):
        return None
    return min(high, max(low, number))


def duration(seconds: float | int | None, high: timedelta, low: timedelta = timedelta(0)) -> timedelta | None:
    """``seconds`` as a timedelta within ``[low, high]``; None for None/NaN."""
    bounded = clamp_number(seconds, low.total_seconds(), min(high.total_seconds(), MAX_SECONDS))
    return None if bounded is None else timedelta(seconds=bounded)


def clamp_int(value: int | None, low: int, high: int) -> int | None:
    """An integer column's value within ``[low, high]``; None stays None."""
    if value is None:
        return None
    return min(high, max(low, value))


# C0 and C1 control characters and DEL: a server's words quoted in an error
# reach terminals (`lenta list`, `lenta refresh`), where ESC and CSI
# (U+009B) start escape sequences that can rewrite the screen.
_CONTROLS: dict[int, str | None] = dict.fromkeys([*range(0x01, 0x20), 0x7F, *range(0x80, 0xA0)], "?")
_CONTROLS[0x00] = None


def clean_text(value: str, limit: int) -> str:
    """Text fit for any database column and any terminal: no NUL
    (PostgreSQL refuses it), no lone surrogates (they do not encode), other
    control characters as ``?``, at most ``limit`` characters."""
    value = value.translate(_CONTROLS)
    if not value.isascii():
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value if len(value) <= limit else value[: limit - 1] + "…"


def printable(value: str) -> str:
    """``value`` with control characters (terminal escape sequences among
    them) shown as ``?``: for text from the outside on its way to a terminal."""
    return value.translate(_CONTROLS)
