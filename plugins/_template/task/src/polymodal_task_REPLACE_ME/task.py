"""REPLACE_ME: the task preset. Import-light: loaders and generators are named by "module:function"."""
from __future__ import annotations

from polymodal.components import TaskSpec

TASK = TaskSpec(
    name="REPLACE_ME",                                   # lower_snake; the `polymodal.tasks` entry-point name
    instructions=("[TEXT:src] REPLACE_ME -> [TEXT:tgt]",),  # first is the default template
    doc="REPLACE_ME: one line",
    evaluators=("rouge",),                               # evaluator names (or (name, options) pairs)
    primary_metric="rouge.rougeL",                       # "<evaluator>.<key>": compared with the baseline
    generation={"beam_size": 4, "max_len": 32},          # default generation keyword arguments
    aliases=(),                                          # other names users know the task by
    loaders={"REPLACE_ME_format": "polymodal_task_REPLACE_ME.data:load"},  # real benchmark format readers
    toy="polymodal_task_REPLACE_ME.data:make_toy",       # (n, seed, split) -> rows with genuine ground truth
    write_toy="polymodal_task_REPLACE_ME.data:write_toy",  # (out_dir, n, seed) -> files in the real format
    baseline="polymodal_task_REPLACE_ME.data:baseline",  # (train_rows, eval_rows) -> trivial predictions
    closed_sets={},                                      # column -> labels, for [TEXT:col,closed_set]
)
