"""A run killed with SIGKILL (during training, or while writing a checkpoint) resumes from the last complete
checkpoint and continues with exactly the losses of an uninterrupted run."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

DRIVER = r'''
import os, signal, sys
import torch
torch.set_num_threads(1)
import polymodal.training.checkpoint as ck
from polymodal.api.model import GeneralistModel
from polymodal.api.task import Task
from polymodal.testing import isolated_registry, toytasks
from polymodal.training.config import TrainerConfig
from polymodal.training.trainer import Trainer

out, steps, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if mode == "crash-in-write":
    real = ck._fsync_tree
    def crash(root):
        if "step-0000030" in str(root):
            os.kill(os.getpid(), signal.SIGKILL)
        real(root)
    ck._fsync_tree = crash
reg = isolated_registry(fakes=True)
tasks = []
for name, instruction in (("classify", toytasks.CLASSIFY), ("generate", toytasks.GENERATE)):
    task = Task(name, instruction, evaluators=["fake.exact"], registry=reg)
    task.add_dataset(toytasks.rows(120, 1), "train")
    tasks.append(task)
model = GeneralistModel("nano", registry=reg, dropout=0.1)  # dropout on: the RNG must resume too
cfg = TrainerConfig(max_steps=steps, lr=3e-3, warmup_steps=5, batch_size=8, save_every=10, out_dir=out,
                    progress=False, tensorboard=False, eval_split="test", mixture="temperature")
Trainer(cfg).fit(model, tasks, resume=(mode == "resume"))
'''


def run(tmp: Path, out: Path, steps: int, mode: str) -> subprocess.Popen:
    script = tmp / "driver.py"
    script.write_text(DRIVER)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, str(script), str(out), str(steps), mode], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def losses(out: Path) -> list[tuple[int, str, float]]:
    return [(r["step"], r["task"], r["loss"]) for r in map(json.loads, (out / "log.jsonl").read_text().splitlines())
            if "loss" in r]


def test_kill_during_training_and_during_checkpoint_write(tmp_path):
    reference = tmp_path / "reference"
    p = run(tmp_path, reference, 50, "fresh")
    assert p.wait(timeout=300) == 0, p.stderr.read()
    expected = losses(reference)
    assert [s for s, _, _ in expected] == list(range(1, 51))

    # SIGKILL while training (right after the step-20 checkpoint becomes the latest)
    killed = tmp_path / "killed"
    p = run(tmp_path, killed, 50, "fresh")
    deadline = time.time() + 300
    while time.time() < deadline:
        pointer = killed / "latest"
        if pointer.exists() and pointer.read_text() == "step-0000020":
            break
        assert p.poll() is None, p.stderr.read()
        time.sleep(0.01)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    assert p.returncode == -signal.SIGKILL
    p = run(tmp_path, killed, 50, "resume")
    assert p.wait(timeout=300) == 0, p.stderr.read()
    assert losses(killed) == expected

    # SIGKILL in the middle of writing the step-30 checkpoint
    crashed = tmp_path / "crashed"
    p = run(tmp_path, crashed, 50, "crash-in-write")
    p.wait(timeout=300)
    assert p.returncode == -signal.SIGKILL
    assert (crashed / "latest").read_text() == "step-0000020"
    assert not (crashed / "step-0000030").exists()
    assert list(crashed.glob(".step-0000030.tmp-*"))  # the half-written one never got the final name
    p = run(tmp_path, crashed, 50, "resume")
    assert p.wait(timeout=300) == 0, p.stderr.read()
    assert losses(crashed) == expected
