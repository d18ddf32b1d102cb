"""The installed distribution exposes its task and evaluators, and the spec module is import-light."""
from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points

from polymodal.components import EvaluatorSpec, TaskSpec, resolve_target


def test_entry_points():
    (task_ep,) = [ep for ep in entry_points(group="polymodal.tasks") if ep.name == "table_to_text"]
    task = task_ep.load()
    assert isinstance(task, TaskSpec) and task.name == "table_to_text"
    evaluators = {ep.name: ep.load() for ep in entry_points(group="polymodal.evaluators")
                  if ep.name.startswith("table_to_text.")}
    assert set(evaluators) == set(task.evaluators)
    assert "dart" in task.aliases
    assert all(isinstance(spec, EvaluatorSpec) and callable(spec.load()) for spec in evaluators.values())
    for target in [*task.loaders.values(), task.toy, task.write_toy, task.baseline]:
        assert callable(resolve_target(target))
    evaluator, _, key = task.primary_metric.rpartition(".")
    assert evaluators[evaluator].primary == key


def test_task_import_is_light():
    code = "import sys, polymodal_task_table_to_text.task; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
