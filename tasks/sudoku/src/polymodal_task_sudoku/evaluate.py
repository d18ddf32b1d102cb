"""Sudoku metrics: solved rate and blank-cell accuracy (corpus-level, 0-100).

A prediction is a grid (``list[list[int]]`` or an 81-character string) or generated text in the STRUCT grid
format. Text is read with ``parse_grid``: strictly first, then leniently (any 81 digits in order), so output
whose separators are slightly off is still scored on its digits; text with another number of digits is
*unparsed* and scores 0 on both metrics.

A reference is ``{"puzzle": grid, "solution": grid}`` (the task's ``gold`` column) or a ``(puzzle,
solution)`` pair. A bare solution grid is accepted too: then every cell counts as a blank and "keeps the
clues" means "equals the solution", which is the same thing for puzzles with a unique solution.

* ``solved_rate``: % of predictions that are a valid grid (every row, column and box holds 1-9) and keep every
  clue of the puzzle. A different valid completion of an ambiguous puzzle counts as solved.
* ``blank_accuracy``: % of the puzzles' blank cells whose predicted digit equals the reference solution.
"""
from __future__ import annotations

from typing import Any, Sequence

from polymodal.errors import DataError

from .toy import is_solution, keeps_clues

__all__ = ["solved_rate", "blank_accuracy", "as_prediction_grid"]


def as_prediction_grid(prediction: Any) -> list[list[int]] | None:
    """The predicted grid, or ``None`` when the prediction cannot be read as 9x9 digits."""
    from polymodal_modality_struct.linearize import as_grid
    from polymodal_modality_struct.parse import StructParseError, parse_grid

    if isinstance(prediction, str):
        for strict in (True, False):
            try:
                return parse_grid(prediction, strict=strict)
            except StructParseError:
                continue
        return None
    try:
        return as_grid(prediction)
    except DataError:
        return None


def _reference(ref: Any, index: int) -> tuple[list[list[int]] | None, list[list[int]]]:
    """``(puzzle, solution)``; the puzzle is ``None`` when the reference is a bare solution."""
    from polymodal_modality_struct.linearize import as_grid

    try:
        if isinstance(ref, dict):
            solution = as_grid(ref["solution"])
            puzzle = as_grid(ref["puzzle"]) if ref.get("puzzle") is not None else None
        elif isinstance(ref, (tuple, list)) and len(ref) == 2:
            puzzle, solution = as_grid(ref[0]), as_grid(ref[1])
        else:
            solution, puzzle = as_grid(ref), None
    except (DataError, KeyError) as exc:
        raise DataError(f"sudoku reference is not a puzzle/solution pair: {exc}", task="sudoku", row=index) from None
    return puzzle, solution


def _check_lengths(predictions: Sequence[Any], references: Sequence[Any]) -> None:
    if len(predictions) != len(references):
        raise DataError(f"{len(predictions)} predictions for {len(references)} references", task="sudoku")
    if not predictions:
        raise DataError("no predictions to evaluate (the split is empty)", task="sudoku")


def solved_rate(predictions: Sequence[Any], references: Sequence[Any]) -> dict[str, float]:
    """Percentage of predictions that are valid complete grids keeping every clue.

    Returns:
        ``{"solved_rate": %, "unparsed": % of predictions that are not a 9x9 grid}``.
    """
    _check_lengths(predictions, references)
    solved = unparsed = 0
    for i, (pred, ref) in enumerate(zip(predictions, references)):
        puzzle, solution = _reference(ref, i)
        grid = as_prediction_grid(pred)
        if grid is None:
            unparsed += 1
            continue
        if is_solution(grid) and (grid == solution if puzzle is None else keeps_clues(puzzle, grid)):
            solved += 1
    total = len(predictions)
    return {"solved_rate": 100.0 * solved / total, "unparsed": 100.0 * unparsed / total}


def blank_accuracy(predictions: Sequence[Any], references: Sequence[Any]) -> dict[str, float]:
    """Percentage of blank cells filled with the reference solution's digit (micro-averaged over cells).

    Returns:
        ``{"blank_accuracy": %, "blanks": number of blank cells scored}``.
    """
    _check_lengths(predictions, references)
    right = total = 0
    for i, (pred, ref) in enumerate(zip(predictions, references)):
        puzzle, solution = _reference(ref, i)
        grid = as_prediction_grid(pred)
        for r in range(9):
            for c in range(9):
                if puzzle is None or puzzle[r][c] == 0:
                    total += 1
                    right += grid is not None and grid[r][c] == solution[r][c]
    return {"blank_accuracy": 100.0 * right / max(1, total), "blanks": float(total)}
