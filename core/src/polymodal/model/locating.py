"""Locating in the input: a pointer over feature positions with known places, read out as location bins.

A box is four location tokens, each a coordinate's fraction of the image, quantised into bins. A plain decoder
has to learn to turn what it attends to into the right bin through the tied output projection, a mapping from
the image's 2-D position embeddings to the location tokens' embeddings that nothing in the architecture gives
it; on toy scenes the demo's model instead learned a few prior boxes and never read the scene for grounding.

The :class:`LocationPointer` gives that mapping directly, the spatial analogue of the copy pointer
(:mod:`polymodal.model.copying`) and of a detector's per-cell box regression. Every source position whose
place is known (an adapter reports the ``(x, y)`` centre of each of its embeddings as a fraction of its input,
see :mod:`polymodal.engine.adapters`) proposes the four edges of a box around it: its centre plus offsets read
from its encoder state. At each decoder position the pointer attends from the decoder state over those
positions, and the state also picks which of the four edges (x0, y0, x1, y1) this token is and a width. Over
the columns of a *spatial* token space (location bins, ``TokenSpaceSpec.spatial``) it adds the log-density of
the resulting mixture of Gaussians::

    logit(bin) += log sum_s attention(s) * N(bin; edge(s) * (n - 1), width * (n - 1))

with ``n`` the bins the row's decoding program allows (a box slot's ``num_bins``). The head's own logits stay,
so the two multiply as experts: the pointer says where, the head refines. As with copying, the gradient goes
straight to the attention on the cells that hold the object the referring words select; as a mixture (not a
soft-argmax centre) it never averages two candidate objects into a box between them.

Measured on the toy grounding scenes (the demo's micro model, 64-pixel images at stride 16, 600 steps of 24
rows, alone): Acc@IoU0.5 43% with the pointer against 8% without (baseline: a random object's box, 25%). The
pointer alone in place of the head's logits reached 15%.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
from torch import Tensor

from .copying import Pointer
from .heads import BatchHead

__all__ = ["LocationPointer", "LocatingHead", "spatial_logits", "add_pointer", "bins_per_row", "add_block"]

#: The pointer's starting width, as a fraction of the image.
START_WIDTH = 0.1
#: floor for attention weights before the log (zero weights are then masked to -inf)
_TINY = 1e-30
#: The largest offset of a proposed edge from its cell's centre, as a fraction of the image.
MAX_OFFSET = 0.25
#: The narrowest width, in bins: a narrower Gaussian only makes the gradient on the centre steeper.
MIN_WIDTH_BINS = 0.5


class LocationPointer(Pointer):
    """A :class:`~polymodal.model.copying.Pointer` plus the edge offsets of the source positions and the
    read-out (edge, width) of the decoder states.

    Args:
        d_model: model width.
    """

    def __init__(self, d_model: int) -> None:
        super().__init__(d_model, edges=4, read=5)
        with torch.no_grad():
            self.read.bias[4] = math.log(START_WIDTH)

    def sources(self, enc_out: Tensor) -> tuple[Tensor, Tensor]:
        """Keys ``[B, S, d]`` and raw edge offsets ``[B, S, 4]`` of the encoder output, once per batch."""
        return self.key(enc_out), self.edges(enc_out).float()

    def locate(self, hidden: Tensor, sources: tuple[Tensor, Tensor], places: Tensor, placed: Tensor
               ) -> tuple[Tensor, Tensor, Tensor]:
        """Where decoder states of the same rows as ``sources`` point.

        Args:
            hidden: ``[B, T, d]`` decoder states.
            sources: from :meth:`sources`.
            places: ``[B, S, 2]`` the ``(x, y)`` fraction of each source position (any value where not placed).
            placed: ``BoolTensor[B, S]``, True where a source position has a place.

        Returns:
            ``(attention [B, T, S], mean [B, T, S], width [B, T])``, float32: the weight of each source
            position, the coordinate (a fraction of the input) it puts forward, and the common width. Rows
            with no placed position get zero attention.
        """
        keys, raw = sources
        attn, _ = self.attention(hidden, keys, placed)
        read = self.read(hidden).float()
        which = torch.softmax(read[..., :4], dim=-1)  # x0, y0, x1, y1
        p = places.float()
        edges = p[..., [0, 1, 0, 1]] + MAX_OFFSET * torch.tanh(raw)  # [B, S, 4]
        mean = torch.einsum("btk,bsk->bts", which, edges)
        return attn, mean, read[..., 4].clamp(max=0.0).exp()


def spatial_logits(attn: Tensor, mean: Tensor, width: Tensor, bins: Tensor, n_columns: int) -> Tensor:
    """``[N, k]`` log-density of the pointer's mixture over bin columns ``0 .. k - 1``, where ``k`` is the most
    bins any position allows (at most ``n_columns``; the columns past a position's bins are never allowed).

    Args:
        attn, mean: ``[N, S]`` and width ``[N]``, from :meth:`LocationPointer.locate`.
        bins: ``[N]`` the number of bins each position's program allows (the fractions' scale); a position
            with fewer than 2 gets zeros (nothing to locate).
    """
    n_columns = min(n_columns, int(bins.max()) if bins.numel() else 0)
    top = (bins - 1).clamp(min=1).to(mean.dtype)
    sd = (width * top).clamp(min=MIN_WIDTH_BINS)  # [N]
    index = torch.arange(n_columns, dtype=mean.dtype, device=mean.device)
    z = (index[None, None, :] - (mean * top[:, None])[:, :, None]) / sd[:, None, None]  # [N, S, n]
    # unattended positions are out of the mixture (-inf); a row with no attention at all (no places) gets a
    # dummy uniform one, whose finite result is then dropped (an all -inf logsumexp has a NaN gradient)
    active = (bins > 1) & (attn > 0).any(dim=1)
    log_w = attn.clamp_min(_TINY).log().masked_fill(attn == 0, float("-inf"))
    log_w = log_w.masked_fill(~active[:, None], 0.0)[:, :, None]
    out = torch.logsumexp(log_w - 0.5 * z.square(), dim=1) - torch.log(sd)[:, None]
    return torch.where(active[:, None], out, torch.zeros_like(out))


def add_block(logits: Tensor, lo: int, hi: int, extra: Tensor) -> Tensor:
    """``logits`` with ``extra`` (``[N, k]``, ``k <= hi - lo``) added to columns ``[lo, lo + k)``."""
    logits = logits.float()
    k = extra.shape[1]
    return torch.cat([logits[:, :lo], logits[:, lo:lo + k] + extra, logits[:, lo + k:]], dim=1)


def add_pointer(logits: Tensor, attn: Tensor, mean: Tensor, width: Tensor,
                blocks: Sequence[tuple[int, int, Tensor]], rows: Tensor) -> Tensor:
    """``logits`` (``[N, C]``) with the pointer's log-density (``attn``, ``mean`` ``[N, S]``, ``width [N]``)
    added to each spatial block ``(lo, hi, bins [B])``; ``rows`` are the positions' batch rows."""
    for lo, hi, bins in blocks:
        logits = add_block(logits, lo, hi, spatial_logits(attn, mean, width, bins[rows], hi - lo))
    return logits


def bins_per_row(machines: Sequence, lo: int, hi: int, placed: Tensor) -> Tensor:
    """``LongTensor[B]``: the most columns of ``[lo, hi)`` any state of each row's decoding program allows (a
    box slot's ``num_bins``); 0 for rows with no placed source position (nothing for the pointer to read)."""
    out = [int(np.asarray(m.masks)[:, lo:hi].sum(axis=1).max(initial=0)) for m in machines]
    return torch.tensor(out, dtype=torch.long, device=placed.device) * placed.any(dim=1)


class LocatingHead(BatchHead):
    """A head whose logits over spatial columns get the pointer's (what the generators call): called with
    decoder states and the batch row of each hypothesis, it returns logits (or the copy mixture's
    log-probabilities, when it wraps a :class:`~polymodal.model.copying.CopyHead`).

    Args:
        head: the head (tied, or a copy head).
        pointer: the model's :class:`LocationPointer`.
        sources: the batch's :meth:`LocationPointer.sources`.
        places, placed: the batch's source places (see :meth:`LocationPointer.locate`).
        blocks: ``(lo, hi, bins [B])`` for each spatial column block of the head.
    """

    def __init__(self, head, pointer: LocationPointer, sources: tuple[Tensor, Tensor], places: Tensor,
                 placed: Tensor, blocks: Sequence[tuple[int, int, Tensor]]) -> None:
        super().__init__(head)
        self.pointer, self.sources = pointer, sources
        self.places, self.placed, self.blocks = places, placed, list(blocks)

    def __call__(self, hidden: Tensor, rows: Tensor) -> Tensor:
        """``[N, C]`` logits for decoder states ``hidden`` (``[N, d]``) of batch rows ``rows``."""
        logits = self.inner(hidden, rows)
        keys, raw = self.sources
        attn, mean, width = self.pointer.locate(hidden[:, None, :], (keys[rows], raw[rows]), self.places[rows],
                                                self.placed[rows])
        return add_pointer(logits, attn[:, 0], mean[:, 0], width[:, 0], self.blocks, rows)
