"""Text-to-SQL data: the Spider reader, the toy set, its writer and the trivial baseline.

Rows have the columns of the instruction ``" [TEXT:src] " ; structured knowledge: " [STRUCT:database] " .
generating sql code. -> [TEXT:tgt]`` plus ``gold``, the evaluation reference (execution needs the database)::

    {"src": "how many employees are older than 40?",
     "database": {"db_id": "...", "question": <src>,
                  "tables": {"employee": {"columns": [...], "types": [...], "sql_types": [...], "rows": [...]},
                             ...}},
     "tgt": "SELECT count(*) FROM employee WHERE age > 40",
     "gold": {"query": <tgt>, "database": <database>}}

The database dict carries the question so that a STRUCT preprocessor, which sees only the slot's value, can
show the content values the question mentions (``linearize_database`` reads ``"question"``). Rows of one
database share its ``tables`` object.

A Spider folder holds ``train_spider.json``/``dev.json`` (JSON arrays of ``{"db_id", "question", "query",
...}``), ``tables.json`` (one schema per database: ``table_names_original``, ``column_names_original`` as
``[table index, name]`` pairs with ``[-1, "*"]`` first, ``column_types``, ``primary_keys``, ``foreign_keys``)
and ``database/<db_id>/<db_id>.sqlite``.
"""
from __future__ import annotations

import json
import random
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

from polymodal.datasets import SPLITS, canonical_split, iter_json_array, toy_split_sizes
from polymodal.errors import DataError

from .sqlexec import open_database
from .toy import make_database, make_question

__all__ = ["SPLITS", "FILES", "split_sizes", "load", "load_schemas", "make_toy", "write_toy", "baseline"]

TASK = "text_to_sql"
#: Spider's file name for each split.
FILES = {"train": "train_spider.json", "valid": "dev.json", "test": "test.json"}
_PER_DATABASE = 8  # toy questions per toy database


#: Rows per split written by :func:`write_toy` (``n`` for train, a fifth of it for valid and test); kept
#: under this name because callers and tests import it from here.
split_sizes = toy_split_sizes


def _fail(reason: str, source: str, line: int | None) -> DataError:
    return DataError(f"line {line}: {reason}" if line else reason, task=TASK, source=source, row=line)


def _schema(entry: Any, source: str, line: int) -> dict[str, Any]:
    try:
        tables = {name: {"columns": [], "types": []} for name in entry["table_names_original"]}
        names = list(tables)
        for (t, column), kind in zip(entry["column_names_original"], entry["column_types"]):
            if t >= 0:
                tables[names[t]]["columns"].append(column)
                tables[names[t]]["types"].append(kind)
        return {"db_id": entry["db_id"], "tables": tables}
    except (KeyError, TypeError, IndexError, ValueError) as exc:
        raise _fail(f"malformed schema entry ({type(exc).__name__}: {exc})", source, line) from None


def load_schemas(path: str | Path) -> dict[str, dict[str, Any]]:
    """Read Spider's ``tables.json``: db_id -> ``{"db_id", "tables": {name: {"columns", "types"}}}``."""
    path = Path(path)
    source = str(path)
    return {s["db_id"]: s for s in (_schema(e, source, line) for line, e in iter_json_array(path, task=TASK))}


def _add_content(schema: dict[str, Any], sqlite_path: Path, max_rows: int | None) -> dict[str, Any]:
    """Add ``sql_types`` and ``rows`` (in the schema's column order) read from the SQLite file."""
    from polymodal_modality_struct.linearize import schema_from_sqlite

    stored = schema_from_sqlite(sqlite_path, db_id=schema["db_id"], max_rows=max_rows)
    # Spider's tables.json and its SQLite files sometimes differ in the case of names
    by_name = {name.lower(): table for name, table in stored["tables"].items()}
    tables = {}
    for name, table in schema["tables"].items():
        found = by_name.get(name.lower())
        if found is None:
            raise DataError(f"tables.json lists table {name!r}, which the database lacks", task=TASK,
                            source=str(sqlite_path))
        index = {c.lower(): i for i, c in enumerate(found["columns"])}
        missing = [c for c in table["columns"] if c.lower() not in index]
        if missing:
            raise DataError(f"table {name!r} lacks column(s) {missing} that tables.json lists", task=TASK,
                            source=str(sqlite_path))
        order = [index[c.lower()] for c in table["columns"]]
        tables[name] = {**table, "sql_types": [found["sql_types"][i] for i in order],
                        "rows": [[row[i] for i in order] for row in found["rows"]]}
    return {**schema, "tables": tables}


def load(path: str | Path, *, tables: str | Path | None = None, db_dir: str | Path | None = None,
         max_rows: int | None = None, content: bool = True) -> list[dict[str, Any]]:
    """Read a Spider split file.

    Args:
        path: ``train_spider.json``, ``train_others.json``, ``dev.json`` or ``test.json``.
        tables: the schema file (default: ``tables.json`` beside ``path``).
        db_dir: the folder of databases (default: ``database`` beside ``path``).
        max_rows: read at most this many rows per table.
        content: read each database's rows from ``<db_dir>/<db_id>/<db_id>.sqlite`` (needed for execution
            accuracy and value matching). A database without a file keeps only its schema.

    Returns:
        Rows as described in the module docstring.

    Raises:
        DataError: a malformed file or entry, or a ``db_id`` missing from the schemas; it names the file
            and the line.
    """
    path = Path(path)
    source = str(path)
    schemas = load_schemas(Path(tables) if tables else path.parent / "tables.json")
    db_root = Path(db_dir) if db_dir else path.parent / "database"
    databases: dict[str, dict[str, Any]] = {}
    rows = []
    for line, entry in iter_json_array(path, task=TASK):
        if not isinstance(entry, dict):
            raise _fail(f"an entry must be a JSON object, got {type(entry).__name__}", source, line)
        for key in ("db_id", "question", "query"):
            if not isinstance(entry.get(key), str):
                raise _fail(f"missing or non-string field {key!r}", source, line)
        db_id = entry["db_id"]
        if db_id not in databases:
            if db_id not in schemas:
                raise _fail(f"database {db_id!r} is not in tables.json", source, line)
            sqlite_path = db_root / db_id / f"{db_id}.sqlite"
            databases[db_id] = (_add_content(schemas[db_id], sqlite_path, max_rows)
                                if content and sqlite_path.is_file() else schemas[db_id])
        database = {**databases[db_id], "question": entry["question"]}
        rows.append({"src": entry["question"], "database": database, "tgt": entry["query"],
                     "gold": {"query": entry["query"], "database": database}})
    return rows


def make_toy(n: int, seed: int = 0, split: str = "train") -> list[dict[str, Any]]:
    """Generate ``n`` toy questions over fresh random databases (about 8 questions per database).

    Each split has its own databases (``<split>_company_<k>``), as Spider's dev databases are unseen in
    training.

    Args:
        n: number of examples.
        seed: random seed; the same ``(n, seed, split)`` gives the same rows.
        split: ``"train"``, ``"valid"`` or ``"test"``.
    """
    split = canonical_split(split, TASK)
    rng = random.Random(f"{TASK}:{seed}:{split}")
    rows: list[dict[str, Any]] = []
    k = 0
    while len(rows) < n:
        db, roles = make_database(rng, f"{split}_company_{k:03d}")
        k += 1
        conn = open_database(db)
        questions: set[str] = set()
        for _ in range(4 * _PER_DATABASE):
            if len(questions) == _PER_DATABASE or len(rows) == n:
                break
            drawn = make_question(rng, db, roles, conn)
            if drawn is None or drawn[1] in questions:
                continue
            questions.add(drawn[1])
            database = {**db, "question": drawn[1]}
            rows.append({"src": drawn[1], "database": database, "tgt": drawn[2],
                         "gold": {"query": drawn[2], "database": database}})
        conn.close()
    return rows


def _tables_entry(db: dict[str, Any]) -> dict[str, Any]:
    names = list(db["tables"])
    columns: list[list[Any]] = [[-1, "*"]]
    types = ["text"]
    for t, name in enumerate(names):
        columns += [[t, c] for c in db["tables"][name]["columns"]]
        types += db["tables"][name]["types"]
    index = {(names[t], c): i for i, (t, c) in enumerate(columns) if t >= 0}
    primary = [index[(name, db["tables"][name]["columns"][0])] for name in names]
    foreign = [[index[(name, "dept_id")], index[(names[0], "dept_id")]] for name in names[1:]
               if "dept_id" in db["tables"][name]["columns"]]
    return {"db_id": db["db_id"], "table_names_original": names,
            "table_names": [n.replace("_", " ") for n in names],
            "column_names_original": columns,
            "column_names": [[t, c.replace("_", " ")] for t, c in columns],
            "column_types": types, "primary_keys": primary, "foreign_keys": foreign}


def _write_sqlite(db: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    for name, table in db["tables"].items():
        defs = ", ".join(f'"{c}" {t}' for c, t in zip(table["columns"], table["sql_types"]))
        conn.execute(f'CREATE TABLE "{name}" ({defs})')
        conn.executemany(f'INSERT INTO "{name}" VALUES ({", ".join("?" * len(table["columns"]))})', table["rows"])
    conn.commit()
    conn.close()


def write_toy(out_dir: str | Path, n: int, seed: int = 0) -> list[Path]:
    """Write the toy sets as a Spider folder (sizes from :func:`split_sizes`).

    Writes ``train_spider.json``, ``dev.json``, ``test.json``, ``tables.json`` and
    ``database/<db_id>/<db_id>.sqlite`` for every toy database.

    Returns:
        The three split files (train, dev, test); ``load`` reads each back as ``make_toy(size, seed, split)``.
        ``tables.json`` and ``database/`` sit beside them.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths, schemas = [], []
    for split, size in split_sizes(n).items():
        rows = make_toy(size, seed, split)
        entries = []
        for row in rows:
            db = row["database"]
            if not schemas or schemas[-1]["db_id"] != db["db_id"]:
                schemas.append(_tables_entry(db))
                _write_sqlite(db, out / "database" / db["db_id"] / f"{db['db_id']}.sqlite")
            entries.append({"db_id": db["db_id"], "query": row["tgt"], "query_toks": row["tgt"].split(),
                            "question": row["src"], "question_toks": row["src"].split()})
        path = out / FILES[split]
        path.write_text(json.dumps(entries, indent=1) + "\n", encoding="utf-8")
        paths.append(path)
    (out / "tables.json").write_text(json.dumps(schemas, indent=1) + "\n", encoding="utf-8")
    return paths


def baseline(train_rows: Sequence[dict[str, Any]], eval_rows: Sequence[dict[str, Any]]) -> list[str]:
    """The trivial baseline: the most frequent SQL query of the training rows, for every question."""
    counts = Counter(row["tgt"] for row in train_rows)
    query = min(counts, key=lambda q: (-counts[q], q)) if counts else "SELECT 1"
    return [query] * len(eval_rows)
