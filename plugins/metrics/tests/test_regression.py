"""Tests of pearson_spearman: hand-worked correlations and the unparsable-prediction rule."""
from __future__ import annotations

import statistics

import pytest

from polymodal.errors import DataError
from polymodal_plugin_metrics.regression import pearson_spearman


def test_hand_computed_correlations():
    # Deviations x = (-1, 0, 1), y = (-1, 1, 0): covariance 1, variances 2 and 2 -> r = 0.5; ranks equal values.
    result = pearson_spearman(["1", "2", "3"], [1, 3, 2])
    assert result["pearson"] == pytest.approx(50.0)
    assert result["spearman"] == pytest.approx(50.0)
    assert result["corr"] == pytest.approx(50.0)
    assert result["unparsable"] == 0.0


def test_monotone_but_not_linear():
    result = pearson_spearman([1, 2, 3, 4], [1, 2, 3, 10])
    assert result["spearman"] == pytest.approx(100.0)
    assert result["pearson"] == pytest.approx(100.0 * statistics.correlation([1, 2, 3, 4], [1, 2, 3, 10]))
    assert result["corr"] == pytest.approx((result["pearson"] + result["spearman"]) / 2)


def test_unparsable_predictions_are_imputed_with_the_parsed_mean():
    preds = [" 1.0", "oops", "3", "5", float("nan")]
    refs = [1, 10, 3, 5, 2]
    result = pearson_spearman(preds, refs)
    assert result["unparsable"] == 2.0
    fill = (1.0 + 3.0 + 5.0) / 3
    expected = statistics.correlation([1.0, fill, 3.0, 5.0, fill], [1, 10, 3, 5, 2])
    assert result["pearson"] == pytest.approx(100.0 * expected)


def test_multi_reference_scores_are_averaged():
    # Gold values (2, 4, 6) from annotator means are perfectly linear in the predictions.
    assert pearson_spearman([1, 2, 3], [[1, 3], 4, ("5", 7)])["pearson"] == pytest.approx(100.0)


def test_constant_predictions_score_zero():
    result = pearson_spearman(["2", "2", "2"], [1, 2, 3])
    assert result == {"pearson": 0.0, "spearman": 0.0, "corr": 0.0, "unparsable": 0.0}


def test_errors():
    with pytest.raises(DataError, match="at least 2"):
        pearson_spearman(["1"], [1])
    with pytest.raises(DataError, match="not a finite number") as info:
        pearson_spearman(["1", "2"], [1, "high"])
    assert info.value.row == 1
