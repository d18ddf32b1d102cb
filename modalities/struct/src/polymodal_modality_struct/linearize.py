"""Turn structured data (tables, triple sets, databases, Sudoku grids) into one line of text.

The STRUCT modality feeds a Transformer with text, so every structure is written in a small, stable,
documented format (the *linearisation*). Tables, triple sets and grids are reversible: ``parse.py`` reads
them back. Database schemas are an input-only format. Length limits (``max_length``) are applied later by the
text tokenizer, not here.

Formats (tokens are separated by single spaces; cell text is whitespace-normalised):

* **table**: ``[name ||] cell : cell : cell | cell : cell : cell | ...``. Rows are separated by ``|``, cells
  by ``:``. When the table has a header it is the first row. A cell word that is itself ``|``, ``||`` or
  ``:`` (possibly already backslash-prefixed) is escaped with one more leading backslash. Empty cells are
  allowed (``a : : c``); ``None`` is an empty cell. (A table of one empty cell writes no words and does not
  parse back.)
* **triples**: a table of 3-column rows without header: ``s : p : o | s : p : o``.
* **database**: ``db_id | table : col , col ( value , value ) , col | table : ...`` ("peteshaw" style).
  Content values are shown in parentheses after a column when ``values`` asks for them; ``"matched"``
  shows the text values that the question mentions (schema linking, like Spider's "bridge" models).
  Column and table names are kept verbatim (``stadium_id`` stays ``stadium_id``).
* **grid**: ``5 3 0 0 7 0 0 0 0 | 6 0 0 1 9 5 0 0 0 | ...``: one digit per cell, rows separated by ``|``,
  blanks written as ``blank`` (``"0"`` by default).

With ``uncased=True`` the whole string is lower-cased.

Example::

    >>> linearize_table({"header": ["name", "age"], "rows": [["Ann", 31]]})
    'name : age | Ann : 31'
    >>> linearize_triples([("Ann", "born in", "Oslo")], uncased=True)
    'ann : born in : oslo'
"""
from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from polymodal.errors import DataError

__all__ = [
    "KINDS", "detect_kind", "linearize", "linearize_table", "linearize_triples", "linearize_database",
    "linearize_grid", "format_cell", "as_grid", "schema_from_sqlite", "quote_identifier",
]

#: The structure kinds that :func:`linearize` understands.
KINDS = ("table", "triples", "database", "grid")

ROW_SEP = "|"
CELL_SEP = ":"
NAME_SEP = "||"
#: Words that are separators in the table format, optionally preceded by backslashes.
_SEPARATOR_WORD = re.compile(r"\\*(\|\||\||:)")
_SQLITE_SUFFIXES = (".sqlite", ".sqlite3", ".db")
_GRID_CHARS = frozenset("0123456789.")


def format_cell(value: Any) -> str:
    """Render one cell value as single-spaced text.

    ``None`` is empty; booleans are ``true``/``false``; floats use up to 12 significant digits without
    trailing zeros (``3.0`` -> ``3``, ``0.1`` -> ``0.1``); bytes are decoded as UTF-8 with replacement.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = format(value, ".12g")
    elif isinstance(value, (bytes, bytearray)):
        text = bytes(value).decode("utf-8", errors="replace")
    else:
        text = str(value)
    return " ".join(text.split())


def _escape_words(text: str) -> list[str]:
    # A cell word that looks like a separator gets one more backslash, so parse.py can tell them apart.
    return ["\\" + w if _SEPARATOR_WORD.fullmatch(w) else w for w in text.split()]


def _join_rows(rows: Iterable[Sequence[Any]]) -> list[str]:
    words: list[str] = []
    for r, row in enumerate(rows):
        if isinstance(row, (str, bytes)) or not isinstance(row, Sequence):
            raise DataError(f"table row {r + 1} must be a list of cells, got {type(row).__name__}")
        if r:
            words.append(ROW_SEP)
        for c, cell in enumerate(row):
            if c:
                words.append(CELL_SEP)
            words.extend(_escape_words(format_cell(cell)))
    return words


def _finish(words: list[str], uncased: bool) -> str:
    text = " ".join(words)
    return text.lower() if uncased else text


def _table_parts(table: Any, header: Sequence[Any] | None,
                 name: str | None) -> tuple[str | None, Sequence[Any] | None, Sequence[Sequence[Any]]]:
    if isinstance(table, Mapping):
        if "rows" in table or "header" in table:
            rows = table.get("rows") or []
            header = table.get("header") if header is None else header
        elif "table_content" in table or "table_head" in table:  # OFASys's dict form
            rows = table.get("table_content") or []
            header = table.get("table_head") if header is None else header
        else:
            raise DataError("a table dict needs 'rows' (and optionally 'header', 'name'); "
                            f"got keys {sorted(map(str, table))}")
        name = name if name is not None else table.get("name", table.get("table_name"))
    elif isinstance(table, Sequence) and not isinstance(table, (str, bytes)):
        rows = table
    else:
        raise DataError(f"a table must be a list of rows or a dict with 'rows', got {type(table).__name__}")
    return (None if name is None else str(name)), header, rows


def linearize_table(table: Any, *, header: Sequence[Any] | None = None, name: str | None = None,
                    uncased: bool = False) -> str:
    """Linearise a table.

    Args:
        table: a list of rows (lists of cells), or a dict ``{"header": [...], "rows": [[...]], "name"?: ...}``
            (OFASys's ``{"table_name", "table_head", "table_content"}`` is accepted too).
        header: column names, written as the first row (overrides the dict's ``header``).
        name: table name, written first and followed by ``||`` (overrides the dict's ``name``).
        uncased: lower-case the result.

    Returns:
        The table in the ``[name ||] cell : cell | cell : cell`` format.

    Raises:
        DataError: ``table`` is not a table.
    """
    name, header, rows = _table_parts(table, header, name)
    words: list[str] = []
    if name is not None and name.strip():
        words.extend(_escape_words(format_cell(name)))
        words.append(NAME_SEP)
    all_rows = ([list(header)] if header is not None else []) + list(rows)
    words.extend(_join_rows(all_rows))
    return _finish(words, uncased)


def linearize_triples(triples: Iterable[Sequence[Any]], *, uncased: bool = False) -> str:
    """Linearise a triple set as ``s : p : o | s : p : o``.

    Args:
        triples: (subject, predicate, object) triples.
        uncased: lower-case the result.

    Raises:
        DataError: a triple does not have exactly three parts.
    """
    triples = list(triples)
    for i, triple in enumerate(triples):
        if isinstance(triple, (str, bytes)) or not isinstance(triple, Sequence) or len(triple) != 3:
            raise DataError(f"triple {i + 1} must be (subject, predicate, object), got {triple!r}")
    return _finish(_join_rows(triples), uncased)


# ----------------------------------------------------------------------------------------------- grids

def as_grid(obj: Any, *, size: int = 9) -> list[list[int]]:
    """Normalise a Sudoku grid to ``size`` lists of ``size`` ints (0 = blank).

    Args:
        obj: a ``size``x``size`` nested list (ints, digit strings, ``"."``, ``""`` or ``None`` for blanks),
            or a string of ``size*size`` characters (digits, ``0`` or ``.`` for blanks).
        size: side of the grid.

    Raises:
        DataError: the object is not such a grid.
    """
    if isinstance(obj, str):
        text = obj.strip()
        if len(text) != size * size or not set(text) <= _GRID_CHARS:
            raise DataError(f"a grid string must be {size * size} characters of digits or '.', "
                            f"got {len(text)} characters")
        cells = [0 if ch == "." else int(ch) for ch in text]
        return [cells[r * size:(r + 1) * size] for r in range(size)]
    if not isinstance(obj, Sequence) or len(obj) != size:
        raise DataError(f"a grid must have {size} rows, got {obj!r:.60}")
    grid = []
    for r, row in enumerate(obj):
        if isinstance(row, str) and len(row) == size:
            row = list(row)
        if not isinstance(row, Sequence) or len(row) != size:
            raise DataError(f"grid row {r + 1} must have {size} cells, got {row!r:.60}")
        out = []
        for c, cell in enumerate(row):
            if cell is None or cell in (".", ""):
                out.append(0)
                continue
            try:
                value = int(cell)
            except (TypeError, ValueError):
                raise DataError(f"grid cell (row {r + 1}, column {c + 1}) is not a digit: {cell!r}") from None
            if not 0 <= value <= size or isinstance(cell, float) and cell != value:
                raise DataError(f"grid cell (row {r + 1}, column {c + 1}) must be 0..{size}, got {cell!r}")
            out.append(value)
        grid.append(out)
    return grid


def linearize_grid(grid: Any, *, blank: str = "0", size: int = 9) -> str:
    """Linearise a Sudoku grid as ``d d d ... | d d d ... | ...`` (rows separated by ``|``).

    Args:
        grid: anything :func:`as_grid` accepts.
        blank: the word written for an empty cell.
        size: side of the grid.
    """
    rows = as_grid(grid, size=size)
    return f" {ROW_SEP} ".join(" ".join(blank if v == 0 else str(v) for v in row) for row in rows)


# ------------------------------------------------------------------------------------------- databases

def quote_identifier(name: str) -> str:
    """Quote a table or column name for SQL, doubling any double quote inside it."""
    return '"' + str(name).replace('"', '""') + '"'


def schema_from_sqlite(path: str | os.PathLike[str], *, db_id: str | None = None,
                       max_rows: int | None = None) -> dict[str, Any]:
    """Read a SQLite file (read-only) into the in-memory database dict used across STRUCT.

    Args:
        path: the ``.sqlite`` file.
        db_id: name of the database (default: the file stem).
        max_rows: read at most this many rows per table (``None``: all).

    Returns:
        ``{"db_id", "tables": {name: {"columns", "sql_types", "rows"}}}``, tables in file order.

    Raises:
        DataError: the file is missing or not a SQLite database.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("SQLite database not found", source=str(path))
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise DataError(f"cannot open SQLite database: {exc}", source=str(path)) from None
    conn.text_factory = lambda b: b.decode("utf-8", errors="replace")
    tables: dict[str, Any] = {}
    try:
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid")]
        for name in names:
            info = conn.execute(f"PRAGMA table_info({quote_identifier(name)})").fetchall()
            columns = [r[1] for r in info]
            limit = "" if max_rows is None else f" LIMIT {int(max_rows)}"
            quoted = ", ".join(map(quote_identifier, columns))
            rows = [list(r) for r in conn.execute(f"SELECT {quoted} FROM {quote_identifier(name)}{limit}")]
            tables[name] = {"columns": columns, "sql_types": [r[2] for r in info], "rows": rows}
    except sqlite3.DatabaseError as exc:
        raise DataError(f"cannot read SQLite database: {exc}", source=str(path)) from None
    finally:
        conn.close()
    return {"db_id": db_id or path.stem, "tables": tables}


def _normalise_text(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.casefold()).split())


def _mentioned(value: str, question_norm: str) -> bool:
    needle = _normalise_text(value)
    return bool(needle) and f" {needle} " in f" {question_norm} "


def _column_values(rows: Sequence[Sequence[Any]], index: int, mode: str, question_norm: str,
                   max_values: int) -> list[str]:
    seen: list[str] = []
    for row in rows:
        if index >= len(row) or row[index] is None:
            continue
        value = row[index]
        text = format_cell(value)
        if not text or text in seen:
            continue
        # Only text values are matched against the question: numbers would match every digit it contains.
        if mode == "matched" and not (isinstance(value, str) and re.search(r"[^\W\d_]", text)
                                      and _mentioned(text, question_norm)):
            continue
        seen.append(text)
        if len(seen) >= max_values:
            break
    return seen


def linearize_database(db: Any, *, question: str | None = None, values: str = "auto", max_values: int = 3,
                       uncased: bool = False) -> str:
    """Linearise a database schema (with optional content values) in "peteshaw" style.

    Args:
        db: a SQLite file path, or ``{"db_id": str, "tables": {name: {"columns": [...], "types"?: [...],
            "rows"?: [[...]]}}, "question"?: str}``. The optional ``"question"`` key plays the role of the
            ``question`` argument, so a data row can carry it to a preprocessor that sees only the slot.
        question: the text whose mentions of cell values select the values shown (``values="matched"``).
        values: ``"none"``, ``"matched"`` (text values mentioned in the question), ``"all"`` (the first
            ``max_values`` distinct values of every column) or ``"auto"`` (``"matched"`` when a question is
            known, else ``"none"``).
        max_values: most values shown per column.
        uncased: lower-case the result.

    Returns:
        ``db_id | table : col , col ( value , value ) | table : ...``.

    Raises:
        DataError: ``db`` is not a database.
    """
    if isinstance(db, (str, os.PathLike)):
        db = schema_from_sqlite(db)
    if not isinstance(db, Mapping) or not isinstance(db.get("tables"), Mapping):
        raise DataError("a database must be a SQLite path or a dict with 'db_id' and 'tables' "
                        f"({{name: {{'columns': [...]}}}}), got {type(db).__name__}")
    if values not in ("auto", "none", "matched", "all"):
        raise DataError(f"values must be auto, none, matched or all; got {values!r}")
    question = question if question is not None else db.get("question")
    if values == "auto":
        values = "matched" if question else "none"
    question_norm = _normalise_text(question or "")
    words: list[str] = []
    if db.get("db_id"):
        words.extend(format_cell(db["db_id"]).split())
    for name, table in db["tables"].items():
        if not isinstance(table, Mapping) or "columns" not in table:
            raise DataError(f"database table {name!r} needs a 'columns' list")
        if words:
            words.append(ROW_SEP)
        words.extend(format_cell(name).split() + [CELL_SEP])
        rows = table.get("rows") or []
        for i, column in enumerate(table["columns"]):
            if i:
                words.append(",")
            words.extend(format_cell(column).split())
            shown = [] if values == "none" else _column_values(rows, i, values, question_norm, max_values)
            if shown:
                words.append("(")
                words.extend(" , ".join(shown).split())
                words.append(")")
    return _finish(words, uncased)


# -------------------------------------------------------------------------------------------- dispatch

def _is_grid(obj: Any, size: int = 9) -> bool:
    if isinstance(obj, str):
        return len(obj) == size * size and set(obj) <= _GRID_CHARS
    if not isinstance(obj, Sequence) or len(obj) != size:
        return False
    return all(isinstance(row, Sequence) and not isinstance(row, str) and len(row) == size
               and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= size for v in row)
               for row in obj)


def detect_kind(obj: Any) -> str:
    """Guess which of :data:`KINDS` an object is.

    A dict with ``tables`` or a path to a ``.sqlite``/``.sqlite3``/``.db`` file is a database; a 9x9 list of
    ints 0-9 or an 81-character digit string is a grid; a dict with ``rows``/``header`` or a list of rows is a
    table (a triple set is written exactly like a header-less table).

    Raises:
        DataError: nothing fits.
    """
    if isinstance(obj, Mapping):
        if "tables" in obj:
            return "database"
        if {"rows", "header", "table_content", "table_head"} & set(obj):
            return "table"
    elif isinstance(obj, os.PathLike) or isinstance(obj, str) and obj.lower().endswith(_SQLITE_SUFFIXES):
        return "database"
    elif _is_grid(obj):
        return "grid"
    elif isinstance(obj, Sequence) and not isinstance(obj, (str, bytes)):
        return "table"
    raise DataError(f"cannot tell which structure this is (expected one of {', '.join(KINDS)}): {obj!r:.80}")


def linearize(obj: Any, *, kind: str | None = None, uncased: bool = False, **options: Any) -> str:
    """Linearise any supported structure.

    Args:
        obj: a table, triple set, database or grid (see the module docstring).
        kind: one of :data:`KINDS`; guessed with :func:`detect_kind` when ``None``.
        uncased: lower-case the result (ignored for grids, which are digits).
        **options: passed to the kind's function (``header``/``name`` for tables; ``question``,
            ``values``, ``max_values`` for databases; ``blank``, ``size`` for grids).

    Raises:
        DataError: unknown kind or malformed structure.
    """
    kind = kind or detect_kind(obj)
    if kind == "table":
        return linearize_table(obj, uncased=uncased, **options)
    if kind == "triples":
        return linearize_triples(obj, uncased=uncased, **options)
    if kind == "database":
        return linearize_database(obj, uncased=uncased, **options)
    if kind == "grid":
        return linearize_grid(obj, **options)
    raise DataError(f"unknown structure kind {kind!r}; expected one of {', '.join(KINDS)}")
