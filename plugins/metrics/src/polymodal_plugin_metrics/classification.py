"""Label-level evaluators for classification tasks: Matthews correlation and F1 (scikit-learn).

Generated answers are labels written as text, so both sides are compared as normalised text (lower-case,
trimmed, single spaces) unless ``normalize=False``. A row with several acceptable references takes, as its
true label, the reference the prediction matched, or the first reference when it matched none: a correct
prediction is always credited, and a wrong one is charged against a fixed class.

Usage::

    from polymodal_plugin_metrics.classification import f1, mcc
    mcc(["yes", "no", "yes"], ["yes", "no", "no"])        # {"mcc": 50.0}
    f1(["yes", "no"], ["yes", "yes"], average="binary", positive="yes")
"""
from __future__ import annotations

from typing import Any, Sequence

from polymodal.errors import PlanError

from ._inputs import alternatives, as_text, check_choice, check_pair, normalize_text

__all__ = ["mcc", "f1", "F1_AVERAGES"]

#: Values of ``f1``'s ``average`` option.
F1_AVERAGES = ("binary", "macro", "micro", "weighted")


def _label_pairs(name: str, predictions: Sequence[Any], references: Sequence[Any], normalize: bool
                 ) -> tuple[list[str], list[str]]:
    preds, refs = check_pair(name, predictions, references)
    canon = normalize_text if normalize else as_text
    y_true: list[str] = []
    y_pred: list[str] = []
    for row, (pred, ref) in enumerate(zip(preds, refs)):
        label = canon(pred)
        options = [canon(alt) for alt in alternatives(name, ref, row)]
        y_true.append(label if label in options else options[0])
        y_pred.append(label)
    return y_true, y_pred


def mcc(predictions: Sequence[Any], references: Sequence[Any], *, normalize: bool = True
        ) -> dict[str, float]:
    """Matthews correlation coefficient between predicted and reference labels, x100.

    Uses ``sklearn.metrics.matthews_corrcoef`` (its multi-class generalisation when there are more than
    two labels; a prediction outside the reference labels is a class of its own). A corpus where either
    side has a single label scores 0, as scikit-learn defines it.

    Args:
        predictions: one label per row.
        references: per row, the label or a list/tuple of acceptable labels.
        normalize: compare labels as lower-cased, trimmed text.

    Returns:
        ``{"mcc": value in [-100, 100]}``.

    Raises:
        DataError: empty input, mismatched lengths, or a row without references.
    """
    from sklearn.metrics import matthews_corrcoef

    y_true, y_pred = _label_pairs("mcc", predictions, references, normalize)
    return {"mcc": 100.0 * float(matthews_corrcoef(y_true, y_pred))}


def _binary_f1(y_true: list[str], y_pred: list[str], positive: str) -> float:
    # Computed directly rather than with scikit-learn's average="binary", which refuses a third label, and
    # generated text can always produce one.
    tp = sum(1 for t, p in zip(y_true, y_pred) if p == positive and t == positive)
    fp = sum(1 for t, p in zip(y_true, y_pred) if p == positive and t != positive)
    fn = sum(1 for t, p in zip(y_true, y_pred) if p != positive and t == positive)
    return 2.0 * tp / (2 * tp + fp + fn) if tp else 0.0


def f1(predictions: Sequence[Any], references: Sequence[Any], *, average: str = "macro",
       positive: Any = None, normalize: bool = True) -> dict[str, float]:
    """F1 score over labels, x100.

    ``average="binary"`` is the F1 of the ``positive`` class (MRPC, QQP). The other averages use
    ``sklearn.metrics.f1_score`` restricted to the labels that occur in the references: a prediction
    outside them is a miss for its row's true class but does not add a class of its own (which would
    otherwise drag a macro average down by a zero for every distinct malformed answer).

    Args:
        predictions: one label per row.
        references: per row, the label or a list/tuple of acceptable labels.
        average: ``"binary"``, ``"macro"`` (default), ``"micro"`` or ``"weighted"``.
        positive: the positive label for ``"binary"``; may be left out when the labels are ``0``/``1``.
        normalize: compare labels as lower-cased, trimmed text (also applied to ``positive``).

    Returns:
        ``{"f1": percent}``.

    Raises:
        DataError: empty input, mismatched lengths, or a row without references.
        PlanError: an unknown ``average``, or ``"binary"`` without a ``positive`` label.
    """
    check_choice("f1", "average", average, F1_AVERAGES)
    y_true, y_pred = _label_pairs("f1", predictions, references, normalize)
    if average == "binary":
        if positive is None:
            if not set(y_true) <= {"0", "1"}:
                raise PlanError("f1: average='binary' needs the option positive=<label> (the reference "
                                f"labels are {sorted(set(y_true))[:5]})")
            positive = "1"
        label = normalize_text(positive) if normalize else as_text(positive)
        return {"f1": 100.0 * _binary_f1(y_true, y_pred, label)}

    from sklearn.metrics import f1_score

    labels = sorted(set(y_true))
    score = f1_score(y_true, y_pred, labels=labels, average=average, zero_division=0)
    return {"f1": 100.0 * float(score)}
