"""Copying from the input: a pointer over the encoder's token positions, mixed into a head's distribution.

A pointer-generator (See et al., 2017) for the shared-vocabulary heads. At each decoder position a
:class:`CopyGate` attends from the decoder state over the encoder positions that hold tokens the head scores,
and a gate ``g`` mixes the two distributions over the head's columns::

    p(c) = g * softmax(logits)(c) + (1 - g) * sum of attention over source positions holding column c

Answers that are spans of the input (a table cell, a name in the question, a clue of a Sudoku, a column of a
database) then get a direct path: the pointer's gradient goes straight to the attention on the positions that
hold the target, where a plain decoder has to learn to route a token's identity through its values and the tied
output projection. Feature positions (image patches), special tokens and the instruction's own text are never
copied: a prompt that names the labels ("positive or negative?") would otherwise offer the same answer to every
row, a shortcut that measurably stalled toy sentiment (55% against 100% without the pointer, 2,000 steps).

The mixture is returned as log-probabilities in the place of logits, so the loss's constraint masks and the
generators' ``log_softmax`` renormalise it over the allowed columns exactly as they do plain logits.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .heads import BatchHead

__all__ = ["Pointer", "CopyGate", "CopyHead"]

#: floor for copy probabilities before the log (a column no source position holds has probability 0)
_TINY = 1e-30


class Pointer(nn.Module):
    """Query and key projections and a masked attention from decoder states over source positions: what the
    copy gate and the location pointer (:mod:`polymodal.model.locating`) share.

    Args:
        d_model: model width.
        **outputs: further linear read-outs of ``d_model`` features, by attribute name and width (e.g.
            ``gate=1``), created and initialised after the query and the key.
    """

    def __init__(self, d_model: int, **outputs: int) -> None:
        super().__init__()
        self.query = nn.Linear(d_model, d_model)
        self.key = nn.Linear(d_model, d_model)
        for name, width in outputs.items():
            setattr(self, name, nn.Linear(d_model, width))
        for m in (self.query, self.key, *(getattr(self, name) for name in outputs)):
            nn.init.normal_(m.weight, std=0.02)
            nn.init.zeros_(m.bias)
        self.scale = 1.0 / math.sqrt(d_model)

    def keys(self, enc_out: Tensor) -> Tensor:
        """Pointer keys of the encoder output (``[B, S, d]``), computed once per batch."""
        return self.key(enc_out)

    def attention(self, hidden: Tensor, keys: Tensor, allowed: Tensor) -> tuple[Tensor, Tensor]:
        """Float32 attention ``[B, T, S]`` of decoder states ``hidden`` (``[B, T, d]``) over the positions
        ``allowed`` (``BoolTensor[B, S]``) of the same rows, and whether each row allows any (``[B, 1, 1]``);
        a row that allows none gets zero attention."""
        scores = torch.einsum("btd,bsd->bts", self.query(hidden), keys) * self.scale
        scores = scores.float().masked_fill(~allowed[:, None, :], float("-inf"))
        any_allowed = allowed.any(dim=1)[:, None, None]
        return torch.softmax(scores.masked_fill(~any_allowed, 0.0), dim=-1) * any_allowed, any_allowed


class CopyGate(Pointer):
    """The copy pointer: a :class:`Pointer` plus the generate/copy gate.

    Args:
        d_model: model width.
    """

    def __init__(self, d_model: int) -> None:
        super().__init__(d_model, gate=1)

    def attend(self, hidden: Tensor, keys: Tensor, copyable: Tensor) -> tuple[Tensor, Tensor]:
        """Pointer attention and gate for decoder states of the same rows as ``keys``.

        Args:
            hidden: ``[B, T, d]`` decoder states.
            keys: ``[B, S, d]`` from :meth:`keys`.
            copyable: ``BoolTensor[B, S]``, True where a source position may be copied.

        Returns:
            ``(attention [B, T, S], generate gate [B, T, 1])``; a row with nothing to copy gets zero attention
            and a gate of 1.
        """
        attn, any_copy = self.attention(hidden, keys, copyable)
        gate = torch.sigmoid(self.gate(hidden).float())
        return attn, torch.where(any_copy, gate, torch.ones_like(gate))


def mix(logits: Tensor, attn: Tensor, gate: Tensor, source_columns: Tensor) -> Tensor:
    """Log-probabilities of the generate/copy mixture over the head's columns.

    Args:
        logits: ``[N, C]`` head logits.
        attn: ``[N, S]`` pointer attention (zero on positions that cannot be copied).
        gate: ``[N, 1]`` probability of generating.
        source_columns: ``LongTensor[N, S]``: the head column each source position holds (any value where
            ``attn`` is zero).

    Returns:
        ``[N, C]`` float32 log-probabilities.
    """
    copy = torch.zeros(logits.shape, dtype=torch.float32, device=logits.device)
    copy.scatter_add_(1, source_columns.clamp(min=0), attn.float())
    generate = torch.log_softmax(logits.float(), dim=-1) + torch.log(gate.clamp_min(_TINY))
    return torch.logaddexp(generate, torch.log(copy.clamp_min(_TINY)) + torch.log((1.0 - gate).clamp_min(_TINY)))


class CopyHead(BatchHead):
    """A head whose output is mixed with copying from one batch's source (what the generators call): called
    with decoder states and the batch row of each hypothesis, it returns the mixture's log-probabilities.

    Args:
        head: the tied head.
        gate: the model's :class:`CopyGate`.
        keys: ``[B, S, d]`` pointer keys of the batch.
        source_columns: ``LongTensor[B, S]`` head column of each source position, -1 where it cannot be copied.
    """

    def __init__(self, head: nn.Module, gate: CopyGate, keys: Tensor, source_columns: Tensor) -> None:
        super().__init__(head)
        self.gate, self.keys, self.source_columns = gate, keys, source_columns

    def __call__(self, hidden: Tensor, rows: Tensor) -> Tensor:
        """``[N, C]`` log-probabilities for decoder states ``hidden`` (``[N, d]``) of batch rows ``rows``."""
        logits = self.inner(hidden, rows)
        cols = self.source_columns[rows]
        attn, gate = self.gate.attend(hidden[:, None, :], self.keys[rows], cols >= 0)
        return mix(logits, attn[:, 0], gate[:, 0], cols)
