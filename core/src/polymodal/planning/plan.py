"""The plan: what an instruction compiles to, with the reason for every choice.

A :class:`Plan` lists, per slot, the preprocessor, the adapter (encoder side) or head (decoder side), and where
each came from; and, for the decoder sentence, the :class:`~polymodal.planning.program.Program` that drives
loss masks in training and constraints in generation.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from polymodal.planning.program import Program

__all__ = ["Choice", "SlotPlan", "Plan"]


@dataclass(frozen=True)
class Choice:
    """A chosen component and why it was chosen."""

    name: str
    distribution: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "distribution": self.distribution, "reason": self.reason}


@dataclass(frozen=True)
class SlotPlan:
    """One slot, or one piece of prompt text, of the instruction.

    Attributes:
        index: position in the instruction (0-based, over slots and prompt texts of both sides).
        side: ``"encoder"`` or ``"decoder"``.
        modality: the modality token (prompt text is ``"TEXT"``).
        column: data column the slot binds to; ``None`` for prompt text.
        prompt: the prompt text, for prompt pieces.
        attrs: attributes written in the slot, coerced to their declared types.
        preprocessor: chosen preprocessor.
        adapter: encoder input adapter (E-slots).
        head: decoder head (D-slots).
        group: index of the ``( ... )*`` group it belongs to, or ``None``.
        span: (start, end) columns in the instruction text.
        space: the token space of a token-based slot (``None`` for continuous slots).
    """

    index: int
    side: str
    modality: str
    column: str | None
    prompt: str | None
    attrs: Mapping[str, Any]
    preprocessor: Choice
    adapter: Choice | None
    head: Choice | None
    group: int | None
    span: tuple[int, int]
    space: str | None = None

    @property
    def is_prompt(self) -> bool:
        return self.prompt is not None

    def label(self) -> str:
        if self.is_prompt:
            text = self.prompt if len(self.prompt or "") <= 28 else (self.prompt or "")[:25] + "..."
            return repr(text)
        attrs = "".join(f",{k}" if v is True else f",{k}={v}" for k, v in self.attrs.items())
        return f"[{self.modality}:{self.column}{attrs}]"

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index, "side": self.side, "modality": self.modality, "column": self.column,
            "prompt": self.prompt, "attrs": dict(self.attrs), "group": self.group, "span": list(self.span),
            "space": self.space, "preprocessor": self.preprocessor.to_dict(),
            "adapter": self.adapter.to_dict() if self.adapter else None,
            "head": self.head.to_dict() if self.head else None,
        }


@dataclass(frozen=True)
class Plan:
    """A compiled instruction."""

    instruction: str
    slots: tuple[SlotPlan, ...]
    program: Program
    modalities: Mapping[str, str] = field(default_factory=dict)  # token -> distribution

    @property
    def encoder(self) -> list[SlotPlan]:
        return [s for s in self.slots if s.side == "encoder"]

    @property
    def decoder(self) -> list[SlotPlan]:
        return [s for s in self.slots if s.side == "decoder"]

    def input_columns(self) -> list[str]:
        """Columns needed at inference: encoder slots, then decoder slots whose tokens are forced."""
        forced = {seg.slot for seg in self.program.walk() if seg.kind == "forced" and seg.slot is not None}
        out: list[str] = []
        for s in self.slots:
            if s.column and (s.side == "encoder" or s.index in forced) and s.column not in out:
                out.append(s.column)
        return out

    def target_columns(self) -> list[str]:
        """Columns predicted by the decoder (needed for training and evaluation)."""
        forced = {seg.slot for seg in self.program.walk() if seg.kind == "forced"}
        out: list[str] = []
        for s in self.decoder:
            if s.column and s.index not in forced and s.column not in out:
                out.append(s.column)
        return out

    def slot(self, index: int) -> SlotPlan:
        return self.slots[index]

    def to_dict(self) -> dict[str, Any]:
        return {"instruction": self.instruction, "slots": [s.to_dict() for s in self.slots],
                "program": self.program.to_dict(), "input_columns": self.input_columns(),
                "target_columns": self.target_columns(), "modalities": dict(self.modalities)}

    def render(self) -> str:
        """A readable table of the plan, like SQL's EXPLAIN."""
        lines = [f"instruction: {self.instruction}", ""]
        header = ("#", "side", "slot", "preprocessor", "adapter / head", "why")
        rows = []
        for s in self.slots:
            comp = s.adapter or s.head
            why = f"preprocess: {s.preprocessor.reason}"
            if comp:
                why += f"; {'adapter' if s.adapter else 'head'}: {comp.reason}"
            group = f" (group {s.group})" if s.group is not None else ""
            rows.append((str(s.index), s.side[:3], s.label() + group,
                         f"{s.preprocessor.name} [{s.preprocessor.distribution}]",
                         f"{comp.name} [{comp.distribution}]" if comp else "-", why))
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        fmt = "  ".join(f"{{:<{w}}}" for w in widths)
        lines.append(fmt.format(*header))
        lines.append(fmt.format(*("-" * w for w in widths)))
        lines += [fmt.format(*r) for r in rows]
        lines += ["", "decoding program:"]
        lines += ["  " + line for line in self.program.describe(self)]
        lines += ["", f"input columns:  {', '.join(self.input_columns()) or '-'}",
                  f"target columns: {', '.join(self.target_columns()) or '-'}"]
        return "\n".join(lines)
