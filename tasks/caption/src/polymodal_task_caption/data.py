"""Captioning data: the Karpathy-split COCO loader, toy scenes in the same format, the most-frequent baseline.

The real format is Karpathy's ``dataset_coco.json`` (also ``dataset_flickr8k.json``/``dataset_flickr30k.json``,
which lack ``filepath``)::

    {"dataset": "coco", "images": [{"filepath": "val2014", "filename": "COCO_val2014_000000391895.jpg",
      "imgid": 0, "cocoid": 391895, "split": "test",
      "sentences": [{"raw": "A man with a red helmet on a small moped on a dirt road.", "tokens": [...], ...}]}]}

Splits: ``train`` reads Karpathy's ``train`` and ``restval`` images (the usual 113k), ``valid`` reads ``val``,
``test`` reads ``test``. Image paths are ``<image_root>/<filepath>/<filename>``; ``image_root`` defaults to the
JSON file's folder.

Rows: ``{"img": <path>, "cap": <a caption>, "captions": [<every caption of the image>], "image_id": ...}``. By
default one row per image with its first caption as ``cap``; ``per_sentence=True`` gives one row per caption
(how OFA trains on COCO).

Usage::

    rows = load("coco/dataset_coco.json", split="test", image_root="coco/images")
    rows = make_toy(100, seed=0, split="train")      # images as uint8 arrays
    paths = write_toy("out", n=200, seed=0)          # out/dataset_coco.json + out/images/<split>/*.png
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

from polymodal.datasets import canonical_split, toy_split_sizes
from polymodal.errors import DataError
from polymodal_plugin_toyworld import World, draw_split

__all__ = ["load", "make_toy", "write_toy", "baseline", "KARPATHY_SPLITS"]

_TASK = "caption"
#: Our split name -> the Karpathy split names it reads.
KARPATHY_SPLITS: dict[str, tuple[str, ...]] = {"train": ("train", "restval"), "valid": ("val",), "test": ("test",)}
_WRITE_SPLITS = {"train": "train", "valid": "val", "test": "test"}


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError("no such file", task=_TASK, source=str(path)) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"not a JSON file ({exc})", task=_TASK, source=str(path)) from None


def _find_json(path: Path) -> Path:
    if path.is_dir():
        found = sorted(path.glob("dataset_*.json"))
        if not found:
            raise DataError("no dataset_*.json (Karpathy split file) in this folder", task=_TASK, source=str(path))
        return found[0]
    return path


def load(path: str | Path, split: str = "train", *, image_root: str | Path | None = None,
         per_sentence: bool = False, restval: bool = True) -> list[dict[str, Any]]:
    """Read one split of a Karpathy caption file.

    Args:
        path: ``dataset_coco.json`` (or any ``dataset_*.json``), or the folder holding it.
        split: ``train``, ``valid`` or ``test`` (aliases ``val``, ``dev`` accepted).
        image_root: the folder image paths are relative to (default: the JSON file's folder).
        per_sentence: one row per caption instead of one per image.
        restval: whether ``train`` also reads Karpathy's ``restval`` images.

    Raises:
        DataError: naming the file and the 0-based image entry when the file is not in this format.
    """
    file = _find_json(Path(path))
    data = _read_json(file)
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise DataError("expected a Karpathy split file: an object with an 'images' list", task=_TASK,
                        source=str(file))
    ours = canonical_split(split, _TASK)
    wanted = set(KARPATHY_SPLITS[ours]) - (set() if restval or ours != "train" else {"restval"})
    root = Path(image_root) if image_root is not None else file.parent
    rows: list[dict[str, Any]] = []
    for i, entry in enumerate(data["images"]):
        if not isinstance(entry, dict) or "filename" not in entry or "split" not in entry:
            raise DataError("an image entry needs 'filename' and 'split'", task=_TASK, source=str(file), row=i)
        if entry["split"] not in wanted:
            continue
        captions = [str(s.get("raw", "")).strip() for s in entry.get("sentences") or [] if isinstance(s, dict)]
        captions = [c for c in captions if c]
        if not captions:
            raise DataError("the image has no sentences with 'raw' text", task=_TASK, source=str(file), row=i,
                            column="sentences")
        image = str(root / entry.get("filepath", "") / entry["filename"])
        image_id = entry.get("cocoid", entry.get("imgid", i))
        for cap in captions if per_sentence else captions[:1]:
            rows.append({"img": image, "cap": cap, "captions": list(captions), "image_id": image_id})
    return rows


def make_toy(n: int, seed: int = 0, split: str = "train", canvas: int = 64) -> list[dict[str, Any]]:
    """``n`` toy rows: rendered scenes of 1-4 shapes with their canonical caption and paraphrases.

    Splits are disjoint (by scene), and held-out colour-shape pairs appear only in ``test`` (unseen
    combinations of seen words). Images are ``uint8 [canvas, canvas, 3]`` arrays.
    """
    from polymodal_plugin_toyworld.scenes import random_image_scene

    split = canonical_split(split, _TASK)
    world = World(seed)
    scenes = draw_split(lambda rng: random_image_scene(world, rng, split, canvas=canvas), n, seed, split,
                        key=lambda s: (s.scene, s.origins), stream="caption")
    return [{"img": s.render(), "cap": s.caption(), "captions": s.captions()} for s in scenes]


def write_toy(out_dir: str | Path, n: int, seed: int = 0) -> list[Path]:
    """Write toy data as a Karpathy split file: ``<out_dir>/dataset_coco.json`` and PNGs under
    ``<out_dir>/images/<split>/``; :func:`load` reads it back (the canonical caption is each image's first).

    Args:
        out_dir: the output folder.
        n: training images; ``val`` and ``test`` get ``max(1, n // 5)`` each.
        seed: fixes the data.

    Returns:
        The JSON file, then every image written.
    """
    from polymodal_plugin_toyworld.render import write_png

    out = Path(out_dir)
    images: list[dict[str, Any]] = []
    written: list[Path] = []
    sentid = 0
    sizes = toy_split_sizes(n)
    for split, karpathy in _WRITE_SPLITS.items():
        rows = make_toy(sizes[split], seed, split)
        for i, row in enumerate(rows):
            name = f"toy_{karpathy}_{i:06d}.png"
            written.append(write_png(row["img"], out / "images" / karpathy / name))
            sentences = []
            for cap in row["captions"]:
                sentences.append({"raw": cap, "tokens": cap.split(), "imgid": len(images), "sentid": sentid})
                sentid += 1
            images.append({"filepath": f"images/{karpathy}", "filename": name, "imgid": len(images),
                           "cocoid": len(images), "split": karpathy, "sentences": sentences,
                           "sentids": [s["sentid"] for s in sentences]})
    path = out / "dataset_coco.json"
    path.write_text(json.dumps({"dataset": "toy", "images": images}), encoding="utf-8")
    return [path, *written]


def baseline(train_rows: Sequence[dict[str, Any]], eval_rows: Sequence[dict[str, Any]]) -> list[str]:
    """The most frequent training caption, for every row (ties: first seen)."""
    counts = Counter(str(r["cap"]) for r in train_rows if r.get("cap"))
    if not counts:
        raise DataError("the most-frequent-caption baseline needs training rows with 'cap'", task=_TASK,
                        column="cap")
    top = counts.most_common(1)[0][0]
    return [top] * len(eval_rows)
