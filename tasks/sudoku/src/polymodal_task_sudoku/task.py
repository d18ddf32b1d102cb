"""The ``sudoku`` task preset and its evaluators (import-light: no torch, no numpy).

Entry points (see ``setup.cfg``): ``polymodal.tasks: sudoku`` -> :data:`TASK`; ``polymodal.evaluators:
sudoku.solved_rate`` and ``sudoku.blank_accuracy``.
"""
from __future__ import annotations

from polymodal.components import EvaluatorSpec, TaskSpec

__all__ = ["TASK", "SOLVED_RATE", "BLANK_ACCURACY"]

_PKG = "polymodal_task_sudoku"

SOLVED_RATE = EvaluatorSpec(
    name="sudoku.solved_rate",
    target=f"{_PKG}.evaluate:solved_rate",
    doc="% of outputs that are valid 9x9 grids keeping every clue (references: {'puzzle', 'solution'})",
    primary="solved_rate",
)

BLANK_ACCURACY = EvaluatorSpec(
    name="sudoku.blank_accuracy",
    target=f"{_PKG}.evaluate:blank_accuracy",
    doc="% of blank cells filled with the solution's digit",
    primary="blank_accuracy",
)

TASK = TaskSpec(
    name="sudoku",
    # keeps=puzzle: decoding forces the clues and predicts only the blanks (OFASys predicts every cell, and its
    # loss is then mostly on copying 70-odd clues)
    instructions=('" [STRUCT:puzzle] " . solve the sudoku . -> [STRUCT:solution,keeps=puzzle]',),
    doc="Solve a 9x9 Sudoku puzzle given as a STRUCT grid (0 = blank)",
    evaluators=("sudoku.solved_rate", "sudoku.blank_accuracy"),
    primary_metric="sudoku.solved_rate.solved_rate",
    references="gold",
    loaders={"kaggle": f"{_PKG}.data:load"},
    toy=f"{_PKG}.data:make_toy",
    write_toy=f"{_PKG}.data:write_toy",
    baseline=f"{_PKG}.data:baseline",
)
