"""Hand cases for the table-to-text metrics."""
from __future__ import annotations

import pytest

from polymodal.testing.contracts import EvaluatorContract

from polymodal_task_table_to_text.evaluate import bleu, slot_recall

GOLD = {"triples": [["Alice Moreno", "occupation", "baker"], ["Alice Moreno", "birth year", "1984"],
                    ["[TABLECONTEXT]", "[TITLE]", "Bakers"]],
        "texts": ["Alice Moreno is a baker born in 1984.", "Alice Moreno, born in 1984, bakes bread."]}


def test_slot_recall_counts_whole_phrases():
    # slots: "alice moreno", "baker", "1984", "bakers" ([TABLECONTEXT] is a placeholder)
    scores = slot_recall(["alice moreno is a BAKER."], [GOLD])
    assert scores["slot_recall"] == 50.0
    assert slot_recall(["Alice Morenos bakers 19845"], [GOLD])["slot_recall"] == 25.0


def test_hallucination_flags_unsupported_words():
    preds = ["Alice Moreno is a baker born in 1984.", "Alice Moreno is a pilot born in 1990."]
    scores = slot_recall(preds, [GOLD, GOLD])
    assert scores["hallucination"] == 50.0
    assert scores["unsupported_words"] == pytest.approx(100 * 2 / 16)


def test_slot_metrics_need_triples():
    with pytest.raises(ValueError, match="triples"):
        slot_recall(["x"], ["a reference"])


def test_bleu_uses_all_references_and_accepts_plain_strings():
    perfect = bleu([GOLD["texts"][1]], [GOLD])["bleu"]
    assert perfect == pytest.approx(100.0)
    assert bleu(["Alice Moreno is a baker born in 1984."], ["Alice Moreno is a baker born in 1984."])["bleu"] == \
        pytest.approx(100.0)
    mixed = bleu(["Alice Moreno is a baker.", "Bo was born in 1950."],
                 [GOLD, {"triples": [], "texts": ["Bo was born in 1950."]}])
    assert 0 < mixed["bleu"] < 100
    with pytest.raises(ValueError, match="no predictions"):
        bleu([], [])
    with pytest.raises(ValueError, match="2 predictions for 1"):
        bleu(["a", "b"], [GOLD])


class TestBleuContract(EvaluatorContract):
    name = "table_to_text.bleu"
    perfect = ([GOLD["texts"][0]], [GOLD])
    poor = (["The occupation of Alice Moreno is baker."], [GOLD])


class TestSlotRecallContract(EvaluatorContract):
    name = "table_to_text.slot_recall"
    perfect = ([GOLD["texts"][0]], [GOLD])
    poor = (["Someone bakes."], [GOLD])
