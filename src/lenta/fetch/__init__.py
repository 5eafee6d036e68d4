"""Fetching: every byte lenta downloads comes through here.

:class:`lenta.fetch.http.HTTPClient` is the one outbound client (feeds,
autodiscovery, OPML by URL); it returns a :class:`FetchResult` or raises
:class:`lenta.exceptions.FetchError` with a :class:`FetchErrorKind`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field

from lenta.fetch._decode import TooLarge
from lenta.fetch._decode import Undecodable
from lenta.fetch._decode import decode_bytes
from lenta.fetch._errors import body_error
from lenta.fetch._limits import host_key

__all__ = ["FetchResult", "Validators", "decode_body", "host_key"]


@dataclass(frozen=True, slots=True)
class Validators:
    """What a conditional GET sends back: the last response's ETag and Last-Modified."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The outcome of one successful fetch (2xx or 304).

    ``url`` is the final URL after redirects. ``permanent_redirect`` is set
    when every hop from the requested URL to ``url`` was permanent (301/308):
    the caller may then update the stored URL. ``body`` is None on 304.
    ``headers`` keeps the response headers the scheduler cares about
    (lower-cased names; see ``lenta.fetch.http.KEPT_HEADERS``): cache-control,
    expires, retry-after, link, content-type, date.
    """

    url: str
    status: int
    body: bytes | None
    content_type: str | None = None  # the media type, lower-cased, no parameters
    charset: str | None = None  # the charset parameter of Content-Type, if any
    validators: Validators = field(default_factory=Validators)
    permanent_redirect: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    elapsed: float = 0.0  # seconds
    http_version: str = "HTTP/1.1"  # "HTTP/2" when the server offered it (ALPN)
    # Set when the body is still encoded (``fetch(decode=False)``): the
    # caller decodes it with :func:`lenta.fetch.decode_body`.
    content_encoding: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def decode_body(body: bytes, content_encoding: str | None, limit: int) -> bytes:
    """Decode a body fetched with ``decode=False`` (bounded, capped at ``limit``).

    Raises:
        FetchError: over the cap (TOO_LARGE), or the bytes do not decode.
    """
    if not content_encoding:
        return body
    try:
        return decode_bytes(body, content_encoding, limit)
    except (TooLarge, Undecodable) as exc:
        raise body_error(exc) from None
