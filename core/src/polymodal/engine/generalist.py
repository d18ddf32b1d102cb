"""The generalist network: input adapters + the encoder-decoder backbone + tied heads.

One :class:`GeneralistNet` serves every task: token slots share the backbone's embedding table, other E-slots
go through their adapters (a module per adapter name, shared by the slots that use it), and every D-slot's
head scores only the columns (token spaces) its decoding program allows.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from polymodal.components import resolve_target
from polymodal.engine.batch import Batch
from polymodal.engine.tokens import TokenEmbedding
from polymodal.generation import GENERATORS, Automaton
from polymodal.model import EncoderDecoder, ModelConfig, TiedHead, label_smoothed_loss, sinusoidal_
from polymodal.model.copying import CopyGate, CopyHead, mix
from polymodal.model.locating import LocatingHead, LocationPointer, add_pointer, bins_per_row
from polymodal.planning.automaton import Machine
from polymodal.vocab import BOS, SPECIALS

__all__ = ["GeneralistNet", "automaton_of"]

MAX_SOURCE_POSITIONS = 1024
N_TYPES = 16


def automaton_of(machines: Sequence[Machine], device: torch.device | str = "cpu") -> tuple[Automaton, Tensor]:
    """Join the rows' machines into one tensor automaton; returns it and each row's start state."""
    parts = []
    for m in machines:
        parts.append(Automaton(torch.from_numpy(m.masks), torch.from_numpy(m.mask_of_state),
                               torch.from_numpy(m.forced), torch.from_numpy(m.default_next),
                               torch.from_numpy(m.edge_keys), torch.from_numpy(m.edge_next),
                               torch.from_numpy(m.final), pad_column=m.pad_column, eos_column=m.eos_column,
                               cells=torch.from_numpy(m.cells) if m.cells is not None else None))
    merged, offsets = Automaton.concatenate(parts)
    starts = offsets + torch.tensor([m.start for m in machines], dtype=torch.long)
    return merged.to(device), starts.to(device)


class GeneralistNet(nn.Module):
    """Backbone plus adapters.

    Args:
        config: backbone architecture (``vocab_size`` = the layout's size).
        adapters: adapter name -> (``"module:Class"``, options) for the non-token E-slots of the tasks.
        spatial: global id ranges ``[start, end)`` of the spatial token spaces (location bins); with
            ``config.locate`` the net gets a :class:`~polymodal.model.locating.LocationPointer` for them.
    """

    def __init__(self, config: ModelConfig, adapters: Mapping[str, tuple[str, Mapping[str, Any]]] | None = None,
                 spatial: Sequence[tuple[int, int]] = ()) -> None:
        super().__init__()
        self.config = config
        self.backbone = EncoderDecoder(config)
        d = config.d_model
        self.source_positions = nn.Embedding(MAX_SOURCE_POSITIONS, d)
        self.types = nn.Embedding(N_TYPES, d)
        sinusoidal_(self.source_positions.weight)
        nn.init.normal_(self.types.weight, std=0.02)
        self.adapter_specs = {name: (target, dict(opts)) for name, (target, opts) in (adapters or {}).items()}
        self.adapters = nn.ModuleDict({name.replace(".", "__"): resolve_target(target)(d_model=d, options=opts)
                                       for name, (target, opts) in self.adapter_specs.items()})
        self._type_of = {name: i + 1 for i, name in enumerate(sorted(self.adapter_specs))}
        self._heads: dict[tuple, TiedHead] = {}
        self.tokens = TokenEmbedding(self.backbone)
        # copying from the input (config.copy): see polymodal.model.copying
        self.copy = CopyGate(d) if config.copy else None
        # locating in the input (config.locate): see polymodal.model.locating
        self.spatial = [tuple(r) for r in spatial]
        self.locate = LocationPointer(d) if config.locate and self.spatial else None

    # -- pieces ----------------------------------------------------------------------------------------------
    def head(self, ranges: Sequence[tuple[int, int]]) -> TiedHead:
        key = tuple(tuple(r) for r in ranges)
        if key not in self._heads:
            self._heads[key] = TiedHead(self.backbone.embed_tokens, list(key))
        return self._heads[key]

    def embed_source(self, batch: Batch) -> tuple[Tensor, Tensor]:
        x, mask, _, _ = self._source(batch)
        return x, mask

    def _source(self, batch: Batch) -> tuple[Tensor, Tensor, Tensor, tuple[Tensor, Tensor] | None]:
        """Encoder input, its padding mask, the global id of each position that holds a token of the row's
        data (-1 for features and for the instruction's own text), and the places ``([B, S, 2], placed
        [B, S])`` of feature positions whose adapter reports them (None when none does)."""
        parts, masks, ids_, places = [], [], [], []
        for piece in batch.pieces:
            if piece[0] == "tokens":
                ids = piece[1]
                x = self.tokens(ids) + self.types.weight[0]
                if piece[3] is not None and self.backbone.embed_cells is not None:
                    x = x + self.backbone.cell_embeddings(piece[3])
                parts.append(x)
                masks.append(ids.eq(self.config.pad_id))
                ids_.append(torch.where(piece[2], ids, -1))
                places.append(None)
            else:
                name, data = piece[1], piece[2]
                x, mask, pos, *where = self.adapters[name.replace(".", "__")](data)
                places.append((where[0], ~mask) if where and where[0] is not None else None)
                x = x + self.types.weight[self._type_of[name]]
                if pos is not None:
                    x = x + pos
                parts.append(x)
                masks.append(mask)
                ids_.append(torch.full(x.shape[:2], -1, dtype=torch.long, device=x.device))
        x = torch.cat(parts, dim=1)
        mask = torch.cat(masks, dim=1)
        if x.shape[1] > MAX_SOURCE_POSITIONS:
            raise ValueError(f"the encoder input has {x.shape[1]} positions, more than {MAX_SOURCE_POSITIONS}; "
                             "lower max_length or the image size")
        x = x + self.source_positions.weight[: x.shape[1]]
        where = None
        if any(p is not None for p in places):
            where = (torch.cat([p[0].float() if p is not None else x.new_zeros(*part.shape[:2], 2, dtype=torch.float)
                                for p, part in zip(places, parts)], dim=1),
                     torch.cat([p[1] if p is not None else torch.zeros(part.shape[:2], dtype=torch.bool,
                                                                       device=x.device)
                                for p, part in zip(places, parts)], dim=1))
        return x, mask, torch.cat(ids_, dim=1), where

    def encode(self, batch: Batch) -> tuple[Tensor, Tensor]:
        x, mask = self.embed_source(batch)
        return self.backbone.encode(x, mask), mask

    def _encode_for(self, batch: Batch, head: TiedHead) -> tuple[Tensor, Tensor, Tensor | None, tuple | None]:
        """Encoder output, padding mask, with copying the head column each source position may be copied as
        (-1: not copyable: features, the instruction's own text, padding, special tokens, tokens the head
        does not score; ``None`` without copying), and what the location pointer needs (``None`` when the
        head has no spatial columns or no source position has a place)."""
        x, mask, ids, where = self._source(batch)
        enc = self.backbone.encode(x, mask)
        locating = None
        blocks = self._spatial_blocks(head)
        if self.locate is not None and where is not None and blocks:
            places, placed = where
            locating = (self.locate.sources(enc), places, placed,
                        [(lo, hi, bins_per_row(batch.machines, lo, hi, placed)) for lo, hi in blocks])
        if self.copy is None:
            return enc, mask, None, locating
        cols = head.column_of(ids)
        cols = cols.masked_fill(mask | (ids < len(SPECIALS)), -1)
        return enc, mask, cols, locating

    def _spatial_blocks(self, head: TiedHead) -> list[tuple[int, int]]:
        """The head's column blocks ``[lo, hi)`` that hold a whole spatial space."""
        out, offset = [], 0
        for start, end in head.ranges:
            for s, e in self.spatial:
                if start <= s and e <= end:
                    out.append((offset + s - start, offset + e - start))
            offset += end - start
        return out

    # -- training --------------------------------------------------------------------------------------------
    def loss(self, batch: Batch, ranges: Sequence[tuple[int, int]], label_smoothing: float = 0.1,
             ordinal: Sequence[tuple[int, int]] = (), ordinal_sigma: float = 1.0
             ) -> tuple[Tensor, Tensor, Tensor]:
        """Sum of the batch's token losses, its NLL sum and its scored-token count.

        ``ordinal`` are the head's column ranges of ordered spaces (see
        :func:`~polymodal.model.losses.label_smoothed_loss`)."""
        head = self.head(ranges)
        enc, mask, cols, locating = self._encode_for(batch, head)
        # decoder inputs are padded at the end only: the backbone then skips those positions
        hidden = self.backbone.decode(batch.dec_input, enc, mask,
                                      tgt_padding_mask=batch.dec_input.eq(self.config.pad_id), cells=batch.dec_cells)
        keep = batch.weight > 0
        logits = head(hidden[keep])
        if cols is not None:
            attn, gate = self.copy.attend(hidden, self.copy.keys(enc), cols >= 0)
            rows = keep.nonzero()[:, 0]
            logits = mix(logits, attn[keep], gate[keep], cols[rows])
        if locating is not None:
            sources, places, placed, blocks = locating
            attn, mean, width = self.locate.locate(hidden, sources, places, placed)
            logits = add_pointer(logits, attn[keep], mean[keep], width[keep], blocks, keep.nonzero()[:, 0])
        loss, nll, n = label_smoothed_loss(logits, batch.target[keep], label_smoothing,
                                           allowed=batch.allowed[keep], ordinal=ordinal,
                                           ordinal_sigma=ordinal_sigma)
        return loss, nll, n

    def forward(self, batch: Batch, ranges: Sequence[tuple[int, int]], label_smoothing: float = 0.1,
                ordinal: Sequence[tuple[int, int]] = (), ordinal_sigma: float = 1.0):
        return self.loss(batch, ranges, label_smoothing, ordinal, ordinal_sigma)

    # -- generation ------------------------------------------------------------------------------------------
    @torch.inference_mode()
    def generate(self, batch: Batch, ranges: Sequence[tuple[int, int]], method: str = "greedy",
                 **kwargs: Any):
        """Generate under each row's decoding automaton; returns the generator's output (columns)."""
        if method not in GENERATORS:
            raise ValueError(f"unknown generation method {method!r}; known: {', '.join(GENERATORS)}")
        device = next(self.parameters()).device
        was_training = self.training
        self.eval()
        try:
            head = self.head(ranges)
            enc, mask, cols, locating = self._encode_for(batch, head)
            if cols is not None:
                head = CopyHead(head, self.copy, self.copy.keys(enc), cols)
            if locating is not None:
                head = LocatingHead(head, self.locate, *locating)
            automaton, starts = automaton_of(batch.machines, device)
            return GENERATORS[method](self.backbone, enc, mask, head, automaton, starts, bos_id=BOS, **kwargs)
        finally:
            self.train(was_training)
