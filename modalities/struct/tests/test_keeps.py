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


def test_grid_tokens_carry_their_row_column_and_box_on_both_sides(encoder):
    blanks = [(0, 0), (4, 5), (8, 7)]
    row = {"puzzle": _puzzle(blanks), "solution": SOLUTION}
    ex = encoder.encode(row, train=True, index=0)
    (kind, ids, _, cells), = ex.encoder_pieces
    placed = [(tok, cell) for tok, cell in zip(ids, cells) if cell != (0, 0, 0)]
    assert len(placed) == 81  # one coordinate per cell; separators, quotes and prompt text have none
    assert [c for _, c in placed][:4] == [(1, 1, 1), (1, 2, 1), (1, 3, 1), (1, 4, 2)]
    assert placed[40][1] == (5, 5, 5) and placed[80][1] == (9, 9, 9)
    pre = next(p for p in encoder.pre.values() if p.slot.column == "puzzle")
    words = [pre.tokenizer.decode([t - pre.offset]).strip() for t, _ in placed]
    assert words == [str(v) for r in _puzzle(blanks) for v in r]
    # the decoder is told, at each position, the cell of the token it predicts there
    states = ex.machine.trace([encoder.columns.column(t) for t in ex.target])
    scored = [i for i, s in enumerate(states) if not ex.machine.no_loss[s]][:-1]
    assert [tuple(ex.decoder_cells[i]) for i in scored] == [(r + 1, c + 1, 3 * (r // 3) + c // 3 + 1)
                                                            for r, c in blanks]
    assert tuple(ex.decoder_cells[-1]) == (0, 0, 0)  # the end has no cell
    # generation reads the same coordinates from the machine's states
    assert np.array_equal(ex.machine.cells[states], ex.decoder_cells)


def test_tables_and_text_carry_no_coordinates():
    registry = default_registry()
    plan = compile_instruction("[STRUCT:table] what is it? -> [TEXT:answer]", registry)
    rows = [{"table": {"header": ["a", "b"], "rows": [["1", "2"]]}, "answer": "x"}]
    enc = RowEncoder(plan, registry, build_context(plan, registry, rows), task="t")
    ex = enc.encode(rows[0], train=True, index=0)
    assert all(p[3] is None for p in ex.encoder_pieces if p[0] == "tokens")
    assert ex.decoder_cells is None and ex.machine.cells is None


def test_cell_coordinates_that_do_not_match_the_template_are_a_data_error(encoder, monkeypatch):
    from polymodal_modality_struct.preprocess import StructPreprocessor

    original = StructPreprocessor.template_cells
    monkeypatch.setattr(StructPreprocessor, "template_cells", lambda self, row: original(self, row)[:-1])
    with pytest.raises(DataError, match="cell coordinates for a template of") as err:
        encoder.encode({"puzzle": _puzzle([(0, 0)]), "solution": SOLUTION}, train=True, index=4)
    assert err.value.column == "solution" and err.value.row == 4


def test_the_kept_grid_is_tokenised_once_per_row(encoder, monkeypatch):
    from polymodal_modality_struct.linearize import linearize_grid
    from polymodal_modality_struct.preprocess import StructPreprocessor

    seen = []
    original = StructPreprocessor._tokens
    monkeypatch.setattr(StructPreprocessor, "_tokens",
                        lambda self, text: seen.append((self.slot.column, text)) or original(self, text))
    for blanks in ([(1, 1)], [(2, 5), (7, 7)]):
        puzzle = _puzzle(blanks)
        seen.clear()
        ex = encoder.encode({"puzzle": puzzle, "solution": SOLUTION}, train=True, index=0)
        assert seen.count(("solution", linearize_grid(puzzle))) == 1  # the encoder's puzzle slot has its own
        assert int(ex.loss_weight.sum()) == len(blanks) + 1  # the template is this row's, not the last one's
