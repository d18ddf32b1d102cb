"""``polymodal plan "<instruction>"``: compile an instruction and explain the plan (like SQL's EXPLAIN)."""
from __future__ import annotations

import argparse
import json
import sys

from polymodal.errors import InstructionError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("instruction", nargs="+", help="the instruction (or several, each quoted)")
    p.add_argument("--json", action="store_true", help="print the plan as JSON")


def run(args: argparse.Namespace) -> int:
    from polymodal.planning.planner import compile_instruction

    status, out = 0, []
    for text in args.instruction:
        try:
            plan = compile_instruction(text)
        except InstructionError as exc:
            print(f"polymodal plan: error: {exc}", file=sys.stderr)
            status = 1
            continue
        out.append(plan.to_dict() if args.json else plan.render())
    if out and args.json:
        print(json.dumps(out[0] if len(args.instruction) == 1 else out, indent=2))
    elif out:
        print("\n\n".join(out))
    return status
