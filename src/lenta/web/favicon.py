"""lenta's own icon, drawn in code: the repository holds no binary files
(tests/test_repository.py), so the ``/favicon.ico`` browsers ask for is
made here, from the same shapes as ``static/favicon.svg`` (which pages link
to): a blue rounded square with the white feed sign, a dot and two arcs.

The ICO holds one 32×32 PNG (an ICO may carry PNG images since Windows
Vista; every current browser reads them), each pixel's coverage taken from
4×4 samples so the edges are smooth.
"""

from __future__ import annotations

import functools
import math
import struct
import zlib

__all__ = ["SIZE", "favicon_ico", "favicon_png"]

SIZE = 32
_SAMPLES = 4
_BLUE = (0x07, 0x79, 0xBF)
_WHITE = (0xFF, 0xFF, 0xFF)
# The shapes, in the SVG's coordinates (a 32×32 view box).
_CORNER = 6.0  # the square's corner radius
_DOT = (9.0, 23.0, 3.0)  # x, y, radius
_ARC_CENTRE = (6.0, 26.0)
_ARC_RADII = (10.0, 18.0)
_STROKE = 4.0


def _in_square(x: float, y: float) -> bool:
    # The nearest point of the square's inner rectangle (inset by the corner radius).
    nearest_x = min(max(x, _CORNER), SIZE - _CORNER)
    nearest_y = min(max(y, _CORNER), SIZE - _CORNER)
    return math.hypot(x - nearest_x, y - nearest_y) <= _CORNER


def _in_sign(x: float, y: float) -> bool:
    dot_x, dot_y, dot_r = _DOT
    if math.hypot(x - dot_x, y - dot_y) <= dot_r:
        return True
    cx, cy = _ARC_CENTRE
    half = _STROKE / 2
    distance = math.hypot(x - cx, y - cy)
    for radius in _ARC_RADII:
        if x >= cx and y <= cy and abs(distance - radius) <= half:
            return True
        # Round caps at both ends of the quarter circle.
        if math.hypot(x - cx, y - (cy - radius)) <= half or math.hypot(x - (cx + radius), y - cy) <= half:
            return True
    return False


def _pixel(column: int, row: int) -> bytes:
    square = sign = 0
    for i in range(_SAMPLES):
        for j in range(_SAMPLES):
            x, y = column + (i + 0.5) / _SAMPLES, row + (j + 0.5) / _SAMPLES
            if _in_square(x, y):
                square += 1
                sign += _in_sign(x, y)
    if not square:
        return b"\0\0\0\0"
    white = sign / square
    rgb = bytes(round(b + (w - b) * white) for b, w in zip(_BLUE, _WHITE))
    return rgb + bytes([round(255 * square / _SAMPLES**2)])


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@functools.cache
def favicon_png() -> bytes:
    """The icon as a 32×32 RGBA PNG."""
    rows = b"".join(b"\0" + b"".join(_pixel(column, row) for column in range(SIZE)) for row in range(SIZE))
    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0)  # 8 bits a channel, RGBA
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows, 9)) + _chunk(b"IEND", b"")


@functools.cache
def favicon_ico() -> bytes:
    """The icon as an ICO file holding :func:`favicon_png`."""
    png = favicon_png()
    directory = struct.pack("<HHH", 0, 1, 1)  # reserved, type 1 (icon), one image
    entry = struct.pack("<BBBBHHII", SIZE, SIZE, 0, 0, 1, 32, len(png), 6 + 16)
    return directory + entry + png
