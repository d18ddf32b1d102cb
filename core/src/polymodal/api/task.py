"""``Task``: a name, an instruction, data, and how the task is evaluated.

Build one from an instruction, or from a task preset installed by a task plugin::

    caption = Task("my_caption", "[IMAGE:img] what does the image describe? -> [TEXT:cap]")
    glue = Task("glue")                       # the preset's default instruction, evaluators, closed sets
    glue.add_dataset("train.tsv", "train")    # a list of dicts, a datasets.Dataset, or a JSONL/TSV/CSV/Parquet file
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Any, Iterable, Mapping, Sequence

from polymodal.components import TaskSpec, resolve_target
from polymodal.errors import DataError, PluginError
from polymodal.registry import Registry, default_registry

__all__ = ["Task", "SPLITS"]

SPLITS = ("train", "valid", "test")


class Task:
    """A task: its instruction(s), data splits and evaluation.

    Args:
        name: task name; if a preset of that name (or alias) is installed, it supplies whatever the other
            arguments leave out (instruction, evaluators, closed sets, loaders, toy data, generation defaults).
        instruction: one instruction or several (a random one is used per training row; the first at test).
        evaluators: evaluator names or ``(name, options)`` pairs.
        closed_sets: column -> labels for ``closed_set`` slots (default: the labels seen in training data).
        generation: default generation keyword arguments.
        weight: the task's weight in the loss mixture.
        rate: relative sampling rate in the sampled mixtures (``proportional``, ``temperature``): it
            multiplies the task's share before normalisation, so 2.0 draws a task about twice as often as its
            data size alone would. Hard tasks that need more steps than their data size earns them (long
            outputs, reasoning) get a rate above 1.
        start_step: the training step at which the task joins the mixture (a curriculum: an easy task that
            forces the model to read its input, like classification or infilling, can run alone first).
        skip_bad_rows: skip and count rows that fail preprocessing, instead of raising.
        references: column holding the evaluation references (default: the first decoder column).
        primary_metric: ``"evaluator.key"`` compared with the baseline.
        registry: component registry (default: the process registry).
    """

    def __init__(self, name: str, instruction: str | Sequence[str] | None = None, *,
                 evaluators: Sequence[Any] | None = None, closed_sets: Mapping[str, Sequence[Any]] | None = None,
                 generation: Mapping[str, Any] | None = None, weight: float = 1.0, rate: float = 1.0,
                 start_step: int = 0,
                 skip_bad_rows: bool = False,
                 references: str | None = None, primary_metric: str | None = None,
                 registry: Registry | None = None) -> None:
        self.registry = registry or default_registry()
        try:  # a preset of that name supplies what the arguments leave out
            preset: TaskSpec | None = self.registry.task(name)
        except PluginError as exc:
            if instruction is None:
                raise PluginError(f"Task({name!r}) has no instruction and no such preset is installed: {exc}") \
                    from None
            preset = None
        self.name = name
        self.preset = preset
        if isinstance(instruction, str):
            instruction = [instruction]
        self.instructions = list(instruction or (preset.instructions if preset else ()))
        if not self.instructions:
            raise DataError("a task needs at least one instruction", task=name)
        self.evaluators = list(evaluators if evaluators is not None else (preset.evaluators if preset else ()))
        declared = dict(preset.closed_sets) if preset else {}
        declared.update(closed_sets or {})
        self._closed_sets = declared
        self.generation = {**(dict(preset.generation) if preset else {}), **dict(generation or {})}
        self.weight = float(weight)
        if not (isinstance(rate, (int, float)) and math.isfinite(rate) and rate > 0):
            raise DataError(f"rate must be a finite number > 0, got {rate!r}", task=name)
        self.rate = float(rate)
        if start_step < 0:
            raise DataError(f"start_step must be >= 0, got {start_step}", task=name)
        self.start_step = int(start_step)
        self.skip_bad_rows = skip_bad_rows
        self.references = references or (preset.references if preset else None)
        self.primary_metric = primary_metric or (preset.primary_metric if preset else "") or self._default_primary()
        self.data: dict[str, list[dict[str, Any]]] = {s: [] for s in SPLITS}
        self.skipped: Counter[str] = Counter()

    def _default_primary(self) -> str:
        if not self.evaluators:
            return ""
        first = self.evaluators[0]
        name = first if isinstance(first, str) else first[0]
        try:
            return f"{name}.{self.registry.get('evaluator', name).primary}"
        except PluginError:
            return ""

    # -- data ----------------------------------------------------------------------------------------------
    def add_dataset(self, data: Any, split: str = "train", *, format: str | None = None,
                    options: Mapping[str, Any] | None = None) -> "Task":
        """Add rows to a split.

        Args:
            data: a list of dicts, a HF ``datasets.Dataset``, or a path to a JSONL/JSON/TSV/CSV/Parquet file (or,
                with ``format=`` naming one of the preset's loaders, a file in the real benchmark's format).
            split: ``train``, ``valid`` or ``test``.
            format: a reader format or a preset loader name.
            options: keyword arguments for a preset loader (e.g. ``{"split": "test"}`` for one file that holds
                every split, like COCO's Karpathy JSON).
        """
        if split not in SPLITS:
            raise DataError(f"unknown split {split!r} (use {', '.join(SPLITS)})", task=self.name)
        rows = self._read(data, format, dict(options or {}))
        for i, row in enumerate(rows):
            if not isinstance(row, Mapping):
                raise DataError(f"a row must be a dict, got {type(row).__name__}", task=self.name, row=i)
        self.data[split].extend(dict(r) for r in rows)
        return self

    def _read(self, data: Any, fmt: str | None, options: Mapping[str, Any]) -> list[Any]:
        if isinstance(data, (str, bytes)) or hasattr(data, "__fspath__"):
            if self.preset and fmt in self.preset.loaders:
                return list(resolve_target(self.preset.loaders[fmt])(data, **options))
            from polymodal.api.readers import read_rows

            try:
                return read_rows(data, fmt)
            except DataError as exc:
                raise exc.located(task=self.name) from None
        if hasattr(data, "to_list") and hasattr(data, "column_names"):  # datasets.Dataset
            return data.to_list()
        if isinstance(data, Iterable):
            return list(data)
        raise DataError(f"cannot read data of type {type(data).__name__}", task=self.name)

    def add_toy(self, n: int = 200, seed: int = 0, splits: Sequence[str] = SPLITS) -> "Task":
        """Add the preset's procedural toy data (``n`` rows for train, a fifth of that for the others)."""
        if not (self.preset and self.preset.toy):
            raise PluginError(f"task {self.name!r} has no toy data generator")
        make = resolve_target(self.preset.toy)
        for split in splits:
            self.add_dataset(make(n if split == "train" else max(8, n // 5), seed, split), split)
        return self

    def rows(self, split: str) -> list[dict[str, Any]]:
        return self.data[split]

    def closed_sets(self, columns: Iterable[str]) -> dict[str, list[Any]]:
        """Labels per closed-set column: declared ones, else the sorted values seen in train/valid data."""
        out: dict[str, list[Any]] = {}
        for column in columns:
            declared = self._closed_sets.get(column)
            if isinstance(declared, str):
                declared = resolve_target(declared)()
            if declared:
                out[column] = [str(v) for v in declared]
                continue
            seen = sorted({str(r[column]) for s in ("train", "valid") for r in self.data[s] if column in r})
            if not seen:
                raise DataError(f"no labels known for closed-set column '{column}' (give closed_sets= or data)",
                                task=self.name, column=column)
            out[column] = seen
        return out

    def __repr__(self) -> str:
        sizes = ", ".join(f"{s}={len(v)}" for s, v in self.data.items() if v)
        return f"Task({self.name!r}, {self.instructions[0]!r}, {sizes or 'no data'})"
