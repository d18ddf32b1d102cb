"""The ``image_classification`` task spec (entry point ``polymodal.tasks: image_classification``, alias
``image_classify``), and :data:`DIGITS`, the same task on scikit-learn's real handwritten digits.

Import-light: only the specs. Rows: ``image`` and ``label_name`` (the class name, predicted as a closed set of
the labels seen in the training data). Metric: top-1 accuracy.
"""
from __future__ import annotations

from dataclasses import replace

from polymodal.components import TaskSpec

__all__ = ["IMAGE_CLASSIFICATION", "DIGITS", "INSTRUCTION"]

_DATA = "polymodal_task_image_classification.data"

#: OFASys's classification template.
INSTRUCTION = "[IMAGE:image] what does the image describe? -> [TEXT:label_name,closed_set]"

IMAGE_CLASSIFICATION = TaskSpec(
    name="image_classification",
    instructions=(INSTRUCTION,),
    doc="image classification (ImageNet-style class folders); toy: 18 colour-shape classes, or the real "
        "scikit-learn digits (spec DIGITS)",
    evaluators=("accuracy",),
    primary_metric="accuracy.accuracy",
    references="label_name",
    generation={"beam_size": 1},
    aliases=("image_classify",),
    loaders={"imagefolder": f"{_DATA}:load"},
    toy=f"{_DATA}:make_toy",
    write_toy=f"{_DATA}:write_toy",
    toy_layout="dataset",
    baseline=f"{_DATA}:baseline",
)

#: The same task on the 1,797 real 8x8 handwritten digits of scikit-learn (upscaled to 32x32), e.g. for
#: ``polymodal.register(DIGITS)``.
DIGITS = replace(
    IMAGE_CLASSIFICATION,
    name="image_classification_digits",
    doc="handwritten digit classification on scikit-learn's real digits (labels zero..nine)",
    aliases=(),
    toy=f"{_DATA}:make_toy_digits",
    write_toy=f"{_DATA}:write_toy_digits",
)
