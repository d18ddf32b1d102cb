"""Tests of accuracy, exact_match, token_accuracy and vqa_accuracy with hand-worked values."""
from __future__ import annotations

import pytest

from polymodal.errors import DataError
from polymodal_plugin_metrics.matching import (accuracy, exact_match, token_accuracy, vqa_accuracy,
                                               vqa_normalize)


def test_accuracy_normalises_case_and_spaces_but_not_punctuation():
    # "A  Cat " == "a cat" after normalisation; "dog" != "Dog." because punctuation is kept.
    assert accuracy(["A  Cat ", "dog"], ["a cat", "Dog."]) == {"accuracy": 50.0}


def test_accuracy_without_normalisation_compares_values():
    assert accuracy(["a cat"], ["A cat"], normalize=False)["accuracy"] == 0.0
    assert accuracy([1, 2], [1, 3], normalize=False)["accuracy"] == 50.0
    assert accuracy([1], ["1"], normalize=False)["accuracy"] == 0.0
    assert accuracy([1], ["1"])["accuracy"] == 100.0


def test_accuracy_multi_reference_matches_any():
    result = accuracy(["hound", "cat", "fox"], [["wolf", "Hound"], ("dog", "cat"), ["wolf", "dog"]])
    assert result["accuracy"] == pytest.approx(200.0 / 3)


def test_accuracy_counts_missing_prediction_as_wrong():
    assert accuracy([None, "x"], ["x", "x"])["accuracy"] == 50.0


def test_exact_match_strips_punctuation_keeps_articles():
    assert exact_match(["U.S.A!", "the cat", "Don't  stop"], ["usa", "cat", "dont stop"]) == {
        "exact_match": pytest.approx(200.0 / 3)}


def test_token_accuracy_is_corpus_level_over_reference_tokens():
    # Row 1: a,b,d right of 4 reference tokens (the extra "e" is ignored); row 2: 1 of 2.
    # Corpus: 4 / 6, not the mean of 75% and 50%.
    result = token_accuracy(["a b x d e", "a"], ["a b c d", "a b"])
    assert result["token_accuracy"] == pytest.approx(100.0 * 4 / 6)


def test_token_accuracy_multi_reference_uses_best_rate_and_case():
    # Against "x y z" the rate is 0; against "A B" it is 2/2, which is chosen (2 tokens in the denominator).
    result = token_accuracy(["a b q"], [["x y z", "A B"]])
    assert result["token_accuracy"] == 100.0
    assert token_accuracy(["a b"], ["A B"], normalize=False)["token_accuracy"] == 0.0


def test_token_accuracy_rejects_references_without_tokens():
    with pytest.raises(DataError, match="no tokens"):
        token_accuracy(["a"], ["   "])


@pytest.mark.parametrize("raw, expected", [
    ("Two.", "2"), ("the dog", "dog"), ("1,000", "1000"), ("3.5", "3.5"), ("don't", "dont"),
    ("t-shirt", "t shirt"), ("  An Apple ", "apple"), ("none", "0"),
])
def test_vqa_normalize(raw, expected):
    assert vqa_normalize(raw) == expected


def test_vqa_accuracy_leave_one_out_matches_official_rule():
    three = ["2"] * 3 + ["3"] * 7
    two = ["2"] * 2 + ["3"] * 8
    # 3 of 10 agree: leaving out one of the 3 leaves 2/3 (3 subsets), otherwise 1 (7 subsets) -> 0.9.
    assert vqa_accuracy(["two"], [three])["vqa_accuracy"] == pytest.approx(90.0)
    # 2 of 10: (2 * 1/3 + 8 * 2/3) / 10 = 0.6.
    assert vqa_accuracy(["2"], [two])["vqa_accuracy"] == pytest.approx(60.0)
    assert vqa_accuracy(["2"], [["2"] * 4 + ["3"] * 6])["vqa_accuracy"] == pytest.approx(100.0)
    assert vqa_accuracy(["5"], [three])["vqa_accuracy"] == 0.0


def test_vqa_accuracy_plain_rule_and_corpus_mean():
    three = ["2"] * 3 + ["3"] * 7
    two = ["2"] * 2 + ["3"] * 8
    result = vqa_accuracy(["2", "2"], [three, two], leave_one_out=False)
    assert result["vqa_accuracy"] == pytest.approx(100.0 * (1.0 + 2.0 / 3.0) / 2)


def test_vqa_accuracy_single_answer_and_confidence_mapping():
    assert vqa_accuracy(["Yes", "no"], ["yes", ["yes"]])["vqa_accuracy"] == 50.0
    # Mapping answer -> confidence (OFASys ref_dict): "no" scores 0.3, an unlisted answer 0, "yes" 1.
    refs = [{"yes": 1.0, "no": 0.3}] * 3
    assert vqa_accuracy(["no", "maybe", "yes"], refs)["vqa_accuracy"] == pytest.approx(100.0 * 1.3 / 3)


def test_vqa_accuracy_rejects_bad_confidences():
    with pytest.raises(DataError, match="not a number") as info:
        vqa_accuracy(["a", "b"], [{"a": 1.0}, {"b": "high"}])
    assert info.value.row == 1
    with pytest.raises(DataError, match="empty"):
        vqa_accuracy(["a"], [{}])
