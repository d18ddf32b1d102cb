"""``polymodal toy TASK --out DIR``: write a task's procedural toy data in the task's real format."""
from __future__ import annotations

import argparse

from polymodal.errors import PluginError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("task", help="an installed task preset (name or alias)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--n", type=int, default=200, help="training rows (valid and test get a fifth each)")
    p.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    from polymodal.components import resolve_target
    from polymodal.registry import default_registry

    spec = default_registry().task(args.task)
    if not spec.write_toy:
        raise PluginError(f"task {spec.name!r} does not ship a toy-data writer")
    paths = resolve_target(spec.write_toy)(args.out, args.n, args.seed)
    for p in paths:
        print(p)
    return 0
