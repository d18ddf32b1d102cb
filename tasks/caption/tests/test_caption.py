"""The caption task: spec, Karpathy loader on fixtures, toy data, write/load round trip, baseline, pipeline."""
from __future__ import annotations

import json
import random
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pytest

from polymodal.components import resolve_target
from polymodal.errors import DataError
from polymodal.instruction.grammar import parse
from polymodal.testing.contracts import TaskContract
from polymodal_modality_image.io import load_image
from polymodal_plugin_toyworld import World, vocab
from polymodal_task_caption.data import baseline, load, make_toy, write_toy
from polymodal_task_caption.task import CAPTION

FIXTURES = Path(__file__).parent / "fixtures"


def test_entry_point_and_import_lightness():
    eps = {ep.name: ep for ep in entry_points(group="polymodal.tasks")}
    assert eps["caption"].load() is CAPTION
    code = "import sys, polymodal_task_caption.task; print('torch' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
    for target in (*CAPTION.loaders.values(), CAPTION.toy, CAPTION.write_toy, CAPTION.baseline):
        assert callable(resolve_target(target))
    syntax = parse(CAPTION.instructions[0])
    assert {s.name for s in syntax.encoder.slots() + syntax.decoder.slots()} == {"img", "cap"}


def test_karpathy_loader_splits_and_paths():
    path = FIXTURES / "coco" / "dataset_coco.json"
    train = load(path, "train")
    assert [r["image_id"] for r in train] == [9, 25, 30]  # train + restval
    assert [r["image_id"] for r in load(path, "train", restval=False)] == [9, 30]
    valid, test = load(FIXTURES / "coco", "validation"), load(path, "test")
    assert [r["image_id"] for r in valid] == [42] and [r["image_id"] for r in test] == [73]
    assert test[0]["cap"] == "A yellow square on a light background." and len(test[0]["captions"]) == 3
    for row in train + valid + test:
        img = np.asarray(load_image(row["img"], column="img"))
        assert img.shape[2] == 3 and Path(row["img"]).parent.name in ("train2014", "val2014")
    per = load(path, "train", per_sentence=True)
    assert len(per) == 4 and per[1]["cap"] == "A small red box sits on a table." and per[1]["captions"] == per[0]["captions"]


def test_flickr_style_file_without_filepath():
    root = FIXTURES / "flickr8k"
    rows = load(root / "dataset_flickr8k.json", "test", image_root=root / "Flicker8k_Dataset")
    assert rows[0]["captions"] == ["An orange square .", "Orange thing"]
    assert load_image(rows[0]["img"]).size == (24, 18)


@pytest.mark.parametrize("content, match", [
    ("{not json", "not a JSON file"),
    (json.dumps({"annotations": []}), "'images' list"),
    (json.dumps({"images": [{"filename": "a.jpg"}]}), "'filename' and 'split'"),
    (json.dumps({"images": [{"filename": "a.jpg", "split": "test", "sentences": []}]}), "no sentences"),
])
def test_malformed_files_are_data_errors_naming_the_file(tmp_path, content, match):
    path = tmp_path / "dataset_coco.json"
    path.write_text(content)
    with pytest.raises(DataError, match=match) as info:
        load(path, "test")
    assert info.value.source == str(path)
    with pytest.raises(DataError, match="no dataset_"):
        load(FIXTURES, "test")


def test_toy_rows_are_deterministic_disjoint_and_hold_out_pairs():
    a, b = make_toy(40, 0, "train"), make_toy(40, 0, "train")
    assert [r["cap"] for r in a] == [r["cap"] for r in b]
    assert all(np.array_equal(x["img"], y["img"]) for x, y in zip(a, b))
    row = a[0]
    assert set(row) == {"img", "cap", "captions"} and row["img"].shape == (64, 64, 3)
    assert row["captions"][0] == row["cap"]
    test = make_toy(300, 0, "test")
    keys = {r["img"].tobytes() for r in make_toy(300, 0, "train")}
    assert not keys & {r["img"].tobytes() for r in test}
    held = World(0).held_out.pairs

    def pairs(rows):
        out = set()
        for r in rows:
            words = r["cap"].split()
            out |= {(c, s) for c, s in zip(words, words[1:]) if c in vocab.COLORS and s in vocab.SHAPES}
        return out
    assert not held & pairs(make_toy(300, 0, "train")) and held & pairs(test)


def test_write_toy_then_load_gives_the_toy_rows(tmp_path):
    paths = write_toy(tmp_path, n=10, seed=1)
    assert paths[0].name == "dataset_coco.json" and len(paths) == 1 + 10 + 2 + 2
    rows = load(paths[0], "train")
    toy = make_toy(10, 1, "train")
    assert [r["cap"] for r in rows] == [r["cap"] for r in toy]
    assert [r["captions"] for r in rows] == [r["captions"] for r in toy]
    assert np.array_equal(np.asarray(load_image(rows[3]["img"])), toy[3]["img"])
    assert len(load(tmp_path, "valid")) == 2 and len(load(tmp_path, "test")) == 2


def test_baseline_is_the_most_frequent_caption():
    train = [{"cap": "a red circle"}, {"cap": "a blue square"}, {"cap": "a blue square"}]
    assert baseline(train, [{}, {}]) == ["a blue square"] * 2
    with pytest.raises(DataError):
        baseline([], [{}])


def test_rows_run_through_the_engine_and_the_small_adapter():
    """Toy rows -> RowEncoder -> Collator -> image.small: one feature piece per row, masks for padding."""
    import torch

    from polymodal.engine.batch import Collator
    from polymodal.engine.rows import RowEncoder
    from polymodal.planning.planner import compile_instruction
    from polymodal.registry import default_registry
    from polymodal.testing.run import build_context

    reg = default_registry()
    plan = compile_instruction("[IMAGE:img,size=48,adapter=image.small] what does the image describe? -> "
                               "[TEXT:cap]", reg)
    rows = make_toy(3, 0, "train")
    rows[1]["img"] = rows[1]["img"][:, :32]  # a narrower image in the batch
    enc = RowEncoder(plan, reg, build_context(plan, reg, rows), task="caption")
    examples = [enc.encode(r, train=False, rng=random.Random(i), index=i) for i, r in enumerate(rows)]
    image_slot = plan.slots[0].index
    assert all(ex.encoder_pieces[1][0] == "features" and ex.encoder_pieces[1][1] == image_slot for ex in examples)
    target = reg.get("adapter", "image.small").target
    batch = Collator(enc.columns, {image_slot: ("image.small", target)})(list(enumerate(examples)))
    kind, name, data = batch.pieces[1]
    assert kind == "features" and name == "image.small"
    adapter = resolve_target(target)(d_model=16, options=reg.get("adapter", "image.small").options)
    torch.manual_seed(0)
    x, mask, pos, _ = adapter(data)
    assert x.shape[0] == 3 and x.shape[2] == 16 and mask.shape == x.shape[:2]
    assert mask[0].sum() == 0 and mask[1].sum() > 0  # only the narrow image has padding


class TestCaptionContract(TaskContract):
    name = "caption"
