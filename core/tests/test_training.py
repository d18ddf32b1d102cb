from __future__ import annotations

import json
from collections import Counter

import pytest
import torch

from polymodal.api.model import GeneralistModel
from polymodal.api.task import Task
from polymodal.errors import DataError
from polymodal.testing import isolated_registry
from polymodal.training.config import TrainerConfig
from polymodal.training.trainer import Trainer

from polymodal.testing import toytasks as toydata

torch.set_num_threads(1)


def make_tasks(reg, tmp_path, n=240):
    clf = Task("classify", toydata.CLASSIFY, evaluators=["fake.exact"], registry=reg)
    gen = Task("generate", toydata.GENERATE, evaluators=["fake.exact"], registry=reg)
    train, valid = toydata.rows(n, 1), toydata.rows(60, 2)
    # data from files: JSONL for one task, TSV for the other
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in train))
    (tmp_path / "valid.tsv").write_text("s\tlabel\tsrc\ttgt\n" + "".join(
        f"{r['s']}\t{r['label']}\t{r['src']}\t{r['tgt']}\n" for r in valid))
    for task in (clf, gen):
        task.add_dataset(tmp_path / "train.jsonl", "train")
        task.add_dataset(tmp_path / "valid.tsv", "valid")
    return clf, gen


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("train")
    reg = isolated_registry(fakes=True)
    tasks = make_tasks(reg, tmp)
    model = GeneralistModel("nano", registry=reg, dropout=0.0)
    cfg = TrainerConfig(max_steps=240, lr=3e-3, warmup_steps=20, batch_size=16, out_dir=str(tmp / "run"),
                        mixture="round_robin", progress=False, tensorboard=False)
    metrics = Trainer(cfg).fit(model, tasks)
    return model, tasks, metrics, tmp, reg


def test_two_tasks_learn_beyond_their_baselines(trained):
    model, tasks, metrics, _, _ = trained
    for task in tasks:
        valid = task.rows("valid")
        column = "label" if task.name == "classify" else "tgt"
        majority = Counter(r[column] for r in task.rows("train")).most_common(1)[0][0]
        baseline = 100.0 * sum(r[column] == majority for r in valid) / len(valid)
        assert metrics[task.name]["fake.exact"]["exact"] > baseline + 30, (task.name, metrics, baseline)


def test_checkpoint_round_trip_gives_the_same_outputs(trained):
    model, tasks, _, tmp, reg = trained
    loaded = GeneralistModel.from_pretrained(tmp / "run" / (tmp / "run" / "latest").read_text(), registry=reg)
    rows = tasks[1].rows("valid")[:10]
    a = [o.values for o in model.generate_rows(model.task_encoder("generate"), rows)]
    b = [o.values for o in loaded.generate_rows(loaded.task_encoder("generate"), rows)]
    assert a == b
    # the run directory itself loads as its newest complete checkpoint
    from_run = GeneralistModel.from_pretrained(tmp / "run", registry=reg)
    assert [o.values for o in from_run.generate_rows(from_run.task_encoder("generate"), rows)] == a
    files = {p.name for p in (tmp / "run" / "latest").parent.glob("step-*/*")}
    assert {"model.safetensors", "config.json"} <= files
    assert (tmp / "run" / "curves.png").stat().st_size > 1000
    assert any("metrics" in json.loads(l) for l in (tmp / "run" / "log.jsonl").read_text().splitlines())


def test_closed_set_generation_never_leaves_the_set(trained):
    model, tasks, _, _, _ = trained
    rows = [{"s": s} for s in ["the red square", "a big what", "triangle triangle", "no", "the the the"]]
    for method, kw in (("greedy", {}), ("sample", {"top_k": 0, "temperature": 2.0, "seed": 3}),
                       ("beam", {"beam_size": 3})):
        outs = model.generate_rows(model.task_encoder("classify"), rows * 4, method=method, **kw)
        assert {o["label"] for o in outs} <= set(toydata.COLOURS.values())


def test_no_loss_prefix_is_forced_and_stripped(trained):
    model, _, _, _, _ = trained
    out = model.inference("describe [TEXT:src] -> the [TEXT:src,no_loss] is [TEXT:tgt]",
                          {"src": "the red circle is big"})
    assert set(out.values) == {"tgt"}
    prefix = model.encoder("describe [TEXT:src] -> the [TEXT:src,no_loss] is [TEXT:tgt]").encode(
        {"src": "the red circle is big"}, train=False)
    forced = int(prefix.machine.no_loss.sum())
    assert forced == len("the the red circle is big is".split())
    assert out.tokens[:forced] == [int(prefix.machine.forced[s]) for s in
                                   prefix.machine.trace(out.tokens[:forced])]


def test_malformed_rows_name_task_row_and_column(tmp_path):
    reg = isolated_registry(fakes=True)
    model = GeneralistModel("nano", registry=reg)
    cfg = TrainerConfig(max_steps=2, out_dir=str(tmp_path / "run"), progress=False, tensorboard=False)
    good = toydata.rows(20, 1)
    for bad, column in (({"label": "positive"}, "s"), ({"s": 5.5j, "label": "positive"}, "s"),
                        ({"s": "   ", "label": "positive"}, "s")):
        task = Task("classify", toydata.CLASSIFY, evaluators=["fake.exact"], registry=reg)
        task.add_dataset(good[:7] + [bad] + good[7:], "train")
        with pytest.raises(DataError) as info:
            Trainer(cfg).fit(model, [task])
        assert (info.value.task, info.value.row, info.value.column) == ("classify", 7, column)
    task = Task("classify", toydata.CLASSIFY, evaluators=["fake.exact"], registry=reg, skip_bad_rows=True)
    task.add_dataset(good[:7] + [{"label": "positive"}, {"s": "", "label": "x"}] + good[7:], "train")
    trainer = Trainer(cfg)
    trainer.fit(model, [task])
    assert trainer.skipped == {"classify": 2}


def test_generation_kwargs_zero_and_false_are_honoured(trained):
    model, _, _, _, _ = trained
    enc = model.task_encoder("generate")
    rows = [{"src": "the red circle is big"}]
    with pytest.raises(ValueError):
        model.generate_rows(enc, rows, method="beam", beam_size=2, max_len=0)
    capped = model.generate_rows(enc, rows, method="greedy", max_len=1)[0]
    assert len(capped.tokens) == 1


def test_a_task_joins_the_mixture_at_its_start_step(tmp_path):
    reg = isolated_registry(fakes=True)
    clf, gen = make_tasks(reg, tmp_path, n=40)
    gen.start_step = 3
    trainer = Trainer(TrainerConfig(max_steps=6, batch_size=8, out_dir=str(tmp_path / "run"), mixture="all",
                                    progress=False, tensorboard=False, eval_split=""))
    trainer.fit(GeneralistModel("nano", registry=reg), [clf, gen])
    steps = {}
    for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines():
        record = json.loads(line)
        if "loss" in record:
            steps.setdefault(record["task"], []).append(record["step"])
    assert steps == {"classify": [1, 2, 3, 4, 5, 6], "generate": [4, 5, 6]}
    with pytest.raises(DataError, match="start_step"):
        Task("classify", toydata.CLASSIFY, registry=reg, start_step=-1)


def test_a_task_rate_scales_its_share_of_sampled_steps(tmp_path):
    reg = isolated_registry(fakes=True)
    clf, gen = make_tasks(reg, tmp_path, n=40)  # equal data sizes: equal shares without rates
    cfg = TrainerConfig(max_steps=1, out_dir=str(tmp_path / "run"), mixture="temperature", progress=False,
                        tensorboard=False, eval_split="")
    trainer = Trainer(cfg)
    streams = {t.name: type("S", (), {"rows": t.rows("train")})() for t in (clf, gen)}

    def share_of_generate() -> float:
        picks = Counter(trainer._choose([clf, gen], streams, step, 0)[0].name for step in range(2000))
        return picks["generate"] / 2000

    assert 0.45 < share_of_generate() < 0.55
    gen.rate = 3.0
    assert 0.72 < share_of_generate() < 0.78  # 3 / (3 + 1)
    with pytest.raises(DataError, match="rate"):
        Task("classify", toydata.CLASSIFY, registry=reg, rate=0)
    with pytest.raises(ValueError, match="sampling rate"):
        Trainer(TrainerConfig(**{**cfg.__dict__, "mixture": "round_robin"})).fit(
            GeneralistModel("nano", registry=reg), [clf, gen])
