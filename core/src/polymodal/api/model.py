"""``GeneralistModel``: one checkpoint that serves every instruction.

    model = GeneralistModel("tiny")
    Trainer(TrainerConfig(max_steps=500)).fit(model, [glue, summarization])
    model.inference("glue", {"sentence": "a lovely film"}).text
    model.save_pretrained("ckpt/"); GeneralistModel.from_pretrained("ckpt/")
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from polymodal.errors import DataError, PlanError, PolymodalError
from polymodal.registry import Registry, default_registry

__all__ = ["GeneralistModel", "Output", "TaskRecord", "CHECKPOINT_FORMAT"]

CHECKPOINT_FORMAT = "polymodal-checkpoint/1"


@dataclass
class TaskRecord:
    """What a checkpoint remembers of a task: enough to evaluate and serve it without the plugin's data."""

    name: str
    instructions: list[str]
    closed_sets: dict[str, list[str]] = field(default_factory=dict)
    evaluators: list[Any] = field(default_factory=list)
    generation: dict[str, Any] = field(default_factory=dict)
    references: str | None = None
    primary_metric: str = ""


class Output:
    """One generated result: the predicted value of each decoder column, plus the score.

    ``out.text`` is the first text-valued prediction; ``out["label"]`` or ``out.label`` any column.
    """

    def __init__(self, values: Mapping[str, Any], score: float, tokens: list[int]) -> None:
        self.values = dict(values)
        self.score = score
        self.tokens = tokens

    @property
    def text(self) -> str | None:
        return next((v for v in self.values.values() if isinstance(v, str)), None)

    def __getitem__(self, column: str) -> Any:
        return self.values[column]

    def __getattr__(self, column: str) -> Any:
        values = self.__dict__.get("values", {})
        if column in values:
            return values[column]
        raise AttributeError(column)

    def __repr__(self) -> str:
        return f"Output({self.values!r}, score={self.score:.3f})"


class GeneralistModel:
    """The generalist: network, vocabulary layout, modality resources (tokenizers) and known tasks.

    Args:
        size: a named size (``nano`` ... ``huge``, see :data:`polymodal.model.SIZES`).
        registry: component registry (default: the process registry).
        resource_options: per resource key, options for building it (e.g.
            ``{"text.tokenizer": {"vocab_size": 8000}}`` or ``{"text.tokenizer": {"pretrained": "gpt2"}}``).
        adapter_options: per adapter name, options that replace the adapter spec's defaults (e.g.
            ``{"image.small": {"stride": 16}}``); they are stored in checkpoints with the adapter.
        **overrides: :class:`~polymodal.model.ModelConfig` fields (``dropout=0.0``, ...).
    """

    def __init__(self, size: str = "tiny", *, registry: Registry | None = None,
                 resource_options: Mapping[str, Mapping[str, Any]] | None = None,
                 adapter_options: Mapping[str, Mapping[str, Any]] | None = None, **overrides: Any) -> None:
        self.size = size
        self.adapter_options = {k: dict(v) for k, v in (adapter_options or {}).items()}
        self.overrides = dict(overrides)
        self.registry = registry or default_registry()
        self.resource_options = {k: dict(v) for k, v in (resource_options or {}).items()}
        self.net = None
        self.ctx = None
        self.tasks: dict[str, TaskRecord] = {}
        self._resource_targets: dict[str, str] = {}
        self._encoders: dict[tuple, Any] = {}

    # -- building ----------------------------------------------------------------------------------------
    @property
    def built(self) -> bool:
        return self.net is not None

    def build(self, tasks: Sequence[Any]) -> None:
        """Fit the resources on the tasks' training text, lay out the vocabulary and create the network.

        A model that is already built (trained, or loaded) keeps its resources and layout; new token spaces
        are refused rather than shifting ids.
        """
        from polymodal.planning.planner import compile_instruction
        from polymodal.testing.run import fit_resources

        plans = [compile_instruction(i, self.registry) for t in tasks for i in t.instructions]
        for task in tasks:
            self.tasks[task.name] = self._record(task)
        if self.built:
            self._check_spaces(plans)
            return
        from polymodal.engine.generalist import GeneralistNet
        from polymodal.model import ModelConfig

        rows = [r for t in tasks for r in t.rows("train")]
        labels = [label for task in tasks for values in self.tasks[task.name].closed_sets.values() for label in values]
        self.ctx, targets = fit_resources(plans, rows, self.registry, self.resource_options, labels)
        self._resource_targets.update(targets)
        config = ModelConfig.named(self.size, vocab_size=self.ctx.layout.size, **self.overrides)
        self.net = GeneralistNet(config, self._adapters(plans), self.spatial_ranges())
        self._init_ordinal_embeddings()

    def _adapters(self, plans: Iterable[Any]) -> dict[str, tuple[str, dict]]:
        out = {}
        for plan in plans:
            for slot in plan.encoder:
                if slot.adapter is None or slot.space is not None:
                    continue
                spec = self.registry.get("adapter", slot.adapter.name)
                unknown = set(self.adapter_options.get(spec.name, {})) - set(spec.options)
                if unknown:
                    raise PlanError(f"adapter {spec.name}: unknown option(s) {', '.join(sorted(unknown))}; it takes "
                                    f"{', '.join(sorted(spec.options)) or 'none'}")
                out[slot.adapter.name] = (spec.target, {**spec.options, **self.adapter_options.get(spec.name, {})})
        return out

    def _check_spaces(self, plans: Iterable[Any]) -> None:
        for plan in plans:
            for seg in plan.program.walk():
                if seg.space and seg.space not in self.ctx.layout:
                    raise PlanError(f"this checkpoint has no token space '{seg.space}'; a new token space needs a "
                                    "new model (it would change the embedding table)")
            names = set(self._adapters([plan]))
            missing = names - set(self.net.adapter_specs)
            if missing:
                raise PlanError(f"this checkpoint has no adapter {', '.join(sorted(missing))}")

    def _record(self, task: Any) -> TaskRecord:
        from polymodal.planning.planner import compile_instruction

        columns = {plan.slot(seg.slot).column for i in task.instructions
                   for plan in [compile_instruction(i, self.registry)] for seg in plan.program.walk()
                   if seg.kind == "choice"}
        return TaskRecord(task.name, list(task.instructions), task.closed_sets(sorted(columns)),
                          [e if isinstance(e, str) else list(e) for e in task.evaluators], dict(task.generation),
                          task.references, task.primary_metric)

    # -- rows ----------------------------------------------------------------------------------------------
    def encoder(self, instruction: str, closed_sets: Mapping[str, Sequence[str]] | None = None,
                task: str | None = None):
        """The (cached) :class:`~polymodal.engine.rows.RowEncoder` of an instruction."""
        from polymodal.engine.rows import RowEncoder
        from polymodal.planning.planner import compile_instruction

        self._require_built()
        key = (instruction, tuple(sorted((k, tuple(v)) for k, v in (closed_sets or {}).items())), task)
        if key not in self._encoders:
            plan = compile_instruction(instruction, self.registry)
            self._encoders[key] = RowEncoder(plan, self.registry, self.ctx, closed_sets, task=task)
        return self._encoders[key]

    def task_encoder(self, name: str, index: int = 0):
        record = self.tasks[name]
        return self.encoder(record.instructions[index], record.closed_sets, name)

    def _ordinal_spaces(self) -> set[str]:
        specs = [self.registry.modality(token) for token in self.registry.modality_tokens()]
        return {space.name for spec in specs if spec is not None for space in spec.token_spaces
                if space.ordinal or space.spatial}

    def spatial_ranges(self) -> list[tuple[int, int]]:
        """Global id ranges ``[start, end)`` of the layout's spatial token spaces (location bins)."""
        specs = [self.registry.modality(token) for token in self.registry.modality_tokens()]
        names = {space.name for spec in specs if spec is not None for space in spec.token_spaces if space.spatial}
        return [(space.offset, space.end) for space in self.ctx.layout.spaces() if space.name in names]

    def _init_ordinal_embeddings(self) -> None:
        """Ordered spaces (location bins) start with embeddings that vary smoothly along the space: mostly sine
        waves over the token index, plus some of the usual noise so that neighbours stay distinguishable.
        Neighbouring values then start with similar embeddings and logits, instead of unrelated random ones."""
        import math

        import torch

        from polymodal.model.layers import sinusoidal_

        weight = self.net.backbone.embed_tokens.weight
        scale = 1.0 / math.sqrt(weight.shape[1])  # the token embedding's init std
        ordered = self._ordinal_spaces()
        with torch.no_grad():
            for space in self.ctx.layout.spaces():
                if space.name in ordered:
                    rows = weight[space.offset:space.end]
                    waves = sinusoidal_(torch.empty_like(rows)) * math.sqrt(2.0) * scale  # unit variance once scaled
                    rows.copy_(0.8 * waves + 0.6 * rows)

    def ordinal_columns(self, name: str) -> list[tuple[int, int]]:
        """The head columns of task ``name`` that belong to ordered token spaces (location bins)."""
        enc = self.task_encoder(name)
        ordered = self._ordinal_spaces()
        out = []
        for space in self.ctx.layout.spaces():
            if space.name in ordered and any(lo <= space.offset and space.end <= hi for lo, hi in enc.columns.ranges):
                out.append(enc.columns.columns_of(space.offset, space.end))
        return out

    def _require_built(self) -> None:
        if not self.built:
            raise PolymodalError("the model is not built yet: train it (Trainer.fit) or load one "
                                 "(GeneralistModel.from_pretrained)")

    # -- inference -----------------------------------------------------------------------------------------
    def inference(self, instruction: str, data: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
                  *args: Any, method: str | None = None, batch_size: int = 16, closed_sets: Mapping | None = None,
                  **generation: Any) -> Output | list[Output]:
        """Run an instruction (or a task name known to the model) on one row or a list of rows.

        Args:
            instruction: an instruction, or the name of a task the model was trained on.
            data: a dict (one row) or a list of dicts; positional ``args`` fill the input columns in order.
            method: ``greedy``, ``beam`` or ``sample`` (default: the task's, else greedy).
            closed_sets: labels for ``closed_set`` slots of an ad-hoc instruction.
            **generation: generator keywords (``beam_size``, ``max_len``, ``no_repeat_ngram_size``...); 0 and
                False are honoured.

        Returns:
            One :class:`Output` for a dict, a list for a list.
        """
        self._require_built()
        if instruction in self.tasks:
            record = self.tasks[instruction]
            enc = self.encoder(record.instructions[0], {**record.closed_sets, **(closed_sets or {})}, record.name)
            generation = {**record.generation, **generation}
        else:
            enc = self.encoder(instruction, closed_sets)
        single = data is None or isinstance(data, Mapping)
        rows = [dict(data or {})] if single else [dict(r) for r in data]
        if args:
            if not single:
                raise DataError("positional values fill one row; pass a list of dicts for several rows")
            inputs = [c for c in enc.plan.input_columns() if c not in rows[0]]
            if len(args) > len(inputs):
                raise DataError(f"{len(args)} positional values for {len(inputs)} open input columns "
                                f"({', '.join(inputs)})")
            rows[0].update(zip(inputs, args))
        outputs = self.generate_rows(enc, rows, method=method, batch_size=batch_size, **generation)
        return outputs[0] if single else outputs

    def generate_rows(self, enc: Any, rows: Sequence[Mapping[str, Any]], *, method: str | None = None,
                      batch_size: int = 16, task: str | None = None, **generation: Any) -> list[Output]:
        from polymodal.engine.batch import Collator

        method = method or generation.pop("method", None) or ("beam" if generation.get("beam_size", 1) > 1
                                                              else "greedy")
        generation.pop("method", None)
        if method == "greedy":
            generation.pop("beam_size", None)
        generation.setdefault("max_len", 128)
        collate = Collator(enc.columns, self._adapter_targets(enc))
        out: list[Output] = []
        device = next(self.net.parameters()).device
        for start in range(0, len(rows), batch_size):
            chunk = rows[start:start + batch_size]
            examples = [(start + i, enc.encode(r, train=False, index=start + i, targets=False))
                        for i, r in enumerate(chunk)]
            batch = collate(examples).to(device)
            gen = self.net.generate(batch, enc.columns.ranges, method, **generation)
            for i in range(len(chunk)):
                cols = gen.sequences(i)
                values = enc.decode(cols, batch.machines[i], {**chunk[i], **examples[i][1].notes})
                out.append(Output(values, float(gen.scores[i, 0]), [int(t) for t in cols]))
        return out

    def _adapter_targets(self, enc: Any) -> dict[int, tuple[str, str]]:
        return {s.index: (s.adapter.name, self.net.adapter_specs[s.adapter.name][0])
                for s in enc.plan.encoder if s.adapter is not None and s.space is None}

    # -- persistence ---------------------------------------------------------------------------------------
    def config_dict(self) -> dict[str, Any]:
        import importlib.metadata as md

        plugins = {}
        for handle in self.registry.handles():
            plugins.setdefault(handle.distribution, handle.version)
        return {
            "format": CHECKPOINT_FORMAT,
            "size": self.size,
            "model": self.net.config.to_dict(),
            "adapters": {k: [t, o] for k, (t, o) in self.net.adapter_specs.items()},
            "layout": self.ctx.layout.to_dict(),
            "resources": {},
            "tasks": [asdict(t) for t in self.tasks.values()],
            "plugins": plugins,
            "polymodal": md.version("polymodal"),
        }

    def save_pretrained(self, directory: str | Path) -> Path:
        """Write the model (not the optimizer) to ``directory`` atomically."""
        from polymodal.training.checkpoint import write_checkpoint

        return write_checkpoint(self, Path(directory))

    @classmethod
    def from_pretrained(cls, directory: str | Path, *, registry: Registry | None = None,
                        device: str = "cpu") -> "GeneralistModel":
        """Load a checkpoint directory (safetensors + JSON; nothing is unpickled), or a training run's output
        directory (its newest complete checkpoint)."""
        from polymodal.training.checkpoint import latest_checkpoint, read_model

        path = Path(directory)
        if not (path / "config.json").exists():
            path = latest_checkpoint(path) or path  # a run directory: its newest checkpoint
        return read_model(cls, path, registry or default_registry(), device)

    def to(self, device: str) -> "GeneralistModel":
        self.net.to(device)
        return self

    def __repr__(self) -> str:
        state = f"{sum(p.numel() for p in self.net.parameters()):,} parameters" if self.built else "not built"
        return f"GeneralistModel({self.size!r}, {state}, tasks={list(self.tasks)})"
