"""The instruction language: a strict parser from text to a syntax tree.

Grammar (whitespace between items is free; inside a slot it is an error)::

    instruction := sentence "->" sentence
    sentence    := (text | slot | group)*
    slot        := "[" TYPE (":" name)? ("," attr ("=" value)?)* "]"
    group       := "(" (text | slot)* ")*"
    value       := bare | "'...'" | '"..."'

A backslash escapes the next character in prompt text (``\\[``, ``\\(``, ``\\-``...). Slot types are checked
against the installed modalities by the planner, not here: the parser knows no modality.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Union

from polymodal.errors import InstructionError

__all__ = ["Text", "Attr", "Slot", "Group", "Sentence", "Syntax", "parse"]

_TYPE_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ATTR_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BARE_VALUE_RE = re.compile(r"[^,\]\s\"']+")


@dataclass(frozen=True)
class Text:
    """Prompt text between slots, with escapes resolved."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Attr:
    """One ``name`` or ``name=value`` inside a slot; ``value`` is ``None`` for a bare flag."""

    name: str
    value: str | None
    start: int
    end: int


@dataclass(frozen=True)
class Slot:
    """A ``[TYPE:name,attr=value]`` slot. ``name`` is ``None`` when the slot is unnamed."""

    type: str
    name: str | None
    attrs: tuple[Attr, ...]
    start: int
    end: int


@dataclass(frozen=True)
class Group:
    """A ``( ... )*`` repetition of its items."""

    items: tuple[Union[Text, Slot], ...]
    start: int
    end: int


Item = Union[Text, Slot, Group]


@dataclass(frozen=True)
class Sentence:
    """One side of an instruction."""

    items: tuple[Item, ...]
    start: int
    end: int

    def slots(self) -> list[Slot]:
        out: list[Slot] = []
        for item in self.items:
            if isinstance(item, Slot):
                out.append(item)
            elif isinstance(item, Group):
                out.extend(i for i in item.items if isinstance(i, Slot))
        return out


@dataclass(frozen=True)
class Syntax:
    """A parsed instruction: the encoder and decoder sentences."""

    text: str
    encoder: Sentence
    decoder: Sentence
    arrow: int = field(default=-1)


class _Parser:
    def __init__(self, text: str) -> None:
        self.s = text
        self.n = len(text)

    def fail(self, reason: str, column: int, *, width: int = 1, suggestion: str | None = None) -> None:
        raise InstructionError(reason, self.s, column, width=width, suggestion=suggestion)

    # -- top level -------------------------------------------------------------------------------------
    def parse(self) -> Syntax:
        if not self.s.strip():
            self.fail("the instruction is empty", 0,
                      suggestion='write "ENCODER SENTENCE -> DECODER SENTENCE", e.g. "[TEXT:src] -> [TEXT:tgt]"')
        arrows = self._arrows()
        if not arrows:
            self.fail("the instruction has no '->' between its encoder and decoder sentences", self.n,
                      suggestion="add ' -> ' between the input and the output; either side may be empty")
        if len(arrows) > 1:
            self.fail("the instruction has more than one '->'", arrows[1], width=2,
                      suggestion="an instruction has exactly one '->'; write a literal arrow in prompt text as \\->")
        arrow = arrows[0]
        encoder = self._sentence(0, arrow)
        decoder = self._sentence(arrow + 2, self.n)
        return Syntax(self.s, encoder, decoder, arrow)

    def _arrows(self) -> list[int]:
        """Columns of unescaped '->' outside slots and quoted attribute values."""
        out, i, in_slot, quote, slot_start = [], 0, False, "", 0
        while i < self.n:
            c = self.s[i]
            if quote:
                if c == "\\":
                    i += 2
                    continue
                if c == quote:
                    quote = ""
            elif c == "\\":
                i += 2
                continue
            elif in_slot and c in "\"'":
                quote = c
            elif c == "[":
                if in_slot:
                    self._unclosed(slot_start)
                in_slot, slot_start = True, i
            elif c == "]":
                in_slot = False
            elif not in_slot and self.s.startswith("->", i):
                out.append(i)
                i += 2
                continue
            i += 1
        if in_slot:
            self._unclosed(slot_start)
        return out

    def _unclosed(self, start: int) -> None:
        self.fail("'[' opens a slot that is never closed with ']'", start,
                  suggestion="close the slot with ']', or write a literal bracket as \\[")

    # -- sentences ---------------------------------------------------------------------------------------
    def _sentence(self, start: int, end: int) -> Sentence:
        items: list[Item] = []
        group_items: list[Union[Text, Slot]] | None = None
        group_start = -1
        buf: list[str] = []
        buf_start = start
        i = start

        def flush(upto: int) -> None:
            nonlocal buf, buf_start
            text = "".join(buf)
            if text.strip():
                node = Text(text.strip(), buf_start, upto)
                (group_items if group_items is not None else items).append(node)
            buf = []

        while i < end:
            c = self.s[i]
            if c == "\\":
                if i + 1 >= end:
                    self.fail("a backslash at the end of a sentence escapes nothing", i)
                if not buf:
                    buf_start = i
                buf.append(self.s[i + 1])
                i += 2
                continue
            if c == "[":
                flush(i)
                slot, i = self._slot(i, end)
                (group_items if group_items is not None else items).append(slot)
                buf_start = i
                continue
            if c == "]":
                self.fail("']' closes no slot", i, suggestion="write a literal bracket as \\]")
            if c == "(":
                if group_items is not None:
                    self.fail("groups cannot be nested", i, suggestion="write a literal parenthesis as \\(")
                flush(i)
                group_items, group_start = [], i
                i += 1
                buf_start = i
                continue
            if c == ")":
                if group_items is None:
                    self.fail("')' closes no group", i, suggestion="write a literal parenthesis as \\)")
                if i + 1 >= end or self.s[i + 1] != "*":
                    self.fail("a group must end with ')*'", i, suggestion="repeat slots with ( [BOX:b] [TEXT:t] )*; "
                              "write a literal parenthesis as \\)")
                flush(i)
                if not any(isinstance(x, Slot) for x in group_items):
                    self.fail("this group repeats no slot", group_start, width=i + 2 - group_start)
                items.append(Group(tuple(group_items), group_start, i + 2))
                group_items = None
                i += 2
                buf_start = i
                continue
            if not buf:
                buf_start = i
            buf.append(c)
            i += 1
        if group_items is not None:
            self.fail("'(' opens a group that is never closed with ')*'", group_start,
                      suggestion="close the group with ')*', or write a literal parenthesis as \\(")
        flush(end)
        return Sentence(tuple(items), start, end)

    # -- slots ---------------------------------------------------------------------------------------------
    def _slot(self, start: int, end: int) -> tuple[Slot, int]:
        close = self._find_close(start, end)
        i = start + 1
        self._no_space(i)
        m = _TYPE_RE.match(self.s, i, close)
        if not m:
            what = "is empty" if self.s[i] == "]" else f"must start with a modality type, not {self.s[i]!r}"
            self.fail(f"the slot {what}", i, suggestion="write slots as [TYPE:name,attr=value], e.g. [TEXT:src]")
        type_ = m.group(0)
        i = m.end()
        name = None
        if i < close and self.s[i] == ":":
            i += 1
            self._no_space(i)
            m = _NAME_RE.match(self.s, i, close)
            if not m:
                self.fail("a slot name must follow ':' (letters, digits and '_')", i,
                          suggestion="e.g. [TEXT:sentence]")
            name = m.group(0)
            i = m.end()
        attrs: list[Attr] = []
        seen: dict[str, int] = {}
        while i < close:
            if self.s[i] != ",":
                self._no_space(i)
                self.fail(f"unexpected {self.s[i]!r} in the slot", i,
                          suggestion="slots read [TYPE:name,attr=value]; separate attributes with ','")
            i += 1
            self._no_space(i)
            am = _ATTR_RE.match(self.s, i, close)
            if not am:
                self.fail("an attribute name must follow ','" if self.s[i] in ",]" else
                          f"attribute names are letters, digits and '_', not {self.s[i]!r}", i)
            a_start, aname = i, am.group(0)
            i = am.end()
            if i < close and self.s[i] == "-":
                self._bad_attr_char(i, a_start)
            value = None
            if i < close and self.s[i] == "=":
                value, i = self._value(i + 1, close)
            if aname in seen:
                self.fail(f"attribute '{aname}' is given twice in this slot", a_start, width=len(aname))
            seen[aname] = a_start
            attrs.append(Attr(aname, value, a_start, i))
        return Slot(type_, name, tuple(attrs), start, close + 1), close + 1

    def _find_close(self, start: int, end: int) -> int:
        i, quote = start + 1, ""
        while i < end:
            c = self.s[i]
            if quote:
                if c == "\\":
                    i += 2
                    continue
                if c == quote:
                    quote = ""
            elif c in "\"'" and self.s[i - 1] == "=":
                quote = c
            elif c == "]":
                return i
            elif c == "[":
                break
            i += 1
        self._unclosed(start)
        raise AssertionError  # unreachable

    def _no_space(self, i: int) -> None:
        if i < self.n and self.s[i].isspace():
            self.fail("spaces are not allowed inside a slot", i,
                      suggestion="remove the space: slots read [TYPE:name,attr=value]")

    def _bad_attr_char(self, i: int, a_start: int) -> None:
        # A hyphenated attribute such as mask-ratio: point at the hyphen and suggest the underscore form.
        j = i
        while j < self.n and (self.s[j].isalnum() or self.s[j] in "_-"):
            j += 1
        whole = self.s[a_start:j]
        fixed = whole.replace("-", "_")
        self.fail(f"attribute names use '_', not '-' ({whole!r})", i,
                  suggestion=f"did you mean '{fixed}'?")

    def _value(self, i: int, close: int) -> tuple[str, int]:
        if i >= close:
            self.fail("a value must follow '='", i, suggestion="e.g. mask_ratio=0.3; write a flag without '='")
        c = self.s[i]
        if c in "\"'":
            out, j = [], i + 1
            while j < close:
                if self.s[j] == "\\" and j + 1 < close:
                    out.append(self.s[j + 1])
                    j += 2
                    continue
                if self.s[j] == c:
                    return "".join(out), j + 1
                out.append(self.s[j])
                j += 1
            self.fail("a quoted value is never closed", i)
        self._no_space(i)
        m = _BARE_VALUE_RE.match(self.s, i, close)
        if not m:
            self.fail("a value must follow '='", i, suggestion="e.g. mask_ratio=0.3; write a flag without '='")
        return m.group(0), m.end()


def parse(instruction: str) -> Syntax:
    """Parse an instruction into its syntax tree, or raise :class:`InstructionError` with a column.

    Args:
        instruction: the one-line instruction, e.g. ``"[IMAGE:img] what does it show? -> [TEXT:cap]"``.

    Returns:
        The :class:`Syntax` with the encoder and decoder sentences.
    """
    if not isinstance(instruction, str):
        raise TypeError(f"an instruction is a str, not {type(instruction).__name__}")
    return _Parser(instruction).parse()
