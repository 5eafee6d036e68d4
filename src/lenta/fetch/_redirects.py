"""Redirects, which :meth:`~lenta.fetch.http.HTTPClient.fetch` follows by hand.

Each hop's target is checked like the first URL (http/https, a well-formed
host; the guard checks its address again when connecting). A redirect we
will not follow leaves as :class:`BadRedirect`, which
:func:`lenta.fetch._errors.fetch_errors` turns into a FetchError.
"""

from __future__ import annotations

from collections.abc import Mapping

from lenta.exceptions import InvalidFeedURLError
from lenta.fetch._urls import join_location
from lenta.fetch._urls import request_url
from lenta.fetch.guard import Target

MAX_REDIRECTS = 10
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_STATUSES = frozenset({301, 308})


class BadRedirect(Exception):
    """A redirect we will not follow: ``problem`` is "loop", "too many" or "invalid"."""

    def __init__(self, problem: str, detail: str = "") -> None:
        self.problem = problem
        self.detail = detail


def is_redirect(status: int, headers: Mapping[str, str]) -> bool:
    """A redirect we could follow: a redirect status with a Location."""
    return status in REDIRECT_STATUSES and "location" in headers


def next_hop(base: str, location: str) -> tuple[str, Target]:
    """Where a redirect leads (the URL to request, where it points), checked
    like the first URL: no file:, ftp:... (AddressNotAllowedError passes through)."""
    try:
        return request_url(join_location(base, location))
    except InvalidFeedURLError:
        raise BadRedirect("invalid", location) from None
