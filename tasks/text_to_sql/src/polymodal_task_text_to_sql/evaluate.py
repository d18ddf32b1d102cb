"""Text-to-SQL metrics: execution accuracy and normalised exact match (corpus-level, 0-100).

References are the task's ``gold`` column, ``{"query": str, "database": db}``, where ``db`` is a database
dict with content rows or a SQLite file path; a reference may also be a list of such dicts (any may match).
Exact match also accepts a plain SQL string.

* ``execution_accuracy``: the predicted and gold queries are run on the database (through ``sqlexec``: read
  only, one SELECT, time-limited) and their results compared as multisets of rows (order ignored, floats
  to 6 decimals). A prediction that may not run, fails or times out is wrong. Examples whose database has
  no content cannot be executed and are left out of the rate (counted in ``unscored``); a gold query that
  fails counts as wrong and is counted in ``gold_errors``.
* ``exact_match``: the queries are equal after normalisation: SQL outside string literals lower-cased,
  double-quoted strings turned into single-quoted ones, operators and punctuation spaced, whitespace
  collapsed and a trailing ``;`` dropped.
"""
from __future__ import annotations

import re
from typing import Any, Sequence

from polymodal.errors import DataError

from .sqlexec import QueryError, has_content, open_database, result_multiset, run_query

__all__ = ["normalize_sql", "execution_accuracy", "exact_match"]

_TOKEN = re.compile(r"'(?:[^']|'')*'"               # a string literal
                    r'|"(?:[^"]|"")*"'                # a double-quoted string (Spider writes values so)
                    r"|>=|<=|!=|<>|==|\|\||[(),;=<>*+\-/.%|]"
                    r"|[^\s(),;=<>*+\-/.%'\"|]+")


def normalize_sql(sql: str) -> str:
    """Normalise a query for exact match (see the module docstring)."""
    out = []
    for token in _TOKEN.findall(str(sql).strip()):
        if token.startswith("'"):
            out.append(token)
        elif token.startswith('"'):
            inner = token[1:-1].replace('""', '"').replace("'", "''")
            out.append(f"'{inner}'")
        else:
            out.append(token.lower())
    while out and out[-1] == ";":
        out.pop()
    return " ".join(out)


def _golds(ref: Any, index: int) -> list[dict[str, Any]]:
    options = ref if isinstance(ref, (list, tuple)) else [ref]
    for option in options:
        if not isinstance(option, dict) or "query" not in option or "database" not in option:
            raise DataError("execution accuracy needs references {'query': ..., 'database': ...}",
                            task="text_to_sql", row=index)
    return list(options)


def _check(predictions: Sequence[Any], references: Sequence[Any]) -> None:
    if len(predictions) != len(references):
        raise DataError(f"{len(predictions)} predictions for {len(references)} references", task="text_to_sql")
    if not predictions:
        raise DataError("no predictions to evaluate (the split is empty)", task="text_to_sql")


def execution_accuracy(predictions: Sequence[str], references: Sequence[Any], *, timeout_s: float = 2.0,
                       max_rows: int = 10_000) -> dict[str, float]:
    """Percentage of predicted queries whose result equals the gold query's result.

    Args:
        predictions: generated SQL.
        references: ``{"query", "database"}`` dicts (or lists of them).
        timeout_s: time budget per query.
        max_rows: most result rows read per query.

    Returns:
        ``{"execution_accuracy": %, "invalid": % of scored predictions that could not run (against a gold
        query that did),
        "gold_errors": count, "unscored": count}``.
    """
    _check(predictions, references)
    connections: dict[Any, Any] = {}

    def connect(db: Any) -> Any:
        # one connection per database per call; rows of a database share its tables object
        key = str(db) if not isinstance(db, dict) else id(db.get("tables"))
        if key not in connections:
            connections[key] = open_database(db)
        return connections[key]

    right = invalid = gold_errors = unscored = 0
    try:
        for i, (pred, ref) in enumerate(zip(predictions, references)):
            golds = [g for g in _golds(ref, i) if has_content(g["database"])]
            if not golds:
                unscored += 1
                continue
            ok = ran = tried = False
            for gold in golds:
                try:
                    conn = connect(gold["database"])
                    expected = result_multiset(run_query(conn, gold["query"], timeout_s=timeout_s,
                                                         max_rows=max_rows))
                except QueryError:
                    gold_errors += 1
                    continue
                tried = True
                try:
                    got = result_multiset(run_query(conn, str(pred), timeout_s=timeout_s, max_rows=max_rows))
                    ran = True
                except QueryError:
                    continue
                if got == expected:
                    ok = True
                    break
            right += ok
            invalid += tried and not ran
    finally:
        for conn in connections.values():
            conn.close()
    scored = len(predictions) - unscored
    return {"execution_accuracy": 100.0 * right / max(1, scored), "invalid": 100.0 * invalid / max(1, scored),
            "gold_errors": float(gold_errors), "unscored": float(unscored)}


def exact_match(predictions: Sequence[str], references: Sequence[Any]) -> dict[str, float]:
    """Percentage of predicted queries equal to (one of) the gold queries after :func:`normalize_sql`.

    Returns:
        ``{"exact_match": %}``.
    """
    _check(predictions, references)
    right = 0
    for pred, ref in zip(predictions, references):
        options = ref if isinstance(ref, (list, tuple)) else [ref]
        queries = [o["query"] if isinstance(o, dict) else o for o in options]
        norm = normalize_sql(pred)
        right += any(norm == normalize_sql(q) for q in queries)
    return {"exact_match": 100.0 * right / len(predictions)}
