"""Sudoku data: the Kaggle CSV reader, the toy set, its writer and the trivial baseline.

Rows have the columns of the instruction ``" [STRUCT:puzzle] " . solve the sudoku . -> [STRUCT:solution]``
plus ``gold`` (the evaluation reference, which needs the clues as well as the solution)::

    {"puzzle": [[5, 3, 0, ...], ...], "solution": [[5, 3, 4, ...], ...],
     "gold": {"puzzle": <puzzle>, "solution": <solution>}}

The Kaggle files ("1 million Sudoku games" and the 3-million set) are CSV with a header holding
``quizzes,solutions`` (or ``puzzle,solution``) and one 81-character digit string per field, ``0`` (or ``.``)
for a blank.
"""
from __future__ import annotations

import csv
import random
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

from polymodal.datasets import SPLITS, canonical_split, toy_split_sizes
from polymodal.errors import DataError

from .toy import is_solution, keeps_clues, make_puzzle, random_solution, split_of

__all__ = ["SPLITS", "split_sizes", "load", "make_toy", "write_toy", "baseline"]

TASK = "sudoku"
_HEADERS = (("quizzes", "solutions"), ("puzzle", "solution"))
_DIGITS = frozenset("0123456789.")


#: Rows per split written by :func:`write_toy` (``n`` for train, a fifth of it for valid and test); kept
#: under this name because callers and tests import it from here.
split_sizes = toy_split_sizes


def _grid(text: str, what: str, source: str, line: int) -> list[list[int]]:
    text = text.strip()
    if len(text) != 81 or not set(text) <= _DIGITS:
        raise DataError(f"line {line}: {what} must be 81 digits (0 or . for a blank), got {text[:90]!r}",
                        task=TASK, source=source, row=line)
    cells = [0 if ch == "." else int(ch) for ch in text]
    return [cells[r * 9:(r + 1) * 9] for r in range(9)]


def _row(puzzle: list[list[int]], solution: list[list[int]]) -> dict[str, Any]:
    return {"puzzle": puzzle, "solution": solution, "gold": {"puzzle": puzzle, "solution": solution}}


def load(path: str | Path, *, limit: int | None = None, validate: bool = True) -> list[dict[str, Any]]:
    """Read a Kaggle Sudoku CSV.

    Args:
        path: the CSV file (header ``quizzes,solutions`` or ``id,puzzle,solution,...``).
        limit: read at most this many puzzles.
        validate: check that every solution is a valid full grid that keeps the puzzle's clues.

    Returns:
        One row per puzzle (see the module docstring).

    Raises:
        DataError: a missing header column, a malformed grid or an invalid solution; it names the file and
            the line.
    """
    path = Path(path)
    source = str(path)
    rows: list[dict[str, Any]] = []
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot read file: {exc.strerror}", task=TASK, source=source) from None
    with handle:
        reader = csv.reader(handle)
        header = [h.strip().lower() for h in next(reader, [])]
        for quiz_name, sol_name in _HEADERS:
            if quiz_name in header and sol_name in header:
                qi, si = header.index(quiz_name), header.index(sol_name)
                break
        else:
            raise DataError("line 1: the header needs 'quizzes,solutions' (or 'puzzle,solution'), "
                            f"got {','.join(header)!r}", task=TASK, source=source, row=1)
        for fields in reader:
            line = reader.line_num
            if not fields:
                continue
            if len(fields) != len(header):
                raise DataError(f"line {line}: expected {len(header)} fields, got {len(fields)}",
                                task=TASK, source=source, row=line)
            puzzle = _grid(fields[qi], "the puzzle", source, line)
            solution = _grid(fields[si], "the solution", source, line)
            if validate and not (is_solution(solution) and keeps_clues(puzzle, solution)):
                raise DataError(f"line {line}: the solution is not a valid grid that keeps the puzzle's clues",
                                task=TASK, source=source, row=line)
            rows.append(_row(puzzle, solution))
            if limit is not None and len(rows) >= limit:
                break
    return rows


def make_toy(n: int, seed: int = 0, split: str = "train", *, min_blanks: int = 4,
             max_blanks: int = 12) -> list[dict[str, Any]]:
    """Generate ``n`` toy puzzles with unique solutions.

    The number of blanks is drawn uniformly from ``[min_blanks, max_blanks]`` (easy by default, so a tiny
    model learns them on a CPU in minutes). Solutions are assigned to splits by a hash, so no solved grid is
    shared between splits, whatever the seeds.

    Args:
        n: number of puzzles.
        seed: random seed; the same ``(n, seed, split)`` gives the same rows.
        split: ``"train"``, ``"valid"`` or ``"test"``.
        min_blanks, max_blanks: range of the number of blank cells.
    """
    split = canonical_split(split, TASK)
    if not 0 <= min_blanks <= max_blanks <= 64:
        raise DataError(f"need 0 <= min_blanks <= max_blanks <= 64, got {min_blanks}, {max_blanks}", task=TASK)
    rng = random.Random(f"{TASK}:{seed}:{split}")
    rows: list[dict[str, Any]] = []
    while len(rows) < n:
        solution = random_solution(rng)
        if split_of(solution) != split:
            continue
        puzzle = make_puzzle(rng, solution, rng.randint(min_blanks, max_blanks))
        rows.append(_row(puzzle, solution))
    return rows


def _flat(grid: list[list[int]]) -> str:
    return "".join(str(v) for row in grid for v in row)


def write_toy(out_dir: str | Path, n: int, seed: int = 0) -> list[Path]:
    """Write the toy train/valid/test sets as Kaggle CSV files (sizes from :func:`split_sizes`).

    Returns:
        ``[sudoku_train.csv, sudoku_valid.csv, sudoku_test.csv]``; ``load`` reads each back as
        ``make_toy(size, seed, split)``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for split, size in split_sizes(n).items():
        path = out / f"sudoku_{split}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["quizzes", "solutions"])
            for row in make_toy(size, seed, split):
                writer.writerow([_flat(row["puzzle"]), _flat(row["solution"])])
        paths.append(path)
    return paths


def baseline(train_rows: Sequence[dict[str, Any]], eval_rows: Sequence[dict[str, Any]]) -> list[list[list[int]]]:
    """The trivial baseline: fill every blank with the digit most often found in train's blank cells.

    It keeps the clues but solves (almost) nothing; its blank-cell accuracy is near 1/9.
    """
    counts: Counter[int] = Counter()
    for row in train_rows:
        for prow, srow in zip(row["puzzle"], row["solution"]):
            counts.update(s for p, s in zip(prow, srow) if p == 0)
    # ties go to the smaller digit so the baseline does not depend on dict order
    digit = min(counts, key=lambda d: (-counts[d], d)) if counts else 1
    return [[[v or digit for v in prow] for prow in row["puzzle"]] for row in eval_rows]

