"""Response bodies: read with a size cap, decompressed a bounded piece at a time.

The cap applies *after* decompression, and no step produces more than
:data:`PIECE` bytes, so a gzip or brotli bomb costs at most the cap in
memory. Failures leave as two signals, :class:`TooLarge` and
:class:`Undecodable`, which :func:`lenta.fetch._errors.fetch_errors` turns
into :class:`~lenta.exceptions.FetchError`.
"""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Sequence

import brotli  # untyped: see [[tool.mypy.overrides]] in pyproject.toml
from isal import isal_zlib as zlib  # zlib's interface on ISA-L's inflate

# Inflating gzip was a noticeable share of a first refresh's CPU with the
# standard zlib; ISA-L does the same work several times faster (figures in
# bench/README.md), bounded the same way (max_length, unconsumed_tail).
_InflateError: type[Exception] = zlib.error  # type: ignore[assignment]  # its stub calls it an instance

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
            except _InflateError:
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
    return [_BrotliDecoder() if c == "br" else _ZlibDecoder("deflate" if c == "deflate" else "gzip") for c in reversed(known)]


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


class BodySink:
    """Collects a body as libcurl hands it over, a piece at a time, capped.

    With ``decode`` the pieces are decompressed as they come (the cap then
    applies to the decoded bytes, and to the compressed ones too); without,
    they are kept as sent, but their codings are still checked now, so a
    refused one fails here rather than in a parse worker. ``declared`` is
    the Content-Length: over the cap, nothing is read at all.

    With ``truncate`` the body stops at ``limit`` bytes instead of failing:
    :meth:`write` then returns False and :attr:`full` is set. With
    ``lenient`` (for bodies that only explain a status) bytes that do not
    decode end the body instead, and it is empty.

    Raises (from the constructor, :meth:`write` and :meth:`finish`):
        TooLarge: over ``limit`` (declared, compressed or decoded), unless ``truncate``.
        Undecodable: a refused Content-Encoding, or bytes that do not decode.
    """

    def __init__(
        self,
        content_encoding: str,
        limit: int,
        *,
        decode: bool = True,
        truncate: bool = False,
        lenient: bool = False,
        declared: str | None = None,
    ) -> None:
        if not truncate and declared and declared.isdigit() and int(declared) > limit:
            raise TooLarge(limit)
        try:
            steps = decoders(content_encoding)
        except Undecodable:
            if not lenient:
                raise
            steps, limit = [], 0
        self._steps = steps if decode else []
        self._lenient = lenient
        self._content_encoding = content_encoding
        self._limit = limit
        self._truncate = truncate
        self._body = bytearray()
        self._raw_total = 0
        self.full = False

    def write(self, data: bytes) -> bool:
        """Take the next piece; False once a truncated body has all it keeps."""
        self._raw_total += len(data)
        if not self._steps:
            self._body += data
        else:
            try:
                for piece in _feed(self._steps, data):
                    self._body += piece
                    if len(self._body) > self._limit:
                        break
            except (_InflateError, brotli.error) as exc:
                if self._lenient:
                    self._body.clear()
                    self._steps, self._limit, self.full = [], 0, True
                    return False
                raise Undecodable(f"{self._content_encoding}: {exc}") from exc
        if len(self._body) > self._limit or (self._steps and self._raw_total > self._limit):
            if not self._truncate:
                raise TooLarge(self._limit)
            self.full = True
            return False
        return True

    def finish(self) -> bytes:
        """The whole body (decoded, unless constructed without ``decode``)."""
        if self._steps and not self.full:
            try:
                for piece in _flush(self._steps):
                    self._body += piece
            except (_InflateError, brotli.error) as exc:
                if self._lenient:
                    return b""
                raise Undecodable(f"{self._content_encoding}: {exc}") from exc
            if len(self._body) > self._limit and not self._truncate:
                raise TooLarge(self._limit)
        return bytes(self._body[: self._limit])


def decode_bytes(body: bytes, content_encoding: str, limit: int) -> bytes:
    """Decode a body fetched with ``decode=False``, with the same bounded
    steps and the same cap as :class:`BodySink`.

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
    except (_InflateError, brotli.error) as exc:
        raise Undecodable(f"{content_encoding}: {exc}") from exc
    return bytes(out)
