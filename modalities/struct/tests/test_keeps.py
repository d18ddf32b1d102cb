"""A grid slot with ``keeps=COLUMN``: its given cells are forced (and kept), only the blanks are predicted."""
from __future__ import annotations

import numpy as np
import pytest

from polymodal.engine.rows import RowEncoder
from polymodal.errors import DataError
from polymodal.planning.planner import compile_instruction
from polymodal.registry import default_registry
from polymodal.testing.run import build_context

INSTRUCTION = '" [STRUCT:puzzle] " . solve . -> [STRUCT:solution,keeps=puzzle]'
SOLUTION = [[(r * 3 + r // 3 + c) % 9 + 1 for c in range(9)] for r in range(9)]  # a valid Sudoku grid


def _puzzle(blanks):
    grid = [row[:] for row in SOLUTION]
    for r, c in blanks:
        grid[r][c] = 0
    return grid


@pytest.fixture(scope="module")
def encoder():
    registry = default_registry()
    plan = compile_instruction(INSTRUCTION, registry)
    return RowEncoder(plan, registry, build_context(plan, registry, _corpus()), task="t")


def _corpus():
    """Rows enough for the fitted tokenizer to learn each cell (" 0", " 7", ...) as one token, as it does on
    any real Sudoku set."""
    return [{"puzzle": _puzzle([(i % 9, (i * 4) % 9), ((i + 3) % 9, i % 9)]), "solution": SOLUTION} for i in range(40)]


def test_only_the_blanks_carry_a_loss_and_decoding_gives_the_whole_grid(encoder):
    blanks = [(0, 0), (4, 4), (8, 2)]
    row = {"puzzle": _puzzle(blanks), "solution": SOLUTION}
    ex = encoder.encode(row, train=True, index=0)
    assert int(ex.loss_weight.sum()) == len(blanks) + 1  # the blanks and the end
    states = ex.machine.trace([encoder.columns.column(t) for t in ex.target])
    scored = [s for s in states if not ex.machine.no_loss[s]][:-1]
    for s in scored:  # a blank allows exactly the nine digits
        assert int(ex.machine.allowed(s).sum()) == 9
    decoded = encoder.decode([encoder.columns.column(t) for t in ex.target], ex.machine, row=row)
    assert decoded["solution"].split() == " | ".join(" ".join(map(str, r)) for r in SOLUTION).split()


def test_inference_needs_only_the_kept_column(encoder):
    ex = encoder.encode({"puzzle": _puzzle([(2, 3)])}, train=False, index=0)
    assert ex.target is None
    forced = int((ex.machine.forced >= 0).sum())
    assert forced >= 80  # the 80 clues (and the row separators) are forced
    with pytest.raises(DataError, match="puzzle") as err:
        encoder.encode({"solution": SOLUTION}, train=False, index=3)
    assert err.value.row == 3


def test_a_solution_that_changes_a_clue_is_a_data_error_naming_the_column(encoder):
    wrong = [row[:] for row in SOLUTION]
    wrong[5][5] = wrong[5][5] % 9 + 1
    with pytest.raises(DataError, match="changes what column 'puzzle' gives") as err:
        encoder.encode({"puzzle": _puzzle([(0, 0)]), "solution": wrong}, train=True, index=7)
    assert err.value.column == "solution" and err.value.row == 7


def test_keeps_needs_a_grid_and_an_input_column():
    registry = default_registry()
    with pytest.raises(Exception, match="names no input column"):
        compile_instruction('" [STRUCT:puzzle] " -> [STRUCT:solution,keeps=grid]', registry)
    plan = compile_instruction('" [STRUCT:puzzle] " -> [STRUCT:solution,keeps=puzzle,kind=table]', registry)
    enc = RowEncoder(plan, registry, build_context(plan, registry, _corpus()), task="t")
    with pytest.raises(DataError, match="needs grids"):
        enc.encode(_corpus()[0], train=True, index=0)
    assert np.asarray(SOLUTION).min() == 1  # the fixture grid has no blanks of its own
