"""The image_classification task: spec, class-folder loader on fixtures, toy shapes, real digits, baseline."""
from __future__ import annotations

import subprocess
import sys
from collections import Counter
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pytest

from polymodal.components import resolve_target
from polymodal.errors import DataError
from polymodal.registry import default_registry
from polymodal.testing.contracts import TaskContract
from polymodal.testing.run import run_task
from polymodal_modality_image.io import load_image
from polymodal_plugin_toyworld import vocab
from polymodal_task_image_classification.data import (
    SHAPE_LABELS, baseline, load, make_toy, make_toy_digits, write_toy, write_toy_digits,
)
from polymodal_task_image_classification.task import DIGITS, IMAGE_CLASSIFICATION

FIXTURES = Path(__file__).parent / "fixtures" / "imagenet"


def test_entry_point_alias_and_import_lightness():
    eps = {ep.name: ep for ep in entry_points(group="polymodal.tasks")}
    assert eps["image_classification"].load() is IMAGE_CLASSIFICATION
    assert default_registry().task("image_classify") is IMAGE_CLASSIFICATION
    code = ("import sys, polymodal_task_image_classification.task; "
            "print('torch' in sys.modules, 'numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
    for spec in (IMAGE_CLASSIFICATION, DIGITS):
        for target in (*spec.loaders.values(), spec.toy, spec.write_toy, spec.baseline):
            assert callable(resolve_target(target))
    assert DIGITS.instructions == IMAGE_CLASSIFICATION.instructions and DIGITS.name != IMAGE_CLASSIFICATION.name


def test_class_folder_loader_with_synset_names():
    train = load(FIXTURES, "train")
    assert [r["label_name"] for r in train] == ["tench", "tench", "goldfish"]  # README.txt skipped
    assert all(r["image"].endswith(".JPEG") for r in train)
    valid = load(FIXTURES, "valid")
    assert [(Path(r["image"]).name, r["label_name"]) for r in valid] == [
        ("ILSVRC2012_val_00000293.JPEG", "tench"), ("ILSVRC2012_val_00000236.JPEG", "goldfish")]
    assert np.asarray(load_image(valid[0]["image"])).shape == (18, 24, 3)
    # The split folder itself is a class-folder tree; the synset file in its parent still names the classes.
    assert [r["label_name"] for r in load(FIXTURES / "val")] == ["tench", "goldfish"]
    assert load(FIXTURES / "val", class_names={"n01440764": "fish"})[0]["label_name"] == "fish"


def test_loader_errors(tmp_path):
    with pytest.raises(DataError, match="no such folder"):
        load(tmp_path / "missing")
    with pytest.raises(DataError, match="no test folder"):
        load(FIXTURES, "test")
    (tmp_path / "cls").mkdir()
    (tmp_path / "cls" / "notes.txt").write_text("x")
    with pytest.raises(DataError, match="no images"):
        load(tmp_path)


def test_toy_shapes_are_balanced_and_show_their_class():
    rows = make_toy(180, 0, "train")
    counts = Counter(r["label_name"] for r in rows)
    assert set(counts) == set(SHAPE_LABELS) and set(counts.values()) == {10}
    for row in rows[:60]:
        colour = row["label_name"].split()[0]
        assert (row["image"].reshape(-1, 3) == vocab.COLOR_RGB[colour]).all(-1).sum() >= 20
    again = make_toy(180, 0, "train")
    assert all(np.array_equal(a["image"], b["image"]) for a, b in zip(rows, again))
    test = make_toy(90, 0, "test")
    assert not {r["image"].tobytes() for r in test} & {r["image"].tobytes() for r in rows}


def test_real_digits_split_without_overlap():
    train, valid, test = (make_toy_digits(5000, 0, s) for s in ("train", "valid", "test"))
    assert len(train) + len(valid) + len(test) == 1797 and 1300 < len(train) < 1560
    assert train[0]["image"].shape == (32, 32, 3) and train[0]["image"].dtype == np.uint8
    assert {r["label_name"] for r in train} == {vocab.number_word(d) for d in range(10)}
    seen = {r["image"].tobytes() for r in train}
    assert not seen & {r["image"].tobytes() for r in test}
    ones = [r["image"][..., 0].astype(float) for r in train if r["label_name"] == "one"][:20]
    zeros = [r["image"][..., 0].astype(float) for r in train if r["label_name"] == "zero"][:20]
    # Real handwriting: a zero has ink around an empty centre, a one down the middle.
    assert np.mean([z[14:18, 14:18].mean() for z in zeros]) < np.mean([o[14:18, 14:18].mean() for o in ones])
    assert len(make_toy_digits(7, 0, "valid")) == 7


def test_write_toy_then_load(tmp_path):
    paths = write_toy(tmp_path / "shapes", n=18, seed=0)
    assert paths[0] == tmp_path / "shapes"  # the root first: what load() reads
    assert len(paths) == 1 + 18 + 3 + 3 and paths[1].parent.parent.name == "train"
    rows = load(tmp_path / "shapes", "train")
    toy = make_toy(18, 0, "train")
    assert sorted(r["label_name"] for r in rows) == sorted(r["label_name"] for r in toy)
    by_label = {r["label_name"]: r["image"] for r in toy}
    for row in rows:
        assert np.array_equal(np.asarray(load_image(row["image"])), by_label[row["label_name"]])
    digits = write_toy_digits(tmp_path / "digits", n=20, seed=0)
    assert len(load(tmp_path / "digits", "test")) == 4 and len(digits) == 1 + 28


def test_majority_baseline():
    assert baseline([{"label_name": "a"}, {"label_name": "b"}, {"label_name": "b"}], [{}] * 3) == ["b"] * 3
    with pytest.raises(DataError):
        baseline([], [{}])


def test_digits_through_the_pipeline():
    rows = make_toy_digits(20, 0, "valid")
    run = run_task(DIGITS, rows)
    assert run.metrics["accuracy"]["accuracy"] == 100.0


def test_real_digits_are_learned_well_above_chance(tmp_path):
    """The generalist engine on scikit-learn's real handwritten digits: held-out accuracy far above 10% chance."""
    import torch

    from polymodal.api.model import GeneralistModel
    from polymodal.api.task import Task
    from polymodal.training.config import TrainerConfig
    from polymodal.training.evaluation import evaluate_task
    from polymodal.training.trainer import Trainer

    torch.set_num_threads(1)
    instruction = DIGITS.instructions[0].replace("[IMAGE:image]", "[IMAGE:image,size=32,adapter=image.small]")
    task = Task("digits", instruction, evaluators=["accuracy"], references="label_name")
    task.add_dataset(make_toy_digits(800, 0, "train"), "train")
    model = GeneralistModel("micro", resource_options={"text.tokenizer": {"vocab_size": 300}})
    Trainer(TrainerConfig(max_steps=600, lr=2e-3, warmup_steps=50, batch_size=24, out_dir=str(tmp_path),
                          progress=False, tensorboard=False, eval_split="")).fit(model, [task])
    test = make_toy_digits(180, 0, "test")
    metrics, _ = evaluate_task(model, "digits", test)
    print("digits test accuracy", metrics["accuracy"]["accuracy"])
    assert metrics["accuracy"]["accuracy"] > 50.0  # chance is 10%


class TestImageClassificationContract(TaskContract):
    name = "image_classification"
    n_rows = 36

