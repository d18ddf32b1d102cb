"""Tests of mcc and f1 with hand-worked confusion matrices."""
from __future__ import annotations

import pytest

from polymodal.errors import PlanError
from polymodal_plugin_metrics.classification import f1, mcc


def test_mcc_hand_computed():
    # TP=1 (yes/yes), TN=1, FP=1 (yes for no), FN=0: (1*1 - 1*0) / sqrt(2*1*2*1) = 0.5.
    assert mcc(["yes", "no", "yes"], ["yes", "no", "no"])["mcc"] == pytest.approx(50.0)


def test_mcc_extremes_and_normalisation():
    assert mcc(["Yes ", "NO"], ["yes", "no"])["mcc"] == pytest.approx(100.0)
    assert mcc(["no", "yes"], ["yes", "no"])["mcc"] == pytest.approx(-100.0)


def test_mcc_single_class_is_zero():
    assert mcc(["yes", "yes"], ["yes", "no"])["mcc"] == 0.0


def test_mcc_multi_reference_credits_a_matched_alternative():
    # Row 3 accepts "no" or "yes"; predicting "yes" is credited, so all rows are right.
    assert mcc(["yes", "no", "yes"], ["yes", "no", ["no", "yes"]])["mcc"] == pytest.approx(100.0)


def test_f1_binary_hand_computed():
    preds = ["yes", "yes", "no", "no", "yes", "maybe"]
    refs = ["yes", "no", "yes", "no", "yes", "yes"]
    # positive "yes": TP=2, FP=1, FN=2 (one "no", one malformed "maybe") -> 2*2 / (4 + 1 + 2).
    assert f1(preds, refs, average="binary", positive="Yes")["f1"] == pytest.approx(100.0 * 4 / 7)


def test_f1_binary_defaults_positive_for_zero_one_labels():
    assert f1([1, 0, 1], [1, 1, 1], average="binary")["f1"] == pytest.approx(100.0 * 4 / 5)
    with pytest.raises(PlanError, match="positive"):
        f1(["yes"], ["no"], average="binary")


def test_f1_macro_ignores_classes_only_in_predictions():
    # Class a: P=1, R=1/2 -> F=2/3; class b: P=1/2, R=1/2 -> F=1/2; the malformed answer adds no class.
    result = f1(["a", "b", "b", "garbage"], ["a", "a", "b", "b"])
    assert result["f1"] == pytest.approx(100.0 * (2 / 3 + 1 / 2) / 2)


def test_f1_micro_equals_accuracy_on_closed_labels():
    preds, refs = ["a", "b", "c", "a"], ["a", "b", "b", "c"]
    assert f1(preds, refs, average="micro")["f1"] == pytest.approx(50.0)


def test_f1_weighted_uses_reference_support():
    # Class a (support 3): TP=2, FN=1 -> F=4/5; class b (support 1): TP=1, FP=1 -> F=2/3.
    preds, refs = ["a", "a", "b", "b"], ["a", "a", "a", "b"]
    assert f1(preds, refs, average="weighted")["f1"] == pytest.approx(100.0 * (3 * 4 / 5 + 2 / 3) / 4)
    assert f1(preds, refs)["f1"] == pytest.approx(100.0 * (4 / 5 + 2 / 3) / 2)


def test_f1_rejects_unknown_average():
    with pytest.raises(PlanError, match="average"):
        f1(["a"], ["a"], average="samples")
