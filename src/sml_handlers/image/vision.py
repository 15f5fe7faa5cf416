"""Uploaded images -> digit model inputs: bounded decoding, load_digits()-like framing, and a
scanned row of digits (a form field such as an account number) split into cells.

``decode`` is the only place untrusted bytes reach Pillow: it refuses oversized uploads, accepts
only PNG and JPEG, checks the declared size before any pixel data is decoded, and turns every
failure into ``BadImage(reason)`` so a handler can answer 400 without catching Pillow's zoo of
exception types.

``to_digit_input`` reproduces how ``load_digits()`` frames a digit (measured on all 1797 images:
every one has ink >= 4/16 in its top and bottom rows; ink spans 6 of 8 columns, centered), so the
ink's bounding box is fitted to the full 8 rows, centered, with no margin, then area-averaged
(like load_digits' 4x4 block counts) and scaled so the strongest ink is 1.0.
"""

from __future__ import annotations

import io
import itertools
import math
import warnings
from typing import Final

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

FORMATS: Final = ("PNG", "JPEG")
REASONS: Final = frozenset({"not_an_image", "too_large_bytes", "too_many_pixels", "corrupt"})
SIDE: Final = 8  # the model's input is [1, 8, 8]
FRAME_MARGIN: Final = 0.0  # share of the ink box added on each side (load_digits: none)
MIN_CONTRAST: Final = 32.0  # ink must differ from the paper by this many gray levels (of 255)
INK_FLOOR: Final = 0.1  # ink fainter than this share of the strongest is paper noise
# segment_row: proportions of the row's ink height (H) and of the typical cell width (W)
FRAGMENT_HEIGHT: Final = 0.5  # a run shorter than 0.5 H ...
FRAGMENT_WIDTH: Final = 0.5  # ... and narrower than 0.5 W is a fragment of a digit
FRAGMENT_REACH: Final = 0.5  # merged into a neighbour at most 0.5 W away, else dropped if faint
FRAGMENT_MIN_MASS: Final = 0.05  # kept alone only with >= 5% of a typical cell's ink
SINGLE_WIDTH: Final = (0.55, 1.1)  # a tall run this wide (x H) is one digit (a "1" is narrower)
WIDE_BLOB: Final = 1.5  # a run wider than 1.5 W holds several touching digits
CUT_WINDOW: Final = 0.25  # each even cut moves to the faintest column within +-0.25 W
DEFAULT_CELL_ASPECT: Final = 0.7  # W when no run looks like a single digit: 0.7 H
CELL_FRAME: Final = 0.1  # paper kept around each cell (share of its larger side, >= 2 px)


class BadImage(ValueError):
    """An upload that is not a usable PNG/JPEG; ``reason`` is one of ``REASONS``."""

    def __init__(self, reason: str, detail: str = "") -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown BadImage reason {reason!r}")
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def decode(data: bytes, *, max_pixels: int, max_bytes: int) -> Image.Image:
    """The upload as a grayscale ("L") image, EXIF rotation applied; ``BadImage`` otherwise.

    Transparent pixels are laid on white; 16-bit PNGs are scaled to 8 bits.
    """
    if len(data) > max_bytes:
        raise BadImage("too_large_bytes", f"{len(data)} bytes > {max_bytes}")
    try:
        with warnings.catch_warnings():
            # Pillow only warns up to 2x MAX_IMAGE_PIXELS; the max_pixels check below decides.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(FORMATS)) as opened:
                width, height = opened.size
                if width * height > max_pixels:  # declared size: nothing decoded yet
                    raise BadImage("too_many_pixels", f"{width}x{height} > {max_pixels} pixels")
                opened.load()
                return grayscale(ImageOps.exif_transpose(opened))
    except BadImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise BadImage("too_many_pixels", str(error)) from None
    except UnidentifiedImageError:
        raise BadImage("not_an_image", f"not one of {', '.join(FORMATS)}") from None
    except Exception as error:  # OSError (truncated), SyntaxError, ValueError, EOFError, ...
        raise BadImage("corrupt", f"{type(error).__name__}: {error}") from None


def grayscale(image: Image.Image) -> Image.Image:
    """``image`` as mode "L": alpha composited on white, 16/32-bit integers scaled to 0..255."""
    if image.mode == "L":
        return image
    if image.mode.startswith("I"):
        values = np.asarray(image, dtype=np.float64) / 257.0
        return Image.fromarray(np.clip(np.rint(values), 0, 255).astype(np.uint8))
    if "A" in image.getbands() or "transparency" in image.info:
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    return image.convert("L")


def _ink(gray: np.ndarray) -> tuple[np.ndarray, float]:
    """Ink strength (bright ink, paper ~0) and the paper's gray level (median of the border).

    A bright border means dark ink on light paper, the common upload: it is inverted.
    """
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    paper = float(np.median(border))
    strength = paper - gray if paper > 127.5 else gray - paper
    return np.clip(strength, 0.0, None), paper


def to_digit_input(image: Image.Image) -> np.ndarray:
    """float32 [1, 8, 8] in 0..1 like ``load_digits().images / 16``; zeros if there is no ink."""
    out = np.zeros((1, SIDE, SIDE), dtype=np.float32)
    ink, _ = _ink(np.asarray(grayscale(image), dtype=np.float64))
    peak = float(ink.max()) if ink.size else 0.0
    if peak < MIN_CONTRAST:
        return out
    ink[ink < peak * INK_FLOOR] = 0.0
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    height, width = crop.shape
    side = max(height, width) * (1.0 + 2.0 * FRAME_MARGIN)
    pad_y, pad_x = math.ceil((side - height) / 2), math.ceil((side - width) / 2)
    padded = np.pad(crop, ((pad_y, pad_y), (pad_x, pad_x))).astype(np.float32)
    center_x, center_y = pad_x + width / 2, pad_y + height / 2
    box = (center_x - side / 2, center_y - side / 2, center_x + side / 2, center_y + side / 2)
    small = Image.fromarray(padded).resize((SIDE, SIDE), Image.Resampling.BOX, box=box)
    values = np.asarray(small, dtype=np.float32)
    brightest = float(values.max())
    if brightest > 0:
        out[0] = np.clip(values / brightest, 0.0, 1.0)
    return out


def otsu_threshold(values: np.ndarray) -> float:
    """Otsu's threshold over 256 bins of ``values`` in 0..255: ``values > t`` is the bright class."""
    histogram, _ = np.histogram(values, bins=256, range=(0.0, 256.0))
    share = histogram / max(1, int(histogram.sum()))
    below = np.cumsum(share)
    mean_below = np.cumsum(share * np.arange(256))
    between = (mean_below[-1] * below - mean_below) ** 2
    spread = below * (1.0 - below)
    scores = np.divide(between, spread, out=np.zeros_like(between), where=spread > 0)
    return float(np.argmax(scores)) + 1.0 - 1e-9  # bin t and below are background


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of True."""
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()
    return list(zip(starts, stops, strict=True))


def _run_height(mask: np.ndarray, run: tuple[int, int]) -> int:
    rows = np.flatnonzero(mask[:, run[0] : run[1]].any(axis=1))
    return int(rows[-1] - rows[0] + 1) if rows.size else 0


def _typical_width(mask: np.ndarray, runs: list[tuple[int, int]], height: int) -> float:
    """Median width of the runs that look like one digit (tall, 0.55-1.1 H wide); else 0.7 H."""
    widths = [
        stop - start
        for start, stop in runs
        if _run_height(mask, (start, stop)) >= FRAGMENT_HEIGHT * height
        and SINGLE_WIDTH[0] * height <= stop - start <= SINGLE_WIDTH[1] * height
    ]
    return float(np.median(widths)) if widths else DEFAULT_CELL_ASPECT * height


def _merge_fragments(
    mask: np.ndarray, runs: list[tuple[int, int]], height: int, typical: float
) -> list[tuple[int, int]]:
    """Join each short, narrow run to its nearer neighbour when close; drop it when far and faint."""
    masses = [int(mask[:, a:b].sum()) for a, b in runs]
    typical_mass = float(np.median(masses)) if masses else 0.0
    cells = list(runs)
    changed = True
    while changed and len(cells) > 1:
        changed = False
        for i, (start, stop) in enumerate(cells):
            short = _run_height(mask, (start, stop)) < FRAGMENT_HEIGHT * height
            if not short or stop - start >= FRAGMENT_WIDTH * typical:
                continue
            gaps = [
                (start - cells[i - 1][1], i - 1) if i > 0 else (math.inf, -1),
                (cells[i + 1][0] - stop, i + 1) if i + 1 < len(cells) else (math.inf, -1),
            ]
            gap, neighbour = min(gaps)
            if gap <= FRAGMENT_REACH * typical:
                low, high = sorted((i, neighbour))
                cells[low : high + 1] = [(cells[low][0], cells[high][1])]
            elif mask[:, start:stop].sum() < FRAGMENT_MIN_MASS * typical_mass:
                del cells[i]
            else:
                continue
            changed = True
            break
    return cells


def _split_wide(
    mask: np.ndarray, runs: list[tuple[int, int]], typical: float
) -> list[tuple[int, int]]:
    """Cut each run wider than 1.5 W into round(width / W) cells, each cut at the faintest column
    near its even position."""
    column_ink = mask.sum(axis=0)
    cells: list[tuple[int, int]] = []
    for start, stop in runs:
        width = stop - start
        if width <= WIDE_BLOB * typical:
            cells.append((start, stop))
            continue
        parts = max(2, round(width / typical))
        reach = max(1, round(CUT_WINDOW * typical))
        cuts = [start]
        for k in range(1, parts):
            even = start + round(k * width / parts)
            low, high = max(cuts[-1] + 1, even - reach), min(stop - 1, even + reach)
            window = column_ink[low : high + 1]
            cuts.append(low + int(np.argmin(window)) if window.size else even)
        cuts.append(stop)
        cells.extend((a, b) for a, b in itertools.pairwise(cuts) if b > a)
    return cells


def segment_row(image: Image.Image) -> list[Image.Image]:
    """The digits of one scanned row, left to right, each cropped to its ink (plus a thin frame of
    the row's paper, so each cell reads like an upload of its own); [] if there is no ink.

    Ink is Otsu-binarized; cells are runs of inked columns, fragments merged, wide blobs split.
    """
    gray_image = grayscale(image)
    ink, paper = _ink(np.asarray(gray_image, dtype=np.float64))
    if ink.size == 0 or float(ink.max()) < MIN_CONTRAST:
        return []
    mask = ink > otsu_threshold(ink)
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return []
    height = int(rows[-1] - rows[0] + 1)
    runs = _runs(np.asarray(mask.any(axis=0)))
    typical = _typical_width(mask, runs, height)
    runs = _split_wide(mask, _merge_fragments(mask, runs, height, typical), typical)
    cells = []
    for start, stop in runs:
        inked = np.flatnonzero(mask[:, start:stop].any(axis=1))
        cell = gray_image.crop((start, int(inked[0]), stop, int(inked[-1]) + 1))
        frame = max(2, round(CELL_FRAME * max(cell.size)))
        cells.append(ImageOps.expand(cell, border=frame, fill=round(paper)))
    return cells
