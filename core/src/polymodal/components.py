"""Declarations that plugins publish through entry points.

Everything here is import-light (no torch, no numpy): an entry point names one of these *spec* objects, and
the registry reads it to list, validate and plan without importing the heavy implementation. The
implementation (``target``, a ``"module:attribute"`` path) is imported on first use.

A plugin's ``spec.py`` typically reads::

    from polymodal.components import AttrSpec, ComponentSpec, ModalitySpec

    TEXT = ModalitySpec(token="TEXT", doc="...", default_preprocessor="text", ...)
    PREPROCESS = ComponentSpec(kind="preprocessor", name="text", modality="TEXT",
                               target="polymodal_modality_text.preprocess:TextPreprocessor",
                               attributes=(AttrSpec("max_length", "int", "...", minimum=1),))
"""
from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

__all__ = [
    "PLUGIN_API", "AttrSpec", "TokenSpaceSpec", "ModalitySpec", "ComponentSpec", "EvaluatorSpec",
    "TaskSpec", "COMPONENT_KINDS", "resolve_target",
]

#: Version of the plugin interface. A component declaring another value is skipped with a reason.
PLUGIN_API = 1

#: The kinds of component and their entry-point groups (one group per kind).
COMPONENT_KINDS: dict[str, str] = {
    "modality": "polymodal.modalities",
    "preprocessor": "polymodal.preprocessors",
    "adapter": "polymodal.adapters",
    "head": "polymodal.heads",
    "evaluator": "polymodal.evaluators",
    "task": "polymodal.tasks",
    "generator": "polymodal.generators",
    "hooks": "polymodal.hooks",
}

SIDES = frozenset({"encoder", "decoder"})
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def resolve_target(target: str) -> Any:
    """Import ``"package.module:attr.sub"`` and return the attribute."""
    module_name, _, attr = target.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in filter(None, attr.split(".")):
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class AttrSpec:
    """The schema of one slot attribute, declared by the component that consumes it.

    Args:
        name: attribute name as written in the slot (``lower_snake``).
        kind: ``"flag"`` (written bare, e.g. ``no_loss``), ``"bool"``, ``"int"``, ``"float"``, ``"str"``
            or ``"choice"``.
        doc: one line for ``polymodal plan`` and error messages.
        default: value when the attribute is absent.
        choices: allowed values for ``"choice"``.
        minimum, maximum: inclusive bounds for numbers.
        sides: where the attribute may appear: ``{"encoder"}``, ``{"decoder"}`` or both.
        aliases: other spellings accepted for the same attribute (e.g. ``adaptor`` for ``adapter``).
    """

    name: str
    kind: str
    doc: str = ""
    default: Any = None
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    sides: frozenset[str] = SIDES
    aliases: tuple[str, ...] = ()

    def coerce(self, raw: str | None) -> Any:
        """Convert the raw text of an attribute value; raise ``ValueError`` with a short reason."""
        if self.kind == "flag":
            if raw is None:
                return True
            low = raw.lower()
            if low in _TRUE or low in _FALSE:
                return low in _TRUE
            raise ValueError(f"'{self.name}' is a flag: write it bare, or as {self.name}=true/false")
        if raw is None or raw == "":
            raise ValueError(f"'{self.name}' needs a value ({self.describe_type()})")
        if self.kind == "bool":
            low = raw.lower()
            if low in _TRUE or low in _FALSE:
                return low in _TRUE
            raise ValueError(f"'{self.name}' expects true or false, got {raw!r}")
        if self.kind == "int":
            try:
                value: Any = int(raw)
            except ValueError:
                raise ValueError(f"'{self.name}' expects an integer, got {raw!r}") from None
        elif self.kind == "float":
            try:
                value = float(raw)
            except ValueError:
                raise ValueError(f"'{self.name}' expects a number, got {raw!r}") from None
            if not math.isfinite(value):
                raise ValueError(f"'{self.name}' expects a finite number, got {raw!r}")
        elif self.kind == "choice":
            if raw not in self.choices:
                raise ValueError(f"'{self.name}' expects one of {', '.join(self.choices)}; got {raw!r}")
            return raw
        elif self.kind == "str":
            return raw
        else:  # pragma: no cover - a plugin declared an unknown kind
            raise ValueError(f"attribute '{self.name}' declares unknown kind {self.kind!r}")
        if self.minimum is not None and value < self.minimum:
            raise ValueError(f"'{self.name}' must be >= {self.minimum:g}, got {raw}")
        if self.maximum is not None and value > self.maximum:
            raise ValueError(f"'{self.name}' must be <= {self.maximum:g}, got {raw}")
        return value

    def describe_type(self) -> str:
        if self.kind == "choice":
            return "one of " + "|".join(self.choices)
        bounds = ""
        if self.minimum is not None or self.maximum is not None:
            lo = "" if self.minimum is None else f"{self.minimum:g}"
            hi = "" if self.maximum is None else f"{self.maximum:g}"
            bounds = f" in [{lo}, {hi}]"
        return f"{self.kind}{bounds}"


@dataclass(frozen=True)
class TokenSpaceSpec:
    """A named range of token ids in the shared vocabulary.

    Args:
        name: space name (``"text"``, ``"box.loc"``, ``"image.code"``, ``"audio.phone"``).
        size: number of tokens, or ``None`` when it is known only at build time (text: the tokenizer's).
        doc: what the tokens are.
        ordinal: the tokens are ordered values (location bins), so neighbouring tokens are close answers;
            training then spreads a target over its neighbours (see
            :func:`~polymodal.model.losses.label_smoothed_loss` and ``TrainerConfig.ordinal_sigma``).
        spatial: the tokens are bins of a coordinate's fraction of an input's width or height (location
            bins; implies ``ordinal``); models score them with a pointer over the input's placed features
            (see :mod:`polymodal.model.locating`).
    """

    name: str
    size: int | None
    doc: str = ""
    ordinal: bool = False
    spatial: bool = False


@dataclass(frozen=True)
class ModalitySpec:
    """A modality: the slot token it owns and its defaults.

    Args:
        token: the slot type written in instructions (upper case, e.g. ``"TEXT"``).
        doc: one line.
        default_preprocessor: preprocessor used when a slot has no ``preprocess=``.
        default_adapter: encoder-side adapter used when an E-slot has no ``adapter=``.
        default_head: decoder-side head used when a D-slot has no ``adapter=``.
        token_spaces: vocabulary spaces this modality contributes.
        requires: other modality tokens a slot of this one needs in the same instruction (BOX needs IMAGE
            on the encoder side to be relative to).
        resource: ``"module:Class"`` of a shared resource the modality's components use (the text tokenizer),
            built from task data, saved in and loaded from checkpoints; ``None`` if it needs none.
        plugin_api: the plugin API this was written for.
    """

    token: str
    doc: str
    default_preprocessor: str
    default_adapter: str | None = None
    default_head: str | None = None
    token_spaces: tuple[TokenSpaceSpec, ...] = ()
    requires: tuple[str, ...] = ()
    resource: str | None = None
    plugin_api: int = PLUGIN_API


@dataclass(frozen=True)
class ComponentSpec:
    """A preprocessor, adapter, head or generator.

    Args:
        kind: ``"preprocessor"``, ``"adapter"`` (encoder input), ``"head"`` (decoder input + output) or
            ``"generator"``.
        name: component name, prefixed by its modality where scoped (``"text"``, ``"image.resnet"``).
        modality: the modality token it serves, or ``None`` for any.
        target: ``"module:Class"`` of the implementation, imported on first use.
        doc: one line.
        attributes: slot attributes this component consumes.
        sides: which instruction sides it can serve.
        options: default constructor options (overridable from task or model configuration).
        plugin_api: the plugin API this was written for.
    """

    kind: str
    name: str
    modality: str | None
    target: str
    doc: str = ""
    attributes: tuple[AttrSpec, ...] = ()
    sides: frozenset[str] = SIDES
    options: Mapping[str, Any] = field(default_factory=dict)
    plugin_api: int = PLUGIN_API

    def load(self) -> Any:
        """Import and return the implementation."""
        return resolve_target(self.target)


@dataclass(frozen=True)
class EvaluatorSpec:
    """A metric over gathered predictions (corpus-level).

    The target is a callable ``fn(predictions, references, **options) -> dict[str, float]``, where
    ``references[i]`` is one reference or a list of acceptable references. Scores are reported on a 0-100
    scale where the metric is a rate or a correlation.

    Args:
        name: evaluator name (``"accuracy"``, ``"rouge"``, ``"cider"``).
        target: ``"module:function"``.
        doc: one line.
        primary: the key of the returned dict that summarises the metric.
        higher_is_better: direction of ``primary``.
    """

    name: str
    target: str
    doc: str = ""
    primary: str = ""
    higher_is_better: bool = True
    plugin_api: int = PLUGIN_API

    def load(self) -> Callable[..., dict[str, float]]:
        return resolve_target(self.target)


@dataclass(frozen=True)
class TaskSpec:
    """A preset task: the seqio-style declaration that a task plugin publishes.

    Args:
        name: task name (``lower_snake``); the distribution is ``polymodal-task-<name>``.
        instructions: instruction templates; the first is the default.
        doc: one line.
        evaluators: evaluator names, or ``(name, options)`` pairs.
        primary_metric: ``"<evaluator>.<key>"`` used to compare with the baseline and pick checkpoints.
        references: data column holding the evaluation references (default: the decoder slot's column).
        generation: default generation keyword arguments.
        aliases: other names (OFASys's).
        loaders: real-format readers: format name -> ``"module:function"`` taking ``(path, **options)``
            and returning a list of row dicts.
        toy: ``"module:function"`` taking ``(n, seed, split)`` and returning row dicts of toy data.
        write_toy: ``"module:function"`` taking ``(out_dir, n, seed)`` that writes toy data in the real
            format and returns the paths written, first what the loader reads (see ``toy_layout``).
        toy_layout: ``"files"``: write_toy's first three paths are the train, valid and test sources;
            ``"dataset"``: its first path holds every split and the loader reads one with ``split=``.
        baseline: ``"module:function"`` taking ``(train_rows, eval_rows)`` and returning the predictions of
            the task's trivial baseline.
        preprocess: ``"module:function"`` taking ``(row, split)`` and returning a row (task-level mapping).
        closed_sets: column -> list of labels, or ``"module:function"`` returning the list.
        plugin_api: the plugin API this was written for.
    """

    name: str
    instructions: tuple[str, ...]
    doc: str = ""
    evaluators: tuple[Any, ...] = ()
    primary_metric: str = ""
    references: str | None = None
    generation: Mapping[str, Any] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    loaders: Mapping[str, str] = field(default_factory=dict)
    toy: str | None = None
    write_toy: str | None = None
    toy_layout: str = "files"
    baseline: str | None = None
    preprocess: str | None = None
    closed_sets: Mapping[str, Any] = field(default_factory=dict)
    plugin_api: int = PLUGIN_API
