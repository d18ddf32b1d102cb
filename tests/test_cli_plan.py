"""The core issue's acceptance checks, run through the installed command line."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PRESETS = [
    'is the sentiment of text " [TEXT:sentence] " positive or negative? -> is the sentiment of text '
    '" [TEXT:sentence,no_loss] " positive or negative? [TEXT:label,closed_set]',
    'what is the summary of article " [TEXT:src] "? -> [TEXT:tgt,noise_ratio=0.2]',
    "[TEXT:instruction] [TEXT:examples] [TEXT:src] -> [TEXT:tgt,max_length=128]",
    'what is the complete text of " [TEXT:text,mask_ratio=0.3] "? -> [TEXT:text]',
    "[TEXT:doc] list the entities. -> ( [TEXT:kind,closed_set] [TEXT:name] )*",
]


def cli(*args, env_extra=None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "polymodal.cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_plans_of_the_preset_text_templates():
    out = cli("plan", *PRESETS)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("decoding program:") == len(PRESETS)
    assert "closed set [TEXT:label,closed_set]" in out.stdout
    assert "noise_ratio=0.2" in out.stdout
    assert "loop, zero or more times" in out.stdout
    plans = json.loads(cli("plan", "--json", *PRESETS).stdout)
    infill = plans[3]
    assert infill["input_columns"] == ["text"] and infill["target_columns"] == ["text"]
    assert [s["kind"] for s in plans[0]["program"]["segments"]] == ["forced", "forced", "forced", "choice"]


def test_missing_image_modality_names_its_distribution():
    # whether or not the image plugin is installed: disabled, it is as good as absent
    out = cli("plan", "[IMAGE:img] what does the image describe? -> [TEXT:cap]",
              env_extra={"POLYMODAL_DISABLE_PLUGINS": "polymodal-modality-image"})
    assert out.returncode != 0
    assert "polymodal-modality-image" in out.stderr


@pytest.mark.parametrize("text, column", [
    ("[TEXT:a, no_loss] -> [TEXT:b]", 8),
    ("[TEXT:b,mask-ratio=0.3] -> [TEXT:c]", 12),
    ("[text:a] -> [TEXT:b]", 1),
    ("[TEXT:a,preprocessor=x] -> [TEXT:b]", 8),
    ("[TEXT:a] -> [TEXT:b] -> [TEXT:c]", 21),
    ("( [TEXT:a] -> [TEXT:b]", 0),
])
def test_malformed_instructions_exit_non_zero_with_a_caret(text, column):
    out = cli("plan", text)
    assert out.returncode != 0 and out.stdout == ""
    lines = out.stderr.splitlines()
    echoed = next(i for i, line in enumerate(lines) if line.strip() == text.strip())
    assert lines[echoed + 1].index("^") == column + 2


def test_plugins_json_lists_core_and_text():
    rows = json.loads(cli("plugins", "--json").stdout)
    by = {(r["kind"], r["name"]): r for r in rows}
    assert by[("modality", "text")]["distribution"] == "polymodal-modality-text"
    assert by[("modality", "text")]["status"] == "ok" and by[("modality", "text")]["version"] == "0.1.0"
    assert by[("generator", "beam")]["distribution"] == "polymodal"


def test_broken_plugin_does_not_stop_plan(tmp_path: Path):
    site = tmp_path / "site"
    info = site / "polymodal_broken-0.3.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: polymodal-broken\nVersion: 0.3\n")
    (info / "entry_points.txt").write_text("[polymodal.modalities]\nwidget = polymodal_broken_mod:SPEC\n")
    (site / "polymodal_broken_mod.py").write_text("raise ImportError('broken on purpose')\n")
    env = {"PYTHONPATH": str(site) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    rows = json.loads(cli("plugins", "--json", "--verify", env_extra=env).stdout)
    row = next(r for r in rows if r["distribution"] == "polymodal-broken")
    assert row["status"] == "error: ImportError: broken on purpose"
    out = cli("plan", PRESETS[1], env_extra=env)
    assert out.returncode == 0 and "decoding program" in out.stdout
    bad = cli("plan", "[WIDGET:w] describe -> [TEXT:cap]", env_extra=env)
    assert bad.returncode != 0 and "broken on purpose" in bad.stderr
