"""Run untrusted SQL (model output) against a SQLite database without harm and without hanging.

A generated query may be anything: ``DROP TABLE``, ``ATTACH`` of a new file, a ``PRAGMA``, an endless
recursive CTE, a cross join with billions of rows. Layers of defence, each sufficient for its own case:

1. a database file is opened **read-only** through a ``file:...?mode=ro`` URI; a database given as a dict
   is materialised into a private in-memory database, and ``PRAGMA query_only`` is set on both;
2. an **authorizer** allows only reading (``SELECT``, column reads, functions, recursive CTEs) and denies
   every other action (writes, schema changes, ``ATTACH``, ``PRAGMA``, transactions), and
   ``SQLITE_LIMIT_ATTACHED`` is 0;
3. the text must be **one statement** starting with ``SELECT`` or ``WITH``;
4. a **progress handler** aborts the statement once its time budget is spent (fetching included), and at
   most ``max_rows`` result rows are read;
5. strings and blobs are capped at 1 MB (``SQLITE_LIMIT_LENGTH``).

A query that breaks a rule raises :class:`QueryError`; the evaluator scores it as wrong.
"""
from __future__ import annotations

import os
import re
import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import Any, Mapping

__all__ = ["QueryError", "open_database", "run_query", "result_multiset", "has_content", "SQL_TYPES"]

#: Declared SQL type used for a Spider column type when a database dict carries no ``sql_types``.
SQL_TYPES = {"number": "NUMERIC", "text": "TEXT", "time": "TEXT", "boolean": "NUMERIC", "others": ""}

_ALLOWED_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION,
                    getattr(sqlite3, "SQLITE_RECURSIVE", 33)}
_DENIED_FUNCTIONS = {"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer"}
_FIRST_WORD = re.compile(r"\s*\(*\s*(select|with)\b", re.IGNORECASE)


class QueryError(Exception):
    """A query that may not run, failed, timed out, or returned too many rows."""


def _authorize(action: int, arg1: str | None, arg2: str | None, dbname: str | None,
               source: str | None) -> int:
    if action not in _ALLOWED_ACTIONS:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in _DENIED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def _quote(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _materialise(db: Mapping[str, Any]) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    for name, table in db["tables"].items():
        columns = list(table["columns"])
        types = table.get("sql_types") or [SQL_TYPES.get(t, "") for t in table.get("types", [])]
        types = list(types) + [""] * (len(columns) - len(types))
        defs = ", ".join(f"{_quote(c)} {t}".strip() for c, t in zip(columns, types))
        conn.execute(f"CREATE TABLE {_quote(name)} ({defs})")
        rows = table.get("rows") or []
        if rows:
            marks = ", ".join("?" * len(columns))
            conn.executemany(f"INSERT INTO {_quote(name)} VALUES ({marks})", rows)
    conn.commit()
    return conn


def has_content(db: Any) -> bool:
    """True when ``db`` can be executed against: a file path, or a dict whose tables all carry ``rows``."""
    if isinstance(db, (str, os.PathLike)):
        return True
    tables = db.get("tables") if isinstance(db, Mapping) else None
    return isinstance(tables, Mapping) and all(isinstance(t, Mapping) and "rows" in t for t in tables.values())


def open_database(db: Any) -> sqlite3.Connection:
    """Open a database for untrusted read-only queries.

    Args:
        db: a SQLite file path (opened read-only) or a database dict ``{"tables": {name: {"columns",
            "sql_types"?|"types"?, "rows"}}}`` (copied into memory).

    Raises:
        QueryError: the file is missing or unreadable.
    """
    if isinstance(db, (str, os.PathLike)):
        path = Path(db)
        if not path.is_file():
            raise QueryError(f"database file not found: {path}")
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise QueryError(f"cannot open {path}: {exc}") from None
    elif isinstance(db, Mapping) and isinstance(db.get("tables"), Mapping):
        conn = _materialise(db)
    else:
        raise QueryError(f"not a database: {type(db).__name__}")
    conn.text_factory = lambda b: b.decode("utf-8", errors="replace")
    conn.execute("PRAGMA query_only = ON")
    conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 1_000_000)
    conn.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, 100_000)
    conn.set_authorizer(_authorize)
    return conn


def _single_statement(sql: str) -> str:
    text = sql.strip().rstrip(";").strip()
    if not _FIRST_WORD.match(text):
        raise QueryError("only a SELECT (or WITH ... SELECT) statement may run")
    if not sqlite3.complete_statement(text + ";") or _has_inner_semicolon(text):
        raise QueryError("exactly one complete statement is allowed")
    return text


def _has_inner_semicolon(text: str) -> bool:
    # outside string literals and quoted identifiers
    quote = None
    for ch in text:
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"`[":
            quote = "]" if ch == "[" else ch
        elif ch == ";":
            return True
    return False


def run_query(conn: sqlite3.Connection, sql: str, *, timeout_s: float = 2.0,
              max_rows: int = 10_000) -> list[tuple[Any, ...]]:
    """Run one read-only query with a time budget.

    Args:
        conn: a connection from :func:`open_database`.
        sql: the query text.
        timeout_s: wall-clock budget for running the statement and fetching its rows.
        max_rows: most result rows read; more is an error.

    Returns:
        The result rows.

    Raises:
        QueryError: the statement is not allowed, fails, runs out of time or returns too many rows.
    """
    text = _single_statement(sql)
    deadline = time.monotonic() + timeout_s
    conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
    try:
        cursor = conn.execute(text)
        rows = cursor.fetchmany(max_rows + 1)
        cursor.close()
    except (sqlite3.Error, sqlite3.Warning, OverflowError, ValueError, MemoryError) as exc:
        if time.monotonic() > deadline:
            raise QueryError(f"timed out after {timeout_s:g} s") from None
        raise QueryError(f"{type(exc).__name__}: {exc}") from None
    finally:
        conn.set_progress_handler(None, 0)
    if len(rows) > max_rows:
        raise QueryError(f"more than {max_rows} result rows")
    return rows


def _cell_key(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    return value


def result_multiset(rows: list[tuple[Any, ...]]) -> Counter[tuple[Any, ...]]:
    """The rows as a multiset (order-free), floats rounded to 6 decimals (``2.0`` equals ``2``)."""
    return Counter(tuple(_cell_key(v) for v in row) for row in rows)
