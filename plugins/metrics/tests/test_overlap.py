"""Tests of rouge (rouge-score) and bleu (sacreBLEU) with hand-worked values."""
from __future__ import annotations

import math

import pytest

from polymodal.errors import PlanError
from polymodal_plugin_metrics.overlap import bleu, rouge


def test_rouge_hand_computed():
    # Unigrams: P=3/3, R=3/4 -> F=6/7. Bigrams: 2 of 2 predicted, 2 of 3 reference -> F=0.8. LCS=3 -> 6/7.
    result = rouge(["the cat sat"], ["the cat sat down"])
    assert result["rouge1"] == pytest.approx(100.0 * 6 / 7)
    assert result["rouge2"] == pytest.approx(80.0)
    assert result["rougeL"] == pytest.approx(100.0 * 6 / 7)


def test_rouge_multi_reference_takes_the_best_reference_per_type():
    # "cat sat the": rouge1 F=1, rouge2 F=1/2 (only "cat sat"), rougeL F=2/3 (LCS "cat sat").
    # The first reference wins rouge2 (0.8) and rougeL (6/7); the second wins rouge1.
    result = rouge(["the cat sat"], [["the cat sat down", "cat sat the"]])
    assert result["rouge1"] == pytest.approx(100.0)
    assert result["rouge2"] == pytest.approx(80.0)
    assert result["rougeL"] == pytest.approx(100.0 * 6 / 7)


def test_rouge_stemmer_and_corpus_mean():
    assert rouge(["cats running"], ["cat run"])["rouge1"] == pytest.approx(100.0)
    assert rouge(["cats running"], ["cat run"], use_stemmer=False)["rouge1"] == 0.0
    result = rouge(["a b c", "x y"], ["a b c", "p q"])
    assert result["rouge1"] == pytest.approx(50.0)


def test_bleu_identical_and_brevity_penalty():
    assert bleu(["the cat sat on the mat"], ["the cat sat on the mat"])["bleu"] == pytest.approx(100.0)
    # Every n-gram precision is 1; hypothesis 4 tokens vs reference 6: BP = exp(1 - 6/4).
    assert bleu(["a b c d"], ["a b c d e f"])["bleu"] == pytest.approx(100.0 * math.exp(-0.5))


def test_bleu_is_computed_from_corpus_statistics():
    # Corpus counts: 1-grams 8/12, 2-grams 7/10, 3-grams 6/8, 4-grams 5/6; lengths 12 vs 12 (BP = 1).
    preds = ["a b c d e f g h", "w x y z"]
    refs = ["a b c d e f g h", "a b c d"]
    expected = 100.0 * (8 / 12 * 7 / 10 * 6 / 8 * 5 / 6) ** 0.25
    assert bleu(preds, refs)["bleu"] == pytest.approx(expected)


def test_bleu_variable_number_of_references():
    preds = ["the cat sat on the mat", "a dog runs"]
    refs = [["there is a cat", "the cat sat on the mat"], "a dog runs"]
    assert bleu(preds, refs)["bleu"] == pytest.approx(100.0)
    # With two matching references on row 1 only, the padded None must not shorten the closest length.
    assert bleu(preds, [("x y", "the cat sat on the mat"), ["a dog runs"]])["bleu"] == pytest.approx(100.0)


def test_bleu_lowercase_option():
    assert bleu(["The Cat Sat Down"], ["the cat sat down"])["bleu"] < 50.0
    assert bleu(["The Cat Sat Down"], ["the cat sat down"], lowercase=True)["bleu"] == pytest.approx(100.0)


def test_bleu_rejects_unknown_options():
    with pytest.raises(PlanError, match="tokenize"):
        bleu(["a"], ["a"], tokenize="moses")
    with pytest.raises(PlanError, match="smooth_method"):
        bleu(["a"], ["a"], smooth_method="laplace")
