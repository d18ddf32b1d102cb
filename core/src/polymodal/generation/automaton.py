"""Decoding automata in tensor form: what may be produced at each step, and where it leads.

A decoding program (forced prompt text, spans of one token space with a length, closed-set tries, loops)
compiles into a deterministic automaton over the output columns of a head. Generators and the loss read
it through two vectorised operations: :meth:`Automaton.allowed` (a boolean row of allowed columns per
hypothesis) and :meth:`Automaton.advance` (the next state of each hypothesis). Both run as a few tensor
ops on a whole batch of hypotheses, never as a Python loop over them.

Transitions are stored sparsely: a state's *default* successor applies to every allowed column without an
explicit edge, and explicit edges (trie branches, the EOS edge into the final state) are sorted keys
``state * C + column`` found with :func:`torch.searchsorted`. Rows of a batch with different programs
share one automaton whose states are the concatenation of theirs (:meth:`Automaton.concatenate`), plus a
start state per row.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Sequence

import torch
from torch import Tensor

__all__ = ["Automaton"]


@dataclass
class Automaton:
    """A deterministic decoding automaton over ``C`` output columns (all tensors on one device).

    Attributes:
        masks: ``BoolTensor[U, C]``, one row per distinct set of allowed columns.
        mask_of_state: ``LongTensor[S]``, the row of ``masks`` used in each state.
        forced: ``LongTensor[S]``, the column forced in each state, or -1.
        default_next: ``LongTensor[S]``, the next state after an allowed column without an explicit edge;
            -1 means no such column may be taken (every allowed column has an edge).
        edge_keys: ``LongTensor[E]``, sorted, unique keys ``state * C + column`` of explicit transitions.
        edge_next: ``LongTensor[E]``, the target state of each edge.
        final: ``BoolTensor[S]``, accepting states (reached by taking EOS); they are absorbing and only
            produce ``pad_column``.
        pad_column: the column produced in final states.
        eos_column: the column that ends a sequence, or -1 if unknown; generators need it for
            ``min_len``.
        cells: ``LongTensor[S, 3]``, the grid coordinates of the token each state emits (a template's cells,
            fed to the decoder with the token before it), or None when no state has any.
    """

    masks: Tensor
    mask_of_state: Tensor
    forced: Tensor
    default_next: Tensor
    edge_keys: Tensor
    edge_next: Tensor
    final: Tensor
    pad_column: int
    eos_column: int = -1
    cells: Tensor | None = None
    _free_state: Tensor | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def n_columns(self) -> int:
        """Number of output columns ``C``."""
        return self.masks.shape[1]

    @property
    def n_states(self) -> int:
        """Number of states ``S``."""
        return self.mask_of_state.shape[0]

    @property
    def device(self) -> torch.device:
        """Device of the tensors."""
        return self.masks.device

    # ------------------------------------------------------------------ the two operations
    def cells_of(self, states: Tensor) -> Tensor | None:
        """``[N, 3]`` coordinates of the token each state emits, or None when the automaton has none."""
        return None if self.cells is None else self.cells[states]

    def allowed(self, states: Tensor) -> Tensor:
        """Allowed columns per hypothesis.

        Args:
            states: ``LongTensor[N]`` current states.

        Returns:
            ``BoolTensor[N, C]``: the state's mask row; one-hot on the forced column in forced states and
            on ``pad_column`` in final states.
        """
        rows = self.masks[self.mask_of_state[states]]
        forced = torch.where(self.final[states], self.pad_column, self.forced[states])
        is_forced = (forced >= 0)[:, None]
        # Clear forced rows, then set their forced column: two narrow ops instead of building a one-hot
        # [N, C] tensor and selecting between the two.
        rows &= ~is_forced
        col = forced.clamp(min=0)[:, None]
        return rows.scatter_(1, col, rows.gather(1, col) | is_forced)

    def is_free(self, states: Tensor) -> Tensor:
        """``BoolTensor[N]``: the state allows every column but pad (free text); generators then only
        need to ban the pad column instead of applying a full ``[N, C]`` mask."""
        if self._free_state is None:
            c = self.n_columns
            pad = torch.zeros(c, dtype=torch.bool, device=self.masks.device)
            pad[self.pad_column] = True
            free_row = (self.masks == ~pad).all(dim=1)
            self._free_state = free_row[self.mask_of_state] & (self.forced < 0) & ~self.final
        return self._free_state[states]

    def advance(self, states: Tensor, columns: Tensor) -> Tensor:
        """Next state after producing ``columns`` in ``states`` (same shape, any shape).

        An explicit edge wins; otherwise the default successor. Final states stay where they are.
        """
        keys = states * self.n_columns + columns
        if self.edge_keys.numel():
            idx = torch.searchsorted(self.edge_keys, keys).clamp_(max=self.edge_keys.numel() - 1)
            hit = self.edge_keys[idx] == keys
            nxt = torch.where(hit, self.edge_next[idx], self.default_next[states])
        else:
            nxt = self.default_next[states]
        return torch.where(self.final[states], states, nxt)

    # ------------------------------------------------------------------ checks and plumbing
    def validate(self) -> None:
        """Check shapes and that every allowed column leads somewhere.

        Raises:
            ValueError: naming the first inconsistency found.
        """
        s, c = self.n_states, self.n_columns
        for name in ("mask_of_state", "forced", "default_next", "final"):
            if getattr(self, name).shape != (s,):
                raise ValueError(f"Automaton.{name} must have shape [{s}], got "
                                 f"{tuple(getattr(self, name).shape)}")
        if self.edge_keys.shape != self.edge_next.shape or self.edge_keys.dim() != 1:
            raise ValueError("Automaton.edge_keys and edge_next must be 1-D of equal length")
        if not 0 <= self.pad_column < c:
            raise ValueError(f"pad_column {self.pad_column} is outside [0, {c})")
        if self.eos_column >= c:
            raise ValueError(f"eos_column {self.eos_column} is outside [0, {c})")
        if self.edge_keys.numel() > 1 and not bool((self.edge_keys[1:] > self.edge_keys[:-1]).all()):
            raise ValueError("Automaton.edge_keys must be sorted and unique")
        for name, t in (("default_next", self.default_next), ("edge_next", self.edge_next)):
            if t.numel() and (int(t.max()) >= s or int(t.min()) < -1):
                raise ValueError(f"Automaton.{name} holds a state outside [-1, {s})")
        if self.forced.numel() and int(self.forced.max()) >= c:
            raise ValueError(f"Automaton.forced holds a column outside [0, {c})")
        live = ~self.final
        edge_state = self.edge_keys // c
        edge_col = self.edge_keys % c
        edge_ok = self.masks[self.mask_of_state[edge_state], edge_col] | (self.forced[edge_state] == edge_col)
        if not bool(edge_ok.all()):
            bad = int(edge_state[~edge_ok][0])
            raise ValueError(f"state {bad} has an explicit edge on a column it does not allow")
        # States without a default successor must have an edge for every column they allow.
        n_edges = torch.bincount(edge_state, minlength=s)
        n_allowed = torch.where(self.forced >= 0, 1, self.masks.sum(1)[self.mask_of_state])
        closed = live & (self.default_next < 0)
        bad = closed & (n_edges < n_allowed)
        if bool(bad.any()):
            state = int(bad.nonzero()[0])
            raise ValueError(f"state {state} allows a column with neither an edge nor a default successor")
        empty = live & (n_allowed == 0)
        if bool(empty.any()):
            raise ValueError(f"state {int(empty.nonzero()[0])} allows no column")

    def to(self, device: torch.device | str) -> "Automaton":
        """Return a copy with every tensor on ``device``."""
        kw = {f.name: getattr(self, f.name) for f in fields(self) if f.init}
        for k, v in kw.items():
            if isinstance(v, Tensor):
                kw[k] = v.to(device)
        return Automaton(**kw)

    @classmethod
    def concatenate(cls, automata: Sequence["Automaton"]) -> tuple["Automaton", Tensor]:
        """Join several automata into one (for a batch whose rows follow different programs).

        Returns:
            ``(automaton, offsets)``: state ``s`` of ``automata[i]`` is state ``offsets[i] + s`` of the
            result; add the offset to each row's start state.

        Raises:
            ValueError: when the automata disagree on the number of columns, pad or EOS column.
        """
        if not automata:
            raise ValueError("concatenate needs at least one automaton")
        first = automata[0]
        c = first.n_columns
        for a in automata[1:]:
            if (a.n_columns, a.pad_column, a.eos_column) != (c, first.pad_column, first.eos_column):
                raise ValueError("automata to concatenate must share n_columns, pad_column and eos_column")
        state_off, mask_off = 0, 0
        offsets, parts = [], {k: [] for k in ("masks", "mos", "forced", "dn", "keys", "nxt", "final")}
        for a in automata:
            offsets.append(state_off)
            parts["masks"].append(a.masks)
            parts["mos"].append(a.mask_of_state + mask_off)
            parts["forced"].append(a.forced)
            parts["dn"].append(torch.where(a.default_next >= 0, a.default_next + state_off, a.default_next))
            # Keys stay sorted: every key of a later automaton exceeds those of earlier ones.
            parts["keys"].append(a.edge_keys + state_off * c)
            parts["nxt"].append(a.edge_next + state_off)
            parts["final"].append(a.final)
            state_off += a.n_states
            mask_off += a.masks.shape[0]
        cells = None
        if any(a.cells is not None for a in automata):
            cells = torch.cat([a.cells if a.cells is not None
                               else torch.zeros(a.n_states, 3, dtype=torch.long, device=a.final.device)
                               for a in automata])
        merged = cls(torch.cat(parts["masks"]), torch.cat(parts["mos"]), torch.cat(parts["forced"]),
                     torch.cat(parts["dn"]), torch.cat(parts["keys"]), torch.cat(parts["nxt"]),
                     torch.cat(parts["final"]), first.pad_column, first.eos_column, cells)
        return merged, torch.tensor(offsets, dtype=torch.long, device=first.device)

    # ------------------------------------------------------------------ ready-made automata
    @classmethod
    def unconstrained(cls, n_columns: int, eos_column: int, pad_column: int,
                      max_len: int | None = None) -> "Automaton":
        """Free generation: any column but pad, until EOS.

        Args:
            n_columns: number of head columns.
            eos_column: the column that ends a sequence (leads to the final state).
            pad_column: the column produced after EOS.
            max_len: if given, count steps and force EOS as the ``max_len``-th column, so every sequence
                ends with EOS within ``max_len`` columns. Start state is 0.
        """
        steps = 1 if max_len is None else max_len
        if steps < 1:
            raise ValueError(f"max_len must be >= 1, got {max_len}")
        final_state = steps
        masks = torch.ones(2, n_columns, dtype=torch.bool)
        masks[0, pad_column] = False
        masks[1] = False
        masks[1, pad_column] = True
        mask_of_state = torch.zeros(steps + 1, dtype=torch.long)
        mask_of_state[final_state] = 1
        forced = torch.full((steps + 1,), -1, dtype=torch.long)
        final = torch.zeros(steps + 1, dtype=torch.bool)
        final[final_state] = True
        if max_len is None:
            default_next = torch.tensor([0, final_state])
            keys = torch.tensor([eos_column])
            nxt = torch.tensor([final_state])
        else:
            default_next = torch.arange(1, steps + 2)
            default_next[-1] = final_state
            forced[steps - 1] = eos_column
            free = torch.arange(steps - 1)
            keys = free * n_columns + eos_column
            nxt = torch.full_like(free, final_state)
        return cls(masks, mask_of_state, forced, default_next, keys, nxt, final, pad_column, eos_column)

    @classmethod
    def trie(cls, sequences: Sequence[Sequence[int]], n_columns: int, eos_column: int,
             pad_column: int) -> "Automaton":
        """A closed set: exactly one of ``sequences`` (column lists), then EOS. Start state is 0.

        Raises:
            ValueError: for an empty set or an empty sequence.
        """
        if not sequences or any(len(s) == 0 for s in sequences):
            raise ValueError("a closed set needs at least one non-empty sequence")
        children: list[dict[int, int]] = [{}]
        ends = [False]
        for seq in sequences:
            node = 0
            for col in seq:
                if col not in children[node]:
                    children.append({})
                    ends.append(False)
                    children[node][col] = len(children) - 1
                node = children[node][col]
            ends[node] = True
        n = len(children)
        final_state = n
        masks = torch.zeros(n + 1, n_columns, dtype=torch.bool)
        keys, nxt = [], []
        for state, kids in enumerate(children):
            for col, child in kids.items():
                masks[state, col] = True
                keys.append(state * n_columns + col)
                nxt.append(child)
            if ends[state]:
                masks[state, eos_column] = True
                keys.append(state * n_columns + eos_column)
                nxt.append(final_state)
        masks[final_state, pad_column] = True
        order = sorted(range(len(keys)), key=keys.__getitem__)
        final = torch.zeros(n + 1, dtype=torch.bool)
        final[final_state] = True
        return cls(masks, torch.arange(n + 1), torch.full((n + 1,), -1, dtype=torch.long),
                   torch.full((n + 1,), -1, dtype=torch.long),
                   torch.tensor([keys[i] for i in order], dtype=torch.long),
                   torch.tensor([nxt[i] for i in order], dtype=torch.long), final, pad_column, eos_column)
