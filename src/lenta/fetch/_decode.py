"""Response bodies: read with a size cap, decompressed a bounded piece at a time.

The cap applies *after* decompression, and no step produces more than
:data:`PIECE` bytes, so a gzip or brotli bomb costs at most the cap in
memory. Failures leave as two signals, :class:`TooLarge` and
:class:`Undecodable`, which :func:`lenta.fetch._errors.fetch_errors` turns
into :class:`~lenta.exceptions.FetchError`.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from collections.abc import Sequence

import brotli  # untyped: see [[tool.mypy.overrides]] in pyproject.toml
import httpx

MAX_CODINGS = 2  # more than gzip-inside-br is no honest server's doing
PIECE = 64 * 1024  # most bytes one decompression step may produce

# brotli >= 1.2 can bound each decompression step; an older one cannot, and
# then we do not ask for br at all rather than risk a brotli bomb.
BROTLI_BOUNDED = hasattr(brotli.Decompressor(), "can_accept_more_data")
ACCEPT_ENCODING = "gzip, deflate, br" if BROTLI_BOUNDED else "gzip, deflate"


class TooLarge(Exception):
    """The body is over ``limit`` bytes (decoded, or still compressed)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit


class Undecodable(Exception):
    """The Content-Encoding is one we refuse, or the bytes do not decode."""


class _ZlibDecoder:
    """gzip or deflate, yielding at most ``PIECE`` bytes per step."""

    def __init__(self, coding: str) -> None:
        self._coding = coding
        self._wbits = 31 if coding == "gzip" else 15  # 31: gzip header; 15: zlib header
        self._z = zlib.decompressobj(self._wbits)
        self._started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        while True:
            try:
                out = self._z.decompress(data, PIECE)
            except zlib.error:
                if self._coding == "deflate" and not self._started:
                    # Some servers send raw deflate without the zlib header.
                    self._wbits, self._z, self._started = -15, zlib.decompressobj(-15), True
                    continue
                raise
            self._started = True
            if out:
                yield out
            data = self._z.unconsumed_tail
            if self._z.eof and self._z.unused_data[:2] == b"\x1f\x8b":
                data, self._z = self._z.unused_data, zlib.decompressobj(self._wbits)  # another gzip member
            # A full piece may leave output pending even with no input left.
            if not data and len(out) < PIECE:
                return

    def flush(self) -> Iterator[bytes]:
        yield self._z.flush()


class _BrotliDecoder:
    def __init__(self) -> None:
        self._d = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        yield self._d.process(data, output_buffer_limit=PIECE)
        while not self._d.can_accept_more_data():
            yield self._d.process(b"", output_buffer_limit=PIECE)

    def flush(self) -> Iterator[bytes]:
        return iter(())


_Decoder = _ZlibDecoder | _BrotliDecoder


def decoders(content_encoding: str) -> list[_Decoder]:
    """Decoders for a Content-Encoding, in the order to apply them (last coding first)."""
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    # Unknown codings ("identity", "none", even "utf-8") are passed through, as
    # httpx and most readers do: misconfigured servers send them on plain feeds.
    known = [c for c in codings if c in {"gzip", "x-gzip", "deflate", "br"}]
    if len(known) > MAX_CODINGS:
        raise Undecodable(f"{len(known)} content codings ({content_encoding})")
    if "br" in known and not BROTLI_BOUNDED:
        raise Undecodable("br, which this brotli module cannot decode in bounded steps")
    return [_BrotliDecoder() if c == "br" else _ZlibDecoder("deflate" if c == "deflate" else "gzip")
            for c in reversed(known)]


def _feed(decoders: Sequence[_Decoder], data: bytes) -> Iterator[bytes]:
    if not decoders:
        if data:
            yield data
        return
    for piece in decoders[0].feed(data):
        yield from _feed(decoders[1:], piece)


def _flush(decoders: Sequence[_Decoder]) -> Iterator[bytes]:
    for index, decoder in enumerate(decoders):
        for piece in decoder.flush():
            yield from _feed(decoders[index + 1 :], piece)


async def read_body(response: httpx.Response, limit: int, *, truncate: bool = False) -> bytes:
    """The decoded body, at most ``limit`` bytes. Over the limit: the first
    ``limit`` bytes if ``truncate``, else :class:`TooLarge`.

    Raises:
        TooLarge: over ``limit`` (declared, compressed or decoded), unless ``truncate``.
        Undecodable: a refused Content-Encoding, or bytes that do not decode.
    """
    declared = response.headers.get("content-length", "")
    if not truncate and declared.isdigit() and int(declared) > limit:
        raise TooLarge(limit)
    steps = decoders(response.headers.get("content-encoding", ""))
    body = bytearray()
    raw_total = 0
    try:
        async for raw in response.aiter_raw():
            raw_total += len(raw)
            for piece in _feed(steps, raw):
                body += piece
                if len(body) > limit:
                    if truncate:
                        return bytes(body[:limit])
                    raise TooLarge(limit)
            if raw_total > limit and not truncate:  # compressed, and still over
                raise TooLarge(limit)
        for piece in _flush(steps):
            body += piece
            if len(body) > limit and not truncate:
                raise TooLarge(limit)
    except (zlib.error, brotli.error) as exc:
        raise Undecodable(f"{response.headers.get('content-encoding')}: {exc}") from exc
    return bytes(body[:limit])


def decode_bytes(body: bytes, content_encoding: str, limit: int) -> bytes:
    """Decode a body fetched with ``decode=False``, with the same bounded
    steps and the same cap as :func:`read_body`.

    Raises:
        TooLarge: the decoded body is over ``limit``.
        Undecodable: a refused coding, or bytes that do not decode.
    """
    steps = decoders(content_encoding)
    if not steps:
        if len(body) > limit:
            raise TooLarge(limit)
        return body
    out = bytearray()
    try:
        for piece in _feed(steps, body):
            out += piece
            if len(out) > limit:
                raise TooLarge(limit)
        for piece in _flush(steps):
            out += piece
            if len(out) > limit:
                raise TooLarge(limit)
    except (zlib.error, brotli.error) as exc:
        raise Undecodable(f"{content_encoding}: {exc}") from exc
    return bytes(out)


async def read_raw(response: httpx.Response, limit: int) -> bytes:
    """The body as sent (still encoded), at most ``limit`` bytes; its codings
    are checked now, so a refused one fails here, not later.

    Raises:
        TooLarge: over ``limit`` (declared or read).
        Undecodable: a refused Content-Encoding.
    """
    decoders(response.headers.get("content-encoding", ""))
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge(limit)
    body = bytearray()
    async for raw in response.aiter_raw():
        body += raw
        if len(body) > limit:
            raise TooLarge(limit)
    return bytes(body)
