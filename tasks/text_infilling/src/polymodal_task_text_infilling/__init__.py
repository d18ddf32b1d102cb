"""polymodal-task-text-infilling: restore masked spans of a text (a pre-training objective as a task).

Spec in :mod:`polymodal_task_text_infilling.task`; corpus loader, toy sentences and baseline in
:mod:`polymodal_task_text_infilling.data`.
"""
from __future__ import annotations

__version__ = "0.1.0"
