"""Rendering toy-world image scenes with numpy, and writing them as PNG files.

Shapes are drawn from binary templates (one per shape and pixel size, cached): a square fills its ``s x s``
square, a circle of diameter ``s`` and an upward triangle of base and height ``s`` keep the pixels whose centres
fall inside the figure. No anti-aliasing, so every object's box is exact: the tight box of its template's
pixels, offset by where it is placed. Fill ratios (square 1.0, circle ~0.79, triangle ~0.5) tell the shapes
apart in a render, which is how generated images are judged.

Usage::

    from polymodal_plugin_toyworld.render import render, write_png
    pixels = render(image_scene)            # uint8 [canvas, canvas, 3]
    write_png(pixels, "scene.png")

PNG files are encoded with :mod:`zlib` (no image library needed); any reader opens them.
"""
from __future__ import annotations

import random
import struct
import zlib
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from polymodal_plugin_toyworld import vocab
from polymodal_plugin_toyworld.splits import stable_hash

if TYPE_CHECKING:
    from polymodal_plugin_toyworld.scenes import ImageScene

__all__ = ["object_mask", "mask_box", "render", "encode_png", "write_png"]


@lru_cache(maxsize=None)
def object_mask(shape: str, side: int) -> np.ndarray:
    """The read-only ``side x side`` boolean template of ``shape`` (``circle``, ``square``, ``triangle``)."""
    if side < 1:
        raise ValueError(f"a shape needs at least 1 pixel, got side={side}")
    centres = np.arange(side) + 0.5
    ys, xs = np.meshgrid(centres, centres, indexing="ij")
    half = side / 2
    if shape == "square":
        mask = np.ones((side, side), dtype=bool)
    elif shape == "circle":
        mask = (xs - half) ** 2 + (ys - half) ** 2 <= half ** 2
    elif shape == "triangle":
        # Apex at the top centre, base along the bottom edge.
        mask = np.abs(xs - half) <= ys / 2
    else:
        raise ValueError(f"unknown shape {shape!r}; expected one of {', '.join(vocab.SHAPES)}")
    mask.setflags(write=False)
    return mask


@lru_cache(maxsize=None)
def mask_box(shape: str, side: int) -> tuple[int, int, int, int]:
    """The tight box ``(x0, y0, x1, y1)`` (exclusive ends) of the template's pixels, relative to its square."""
    mask = object_mask(shape, side)
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def render(scene: "ImageScene", *, noise: float = 0.0, rng: random.Random | None = None) -> np.ndarray:
    """Draw an image scene: ``uint8 [canvas, canvas, 3]`` RGB.

    Args:
        scene: the laid-out scene (see :mod:`polymodal_plugin_toyworld.scenes`).
        noise: amplitude of uniform per-pixel noise added everywhere (0 = clean).
        rng: the random stream for the noise (default: seeded from the scene, so renders are reproducible).
    """
    canvas = np.empty((scene.canvas, scene.canvas, 3), dtype=np.uint8)
    canvas[:] = scene.background
    for obj, (x, y), side in zip(scene.objects, scene.origins, scene.sides):
        mask = object_mask(obj.shape, side)
        canvas[y:y + side, x:x + side][mask] = vocab.COLOR_RGB[obj.colour]
    if noise > 0:
        stream = rng or random.Random(stable_hash("noise", scene.boxes, scene.background))
        gen = np.random.default_rng(stream.getrandbits(63))
        jitter = gen.uniform(-noise, noise, size=canvas.shape)
        canvas = np.clip(canvas + jitter, 0, 255).round().astype(np.uint8)
    return canvas


def encode_png(pixels: np.ndarray) -> bytes:
    """Encode an ``HW`` (grey) or ``HWC`` (RGB) uint8 array as PNG bytes."""
    a = np.ascontiguousarray(pixels)
    if a.dtype != np.uint8:
        raise ValueError(f"PNG pixels must be uint8, got {a.dtype}")
    if a.ndim == 2:
        colour_type, channels = 0, 1
    elif a.ndim == 3 and a.shape[2] == 3:
        colour_type, channels = 2, 3
    else:
        raise ValueError(f"PNG pixels must be HW or HWC with 3 channels, got shape {a.shape}")
    height, width = a.shape[:2]
    # Filter type 0 (none) on every scanline.
    raw = np.concatenate([np.zeros((height, 1), np.uint8), a.reshape(height, width * channels)], axis=1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw.tobytes(), 6))
            + chunk(b"IEND", b""))


def write_png(pixels: np.ndarray, path: str | Path) -> Path:
    """Write ``pixels`` as a PNG file (parent folders created); return the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(encode_png(pixels))
    return out
