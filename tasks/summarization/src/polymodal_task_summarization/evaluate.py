"""Fact accuracy of templated summaries (evaluator ``summarization.fact_accuracy``).

ROUGE rewards word overlap, so a summary with the wrong person or count still scores well. On toy data every
reference is the template ``<who> <verb> <count> <thing> at <place> on <day>``; this evaluator parses the
prediction and the reference into those six slots and compares them:

* ``fact_accuracy``: percent of rows whose six slots are all right;
* ``slot_accuracy``: percent of slots right (a prediction that does not parse gets none);
* ``parse_rate``: percent of predictions that follow the template;
* ``slot_<name>``: per-slot accuracy;
* ``fact_rows``: how many rows had a templated reference. Rows whose reference does not parse (real
  Gigaword) are left out; with none left the rates are NaN (not applicable).
"""
from __future__ import annotations

import math
from typing import Any, Sequence

from polymodal.errors import DataError
from polymodal_plugin_toyworld.events import SLOTS, parse_summary

__all__ = ["fact_accuracy"]


def _reference_slots(reference: Any) -> dict[str, str] | None:
    candidates = reference if isinstance(reference, (list, tuple)) else [reference]
    for candidate in candidates:
        slots = parse_summary(str(candidate))
        if slots is not None:
            return slots
    return None


def fact_accuracy(predictions: Sequence[Any], references: Sequence[Any]) -> dict[str, float]:
    """Compare the slots of templated summaries (see the module docstring); scores are x100.

    Args:
        predictions: one summary per row.
        references: per row, the reference summary or a list of them (the first templated one is used).

    Raises:
        DataError: when the two lists differ in length or are empty.
    """
    if len(predictions) != len(references):
        raise DataError(f"summarization.fact_accuracy: got {len(predictions)} predictions but "
                        f"{len(references)} references; each row needs one reference entry")
    if not predictions:
        raise DataError("summarization.fact_accuracy: no predictions to evaluate (the split is empty)")
    rows = parsed = all_right = 0
    per_slot = dict.fromkeys(SLOTS, 0)
    for prediction, reference in zip(predictions, references):
        truth = _reference_slots(reference)
        if truth is None:
            continue
        rows += 1
        guess = parse_summary("" if prediction is None else str(prediction))  # None: a failed generation
        if guess is None:
            continue
        parsed += 1
        right = [guess[s] == truth[s] for s in SLOTS]
        all_right += all(right)
        for slot, ok in zip(SLOTS, right):
            per_slot[slot] += ok
    if rows == 0:
        nan = math.nan
        return {"fact_accuracy": nan, "slot_accuracy": nan, "parse_rate": nan, "fact_rows": 0.0,
                **{f"slot_{s}": nan for s in SLOTS}}
    return {
        "fact_accuracy": 100.0 * all_right / rows,
        "slot_accuracy": 100.0 * sum(per_slot.values()) / (rows * len(SLOTS)),
        "parse_rate": 100.0 * parsed / rows,
        "fact_rows": float(rows),
        **{f"slot_{s}": 100.0 * per_slot[s] / rows for s in SLOTS},
    }
