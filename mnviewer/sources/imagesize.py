"""An image file's pixel size read from its header, without decoding it (PNG, JPEG, BMP, WebP,
TIFF), and the pixel limit images are checked against."""

from __future__ import annotations

import os
import struct
from typing import BinaryIO

from mnviewer import DEFAULT_MAX_IMAGE_PIXELS, MAX_PIXELS_ENV
from mnviewer.errors import UsageError

_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def max_image_pixels() -> int:
    """The largest image (width x height) a source decodes: MNVIEWER_MAX_IMAGE_PIXELS or 100 MP."""
    text = os.environ.get(MAX_PIXELS_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_IMAGE_PIXELS
    try:
        value = int(float(text))
    except ValueError:
        value = 0
    if value < 1:
        raise UsageError(f"{MAX_PIXELS_ENV}={text} is not a pixel count: give a positive "
                         "number such as 100000000")
    return value


def is_jpeg(head: bytes) -> bool:
    return head[:3] == b"\xff\xd8\xff"


def header_size(fh: BinaryIO) -> tuple[int, int] | None:
    """(width, height) from the header of an open image file, or None if not recognised."""
    head = fh.read(32)
    try:
        if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
            width, height = struct.unpack(">II", head[16:24])
            return width, height
        if is_jpeg(head):
            return _jpeg_size(fh)
        if head[:2] == b"BM":
            width, height = struct.unpack("<ii", head[18:26])
            return abs(width), abs(height)
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            return _webp_size(head)
        if head[:4] in (b"II*\x00", b"MM\x00*"):
            return _tiff_size(fh, "<" if head[:2] == b"II" else ">")
    except (struct.error, OSError, ValueError):
        return None
    return None


def _jpeg_size(fh: BinaryIO) -> tuple[int, int] | None:
    """The size as decoded: turned upright as the EXIF orientation says, as OpenCV does."""
    fh.seek(2)
    quarter_turn = False
    while True:
        marker = fh.read(2)
        if len(marker) < 2 or marker[0] != 0xFF:
            return None
        code = marker[1]
        if code == 0xFF:  # fill byte
            fh.seek(-1, os.SEEK_CUR)
            continue
        if code in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            continue
        (length,) = struct.unpack(">H", fh.read(2))
        if code in _JPEG_SOF:
            height, width = struct.unpack(">xHH", fh.read(5))
            return (height, width) if quarter_turn else (width, height)
        if code == 0xE1:
            segment = fh.read(length - 2)
            if segment[:6] == b"Exif\x00\x00":
                quarter_turn = _exif_orientation(segment[6:]) in (5, 6, 7, 8)
            continue
        fh.seek(length - 2, os.SEEK_CUR)


def _exif_orientation(tiff: bytes) -> int:
    """The Orientation tag (1 to 8) of an EXIF block (a TIFF structure); 1 when absent."""
    order = "<" if tiff[:2] == b"II" else ">"
    (offset,) = struct.unpack_from(order + "I", tiff, 4)
    (count,) = struct.unpack_from(order + "H", tiff, offset)
    for i in range(count):
        tag, _kind, _n, value = struct.unpack_from(order + "HHIH", tiff, offset + 2 + 12 * i)
        if tag == 0x0112:
            return int(value)
    return 1


def _webp_size(head: bytes) -> tuple[int, int] | None:
    chunk = head[12:16]
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        width = int.from_bytes(head[24:27], "little") + 1
        height = int.from_bytes(head[27:30], "little") + 1
        return width, height
    return None


def _tiff_size(fh: BinaryIO, order: str) -> tuple[int, int] | None:
    fh.seek(4)
    (offset,) = struct.unpack(order + "I", fh.read(4))
    fh.seek(offset)
    (count,) = struct.unpack(order + "H", fh.read(2))
    size: dict[int, int] = {}
    for _ in range(min(count, 512)):
        tag, kind, _n, value = struct.unpack(order + "HHI4s", fh.read(12))
        if tag in (256, 257):
            fmt = "H" if kind == 3 else "I"
            size[tag] = struct.unpack(order + fmt, value[:struct.calcsize(fmt)])[0]
    if 256 in size and 257 in size:
        return size[256], size[257]
    return None
