"""polymodal task plugin ``table_to_text`` (alias ``dart``): describe a triple set in text.

``task.py`` declares the preset; ``data.py`` reads DART JSON files and makes the toy set (generated entities
in ``toy.py``); ``evaluate.py`` scores BLEU-4, slot recall and hallucination.
"""
from __future__ import annotations
