"""Two gloo processes under torchrun, replicated (DDP-style) or sharded (FSDP), reach the parameters of one process
with the same global batch."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

DRIVER = r'''
import sys
import torch
torch.set_num_threads(1)
from polymodal.api.model import GeneralistModel
from polymodal.api.task import Task
from polymodal.testing import isolated_registry, toytasks
from polymodal.training.config import TrainerConfig
from polymodal.training.trainer import Trainer

out, steps, parallel = sys.argv[1], int(sys.argv[2]), sys.argv[3]
reg = isolated_registry(fakes=True)
tasks = []
for name, instruction in (("classify", toytasks.CLASSIFY), ("generate", toytasks.GENERATE)):
    task = Task(name, instruction, evaluators=["fake.exact"], registry=reg)
    task.add_dataset(toytasks.rows(64, 1), "train")
    tasks.append(task)
model = GeneralistModel("nano", registry=reg, dropout=0.0)
cfg = TrainerConfig(max_steps=steps, lr=3e-3, warmup_steps=2, batch_size=8, out_dir=out, progress=False,
                    tensorboard=False, eval_split="test", mixture="all", grad_accum=2, parallel=parallel,
                    save_every=2, keep_last=10)
trainer = Trainer(cfg)
trainer.fit(model, tasks, resume=len(sys.argv) > 4 and sys.argv[4] == "resume")
print("rows_seen", torch.distributed.get_rank() if torch.distributed.is_initialized() else 0, trainer.rows_seen,
      trainer.sharded)
'''


@pytest.mark.parametrize("parallel", ["ddp", "fsdp"])
def test_two_gloo_processes_match_one_process(tmp_path, parallel):
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "POLYMODAL_BACKEND": "gloo"}
    single = subprocess.run([sys.executable, str(script), str(tmp_path / "one"), "6", parallel], env=env,
                            capture_output=True, text=True, timeout=300)
    assert single.returncode == 0, single.stderr
    port = 29517 if parallel == "ddp" else 29527
    double = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
                             f"--master_port={port}", str(script), str(tmp_path / "two"), "6", parallel],
                            env=env, capture_output=True, text=True, timeout=300)
    assert double.returncode == 0, double.stderr[-3000:]
    seen_one = [int(line.split()[2]) for line in single.stdout.splitlines() if line.startswith("rows_seen")]
    seen_two = [int(line.split()[2]) for line in double.stdout.splitlines() if line.startswith("rows_seen")]
    assert len(seen_two) == 2 and sum(seen_two) == seen_one[0]  # each rank trained on its half
    sharded = {line.split()[3] for line in double.stdout.splitlines() if line.startswith("rows_seen")}
    assert sharded == {str(parallel == "fsdp")}
    a = load_file(str(tmp_path / "one" / "step-0000006" / "model.safetensors"))
    b = load_file(str(tmp_path / "two" / "step-0000006" / "model.safetensors"))
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-4, atol=5e-5)  # Adam on near-zero gradients
    # the comparison is sensitive: one step fewer gives other parameters
    shorter = subprocess.run([sys.executable, str(script), str(tmp_path / "five"), "5", parallel], env=env,
                             capture_output=True, text=True, timeout=300)
    c = load_file(str(tmp_path / "five" / "step-0000005" / "model.safetensors"))
    assert max(float((a[k] - c[k]).abs().max()) for k in a) > 1e-3
    if parallel == "fsdp":  # two sharded processes resume the 6-step checkpoint of an 8-step single-process run
        eight = subprocess.run([sys.executable, str(script), str(tmp_path / "eight"), "8", parallel], env=env,
                               capture_output=True, text=True, timeout=300)
        assert eight.returncode == 0, eight.stderr
        shutil.copytree(tmp_path / "eight", tmp_path / "cut")
        shutil.rmtree(tmp_path / "cut" / "step-0000008")
        (tmp_path / "cut" / "latest").write_text("step-0000006")
        resumed = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
                                  f"--master_port={port + 1}", str(script), str(tmp_path / "cut"), "8", parallel,
                                  "resume"], env=env, capture_output=True, text=True, timeout=300)
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        d = load_file(str(tmp_path / "cut" / "step-0000008" / "model.safetensors"))
        e = load_file(str(tmp_path / "eight" / "step-0000008" / "model.safetensors"))
        for key in e:
            torch.testing.assert_close(d[key], e[key], rtol=1e-4, atol=5e-5)
