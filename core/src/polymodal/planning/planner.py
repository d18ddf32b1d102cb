"""The planner: instruction text -> :class:`Plan`, choosing and validating every component.

For each slot: the modality (from the installed modality plugins), the preprocessor (``preprocess=``, a hook, or
the modality default), the adapter or head (``adapter=``/``adaptor=``, a hook, or the default), and the slot's
attributes, validated against the schemas declared by the components that consume them. Nothing here imports
torch: specs are read, implementations are not imported.
"""
from __future__ import annotations

import difflib
from typing import Any

from polymodal.components import SIDES, AttrSpec, ComponentSpec, ModalitySpec
from polymodal.errors import InstructionError, PluginError
from polymodal.instruction.grammar import Attr, Group, Slot, Syntax, Text, parse
from polymodal.planning.plan import Choice, Plan, SlotPlan
from polymodal.planning.program import Program, Segment
from polymodal.registry import KNOWN_DISTRIBUTIONS, Registry, default_registry

__all__ = ["compile_instruction", "SLOT_ATTRIBUTES", "PROGRAM_ATTRIBUTES"]

#: Attributes the planner itself consumes on every slot.
SLOT_ATTRIBUTES = (
    AttrSpec("preprocess", "str", "choose the preprocessor by name instead of the modality default"),
    AttrSpec("adapter", "str", "choose the encoder adapter (E-slot) or decoder head (D-slot) by name",
             aliases=("adaptor",)),
)
#: Attributes of token-based decoder slots, consumed by the decoding program.
PROGRAM_ATTRIBUTES = (
    AttrSpec("no_loss", "flag", "feed the slot's tokens to the decoder as a forced prefix, without loss",
             default=False, sides=frozenset({"decoder"})),
    AttrSpec("closed_set", "flag", "the slot is one label of a closed set; decoding is constrained to it",
             default=False, sides=frozenset({"decoder"})),
)
_CACHE: dict[tuple[int, str], Plan] = {}


def compile_instruction(instruction: str, registry: Registry | None = None) -> Plan:
    """Compile an instruction into a plan.

    Args:
        instruction: the instruction text.
        registry: the component registry; the process registry by default.

    Raises:
        InstructionError: the instruction is malformed or names something not installed; the message points at
            the column.
    """
    registry = registry or default_registry()
    key = (id(registry), instruction)
    if key not in _CACHE:
        _CACHE[key] = _Planner(registry, parse(instruction)).plan()
    return _CACHE[key]


class _Planner:
    def __init__(self, registry: Registry, syntax: Syntax) -> None:
        self.reg = registry
        self.syn = syntax
        self.text = syntax.text
        self.slots: list[SlotPlan] = []
        self.modalities: dict[str, str] = {}
        self.columns: dict[str, tuple[str, Slot]] = {}

    def fail(self, reason: str, column: int, width: int = 1, suggestion: str | None = None) -> None:
        raise InstructionError(reason, self.text, column, width=width, suggestion=suggestion)

    def plan(self) -> Plan:
        group_id = 0
        segments: dict[str, list[Any]] = {"encoder": [], "decoder": []}
        for side, sentence in (("encoder", self.syn.encoder), ("decoder", self.syn.decoder)):
            for item in sentence.items:
                if isinstance(item, Group):
                    body = [self.item(sub, side, group_id) for sub in item.items]
                    segments[side].append(("loop", body, item))
                    group_id += 1
                else:
                    segments[side].append(self.item(item, side, None))
        for s in self.slots:
            spec = self.reg.modality(s.modality)
            for needed in spec.requires if spec else ():
                if not any(o.modality == needed and o.side == "encoder" for o in self.slots):
                    self.fail(f"a {s.modality} slot is relative to a {needed} slot on the encoder side, and this "
                              "instruction has none", s.span[0], s.span[1] - s.span[0])
        program = Program(tuple(self.segment(x) for x in segments["decoder"]), eos=True)
        self._check_program(program)
        return Plan(self.text, tuple(self.slots), program, dict(self.modalities))

    # -- items ---------------------------------------------------------------------------------------------
    def item(self, node: Text | Slot, side: str, group: int | None) -> int:
        if isinstance(node, Text):
            return self.prompt(node, side, group)
        return self.slot(node, side, group)

    def prompt(self, node: Text, side: str, group: int | None) -> int:
        spec = self.reg.modality("TEXT")
        if spec is None:
            self.fail("prompt text needs the TEXT modality, which is not installed", node.start,
                      max(1, node.end - node.start), suggestion="pip install polymodal-modality-text")
        pre = Choice(spec.default_preprocessor, self.reg.distribution_of("preprocessor", spec.default_preprocessor),
                     "prompt text")
        comp_name = spec.default_adapter if side == "encoder" else spec.default_head
        comp = Choice(comp_name, self.reg.distribution_of("adapter" if side == "encoder" else "head", comp_name),
                      "prompt text") if comp_name else None
        self.modalities["TEXT"] = self.reg.distribution_of("modality", "text")
        index = len(self.slots)
        self.slots.append(SlotPlan(index, side, "TEXT", None, node.text, {}, pre,
                                   comp if side == "encoder" else None, comp if side == "decoder" else None,
                                   group, (node.start, node.end), space="text"))
        return index

    def slot(self, node: Slot, side: str, group: int | None) -> int:
        spec = self.modality(node)
        attrs = {a.name: a for a in node.attrs}
        pre_name, pre_reason = self.choose(node, side, spec, attrs, "preprocessor")
        comp_kind = "adapter" if side == "encoder" else "head"
        comp_name, comp_reason = self.choose(node, side, spec, attrs, comp_kind)
        pre_spec = self.component("preprocessor", pre_name, node, attrs.get("preprocess"), spec)
        comp_spec = self.component(comp_kind, comp_name, node, attrs.get("adapter") or attrs.get("adaptor"), spec) \
            if comp_name else None
        if comp_spec is not None and side not in comp_spec.sides:
            self.fail(f"{comp_kind} '{comp_name}' cannot serve the {side} side", node.start, node.end - node.start)
        space = None
        if comp_spec is not None:
            space = comp_spec.options.get("space")
        schema = self.schema(side, spec, pre_spec, comp_spec, token_based=space is not None)
        values = self.attributes(node, side, schema)
        column = node.name if node.name is not None else str(len(self.slots))
        if node.name is not None:
            seen = self.columns.get(node.name)
            if seen is not None and seen[0] != node.type:
                self.fail(f"column '{node.name}' is bound to a {seen[0]} slot elsewhere and to {node.type} here",
                          node.start, node.end - node.start, suggestion="give the slots different names")
            self.columns[node.name] = (node.type, node)
        index = len(self.slots)
        pre = Choice(pre_name, self.reg.distribution_of("preprocessor", pre_name), pre_reason)
        comp = Choice(comp_name, self.reg.distribution_of(comp_kind, comp_name), comp_reason) if comp_name else None
        self.slots.append(SlotPlan(index, side, node.type, column, None, values, pre,
                                   comp if side == "encoder" else None, comp if side == "decoder" else None,
                                   group, (node.start, node.end), space=space))
        return index

    def modality(self, node: Slot) -> ModalitySpec:
        spec = self.reg.modality(node.type)
        if spec is not None:
            self.modalities[node.type] = self.reg.distribution_of("modality", node.type.lower())
            return spec
        width = len(node.type)
        col = node.start + 1
        installed = self.reg.modality_tokens()
        if node.type.upper() in installed:
            self.fail(f"slot types are upper case: '{node.type}' is not a modality", col, width,
                      suggestion=f"did you mean [{node.type.upper()}...]?")
        upper = node.type.upper()
        handle = next((h for h in self.reg.handles("modality") if h.name == node.type.lower()), None)
        if handle is not None and not handle.usable:
            self.fail(f"the modality {upper} is installed but unusable ({handle.status}: {handle.reason})", col, width,
                      suggestion=f"see `polymodal plugins --kind modality`; reinstall {handle.distribution}")
        if upper in KNOWN_DISTRIBUTIONS:
            where = "" if upper == node.type else f" ('{node.type}' is written in lower case)"
            self.fail(f"no modality {upper} is installed{where}", col, width,
                      suggestion=f"pip install {KNOWN_DISTRIBUTIONS[upper]}")
        close = difflib.get_close_matches(upper, installed, n=2, cutoff=0.5)
        self.fail(f"unknown slot type '{node.type}'", col, width,
                  suggestion=(f"did you mean {' or '.join(close)}? " if close else "")
                  + f"installed modalities: {', '.join(installed) or 'none'}")
        raise AssertionError

    def choose(self, node: Slot, side: str, spec: ModalitySpec, attrs: dict[str, Attr], kind: str) -> tuple[str | None, str]:
        keys = ("preprocess",) if kind == "preprocessor" else ("adapter", "adaptor")
        for key in keys:
            if key in attrs:
                attr = attrs[key]
                if not attr.value:
                    self.fail(f"'{key}' needs a component name", attr.start, attr.end - attr.start,
                              suggestion=f"e.g. {key}=NAME")
                return attr.value, f"attribute {key}={attr.value}"
        names = {a: v.value for a, v in attrs.items()}
        hooks = self.reg.hooks
        hooked = (hooks.choose_preprocessor if kind == "preprocessor" else hooks.choose_adapter)(spec.token, side, names)
        if hooked:
            return hooked, "hook"
        default = {"preprocessor": spec.default_preprocessor, "adapter": spec.default_adapter,
                   "head": spec.default_head}[kind]
        if default is None:
            self.fail(f"the {spec.token} modality has no default {kind} for the {side} side", node.start,
                      node.end - node.start,
                      suggestion=f"name one with {'preprocess' if kind == 'preprocessor' else 'adapter'}=...")
        return default, f"{spec.token} default"

    def component(self, kind: str, name: str, node: Slot, attr: Attr | None, modality: ModalitySpec) -> ComponentSpec:
        col, width = (attr.start, attr.end - attr.start) if attr else (node.start, node.end - node.start)
        try:
            spec = self.reg.get(kind, name)
        except PluginError as exc:
            other = "head" if kind == "adapter" else "adapter" if kind == "head" else None
            if other and self.reg.has(other, name):
                side = "decoder" if other == "head" else "encoder"
                self.fail(f"'{name}' is a {other}: it serves the {side} side only", col, width)
            self.fail(str(exc), col, width)
        if spec.modality is not None and spec.modality != modality.token:
            self.fail(f"{kind} '{name}' is for {spec.modality} slots, not {modality.token}", col, width)
        return spec

    def schema(self, side: str, modality: ModalitySpec, pre: ComponentSpec, comp: ComponentSpec | None,
               token_based: bool) -> dict[str, AttrSpec]:
        specs: list[AttrSpec] = list(SLOT_ATTRIBUTES)
        if token_based:
            specs += PROGRAM_ATTRIBUTES
        specs += pre.attributes
        if comp is not None:
            specs += comp.attributes
        specs += self.reg.hooks.slot_attributes(modality.token, side)
        out: dict[str, AttrSpec] = {}
        for spec in specs:
            out.setdefault(spec.name, spec)
            for alias in spec.aliases:
                out.setdefault(alias, spec)
        return out

    def attributes(self, node: Slot, side: str, schema: dict[str, AttrSpec]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for attr in node.attrs:
            spec = schema.get(attr.name)
            if spec is None:
                close = difflib.get_close_matches(attr.name, list(schema), n=1, cutoff=0.6)
                hint = f"did you mean '{close[0]}'?" if close else None
                known = ", ".join(sorted(n for n, s in schema.items() if n == s.name))
                self.fail(f"unknown attribute '{attr.name}' for this {node.type} slot", attr.start, len(attr.name),
                          suggestion=(hint + " " if hint else "") + f"(attributes here: {known})")
            if side not in spec.sides:
                self.fail(f"'{attr.name}' applies to {'/'.join(sorted(spec.sides))} slots only, and this one is on "
                          f"the {side} side", attr.start, len(attr.name))
            if spec.name in ("preprocess", "adapter"):
                values[spec.name] = attr.value
                continue
            try:
                values[spec.name] = spec.coerce(attr.value)
            except ValueError as exc:
                self.fail(str(exc), attr.start, attr.end - attr.start)
        return values

    # -- decoding program ----------------------------------------------------------------------------------
    def segment(self, entry: Any) -> Segment:
        if isinstance(entry, tuple):
            _, body, _node = entry
            return Segment("loop", body=tuple(self.segment(b) for b in body))
        s = self.slots[entry]
        head = self.reg.get("head", s.head.name) if s.head else None
        options = head.options if head is not None else {}
        if s.space is None:
            return Segment("continuous", slot=s.index)
        if s.is_prompt or s.attrs.get("no_loss"):
            return Segment("forced", slot=s.index, space=s.space)
        if s.attrs.get("closed_set"):
            return Segment("choice", slot=s.index, space=s.space)
        if s.attrs.get("keeps"):
            kept = s.attrs["keeps"]
            if not any(o.side == "encoder" and o.column == kept for o in self.slots):
                self.fail(f"keeps={kept} names no input column of this instruction (the slot keeps the given parts "
                          "of an encoder-side column)", s.span[0], s.span[1] - s.span[0])
            return Segment("template", slot=s.index, space=s.space)
        if options.get("length"):
            # option "size": the slot attribute that limits the span to the first tokens of its space
            size = s.attrs.get(options["size"]) if options.get("size") else None
            return Segment("span", slot=s.index, space=s.space, length=int(options["length"]),
                           size=int(size) if size else None)
        return Segment("free", slot=s.index, space=s.space, max_length=s.attrs.get("max_length"))

    def _check_program(self, program: Program) -> None:
        for seg in program.segments:
            if seg.kind == "loop":
                first = seg.body[0]
                if first.kind not in ("span", "choice"):
                    s = self.slots[first.slot]
                    self.fail("a repeated group on the decoder side must start with a fixed-length or closed-set "
                              "slot (e.g. [BOX:b]), so that the start of each repetition can be recognised", s.span[0], s.span[1] - s.span[0])
                if any(b.kind == "template" for b in seg.body):
                    s = next(self.slots[b.slot] for b in seg.body if b.kind == "template")
                    self.fail("a slot that keeps another column (keeps=...) cannot repeat in a group", s.span[0],
                              s.span[1] - s.span[0])
                if any(b.kind == "continuous" for b in seg.body):
                    s = next(self.slots[b.slot] for b in seg.body if b.kind == "continuous")
                    self.fail("continuous outputs cannot repeat in a group", s.span[0], s.span[1] - s.span[0])
        kinds = [s.kind for s in program.segments]
        if "continuous" in kinds and len([k for k in kinds if k != "forced"]) > 1:
            s = next(self.slots[x.slot] for x in program.segments if x.kind == "continuous")
            self.fail("a continuous output (speech, motion) must be the only predicted slot of the decoder sentence",
                      s.span[0], s.span[1] - s.span[0])
