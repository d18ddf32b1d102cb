"""Contract test bases for plugin authors.

Subclass one in your package's tests (the subclass name must start with ``Test``) and fill in the class
attributes; pytest then runs the inherited checks::

    class TestMyEvaluator(EvaluatorContract):
        name = "my_metric"
        perfect = (["a b"], ["a b"])
        poor = (["x"], ["a b"])
"""
from __future__ import annotations

import random
from typing import Any, ClassVar, Sequence

import pytest

from polymodal.errors import DataError
from polymodal.registry import default_registry

__all__ = ["AdapterContract", "EvaluatorContract", "PreprocessorContract", "TaskContract"]


class EvaluatorContract:
    """An evaluator: declared primary key, direction, corpus-level scores, clear errors."""

    name: ClassVar[str] = ""
    perfect: ClassVar[tuple[Sequence[Any], Sequence[Any]]] = ((), ())
    poor: ClassVar[tuple[Sequence[Any], Sequence[Any]]] = ((), ())

    def spec(self):
        return default_registry().get("evaluator", self.name)

    def test_primary_key_is_reported(self):
        spec = self.spec()
        assert spec.primary in spec.load()(*self.perfect)

    def test_perfect_beats_poor_in_the_declared_direction(self):
        spec = self.spec()
        fn = spec.load()
        good, bad = fn(*self.perfect)[spec.primary], fn(*self.poor)[spec.primary]
        assert (good > bad) if spec.higher_is_better else (good < bad)

    def test_empty_input_is_a_data_error(self):
        with pytest.raises(DataError):
            self.spec().load()([], [])


class PreprocessorContract:
    """A preprocessor through the planner: good values encode inside the vocabulary, bad ones are DataErrors,
    targets round-trip through the postprocessor."""

    instruction: ClassVar[str] = ""
    column: ClassVar[str] = ""
    good_values: ClassVar[Sequence[Any]] = ()
    bad_values: ClassVar[Sequence[Any]] = ()

    def _encoder(self, rows):
        from polymodal.engine.rows import RowEncoder
        from polymodal.planning.planner import compile_instruction
        from polymodal.testing.run import build_context, closed_sets_of

        plan = compile_instruction(self.instruction, default_registry())
        ctx = build_context(plan, default_registry(), rows)
        return RowEncoder(plan, default_registry(), ctx, closed_sets_of(None, plan, rows)), ctx

    def rows(self, value):
        raise NotImplementedError("return a full row holding `value` in `column`")

    def test_good_values_encode_inside_the_vocabulary(self):
        rows = [self.rows(v) for v in self.good_values]
        enc, ctx = self._encoder(rows)
        for i, row in enumerate(rows):
            ex = enc.encode(row, train=True, rng=random.Random(i), index=i)
            assert all(0 <= t < ctx.layout.size for t in ex.encoder_tokens)

    def test_bad_values_are_data_errors_naming_the_column(self):
        enc, _ = self._encoder([self.rows(v) for v in self.good_values])
        for value in self.bad_values:
            with pytest.raises(DataError) as info:
                enc.encode(self.rows(value), train=True, index=0)
            assert info.value.column == self.column


class TaskContract:
    """A task preset: its installed entry point and every target it names resolve, its spec imports no torch, its
    instruction plans, its toy rows run through the pipeline, and the round trip scores at least as well as the
    trivial baseline."""

    name: ClassVar[str] = ""
    n_rows: ClassVar[int] = 12

    def spec(self):
        return default_registry().task(self.name)

    def test_installed_spec_and_its_targets(self):
        from importlib.metadata import entry_points

        from polymodal.components import EvaluatorSpec, TaskSpec, resolve_target

        (entry,) = [ep for ep in entry_points(group="polymodal.tasks") if ep.name == self.name]
        spec = entry.load()
        assert isinstance(spec, TaskSpec) and spec.name == self.name
        for target in [*spec.loaders.values(), spec.toy, spec.write_toy, spec.baseline, spec.preprocess]:
            if target is not None:
                assert callable(resolve_target(target)), target
        evaluators = {}
        for ev in spec.evaluators:
            name = ev if isinstance(ev, str) else ev[0]
            evaluators[name] = default_registry().get("evaluator", name)
            assert isinstance(evaluators[name], EvaluatorSpec) and callable(evaluators[name].load())
        evaluator, _, key = spec.primary_metric.rpartition(".")
        assert evaluators[evaluator].primary == key

    def test_spec_import_is_light(self):
        import subprocess
        import sys
        from importlib.metadata import entry_points

        (entry,) = [ep for ep in entry_points(group="polymodal.tasks") if ep.name == self.name]
        code = f"import sys, {entry.module}; assert 'torch' not in sys.modules"
        subprocess.run([sys.executable, "-c", code], check=True, timeout=120)

    def test_instructions_plan(self):
        from polymodal.planning.planner import compile_instruction

        for text in self.spec().instructions:
            compile_instruction(text, default_registry())

    def test_toy_rows_round_trip_and_beat_the_baseline(self):
        from polymodal.components import resolve_target
        from polymodal.testing.run import run_task

        spec = self.spec()
        rows = resolve_target(spec.toy)(self.n_rows, 0, "test")
        run = run_task(spec, rows)
        evaluator, _, key = spec.primary_metric.rpartition(".")
        assert key in run.metrics[evaluator]
        if spec.baseline:
            train = resolve_target(spec.toy)(self.n_rows, 0, "train")
            preds = resolve_target(spec.baseline)(train, rows)
            ref_col = spec.references or run.plan.target_columns()[0]  # what the evaluators compare with
            fn = default_registry().get("evaluator", evaluator)
            base = fn.load()(preds, [r[ref_col] for r in rows])[key]
            ours = run.metrics[evaluator][key]
            assert (ours >= base) if fn.higher_is_better else (ours <= base)


class AdapterContract:
    """An encoder adapter for non-token slots (see :mod:`polymodal.engine.adapters`): it collates rows of
    different sizes, returns ``[B, L, d]`` embeddings with a padding mask that covers the padding, and is
    differentiable."""

    name: ClassVar[str] = ""       # the adapter's registry name
    d_model: ClassVar[int] = 32

    def items(self) -> list[dict[str, Any]]:
        raise NotImplementedError("return 2+ preprocessed rows (as the preprocessor's encode() returns them), "
                                  "of different sizes where the modality allows it")

    def _adapter(self):
        spec = default_registry().get("adapter", self.name)
        return spec, spec.load()(d_model=self.d_model, options=dict(spec.options))

    def test_collate_and_forward_shapes(self):
        import torch

        spec, adapter = self._adapter()
        items = self.items()
        data = type(adapter).collate(items)
        out = adapter(data)
        assert len(out) in (3, 4), "an adapter returns (embeds, padding_mask, positions[, places])"
        x, mask, pos = out[:3]
        assert x.dim() == 3 and x.shape[0] == len(items) and x.shape[2] == self.d_model
        assert mask.shape == x.shape[:2] and mask.dtype == torch.bool
        assert not mask.all(dim=1).any(), "every row must keep at least one position"
        assert pos is None or pos.shape == x.shape
        assert torch.isfinite(x).all()
        places = out[3] if len(out) == 4 else None
        if places is not None:
            assert places.shape == (*x.shape[:2], 2), "places are [B, L, 2]: (x, y) of each embedding"
            inside = places[~mask]
            assert ((inside >= 0) & (inside <= 1)).all(), "places are fractions of the input, in [0, 1]"

    def test_gradients_reach_the_parameters(self):
        spec, adapter = self._adapter()
        x, mask, pos = adapter(type(adapter).collate(self.items()))[:3]
        out = x if pos is None else x + pos
        out[~mask].sum().backward()
        grads = [p.grad for p in adapter.parameters() if p.requires_grad]
        assert grads and any(g is not None and float(g.abs().sum()) > 0 for g in grads)
