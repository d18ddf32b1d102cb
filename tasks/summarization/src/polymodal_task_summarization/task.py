"""The ``summarization`` task spec (alias ``gigaword``) and its fact-accuracy evaluator spec.

Entry points: ``polymodal.tasks: summarization`` -> :data:`SUMMARIZATION`;
``polymodal.evaluators: summarization.fact_accuracy`` -> :data:`FACT_ACCURACY`. Import-light.
"""
from __future__ import annotations

from polymodal.components import EvaluatorSpec, TaskSpec

__all__ = ["SUMMARIZATION", "FACT_ACCURACY"]

_PKG = "polymodal_task_summarization"

FACT_ACCURACY = EvaluatorSpec(
    name="summarization.fact_accuracy", target=f"{_PKG}.evaluate:fact_accuracy", primary="fact_accuracy",
    doc="percent of templated toy summaries whose who/verb/count/thing/place/day slots all match")

SUMMARIZATION = TaskSpec(
    name="summarization",
    instructions=('what is the summary of article " [TEXT:src] "? -> [TEXT:tgt,noise_ratio=0.2]',),
    doc="abstractive summarization (Gigaword); toy: event articles with a key sentence among distractors",
    evaluators=("rouge", "summarization.fact_accuracy"),
    primary_metric="rouge.rougeL",
    generation={"beam_size": 4, "max_len": 32},
    aliases=("gigaword",),
    loaders={"text": f"{_PKG}.data:load"},
    toy=f"{_PKG}.data:make_toy",
    write_toy=f"{_PKG}.data:write_toy",
    baseline=f"{_PKG}.data:baseline",
)
