"""Contract tests of the pack: entry points, import lightness, and behaviour shared by every evaluator."""
from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points

import pytest

from polymodal.components import EvaluatorSpec
from polymodal.errors import DataError
from polymodal_plugin_metrics import spec

BOX = (0, 0, 10, 10)
OTHER = (50, 50, 60, 60)

#: Per evaluator: references, a perfect prediction list and a poor one.
CASES: dict[str, tuple[list, list, list]] = {
    "accuracy": (["a", ["b", "c"]], ["a", "c"], ["x", "a"]),
    "exact_match": (["a b", "c"], ["A, b", "c!"], ["x", "y"]),
    "token_accuracy": (["a b c", "d e"], ["a b c", "d e"], ["a x c", "e d"]),
    "vqa_accuracy": ([["2"] * 10, "yes"], ["two", "yes"], ["3", "no"]),
    "mcc": (["yes", "no", "yes", "no"], ["yes", "no", "yes", "no"], ["yes", "yes", "no", "no"]),
    "f1": (["yes", "no", "yes", "no"], ["yes", "no", "yes", "no"], ["no", "no", "no", "yes"]),
    "pearson_spearman": ([1, 2, 3, 4], ["1", "2", "3", "4"], ["4", "1", "3", "2"]),
    "rouge": (["the cat sat", "a dog ran"], ["the cat sat", "a dog ran"], ["the cat", "a bird flew"]),
    "bleu": (["the cat sat on the mat", "a dog ran far away"], ["the cat sat on the mat", "a dog ran far away"],
             ["the cat", "a dog walked"]),
    "cider": ([["a red circle", "red circle"], ["a blue square"], ["a green star"]],
              ["a red circle", "a blue square", "a green star"],
              ["a blue square", "a green star", "a red circle"]),
    "iou_accuracy": ([BOX, [OTHER, BOX]], [BOX, BOX], [OTHER, (0, 0, 1, 1)]),
    "detection_map": ([[(BOX, "cat")], [(OTHER, "dog")]], [[(BOX, "cat", 0.9)], [(OTHER, "dog", 0.8)]],
                      [[(OTHER, "cat", 0.9)], [(BOX, "dog", 0.8)]]),
    "wer": (["the cat sat", "hello world"], ["the cat sat", "hello world"], ["a cat", "hello there world"]),
    "cer": (["abc", "de"], ["abc", "de"], ["abd", "d"]),
}


def _installed_specs() -> dict[str, object]:
    found = {}
    for ep in entry_points(group="polymodal.evaluators"):
        if ep.dist is not None and ep.dist.name == "polymodal-plugin-metrics":
            found[ep.name] = ep.load()
    return found


def test_entry_points_expose_every_spec():
    installed = _installed_specs()
    assert set(installed) == {s.name for s in spec.EVALUATORS}
    for name, obj in installed.items():
        assert isinstance(obj, EvaluatorSpec)
        assert obj is next(s for s in spec.EVALUATORS if s.name == name)


def test_every_spec_has_a_test_case():
    assert set(CASES) == {s.name for s in spec.EVALUATORS}


def test_importing_the_spec_stays_light():
    code = ("import sys, json, polymodal_plugin_metrics.spec as s; "
            "heavy = ['torch', 'numpy', 'sacrebleu', 'scipy', 'sklearn', 'rouge_score', 'jiwer']; "
            "print(json.dumps([m for m in heavy if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert json.loads(out.strip().splitlines()[-1]) == []


@pytest.mark.parametrize("evaluator", spec.EVALUATORS, ids=lambda s: s.name)
def test_primary_key_and_direction(evaluator):
    fn = evaluator.load()
    refs, good, bad = CASES[evaluator.name]
    good_scores = fn(good, refs)
    bad_scores = fn(bad, refs)
    assert evaluator.primary in good_scores
    assert all(isinstance(value, float) for value in good_scores.values())
    better, worse = good_scores[evaluator.primary], bad_scores[evaluator.primary]
    if evaluator.higher_is_better:
        assert better > worse
    else:
        assert better < worse


@pytest.mark.parametrize("evaluator", spec.EVALUATORS, ids=lambda s: s.name)
def test_empty_input_is_a_data_error(evaluator):
    with pytest.raises(DataError, match="no predictions"):
        evaluator.load()([], [])


@pytest.mark.parametrize("evaluator", spec.EVALUATORS, ids=lambda s: s.name)
def test_length_mismatch_names_both_lengths(evaluator):
    refs, good, _ = CASES[evaluator.name]
    with pytest.raises(DataError, match=rf"{len(good)} predictions but {len(refs) + 1} references"):
        evaluator.load()(good, refs + refs[:1])


@pytest.mark.parametrize("evaluator", spec.EVALUATORS, ids=lambda s: s.name)
def test_inputs_are_not_mutated_and_any_sequence_works(evaluator):
    refs, good, _ = CASES[evaluator.name]
    before = json.dumps([refs, good], default=str)
    from_lists = evaluator.load()(good, refs)
    from_tuples = evaluator.load()(tuple(good), tuple(refs))
    assert from_lists == from_tuples
    assert json.dumps([refs, good], default=str) == before
