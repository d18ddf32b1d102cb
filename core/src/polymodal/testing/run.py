"""``run_task``: push raw rows through a task's preprocessing, decoding program, postprocessing and metrics.

Like seqio's ``test_task``: it tests a task in isolation, with no model. Each row's target is realised as the
model would be trained on it, then decoded back as if generated, postprocessed, and scored by the task's
evaluators against the references, so a task whose pipeline loses information scores below 100.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from polymodal.components import TaskSpec, resolve_target
from polymodal.engine.rows import Example, RowEncoder
from polymodal.errors import DataError
from polymodal.planning.plan import Plan
from polymodal.planning.planner import compile_instruction
from polymodal.preprocessing import BuildContext
from polymodal.registry import Registry, default_registry
from polymodal.vocab import VocabLayout

__all__ = ["TaskRun", "run_task", "build_context", "fit_resources", "texts_of", "fit_texts", "closed_sets_of"]


@dataclass
class TaskRun:
    plan: Plan
    examples: list[Example]
    decoded: list[dict[str, Any]]
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    skipped: int = 0


def texts_of(rows: Iterable[Mapping[str, Any]]) -> Iterable[str]:
    """Every string inside the rows, and every integer as its digits (for fitting tokenizers: structured
    values such as grids and table cells reach the text space linearised)."""
    stack: list[Any] = list(rows)
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, int) and not isinstance(item, bool):
            yield str(item)
        elif isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)


def _resource_key(registry: Registry, modality: str) -> str | None:
    spec = registry.modality(modality)
    return resolve_target(spec.resource).key if spec is not None and spec.resource else None


def fit_texts(plans: Sequence[Plan], rows: Sequence[Mapping[str, Any]], registry: Registry, key: str) -> list[str]:
    """What the resource ``key`` (a tokenizer) is fitted on: the strings (:func:`texts_of`) in the columns bound to
    slots of the modalities that use it, and the prompt texts. Other columns (image paths, boxes) are left out, so
    that a tokenizer never learns where the data lies: fitted on every string, it learned the folder names of the
    image paths, and a model's results changed with the folder its data was written to."""
    columns = sorted({s.column for p in plans for s in p.slots
                      if s.column is not None and _resource_key(registry, s.modality) == key})
    texts = list(texts_of([row[c] for row in rows for c in columns if c in row]))
    return texts + [s.prompt for p in plans for s in p.slots if s.prompt]


def fit_resources(plans: Sequence[Plan], rows: Sequence[Mapping[str, Any]], registry: Registry,
                  options: Mapping[str, Mapping[str, Any]] | None = None,
                  extra_texts: Sequence[str] = ()) -> tuple[BuildContext, dict[str, str]]:
    """Fit each resource (tokenizer) that the plans' modalities use, once, on :func:`fit_texts` of ``rows`` plus
    ``extra_texts`` (e.g. closed-set labels), and lay out the vocabulary: the resources' token spaces and the
    modalities' fixed-size ones, modality by modality in sorted order.

    Returns:
        The build context, and each resource key's registered target (for checkpoints).
    """
    resources, spaces, targets = {}, {}, {}
    for token in sorted({m for p in plans for m in p.modalities}):
        spec = registry.modality(token)
        if spec is None:
            continue
        if spec.resource:
            cls = resolve_target(spec.resource)
            if cls.key not in resources:
                texts = fit_texts(plans, rows, registry, cls.key) + list(extra_texts)
                resources[cls.key] = cls.fit(texts, dict((options or {}).get(cls.key, {})))
                targets[cls.key] = spec.resource
                spaces.update(resources[cls.key].token_spaces())
        for space in spec.token_spaces:
            if space.size is not None:
                spaces[space.name] = space.size
    return BuildContext(VocabLayout.build(spaces), resources), targets


def build_context(plan: Plan, registry: Registry, rows: Sequence[Mapping[str, Any]],
                  options: Mapping[str, Mapping[str, Any]] | None = None) -> BuildContext:
    """Fit the modalities' resources on ``rows`` and lay out the vocabulary, for one plan (see
    :func:`fit_resources`)."""
    return fit_resources([plan], rows, registry, options)[0]


def closed_sets_of(spec: TaskSpec | None, plan: Plan, rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Labels per closed-set column: the task's declaration, else the values seen in ``rows``."""
    out: dict[str, list[Any]] = {}
    for seg in plan.program.walk():
        if seg.kind != "choice":
            continue
        column = plan.slot(seg.slot).column
        declared = (spec.closed_sets if spec else {}).get(column)
        if isinstance(declared, str):
            declared = resolve_target(declared)()
        if declared:
            out[column] = list(declared)
        else:
            out[column] = sorted({str(r[column]) for r in rows if column in r})
    return out


def run_task(task: str | TaskSpec, rows: Sequence[Mapping[str, Any]], *, registry: Registry | None = None,
             split: str = "test", instruction: str | None = None) -> TaskRun:
    """Run ``rows`` through the task's pipeline and score the round-tripped targets.

    Args:
        task: a task name (or alias) in the registry, or a :class:`TaskSpec`.
        rows: raw rows as the task's loader or toy generator produces them.
        registry: defaults to the process registry.
        split: passed to the task's row preprocessing.
        instruction: overrides the task's default instruction.
    """
    registry = registry or default_registry()
    spec = registry.task(task) if isinstance(task, str) else task
    plan = compile_instruction(instruction or spec.instructions[0], registry)
    mapped, skipped = [], 0
    pre = resolve_target(spec.preprocess) if spec.preprocess else None
    for row in rows:
        out = pre(dict(row), split) if pre else dict(row)
        if out is None:
            skipped += 1
        else:
            mapped.append(out)
    if not mapped:
        raise DataError("no rows left to run", task=spec.name)
    ctx = build_context(plan, registry, mapped)
    encoder = RowEncoder(plan, registry, ctx, closed_sets_of(spec, plan, mapped), task=spec.name)
    examples = [encoder.encode(r, train=True, rng=random.Random(i), index=i) for i, r in enumerate(mapped)]
    decoded = [encoder.decode([encoder.columns.column(t) for t in ex.target], ex.machine, {**row, **ex.notes})
               for row, ex in zip(mapped, examples)]
    pred_col = (plan.target_columns() or [None])[0]
    ref_col = spec.references or pred_col
    result = TaskRun(plan, examples, decoded, skipped=skipped)
    if pred_col is not None:
        predictions = [d.get(pred_col) for d in decoded]
        references = [r.get(ref_col) for r in mapped]
        for ev in spec.evaluators:
            name, options = (ev, {}) if isinstance(ev, str) else (ev[0], dict(ev[1]))
            fn = registry.get("evaluator", name).load()
            result.metrics[name] = fn(predictions, references, **options)
    return result
