"""polymodal task plugin ``sudoku``: solve 9x9 Sudoku puzzles.

``task.py`` declares the preset (entry point ``polymodal.tasks: sudoku``); ``data.py`` reads Kaggle CSV files
and makes the toy set; ``evaluate.py`` scores solved rate and blank-cell accuracy; ``toy.py`` holds the
solver and the puzzle generator.
"""
from __future__ import annotations
