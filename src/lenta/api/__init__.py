"""The sync APIs reader apps speak (issue 12): each a thin edge over the
user's :class:`~lenta.reader.Reader` (docs/sync-apis.md)."""

from __future__ import annotations

import base64
import binascii

from starlette.requests import Request

MAX_NAME_CHARS = 256
MAX_PASSWORD_CHARS = 1024


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """The (name, password) of a request's HTTP Basic header, or None when
    there is none, it is malformed, or either part is empty or too long."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        name, _, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not name or not password or len(name) > MAX_NAME_CHARS or len(password) > MAX_PASSWORD_CHARS:
        return None
    return name, password
