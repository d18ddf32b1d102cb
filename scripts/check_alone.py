"""Check that each distribution installs alone, with only the polymodal packages it declares, and passes its tests.

    python scripts/check_alone.py [--venv .venv-alone] [DIST_FOLDER ...]   (default: every folder under tasks/)

A separate virtual environment gets the third-party requirements of the whole repository once (the pinned torch
stack included). Then, for each distribution: every polymodal package is uninstalled, the distribution and the
closure of the polymodal packages its ``setup.cfg`` requires are installed in editable mode without dependencies
(so an undeclared one is missing, as on a user's machine), ``polymodal plugins --json`` must list each of its
entry points as ok, and its own tests run alone. Prints one line per distribution and exits non-zero on a failure.
"""
from __future__ import annotations

import argparse
import configparser
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def _folders() -> dict[str, Path]:
    """Distribution name -> folder, for every package of the repository."""
    out = {}
    for cfg in [ROOT / "core" / "setup.cfg", *sorted(ROOT.glob("*/*/setup.cfg"))]:
        parser = configparser.ConfigParser()
        parser.read(cfg)
        out[parser["metadata"]["name"]] = cfg.parent
    return out


def _requires(folder: Path) -> list[str]:
    parser = configparser.ConfigParser()
    parser.read(folder / "setup.cfg")
    raw = parser.get("options", "install_requires", fallback="")
    return [line.strip() for line in raw.splitlines() if line.strip()]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].strip().lower()


def _closure(folder: Path, folders: dict[str, Path]) -> list[Path]:
    seen: list[Path] = []
    todo = [folder]
    while todo:
        f = todo.pop()
        if f in seen:
            continue
        seen.append(f)
        todo += [folders[_name(r)] for r in _requires(f) if _name(r) in folders]
    return seen


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, env=ENV, cwd=ROOT, capture_output=True, text=True, **kwargs)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--venv", default=".venv-alone")
    p.add_argument("dists", nargs="*", help="distribution folders (default: tasks/*)")
    args = p.parse_args()
    folders = _folders()
    venv = ROOT / args.venv
    py, pip = venv / "bin" / "python", [str(venv / "bin" / "python"), "-m", "pip"]
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        third = sorted({r for f in folders.values() for r in _requires(f) if _name(r) not in folders})
        print(f"installing the third-party requirements into {venv} ...", flush=True)
        _run([*pip, "install", "-q", "-c", "constraints.txt", "torch", "torchaudio", "torchvision"], check=True)
        _run([*pip, "install", "-q", "-c", "constraints.txt", "-r", "requirements-dev.txt", *third], check=True)
    targets = [ROOT / d for d in args.dists] or sorted((ROOT / "tasks").glob("*/"))
    targets = [t for t in targets if (t / "setup.cfg").exists()]
    failures = 0
    for folder in targets:
        started = time.time()
        stale = [d["name"] for d in json.loads(_run([*pip, "list", "--format=json"]).stdout)
                 if d["name"].lower().startswith("polymodal")]
        if stale:
            _run([*pip, "uninstall", "-y", *stale], check=True)
        closure = _closure(folder, folders)
        inst = _run([*pip, "install", "-q", "--no-deps", *[a for f in closure for a in ("-e", str(f))]])
        problems = []
        if inst.returncode:
            problems.append("install failed: " + inst.stderr.strip().splitlines()[-1])
        else:
            listing = _run([str(venv / "bin" / "polymodal"), "plugins", "--json"])
            parser = configparser.ConfigParser()
            parser.read(folder / "setup.cfg")
            declared = []
            for group, raw in parser.items("options.entry_points") if parser.has_section(
                    "options.entry_points") else []:
                declared += [(group, line.split("=")[0].strip()) for line in raw.splitlines() if "=" in line]
            try:
                entries = json.loads(listing.stdout)
            except json.JSONDecodeError:
                entries = []
                problems.append("polymodal plugins failed: " + listing.stderr.strip()[-300:])
            listed = {(e.get("name"), e.get("status")) for e in entries}
            for _, name in declared:
                if (name, "ok") not in listed:
                    problems.append(f"entry point {name} not listed as ok")
            tests = _run([str(py), "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", str(folder / "tests")])
            if tests.returncode:
                problems.append("tests failed: " + " | ".join(tests.stdout.strip().splitlines()[-3:]))
            summary = next((line for line in reversed(tests.stdout.splitlines()) if " passed" in line), "")
        rel = folder.relative_to(ROOT)
        deps = ", ".join(str(f.relative_to(ROOT)) for f in closure[1:])
        if problems:
            failures += 1
            print(f"FAIL {rel} (with {deps}): {'; '.join(problems)}", flush=True)
        else:
            print(f"ok   {rel} (with {deps}): {summary} [{time.time() - started:.0f} s]", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
