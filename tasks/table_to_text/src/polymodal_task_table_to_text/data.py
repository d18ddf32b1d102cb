"""Table-to-text data: the DART JSON reader, the toy set, its writer and the trivial baseline.

Rows have the columns of the instruction
``structured knowledge: " [STRUCT:database,uncased] " . how to describe the tripleset? -> [TEXT:tgt]``, plus
``gold`` (the evaluation reference: the slot metrics need the triples as well as the texts)::

    {"database": [["Alice Moreno", "occupation", "baker"], ...],     # the triple set
     "tgt": "Alice Moreno is a baker.",                              # the first annotation
     "gold": {"triples": <database>, "texts": ["Alice Moreno is a baker.", ...]}}

DART files (``dart-v1.1.1-full-{train,dev,test}.json``) are one JSON array of entries
``{"tripleset": [[s, p, o], ...], "subtree_was_extended": bool, "annotations": [{"source", "text"}, ...]}``.
"""
from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any, Sequence

from polymodal.datasets import SPLITS, canonical_split, iter_json_array, toy_split_sizes
from polymodal.errors import DataError

from .toy import make_tripleset

__all__ = ["SPLITS", "FILES", "split_sizes", "load", "make_toy", "write_toy", "baseline"]

TASK = "table_to_text"
#: DART's file name for each split.
FILES = {"train": "dart-v1.1.1-full-train.json", "valid": "dart-v1.1.1-full-dev.json",
         "test": "dart-v1.1.1-full-test.json"}


#: Rows per split written by :func:`write_toy` (``n`` for train, a fifth of it for valid and test); kept
#: under this name because callers and tests import it from here.
split_sizes = toy_split_sizes


def _fail(reason: str, source: str, line: int) -> DataError:
    return DataError(f"line {line}: {reason}", task=TASK, source=source, row=line)


def _parse_entry(entry: Any, source: str, line: int) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise _fail(f"an entry must be a JSON object, got {type(entry).__name__}", source, line)
    triples = entry.get("tripleset")
    if not isinstance(triples, list) or not triples:
        raise _fail("'tripleset' must be a non-empty list of [subject, predicate, object]", source, line)
    for i, triple in enumerate(triples):
        if not (isinstance(triple, list) and len(triple) == 3 and all(isinstance(x, str) for x in triple)):
            raise _fail(f"triple {i + 1} must be three strings, got {triple!r:.80}", source, line)
    notes = entry.get("annotations")
    if not isinstance(notes, list) or not notes:
        raise _fail("'annotations' must be a non-empty list of {'text': ...}", source, line)
    texts = []
    for i, note in enumerate(notes):
        if not isinstance(note, dict) or not isinstance(note.get("text"), str):
            raise _fail(f"annotation {i + 1} needs a 'text' string", source, line)
        texts.append(note["text"])
    return {"database": triples, "tgt": texts[0], "gold": {"triples": triples, "texts": texts}}


def load(path: str | Path, *, expand: bool = False, limit: int | None = None) -> list[dict[str, Any]]:
    """Read a DART JSON file.

    Args:
        path: a ``dart-*.json`` file.
        expand: one row per annotation (each text in turn as ``tgt``, for training) instead of one row per
            triple set (``tgt`` = the first annotation).
        limit: read at most this many entries.

    Returns:
        Rows as described in the module docstring.

    Raises:
        DataError: invalid JSON or a malformed entry; it names the file and the entry's line.
    """
    path = Path(path)
    source = str(path)
    rows: list[dict[str, Any]] = []
    for count, (line, entry) in enumerate(iter_json_array(path, task=TASK)):
        if limit is not None and count >= limit:
            break
        row = _parse_entry(entry, source, line)
        if expand:
            rows.extend({**row, "tgt": t} for t in row["gold"]["texts"])
        else:
            rows.append(row)
    return rows


def _split_of(triples: list[list[str]]) -> str:
    key = json.dumps(sorted(triples))
    bucket = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 10
    return "train" if bucket < 8 else "valid" if bucket == 8 else "test"


def make_toy(n: int, seed: int = 0, split: str = "train") -> list[dict[str, Any]]:
    """Generate ``n`` toy triple sets with their references (see ``toy.py``).

    Triple sets are assigned to splits by a hash of their (sorted) triples, so splits never share one.

    Args:
        n: number of examples.
        seed: random seed; the same ``(n, seed, split)`` gives the same rows.
        split: ``"train"``, ``"valid"`` or ``"test"``.
    """
    split = canonical_split(split, TASK)
    rng = random.Random(f"{TASK}:{seed}:{split}")
    rows: list[dict[str, Any]] = []
    while len(rows) < n:
        triples, texts = make_tripleset(rng)
        if _split_of(triples) == split:
            rows.append({"database": triples, "tgt": texts[0], "gold": {"triples": triples, "texts": texts}})
    return rows


def write_toy(out_dir: str | Path, n: int, seed: int = 0) -> list[Path]:
    """Write the toy train/valid/test sets as DART JSON files (sizes from :func:`split_sizes`).

    Returns:
        The train, dev and test file paths; ``load`` reads each back as ``make_toy(size, seed, split)``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for split, size in split_sizes(n).items():
        entries = [{"tripleset": row["database"], "subtree_was_extended": False,
                    "annotations": [{"source": "toy", "text": t} for t in row["gold"]["texts"]]}
                   for row in make_toy(size, seed, split)]
        path = out / FILES[split]
        path.write_text(json.dumps(entries, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def baseline(train_rows: Sequence[dict[str, Any]], eval_rows: Sequence[dict[str, Any]]) -> list[str]:
    """The trivial baseline: the fixed template ``"The {predicate} of {subject} is {object}."`` filled with
    the first triple, ignoring the rest of the set and everything learnable from ``train_rows``."""
    del train_rows  # the template is fixed
    out = []
    for row in eval_rows:
        s, p, o = row["database"][0]
        out.append(f"The {p} of {s} is {o}.")
    return out
