"""The ``text_to_sql`` task preset (OFASys alias ``spider``) and its evaluators (import-light: no torch).

Entry points (see ``setup.cfg``): ``polymodal.tasks: text_to_sql`` -> :data:`TASK`; ``polymodal.evaluators:
text_to_sql.execution_accuracy`` and ``text_to_sql.exact_match``. Both read the ``gold`` column
(``{"query", "database"}``).
"""
from __future__ import annotations

from polymodal.components import EvaluatorSpec, TaskSpec

__all__ = ["TASK", "EXECUTION_ACCURACY", "EXACT_MATCH"]

_PKG = "polymodal_task_text_to_sql"

EXECUTION_ACCURACY = EvaluatorSpec(
    name="text_to_sql.execution_accuracy",
    target=f"{_PKG}.evaluate:execution_accuracy",
    doc="% of queries whose SQLite result multiset equals the gold query's (read-only, time-limited)",
    primary="execution_accuracy",
)

EXACT_MATCH = EvaluatorSpec(
    name="text_to_sql.exact_match",
    target=f"{_PKG}.evaluate:exact_match",
    doc="% of queries equal to the gold query after SQL normalisation",
    primary="exact_match",
)

TASK = TaskSpec(
    name="text_to_sql",
    instructions=('" [TEXT:src] " ; structured knowledge: " [STRUCT:database] " . generating sql code. '
                  '-> [TEXT:tgt]',),
    doc="Translate a question about a database into SQL (Spider)",
    evaluators=("text_to_sql.execution_accuracy", "text_to_sql.exact_match"),
    primary_metric="text_to_sql.execution_accuracy.execution_accuracy",
    references="gold",
    aliases=("spider",),
    loaders={"spider": f"{_PKG}.data:load"},
    toy=f"{_PKG}.data:make_toy",
    write_toy=f"{_PKG}.data:write_toy",
    baseline=f"{_PKG}.data:baseline",
)
