"""Correlation between numeric predictions and references (STS-B style), with SciPy.

A text model writes its score as text, so a prediction may not parse as a number. Such a row is neither
dropped (a model could then abstain on the hard rows and look better) nor given a reference-derived value
(that would leak the answer). It is **imputed with the mean of the predictions that did parse**: a value
that adds nothing to the covariance, so each unparsable row dilutes the correlation in proportion to the
reference variance it fails to explain. Their number is reported as ``"unparsable"``.

Usage::

    from polymodal_plugin_metrics.regression import pearson_spearman
    pearson_spearman(["1.0", "2", "oops", "4.5"], [1, 2, 3, [4, 5]])
"""
from __future__ import annotations

import warnings
from typing import Any, Sequence

from polymodal.errors import DataError

from ._inputs import alternatives, check_pair, parse_float

__all__ = ["pearson_spearman"]


def _reference_value(name: str, reference: Any, row: int) -> float:
    values = []
    for alt in alternatives(name, reference, row):
        value = parse_float(alt)
        if value is None:
            raise DataError(f"{name}: reference {alt!r} is not a finite number", row=row)
        values.append(value)
    # Several references are several annotators' scores of one pair; their mean is the gold score.
    return sum(values) / len(values)


def _correlation(fn: Any, x: list[float], y: list[float]) -> float:
    # A constant side makes both correlations undefined (SciPy warns and returns NaN). Reporting 0 keeps
    # checkpoint selection and plots working, and a constant predictor deserves no credit.
    if len(set(x)) < 2 or len(set(y)) < 2:
        return 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = float(fn(x, y).statistic)
    return 0.0 if value != value else value


def pearson_spearman(predictions: Sequence[Any], references: Sequence[Any]) -> dict[str, float]:
    """Pearson and Spearman correlations (x100) between parsed predictions and references.

    Args:
        predictions: numbers, or text that is a number once trimmed (``" 3.8"``). Anything else is
            unparsable and imputed as described in the module documentation.
        references: per row, a number (or numeric text), or a list/tuple of annotator scores whose mean
            is the gold value.

    Returns:
        ``{"pearson", "spearman", "corr": their mean, "unparsable": count of unparsable predictions}``;
        correlations are in [-100, 100] and are 0 when either side is constant.

    Raises:
        DataError: empty input, mismatched lengths, fewer than two rows, or a reference that is not a
            number.
    """
    from scipy.stats import pearsonr, spearmanr

    name = "pearson_spearman"
    preds, refs = check_pair(name, predictions, references)
    if len(preds) < 2:
        raise DataError(f"{name}: a correlation needs at least 2 rows, got {len(preds)}")
    gold = [_reference_value(name, ref, row) for row, ref in enumerate(refs)]
    parsed = [parse_float(pred) for pred in preds]
    valid = [value for value in parsed if value is not None]
    fill = sum(valid) / len(valid) if valid else 0.0
    values = [fill if value is None else value for value in parsed]
    pearson = 100.0 * _correlation(pearsonr, values, gold)
    spearman = 100.0 * _correlation(spearmanr, values, gold)
    return {"pearson": pearson, "spearman": spearman, "corr": (pearson + spearman) / 2.0,
            "unparsable": float(len(parsed) - len(valid))}
