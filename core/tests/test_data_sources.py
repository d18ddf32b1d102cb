from __future__ import annotations

import json

import pytest
import torch

from polymodal.api.model import GeneralistModel
from polymodal.api.task import Task
from polymodal.errors import DataError
from polymodal.testing import isolated_registry, toytasks
from polymodal.training.config import TrainerConfig
from polymodal.training.trainer import Trainer

torch.set_num_threads(1)


def test_every_source_kind_gives_the_same_rows(tmp_path):
    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq

    reg = isolated_registry(fakes=True)
    rows = toytasks.rows(12, 4)
    (tmp_path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "d.csv").write_text("s,label,src,tgt\n" + "".join(
        f"{r['s']},{r['label']},{r['src']},{r['tgt']}\n" for r in rows))
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "d.parquet")
    sources = [rows, datasets.Dataset.from_list(rows), tmp_path / "d.jsonl", tmp_path / "d.csv",
               str(tmp_path / "d.parquet")]
    for source in sources:
        task = Task("classify", toytasks.CLASSIFY, registry=reg).add_dataset(source, "valid")
        assert task.rows("valid") == rows, source


def test_malformed_files_name_file_and_line(tmp_path):
    reg = isolated_registry(fakes=True)
    (tmp_path / "bad.jsonl").write_text('{"s": "a"}\n{"s": \n')
    with pytest.raises(DataError) as info:
        Task("t", toytasks.CLASSIFY, registry=reg).add_dataset(tmp_path / "bad.jsonl")
    assert info.value.row == 2 and info.value.source.endswith("bad.jsonl") and info.value.task == "t"
    (tmp_path / "bad.tsv").write_text("s\tlabel\nthe red circle\tpositive\nonly-one-field\n")
    with pytest.raises(DataError) as info:
        Task("t", toytasks.CLASSIFY, registry=reg).add_dataset(tmp_path / "bad.tsv")
    assert info.value.row == 3


def _losses(tmp_path, name, **overrides):
    reg = isolated_registry(fakes=True)
    task = Task("generate", toytasks.GENERATE, evaluators=["fake.exact"], registry=reg)
    task.add_dataset(toytasks.rows(64, 1), "train")
    model = GeneralistModel("nano", registry=reg)
    cfg = TrainerConfig(max_steps=overrides.pop("max_steps", 6), batch_size=8, out_dir=str(tmp_path / name), progress=False,
                        tensorboard=False, eval_split="", **overrides)
    Trainer(cfg).fit(model, [task])
    return [json.loads(line)["loss"] for line in (tmp_path / name / "log.jsonl").read_text().splitlines()]


def test_dataloader_workers_do_not_change_the_losses(tmp_path):
    assert _losses(tmp_path, "w0") == _losses(tmp_path, "w2", num_workers=2)


def test_bf16_autocast_trains(tmp_path):
    losses = _losses(tmp_path, "bf16", bf16=True, lr=3e-3, warmup_steps=1, max_steps=20)
    assert all(0 < x < 20 for x in losses)
    assert sum(losses[-5:]) < sum(losses[:5]) - 1.0
