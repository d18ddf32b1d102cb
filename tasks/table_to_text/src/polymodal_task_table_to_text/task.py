"""The ``table_to_text`` task preset (OFASys alias ``dart``) and its evaluators (import-light: no torch).

Entry points (see ``setup.cfg``): ``polymodal.tasks: table_to_text`` -> :data:`TASK`; ``polymodal.evaluators:
table_to_text.bleu`` and ``table_to_text.slot_recall``. Both read the ``gold`` column
(``{"triples", "texts"}``), which is why BLEU is the task's own rather than the generic ``bleu``.
"""
from __future__ import annotations

from polymodal.components import EvaluatorSpec, TaskSpec

__all__ = ["TASK", "BLEU", "SLOT_RECALL"]

_PKG = "polymodal_task_table_to_text"

BLEU = EvaluatorSpec(
    name="table_to_text.bleu",
    target=f"{_PKG}.evaluate:bleu",
    doc="sacreBLEU corpus BLEU-4 against every reference text",
    primary="bleu",
)

SLOT_RECALL = EvaluatorSpec(
    name="table_to_text.slot_recall",
    target=f"{_PKG}.evaluate:slot_recall",
    doc="% of subject/object values mentioned, plus % of outputs with unsupported words (hallucination)",
    primary="slot_recall",
)

TASK = TaskSpec(
    name="table_to_text",
    instructions=('structured knowledge: " [STRUCT:database,uncased] " . how to describe the tripleset? '
                  '-> [TEXT:tgt]',),
    doc="Describe a set of (subject, predicate, object) triples in one or two sentences (DART)",
    evaluators=("table_to_text.bleu", "table_to_text.slot_recall"),
    primary_metric="table_to_text.bleu.bleu",
    references="gold",
    aliases=("dart",),
    loaders={"dart": f"{_PKG}.data:load"},
    toy=f"{_PKG}.data:make_toy",
    write_toy=f"{_PKG}.data:write_toy",
    baseline=f"{_PKG}.data:baseline",
)
