"""Two gloo processes under torchrun reach the parameters of one process with the same global batch."""
from __future__ import annotations

import os
import subprocess
import sys

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

out, steps = sys.argv[1], int(sys.argv[2])
reg = isolated_registry(fakes=True)
tasks = []
for name, instruction in (("classify", toytasks.CLASSIFY), ("generate", toytasks.GENERATE)):
    task = Task(name, instruction, evaluators=["fake.exact"], registry=reg)
    task.add_dataset(toytasks.rows(64, 1), "train")
    tasks.append(task)
model = GeneralistModel("nano", registry=reg, dropout=0.0)
cfg = TrainerConfig(max_steps=steps, lr=3e-3, warmup_steps=2, batch_size=8, out_dir=out, progress=False,
                    tensorboard=False, eval_split="test", mixture="all", grad_accum=2)
trainer = Trainer(cfg)
trainer.fit(model, tasks)
print("rows_seen", torch.distributed.get_rank() if torch.distributed.is_initialized() else 0, trainer.rows_seen)
'''


def test_two_gloo_processes_match_one_process(tmp_path):
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "POLYMODAL_BACKEND": "gloo"}
    single = subprocess.run([sys.executable, str(script), str(tmp_path / "one"), "6"], env=env,
                            capture_output=True, text=True, timeout=300)
    assert single.returncode == 0, single.stderr
    double = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
                             "--master_port=29517", str(script), str(tmp_path / "two"), "6"], env=env,
                            capture_output=True, text=True, timeout=300)
    assert double.returncode == 0, double.stderr[-3000:]
    seen_one = [int(line.split()[2]) for line in single.stdout.splitlines() if line.startswith("rows_seen")]
    seen_two = [int(line.split()[2]) for line in double.stdout.splitlines() if line.startswith("rows_seen")]
    assert len(seen_two) == 2 and sum(seen_two) == seen_one[0]  # each rank trained on its half
    a = load_file(str(tmp_path / "one" / "step-0000006" / "model.safetensors"))
    b = load_file(str(tmp_path / "two" / "step-0000006" / "model.safetensors"))
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-4, atol=1e-5, msg=key)
    # the comparison is sensitive: one step fewer gives other parameters
    shorter = subprocess.run([sys.executable, str(script), str(tmp_path / "five"), "5"], env=env,
                             capture_output=True, text=True, timeout=300)
    c = load_file(str(tmp_path / "five" / "step-0000005" / "model.safetensors"))
    assert max(float((a[k] - c[k]).abs().max()) for k in a) > 1e-3
