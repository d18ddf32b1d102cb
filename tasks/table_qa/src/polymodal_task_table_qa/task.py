"""The ``table_qa`` task preset (OFASys alias ``fetaqa``) and its evaluator (import-light: no torch).

Entry points (see ``setup.cfg``): ``polymodal.tasks: table_qa`` -> :data:`TASK`; ``polymodal.evaluators:
table_qa.denotation_accuracy``. BLEU-4 and ROUGE-L come from the generic ``bleu`` and ``rouge`` evaluators
(``polymodal-plugin-metrics``).
"""
from __future__ import annotations

from polymodal.components import EvaluatorSpec, TaskSpec

__all__ = ["TASK", "DENOTATION_ACCURACY"]

_PKG = "polymodal_task_table_qa"

DENOTATION_ACCURACY = EvaluatorSpec(
    name="table_qa.denotation_accuracy",
    target=f"{_PKG}.evaluate:denotation_accuracy",
    doc="% of answers equal to the reference after answer normalisation (numbers, case, punctuation)",
    primary="denotation_accuracy",
)

TASK = TaskSpec(
    name="table_qa",
    instructions=('structured knowledge: " [STRUCT:table] " . what is the answer of the question '
                  '" [TEXT:src] "? -> [TEXT:tgt]',),
    doc="Answer a question about a table (FeTaQA)",
    evaluators=("table_qa.denotation_accuracy", "bleu", "rouge"),
    primary_metric="table_qa.denotation_accuracy.denotation_accuracy",
    aliases=("fetaqa",),
    loaders={"fetaqa": f"{_PKG}.data:load"},
    toy=f"{_PKG}.data:make_toy",
    write_toy=f"{_PKG}.data:write_toy",
    baseline=f"{_PKG}.data:baseline",
)
