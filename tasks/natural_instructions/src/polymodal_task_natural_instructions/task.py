"""The ``natural_instructions`` task spec (alias ``natural_instruction_v2``); import-light.

Rows also carry ``answers`` (every acceptable output). The spec scores against ``tgt`` (the first output)
because core's evaluation reads predictions from the reference column; ``answers`` becomes
``references=`` once predictions come from the decoder column and references from another.

The primary metric is exact match, not the benchmark's customary ROUGE-L: ROUGE-L credits echoing the input
(on the toy families, copying the instance input scores 33 ROUGE-L and 0 exact match), so it cannot tell a model
that follows the instruction from one that repeats what it read. Both are reported.
"""
from __future__ import annotations

from polymodal.components import TaskSpec

__all__ = ["NATURAL_INSTRUCTIONS"]

_PKG = "polymodal_task_natural_instructions"

NATURAL_INSTRUCTIONS = TaskSpec(
    name="natural_instructions",
    instructions=("[TEXT:instruction] [TEXT:examples] [TEXT:src] -> [TEXT:tgt,max_length=128]",),
    doc="Natural-Instructions v2: follow a task definition and examples; toy: 18 small text-to-text families",
    evaluators=("rouge", "exact_match"),
    primary_metric="exact_match.exact_match",
    generation={"beam_size": 4, "max_len": 128},
    aliases=("natural_instruction_v2",),
    loaders={"json": f"{_PKG}.data:load"},
    toy=f"{_PKG}.data:make_toy",
    write_toy=f"{_PKG}.data:write_toy",
    baseline=f"{_PKG}.data:baseline",
)
