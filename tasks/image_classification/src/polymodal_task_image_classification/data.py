"""Classification data: an ImageNet-style class-folder loader, toy shapes and real digits, the majority baseline.

The real format is the class-folder tree (torchvision's ``ImageFolder`` layout, ImageNet after the usual
``valprep`` step)::

    root/train/n01440764/n01440764_10026.JPEG
    root/val/n01440764/ILSVRC2012_val_00000293.JPEG
    root/LOC_synset_mapping.txt        # optional: "n01440764 tench, Tinca tinca"

A class's name is its first name in ``LOC_synset_mapping.txt`` or ``synset_words.txt`` (in the root or its
parent) when one exists, else the folder name with ``_`` read as a space (``red_circle`` -> ``red circle``).

Toy sources:

- ``shapes`` (:func:`make_toy`): one rendered object per image, 18 classes colour x shape ("red circle"),
  balanced exactly, size and position random; majority baseline 1/18.
- ``digits`` (:func:`make_toy_digits`): scikit-learn's 1,797 real handwritten 8x8 digits, upscaled to 32x32,
  labels ``zero`` ... ``nine``; split by a hash of the index (80/10/10).

Usage::

    rows = load("imagenet", split="valid")                   # reads imagenet/val/<class>/*
    rows = make_toy(180, seed=0, split="train")
    paths = write_toy("out", n=180, seed=0)                  # out/{train,val,test}/<class>/*.png
"""
from __future__ import annotations

import random
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

from polymodal.datasets import canonical_split, toy_split_sizes
from polymodal.errors import DataError
from polymodal_plugin_toyworld import World, draw_balanced, vocab
from polymodal_plugin_toyworld.splits import split_of, split_rng

__all__ = ["load", "make_toy", "make_toy_digits", "write_toy", "write_toy_digits", "baseline", "SHAPE_LABELS",
           "IMAGE_SUFFIXES"]

_TASK = "image_classification"
#: The toy classes: every colour with every shape.
SHAPE_LABELS: tuple[str, ...] = tuple(f"{c} {s}" for c in vocab.COLORS for s in vocab.SHAPES)
#: File suffixes read as images (compared in lower case).
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm"})
# Folder names of each split in a class-folder tree, in the order they are tried.
_SPLIT_DIRS = {"train": ("train",), "valid": ("val", "valid", "validation", "dev"), "test": ("test",)}
_MAPPING_FILES = ("LOC_synset_mapping.txt", "synset_words.txt")


def _synset_names(root: Path) -> dict[str, str]:
    for folder in (root, root.parent):
        for name in _MAPPING_FILES:
            path = folder / name
            if path.is_file():
                names = {}
                for line in path.read_text(encoding="utf-8").splitlines():
                    key, _, rest = line.strip().partition(" ")
                    if key and rest:
                        names[key] = rest.split(",")[0].strip()
                return names
    return {}


def load(path: str | Path, split: str | None = None, *,
         class_names: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    """Read a class-folder tree into ``{"image": <path>, "label_name": <class name>}`` rows.

    Args:
        path: the tree's root (``root/<class>/<image>``), or a root holding split folders together with
            ``split``.
        split: ``train``, ``valid`` (folder ``val``/``valid``/``validation``/``dev``) or ``test``.
        class_names: folder name -> class name, overriding the synset file and folder names.

    Raises:
        DataError: no such folder, no split folder, or no image in the tree.
    """
    root = Path(path)
    if not root.is_dir():
        raise DataError("no such folder", task=_TASK, source=str(root))
    if split is not None:
        candidates = [root / d for d in _SPLIT_DIRS[canonical_split(split, _TASK)]]
        found = next((c for c in candidates if c.is_dir()), None)
        if found is None:
            raise DataError(f"no {split} folder (tried {', '.join(c.name for c in candidates)})", task=_TASK,
                            source=str(root))
        names_root, root = root, found
    else:
        names_root = root
    names = {**_synset_names(names_root), **(class_names or {})}
    rows: list[dict[str, str]] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        label = names.get(folder.name, folder.name.replace("_", " "))
        for file in sorted(folder.iterdir()):
            if file.is_file() and not file.name.startswith(".") and file.suffix.lower() in IMAGE_SUFFIXES:
                rows.append({"image": str(file), "label_name": label})
    if not rows:
        raise DataError("no images found in <root>/<class>/ folders", task=_TASK, source=str(root))
    return rows


def make_toy(n: int, seed: int = 0, split: str = "train", canvas: int = 48) -> list[dict[str, Any]]:
    """``n`` toy rows, one rendered object per image, the 18 colour-shape classes balanced exactly.

    Every class appears in every split (no held-out pairs here: a class never seen in training could not be
    among the closed set's labels); splits are disjoint by scene.
    """
    from polymodal_plugin_toyworld.scenes import layout
    from polymodal_plugin_toyworld.world import GRID, Scene

    split = canonical_split(split, _TASK)
    world = World(seed, held_out=0)

    def make(rng: random.Random, label: str) -> tuple[Any, str]:
        colour, shape = label.split()
        cell = rng.randrange(GRID * GRID)
        obj = world.random_object(rng, split, row=cell // GRID, col=cell % GRID, colour=colour, shape=shape)
        return layout(Scene((obj,)), rng, canvas), label

    items = draw_balanced(make, SHAPE_LABELS, n, seed, split, key=lambda it: (it[0].scene, it[0].origins),
                          stream="classification")
    return [{"image": scene.render(), "label_name": label} for scene, label in items]


@lru_cache(maxsize=1)
def _digits() -> tuple[Any, Any]:
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise DataError("the digits source needs scikit-learn (pip install polymodal-task-image-classification"
                        "[digits])", task=_TASK) from None
    data = load_digits()
    return data.images, data.target


def make_toy_digits(n: int, seed: int = 0, split: str = "train", size: int = 32) -> list[dict[str, Any]]:
    """Up to ``n`` rows of scikit-learn's real handwritten digits (8x8, 17 grey levels) upscaled to ``size``.

    Each digit belongs to one split by a hash of its index (80/10/10, so about 1,437/180/180 digits); asking
    for more than a split holds returns all of them. Images are ``uint8 [size, size, 3]`` (white ink on
    black, as in the data), labels ``zero`` ... ``nine``.
    """
    import numpy as np
    from PIL import Image

    split = canonical_split(split, _TASK)
    images, targets = _digits()
    indices = [i for i in range(len(images)) if split_of(("digits", i), seed) == split]
    split_rng(seed, split, "digits").shuffle(indices)
    rows = []
    for i in indices[:n]:
        grey = np.clip(np.rint(images[i] / 16.0 * 255.0), 0, 255).astype(np.uint8)
        big = np.asarray(Image.fromarray(grey, "L").resize((size, size), Image.BILINEAR))
        rows.append({"image": np.repeat(big[:, :, None], 3, axis=2), "label_name": vocab.number_word(int(targets[i]))})
    return rows


def _write_tree(out_dir: str | Path, n: int, seed: int, make: Any) -> list[Path]:
    from polymodal_plugin_toyworld.render import write_png

    paths: list[Path] = []
    sizes = toy_split_sizes(n)
    for split, folder in (("train", "train"), ("valid", "val"), ("test", "test")):
        rows = make(sizes[split], seed, split)
        for i, row in enumerate(rows):
            target = Path(out_dir) / folder / row["label_name"].replace(" ", "_") / f"{folder}_{i:06d}.png"
            paths.append(write_png(row["image"], target))
    return paths


def write_toy(out_dir: str | Path, n: int, seed: int = 0) -> list[Path]:
    """Write toy shapes as a class-folder tree ``<out_dir>/{train,val,test}/<red_circle>/*.png``.

    Args:
        out_dir: the tree's root (what :func:`load` takes with ``split=``).
        n: training images; ``val`` and ``test`` get ``max(1, n // 5)`` each.
        seed: fixes the data.

    Returns:
        The tree's root (the dataset :func:`load` reads), then every image written.
    """
    return [Path(out_dir), *_write_tree(out_dir, n, seed, make_toy)]


def write_toy_digits(out_dir: str | Path, n: int, seed: int = 0) -> list[Path]:
    """Write the real digits as a class-folder tree ``<out_dir>/{train,val,test}/<seven>/*.png``; returns the
    root, then every image written."""
    return [Path(out_dir), *_write_tree(out_dir, n, seed, make_toy_digits)]


def baseline(train_rows: Sequence[dict[str, Any]], eval_rows: Sequence[dict[str, Any]]) -> list[str]:
    """The majority class of the training rows, for every row (ties: first seen)."""
    counts = Counter(str(r["label_name"]) for r in train_rows if "label_name" in r)
    if not counts:
        raise DataError("the majority baseline needs training rows with 'label_name'", task=_TASK,
                        column="label_name")
    return [counts.most_common(1)[0][0]] * len(eval_rows)
