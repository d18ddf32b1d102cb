"""The ``text_infilling`` task spec; import-light."""
from __future__ import annotations

from polymodal.components import TaskSpec

__all__ = ["TEXT_INFILLING"]

_PKG = "polymodal_task_text_infilling"

TEXT_INFILLING = TaskSpec(
    name="text_infilling",
    # eval_mask: the evaluation input is masked too (a fixed pattern per row), else restoring it is copying
    instructions=('what is the complete text of " [TEXT:text,mask_ratio=0.3,eval_mask] "? -> [TEXT:text]',),
    doc="restore whole-word spans masked out of a sentence (BART-style); toy: sentences of the world grammar",
    evaluators=("token_accuracy", "rouge"),
    primary_metric="token_accuracy.token_accuracy",
    generation={"beam_size": 4, "max_len": 64},
    loaders={"txt": f"{_PKG}.data:load", "jsonl": f"{_PKG}.data:load"},
    toy=f"{_PKG}.data:make_toy",
    write_toy=f"{_PKG}.data:write_toy",
    baseline=f"{_PKG}.data:baseline",
)
