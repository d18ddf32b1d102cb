"""The task and evaluator specs, and the fact-accuracy evaluator."""
from __future__ import annotations

import math
import subprocess
import sys
from importlib.metadata import entry_points

import pytest

from polymodal.components import resolve_target
from polymodal.errors import DataError
from polymodal.instruction.grammar import parse
from polymodal.testing.contracts import EvaluatorContract, TaskContract
from polymodal_task_summarization.evaluate import fact_accuracy
from polymodal_task_summarization.task import FACT_ACCURACY, SUMMARIZATION


def test_entry_points_are_exposed():
    tasks = {ep.name: ep for ep in entry_points(group="polymodal.tasks")}
    assert tasks["summarization"].load() is SUMMARIZATION
    evaluators = {ep.name: ep for ep in entry_points(group="polymodal.evaluators")}
    assert evaluators["summarization.fact_accuracy"].load() is FACT_ACCURACY
    assert FACT_ACCURACY.load() is fact_accuracy
    assert "summarization.fact_accuracy" in SUMMARIZATION.evaluators and "gigaword" in SUMMARIZATION.aliases


def test_importing_the_spec_does_not_import_torch_or_numpy():
    code = "import sys, polymodal_task_summarization.task; print('torch' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_instruction_columns_match_toy_rows():
    syntax = parse(SUMMARIZATION.instructions[0])
    names = {s.name for s in syntax.encoder.slots() + syntax.decoder.slots()}
    rows = resolve_target(SUMMARIZATION.toy)(5, 0, "train")
    assert names == set(rows[0]) == {"src", "tgt"}
    for target in (SUMMARIZATION.loaders["text"], SUMMARIZATION.write_toy, SUMMARIZATION.baseline):
        assert callable(resolve_target(target))


def test_fact_accuracy_scores_slots():
    refs = ["alice sold 7 boxes at the market on tuesday", "bob found 12 coins at the river bank on monday"]
    perfect = fact_accuracy(refs, refs)
    assert perfect["fact_accuracy"] == 100.0 and perfect["slot_accuracy"] == 100.0
    one_wrong = fact_accuracy(["alice sold 8 boxes at the market on tuesday", "gibberish"], refs)
    assert one_wrong["fact_accuracy"] == 0.0
    assert one_wrong["parse_rate"] == 50.0
    assert one_wrong["slot_count"] == 0.0 and one_wrong["slot_who"] == 50.0
    assert one_wrong["slot_accuracy"] == pytest.approx(100.0 * 5 / 12)
    # a list of references uses its first templated one
    assert fact_accuracy([refs[0]], [["a headline", refs[0]]])["fact_accuracy"] == 100.0


def test_fact_accuracy_skips_real_references():
    scores = fact_accuracy(["x"], ["australian current account deficit narrows sharply"])
    assert scores["fact_rows"] == 0.0 and math.isnan(scores["fact_accuracy"])
    with pytest.raises(DataError, match="1 predictions but 0 references"):
        fact_accuracy(["a"], [])
    assert fact_accuracy([None], ["alice sold 7 boxes at the market on tuesday"])["parse_rate"] == 0.0


class TestFactAccuracyContract(EvaluatorContract):
    name = "summarization.fact_accuracy"
    perfect = (["alice sold 7 boxes at the market on tuesday"], ["alice sold 7 boxes at the market on tuesday"])
    poor = (["alice sold 9 boxes at the park on tuesday"], ["alice sold 7 boxes at the market on tuesday"])


class TestSummarizationContract(TaskContract):
    name = "summarization"
