"""polymodal task plugin ``table_qa`` (alias ``fetaqa``): answer questions about a table.

``task.py`` declares the preset; ``data.py`` reads FeTaQA JSONL files and makes the toy set (generated tables
in ``toy.py``); ``evaluate.py`` scores denotation accuracy.
"""
from __future__ import annotations
