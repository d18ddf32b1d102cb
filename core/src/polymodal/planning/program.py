"""The decoding program: what the decoder may emit, segment by segment.

The decoder sentence compiles into a list of segments, then an end-of-sequence token:

- ``forced``: tokens known in advance (decoder-side prompt text, ``no_loss`` slots): fed, never scored;
- ``free``: any tokens of one space, ending where the next segment (or EOS) starts; ``max_length`` caps it;
- ``span``: exactly ``length`` tokens of one space (a box is 4 location tokens);
- ``choice``: one label of a closed set, as a trie over the labels' tokens;
- ``loop``: its body repeated zero or more times (``( ... )*``);
- ``continuous``: a non-token output (speech frames, motion) produced by its head.

The same program yields training's loss mask and per-position allowed-token masks and generation's constraints
(see :mod:`polymodal.planning.automaton`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:
    from polymodal.planning.plan import Plan

__all__ = ["Segment", "Program"]

KINDS = ("forced", "free", "span", "choice", "loop", "continuous", "template")


@dataclass(frozen=True)
class Segment:
    """One step of the decoding program.

    Attributes:
        kind: one of ``forced``, ``free``, ``span``, ``choice``, ``loop``, ``continuous``, ``template``
            (the value is another column's with its blanks filled in: its given tokens are forced but kept in the
            value, and only the blanks are predicted; a slot with the ``keeps`` attribute).
        slot: index of the :class:`SlotPlan` it comes from (``None`` for a loop).
        space: token space of the tokens (``None`` for loops and continuous outputs).
        length: exact token count of a ``span``.
        size: a ``span`` uses only the first ``size`` tokens of its space (e.g. a box slot's ``num_bins``).
        max_length: cap on a ``free`` segment.
        body: the segments of a ``loop``.
    """

    kind: str
    slot: int | None = None
    space: str | None = None
    length: int | None = None
    max_length: int | None = None
    size: int | None = None
    body: tuple["Segment", ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        for key in ("slot", "space", "length", "max_length", "size"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.body:
            out["body"] = [b.to_dict() for b in self.body]
        return out


@dataclass(frozen=True)
class Program:
    """The decoder sentence as a sequence of segments, ended by EOS (when ``eos``)."""

    segments: tuple[Segment, ...]
    eos: bool = True

    def walk(self) -> Iterator[Segment]:
        """Every segment, loops expanded into their bodies (depth first)."""
        stack = list(reversed(self.segments))
        while stack:
            seg = stack.pop()
            yield seg
            stack.extend(reversed(seg.body))

    @property
    def is_empty(self) -> bool:
        return not self.segments

    def to_dict(self) -> dict[str, Any]:
        return {"segments": [s.to_dict() for s in self.segments], "eos": self.eos}

    def describe(self, plan: "Plan") -> list[str]:
        if not self.segments:
            return ["(empty: encoder-only instruction)"]
        lines: list[str] = []
        step = 0

        def line(seg: Segment, indent: str) -> None:
            nonlocal step
            step += 1
            slot = plan.slot(seg.slot) if seg.slot is not None else None
            what = slot.label() if slot is not None else ""
            if seg.kind == "forced":
                source = "prompt text" if slot is not None and slot.is_prompt else f"column '{slot.column}'"
                lines.append(f"{indent}{step}. forced {what}: {seg.space} tokens from the {source}, no loss")
            elif seg.kind == "free":
                cap = f", at most {seg.max_length} tokens" if seg.max_length else ""
                lines.append(f"{indent}{step}. free {what}: any '{seg.space}' tokens{cap}, "
                             "until the next segment starts")
            elif seg.kind == "span":
                first = f" (its first {seg.size})" if seg.size else ""
                lines.append(f"{indent}{step}. span {what}: exactly {seg.length} '{seg.space}' tokens{first}")
            elif seg.kind == "template":
                lines.append(f"{indent}{step}. template {what}: the tokens of column '{slot.attrs.get('keeps')}' "
                             f"with its blanks filled in: its given tokens forced (no loss, kept in the value), "
                             f"each blank one of the tokens its preprocessor allows there")
            elif seg.kind == "choice":
                lines.append(f"{indent}{step}. closed set {what}: one label of column '{slot.column}' as a trie "
                             f"over '{seg.space}' tokens (labels from the task's closed_sets or its train split)")
            elif seg.kind == "continuous":
                lines.append(f"{indent}{step}. continuous {what}: frames from head {slot.head.name}")
            elif seg.kind == "loop":
                lines.append(f"{indent}{step}. loop, zero or more times:")
                for sub in seg.body:
                    line(sub, indent + "   ")

        for seg in self.segments:
            line(seg, "")
        if self.eos:
            lines.append(f"{step + 1}. end: </s>")
        return lines
