"""``polymodal eval CKPT --task T [--data PATH]``: score a checkpoint on a task (corpus-level metrics)."""
from __future__ import annotations

import argparse
import json

from polymodal.errors import PluginError, PolymodalError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("checkpoint", help="a checkpoint directory (or a run directory: its newest checkpoint)")
    p.add_argument("--task", required=True, help="a task the checkpoint was trained on")
    p.add_argument("--data", help="rows to score (JSONL/TSV/CSV/Parquet, or a preset loader's format with --format)")
    p.add_argument("--format", help="reader format or preset loader name")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="a preset loader option, e.g. split=test for a file that holds every split")
    p.add_argument("--toy", type=int, nargs=2, metavar=("N", "SEED"), help="score N toy test rows of the preset")
    p.add_argument("--limit", type=int, help="score at most this many rows")
    p.add_argument("--predictions", help="write predictions as JSONL here")


def run(args: argparse.Namespace) -> int:
    from polymodal.api.model import GeneralistModel
    from polymodal.api.task import Task
    from polymodal.training.evaluation import evaluate_task

    model = GeneralistModel.from_pretrained(args.checkpoint)
    if args.task not in model.tasks:
        raise PolymodalError(f"the checkpoint knows no task {args.task!r} (it has: {', '.join(model.tasks)})")
    record = model.tasks[args.task]
    try:  # the installed preset, for its real-format loaders and toy data
        task = Task(args.task)
    except PluginError:
        task = Task(args.task, record.instructions)
    if args.data:
        options = dict(o.split("=", 1) for o in args.option if "=" in o)
        task.add_dataset(args.data, "test", format=args.format, options=options)
    elif args.toy:
        task.add_toy(n=args.toy[0] * 5, seed=args.toy[1], splits=["test"])
    else:
        raise PolymodalError("give --data PATH (or --toy N SEED for a preset's toy test rows)")
    rows = task.rows("test")[: args.limit] if args.limit else task.rows("test")
    metrics, predictions = evaluate_task(model, args.task, rows)
    if args.predictions:
        with open(args.predictions, "w") as fh:
            for row, pred in zip(rows, predictions):
                fh.write(json.dumps({"prediction": pred, "row": row}, default=str) + "\n")
    print(json.dumps({"task": args.task, "rows": len(rows), "metrics": metrics}, indent=2))
    return 0
