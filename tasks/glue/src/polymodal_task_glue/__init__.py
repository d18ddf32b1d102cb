"""polymodal-task-glue: the GLUE benchmark as a polymodal task.

The task spec lives in :mod:`polymodal_task_glue.task` (import-light); the TSV loader, toy data and the
majority baseline in :mod:`polymodal_task_glue.data`; the subtask table in :mod:`polymodal_task_glue.subtasks`.
"""
from __future__ import annotations

__version__ = "0.1.0"
