"""``polymodal demo``: the main job on the toy world.

For every installed task preset that ships toy data: write its toy data in the task's real format, read it back
with the task's own loader, train one small generalist on all of them jointly, evaluate each on its held-out
test split next to its trivial baseline (scored by the same evaluators), and write the results table (Markdown),
the loss/metric curves, example predictions and the checkpoint to ``--out``. It ends with a few
``model.inference`` calls on instructions written on the spot.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

#: learned = the model beats the baseline by at least this many points of the primary metric
MARGIN = 10.0


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="out/demo", help="output folder (results.md, curves, examples, checkpoint)")
    p.add_argument("--size", default="micro", help="model size (nano, micro, mini, tiny, ...)")
    p.add_argument("--steps", type=int, default=6300, help="training steps")
    p.add_argument("--n", type=int, default=2000, help="training rows per task (test and valid get a fifth)")
    p.add_argument("--tasks", help="comma-separated task names (default: every installed preset with toy data)")
    p.add_argument("--threads", type=int, default=2, help="torch threads")
    p.add_argument("--lr", type=float, default=1e-3, help="peak learning rate")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-rows", type=int, default=120, help="test rows scored per task")
    p.add_argument("--mixture", default="temperature", choices=("all", "proportional", "temperature", "round_robin"),
                   help="how tasks share steps (all: every task in every step)")
    p.add_argument("--batch-size", type=int, default=24, help="rows per task per batch")
    p.add_argument("--warmup", type=int, default=100, help="warm-up steps")
    p.add_argument("--first", default="sudoku",
                   help="tasks that train alone first, the others joining after --first-steps (Sudoku: its loss breaks "
                        "at 100-200 steps alone, and never in the whole mixture); empty for none")
    p.add_argument("--first-steps", type=int, default=300, help="steps before the other tasks join")
    p.add_argument("--rates", default="caption=0.6,summarization=0.6,table_to_text=0.6,glue=1.5,table_qa=1.3,"
                                      "visual_grounding=1.5",
                   help="TASK=RATE,...: sampling rates (Task(rate=...)); the default moves steps from tasks far above "
                        "their baselines to the three nearest to theirs, at about the same training time; empty for "
                        "none")
    p.add_argument("--weights", default="",
                   help="TASK=WEIGHT,...: loss weights (Task(weight=...)); a task's loss is scaled by its weight; empty "
                        "for none")
    p.add_argument("--copy", action=argparse.BooleanOptionalAction, default=True,
                   help="a pointer that copies input tokens into the output (polymodal.model.copying)")
    p.add_argument("--image-stride", type=int, default=16, choices=(8, 16),
                   help="the small image adapter's stride on the 64-pixel scenes (8: 64 patches, 16: 16 patches)")


def _per_task(text: str, option: str = "--rates", what: str = "RATE") -> dict[str, float]:
    """``"a=0.5,b=2"`` -> ``{"a": 0.5, "b": 2.0}``."""
    values = {}
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise SystemExit(f"{option}: expected TASK={what}, got {item!r}")
        try:
            values[name.strip()] = float(value)
        except ValueError:
            raise SystemExit(f"{option}: expected TASK={what}, got {item!r}") from None
    return values


def _primary(metrics: dict[str, dict[str, float]], key: str) -> float:
    evaluator, _, name = key.rpartition(".")
    return float(metrics.get(evaluator, {}).get(name, float("nan")))


def _cpu_sized(instruction: str) -> str:
    """The demo's images are small renders: use the small CPU adapter at their own size, and as many location
    bins as the images have pixels a side (OFA's 1,000 bins suit 512-pixel images)."""
    import re

    instruction = re.sub(r"\[IMAGE:(\w+)\]", r"[IMAGE:\1,size=64,adapter=image.small]", instruction)
    return re.sub(r"\[BOX:(\w+)\]", r"[BOX:\1,num_bins=64]", instruction)


def _demo_tasks(args: argparse.Namespace, data_dir: Path) -> list[Any]:
    from polymodal.api.task import Task
    from polymodal.components import resolve_target
    from polymodal.registry import default_registry
    from polymodal.training.config import SAMPLED_MIXTURES

    registry = default_registry()
    wanted = args.tasks.split(",") if args.tasks else None
    first = {t for t in (args.first or "").split(",") if t}
    rates = _per_task(getattr(args, "rates", ""))
    weights = _per_task(getattr(args, "weights", ""), "--weights", "WEIGHT")
    if rates and getattr(args, "mixture", "temperature") not in SAMPLED_MIXTURES:
        print(f"  --rates apply to the sampled mixtures only; mixture {args.mixture!r} ignores them")
        rates = {}
    tasks = []
    for name in registry.names("task"):
        if wanted and name not in wanted:
            continue
        spec = registry.get("task", name)
        if not (spec.write_toy and spec.loaders and spec.baseline):
            print(f"  {name}: no toy data writer, loader or baseline; left out")
            continue
        paths = resolve_target(spec.write_toy)(str(data_dir / name), args.n, args.seed)
        fmt = next(iter(spec.loaders))
        task = Task(name, [_cpu_sized(i) for i in spec.instructions],
                    start_step=0 if name in first else args.first_steps, rate=rates.get(name, 1.0),
                    weight=weights.get(name, 1.0))
        by_split = spec.toy_layout == "dataset"
        for k, split in enumerate(("train", "valid", "test")):
            task.add_dataset(str(paths[0 if by_split else k]), split, format=fmt,
                             options={"split": split} if by_split else None)
        task.demo_source = (str(paths[0 if by_split else 2]), fmt, " --option split=test" if by_split else "")
        print(f"  {name}: {len(task.rows('train'))} train / {len(task.rows('test'))} test rows, "
              f"written in its '{fmt}' format to {data_dir / name} and read back by its loader")
        tasks.append(task)
    if not any(t.name in first for t in tasks):  # none of the --first tasks runs: nobody waits for them
        for t in tasks:
            t.start_step = 0
    for option, values in (("--rates", rates), ("--weights", weights)):
        unknown = sorted(set(values) - {t.name for t in tasks})
        if unknown:
            print(f"  {option} names tasks this demo does not train ({', '.join(unknown)}); ignored")
    return tasks


def _examples(model: Any, task: Any, rows: list[dict], out: Path, k: int = 5) -> list[str]:
    """Write the first ``k`` predictions as JSONL, and as pictures where a plugin can draw them."""
    out.mkdir(parents=True, exist_ok=True)
    enc = model.task_encoder(task.name)
    outputs = model.generate_rows(enc, rows[:k], **model.tasks[task.name].generation)
    pictures: list[str] = []
    with (out / f"{task.name}.jsonl").open("w") as fh:
        for i, (row, output) in enumerate(zip(rows, outputs)):
            fh.write(json.dumps({"prediction": output.values, "row": row}, default=str) + "\n")
            pictures += model.registry.hooks.save_example(enc.plan, row, output.values, str(out / f"{task.name}-{i}"))
    return pictures


def run(args: argparse.Namespace) -> int:
    import torch

    from polymodal.api.model import GeneralistModel
    from polymodal.components import resolve_target
    from polymodal.training.config import TrainerConfig
    from polymodal.training.evaluation import evaluate_task, score
    from polymodal.training.trainer import Trainer

    torch.set_num_threads(args.threads)
    started = time.time()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"== polymodal demo: toy data of every installed task -> one '{args.size}' generalist "
          f"({args.threads} threads) ==")
    tasks = _demo_tasks(args, out / "data")
    if not tasks:
        print("no installed task ships toy data; install task plugins (make demo installs every package)")
        return 1
    model = GeneralistModel(args.size, resource_options={"text.tokenizer": {"vocab_size": 2000}},
                            adapter_options={"image.small": {"stride": args.image_stride}}, copy=args.copy)
    # six evaluations on the valid split draw the metric curves next to the losses
    config = TrainerConfig(max_steps=args.steps, lr=args.lr, warmup_steps=args.warmup, batch_size=args.batch_size,
                           max_tokens=6000, mixture=args.mixture, temperature=2.0, out_dir=str(out / "run"),
                           eval_rows=args.eval_rows, eval_split="valid", eval_every=max(1, args.steps // 6),
                           seed=args.seed, log_every=20, label_smoothing=0.1)
    Trainer(config).fit(model, tasks)
    print(f"\ntrained in {time.time() - started:.0f} s; evaluating on the held-out test splits")

    lines = ["| task | metric | model | trivial baseline | learned |", "|---|---|---|---|---|"]
    summary: list[dict[str, Any]] = []
    pictures: list[str] = []
    for task in tasks:
        spec = task.preset
        rows = task.rows("test")[: args.eval_rows]
        metrics, _ = evaluate_task(model, task.name, rows)
        base_preds = resolve_target(spec.baseline)(task.rows("train"), rows)
        ref_col = spec.references or model.task_encoder(task.name).plan.target_columns()[0]
        base = score(model.registry, model.tasks[task.name].evaluators, base_preds, [r[ref_col] for r in rows])
        ours, theirs = _primary(metrics, task.primary_metric), _primary(base, task.primary_metric)
        learned = ours >= theirs + MARGIN
        summary.append({"task": task.name, "metric": task.primary_metric, "model": ours, "baseline": theirs,
                        "learned": learned, "metrics": metrics, "baseline_metrics": base, "rows": len(rows)})
        lines.append(f"| {task.name} | {task.primary_metric} | {ours:.1f} | {theirs:.1f} | "
                     f"{'yes' if learned else 'no'} |")
        pictures += _examples(model, task, rows, out / "examples")
    table = "\n".join(lines)
    print("\n" + table)
    reproduce = "\n".join(
        f"    polymodal eval {out / 'run'} --task {t.name} --data {t.demo_source[0]} --format {t.demo_source[1]}"
        f"{t.demo_source[2]} --limit {args.eval_rows}" for t in tasks)
    elapsed = time.time() - started
    (out / "results.md").write_text(
        f"# polymodal demo\n\nOne '{args.size}' generalist trained {args.steps} steps on {len(tasks)} tasks "
        f"({args.threads} threads, {elapsed:.0f} s). Learned = model >= baseline + {MARGIN:g} points.\n\n"
        f"{table}\n\nCurves: `run/curves.png`. Example predictions: `examples/` "
        f"({len(pictures)} pictures). Checkpoint: `run/latest`.\n\n"
        f"Each row is reproduced from the checkpoint by:\n\n{reproduce}\n")
    (out / "results.json").write_text(json.dumps(summary, indent=1, default=str))

    print("\n== inference on instructions written on the spot ==")
    _spot_checks(model)
    print(f"\nresults: {out / 'results.md'}; curves: {out / 'run' / 'curves.png'}; done in {elapsed:.0f} s")
    return 0


def _spot_checks(model: Any) -> None:
    calls = []
    if "glue" in model.tasks:
        calls.append(("glue", {"sentence": "the movie was wonderful and i loved it"}, {}))
        calls.append(('is the sentiment of text " [TEXT:sentence] " positive or negative? -> [TEXT:label,closed_set]',
                      {"sentence": "a dull , awful film"}, {"closed_sets": {"label": ["positive", "negative"]}}))
    if "text_infilling" in model.tasks:
        calls.append(('what is the complete text of " [TEXT:text] "? -> [TEXT:text]',
                      {"text": "there is a small <mask> triangle below the large yellow square ."}, {}))
    if "summarization" in model.tasks:
        calls.append(("summarization", {"src": "On Monday a baker sold twelve loaves in Paris . It rained ."}, {}))
    for instruction, data, extra in calls:
        try:
            out = model.inference(instruction, data, **extra)
            print(f"  {instruction[:70]!r}\n    {data} -> {out.values}")
        except Exception as exc:  # the demo reports, it does not stop on one bad call
            print(f"  {instruction[:70]!r}: {type(exc).__name__}: {exc}")
