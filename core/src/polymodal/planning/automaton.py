"""Realising a decoding program over token ids: the state machine behind loss masks and constraints.

:class:`AutomatonBuilder` turns a :class:`~polymodal.planning.program.Program` plus the row's concrete tokens
(forced prefixes, closed-set labels) into states over output *columns* (the head's scored ids). Each state has an
allowed set, optional forced column, explicit edges (trie branches, segment boundaries) and a default successor.
Training runs the machine over the target to get each position's allowed mask and loss weight; generation runs
it step by step in tensor form (:class:`polymodal.generation.automaton.Automaton`). numpy only: this runs in
DataLoader workers.

A free-length segment followed by something that may start with a token of its own space ends with ``</s>``
(a segment separator); otherwise it ends where the next segment's first token appears.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from polymodal.errors import DataError, PlanError
from polymodal.planning.program import Program, Segment

__all__ = ["Columns", "RowTokens", "Machine", "AutomatonBuilder", "Trie"]

DEFAULT_FREE_MAX = 256


class Columns:
    """The head's output columns: the special space plus the spaces a program uses, in layout order."""

    def __init__(self, ranges: Sequence[tuple[int, int]], eos_id: int, pad_id: int) -> None:
        self.ranges = sorted(ranges)
        starts, total = [], 0
        for lo, hi in self.ranges:
            starts.append(total)
            total += hi - lo
        self._starts = starts
        self.size = total
        self.eos = self.column(eos_id)
        self.pad = self.column(pad_id)

    def column(self, token: int) -> int:
        for (lo, hi), start in zip(self.ranges, self._starts):
            if lo <= token < hi:
                return start + token - lo
        raise PlanError(f"token id {token} is not scored by this head")

    def columns_of(self, lo: int, hi: int) -> tuple[int, int]:
        return self.column(lo), self.column(hi - 1) + 1

    def ids(self) -> np.ndarray:
        return np.concatenate([np.arange(lo, hi) for lo, hi in self.ranges]).astype(np.int64)


@dataclass
class Trie:
    """Closed-set labels as token sequences (global ids)."""

    labels: dict[str, tuple[int, ...]]

    def __post_init__(self) -> None:
        seen: dict[tuple[int, ...], str] = {}
        for label, toks in self.labels.items():
            if not toks:
                raise PlanError(f"closed-set label {label!r} has no tokens")
            if toks in seen:
                raise PlanError(f"closed-set labels {seen[toks]!r} and {label!r} tokenise identically")
            seen[toks] = label


@dataclass
class RowTokens:
    """The concrete tokens of one row, per program slot index.

    Attributes:
        forced: slot index -> global ids of a forced segment.
        targets: slot index -> global ids of a predicted segment (per repetition for slots inside a loop).
        tries: slot index -> closed set.
        loop_counts: loop position (in ``program.segments``) -> repetitions (training).
        templates: slot index -> the template of a ``template`` segment: per token a global id (given) or a
            tuple of global ids (a blank and what may fill it); see ``Preprocessor.template``.
        cells: slot index -> per token of its template, the ``(row, column, group)`` coordinates of the cell it
            fills (1-based, 0 = none); see ``Preprocessor.template_cells``.
    """

    forced: Mapping[int, Sequence[int]] = field(default_factory=dict)
    targets: Mapping[int, Sequence[Sequence[int]]] = field(default_factory=dict)
    tries: Mapping[int, Trie] = field(default_factory=dict)
    loop_counts: Mapping[int, int] = field(default_factory=dict)
    templates: Mapping[int, Sequence[int | tuple[int, ...]]] = field(default_factory=dict)
    cells: Mapping[int, Sequence[tuple[int, int, int]]] = field(default_factory=dict)


@dataclass
class _State:
    allowed: set[int] = field(default_factory=set)       # explicit columns
    ranges: list[tuple[int, int]] = field(default_factory=list)  # column ranges (default rule)
    default: int = -1
    edges: dict[int, int] = field(default_factory=dict)
    forced: int = -1
    final: bool = False
    no_loss: bool = False
    slot: int = -1
    kept: bool = False  # forced, but part of the slot's value (a template's given token)
    cell: tuple[int, int, int] = (0, 0, 0)  # grid coordinates of the token this state emits (templates)


@dataclass
class Machine:
    """A realised automaton for one row (numpy arrays over columns)."""

    masks: np.ndarray          # bool [U, C]
    mask_of_state: np.ndarray  # int64 [S]
    forced: np.ndarray         # int64 [S]
    default_next: np.ndarray   # int64 [S]
    edge_keys: np.ndarray      # int64 [E], sorted state * C + column
    edge_next: np.ndarray      # int64 [E]
    final: np.ndarray          # bool [S]
    no_loss: np.ndarray        # bool [S]
    start: int
    slot_of_state: np.ndarray | None = None  # int64 [S]: program slot a state emits, -1 for none
    pad_column: int = 0
    eos_column: int = 2
    kept: np.ndarray | None = None  # bool [S]: forced tokens that belong to the slot's value (templates)
    cells: np.ndarray | None = None  # int64 [S, 3]: coordinates of the token a state emits; None: none has any

    @property
    def n_states(self) -> int:
        return len(self.mask_of_state)

    def allowed(self, state: int) -> np.ndarray:
        if self.forced[state] >= 0:
            row = np.zeros(self.masks.shape[1], dtype=bool)
            row[self.forced[state]] = True
            return row
        return self.masks[self.mask_of_state[state]]

    def advance(self, state: int, column: int) -> int:
        key = state * self.masks.shape[1] + column
        i = int(np.searchsorted(self.edge_keys, key))
        if i < len(self.edge_keys) and self.edge_keys[i] == key:
            return int(self.edge_next[i])
        return int(self.default_next[state])

    def trace(self, columns: Sequence[int]) -> list[int]:
        """States before each column; raises ``ValueError`` at the first disallowed column."""
        states, s = [], self.start
        for i, col in enumerate(columns):
            if s < 0 or not self.allowed(s)[col]:
                raise ValueError(f"position {i}: column {col} is not allowed here")
            states.append(s)
            s = self.advance(s, col)
        return states


class AutomatonBuilder:
    """Builds the :class:`Machine` of one row and its training target.

    Args:
        program: the plan's decoding program.
        columns: the head's columns.
        space_ranges: space name -> (lo, hi) global ids.
    """

    #: realised machines kept per builder (rows of most tasks share one: a machine depends on the forced
    #: tokens, closed sets and loop counts of a row, not on its targets)
    CACHE_SIZE = 256

    def __init__(self, program: Program, columns: Columns, space_ranges: Mapping[str, tuple[int, int]]) -> None:
        self.program = program
        self.cols = columns
        self.space_cols = {name: columns.columns_of(lo, hi) for name, (lo, hi) in space_ranges.items()
                           if _covered(columns, lo, hi)}
        self._cache: OrderedDict[tuple, tuple[Machine, frozenset[int], tuple]] = OrderedDict()
        self.separated: set[int] = set()

    # -- public --------------------------------------------------------------------------------------------
    def build(self, row: RowTokens, *, free_max: int = DEFAULT_FREE_MAX) -> Machine:
        """The machine of ``row``. Rows with the same forced tokens, closed sets and loop counts share one
        (cached) machine, so callers must not modify its arrays."""
        key = (free_max, tuple(sorted((k, tuple(v)) for k, v in row.forced.items())),
               tuple(sorted((k, id(t)) for k, t in row.tries.items())), tuple(sorted(row.loop_counts.items())),
               tuple(sorted((k, tuple(v)) for k, v in row.templates.items())),
               tuple(sorted((k, tuple(map(tuple, v))) for k, v in row.cells.items())))
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            self.separated = set(hit[1])
            return hit[0]
        machine = self._build(row, free_max)
        # the tries ride along so that their ids in the key stay theirs
        self._cache[key] = (machine, frozenset(self.separated), tuple(row.tries.values()))
        if len(self._cache) > self.CACHE_SIZE:
            self._cache.popitem(last=False)
        return machine

    def _build(self, row: RowTokens, free_max: int) -> Machine:
        self.states: list[_State] = []
        self.pending: list[tuple[int, int]] = []
        self.separated: set[int] = set()
        self.row, self.free_max = row, free_max
        final = self._new(_State(final=True, allowed={self.cols.pad}, default=-1))
        self.final_state = final
        self.states[final].default = final
        if self.program.eos:
            follow = self._new(_State(allowed={self.cols.eos}, edges={self.cols.eos: final}))
        else:
            follow = final
        start = self._sequence(self.program.segments, follow)
        for state, target in self.pending:
            self.states[state].edges.update(self._first(target))
            self.states[state].allowed |= set(self._first(target))
        return self._pack(start)

    def target(self, row: RowTokens, eos_id: int) -> list[int]:
        """The training target (global ids, separators and EOS included); call after :meth:`build`."""
        out: list[int] = []
        self._emit(self.program.segments, row, out, eos_id, {})
        if self.program.eos:
            out.append(eos_id)
        return out

    # -- construction ----------------------------------------------------------------------------------------
    def _new(self, state: _State) -> int:
        self.states.append(state)
        return len(self.states) - 1

    def _sequence(self, segments: Sequence[Segment], follow: int) -> int:
        for pos in range(len(segments) - 1, -1, -1):
            follow = self._segment(segments[pos], follow)
        return follow

    def _segment(self, seg: Segment, follow: int) -> int:
        if seg.kind == "forced":
            toks = self.row.forced.get(seg.slot)
            if toks is None:
                raise DataError("the decoder's forced (no_loss) slot has no value", column=str(seg.slot))
            return self._chain(toks, follow, seg.slot, kept=False)
        if seg.kind == "template":
            template = self.row.templates.get(seg.slot)
            if template is None:
                raise DataError("the slot keeps another column but its template is missing", column=str(seg.slot))
            return self._chain(template, follow, seg.slot, kept=True, cells=self.row.cells.get(seg.slot))
        if seg.kind == "span":
            lo, hi = self._space(seg)
            if seg.size:
                hi = min(hi, lo + seg.size)
            nxt = follow
            for _ in range(seg.length or 0):
                nxt = self._new(_State(ranges=[(lo, hi)], default=nxt, slot=seg.slot))
            return nxt
        if seg.kind == "choice":
            trie = self.row.tries.get(seg.slot)
            if trie is None:
                raise PlanError(f"closed-set slot {seg.slot} has no label set")
            return self._trie(trie, follow, seg.slot)
        if seg.kind == "free":
            lo, hi = self._space(seg)
            cap = seg.max_length or self.free_max
            sep = self._needs_separator((lo, hi), follow)
            if sep:
                self.separated.add(seg.slot)
            nxt = self._new(_State(allowed={self.cols.eos} if sep else set(), ranges=[],
                                   edges={self.cols.eos: follow} if sep else {}))
            if not sep:
                self.pending.append((nxt, follow))
            last = nxt  # after `cap` tokens only the boundary is allowed
            for i in range(cap):
                state = _State(ranges=[(lo, hi)], default=last, slot=seg.slot)
                if i < cap - 1:  # not the first token: the boundary may come here
                    if sep:
                        state.allowed.add(self.cols.eos)
                        state.edges[self.cols.eos] = follow
                last = self._new(state)
                if i < cap - 1 and not sep:
                    self.pending.append((last, follow))
            return last
        if seg.kind == "loop":
            head = self._new(_State())
            body_start = self._sequence(seg.body, head)
            self._merge(head, body_start, follow)
            return head
        raise PlanError(f"segment kind {seg.kind!r} cannot be decoded as tokens")

    def _chain(self, entries: Sequence[int | tuple[int, ...]], follow: int, slot: int, kept: bool,
               cells: Sequence[tuple[int, int, int]] | None = None) -> int:
        """States for a fixed run of tokens: a global id is forced (no loss; ``kept`` in the slot's value or
        stripped from it), a tuple of ids is predicted among them; ``cells`` are the tokens' coordinates."""
        entries = list(entries)  # ``cells`` has one entry per token: RowEncoder checks it, naming the column
        nxt = follow
        for i in range(len(entries) - 1, -1, -1):
            entry = entries[i]
            cell = tuple(int(v) for v in cells[i]) if cells is not None else (0, 0, 0)
            if isinstance(entry, tuple):
                nxt = self._new(_State(allowed={self.cols.column(t) for t in entry}, default=nxt, slot=slot,
                                       cell=cell))
            else:
                col = self.cols.column(entry)
                nxt = self._new(_State(allowed={col}, forced=col, default=nxt, no_loss=True, slot=slot, kept=kept,
                                       cell=cell))
        return nxt

    def _trie(self, trie: Trie, follow: int, slot: int | None) -> int:
        root = self._new(_State(slot=-1 if slot is None else slot))
        for toks in trie.labels.values():
            node = root
            for tok in toks:
                col = self.cols.column(tok)
                state = self.states[node]
                if col not in state.edges:
                    state.edges[col] = self._new(_State(slot=state.slot))
                    state.allowed.add(col)
                node = state.edges[col]
            self.pending.append((node, follow))
        return root

    def _merge(self, head: int, a: int, b: int) -> None:
        sa, sb = self.states[a], self.states[b]
        first_a = self._first(a)
        first_b = self._first(b)
        clash = set(first_a) & set(first_b)
        if clash:
            raise PlanError("a repeated group and what follows it can start with the same token, so the end of the "
                            "repetition cannot be recognised")
        h = self.states[head]
        h.allowed = set(first_b) | sa.allowed
        h.edges = {**first_b, **sa.edges}
        h.ranges, h.default, h.slot = list(sa.ranges), sa.default, sa.slot

    def _first(self, state: int) -> dict[int, int]:
        s = self.states[state]
        out = dict(s.edges)
        for lo, hi in s.ranges:
            for col in range(lo, hi):
                out.setdefault(col, s.default)
        for col in s.allowed:
            out.setdefault(col, s.default)
        return out

    def _needs_separator(self, cols: tuple[int, int], follow: int) -> bool:
        lo, hi = cols
        return any(lo <= c < hi for c in self._first_cols_static(follow))

    def _first_cols_static(self, state: int) -> set[int]:
        s = self.states[state]
        out = set(s.allowed) | set(s.edges)
        for lo, hi in s.ranges:
            out.update(range(lo, hi))
        if not out:
            # a loop head not merged yet: assume overlap, so the boundary is an explicit separator
            return set(range(self.cols.size))
        return out

    def _space(self, seg: Segment) -> tuple[int, int]:
        try:
            return self.space_cols[seg.space]
        except KeyError:
            raise PlanError(f"token space '{seg.space}' is not scored by the head") from None

    def _pack(self, start: int) -> Machine:
        n_cols = self.cols.size
        masks: list[np.ndarray] = []
        index: dict[tuple, int] = {}
        mask_of_state = np.zeros(len(self.states), dtype=np.int64)
        keys, nexts = [], []
        for i, s in enumerate(self.states):
            key = (s.forced,) if s.forced >= 0 else (-1, tuple(s.ranges), tuple(sorted(s.allowed)))
            if key not in index:
                row = np.zeros(n_cols, dtype=bool)
                if s.forced >= 0:
                    row[s.forced] = True
                else:
                    for lo, hi in s.ranges:
                        row[lo:hi] = True
                    if s.allowed:
                        row[list(s.allowed)] = True
                index[key] = len(masks)
                masks.append(row)
            mask_of_state[i] = index[key]
            for col, nxt in s.edges.items():
                keys.append(i * n_cols + col)
                nexts.append(nxt)
        order = np.argsort(np.asarray(keys, dtype=np.int64), kind="stable")
        cells = np.asarray([s.cell for s in self.states], dtype=np.int64).reshape(-1, 3)
        return Machine(
            masks=np.stack(masks), mask_of_state=mask_of_state,
            forced=np.asarray([s.forced for s in self.states], dtype=np.int64),
            default_next=np.asarray([s.default for s in self.states], dtype=np.int64),
            edge_keys=np.asarray(keys, dtype=np.int64)[order], edge_next=np.asarray(nexts, dtype=np.int64)[order],
            final=np.asarray([s.final for s in self.states], dtype=bool),
            no_loss=np.asarray([s.no_loss for s in self.states], dtype=bool), start=start,
            slot_of_state=np.asarray([s.slot for s in self.states], dtype=np.int64),
            pad_column=self.cols.pad, eos_column=self.cols.eos,
            kept=np.asarray([s.kept for s in self.states], dtype=bool),
            cells=cells if cells.any() else None)

    # -- training targets ------------------------------------------------------------------------------------
    def _emit(self, segments: Sequence[Segment], row: RowTokens, out: list[int], eos_id: int,
              reps: dict[int, int]) -> None:
        for pos, seg in enumerate(segments):
            if seg.kind == "forced":
                out.extend(row.forced.get(seg.slot, ()))
            elif seg.kind == "loop":
                count = row.loop_counts.get(pos, 0)
                for k in range(count):
                    self._emit(seg.body, row, out, eos_id, {**reps, **{b.slot: k for b in seg.body}})
            else:
                values = row.targets.get(seg.slot)
                if values is None:
                    raise DataError("the decoder slot has no target value", column=str(seg.slot))
                toks = values[reps.get(seg.slot, 0)]
                out.extend(toks)
                if seg.kind == "free" and seg.slot in self.separated:
                    out.append(eos_id)


def _covered(columns: Columns, lo: int, hi: int) -> bool:
    return any(a <= lo and hi <= b for a, b in columns.ranges)

