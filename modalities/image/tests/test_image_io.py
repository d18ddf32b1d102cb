"""Reading images: every accepted input kind, EXIF orientation, and the bad-image cases."""
from __future__ import annotations

import base64
import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from polymodal.errors import DataError
from polymodal_modality_image.io import MAX_PIXELS, load_image, read_size


def _png(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "PNG")
    return buf.getvalue()


def _png_header(width: int, height: int) -> bytes:
    """A PNG holding only a signature, an IHDR chunk and IEND: the size is known without pixel data."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def test_every_input_kind_gives_the_same_pixels(pattern, tmp_path):
    path = tmp_path / "p.png"
    data = _png(pattern)
    path.write_bytes(data)
    b64 = base64.b64encode(data).decode()
    rgba = np.concatenate([pattern, np.full(pattern.shape[:2] + (1,), 255, np.uint8)], axis=-1)
    values = [str(path), path, data, bytearray(data), b64, "data:image/png;base64," + b64,
              Image.fromarray(pattern), pattern, pattern.astype(np.float32) / 255.0, pattern.astype(np.int64),
              rgba, {"bytes": data, "path": None}, {"bytes": None, "path": str(path)}]
    for value in values:
        img = load_image(value, column="img")
        assert img.mode == "RGB" and img.size == (40, 30), type(value)
        assert np.array_equal(np.asarray(img), pattern), type(value)


def test_grayscale_bool_and_transparency():
    gray = np.arange(64, dtype=np.uint8).reshape(8, 8) * 4
    img = np.asarray(load_image(gray))
    assert img.shape == (8, 8, 3) and np.array_equal(img[..., 0], gray) and np.array_equal(img[..., 2], gray)
    mask = np.zeros((8, 8), bool)
    mask[2:4] = True
    assert np.asarray(load_image(mask))[2, 0, 0] == 255 and np.asarray(load_image(mask))[0, 0, 0] == 0
    clear = np.zeros((8, 8, 4), np.uint8)  # fully transparent black: shown over white
    assert (np.asarray(load_image(clear)) == 255).all()


def test_exif_orientation_is_applied(tmp_path):
    stored = np.zeros((20, 40, 3), np.uint8)
    stored[:, :10] = (255, 0, 0)  # red on the left of the stored pixels
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    path = tmp_path / "rot.jpg"
    Image.fromarray(stored).save(path, "JPEG", exif=exif.tobytes(), quality=95)
    img = np.asarray(load_image(path, column="img"))
    assert img.shape == (40, 20, 3)  # displayed: 20 wide, 40 high
    assert img[:8, :, 0].mean() > 200 and img[:8, :, 1].mean() < 60  # the stored left edge is now the top
    assert img[-20:, :, 0].mean() < 60
    assert read_size(path) == (20, 40)
    assert read_size(stored) == (40, 20)


@pytest.mark.parametrize("case", ["truncated", "text", "tiny", "huge_header", "bomb_header", "empty"])
def test_bad_image_files_are_data_errors_naming_the_column(case, tmp_path, pattern):
    path = tmp_path / "bad.png"
    if case == "truncated":
        buf = io.BytesIO()
        Image.fromarray(np.tile(pattern, (8, 8, 1))).save(buf, "JPEG", quality=90)
        path = tmp_path / "bad.jpg"
        path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
        match = "truncated"
    elif case == "text":
        path.write_text("this is not an image\n")
        match = "not a readable image"
    elif case == "tiny":
        path.write_bytes(_png(np.zeros((1, 1, 3), np.uint8)))
        match = "at least"
    elif case == "huge_header":
        path.write_bytes(_png_header(8000, 6000))  # 48 MP: under PIL's guard, over ours
        match = "megapixels"
    elif case == "bomb_header":
        path.write_bytes(_png_header(20000, 20000))  # 400 MP: PIL's decompression-bomb error
        match = "too large"
    else:
        path.write_bytes(b"")
        match = "not a readable image"
    with pytest.raises(DataError, match=match) as info:
        load_image(str(path), column="img")
    assert info.value.column == "img"
    assert info.value.source == str(path)


def test_limit_is_checked_before_decoding(tmp_path):
    # A header-only file cannot be decoded at all: reaching the size error proves the check came first.
    path = tmp_path / "big.png"
    path.write_bytes(_png_header(10000, 4001))
    assert 10000 * 4001 > MAX_PIXELS
    with pytest.raises(DataError, match="megapixels"):
        load_image(path)
    path.write_bytes(_png_header(100, 100))
    with pytest.raises(DataError, match="truncated"):
        load_image(path)


@pytest.mark.parametrize("value, match", [
    ("https://example.com/cat.jpg", "URL"),
    ("no/such/file.png", "no such image file"),
    ("", "empty"),
    (np.full((8, 8, 3), 2.0, np.float32), r"\[0, 1\]"),
    (np.full((8, 8, 3), np.nan, np.float32), "NaN"),
    (np.zeros((8, 8, 2), np.uint8), "channels"),
    (np.full((8, 8), 300, np.int32), "0-255"),
    (np.zeros((2, 50, 3), np.uint8), "at least"),
    (12345, "cannot read an image"),
    ("data:image/png,notbase64", "base64"),
])
def test_bad_values_are_data_errors(value, match):
    with pytest.raises(DataError, match=match) as info:
        load_image(value, column="photo")
    assert info.value.column == "photo"


def test_huge_array_is_rejected_without_copying():
    big = np.broadcast_to(np.zeros((1, 1, 3), np.uint8), (7000, 7000, 3))  # 49 MP, no memory behind it
    with pytest.raises(DataError, match="megapixels"):
        load_image(big)


def test_sixteen_bit_images_are_scaled(tmp_path):
    a = (np.arange(64, dtype=np.uint16).reshape(8, 8) * 1000)
    path = tmp_path / "deep.png"
    Image.fromarray(a).save(path)
    img = np.asarray(load_image(Path(path)))
    assert img.max() == 255 and img[0, 0, 0] == 0 and abs(int(img[4, 0, 0]) - 32000 / 63000 * 255) <= 1
