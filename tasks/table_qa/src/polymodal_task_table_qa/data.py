"""Table QA data: the FeTaQA JSONL reader, the toy set, its writer and the trivial baseline.

Rows have the columns of the instruction
``structured knowledge: " [STRUCT:table] " . what is the answer of the question " [TEXT:src] "? -> [TEXT:tgt]``::

    {"table": {"name": "club members", "header": ["name", "age", ...], "rows": [["Ada", "31", ...], ...]},
     "src": "what is the age of Ada?", "tgt": "31"}

FeTaQA files (``fetaQA-v1_{train,dev,test}.jsonl``) hold one JSON object per line with ``table_array`` (the
header row first, then the rows, all strings), ``question``, ``answer``, ``table_page_title`` and
``table_section_title`` (joined with `` - `` into the table name), plus ``feta_id``, ``table_source_json``,
``page_wikipedia_url`` and ``highlighted_cell_ids``, which are not used.
"""
from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

from polymodal.datasets import SPLITS, canonical_split, toy_split_sizes
from polymodal.errors import DataError

from .toy import make_question, make_table

__all__ = ["SPLITS", "FILES", "split_sizes", "load", "make_toy", "write_toy", "baseline"]

TASK = "table_qa"
#: FeTaQA's file name for each split.
FILES = {"train": "fetaQA-v1_train.jsonl", "valid": "fetaQA-v1_dev.jsonl", "test": "fetaQA-v1_test.jsonl"}


#: Rows per split written by :func:`write_toy` (``n`` for train, a fifth of it for valid and test); kept
#: under this name because callers and tests import it from here.
split_sizes = toy_split_sizes


def _fail(reason: str, source: str, line: int) -> DataError:
    return DataError(f"line {line}: {reason}", task=TASK, source=source, row=line)


def _cell(value: Any, source: str, line: int) -> str:
    if value is None:
        return ""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return value if isinstance(value, str) else str(value)
    raise _fail(f"table cells must be strings, got {type(value).__name__}", source, line)


def _parse_entry(entry: Any, source: str, line: int) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise _fail(f"expected a JSON object, got {type(entry).__name__}", source, line)
    for key in ("table_array", "question", "answer"):
        if key not in entry:
            raise _fail(f"missing field {key!r}", source, line)
    array = entry["table_array"]
    if not isinstance(array, list) or not array or not all(isinstance(r, list) for r in array):
        raise _fail("'table_array' must be a non-empty list of rows (the header first)", source, line)
    for key in ("question", "answer"):
        if not isinstance(entry[key], str):
            raise _fail(f"{key!r} must be a string", source, line)
    titles = [entry.get("table_page_title") or "", entry.get("table_section_title") or ""]
    name = " - ".join(t for t in titles if t) or None
    rows = [[_cell(v, source, line) for v in row] for row in array]
    return {"table": {"name": name, "header": rows[0], "rows": rows[1:]},
            "src": entry["question"], "tgt": entry["answer"]}


def load(path: str | Path, *, limit: int | None = None) -> list[dict[str, Any]]:
    """Read a FeTaQA JSONL file.

    Args:
        path: a ``fetaQA-v1_*.jsonl`` file.
        limit: read at most this many examples.

    Returns:
        One row per line (see the module docstring).

    Raises:
        DataError: invalid JSON or a missing/ill-typed field; it names the file and the line.
    """
    path = Path(path)
    source = str(path)
    rows: list[dict[str, Any]] = []
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot read file: {exc.strerror}", task=TASK, source=source) from None
    with handle:
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                entry = json.loads(text)
            except json.JSONDecodeError as exc:
                raise _fail(f"invalid JSON: {exc.msg} (column {exc.colno})", source, line) from None
            rows.append(_parse_entry(entry, source, line))
            if limit is not None and len(rows) >= limit:
                break
    return rows


def _split_of(table: dict) -> str:
    bucket = int(hashlib.sha256(json.dumps(table, sort_keys=True).encode()).hexdigest()[:8], 16) % 10
    return "train" if bucket < 8 else "valid" if bucket == 8 else "test"


def make_toy(n: int, seed: int = 0, split: str = "train", *, real_tables: bool = True) -> list[dict[str, Any]]:
    """Generate ``n`` toy table questions (see ``toy.py``).

    Tables are assigned to splits by a hash of their content, so no table is shared between splits.

    Args:
        n: number of examples.
        seed: random seed; the same ``(n, seed, split)`` gives the same rows.
        split: ``"train"``, ``"valid"`` or ``"test"``.
        real_tables: draw a quarter of the tables from the real iris data when scikit-learn is installed.
    """
    split = canonical_split(split, TASK)
    rng = random.Random(f"{TASK}:{seed}:{split}")
    rows: list[dict[str, Any]] = []
    while len(rows) < n:
        theme, table = make_table(rng, use_iris=real_tables and rng.random() < 0.25)
        if _split_of(table) != split:
            continue
        drawn = make_question(rng, theme, table)
        if drawn is not None:
            rows.append({"table": table, "src": drawn[1], "tgt": drawn[2]})
    return rows


def write_toy(out_dir: str | Path, n: int, seed: int = 0) -> list[Path]:
    """Write the toy train/valid/test sets as FeTaQA JSONL files (sizes from :func:`split_sizes`).

    Returns:
        The train, dev and test file paths; ``load`` reads each back as ``make_toy(size, seed, split)``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    feta_id = 0
    for split, size in split_sizes(n).items():
        path = out / FILES[split]
        with path.open("w", encoding="utf-8") as handle:
            for row in make_toy(size, seed, split):
                feta_id += 1
                table = row["table"]
                entry = {"feta_id": feta_id, "table_source_json": "toy", "page_wikipedia_url": "",
                         "table_page_title": table["name"] or "", "table_section_title": "",
                         "table_array": [table["header"], *table["rows"]], "highlighted_cell_ids": [],
                         "question": row["src"], "answer": row["tgt"]}
                handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
        paths.append(path)
    return paths


def baseline(train_rows: Sequence[dict[str, Any]], eval_rows: Sequence[dict[str, Any]]) -> list[str]:
    """The trivial baseline: answer every question with train's most frequent answer."""
    counts = Counter(row["tgt"] for row in train_rows)
    answer = min(counts, key=lambda a: (-counts[a], a)) if counts else ""
    return [answer] * len(eval_rows)
