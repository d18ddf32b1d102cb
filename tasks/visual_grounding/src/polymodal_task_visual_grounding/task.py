"""The ``visual_grounding`` task spec (entry point ``polymodal.tasks: visual_grounding``, alias ``refcoco``).

Import-light: only the spec. Rows: ``img`` (the image), ``cap`` (the referring expression), ``region`` (the
referred box ``x0,y0,x1,y1`` in pixels of the original image) and optionally ``candidates`` (every object box of
the image, used by the random-object baseline). Metric: Acc@IoU0.5 (``iou_accuracy``).
"""
from __future__ import annotations

from polymodal.components import TaskSpec

__all__ = ["VISUAL_GROUNDING", "INSTRUCTION"]

_DATA = "polymodal_task_visual_grounding.data"

#: OFASys's grounding template.
INSTRUCTION = '[IMAGE:img] which region does the text " [TEXT:cap] " describe? -> [BOX:region]'

VISUAL_GROUNDING = TaskSpec(
    name="visual_grounding",
    instructions=(INSTRUCTION,),
    doc="visual grounding (RefCOCO/+/g): the box a referring expression names; toy: shape scenes with "
        "distractors and unique expressions",
    evaluators=("iou_accuracy",),
    primary_metric="iou_accuracy.acc_iou",
    references="region",
    generation={"beam_size": 5},
    aliases=("refcoco",),
    loaders={"refcoco": f"{_DATA}:load"},
    toy=f"{_DATA}:make_toy",
    write_toy=f"{_DATA}:write_toy",
    toy_layout="dataset",
    baseline=f"{_DATA}:baseline",
)
