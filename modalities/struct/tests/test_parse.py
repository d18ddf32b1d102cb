"""Tests of the STRUCT parsers, including round trips through the linearisers."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from polymodal_modality_struct.linearize import linearize_grid, linearize_table, linearize_triples
from polymodal_modality_struct.parse import StructParseError, parse_grid, parse_table, parse_triples

SOLUTION = [[(3 * (r % 3) + r // 3 + c) % 9 + 1 for c in range(9)] for r in range(9)]

# words built from separator-ish characters exercise the escaping
_word = st.text(alphabet=st.sampled_from(["a", "B", "1", "|", ":", "\\", "é", "-"]), min_size=1, max_size=4)
_cell = st.lists(_word, max_size=3).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(rows=st.integers(1, 4).flatmap(lambda w: st.lists(st.lists(_cell, min_size=w, max_size=w),
                                                          min_size=1, max_size=4)),
       name=st.one_of(st.none(), _cell.filter(lambda s: s.strip())))
def test_table_round_trip(rows, name):
    if rows == [[""]]:  # the one degenerate table: it linearises to no words at all
        return
    text = linearize_table(rows, name=name)
    parsed = parse_table(text)
    assert parsed["rows"] == rows
    assert parsed["name"] == name


def test_table_header_and_errors():
    parsed = parse_table("People || name : age | Ann : 31", header=True)
    assert parsed == {"name": "People", "header": ["name", "age"], "rows": [["Ann", "31"]]}
    with pytest.raises(StructParseError, match="row 2 has 1 cells"):
        parse_table("a : b | c")
    assert parse_table("a : b | c", ragged=True)["rows"] == [["a", "b"], ["c"]]
    with pytest.raises(StructParseError, match="empty"):
        parse_table("   ")
    with pytest.raises(StructParseError, match="only once"):
        parse_table("x || a | y || b")


def test_triples_round_trip_and_errors():
    triples = [("Ann", "born in", "Oslo"), ("Ann", "job", "")]
    assert parse_triples(linearize_triples(triples)) == triples
    with pytest.raises(StructParseError, match="triple 2 has 2 parts"):
        parse_triples("a : b : c | a : b")


def test_grid_round_trip_and_compact_form():
    puzzle = [row[:] for row in SOLUTION]
    puzzle[0][0] = puzzle[8][8] = 0
    assert parse_grid(linearize_grid(puzzle)) == puzzle
    assert parse_grid(linearize_grid(puzzle, blank="_")) == puzzle
    assert parse_grid("".join(str(v) for row in puzzle for v in row)) == puzzle


@pytest.mark.parametrize("text, message", [
    ("1 2 3", "row 1 has 3 cells"),
    (" | ".join(["1 2 3 4 5 6 7 8 9"] * 8), "8 rows"),
    (" | ".join(["1 2 3 4 5 6 7 8 x"] * 9), "not a digit"),
    (" | ".join(["1 2 3 4 5 6 7 8 10"] * 9), "not a digit"),
])
def test_grid_strict_errors(text, message):
    with pytest.raises(StructParseError, match=message):
        parse_grid(text)


def test_grid_lenient_salvages_bad_separators():
    text = linearize_grid(SOLUTION).replace(" | ", " ; ", 3).replace(" ", "", 20)
    with pytest.raises(StructParseError):
        parse_grid(text)
    assert parse_grid(text, strict=False) == SOLUTION
    with pytest.raises(StructParseError, match="found 80"):
        parse_grid(text[:-1], strict=False)


def test_error_points_at_word():
    with pytest.raises(StructParseError) as info:
        parse_grid("1 2 3 4 5 6 7 8 9 | 1 2 z")
    assert info.value.word == 12
    assert "word 13" in str(info.value)
