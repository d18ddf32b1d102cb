"""``polymodal train CONFIG.yaml``: train a generalist from a YAML file.

The file has three sections::

    model:   {size: tiny, resource_options: {text.tokenizer: {vocab_size: 4000}}, dropout: 0.1}
    trainer: {max_steps: 2000, lr: 5.0e-4, out_dir: runs/mine, mixture: proportional}
    tasks:
      - name: sentiment
        instruction: 'is " [TEXT:s] " positive? -> [TEXT:label,closed_set]'
        evaluators: [accuracy]
        data: {train: data/train.jsonl, valid: data/valid.jsonl}
      - name: glue                 # a preset: instruction, evaluators and closed sets come from its plugin
        toy: {n: 400, seed: 0}     # its procedural toy data, or data: {...} with format: <loader>

Data paths are relative to the YAML file. ``--set trainer.max_steps=10`` overrides any value.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from polymodal.errors import PolymodalError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", help="the YAML configuration")
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in out_dir")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a value, e.g. trainer.max_steps=10 (YAML syntax for the value)")


def load_config(path: str | Path, overrides: list[str] = ()) -> dict[str, Any]:
    import yaml

    path = Path(path)
    if not path.exists():
        raise PolymodalError(f"config file {path} does not exist")
    try:
        config = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise PolymodalError(f"{path}: invalid YAML: {exc}") from None
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep:
            raise PolymodalError(f"--set needs KEY=VALUE, got {item!r}")
        node = config
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = yaml.safe_load(raw)
    unknown = set(config) - {"model", "trainer", "tasks"}
    if unknown:
        raise PolymodalError(f"{path}: unknown section(s) {', '.join(sorted(unknown))} (model, trainer, tasks)")
    if not config.get("tasks"):
        raise PolymodalError(f"{path}: the 'tasks' section lists no task")
    config["_base"] = str(path.parent)
    return config


def build_tasks(config: dict[str, Any]) -> list[Any]:
    from polymodal.api.task import Task

    base = Path(config.get("_base", "."))
    tasks = []
    for i, spec in enumerate(config["tasks"]):
        spec = dict(spec)
        name = spec.pop("name", None)
        if not name:
            raise PolymodalError(f"tasks[{i}] has no name")
        data = spec.pop("data", {}) or {}
        fmt = spec.pop("format", None)
        toy = spec.pop("toy", None)
        task = Task(name, spec.pop("instruction", None), **spec)
        for split, where in data.items():
            task.add_dataset(str(base / where), split, format=fmt)
        if toy is not None:
            task.add_toy(**(toy if isinstance(toy, dict) else {}))
        tasks.append(task)
    return tasks


def run(args: argparse.Namespace) -> int:
    from polymodal.api.model import GeneralistModel
    from polymodal.training.config import TrainerConfig
    from polymodal.training.trainer import Trainer

    config = load_config(args.config, args.set)
    tasks = build_tasks(config)
    model_cfg = dict(config.get("model") or {})
    size = model_cfg.pop("size", "tiny")
    resource_options = model_cfg.pop("resource_options", None)
    model = GeneralistModel(size, resource_options=resource_options, **model_cfg)
    trainer_cfg = TrainerConfig.from_dict(config.get("trainer") or {})
    metrics = Trainer(trainer_cfg).fit(model, tasks, resume=args.resume)
    print(json.dumps({"out_dir": trainer_cfg.out_dir, "metrics": metrics}, indent=2))
    return 0
