"""The ``glue`` task spec (entry point ``polymodal.tasks: glue``), and one spec per GLUE subtask.

Import-light: only the spec classes and the subtask table. The default task is SST-2 (a task's several
instructions are alternative phrasings over the same columns, so the subtasks, whose columns differ, are not
listed there); :data:`SUBTASK_SPECS` gives each subtask a complete spec of its own (its instruction first, its closed set and its metrics: MCC for CoLA,
Pearson/Spearman for STS-B), e.g. for ``polymodal.register(SUBTASK_SPECS["mnli"])``.
"""
from __future__ import annotations

from polymodal.components import TaskSpec

from polymodal_task_glue.subtasks import DEFAULT_SUBTASK, SUBTASKS, Subtask

__all__ = ["GLUE", "SUBTASK_SPECS"]

_DATA = "polymodal_task_glue.data"
_TOY_SUBTASKS = ("mnli", "rte", "cola", "stsb")  # sst2 is the default task's own toy


def _spec(sub: Subtask, name: str, doc: str) -> TaskSpec:
    toy_suffix = f"_{sub.name}" if sub.name in _TOY_SUBTASKS else ""
    has_toy = sub.name == DEFAULT_SUBTASK or sub.name in _TOY_SUBTASKS
    return TaskSpec(
        name=name,
        instructions=(sub.instruction,),
        doc=doc,
        evaluators=sub.evaluators,
        primary_metric=sub.primary_metric,
        generation={"beam_size": 1},
        loaders={"tsv": f"{_DATA}:load"},
        toy=f"{_DATA}:make_toy{toy_suffix}" if has_toy else None,
        write_toy=f"{_DATA}:write_toy{toy_suffix}" if has_toy else None,
        baseline=f"{_DATA}:baseline",
        closed_sets={"label": list(sub.closed_set)},
    )


GLUE = _spec(SUBTASKS[DEFAULT_SUBTASK], "glue",
             "GLUE natural-language understanding (default SST-2 sentiment; CoLA, MRPC, STS-B, QQP, MNLI, QNLI, "
             "RTE, WNLI through subtask specs); toy: composed sentiment and scene-based NLI")

#: One spec per subtask, named ``glue_<subtask>`` (``glue_sst2`` equals :data:`GLUE` but for its name).
SUBTASK_SPECS: dict[str, TaskSpec] = {
    key: _spec(sub, f"glue_{key}", f"GLUE {sub.folder}") for key, sub in SUBTASKS.items()
}
