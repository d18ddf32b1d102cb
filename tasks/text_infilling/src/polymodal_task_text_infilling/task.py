"""The ``text_infilling`` task spec; import-light."""
from __future__ import annotations

from polymodal.components import EvaluatorSpec, TaskSpec

__all__ = ["TEXT_INFILLING", "MASKED_WORD_ACCURACY"]

_PKG = "polymodal_task_text_infilling"

MASKED_WORD_ACCURACY = EvaluatorSpec(
    name="text_infilling.masked_word_accuracy",
    target=f"{_PKG}.evaluate:masked_word_accuracy",
    doc="% of the words hidden by evaluation-time masking that the output writes back (aligned), and exact %",
    primary="masked_word_accuracy",
)

TEXT_INFILLING = TaskSpec(
    name="text_infilling",
    # eval_mask: the evaluation input is masked too (a fixed pattern per row), else restoring it is copying
    instructions=('what is the complete text of " [TEXT:text,mask_ratio=0.3,eval_mask] "? -> [TEXT:text]',),
    doc="restore whole-word spans masked out of a sentence (BART-style); toy: sentences of the world grammar",
    evaluators=(("text_infilling.masked_word_accuracy", {"ratio": 0.3}), "token_accuracy", "rouge"),
    primary_metric="text_infilling.masked_word_accuracy.masked_word_accuracy",
    generation={"beam_size": 4, "max_len": 64},
    loaders={"txt": f"{_PKG}.data:load", "jsonl": f"{_PKG}.data:load"},
    toy=f"{_PKG}.data:make_toy",
    write_toy=f"{_PKG}.data:write_toy",
    baseline=f"{_PKG}.data:baseline",
)
