"""The task spec: entry point, import lightness, and agreement between instructions, rows and closed sets."""
from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points

from polymodal.components import resolve_target
from polymodal.instruction.grammar import parse
from polymodal.testing.contracts import TaskContract
from polymodal.testing.run import run_task
from polymodal_task_glue.task import GLUE, SUBTASK_SPECS
from polymodal_task_glue.toy import TOY_SUBTASKS


def test_entry_point_is_exposed():
    eps = {ep.name: ep for ep in entry_points(group="polymodal.tasks")}
    assert eps["glue"].value == "polymodal_task_glue.task:GLUE"
    assert eps["glue"].load() is GLUE


def test_importing_the_spec_does_not_import_torch_or_numpy():
    code = "import sys, polymodal_task_glue.task; print('torch' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_default_instruction_is_sst2_and_every_target_resolves():
    assert GLUE.instructions[0].startswith('is the sentiment of text " [TEXT:sentence] " positive or negative?')
    for spec in (GLUE, *SUBTASK_SPECS.values()):
        for target in (*spec.loaders.values(), spec.toy, spec.write_toy, spec.baseline):
            if target is not None:
                assert callable(resolve_target(target)), target


def test_instruction_columns_match_toy_rows_and_labels_are_in_the_closed_set():
    for name in TOY_SUBTASKS:
        spec = SUBTASK_SPECS[name]
        syntax = parse(spec.instructions[0])
        names = {s.name for s in syntax.encoder.slots() + syntax.decoder.slots()}
        rows = resolve_target(spec.toy)(30, 0, "valid")
        assert names == set(rows[0])
        assert {r["label"] for r in rows} <= set(spec.closed_sets["label"])
        closed = [s for s in syntax.decoder.slots() if any(a.name == "closed_set" for a in s.attrs)]
        assert [s.name for s in closed] == ["label"]


def test_subtask_metrics():
    assert SUBTASK_SPECS["cola"].primary_metric == "mcc.mcc"
    assert SUBTASK_SPECS["stsb"].evaluators == ("pearson_spearman",)
    assert GLUE.evaluators == ("accuracy",) and GLUE.generation == {"beam_size": 1}


class TestGlueContract(TaskContract):
    name = "glue"


def test_every_toy_subtask_runs_through_the_pipeline_losslessly():
    for name in TOY_SUBTASKS:
        spec = SUBTASK_SPECS[name]
        rows = resolve_target(spec.toy)(10, 0, "test")
        run = run_task(spec, rows)
        evaluator, _, key = spec.primary_metric.partition(".")
        assert run.metrics[evaluator][key] == 100.0, name
