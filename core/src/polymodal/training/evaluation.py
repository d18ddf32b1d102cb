"""Corpus-level evaluation of a task: generate for every row, gather, then score once."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from polymodal.errors import DataError

__all__ = ["evaluate_task", "score"]


def score(registry: Any, evaluators: Sequence[Any], predictions: Sequence[Any],
          references: Sequence[Any]) -> dict[str, dict[str, float]]:
    """Run each evaluator over the whole split (never averaged per batch)."""
    out: dict[str, dict[str, float]] = {}
    for ev in evaluators:
        name, options = (ev, {}) if isinstance(ev, str) else (ev[0], dict(ev[1]) if len(ev) > 1 else {})
        fn = registry.get("evaluator", name).load()
        out[name] = {k: float(v) for k, v in fn(predictions, references, **options).items()}
    return out


def evaluate_task(model: Any, name: str, rows: Sequence[Mapping[str, Any]], *, batch_size: int = 32,
                  **generation: Any) -> tuple[dict[str, dict[str, float]], list[Any]]:
    """Generate for ``rows`` with the task's first instruction and score the predictions.

    Returns:
        ``(metrics, predictions)``: metrics per evaluator; predictions are the values of the first predicted column,
        scored against the task's ``references`` column (default: that same column).
    """
    record = model.tasks[name]
    enc = model.task_encoder(name)
    pred_col = (enc.plan.target_columns() or [None])[0]
    if pred_col is None:
        raise DataError("the task predicts no column, so it cannot be evaluated", task=name)
    ref_col = record.references or pred_col
    missing = [i for i, r in enumerate(rows) if ref_col not in r]
    if missing:
        raise DataError(f"missing reference column (row {missing[0]} and {len(missing) - 1} more)", task=name,
                        column=ref_col)
    gen = {**record.generation, **generation}
    outputs = model.generate_rows(enc, rows, batch_size=batch_size, **gen)
    predictions = [o.values.get(pred_col) for o in outputs]
    references = [r[ref_col] for r in rows]
    return score(model.registry, record.evaluators, predictions, references), predictions
