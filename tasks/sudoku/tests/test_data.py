"""Tests of the Sudoku loader, toy generator, writer and baseline."""
from __future__ import annotations

from pathlib import Path

import pytest

from polymodal.errors import DataError
from polymodal_task_sudoku.data import baseline, load, make_toy, split_sizes, write_toy
from polymodal_task_sudoku.toy import count_solutions, is_solution, keeps_clues

FIXTURE = Path(__file__).parent / "fixtures" / "sudoku.csv"


def test_fixture_rows():
    rows = load(FIXTURE)
    assert len(rows) == 3
    first = rows[0]
    assert first["puzzle"][0] == [3, 7, 1, 4, 2, 0, 6, 0, 0]
    assert first["solution"][0] == [3, 7, 1, 4, 2, 5, 6, 9, 8]
    assert first["puzzle"][8] == [8, 0, 6, 0, 1, 3, 0, 0, 4]
    assert rows[2]["solution"][8] == [8, 2, 9, 3, 5, 1, 6, 7, 4]
    assert first["gold"] == {"puzzle": first["puzzle"], "solution": first["solution"]}
    assert load(FIXTURE, limit=2) == rows[:2]


def test_alternative_header_and_dot_blanks(tmp_path):
    lines = FIXTURE.read_text().splitlines()
    quiz, sol = lines[1].split(",")
    path = tmp_path / "s.csv"
    path.write_text(f"id,puzzle,solution,clues\n1,{quiz.replace('0', '.')},{sol},51\n")
    assert load(path) == load(FIXTURE, limit=1)


@pytest.mark.parametrize("body, line, message", [
    ("quizzes,solutions\n{q},{s}\n{q},{s}x\n", 3, "81 digits"),
    ("quizzes,solutions\n{q},{s}\n{q}\n", 3, "expected 2 fields"),
    ("quizzes,answers\n{q},{s}\n", 1, "header"),
    ("quizzes,solutions\n{q},{s}\n{s},{q}\n", 3, "keeps the puzzle's clues"),
])
def test_malformed_files_name_file_and_line(tmp_path, body, line, message):
    quiz, sol = FIXTURE.read_text().splitlines()[1].split(",")
    path = tmp_path / "bad.csv"
    path.write_text(body.format(q=quiz, s=sol))
    with pytest.raises(DataError, match=message) as info:
        load(path)
    assert info.value.row == line and info.value.source == str(path)
    assert "bad.csv" in str(info.value) and f"line {line}" in str(info.value)


def test_toy_is_deterministic_valid_and_split_disjoint():
    train = make_toy(60, seed=3, split="train")
    assert train == make_toy(60, seed=3, split="train")
    assert train != make_toy(60, seed=4, split="train")
    valid, test = make_toy(30, 3, "valid"), make_toy(30, 3, "test")
    keys = [{str(r["solution"]) for r in rows} for rows in (train, valid, test)]
    assert not (keys[0] & keys[1] or keys[0] & keys[2] or keys[1] & keys[2])
    for row in train + valid + test:
        blanks = sum(v == 0 for r in row["puzzle"] for v in r)
        assert 4 <= blanks <= 12
        assert is_solution(row["solution"]) and keeps_clues(row["puzzle"], row["solution"])
        assert count_solutions(row["puzzle"]) == 1


def test_harder_toy_keeps_unique_solutions():
    for row in make_toy(5, seed=1, split="test", min_blanks=45, max_blanks=50):
        assert sum(v == 0 for r in row["puzzle"] for v in r) >= 40
        assert count_solutions(row["puzzle"]) == 1


def test_write_toy_round_trip(tmp_path):
    paths = write_toy(tmp_path, 10, seed=5)
    assert [p.name for p in paths] == ["sudoku_train.csv", "sudoku_valid.csv", "sudoku_test.csv"]
    for path, (split, size) in zip(paths, split_sizes(10).items()):
        assert load(path) == make_toy(size, 5, split)


def test_baseline_is_trivial():
    train, test = make_toy(100, 0, "train"), make_toy(40, 0, "test")
    preds = baseline(train, test)
    assert all(keeps_clues(r["puzzle"], p) and not is_solution(p) for r, p in zip(test, preds))
    fills = {p[r][c] for row, p in zip(test, preds) for r in range(9) for c in range(9) if row["puzzle"][r][c] == 0}
    assert len(fills) == 1


def test_unknown_split():
    with pytest.raises(DataError, match="unknown split"):
        make_toy(1, 0, "holdout")
