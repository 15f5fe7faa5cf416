"""Image preprocessing for the digits handler: bounded decoding, load_digits()-like framing and
row segmentation, checked with the committed digits ONNX model on rendered uploads.

Uploads are made here: held-out load_digits() samples (the test split listed in the model card)
scaled up with Pillow, as dark ink on white and white ink on black, saved as PNG or JPEG.
"""

from __future__ import annotations

import io
import json
import struct
import warnings
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from sml_handlers.image.vision import REASONS, BadImage, decode, segment_row, to_digit_input

REPO = Path(__file__).resolve().parents[2]
DIGITS_DIR = REPO / "src" / "serverless_ml" / "models" / "artifacts" / "digits"
MAX_PIXELS = 4_000_000
MAX_BYTES = 2_000_000
NEAREST, BILINEAR, BICUBIC = (
    Image.Resampling.NEAREST,
    Image.Resampling.BILINEAR,
    Image.Resampling.BICUBIC,
)


@pytest.fixture(scope="module")
def digits() -> Any:
    return load_digits()


@pytest.fixture(scope="module")
def test_indices() -> np.ndarray:
    card = json.loads((DIGITS_DIR / "model_card.json").read_text(encoding="utf-8"))
    return np.asarray(card["training"]["split"]["test_indices"])


@pytest.fixture(scope="module")
def session() -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(
        str(DIGITS_DIR / "model.onnx"), options, providers=["CPUExecutionProvider"]
    )


def classify(session: ort.InferenceSession, inputs: Sequence[np.ndarray]) -> np.ndarray:
    (probabilities,) = session.run(["probabilities"], {"image": np.stack(inputs)})
    return np.asarray(probabilities).argmax(axis=1)


def tile(image8: np.ndarray, scale: int, resample: Image.Resampling = NEAREST) -> np.ndarray:
    """A load_digits() image (0..16) as white ink on black, ``8 * scale`` pixels square."""
    small = Image.fromarray(np.rint(image8 / 16.0 * 255.0).astype(np.uint8))
    return np.asarray(small.resize((8 * scale, 8 * scale), resample))


def encode(ink_bright: np.ndarray, *, dark_on_light: bool, fmt: str) -> bytes:
    pixels = 255 - ink_bright if dark_on_light else ink_bright
    buffer = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8)).save(
        buffer, fmt, **({"quality": 85} if fmt == "JPEG" else {})
    )
    return buffer.getvalue()


def upload(
    image8: np.ndarray,
    rng: np.random.Generator,
    *,
    dark_on_light: bool,
    fmt: str,
    resample: Image.Resampling,
) -> bytes:
    """One digit scaled 3-12x onto a larger canvas at a random place, encoded."""
    scale = int(rng.integers(3, 13))
    digit = tile(image8, scale, resample)
    canvas = np.zeros((digit.shape[0] + int(rng.integers(8, 40)),) * 2, dtype=np.uint8)
    top, left = (int(rng.integers(2, 8)) for _ in range(2))
    canvas[top : top + digit.shape[0], left : left + digit.shape[1]] = digit
    return encode(canvas, dark_on_light=dark_on_light, fmt=fmt)


def row_image(tiles: Sequence[np.ndarray], gaps: Sequence[int], *, overlap: int = 0) -> np.ndarray:
    """Tiles side by side (white ink on black) with ``gaps`` columns between them, or overlapping
    by ``overlap`` columns (ink combined with max), inside a 12-pixel margin."""
    side = tiles[0].shape[0]
    lefts, x = [], 12
    for index, piece in enumerate(tiles):
        lefts.append(x)
        x += piece.shape[1] - overlap + (gaps[index] if index < len(gaps) else 0)
    canvas = np.zeros((side + 24, x + overlap + 12), dtype=np.uint8)
    for left, piece in zip(lefts, tiles, strict=True):
        window = canvas[12 : 12 + side, left : left + piece.shape[1]]
        np.maximum(window, piece, out=window)
    return canvas


# --- reading single digits -----------------------------------------------------------------------

RENDERINGS = [
    (True, "PNG", NEAREST),
    (True, "JPEG", BICUBIC),
    (False, "PNG", BILINEAR),
    (False, "JPEG", NEAREST),
]


def test_upscaled_held_out_digits_are_read_correctly(
    digits: Any, test_indices: np.ndarray, session: ort.InferenceSession
) -> None:
    rng = np.random.default_rng(11)
    inputs, kinds = [], []
    for position, index in enumerate(test_indices):
        dark, fmt, resample = RENDERINGS[position % len(RENDERINGS)]
        data = upload(digits.images[index], rng, dark_on_light=dark, fmt=fmt, resample=resample)
        inputs.append(to_digit_input(decode(data, max_pixels=MAX_PIXELS, max_bytes=MAX_BYTES)))
        kinds.append(position % len(RENDERINGS))
    correct = classify(session, inputs) == digits.target[test_indices]
    assert len(correct) >= 300
    assert correct.mean() >= 0.9, f"accuracy {correct.mean():.3f}"
    for kind in range(len(RENDERINGS)):  # no rendering is far worse than the others
        assert correct[np.asarray(kinds) == kind].mean() >= 0.85, RENDERINGS[kind]


def test_input_is_like_load_digits(digits: Any, test_indices: np.ndarray) -> None:
    """A centered digit (ink in columns 1-6, clear edges) upscaled with NEAREST comes back as the
    original /16, up to the faintest pixels that count as paper noise."""
    checked = 0
    for index in test_indices:
        image8 = digits.images[index]
        columns = np.flatnonzero(image8.max(axis=0) > 0)
        edge_columns, edge_rows = (
            image8[:, columns[[0, -1]]].max(axis=0),
            image8[[0, -1]].max(axis=1),
        )
        edges_clear = min(edge_columns.min(), edge_rows.min()) >= 4
        if columns.tolist() != [1, 2, 3, 4, 5, 6] or image8.max() != 16 or not edges_clear:
            continue
        data = encode(tile(image8, 5), dark_on_light=True, fmt="PNG")
        got = to_digit_input(decode(data, max_pixels=MAX_PIXELS, max_bytes=MAX_BYTES))
        assert got.shape == (1, 8, 8) and got.dtype == np.float32
        assert got.max() == pytest.approx(1.0) and got.min() >= 0.0
        assert np.abs(got[0] - image8 / 16.0).max() <= 1 / 16 + 1e-6
        checked += 1
    assert checked >= 20


def test_polarity_is_detected(digits: Any, test_indices: np.ndarray) -> None:
    for index in test_indices[:10]:
        digit = tile(digits.images[index], 6)
        canvas = np.pad(digit, 10)
        dark = decode(
            encode(canvas, dark_on_light=True, fmt="PNG"),
            max_pixels=MAX_PIXELS,
            max_bytes=MAX_BYTES,
        )
        bright = decode(
            encode(canvas, dark_on_light=False, fmt="PNG"),
            max_pixels=MAX_PIXELS,
            max_bytes=MAX_BYTES,
        )
        np.testing.assert_allclose(to_digit_input(dark), to_digit_input(bright), atol=1e-6)


def test_no_ink_gives_zeros() -> None:
    rng = np.random.default_rng(3)
    noisy_paper = np.clip(230 + rng.normal(0, 3, (60, 50)), 0, 255).astype(np.uint8)
    images = [
        Image.new("L", (40, 40), 255),
        Image.new("L", (40, 40), 0),
        Image.new("L", (1, 1), 128),
        decode(
            encode(255 - noisy_paper, dark_on_light=True, fmt="JPEG"),
            max_pixels=MAX_PIXELS,
            max_bytes=MAX_BYTES,
        ),
    ]
    for image in images:
        got = to_digit_input(image)
        assert got.shape == (1, 8, 8) and got.dtype == np.float32
        assert not got.any()
    assert segment_row(Image.new("L", (200, 40), 255)) == []


def test_transparent_and_16_bit_pngs_decode(
    digits: Any, test_indices: np.ndarray, session: ort.InferenceSession
) -> None:
    index = int(test_indices[0])
    digit = np.pad(tile(digits.images[index], 6), 8)
    # black ink on a fully transparent background (RGB under the alpha is black too)
    rgba = np.zeros((*digit.shape, 4), dtype=np.uint8)
    rgba[..., 3] = digit
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, "PNG")
    transparent = decode(buffer.getvalue(), max_pixels=MAX_PIXELS, max_bytes=MAX_BYTES)
    assert transparent.mode == "L"
    wide = Image.fromarray(digit.astype(np.uint16) * 257)
    buffer = io.BytesIO()
    wide.save(buffer, "PNG")
    sixteen = decode(buffer.getvalue(), max_pixels=MAX_PIXELS, max_bytes=MAX_BYTES)
    assert sixteen.mode == "L"
    np.testing.assert_array_equal(np.asarray(sixteen), digit)
    predicted = classify(session, [to_digit_input(transparent), to_digit_input(sixteen)])
    assert predicted.tolist() == [digits.target[index]] * 2


def test_exif_rotation_is_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    buffer = io.BytesIO()
    Image.new("L", (30, 20), 255).save(buffer, "JPEG", exif=exif.tobytes())
    assert decode(buffer.getvalue(), max_pixels=MAX_PIXELS, max_bytes=MAX_BYTES).size == (20, 30)


# --- rows of digits ------------------------------------------------------------------------------


def read_row(session: ort.InferenceSession, image: Image.Image) -> str:
    cells = segment_row(image)
    if not cells:
        return ""
    return "".join(str(d) for d in classify(session, [to_digit_input(c) for c in cells]))


def test_rows_with_gaps_are_segmented_and_read(
    digits: Any, test_indices: np.ndarray, session: ort.InferenceSession
) -> None:
    rng = np.random.default_rng(5)
    counted = read = digits_right = digits_total = 0
    n_rows = 50
    for row in range(n_rows):
        chosen = rng.choice(test_indices, int(rng.integers(3, 9)), replace=False)
        scale = int(rng.integers(4, 10))
        tiles = [
            tile(digits.images[i], scale, BICUBIC if row % 3 == 0 else NEAREST) for i in chosen
        ]
        gaps = [int(rng.integers(0, 2 * scale)) for _ in chosen]
        data = encode(row_image(tiles, gaps), dark_on_light=True, fmt=("PNG", "JPEG")[row % 2])
        text = read_row(session, decode(data, max_pixels=MAX_PIXELS, max_bytes=MAX_BYTES))
        expected = "".join(str(digits.target[i]) for i in chosen)
        counted += len(text) == len(expected)
        read += text == expected
        if len(text) == len(expected):
            digits_right += sum(a == b for a, b in zip(text, expected, strict=True))
        digits_total += len(expected)
    assert counted >= 0.95 * n_rows, f"{counted}/{n_rows} rows split into the right count"
    assert read >= 0.7 * n_rows, f"{read}/{n_rows} rows read exactly"
    assert digits_right >= 0.9 * digits_total


def test_touching_digits_are_split_by_the_typical_width(
    digits: Any, test_indices: np.ndarray
) -> None:
    rng = np.random.default_rng(8)
    counted = merged = 0
    n_rows = 30
    for _ in range(n_rows):
        chosen = rng.choice(test_indices, int(rng.integers(3, 7)), replace=False)
        tiles = [tile(digits.images[i], 6) for i in chosen]
        canvas = row_image(tiles, [], overlap=12)  # neighbouring ink columns meet
        inked = canvas.max(axis=0) > 127
        blobs = int(np.sum(np.diff(inked.astype(int)) == 1))
        merged += blobs < len(chosen)
        cells = segment_row(Image.fromarray(255 - canvas))
        counted += len(cells) == len(chosen)
    assert merged >= n_rows // 3  # the split path is exercised
    assert counted >= 0.8 * n_rows, f"{counted}/{n_rows} rows split into the right count"


def test_fragments_join_their_digit_and_far_specks_are_dropped(
    digits: Any, test_indices: np.ndarray, session: ort.InferenceSession
) -> None:
    chosen = test_indices[:3]
    tiles = [tile(digits.images[i], 6) for i in chosen]
    canvas = row_image(tiles, [30, 30])
    plain = segment_row(Image.fromarray(255 - canvas))
    assert len(plain) == 3
    # a short stub just right of the first digit's ink: a fragment of that digit
    first_ink = np.flatnonzero(canvas[:, :60].max(axis=0) > 127)[-1]
    with_fragment = canvas.copy()
    with_fragment[30:36, first_ink + 4 : first_ink + 9] = 255
    cells = segment_row(Image.fromarray(255 - with_fragment))
    assert len(cells) == 3
    assert cells[0].width > plain[0].width
    # a 2x2 speck far right of the row: dropped
    speckled = np.pad(canvas, ((0, 0), (0, 80)))
    speckled[20:22, -20:-18] = 255
    cells = segment_row(Image.fromarray(255 - speckled))
    assert [c.size for c in cells] == [c.size for c in plain]
    expected = "".join(str(digits.target[i]) for i in chosen)
    assert read_row(session, Image.fromarray(255 - speckled)) == read_row(
        session, Image.fromarray(255 - canvas)
    )
    assert len(expected) == 3


def test_cells_are_cropped_to_their_ink_left_to_right(digits: Any) -> None:
    zero = tile(digits.images[0], 5)  # load_digits()[0] is a 0
    bar = np.zeros_like(zero)
    bar[:, 15:23] = 255  # a plain vertical stroke: a narrow, full-height "1"
    canvas = row_image([zero, bar, zero], [15, 15])
    cells = segment_row(Image.fromarray(255 - canvas))
    assert len(cells) == 3
    for cell, piece in zip(cells, (zero, bar, zero), strict=True):
        ink = piece >= 128
        rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
        height, width = int(np.ptp(rows)) + 1, int(np.ptp(cols)) + 1
        frame = max(2, round(0.1 * max(height, width)))
        assert abs(cell.height - (height + 2 * frame)) <= 5  # within one source pixel
        assert abs(cell.width - (width + 2 * frame)) <= 5
        assert np.asarray(cell)[0].min() > 200  # a frame of white paper
    assert cells[1].size == (8 + 2 * 4, 40 + 2 * 4)  # the bar, exactly, with its frame


# --- refusing bad uploads ------------------------------------------------------------------------


def png_bytes(width: int = 16, height: int = 16, *, noise: bool = True) -> bytes:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (height, width)) if noise else np.full((height, width), 255)
    buffer = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def with_declared_size(png: bytes, width: int, height: int) -> bytes:
    """``png`` with its IHDR claiming ``width`` x ``height`` (CRC fixed): a tiny file that says
    it is huge."""
    assert png[12:16] == b"IHDR"
    body = struct.pack(">II", width, height) + png[24:29]
    chunk = b"IHDR" + body
    return png[:12] + chunk + struct.pack(">I", zlib.crc32(chunk)) + png[33:]


def saved(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), (255, 255, 255)).save(buffer, fmt)
    return buffer.getvalue()


def jpeg_bytes() -> bytes:
    rng = np.random.default_rng(1)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (64, 64)).astype(np.uint8)).save(buffer, "JPEG")
    return buffer.getvalue()


BAD_UPLOADS = {
    "random bytes": (np.random.default_rng(2).bytes(500), MAX_PIXELS, MAX_BYTES, "not_an_image"),
    "empty": (b"", MAX_PIXELS, MAX_BYTES, "not_an_image"),
    "gif": (saved("GIF"), MAX_PIXELS, MAX_BYTES, "not_an_image"),
    "bmp": (saved("BMP"), MAX_PIXELS, MAX_BYTES, "not_an_image"),
    "png signature only": (png_bytes()[:8], MAX_PIXELS, MAX_BYTES, "not_an_image"),
    "over max_bytes": (png_bytes(), MAX_PIXELS, len(png_bytes()) - 1, "too_large_bytes"),
    "declares 5000x5000": (
        with_declared_size(png_bytes(), 5000, 5000),
        MAX_PIXELS,
        MAX_BYTES,
        "too_many_pixels",
    ),
    "declares 100000x100000 (Pillow's own bomb error)": (
        with_declared_size(png_bytes(), 100_000, 100_000),
        10**12,
        MAX_BYTES,
        "too_many_pixels",
    ),
    "truncated png": (png_bytes(64, 64)[:-600], MAX_PIXELS, MAX_BYTES, "corrupt"),
    "png with a damaged pixel chunk": (
        (lambda raw: raw[:60] + bytes(b ^ 0x5A for b in raw[60:120]) + raw[120:])(
            png_bytes(64, 64)
        ),
        MAX_PIXELS,
        MAX_BYTES,
        "corrupt",
    ),
    "truncated jpeg": (jpeg_bytes()[: len(jpeg_bytes()) // 2], MAX_PIXELS, MAX_BYTES, "corrupt"),
}


@pytest.mark.parametrize("case", sorted(BAD_UPLOADS))
def test_bad_uploads_raise_bad_image_with_a_reason(case: str) -> None:
    data, max_pixels, max_bytes, reason = BAD_UPLOADS[case]
    with pytest.raises(BadImage) as caught:
        decode(data, max_pixels=max_pixels, max_bytes=max_bytes)
    assert caught.value.reason == reason
    assert isinstance(caught.value, ValueError)
    assert str(caught.value).startswith(reason)


def test_every_reason_is_produced_by_some_upload() -> None:
    assert {reason for *_, reason in BAD_UPLOADS.values()} == REASONS


def test_pixel_limit_is_checked_before_decoding_and_pillow_does_not_warn() -> None:
    """A 9000x11000 claim is between Pillow's warning and error limits: our limit decides, and
    the file (whose pixel data would not even decode) is refused as too large, not corrupt."""
    huge = with_declared_size(png_bytes(), 9_000, 11_000)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with pytest.raises(BadImage) as caught:
            decode(huge, max_pixels=MAX_PIXELS, max_bytes=MAX_BYTES)
    assert caught.value.reason == "too_many_pixels"
    assert not [w for w in seen if issubclass(w.category, Image.DecompressionBombWarning)]
    with pytest.raises(BadImage) as caught:  # allowed by our limit: now the data is read
        decode(huge, max_pixels=10**9, max_bytes=MAX_BYTES)
    assert caught.value.reason == "corrupt"


def test_limits_are_inclusive() -> None:
    data = png_bytes(20, 10)
    image = decode(data, max_pixels=200, max_bytes=len(data))
    assert (image.mode, image.size) == ("L", (20, 10))
    with pytest.raises(BadImage, match="too_many_pixels"):
        decode(data, max_pixels=199, max_bytes=len(data))


def test_bad_image_rejects_unknown_reasons() -> None:
    with pytest.raises(ValueError, match="unknown"):
        BadImage("nope")
