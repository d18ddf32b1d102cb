"""The ``caption`` task spec (entry point ``polymodal.tasks: caption``). Import-light: only the spec.

Rows: ``img`` (the image: a path, bytes or an array), ``cap`` (the training target) and ``captions`` (every
reference caption of the image, used by the evaluators: CIDEr-D, BLEU-4 and exact match against any reference).
"""
from __future__ import annotations

from polymodal.components import TaskSpec

__all__ = ["CAPTION", "INSTRUCTION"]

_DATA = "polymodal_task_caption.data"

#: OFASys's captioning template.
INSTRUCTION = "[IMAGE:img] what does the image describe? -> [TEXT:cap]"

CAPTION = TaskSpec(
    name="caption",
    instructions=(INSTRUCTION,),
    doc="image captioning (COCO, Karpathy splits); toy: rendered shape scenes with paraphrased captions",
    evaluators=("cider", "bleu", "exact_match"),
    primary_metric="cider.cider",
    references="captions",
    generation={"beam_size": 5, "max_len": 32},
    aliases=("image_caption", "coco_caption"),
    loaders={"karpathy": f"{_DATA}:load"},
    toy=f"{_DATA}:make_toy",
    write_toy=f"{_DATA}:write_toy",
    toy_layout="dataset",
    baseline=f"{_DATA}:baseline",
)
