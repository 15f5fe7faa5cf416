"""Uploads for the image-processing service: handwritten digits from ``load_digits()`` drawn
as a phone or scanner would save them (dark ink on white, scaled up, PNG or JPEG), rows of
digits as scanned form fields, and files that are not images the handler can read."""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from typing import Final

import numpy as np

from serverless_ml.models.digits_model import load_data

SCALE: Final = 8  # an 8x8 digit saved as 64x64 pixels
ROW_GAP: Final = 24


@dataclass(frozen=True, slots=True)
class Upload:
    """One object to put: its key under the watched prefix, bytes, and what it should read as
    (``expected`` is ``None`` for a file the handler must record as failed)."""

    key: str
    body: bytes
    content_type: str
    expected: str | None


def digit_image(index: int, *, fmt: str = "PNG", scale: int = SCALE) -> bytes:
    """Digit sample ``index`` as an image file."""
    from PIL import Image

    digits = load_data()
    pixels = (255 - digits.images[index % len(digits.images), 0] * 255).astype(np.uint8)
    image = Image.fromarray(pixels, mode="L").resize(
        (8 * scale, 8 * scale), Image.Resampling.NEAREST
    )
    buffer = io.BytesIO()
    image.convert("RGB" if fmt == "JPEG" else "L").save(buffer, format=fmt)
    return buffer.getvalue()


def digit_row(indices: list[int], *, gap: int = ROW_GAP, scale: int = SCALE) -> bytes:
    """A scanned form field: digits side by side with blank gaps, as a PNG."""
    from PIL import Image

    cells = [Image.open(io.BytesIO(digit_image(i, scale=scale))) for i in indices]
    width = sum(c.width for c in cells) + gap * (len(cells) + 1)
    row = Image.new("L", (width, cells[0].height + 2 * gap), 255)
    x = gap
    for cell in cells:
        row.paste(cell, (x, gap))
        x += cell.width + gap
    buffer = io.BytesIO()
    row.save(buffer, format="PNG")
    return buffer.getvalue()


def declared_png(width: int, height: int) -> bytes:
    """A tiny PNG that declares ``width x height`` pixels (a decompression bomb's header)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def label(index: int) -> str:
    digits = load_data()
    return str(int(digits.labels[index % len(digits.labels)]))


def unreadable(which: int) -> tuple[bytes, str]:
    """A file the handler must refuse, and its content type."""
    kinds = (
        (b"%PDF-1.7 not an image", "application/pdf"),
        (declared_png(60_000, 60_000), "image/png"),
        (digit_image(which)[:40], "image/png"),  # truncated
    )
    return kinds[which % len(kinds)]
