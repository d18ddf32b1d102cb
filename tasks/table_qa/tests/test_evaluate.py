"""Hand cases for denotation accuracy."""
from __future__ import annotations

import pytest

from polymodal.testing.contracts import EvaluatorContract

from polymodal_task_table_qa.evaluate import denotation_accuracy, normalize_answer


@pytest.mark.parametrize("pred, ref, same", [
    ("The 7.0.", "7", True),
    ("answer: 7", "7", False),
    ("17", "7", False),
    ("1,000", "1000", True),
    ("07", "7", True),
    ("3.50", "3.5", True),
    ("Orange Lynx", "orange lynx", True),
    ("the Orange Lynx!", "Orange Lynx", True),
    ("Orange", "Orange Lynx", False),
    ("5.1", "5", False),
])
def test_normalisation(pred, ref, same):
    assert (normalize_answer(pred) == normalize_answer(ref)) is same


def test_corpus_score_and_multiple_references():
    preds = ["7", "Ada", "no", "3"]
    refs = ["7.0", ["Ben", "ada"], "yes", "4"]
    assert denotation_accuracy(preds, refs) == {"denotation_accuracy": 50.0}
    with pytest.raises(ValueError, match="no predictions"):
        denotation_accuracy([], [])
    with pytest.raises(ValueError, match="1 predictions for 2"):
        denotation_accuracy(["a"], ["a", "b"])


class TestDenotationAccuracyContract(EvaluatorContract):
    name = "table_qa.denotation_accuracy"
    perfect = (["7", "Ada"], ["7.0", "ada"])
    poor = (["8", "Ben"], ["7.0", "ada"])
