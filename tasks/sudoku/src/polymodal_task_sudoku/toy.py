"""Sudoku grids: a small exact solver, grid checks and the toy puzzle generator.

Toy puzzles are made the classic way: take the canonical solved grid, apply a random validity-preserving
transformation (relabel digits, shuffle bands and the rows inside them, stacks and the columns inside them,
optionally transpose), then blank cells in random order, keeping a blank only while the solver still finds
exactly one solution. Few blanks make easy puzzles (the CPU demo uses 4-12), many make hard ones.

Grids are ``list[list[int]]`` with 0 for a blank.
"""
from __future__ import annotations

import hashlib
import random

__all__ = ["SIZE", "canonical_solution", "random_solution", "count_solutions", "is_solution",
           "keeps_clues", "make_puzzle", "split_of"]

SIZE = 9
_ALL = (1 << SIZE) - 1  # bit d-1 set <=> digit d


def canonical_solution() -> list[list[int]]:
    """The textbook solved grid ``(3*(r%3) + r//3 + c) % 9 + 1``."""
    return [[(3 * (r % 3) + r // 3 + c) % SIZE + 1 for c in range(SIZE)] for r in range(SIZE)]


def _shuffled_lines(rng: random.Random) -> list[int]:
    bands = rng.sample(range(3), 3)
    return [3 * band + inner for band in bands for inner in rng.sample(range(3), 3)]


def random_solution(rng: random.Random) -> list[list[int]]:
    """A random solved grid, drawn by transforming the canonical one."""
    base = canonical_solution()
    digits = rng.sample(range(1, SIZE + 1), SIZE)
    rows, cols = _shuffled_lines(rng), _shuffled_lines(rng)
    grid = [[digits[base[r][c] - 1] for c in cols] for r in rows]
    if rng.random() < 0.5:
        grid = [list(col) for col in zip(*grid)]
    return grid


def _box(r: int, c: int) -> int:
    return (r // 3) * 3 + c // 3


def count_solutions(grid: list[list[int]], limit: int = 2) -> int:
    """Count the solutions of a puzzle, stopping at ``limit`` (depth-first, fewest-candidates cell first)."""
    rows, cols, boxes = [0] * SIZE, [0] * SIZE, [0] * SIZE
    blanks = []
    for r in range(SIZE):
        for c in range(SIZE):
            v = grid[r][c]
            if v:
                bit = 1 << (v - 1)
                if rows[r] & bit or cols[c] & bit or boxes[_box(r, c)] & bit:
                    return 0  # the clues already clash
                rows[r] |= bit
                cols[c] |= bit
                boxes[_box(r, c)] |= bit
            else:
                blanks.append((r, c))

    def search(todo: list[tuple[int, int]]) -> int:
        if not todo:
            return 1
        best, best_free = 0, -1
        for i, (r, c) in enumerate(todo):
            free = _ALL & ~(rows[r] | cols[c] | boxes[_box(r, c)])
            n = bin(free).count("1")
            if best_free < 0 or n < bin(best_free).count("1"):
                best, best_free = i, free
                if n <= 1:
                    break
        r, c = todo[best]
        rest = todo[:best] + todo[best + 1:]
        found = 0
        free = best_free
        while free and found < limit:
            bit = free & -free
            free ^= bit
            rows[r] |= bit
            cols[c] |= bit
            boxes[_box(r, c)] |= bit
            found += search(rest)
            rows[r] ^= bit
            cols[c] ^= bit
            boxes[_box(r, c)] ^= bit
        return found

    return search(blanks)


def is_solution(grid: list[list[int]]) -> bool:
    """True when every row, column and 3x3 box holds the digits 1-9 exactly once."""
    want = set(range(1, SIZE + 1))
    if len(grid) != SIZE or any(len(row) != SIZE for row in grid):
        return False
    lines = [set(row) for row in grid] + [{grid[r][c] for r in range(SIZE)} for c in range(SIZE)]
    lines += [{grid[r][c] for r in range(br, br + 3) for c in range(bc, bc + 3)}
              for br in range(0, SIZE, 3) for bc in range(0, SIZE, 3)]
    return all(line == want for line in lines)


def keeps_clues(puzzle: list[list[int]], grid: list[list[int]]) -> bool:
    """True when ``grid`` has every given (non-zero) digit of ``puzzle`` in place."""
    return all(p == 0 or p == g for prow, grow in zip(puzzle, grid) for p, g in zip(prow, grow))


def make_puzzle(rng: random.Random, solution: list[list[int]], blanks: int) -> list[list[int]]:
    """Blank up to ``blanks`` cells of ``solution`` so that the puzzle keeps a unique solution.

    Cells are tried in random order; a cell whose removal would allow a second solution stays filled, so the
    result may have fewer blanks than asked when the grid cannot lose more.
    """
    puzzle = [row[:] for row in solution]
    removed = 0
    for cell in rng.sample(range(SIZE * SIZE), SIZE * SIZE):
        if removed == blanks:
            break
        r, c = divmod(cell, SIZE)
        puzzle[r][c] = 0
        if count_solutions(puzzle, limit=2) == 1:
            removed += 1
        else:
            puzzle[r][c] = solution[r][c]
    return puzzle


def split_of(solution: list[list[int]]) -> str:
    """The split a solved grid belongs to (80/10/10 by a hash), so splits never share a solution."""
    key = "".join(str(v) for row in solution for v in row)
    bucket = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 10
    return "train" if bucket < 8 else "valid" if bucket == 8 else "test"
