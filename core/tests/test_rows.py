from __future__ import annotations

import random

import numpy as np
import pytest

from polymodal.components import EvaluatorSpec, TaskSpec
from polymodal.engine.rows import RowEncoder
from polymodal.errors import DataError
from polymodal.planning.planner import compile_instruction
from polymodal.testing.run import build_context, run_task
from polymodal.vocab import BOS, EOS

GLUE = 'is " [TEXT:s] " positive? -> is " [TEXT:s,no_loss] " positive? [TEXT:label,closed_set]'


def encoder_for(registry, instruction, rows, closed=None):
    plan = compile_instruction(instruction, registry)
    return RowEncoder(plan, registry, build_context(plan, registry, rows), closed, task="t")


def test_forced_prefix_is_unscored_and_label_constrained(registry):
    rows = [{"s": "the red circle", "label": "positive"}]
    enc = encoder_for(registry, GLUE, rows, {"label": ["positive", "negative"]})
    ex = enc.encode(rows[0], train=True)
    assert ex.encoder_tokens[0] == BOS and ex.encoder_tokens[-1] == EOS
    assert ex.target[-1] == EOS and ex.decoder_input[0] == BOS and len(ex.decoder_input) == len(ex.target)
    # forced: 'is " the red circle " positive?' then the label then EOS
    assert ex.loss_weight.tolist() == [0.0] * (len(ex.target) - 2) + [1.0, 1.0]
    label_pos = len(ex.target) - 2
    assert ex.allowed[label_pos].sum() == 2  # "positive" or "negative" first tokens
    assert enc.decode([enc.columns.column(t) for t in ex.target], ex.machine) == {"label": "positive"}


def test_errors_name_task_row_and_column(registry):
    rows = [{"s": "the red circle", "label": "positive"}]
    enc = encoder_for(registry, GLUE, rows, {"label": ["positive", "negative"]})
    with pytest.raises(DataError) as info:
        enc.encode({"label": "positive"}, train=True, index=7)
    assert (info.value.task, info.value.row, info.value.column) == ("t", 7, "s")
    with pytest.raises(DataError, match="closed set") as info:
        enc.encode({"s": "a square", "label": "maybe"}, train=True, index=2)
    assert info.value.column == "label"
    with pytest.raises(DataError, match="empty"):
        enc.encode({"s": "  ", "label": "positive"}, train=True, index=3)
    # inference needs no target
    assert enc.encode({"s": "a square"}, train=False).target is None


def test_loop_round_trip(registry):
    rows = [{"doc": "the red circle", "s": [[1, 2, 3, 4], [5, 6, 7, 8]], "label": ["red circle", "blue"]}]
    enc = encoder_for(registry, "[TEXT:doc] -> ( [SPAN:s] [TEXT:label] )*", rows)
    ex = enc.encode(rows[0], train=True)
    out = enc.decode([enc.columns.column(t) for t in ex.target], ex.machine)
    assert out == {"s": [[1, 2, 3, 4], [5, 6, 7, 8]], "label": ["red circle", "blue"]}
    with pytest.raises(DataError, match="different lengths"):
        enc.encode({"doc": "x", "s": [[1, 2, 3, 4]], "label": ["a", "b"]}, train=True)


def exact(predictions, references):
    return {"exact": 100.0 * np.mean([p == r for p, r in zip(predictions, references)])}


def test_run_task_scores_round_trip(registry):
    registry.register(EvaluatorSpec("exact", "test_rows:exact", primary="exact"))
    import sys
    sys.modules.setdefault("test_rows", sys.modules[__name__])
    spec = TaskSpec("toy_sentiment", (GLUE,), evaluators=("exact",), primary_metric="exact.exact")
    rows = [{"s": "the red circle", "label": "positive"}, {"s": "a blue square", "label": "negative"}]
    run = run_task(spec, rows, registry=registry)
    assert run.metrics["exact"]["exact"] == 100.0
    assert [d["label"] for d in run.decoded] == ["positive", "negative"]


def test_tokenizer_texts_include_integers_as_digits():
    from polymodal.testing.run import texts_of

    rows = [{"grid": [[5, 0], [3, 7]], "flag": True, "name": "ada", "score": 2.5}]
    texts = sorted(texts_of(rows))
    # integers reach the text space linearised (a Sudoku grid, a table cell); booleans and floats are not text
    assert texts == ["0", "3", "5", "7", "ada"]


def test_the_tokenizer_is_fitted_on_its_modalities_columns_only(registry):
    from polymodal.testing.run import fit_texts

    plan = compile_instruction("[TEXT:s] where is it? -> [SPAN:region]", registry)
    rows = [{"s": "the red circle", "region": [1, 2, 3, 4], "img": "/data/scenes/0001.png"}, {"img": "x.png"}]
    # the SPAN column and the unbound path column would teach the tokenizer digits and folder names
    assert fit_texts([plan], rows, registry, "text.tokenizer") == ["the red circle", "where is it?"]
