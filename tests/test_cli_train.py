"""The engine issue's acceptance path through the command line: `polymodal train` on a YAML file with two
text tasks read from files, `polymodal eval` on held-out data, `polymodal infer` with an ad-hoc instruction."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

GOOD = "good great lovely superb fine".split()
BAD = "bad awful dull poor nasty".split()
THINGS = "movie film show play book".split()


def rows(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        positive = rng.random() < 0.5
        word, thing = rng.choice(GOOD if positive else BAD), rng.choice(THINGS)
        out.append({"sentence": f"the {thing} was {word}", "label": "positive" if positive else "negative",
                    "src": f"the {thing} was {word}", "tgt": f"{word} {thing}"})
    return out


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "polymodal.cli.main", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=900)


def test_train_eval_infer_from_yaml(tmp_path: Path):
    data = tmp_path / "data"
    data.mkdir()
    for split, n, seed in (("train", 300, 1), ("valid", 40, 2), ("test", 60, 3)):
        with (data / f"{split}.jsonl").open("w") as fh:
            for row in rows(n, seed):
                fh.write(json.dumps(row) + "\n")
    (data / "test.tsv").write_text("sentence\tlabel\tsrc\ttgt\n" + "".join(
        f"{r['sentence']}\t{r['label']}\t{r['src']}\t{r['tgt']}\n" for r in rows(60, 3)))
    (tmp_path / "run.yaml").write_text(f"""
model: {{size: micro, dropout: 0.0, resource_options: {{text.tokenizer: {{vocab_size: 1000, min_frequency: 1}}}}}}
trainer: {{max_steps: 400, lr: 1.0e-3, warmup_steps: 40, batch_size: 16, out_dir: {tmp_path / 'run'},
          mixture: round_robin, progress: false, tensorboard: false}}
tasks:
  - name: sentiment
    instruction: 'is the sentiment of " [TEXT:sentence] " positive or negative? -> [TEXT:label,closed_set]'
    evaluators: [accuracy]
    data: {{train: data/train.jsonl, valid: data/valid.jsonl}}
  - name: reorder
    instruction: 'what is the word and the thing of " [TEXT:src] "? -> [TEXT:tgt]'
    evaluators: [exact_match]
    data: {{train: data/train.jsonl, valid: data/valid.jsonl}}
""")
    out = cli("train", "run.yaml", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    train = rows(300, 1)
    test = rows(60, 3)
    for task, column, metric in (("sentiment", "label", "accuracy"), ("reorder", "tgt", "exact_match")):
        ev = cli("eval", str(tmp_path / "run"), "--task", task, "--data", "data/test.tsv", cwd=tmp_path)
        assert ev.returncode == 0, ev.stderr[-3000:]
        score = json.loads(ev.stdout)["metrics"][metric][metric]
        majority = Counter(r[column] for r in train).most_common(1)[0][0]
        baseline = 100.0 * sum(r[column] == majority for r in test) / len(test)
        assert score > baseline + 30, (task, score, baseline)
    inf = cli("infer", str(tmp_path / "run"), 'is " [TEXT:sentence] " good? -> [TEXT:answer,closed_set]',
              "--data", "sentence=the film was lovely", "--closed-set", "answer=positive|negative", cwd=tmp_path)
    assert inf.returncode == 0, inf.stderr[-2000:]
    assert json.loads(inf.stdout)["values"]["answer"] in ("positive", "negative")
    bad = cli("eval", str(tmp_path / "run"), "--task", "nope", "--data", "data/test.tsv", cwd=tmp_path)
    assert bad.returncode == 1 and "knows no task 'nope'" in bad.stderr
