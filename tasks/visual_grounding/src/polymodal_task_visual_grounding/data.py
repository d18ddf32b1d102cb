"""Grounding data: a RefCOCO loader for the JSON conversions, toy scenes in the same format, a random-box baseline.

The official RefCOCO/RefCOCO+/RefCOCOg annotations ship ``refs(unc).p``, a Python pickle. Pickles are never
read here (unpickling runs arbitrary code); use the JSON conversion people make of it, a folder with

- ``refs.json``: a list of refs ``{"ref_id", "image_id", "ann_id", "split", "sentences": [{"sent": ...}, ...]}``
  (``split`` is ``train``, ``val``, ``testA``, ``testB`` or ``test``);
- ``instances.json``: the COCO annotations of those images (``images`` with ``id``/``file_name``,
  ``annotations`` with ``id``/``image_id``/``bbox`` as ``[x, y, w, h]``);
- the images, under ``images/`` (default) or ``image_root``.

Rows, one per sentence: ``{"img": <path>, "cap": <sentence>, "region": [x0, y0, x1, y1], "candidates": [every
annotated box of the image], "ref_id", "ann_id", "image_id"}``. ``split="test"`` reads ``test``, ``testA`` and
``testB``; a dataset's own split name (``testA``) reads only that one.

Usage::

    rows = load("refcoco", split="testA", image_root="coco/train2014")
    rows = make_toy(100, seed=0, split="train")     # images as uint8 arrays
    paths = write_toy("out", n=200, seed=0)         # out/refs.json, out/instances.json, out/images/*.png
"""
from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, Sequence

from polymodal.datasets import canonical_split, toy_split_sizes
from polymodal.errors import DataError
from polymodal_modality_box.bins import parse_box
from polymodal_plugin_toyworld import World, draw_split, vocab

__all__ = ["load", "make_toy", "write_toy", "baseline", "SPLIT_NAMES"]

_TASK = "visual_grounding"
#: Our split -> the RefCOCO split names it reads.
SPLIT_NAMES: dict[str, tuple[str, ...]] = {"train": ("train",), "valid": ("val",), "test": ("test", "testA", "testB")}
# Dataset split names that are not one of ours: read exactly that split.
_RAW_SPLITS = {"testA", "testB"}


def _read_json(path: Path) -> Any:
    if path.suffix in (".p", ".pkl", ".pickle"):
        raise DataError("pickle files are never unpickled (it can run arbitrary code); convert it to JSON once, "
                        "in an environment you trust, e.g. json.dump(pickle.load(f), open('refs.json', 'w'))",
                        task=_TASK, source=str(path))
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError("no such file", task=_TASK, source=str(path)) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"not a JSON file ({exc})", task=_TASK, source=str(path)) from None


def _xywh(bbox: Any, source: str, row: int) -> list[float]:
    try:
        x, y, w, h = (float(v) for v in bbox)
    except (TypeError, ValueError):
        raise DataError(f"bbox must be [x, y, w, h], got {bbox!r}", task=_TASK, source=source, row=row,
                        column="bbox") from None
    if not (w > 0 and h > 0):
        raise DataError(f"bbox {bbox!r} has no area", task=_TASK, source=source, row=row, column="bbox")
    return [x, y, x + w, y + h]


def load(path: str | Path, split: str = "train", *, image_root: str | Path | None = None,
         instances: str | Path | None = None) -> list[dict[str, Any]]:
    """Read one split of a RefCOCO-style JSON conversion.

    Args:
        path: the folder holding ``refs.json`` and ``instances.json``, or the refs file itself.
        split: ``train``, ``valid``, ``test`` (all test splits) or a raw split name (``testA``, ``testB``).
        image_root: where the image files are (default: ``images/`` beside the refs file, else its folder).
        instances: the COCO instances file (default: ``instances.json`` beside the refs file).

    Raises:
        DataError: naming the file and the 0-based entry when the files are not in this format.
    """
    path = Path(path)
    refs_file = path / "refs.json" if path.is_dir() else path
    folder = refs_file.parent
    inst_file = Path(instances) if instances is not None else folder / "instances.json"
    refs, inst = _read_json(refs_file), _read_json(inst_file)
    if not isinstance(refs, list):
        raise DataError("expected refs.json to be a list of refs", task=_TASK, source=str(refs_file))
    if not isinstance(inst, dict) or not isinstance(inst.get("annotations"), list) \
            or not isinstance(inst.get("images"), list):
        raise DataError("expected COCO instances with 'images' and 'annotations' lists", task=_TASK,
                        source=str(inst_file))
    wanted = {split} if split in _RAW_SPLITS else set(SPLIT_NAMES[canonical_split(split, _TASK)])
    if image_root is None:
        image_root = folder / "images" if (folder / "images").is_dir() else folder
    root = Path(image_root)
    files = {img["id"]: img["file_name"] for img in inst["images"] if isinstance(img, dict)}
    boxes: dict[Any, list[float]] = {}
    by_image: dict[Any, list[list[float]]] = {}
    for i, ann in enumerate(inst["annotations"]):
        box = _xywh(ann.get("bbox"), str(inst_file), i)
        boxes[ann.get("id")] = box
        by_image.setdefault(ann.get("image_id"), []).append(box)
    rows: list[dict[str, Any]] = []
    for i, ref in enumerate(refs):
        if not isinstance(ref, dict) or not {"image_id", "ann_id", "split", "sentences"} <= set(ref):
            raise DataError("a ref needs image_id, ann_id, split and sentences", task=_TASK, source=str(refs_file),
                            row=i)
        if ref["split"] not in wanted:
            continue
        if ref["ann_id"] not in boxes:
            raise DataError(f"ann_id {ref['ann_id']} is not in {inst_file.name}", task=_TASK, source=str(refs_file),
                            row=i, column="ann_id")
        if ref["image_id"] not in files:
            raise DataError(f"image_id {ref['image_id']} is not in {inst_file.name}", task=_TASK,
                            source=str(refs_file), row=i, column="image_id")
        image = str(root / files[ref["image_id"]])
        for sentence in ref["sentences"]:
            text = str(sentence.get("sent") or sentence.get("raw") or "").strip() if isinstance(sentence, dict) \
                else str(sentence).strip()
            if not text:
                continue
            rows.append({"img": image, "cap": text, "region": list(boxes[ref["ann_id"]]),
                         "candidates": [list(b) for b in by_image.get(ref["image_id"], [])],
                         "ref_id": ref.get("ref_id", i), "ann_id": ref["ann_id"], "image_id": ref["image_id"]})
    return rows


def _toy_items(n: int, seed: int, split: str, canvas: int) -> list[tuple[Any, int, str]]:
    from polymodal_plugin_toyworld.scenes import grounding_scene

    world = World(seed)

    def make(rng: random.Random) -> tuple[Any, int, str]:
        scene, target = grounding_scene(world, rng, split, canvas=canvas)
        return scene, target, scene.refer(target, rng)
    return draw_split(make, n, seed, split, key=lambda item: (item[0].scene, item[0].origins, item[1]),
                      stream="grounding")


def make_toy(n: int, seed: int = 0, split: str = "train", canvas: int = 64) -> list[dict[str, Any]]:
    """``n`` toy rows: scenes of 3-5 shapes whose distractors share the target's shape or colour, with a
    referring expression that matches only the target and its exact box.

    Splits are disjoint (by scene and target); held-out colour-shape pairs appear only in ``test``. A random
    object's box is right 1/N of the time (N objects).
    """
    split = canonical_split(split, _TASK)
    return [{"img": scene.render(), "cap": text, "region": list(scene.boxes[target]),
             "candidates": [list(b) for b in scene.boxes]}
            for scene, target, text in _toy_items(n, seed, split, canvas)]


def write_toy(out_dir: str | Path, n: int, seed: int = 0) -> list[Path]:
    """Write toy data as a RefCOCO JSON conversion: ``refs.json``, ``instances.json`` and ``images/*.png``.

    Args:
        out_dir: the output folder (what :func:`load` takes).
        n: training refs; ``val`` and ``test`` get ``max(1, n // 5)`` each.
        seed: fixes the data.

    Returns:
        ``refs.json``, ``instances.json``, then every image written.
    """
    from polymodal_plugin_toyworld.render import write_png

    out = Path(out_dir)
    refs: list[dict[str, Any]] = []
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    written: list[Path] = []
    sizes = toy_split_sizes(n)
    for split, raw in (("train", "train"), ("valid", "val"), ("test", "test")):
        size = sizes[split]
        for scene, target, text in _toy_items(size, seed, split, 64):
            image_id = len(images) + 1
            name = f"toy_{raw}_{image_id:06d}.png"
            written.append(write_png(scene.render(), out / "images" / name))
            images.append({"id": image_id, "file_name": name, "width": scene.canvas, "height": scene.canvas})
            target_ann = None
            for k, (obj, (x0, y0, x1, y1)) in enumerate(zip(scene.objects, scene.boxes)):
                ann_id = len(annotations) + 1
                annotations.append({"id": ann_id, "image_id": image_id, "bbox": [x0, y0, x1 - x0, y1 - y0],
                                    "area": (x1 - x0) * (y1 - y0), "iscrowd": 0,
                                    "category_id": vocab.SHAPES.index(obj.shape) + 1})
                if k == target:
                    target_ann = ann_id
            ref_id = len(refs)
            refs.append({"ref_id": ref_id, "image_id": image_id, "ann_id": target_ann, "split": raw,
                         "category_id": vocab.SHAPES.index(scene.objects[target].shape) + 1,
                         "sentences": [{"sent": text, "raw": text, "tokens": text.split(), "sent_id": ref_id}],
                         "sent_ids": [ref_id], "file_name": name})
    categories = [{"id": i + 1, "name": shape, "supercategory": "shape"} for i, shape in enumerate(vocab.SHAPES)]
    refs_path, inst_path = out / "refs.json", out / "instances.json"
    out.mkdir(parents=True, exist_ok=True)
    refs_path.write_text(json.dumps(refs), encoding="utf-8")
    inst_path.write_text(json.dumps({"images": images, "annotations": annotations, "categories": categories}),
                         encoding="utf-8")
    return [refs_path, inst_path, *written]


def baseline(train_rows: Sequence[dict[str, Any]], eval_rows: Sequence[dict[str, Any]],
             seed: int = 0) -> list[list[float]]:
    """A random object's box per row (its ``candidates``); rows without candidates get the mean training box.

    With N non-overlapping objects this is right 1/N of the time.
    """
    rng = random.Random(seed)
    fallback: list[float] | None = None
    regions = [parse_box(r["region"], "region") for r in train_rows if r.get("region") is not None]
    if regions:
        fallback = [sum(b[k] for b in regions) / len(regions) for k in range(4)]
    out = []
    for i, row in enumerate(eval_rows):
        candidates = row.get("candidates") or []
        if candidates:
            out.append(list(rng.choice(candidates)))
        elif fallback is not None:
            out.append(list(fallback))
        else:
            raise DataError("the random-box baseline needs candidates or training boxes", task=_TASK, row=i,
                            column="candidates")
    return out
