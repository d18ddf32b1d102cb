"""Hand cases for the Sudoku metrics."""
from __future__ import annotations

import pytest

from polymodal.testing.contracts import EvaluatorContract

from polymodal_modality_struct.linearize import linearize_grid
from polymodal_task_sudoku.evaluate import blank_accuracy, solved_rate
from polymodal_task_sudoku.toy import canonical_solution

SOLUTION = canonical_solution()
PUZZLE = [row[:] for row in SOLUTION]
PUZZLE[0][0] = PUZZLE[4][4] = 0  # blanks: (0,0)=1, (4,4)=9
GOLD = {"puzzle": PUZZLE, "solution": SOLUTION}


def _with(grid, r, c, v):
    out = [row[:] for row in grid]
    out[r][c] = v
    return out


def test_solved_and_blank_accuracy_hand_cases():
    wrong_blank = _with(SOLUTION, 0, 0, 2)
    preds = [linearize_grid(SOLUTION), SOLUTION, wrong_blank, "garbage"]
    refs = [GOLD] * 4
    assert solved_rate(preds, refs) == {"solved_rate": 50.0, "unparsed": 25.0}
    # 8 blank cells: text 2/2, grid 2/2, wrong 1/2, garbage 0/2
    assert blank_accuracy(preds, refs) == {"blank_accuracy": 62.5, "blanks": 8.0}


def test_valid_grid_that_drops_a_clue_is_not_solved():
    # relabel digits 1<->2 everywhere: still a valid Sudoku, but clues change
    swapped = [[{1: 2, 2: 1}.get(v, v) for v in row] for row in SOLUTION]
    assert solved_rate([swapped], [GOLD])["solved_rate"] == 0.0
    # a valid completion of an ambiguous puzzle counts even if it differs from the reference
    assert solved_rate([swapped], [{"puzzle": [[0] * 9 for _ in range(9)], "solution": SOLUTION}]) == \
        {"solved_rate": 100.0, "unparsed": 0.0}


def test_lenient_parsing_and_reference_forms():
    sloppy = linearize_grid(SOLUTION).replace(" | ", " ; ")
    assert solved_rate([sloppy], [(PUZZLE, SOLUTION)])["solved_rate"] == 100.0
    assert solved_rate([SOLUTION, _with(SOLUTION, 8, 8, 1)], [SOLUTION, SOLUTION])["solved_rate"] == 50.0
    assert blank_accuracy([_with(SOLUTION, 8, 8, 1)], [SOLUTION])["blank_accuracy"] == pytest.approx(80 / 81 * 100)


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError, match="2 predictions for 1"):
        solved_rate([SOLUTION, SOLUTION], [GOLD])


class TestSolvedRateContract(EvaluatorContract):
    name = "sudoku.solved_rate"
    perfect = ([SOLUTION], [GOLD])
    poor = ([PUZZLE], [GOLD])


class TestBlankAccuracyContract(EvaluatorContract):
    name = "sudoku.blank_accuracy"
    perfect = ([SOLUTION], [GOLD])
    poor = ([PUZZLE], [GOLD])
