"""The installed task: the contract checks, and which evaluators it owns."""
from __future__ import annotations

from importlib.metadata import entry_points

from polymodal.testing.contracts import TaskContract
from polymodal_task_sudoku.task import TASK as SPEC


class TestSudokuContract(TaskContract):
    """Entry point, targets, light import, plans and the toy round trip (polymodal.testing.contracts)."""

    name = "sudoku"


def test_the_task_owns_exactly_its_evaluators():
    evaluators = {ep.name for ep in entry_points(group="polymodal.evaluators") if ep.name.startswith("sudoku.")}
    assert set(evaluators) == set(SPEC.evaluators)
