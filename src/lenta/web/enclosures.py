"""How an item's attachments (enclosures) are shown.

Each becomes an :class:`Attachment` whose ``kind`` picks the markup in
``aggregator/_macros.html``: ``audio`` and ``video`` get a player that
loads nothing until it is played (``preload="none"``: a page of twenty
podcast episodes must not download twenty files), ``image`` is shown as an
image, anything else (``file``) is a link; every kind also gets a link
with the file's name, type and size.

The kind comes from the MIME type the feed gave, else from the file name's
extension (many feeds leave the type out or say
``application/octet-stream``). A player or an image needs an http(s) URL;
any other URL :func:`lenta.links.safe_url` lets through (``mailto:``) is
only a link. What the feed says is never trusted as markup: the type is
shown only when it reads as a MIME type, and the template escapes all of it.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote
from urllib.parse import urlsplit

from lenta.links import safe_url
from lenta.parse.model import Enclosure

__all__ = ["Attachment", "attachment", "attachments"]

SHOWN_KINDS = frozenset({"audio", "video", "image"})
# Types that say nothing of what the file is: the extension may say more.
_VAGUE_TYPES = frozenset({"application/octet-stream", "binary/octet-stream", "application/binary", "application/download"})
_MIME_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,127}$")
# Longer names are cut in the middle, keeping the extension in sight.
MAX_NAME = 80


@dataclass(frozen=True, slots=True)
class Attachment:
    """An enclosure ready to show: ``kind`` is audio, video, image or file."""

    kind: str
    url: str
    name: str  # the file's name, from the URL's path (else its host)
    mime_type: str | None  # as the feed gave it, when it reads as a MIME type
    length: int | None  # bytes, when the feed gave a positive length


def attachment(enclosure: Enclosure) -> Attachment | None:
    """How to show ``enclosure``; None when its URL is not one lenta publishes."""
    url = safe_url(enclosure.url)
    if not url:
        return None
    parts = urlsplit(url)
    mime_type = _mime_type(enclosure.mime_type)
    name = file_name(url)
    kind = _kind(mime_type, name) if parts.scheme.lower() in {"http", "https"} else "file"
    length = enclosure.length if enclosure.length and enclosure.length > 0 else None
    return Attachment(kind=kind, url=url, name=name, mime_type=mime_type, length=length)


def attachments(enclosures: Iterable[Enclosure]) -> list[Attachment]:
    """:func:`attachment` of each, those lenta does not publish left out."""
    return [shown for shown in map(attachment, enclosures) if shown is not None]


def file_name(url: str) -> str:
    """The last segment of ``url``'s path, percent-decoded ("Episode 12.mp3"),
    else its host (or the whole URL, for a ``mailto:``)."""
    parts = urlsplit(url)
    segment = parts.path.rstrip("/").rsplit("/", 1)[-1] if parts.netloc else ""
    name = " ".join(unquote(segment, errors="replace").split()) or parts.hostname or url
    if len(name) > MAX_NAME:
        half = (MAX_NAME - 1) // 2
        name = f"{name[:half]}…{name[-half:]}"
    return name


def _mime_type(value: str | None) -> str | None:
    if not value:
        return None
    mime_type = value.split(";", 1)[0].strip().lower()
    return mime_type if _MIME_TYPE.match(mime_type) else None


def _kind(mime_type: str | None, name: str) -> str:
    if mime_type is None or mime_type in _VAGUE_TYPES:
        mime_type, _ = mimetypes.guess_type(name, strict=False)
    top = (mime_type or "").split("/", 1)[0]
    return top if top in SHOWN_KINDS else "file"
