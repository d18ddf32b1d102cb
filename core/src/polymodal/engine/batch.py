"""Collating examples of one plan into a batch of tensors (runs in DataLoader workers)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import torch
from torch import Tensor

from polymodal.components import resolve_target
from polymodal.engine.rows import Example
from polymodal.planning.automaton import Columns
from polymodal.vocab import PAD

__all__ = ["Batch", "Collator"]


@dataclass
class Batch:
    """Tensors of one batch (one task, one plan).

    Attributes:
        pieces: encoder input in instruction order: ``("tokens", ids [B, L], from_data [B, L], cells)``
            (``from_data``: the token comes from the row rather than the instruction's own text; ``cells``: the
            tokens' grid coordinates ``[B, L, 3]``, or None when no token has any) or
            ``("features", adapter_name, {key: tensor})``.
        dec_input: ``[B, T]`` teacher-forcing input (global ids), or None at inference.
        target: ``[B, T]`` target *columns* (the pad column where padded).
        weight: ``[B, T]`` loss weights (0 for forced tokens and padding).
        allowed: ``[B, T, C]`` allowed columns per position.
        machines: the rows' automata (generation).
        rows: the raw rows (references for evaluation), when kept.
        dec_cells: ``[B, T, 3]`` grid coordinates of the token each decoder position predicts, or None.
    """

    pieces: list[tuple]
    dec_input: Tensor | None = None
    target: Tensor | None = None
    weight: Tensor | None = None
    allowed: Tensor | None = None
    machines: list[Any] = field(default_factory=list)
    indices: list[int] = field(default_factory=list)
    dec_cells: Tensor | None = None

    @property
    def size(self) -> int:
        return len(self.machines)

    def n_tokens(self) -> int:
        return int(self.weight.sum()) if self.weight is not None else 0

    def to(self, device: torch.device | str) -> "Batch":
        def move(piece: tuple) -> tuple:
            if piece[0] == "tokens":
                return ("tokens", piece[1].to(device), piece[2].to(device),
                        piece[3].to(device) if piece[3] is not None else None)
            return (piece[0], piece[1], {k: v.to(device) for k, v in piece[2].items()})
        return Batch([move(p) for p in self.pieces],
                     *(t.to(device) if t is not None else None
                       for t in (self.dec_input, self.target, self.weight, self.allowed)),
                     machines=self.machines, indices=self.indices,
                     dec_cells=self.dec_cells.to(device) if self.dec_cells is not None else None)


def _pad(seqs: Sequence[Sequence[int]], value: int) -> Tensor:
    width = max((len(s) for s in seqs), default=0)
    out = np.full((len(seqs), width), value, dtype=np.int64)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = s
    return torch.from_numpy(out)


def _pad_cells(runs: Sequence[Any], width: int) -> Tensor | None:
    """``[B, width, 3]`` coordinates (zeros at padding), or None when no token has any."""
    if all(r is None for r in runs):
        return None
    out = np.zeros((len(runs), width, 3), dtype=np.int64)
    for i, r in enumerate(runs):
        if r is not None and len(r):
            out[i, : len(r)] = np.asarray(r, dtype=np.int64).reshape(-1, 3)
    return torch.from_numpy(out)


class Collator:
    """Turns a list of :class:`Example` of one plan into a :class:`Batch`.

    Args:
        columns: the plan's head columns.
        adapters: slot index -> (adapter name, ``"module:Class"``) for feature slots.
    """

    def __init__(self, columns: Columns, adapters: Mapping[int, tuple[str, str]] | None = None) -> None:
        self.columns = columns
        self.adapters = dict(adapters or {})

    def __call__(self, items: Sequence[tuple[int, Example]]) -> Batch:
        indices = [i for i, _ in items]
        examples = [e for _, e in items]
        pieces: list[tuple] = []
        for k, first in enumerate(examples[0].encoder_pieces):
            if first[0] == "tokens":
                runs = [e.encoder_pieces[k] for e in examples]
                ids = _pad([run[1] for run in runs], PAD)
                from_data = _pad([run[2] for run in runs], 0).bool()
                pieces.append(("tokens", ids, from_data, _pad_cells([run[3] for run in runs], ids.shape[1])))
            else:
                name, target = self.adapters[first[1]]
                cls = resolve_target(target)
                pieces.append(("features", name, cls.collate([e.encoder_pieces[k][2] for e in examples])))
        batch = Batch(pieces, machines=[e.machine for e in examples], indices=indices)
        if all(e.target is not None for e in examples):
            batch.dec_input = _pad([e.decoder_input for e in examples], PAD)
            if any(e.decoder_cells is not None for e in examples):
                batch.dec_cells = _pad_cells([e.decoder_cells for e in examples], batch.dec_input.shape[1])
            cols = [[self.columns.column(t) for t in e.target] for e in examples]
            batch.target = _pad(cols, self.columns.pad)
            width = batch.target.shape[1]
            weight = np.zeros((len(examples), width), dtype=np.float32)
            allowed = np.zeros((len(examples), width, self.columns.size), dtype=bool)
            for i, e in enumerate(examples):
                weight[i, : len(e.loss_weight)] = e.loss_weight
                allowed[i, : len(e.allowed)] = e.allowed
            allowed[:, :, self.columns.pad] |= ~allowed.any(-1)  # padding rows: keep softmax finite
            batch.weight = torch.from_numpy(weight)
            batch.allowed = torch.from_numpy(allowed)
        return batch
