"""From raw rows to examples, and from generated tokens back to values.

:class:`RowEncoder` binds a row's columns to the plan's slots, runs each slot's preprocessor, and realises the
decoding program for the row: the encoder token sequence, the training target with its per-position loss weights
and allowed columns, and the automaton that constrains generation. ``decode`` splits generated tokens back into
slots and postprocesses them. numpy only: it runs in DataLoader workers.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from polymodal.errors import DataError, PlanError
from polymodal.planning.automaton import AutomatonBuilder, Columns, Machine, RowTokens, Trie
from polymodal.planning.plan import Plan
from polymodal.preprocessing import BuildContext, Preprocessor
from polymodal.vocab import BOS, EOS, PAD

__all__ = ["Example", "RowEncoder"]


@dataclass
class Example:
    """One preprocessed row.

    Attributes:
        encoder_tokens: global ids of all encoder token pieces together (``<s> ... </s>``).
        encoder_pieces: the encoder input in instruction order: ``("tokens", ids, from_data, cells)`` runs (the
            first starts with ``<s>``, the last ends with ``</s>``; ``from_data`` flags the tokens of the row rather
            than of the instruction's own text; ``cells`` are their grid coordinates, ``(0, 0, 0)`` for none, or None
            when no token of the run has any) and
            ``("features", slot_index, arrays)`` for adapter slots.
        target: training target in global ids (EOS included), or ``None`` at inference.
        decoder_input: teacher-forcing input (``<s>`` + noised target without its last token).
        loss_weight: 1.0 where the position is scored, 0.0 for forced tokens.
        allowed: bool [T, C] allowed output columns per target position.
        decoder_cells: int [T, 3] grid coordinates of the token each position predicts, or None.
        machine: the row's decoding automaton.
        notes: what preprocessors left for later slots and postprocessors in the row's working copy (keys
            ``__like_this__``, e.g. an image's resize/augmentation transform that its boxes follow).
    """

    encoder_tokens: list[int]
    encoder_pieces: list[tuple]
    target: list[int] | None
    decoder_input: list[int] | None
    loss_weight: np.ndarray | None
    allowed: np.ndarray | None
    machine: Machine
    notes: dict = field(default_factory=dict)
    decoder_cells: np.ndarray | None = None


class RowEncoder:
    """Preprocess rows for one plan.

    Args:
        plan: the compiled instruction.
        registry: where the preprocessors come from.
        ctx: layout and resources.
        closed_sets: column -> labels for ``closed_set`` slots.
        task: task name for error messages.
    """

    def __init__(self, plan: Plan, registry: Any, ctx: BuildContext,
                 closed_sets: Mapping[str, Sequence[Any]] | None = None, task: str | None = None) -> None:
        self.plan, self.ctx, self.task = plan, ctx, task
        self.pre: dict[int, Preprocessor] = {}
        for slot in plan.slots:
            cls = registry.get("preprocessor", slot.preprocessor.name).load()
            self.pre[slot.index] = cls(slot, ctx)
        spaces = {seg.space for seg in plan.program.walk() if seg.space}
        ranges = [(ctx.layout.space("special").offset, ctx.layout.space("special").end)]
        ranges += [(ctx.layout.space(s).offset, ctx.layout.space(s).end) for s in sorted(spaces)]
        self.columns = Columns(ranges, EOS, PAD)
        self.builder = AutomatonBuilder(plan.program, self.columns,
                                        {s.name: (s.offset, s.end) for s in ctx.layout.spaces()})
        self.tries: dict[int, Trie] = {}
        for seg in plan.program.walk():
            if seg.kind == "choice":
                slot = plan.slot(seg.slot)
                labels = (closed_sets or {}).get(slot.column)
                if not labels:
                    raise PlanError(f"slot {slot.label()} is closed_set but no labels are known for column "
                                    f"'{slot.column}' (give the task closed_sets, or train data)")
                pre = self.pre[slot.index]
                self.tries[slot.index] = Trie({str(v): tuple(pre.label_tokens(v)) for v in labels})

    def encode(self, row: Mapping[str, Any], *, train: bool, rng: random.Random | None = None,
               index: int | None = None, targets: bool = True) -> Example:
        """Preprocess one row; ``train`` adds noise and needs the target columns; ``targets=False`` (generation)
        ignores target columns even when the row has them."""
        rng = rng or random.Random(f"row:{index}")  # evaluation: a fixed stream per row
        try:
            return self._encode(row, train, rng, targets or train)
        except DataError as exc:
            raise exc.located(task=self.task, row=index) from None

    def _value(self, row: Mapping[str, Any], column: str) -> Any:
        if column not in row:
            raise DataError(f"missing column (the row has: {', '.join(map(str, row)) or 'nothing'})", column=column)
        return row[column]

    def _encode(self, row: Mapping[str, Any], train: bool, rng: random.Random, want_targets: bool) -> Example:
        row = dict(row)  # a working copy: preprocessors may leave notes for later slots (image -> box)
        enc: list[int] = [BOS]
        # token runs carry, per token, whether it comes from the row's data (True) or the instruction's own
        # text (False): the copy pointer copies data only
        pieces: list[tuple] = [("tokens", [BOS], [False], [_NO_CELL])]
        for slot in self.plan.encoder:
            value = None if slot.is_prompt else self._value(row, slot.column)
            if slot.group is not None and not isinstance(value, (list, tuple)):
                raise DataError("a repeated group's column must hold a list", column=slot.column)
            values = value if slot.group is not None else [value]
            for v in values:
                try:
                    out = self.pre[slot.index].encode(v, train=train, rng=rng, row=row)
                except DataError as exc:
                    raise exc.located(column=slot.column)
                if "tokens" in out:
                    if pieces[-1][0] != "tokens":
                        pieces.append(("tokens", [], [], []))
                    pieces[-1][1].extend(out["tokens"])
                    pieces[-1][2].extend([not slot.is_prompt] * len(out["tokens"]))
                    pieces[-1][3].extend(_cells(out, slot))
                    enc.extend(out["tokens"])
                else:
                    pieces.append(("features", slot.index, out))
        if pieces[-1][0] != "tokens":
            pieces.append(("tokens", [], [], []))
        pieces[-1][1].append(EOS)
        pieces[-1][2].append(False)
        pieces[-1][3].append(_NO_CELL)
        # runs without any coordinates carry None (the collator then skips them)
        pieces = [p if p[0] != "tokens" or any(c != _NO_CELL for c in p[3]) else (*p[:3], None) for p in pieces]
        enc.append(EOS)
        forced: dict[int, list[int]] = {}
        templates: dict[int, list] = {}
        cells: dict[int, list] = {}
        targets: dict[int, list[list[int]]] = {}
        loops: dict[int, int] = {}
        have_targets = True
        for pos, seg in enumerate(self.plan.program.segments):
            segs = seg.body if seg.kind == "loop" else (seg,)
            for sub in segs:
                slot = self.plan.slot(sub.slot)
                pre = self.pre[slot.index]
                if sub.kind == "forced":
                    value = None if slot.is_prompt else self._value(row, slot.column)
                    forced[slot.index] = pre.target(value, train=False, rng=rng, row=row)
                    continue
                if sub.kind == "template":
                    try:
                        templates[slot.index] = list(pre.template(row))
                        where = pre.template_cells(row)
                    except DataError as exc:
                        raise exc.located(column=slot.column)
                    if where is not None:
                        if len(where) != len(templates[slot.index]):
                            raise DataError(f"{type(pre).__name__} gave {len(where)} cell coordinates for a "
                                            f"template of {len(templates[slot.index])} tokens", column=slot.column)
                        cells[slot.index] = [tuple(c) for c in where]
                if not want_targets or slot.column not in row:
                    have_targets = False
                    continue
                value = row[slot.column]
                values = list(value) if seg.kind == "loop" else [value]
                if seg.kind == "loop":
                    if loops.setdefault(pos, len(values)) != len(values):
                        raise DataError("the columns of a repeated group have different lengths", column=slot.column)
                try:
                    targets[slot.index] = [pre.target(v, train=train, rng=rng, row=row) for v in values]
                except DataError as exc:
                    raise exc.located(column=slot.column)
                if sub.kind == "template":
                    _check_template(templates[slot.index], targets[slot.index][0], slot)
        tokens = RowTokens(forced=forced, targets=targets, tries=self.tries, loop_counts=loops, templates=templates,
                           cells=cells)
        machine = self.builder.build(tokens)
        if not have_targets:
            if train:
                missing = [c for c in self.plan.target_columns() if c not in row]
                raise DataError(f"missing target column (the row has: {', '.join(map(str, row))})",
                                column=missing[0] if missing else None)
            return Example(enc, pieces, None, None, None, None, machine, _notes(row))
        target = self.builder.target(tokens, EOS)
        cols = [self.columns.column(t) for t in target]
        try:
            states = machine.trace(cols)
        except ValueError as exc:
            bad = self._slot_at(machine, target, str(exc))
            raise DataError(f"the target does not fit the decoding program ({exc}); for a closed set, is the "
                            f"value one of the labels?", column=bad) from None
        weight = (~machine.no_loss[states]).astype(np.float32)
        allowed = np.stack([machine.allowed(s) for s in states])
        dec_in = [BOS] + self._noised(target[:-1], machine, states, train, rng)
        dec_cells = machine.cells[states] if machine.cells is not None else None
        return Example(enc, pieces, target, dec_in, weight, allowed, machine, _notes(row), dec_cells)

    def _noised(self, tokens: list[int], machine: Machine, states: list[int], train: bool,
                rng: random.Random) -> list[int]:
        if not train:
            return list(tokens)
        out = list(tokens)
        slots = machine.slot_of_state[states[: len(tokens)]] if machine.slot_of_state is not None else []
        for slot_index in set(int(s) for s in slots if s >= 0):
            positions = [i for i, s in enumerate(slots) if s == slot_index]
            noisy = self.pre[slot_index].decoder_input([out[i] for i in positions], train=True, rng=rng)
            for i, t in zip(positions, noisy):
                out[i] = t
        return out

    def _slot_at(self, machine: Machine, target: list[int], message: str) -> str | None:
        """The column of the first predicted segment (where a misfit target almost always comes from)."""
        for seg in self.plan.program.walk():
            if seg.kind in ("choice", "span", "free"):
                return self.plan.slot(seg.slot).column
        return None

    def decode(self, columns: Sequence[int], machine: Machine, row: Mapping[str, Any] | None = None
               ) -> dict[str, Any]:
        """Split generated columns (EOS and padding included or not) into slot values, postprocessed.

        ``row`` is the input row plus the example's ``notes`` (a box needs its image's transform).
        """
        ids = self.columns.ids()
        state, pieces = machine.start, []
        for col in columns:
            if state < 0 or machine.final[state]:
                break
            slot = int(machine.slot_of_state[state])
            kept = machine.kept is not None and machine.kept[state]
            if col not in (self.columns.eos, self.columns.pad) and slot >= 0 and (kept or not machine.no_loss[state]):
                pieces.append((slot, int(ids[col])))
            state = machine.advance(state, int(col))
        out: dict[str, Any] = {}
        groups: list[tuple[int, list[int]]] = []
        for slot, tok in pieces:
            if groups and groups[-1][0] == slot:
                groups[-1][1].append(tok)
            else:
                groups.append((slot, [tok]))
        for slot, toks in groups:
            plan_slot = self.plan.slot(slot)
            value = self.pre[slot].postprocess(toks, row)
            if plan_slot.group is not None:
                out.setdefault(plan_slot.column, []).append(value)
            else:
                out[plan_slot.column] = value
        for seg in self.plan.program.segments:
            if seg.kind == "loop":
                for sub in seg.body:
                    out.setdefault(self.plan.slot(sub.slot).column, [])
        return out


def _check_template(template: Sequence[Any], target: Sequence[int], slot: Any) -> None:
    """A target of a slot with ``keeps=COLUMN`` must be that column's template with its blanks filled in."""
    kept = slot.attrs.get("keeps")
    if len(template) != len(target):
        raise DataError(f"the value has {len(target)} tokens where column '{kept}', which it keeps, has "
                        f"{len(template)}", column=slot.column)
    for i, (entry, tok) in enumerate(zip(template, target)):
        if isinstance(entry, tuple) and tok not in entry:
            raise DataError(f"token {i} fills a blank of column '{kept}' with a token not allowed there",
                            column=slot.column)
        if not isinstance(entry, tuple) and tok != entry:
            raise DataError(f"token {i} changes what column '{kept}' gives (the value must keep it)",
                            column=slot.column)


_NO_CELL = (0, 0, 0)


def _cells(out: Mapping[str, Any], slot: Any) -> list[tuple[int, int, int]]:
    """The coordinates of a token slot's output (``(0, 0, 0)`` each when its preprocessor gives none)."""
    cells = out.get("cells")
    if cells is None:
        return [_NO_CELL] * len(out["tokens"])
    if len(cells) != len(out["tokens"]):
        raise DataError(f"the preprocessor gave {len(cells)} cell coordinates for {len(out['tokens'])} tokens",
                        column=slot.column)
    return [tuple(int(v) for v in c) for c in cells]


def _notes(row: Mapping[str, Any]) -> dict:
    return {k: v for k, v in row.items() if isinstance(k, str) and k.startswith("__") and k.endswith("__")}
