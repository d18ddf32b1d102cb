"""Read linearised structures (tables, triple sets, Sudoku grids) back from generated text.

These are the inverses of ``linearize.py``: ``parse_table(linearize_table(t))`` gives ``t`` back with every
cell as whitespace-normalised text. Parsing is strict by default: text that does not fit the format raises
:class:`StructParseError`, which says what was wrong and at which word, so a caller can count unparsable
model outputs instead of scoring garbage.

Example::

    >>> parse_table("name : age | Ann : 31", header=True)
    {'name': None, 'header': ['name', 'age'], 'rows': [['Ann', '31']]}
    >>> parse_grid(" | ".join(["1 2 3 4 5 6 7 8 9"] * 9))[0]
    [1, 2, 3, 4, 5, 6, 7, 8, 9]
"""
from __future__ import annotations

import re
from typing import Any

from polymodal.errors import DataError

__all__ = ["StructParseError", "parse_table", "parse_triples", "parse_grid"]

_ESCAPED = re.compile(r"\\+(\|\||\||:)")
_BLANK_WORDS = frozenset({"0", ".", "_"})


class StructParseError(DataError):
    """Text that does not parse as the expected structure.

    Attributes:
        text: the text that was parsed.
        word: 0-based index of the offending word (whitespace-separated), or ``None``.
    """

    def __init__(self, reason: str, text: str, word: int | None = None) -> None:
        self.text = text
        self.word = word
        where = f" (word {word + 1})" if word is not None else ""
        shown = text if len(text) <= 80 else text[:77] + "..."
        super().__init__(f"{reason}{where} in {shown!r}")


def _unescape(word: str) -> str:
    return word[1:] if _ESCAPED.fullmatch(word) else word


def _split_rows(words: list[str], start: int, text: str) -> list[list[str]]:
    rows: list[list[str]] = []
    cells: list[str] = []
    cell: list[str] = []
    for i in range(start, len(words)):
        word = words[i]
        if word == "||":
            raise StructParseError("a table name separator '||' may appear only once, after the name", text, i)
        if word == "|":
            cells.append(" ".join(cell))
            rows.append(cells)
            cells, cell = [], []
        elif word == ":":
            cells.append(" ".join(cell))
            cell = []
        else:
            cell.append(_unescape(word))
    cells.append(" ".join(cell))
    rows.append(cells)
    return rows


def parse_table(text: str, *, header: bool = False, ragged: bool = False) -> dict[str, Any]:
    """Parse the table format ``[name ||] cell : cell | cell : cell``.

    Args:
        text: the linearised table.
        header: the first row is the header.
        ragged: allow rows of different widths.

    Returns:
        ``{"name": str | None, "header": list[str] | None, "rows": list[list[str]]}``.

    Raises:
        StructParseError: empty text, a misplaced ``||``, or (unless ``ragged``) rows of unequal width.
    """
    words = text.split()
    if not words:
        raise StructParseError("empty text is not a table", text)
    name = None
    start = 0
    if "||" in words:
        at = words.index("||")
        name = " ".join(_unescape(w) for w in words[:at])
        start = at + 1
        if start == len(words):
            raise StructParseError("a table name must be followed by rows", text, at)
    rows = _split_rows(words, start, text)
    if not ragged:
        width = len(rows[0])
        for r, row in enumerate(rows):
            if len(row) != width:
                raise StructParseError(f"row {r + 1} has {len(row)} cells but row 1 has {width}; "
                                       "pass ragged=True to accept uneven rows", text)
    head = rows.pop(0) if header else None
    return {"name": name, "header": head, "rows": rows}


def parse_triples(text: str) -> list[tuple[str, str, str]]:
    """Parse a triple set ``s : p : o | s : p : o``.

    Raises:
        StructParseError: a row without exactly three parts, or a table name.
    """
    table = parse_table(text, ragged=True)
    if table["name"] is not None:
        raise StructParseError("a triple set has no name ('||')", text)
    out = []
    for r, row in enumerate(table["rows"]):
        if len(row) != 3:
            raise StructParseError(f"triple {r + 1} has {len(row)} parts, expected subject : predicate : object",
                                   text)
        out.append((row[0], row[1], row[2]))
    return out


def _digit(word: str, size: int, text: str, index: int) -> int:
    if word in _BLANK_WORDS:
        return 0
    if len(word) == 1 and word.isdigit() and 1 <= int(word) <= size:
        return int(word)
    raise StructParseError(f"grid cell {word!r} is not a digit 1-{size} or a blank (0 . _)", text, index)


def parse_grid(text: str, *, size: int = 9, strict: bool = True) -> list[list[int]]:
    """Parse a Sudoku grid.

    Strict mode accepts the linearised format (``size`` rows of ``size`` single-digit words separated by
    ``|``; ``0``, ``.`` or ``_`` for a blank) and the compact one-word form (``size*size`` characters, as in
    the Kaggle CSV). Lenient mode (``strict=False``) reads every digit or blank character in order, ignoring
    any other character, and needs exactly ``size*size`` of them: use it to salvage model output whose
    separators are off.

    Returns:
        ``size`` lists of ``size`` ints, 0 for a blank.

    Raises:
        StructParseError: the text is not a grid.
    """
    cells = size * size
    if not strict:
        chars = [ch for ch in text if ch.isdigit() or ch in "._"]
        if len(chars) != cells:
            raise StructParseError(f"found {len(chars)} digits or blanks, expected {cells}", text)
        values = [_digit(ch, size, text, None) for ch in chars]  # type: ignore[arg-type]
        return [values[r * size:(r + 1) * size] for r in range(size)]
    words = text.split()
    if len(words) == 1 and len(words[0]) == cells:
        return [[_digit(ch, size, text, 0) for ch in words[0][r * size:(r + 1) * size]] for r in range(size)]
    grid: list[list[int]] = []
    row: list[int] = []
    for i, word in enumerate(words):
        if word == "|":
            if len(row) != size:
                raise StructParseError(f"grid row {len(grid) + 1} has {len(row)} cells, expected {size}", text, i)
            grid.append(row)
            row = []
            continue
        row.append(_digit(word, size, text, i))
    if len(row) != size:
        raise StructParseError(f"grid row {len(grid) + 1} has {len(row)} cells, expected {size}", text,
                               len(words) - 1 if words else None)
    grid.append(row)
    if len(grid) != size:
        raise StructParseError(f"grid has {len(grid)} rows, expected {size}", text)
    return grid
