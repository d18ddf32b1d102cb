"""Tests of wer and cer: corpus-level edit counts with hand-worked alignments."""
from __future__ import annotations

import pytest

from polymodal.errors import DataError
from polymodal_plugin_metrics.error_rates import cer, normalize_transcript, wer


def test_wer_is_total_edits_over_total_reference_words():
    # Row 1: sat->sit (S) and "the" deleted (D): 2 edits / 6 words. Row 2: "big" inserted: 1 / 2.
    # Corpus: 3 / 8 = 37.5, not the mean of per-row rates (41.7).
    preds = ["the cat sit on mat", "hello big world"]
    refs = ["the cat sat on the mat", "hello world"]
    assert wer(preds, refs)["wer"] == pytest.approx(37.5)


def test_wer_normalisation():
    assert normalize_transcript("The CAT's, sat-down.") == "the cats sat down"
    assert wer(["the cat sat"], ["The CAT, sat."])["wer"] == 0.0
    # Without normalisation "The" and "CAT," and "sat." are three substitutions.
    assert wer(["the cat sat"], ["The CAT, sat."], normalize=False)["wer"] == pytest.approx(100.0)


def test_wer_multi_reference_uses_fewest_edits_and_its_length():
    # Against "a b c d" (1 deletion / 4) rather than "x y" (3 edits / 2).
    assert wer(["a b c"], [["x y", "a b c d"]])["wer"] == pytest.approx(25.0)


def test_wer_can_exceed_100_and_handles_missing_predictions():
    assert wer(["a b c d"], ["x"])["wer"] == pytest.approx(400.0)
    assert wer([None, "b"], ["a a", "b"])["wer"] == pytest.approx(100.0 * 2 / 3)


def test_cer_ignores_spaces():
    assert cer(["ab c"], ["abc"])["cer"] == 0.0
    # One substitution over 3 non-space characters in row 1, one deletion over 4 in row 2 -> 2 / 7.
    assert cer(["abd", "xy z"], ["abc", "xyzw"])["cer"] == pytest.approx(100.0 * 2 / 7)


def test_cer_normalisation_option():
    assert cer(["ABC"], ["abc"])["cer"] == 0.0
    assert cer(["ABC"], ["abc"], normalize=False)["cer"] == pytest.approx(100.0)


def test_references_without_units_are_rejected():
    with pytest.raises(DataError, match="no words"):
        wer(["a"], [" "])
    with pytest.raises(DataError, match="no characters"):
        cer(["a"], ["  ."])
