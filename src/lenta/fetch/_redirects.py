"""Redirects, which :meth:`~lenta.fetch.http.HTTPClient.fetch` follows by hand.

Each hop's target is checked like the first URL (http/https, a well-formed
host; the guard checks its address again when connecting). A redirect we
will not follow leaves as :class:`BadRedirect`, which
:func:`lenta.fetch._errors.fetch_errors` turns into a FetchError.
"""

from __future__ import annotations

import httpx

from lenta.exceptions import InvalidFeedURLError
from lenta.fetch.guard import check_url

MAX_REDIRECTS = 10
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_STATUSES = frozenset({301, 308})


class BadRedirect(Exception):
    """A redirect we will not follow: ``problem`` is "loop", "too many" or "invalid"."""

    def __init__(self, problem: str, detail: str = "") -> None:
        self.problem = problem
        self.detail = detail


def is_redirect(response: httpx.Response) -> bool:
    """A redirect we could follow: a redirect status with a Location."""
    return response.status_code in REDIRECT_STATUSES and "location" in response.headers


def next_hop(base: httpx.URL, location: str) -> httpx.URL:
    """Where a redirect leads, checked like the first URL (no file:, ftp:...)."""
    try:
        target = base.join(location.strip()).copy_with(fragment=None)
    except (httpx.InvalidURL, ValueError):
        raise BadRedirect("invalid", location) from None
    try:
        check_url(str(target))  # AddressNotAllowedError for file:, ftp:... passes through
    except InvalidFeedURLError:
        raise BadRedirect("invalid", location) from None
    return target


async def check_redirect_target(response: httpx.Response) -> None:
    """A response hook: check a redirect's target our way first, because
    httpx builds its own next request from Location before send() returns,
    and some targets (``javascript:…``) make that fail with a bare InvalidURL.

    Only for GET: a POST's redirect is returned, not followed, so where it
    points is the caller's business.
    """
    if response.request.method == "GET" and is_redirect(response):
        next_hop(response.request.url, response.headers["location"])
