"""polymodal task plugin ``text_to_sql`` (alias ``spider``): translate questions into SQL.

``task.py`` declares the preset; ``data.py`` reads Spider folders and makes the toy set (random company
databases in ``toy.py``); ``evaluate.py`` scores execution accuracy and exact match, running untrusted SQL
through ``sqlexec.py``.
"""
from __future__ import annotations
