"""The task spec: entry point, import lightness, and agreement with the rows."""
from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points

from polymodal.components import resolve_target
from polymodal.instruction.grammar import parse
from polymodal.testing.contracts import TaskContract
from polymodal_task_natural_instructions.task import NATURAL_INSTRUCTIONS as SPEC


def test_entry_point_is_exposed():
    eps = {ep.name: ep for ep in entry_points(group="polymodal.tasks")}
    assert eps["natural_instructions"].load() is SPEC
    assert "natural_instruction_v2" in SPEC.aliases


def test_importing_the_spec_does_not_import_torch_or_numpy():
    code = ("import sys, polymodal_task_natural_instructions.task; "
            "print('torch' in sys.modules, 'numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_instruction_columns_and_references_exist_in_toy_rows():
    syntax = parse(SPEC.instructions[0])
    names = {s.name for s in syntax.encoder.slots() + syntax.decoder.slots()}
    row = resolve_target(SPEC.toy)(20, 0, "valid")[0]
    assert names <= set(row)
    assert isinstance(row["answers"], list) and row["tgt"] == row["answers"][0]
    for target in (SPEC.loaders["json"], SPEC.write_toy, SPEC.baseline):
        assert callable(resolve_target(target))


class TestNaturalInstructionsContract(TaskContract):
    name = "natural_instructions"
    n_rows = 18
