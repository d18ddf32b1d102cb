"""The installed task: the contract checks, and which evaluators it owns."""
from __future__ import annotations

from importlib.metadata import entry_points

from polymodal.testing.contracts import TaskContract
from polymodal_task_text_to_sql.task import TASK as SPEC


class TestTextToSqlContract(TaskContract):
    """Entry point, targets, light import, plans and the toy round trip (polymodal.testing.contracts)."""

    name = "text_to_sql"


def test_the_task_owns_exactly_its_evaluators():
    evaluators = {ep.name for ep in entry_points(group="polymodal.evaluators") if ep.name.startswith("text_to_sql.")}
    assert set(evaluators) == set(SPEC.evaluators)
    assert "spider" in SPEC.aliases
