"""``polymodal``: list plugins, explain plans, train, evaluate, infer, write toy data, run the demo.

Each sub-command lives in its own module and is imported only when chosen, so ``polymodal plugins`` and
``polymodal plan`` never import torch.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from polymodal.errors import PolymodalError

_COMMANDS = {
    "plugins": ("polymodal.cli.plugins", "list installed plugins and their components"),
    "plan": ("polymodal.cli.plan", "compile an instruction and print its plan"),
    "train": ("polymodal.cli.train", "train a model from a YAML configuration"),
    "eval": ("polymodal.cli.evaluate", "evaluate a checkpoint on a task"),
    "infer": ("polymodal.cli.infer", "run one instruction on a checkpoint"),
    "toy": ("polymodal.cli.toy", "write a task's procedural toy data in its real format"),
    "demo": ("polymodal.cli.demo", "train one generalist on every installed task's toy data"),
}


def build_parser() -> argparse.ArgumentParser:
    from polymodal import __version__

    parser = argparse.ArgumentParser(prog="polymodal", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"polymodal {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = next((a for a in sys.argv[1:] if not a.startswith("-")), None)
    for name, (module, help_) in _COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=help_)
        if name == chosen or chosen not in _COMMANDS:
            try:
                importlib.import_module(module).add_arguments(p)
            except ModuleNotFoundError:
                p.set_defaults(_missing=module)
        p.set_defaults(_module=module)
    if chosen not in _COMMANDS:
        try:
            from polymodal.registry import default_registry

            default_registry().hooks.add_cli_commands(sub)
        except PolymodalError:
            pass
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    if getattr(args, "_missing", None):
        print(f"polymodal: command '{args.command}' is not available in this installation", file=sys.stderr)
        return 2
    try:
        return int(importlib.import_module(args._module).run(args) or 0)
    except PolymodalError as exc:
        print(f"polymodal {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
