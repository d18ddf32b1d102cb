"""polymodal-task-summarization: Gigaword-style abstractive summarization as a polymodal task.

Spec in :mod:`polymodal_task_summarization.task`, data in :mod:`polymodal_task_summarization.data`, the toy
fact-accuracy metric in :mod:`polymodal_task_summarization.evaluate`.
"""
from __future__ import annotations

__version__ = "0.1.0"
