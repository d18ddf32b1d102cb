"""The visual_grounding task: spec, RefCOCO JSON loader on fixtures, toy data, baseline, box round trip."""
from __future__ import annotations

import random
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pytest

from polymodal.components import resolve_target
from polymodal.engine.rows import RowEncoder
from polymodal.errors import DataError
from polymodal.planning.planner import compile_instruction
from polymodal.registry import default_registry
from polymodal.testing.contracts import TaskContract
from polymodal.testing.run import build_context
from polymodal_modality_image.io import load_image
from polymodal_plugin_metrics.boxes import iou_accuracy
from polymodal_plugin_toyworld import vocab
from polymodal_task_visual_grounding.data import baseline, load, make_toy, write_toy
from polymodal_task_visual_grounding.task import INSTRUCTION, VISUAL_GROUNDING

FIXTURES = Path(__file__).parent / "fixtures" / "refcoco"


def test_entry_point_alias_and_import_lightness():
    eps = {ep.name: ep for ep in entry_points(group="polymodal.tasks")}
    assert eps["visual_grounding"].load() is VISUAL_GROUNDING
    assert default_registry().task("refcoco") is VISUAL_GROUNDING
    code = "import sys, polymodal_task_visual_grounding.task; print('torch' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
    for target in (*VISUAL_GROUNDING.loaders.values(), VISUAL_GROUNDING.toy, VISUAL_GROUNDING.write_toy,
                   VISUAL_GROUNDING.baseline):
        assert callable(resolve_target(target))
    program = compile_instruction(INSTRUCTION).program
    assert [(s.kind, s.space, s.length) for s in program.walk() if s.kind == "span"] == [("span", "box.loc", 4)]


def test_refcoco_loader_splits_boxes_and_images():
    train = load(FIXTURES, "train")
    assert [r["cap"] for r in train] == ["red box top left", "upper red one"]
    assert train[0]["region"] == [2.0, 3.0, 12.0, 11.0]  # bbox [x, y, w, h] -> x0, y0, x1, y1
    assert len(train[0]["candidates"]) == 3 and train[0]["image_id"] == 581857
    assert [r["cap"] for r in load(FIXTURES / "refs.json", "valid")] == ["blue square"]
    assert [r["cap"] for r in load(FIXTURES, "test")] == ["yellow thing", "right purple square"]
    assert [r["region"] for r in load(FIXTURES, "testB")] == [[20.0, 10.0, 30.0, 20.0]]
    for row in load(FIXTURES, "test") + train:
        img = np.asarray(load_image(row["img"], column="img"))
        x0, y0, x1, y1 = (int(v) for v in row["region"])
        inside = img[y0:y1, x0:x1].astype(int)
        assert np.abs(inside - 235).sum(-1).mean() > 100  # the box holds the coloured object, not background


def test_pickles_are_refused_without_reading(tmp_path):
    pickled = tmp_path / "refs(unc).p"
    pickled.write_bytes(b"\x80\x04this would run code if unpickled")
    with pytest.raises(DataError, match="never unpickled") as info:
        load(pickled, "train")
    assert info.value.source == str(pickled)


def test_malformed_annotations_are_data_errors(tmp_path):
    import json
    import shutil

    for name in ("refs.json", "instances.json"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    refs = json.loads((tmp_path / "refs.json").read_text())
    refs[1]["ann_id"] = 999
    (tmp_path / "refs.json").write_text(json.dumps(refs))
    with pytest.raises(DataError, match="ann_id 999") as info:
        load(tmp_path, "valid")
    assert info.value.row == 1 and info.value.column == "ann_id"
    inst = json.loads((FIXTURES / "instances.json").read_text())
    inst["annotations"][0]["bbox"] = [1, 2, 0, 5]
    (tmp_path / "instances.json").write_text(json.dumps(inst))
    with pytest.raises(DataError, match="no area"):
        load(tmp_path, "train")
    (tmp_path / "refs.json").write_text("{}")
    with pytest.raises(DataError, match="list of refs"):
        load(tmp_path, "train")


def test_toy_rows_name_what_is_in_the_box():
    rows = make_toy(150, 0, "train")
    assert rows[0].keys() == {"img", "cap", "region", "candidates"}
    assert [r["cap"] for r in make_toy(20, 0, "train")] == [r["cap"] for r in rows[:20]]
    for row in rows:
        x0, y0, x1, y1 = row["region"]
        assert row["region"] in row["candidates"] and 3 <= len(row["candidates"]) <= 5
        words = row["cap"].split()
        assert words[0] == "the" and any(w in vocab.SHAPES for w in words)
        colour = next((w for w in words if w in vocab.COLORS), None)
        if colour:
            patch = row["img"][y0:y1, x0:x1].reshape(-1, 3)
            assert (patch == vocab.COLOR_RGB[colour]).all(-1).any()
    test = {r["img"].tobytes() for r in make_toy(150, 0, "test")}
    assert not test & {r["img"].tobytes() for r in rows}


def test_random_box_baseline_scores_one_in_n():
    train, test = make_toy(50, 0, "train"), make_toy(300, 0, "test")
    preds = baseline(train, test)
    score = iou_accuracy(preds, [r["region"] for r in test])["acc_iou"]
    expected = 100 * np.mean([1 / len(r["candidates"]) for r in test])
    assert abs(score - expected) < 8
    assert baseline(train, [{"img": None}])[0] == pytest.approx(
        [np.mean([r["region"][k] for r in train]) for k in range(4)])


def _round_trip(rows, instruction):
    """Encode rows as in training (augmentation on) and map the target tokens back through the row's notes."""
    reg = default_registry()
    plan = compile_instruction(instruction, reg)
    enc = RowEncoder(plan, reg, build_context(plan, reg, rows), task="visual_grounding")
    image = next(s for s in plan.slots if s.modality == "IMAGE")
    box = next(s for s in plan.slots if s.modality == "BOX")
    preds = []
    for i, row in enumerate(rows):
        work = dict(row)
        enc.pre[image.index].encode(work["img"], train=True, rng=random.Random(i), row=work)
        tokens = enc.pre[box.index].target(work["region"], train=True, rng=random.Random(i), row=work)
        preds.append(enc.pre[box.index].postprocess(tokens, work))
    return preds


def test_boxes_survive_resize_flip_and_scale_jitter():
    rows = make_toy(40, 1, "valid")
    instruction = INSTRUCTION.replace("[IMAGE:img]", "[IMAGE:img,size=96,flip=0.5,scale_jitter=0.5]")
    preds = _round_trip(rows, instruction)
    scores = iou_accuracy(preds, [r["region"] for r in rows])
    assert scores["acc_iou"] == 100.0 and scores["miou"] > 97



def test_write_toy_then_load_gives_the_toy_rows(tmp_path):
    paths = write_toy(tmp_path, n=10, seed=2)
    assert [p.name for p in paths[:2]] == ["refs.json", "instances.json"] and len(paths) == 2 + 10 + 2 + 2
    rows, toy = load(tmp_path, "train"), make_toy(10, 2, "train")
    assert [r["cap"] for r in rows] == [r["cap"] for r in toy]
    assert [r["region"] for r in rows] == [[float(c) for c in r["region"]] for r in toy]
    assert [sorted(r["candidates"]) for r in rows] == [sorted([float(c) for c in b] for b in r["candidates"])
                                                       for r in toy]
    assert np.array_equal(np.asarray(load_image(rows[4]["img"])), toy[4]["img"])
    assert len(load(tmp_path, "valid")) == 2 and len(load(tmp_path, "test")) == 2


class TestVisualGroundingContract(TaskContract):
    name = "visual_grounding"

    def test_toy_rows_round_trip_and_beat_the_baseline(self):
        super().test_toy_rows_round_trip_and_beat_the_baseline()


def test_box_corners_train_against_their_neighbouring_bins():
    from polymodal.api.model import GeneralistModel
    from polymodal.api.task import Task

    task = Task("visual_grounding", [INSTRUCTION.replace("[IMAGE:img]", "[IMAGE:img,size=64,adapter=image.small]")])
    task.add_dataset(make_toy(8, 0, "train"), "train")
    model = GeneralistModel("nano", resource_options={"text.tokenizer": {"vocab_size": 300}})
    model.build([task])
    enc = model.task_encoder("visual_grounding")
    space = model.ctx.layout.space("box.loc")
    assert model.ordinal_columns("visual_grounding") == [enc.columns.columns_of(space.offset, space.end)]
    example = enc.encode(task.rows("train")[0], train=True, index=0)
    (lo, hi), = model.ordinal_columns("visual_grounding")
    corners = [enc.columns.column(t) for t in example.target[:4]]
    assert all(lo <= c < hi for c in corners)  # the four box tokens are the ones smoothed by distance
    # and their embeddings start smooth along the bins: neighbours alike, distant bins not
    import torch

    bins = torch.nn.functional.normalize(model.net.backbone.embed_tokens.weight[space.offset:space.end], dim=1)
    near = (bins[:-1] * bins[1:]).sum(1).mean()
    far = (bins[:-100] * bins[100:]).sum(1).mean()
    assert near > 0.5 and far < near - 0.2


def test_the_location_pointer_grounds_toy_scenes_and_survives_a_checkpoint(tmp_path):
    """A nano model with the location pointer (the default) finds the named object on held-out scenes. Measured
    on 60 held-out scenes after 500 steps: 40% Acc@IoU0.5 with the pointer, against 25% for a random object's
    box; without the pointer the same run puts out a few prior boxes (8% for the demo's micro model at 600)."""
    import torch

    from polymodal.api.model import GeneralistModel
    from polymodal.api.task import Task
    from polymodal.training.config import TrainerConfig
    from polymodal.training.trainer import Trainer

    torch.set_num_threads(1)
    instruction = INSTRUCTION.replace("[IMAGE:img]", "[IMAGE:img,size=64,adapter=image.small]") \
        .replace("[BOX:region]", "[BOX:region,num_bins=64]")
    task = Task("visual_grounding", [instruction], evaluators=["iou_accuracy"])
    task.add_dataset(make_toy(400, 0, "train"), "train")
    held_out = make_toy(60, 1, "test")
    model = GeneralistModel("nano", resource_options={"text.tokenizer": {"vocab_size": 300}}, dropout=0.0)
    cfg = TrainerConfig(max_steps=500, lr=3e-3, warmup_steps=30, batch_size=16, out_dir=str(tmp_path / "run"),
                        progress=False, tensorboard=False, eval_split="")
    Trainer(cfg).fit(model, [task])
    assert model.net.locate is not None
    enc = model.task_encoder("visual_grounding")
    boxes = [o.values["region"] for o in model.generate_rows(enc, held_out)]
    refs = [r["region"] for r in held_out]
    chance = baseline(make_toy(400, 0, "train"), held_out)
    assert iou_accuracy(boxes, refs)["acc_iou"] > iou_accuracy(chance, refs)["acc_iou"] + 5, boxes[:3]
    loaded = GeneralistModel.from_pretrained(tmp_path / "run")
    assert loaded.net.locate is not None
    assert [o.values["region"] for o in loaded.generate_rows(loaded.task_encoder("visual_grounding"), held_out)] \
        == boxes
