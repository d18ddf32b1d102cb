"""Per-task (per-family) exact match, for reports on Natural-Instructions data.

The corpus metrics (ROUGE-L, exact match) come from ``polymodal-plugin-metrics``. NIv2 results are also read
per task, and on toy data the held-out family must be read apart from the seen ones; an evaluator sees only
predictions and references, so this helper takes the rows (their ``task`` and ``answers`` columns).

Usage::

    scores = per_task_exact_match(predictions, rows)   # {"toy_add_numbers": 93.0, ..., "seen": .., "held_out": ..}
"""
from __future__ import annotations

import re
import string
from collections import defaultdict
from typing import Any, Sequence

from polymodal_task_natural_instructions.families import HELD_OUT_FAMILY

__all__ = ["normalize_answer", "per_task_exact_match"]

_PUNCT = re.compile(f"[{re.escape(string.punctuation)}]")


def normalize_answer(text: str) -> str:
    """Lower-case, drop punctuation and collapse spaces (SQuAD-style, as the corpus exact match does)."""
    return " ".join(_PUNCT.sub(" ", str(text).lower()).split())


def per_task_exact_match(predictions: Sequence[Any], rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Exact match x100 per task, plus ``seen`` and ``held_out`` (the toy held-out family) averages over rows.

    Args:
        predictions: one answer per row.
        rows: the evaluated rows, with ``task`` and ``answers`` (or ``tgt``).

    Raises:
        ValueError: when the lengths differ.
    """
    if len(predictions) != len(rows):
        raise ValueError(f"{len(predictions)} predictions for {len(rows)} rows")
    hits: dict[str, list[bool]] = defaultdict(list)
    for prediction, row in zip(predictions, rows):
        answers = row.get("answers") or [row["tgt"]]
        ok = normalize_answer(prediction) in {normalize_answer(a) for a in answers}
        task = str(row.get("task", ""))
        hits[task].append(ok)
        hits["held_out" if task == f"toy_{HELD_OUT_FAMILY}" else "seen"].append(ok)
    return {task: 100.0 * sum(v) / len(v) for task, v in sorted(hits.items())}
