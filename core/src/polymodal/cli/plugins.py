"""``polymodal plugins``: the installed plugins and their components, from metadata (nothing imported)."""
from __future__ import annotations

import argparse
import json

from polymodal.components import COMPONENT_KINDS
from polymodal.errors import PluginError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kind", choices=list(COMPONENT_KINDS), help="only this kind of component")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--verify", action="store_true", help="import every component and its implementation")


def run(args: argparse.Namespace) -> int:
    from polymodal.registry import default_registry

    registry = default_registry()
    handles = registry.handles(args.kind)
    if args.verify:
        for handle in handles:
            if handle.usable:
                try:
                    handle.verify()
                except PluginError:
                    pass  # the handle now carries the error
    rows = [h.as_row() for h in handles]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    cols = ("kind", "name", "distribution", "version", "status", "target")
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) if rows else len(c) for c in cols}
    print("  ".join(c.ljust(widths[c]) for c in cols))
    print("  ".join("-" * widths[c] for c in cols))
    for r in rows:
        print("  ".join(str(r[c]).ljust(widths[c]) for c in cols))
    bad = [r for r in rows if r["status"] != "ok"]
    if bad:
        print(f"\n{len(bad)} component(s) not usable; see the status column")
    return 0
