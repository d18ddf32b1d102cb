"""A short demo run (two tasks, few steps) writes its table, curves, examples and checkpoint, and `polymodal
eval` on the demo checkpoint reproduces the demo's figure for a task."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "polymodal.cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=900)


def test_short_demo_and_eval_reproduction(tmp_path: Path):
    out = tmp_path / "demo"
    run = cli("demo", "--out", str(out), "--size", "nano", "--steps", "30", "--n", "60", "--eval-rows", "12",
              "--tasks", "glue,text_to_sql,visual_grounding", "--threads", "1")
    assert run.returncode == 0, run.stderr[-3000:]
    assert "| glue | accuracy.accuracy |" in run.stdout
    # the default --rates name tasks outside this run: said, not silently dropped
    assert "--rates names tasks this demo does not train (caption, summarization, table_qa, table_to_text)" \
        in run.stdout
    results = json.loads((out / "results.json").read_text())
    assert {r["task"] for r in results} == {"glue", "text_to_sql", "visual_grounding"}
    pictures = sorted((out / "examples").glob("visual_grounding-*.png"))
    assert len(pictures) == 5 and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pictures)
    assert (out / "run" / "curves.png").stat().st_size > 1000
    assert (out / "examples" / "glue.jsonl").read_text().count("\n") == 5
    glue = next(r for r in results if r["task"] == "glue")
    data = out / "data" / "glue" / "SST-2" / "test.tsv"
    ev = cli("eval", str(out / "run"), "--task", "glue", "--data", str(data), "--format", "tsv", "--limit", "12")
    assert ev.returncode == 0, ev.stderr[-2000:]
    assert json.loads(ev.stdout)["metrics"] == glue["metrics"]
    assert f"--data {data} --format tsv --limit 12" in (out / "results.md").read_text()
    first_rows = [json.loads(line)["row"] for line in (out / "examples" / "glue.jsonl").read_text().splitlines()]
    test_file = data.read_text()
    assert all(r["sentence"] in test_file for r in first_rows)  # the demo scored the test split


def test_rates_and_weights_options_parse_and_name_a_bad_item():
    import pytest

    from polymodal.cli.demo import _per_task

    assert _per_task("glue=1.3, table_qa=2") == {"glue": 1.3, "table_qa": 2.0}
    assert _per_task("") == {}
    for bad in ("glue", "glue=fast", "=1.3"):
        with pytest.raises(SystemExit, match=f"--rates: expected TASK=RATE, got '{bad}'"):
            _per_task(bad)
    with pytest.raises(SystemExit, match="--weights: expected TASK=WEIGHT, got 'sudoku'"):
        _per_task("sudoku", "--weights", "WEIGHT")
