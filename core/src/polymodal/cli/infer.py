"""``polymodal infer CKPT "INSTRUCTION" --data key=value ...``: run one instruction (or task name) on a row."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from polymodal.errors import DataError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("checkpoint", help="a checkpoint directory (or a run directory: its newest checkpoint)")
    p.add_argument("instruction", help="an instruction, or the name of a task of the checkpoint")
    p.add_argument("--data", nargs="*", default=[], metavar="KEY=VALUE",
                   help="input columns; a value starting with @ is read from that file as text")
    p.add_argument("--gen", nargs="*", default=[], metavar="KEY=VALUE",
                   help="generation options, e.g. beam_size=4 max_len=32 no_repeat_ngram_size=0")
    p.add_argument("--closed-set", nargs="*", default=[], metavar="COLUMN=a|b|c",
                   help="labels of a closed_set slot of an ad-hoc instruction")


def _pairs(items: list[str], what: str) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise DataError(f"{what} needs KEY=VALUE, got {item!r}")
        out[key] = value
    return out


def run(args: argparse.Namespace) -> int:
    import yaml

    from polymodal.api.model import GeneralistModel

    model = GeneralistModel.from_pretrained(args.checkpoint)
    row = {k: (Path(v[1:]).read_text().strip() if v.startswith("@") else v)
           for k, v in _pairs(args.data, "--data").items()}
    gen = {k: yaml.safe_load(v) for k, v in _pairs(args.gen, "--gen").items()}
    closed = {k: v.split("|") for k, v in _pairs(args.closed_set, "--closed-set").items()}
    out = model.inference(args.instruction, row, closed_sets=closed or None, **gen)
    print(json.dumps({"values": out.values, "score": out.score}, indent=2, default=str))
    return 0
