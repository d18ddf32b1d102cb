"""``polymodal demo``: the main job on the toy world.

Today it lists the installed plugins and prints the plan of every installed task's instruction templates and of
the preset text templates (the engine issue makes it train one generalist on all of them).
"""
from __future__ import annotations

import argparse
from pathlib import Path

TEXT_PRESETS = (
    'is the sentiment of text " [TEXT:sentence] " positive or negative? -> is the sentiment of text '
    '" [TEXT:sentence,no_loss] " positive or negative? [TEXT:label,closed_set]',
    'what is the summary of article " [TEXT:src] "? -> [TEXT:tgt,noise_ratio=0.2]',
    "[TEXT:instruction] [TEXT:examples] [TEXT:src] -> [TEXT:tgt,max_length=128]",
    'what is the complete text of " [TEXT:text,mask_ratio=0.3] "? -> [TEXT:text]',
    "[TEXT:doc] list the entities. -> ( [TEXT:kind,closed_set] [TEXT:name] )*",
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="out/demo", help="folder for the demo's outputs (plans.md)")


def run(args: argparse.Namespace) -> int:
    from polymodal.cli import plugins as plugins_cmd
    from polymodal.errors import PolymodalError
    from polymodal.planning.planner import compile_instruction
    from polymodal.registry import default_registry

    registry = default_registry()
    print("== installed plugins ==")
    plugins_cmd.run(argparse.Namespace(kind=None, json=False, verify=False))
    templates: list[tuple[str, str]] = [("text preset", t) for t in TEXT_PRESETS]
    for name in registry.names("task"):
        try:
            spec = registry.get("task", name)
        except PolymodalError as exc:
            print(f"task {name}: {exc}")
            continue
        templates += [(f"task {name}", t) for t in spec.instructions]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = []
    failures = 0
    for origin, text in templates:
        try:
            rendered = compile_instruction(text, registry).render()
        except PolymodalError as exc:
            rendered = f"cannot plan: {exc}"
            failures += 1
        block = f"== {origin} ==\n{rendered}\n"
        print("\n" + block)
        report.append(f"## {origin}\n\n```\n{rendered}\n```\n")
    (out / "plans.md").write_text("# Plans of the installed templates\n\n" + "\n".join(report))
    print(f"plans written to {out / 'plans.md'} ({len(templates)} templates, {failures} not plannable)")
    return 0
