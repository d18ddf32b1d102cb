"""The encoder-decoder Transformer shared by every task.

:class:`EncoderDecoder` is an OFA-style pre-LayerNorm Transformer with final LayerNorms on both stacks and
one token embedding (``embed_tokens``) shared by the decoder input and, through
:class:`~polymodal.model.heads.TiedHead`, by the output projections. The encoder never sees token ids: input
adapters turn each slot into embeddings (with their own positions) and the concatenation is what
:meth:`EncoderDecoder.encode` receives. The decoder embeds global token ids itself (sqrt(d)-scaled token
embedding plus learned positions), or takes ready-made embeddings for continuous outputs.

Typical use::

    model = EncoderDecoder(ModelConfig.named("tiny", vocab_size=layout.size))
    x = model.lookup(src_ids) * model.embed_scale + positions  # an adapter; sparse embedding gradient
    enc = model.encode(x, src_padding_mask)                    # [B, S, d]
    hidden = model.decode(prev_tokens, enc, src_padding_mask,
                          tgt_padding_mask=prev_tokens.eq(pad_id))  # trailing padding is skipped
    logits = head(hidden[target_weight > 0])                   # only the positions that carry a loss

Batches with 10% or more padding run their per-token work on real positions only (see
:class:`~polymodal.model.layers.Packing`). Incremental decoding (generation) goes through
:meth:`EncoderDecoder.new_cache` and ``decode(..., cache=cache, start_pos=t)``.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .cache import KVCache
from .config import ModelConfig
from .layers import DecoderLayer, EncoderLayer, Packing, dropout, init_weights, sinusoidal_
from .rowstep import RowStep
from .stepping import StepWeights, decoder_layer_step, prepare_step_weights

__all__ = ["EncoderDecoder", "key_mask", "PACK_MIN_PADDING"]

#: Per-token work runs on real positions only when at least this fraction of a batch is padding; below
#: it the gather/scatter around attention costs more than the padding it saves.
PACK_MIN_PADDING = 0.1


def _packing(padding_mask: Tensor | None) -> Packing | None:
    if padding_mask is None or padding_mask.numel() == 0:
        return None
    n_pad = int(padding_mask.sum())
    if n_pad < PACK_MIN_PADDING * padding_mask.numel():
        return None
    return Packing.from_padding(padding_mask)


def key_mask(padding_mask: Tensor | None) -> tuple[Tensor | None, Tensor | None]:
    """Turn a padding mask (``[B, S]``, True = padding) into attention-mask form.

    Returns:
        ``(mask, scale)``: ``mask`` is ``[B, 1, 1, S]``, True where a key may be attended, or None when
        nothing is padded; ``scale`` is ``[B, 1, 1]`` (0 for rows whose every position is padding, 1
        elsewhere) or None when no row is empty. An empty row would make softmax over zero keys NaN, so it
        attends to its padding instead and its attention output is multiplied by 0.
    """
    if padding_mask is None or padding_mask.shape[1] == 0 or not bool(padding_mask.any()):
        return None, None
    keep = ~padding_mask
    empty = padding_mask.all(dim=1)
    scale = None
    if bool(empty.any()):
        keep = keep | empty[:, None]
        scale = (~empty).to(torch.float32)[:, None, None]
    return keep[:, None, None, :], scale


def _densify(param: Tensor) -> None:
    """Make an accumulated sparse gradient dense.

    Sparse lookup gradients (a few rows) are added by autograd into the dense gradient of the tied heads.
    When no head contributed, the total is sparse; this hook runs right after accumulation (before DDP's
    reducer hooks), so optimizers and DDP always see a dense gradient.
    """
    if param.grad is not None and param.grad.is_sparse:
        param.grad = param.grad.to_dense()


class EncoderDecoder(nn.Module):
    """Pre-LN Transformer encoder-decoder with a shared token embedding.

    Args:
        config: the architecture; see :class:`~polymodal.model.config.ModelConfig`.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        d = config.d_model
        self.embed_tokens = nn.Embedding(config.vocab_size, d)
        self.embed_positions = nn.Embedding(config.max_target_positions, d)
        self.embed_scale = math.sqrt(d)
        self.encoder_layers = nn.ModuleList(EncoderLayer(config) for _ in range(config.encoder_layers))
        self.encoder_norm = nn.LayerNorm(d)
        self.decoder_layers = nn.ModuleList(DecoderLayer(config) for _ in range(config.decoder_layers))
        self.decoder_norm = nn.LayerNorm(d)
        init_weights(self, d)
        sinusoidal_(self.embed_positions.weight)
        with torch.no_grad():
            self.embed_tokens.weight[config.pad_id].zero_()
        # row, column and group coordinates of tokens in a grid or table: index 0 is "no coordinate"
        self.embed_cells = None
        if config.cells:
            # drawn from a stream of their own, so that every other weight starts as it does without them
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(int(torch.randint(1 << 62, ())))
                self.embed_cells = nn.Embedding(3 * config.cells + 1, d, padding_idx=0)
                with torch.no_grad():
                    # of the scale of the sqrt(d)-scaled token embeddings, so that coordinates count from the start
                    self.embed_cells.weight.normal_(0.0, 0.5)
                    self.embed_cells.weight[0].zero_()

    def cell_embeddings(self, cells: Tensor) -> Tensor | None:
        """The sum of the row, column and group embeddings of ``cells`` (``LongTensor[..., 3]``, 1-based, 0 = none):
        ``[..., d]``, or None when the model has no coordinate embeddings."""
        if self.embed_cells is None:
            return None
        n = self.config.cells
        axis = torch.arange(3, device=cells.device) * n
        index = torch.where(cells > 0, cells.clamp(max=n) + axis, 0)
        return self.embed_cells(index).sum(-2)

    def lookup(self, ids: Tensor) -> Tensor:
        """Unscaled token embeddings of global ``ids`` with a sparse (cheap) gradient.

        Input adapters should embed tokens with this rather than ``embed_tokens(ids)``: the dense
        gradient of an ``nn.Embedding`` lookup allocates and zeroes the whole ``[V, d]`` table each step.
        The parameter's accumulated gradient is always dense (see :func:`_densify`).
        """
        weight = self.embed_tokens.weight
        if weight.requires_grad and not getattr(weight, "_polymodal_densify", False):
            # Registered lazily on the live Parameter so that copies (deepcopy, EMA) get it too.
            weight.register_post_accumulate_grad_hook(_densify)
            weight._polymodal_densify = True  # type: ignore[attr-defined]
        return F.embedding(ids, weight, sparse=True)

    # ------------------------------------------------------------------ encoder
    def encode(self, embeds: Tensor, padding_mask: Tensor | None = None) -> Tensor:
        """Run the encoder.

        Args:
            embeds: ``FloatTensor[B, S, d]`` made by the input adapters (positions included).
            padding_mask: ``BoolTensor[B, S]``, True at padding; None when nothing is padded.

        Returns:
            ``FloatTensor[B, S, d]``; values at padded positions are meaningless.
        """
        if embeds.dim() != 3 or embeds.shape[-1] != self.config.d_model:
            raise ValueError(f"encode expects embeddings [B, S, {self.config.d_model}], "
                             f"got {tuple(embeds.shape)}")
        if embeds.shape[1] == 0:
            return self.encoder_norm(embeds)
        mask, _ = key_mask(padding_mask)
        pack = _packing(padding_mask) if mask is not None else None
        x = embeds if pack is None else pack.pack(embeds)
        x = dropout(x, self.config.dropout, self.training)
        for layer in self.encoder_layers:
            x = layer(x, mask, pack)
        x = self.encoder_norm(x)
        return x if pack is None else pack.unpack(x)

    # ------------------------------------------------------------------ decoder
    def embed_decoder_input(self, tokens: Tensor | None, inputs_embeds: Tensor | None = None,
                            start_pos: int = 0, cells: Tensor | None = None) -> Tensor:
        """Embed decoder inputs at positions ``start_pos ..``: scaled token embedding plus position (plus the
        coordinates of the cell each position predicts).

        Args:
            tokens: ``LongTensor[B, T]`` of global ids, or None when ``inputs_embeds`` is given.
            inputs_embeds: ``FloatTensor[B, T, d]`` used instead of token embeddings (no scaling).
            start_pos: position of the first input.
            cells: ``LongTensor[B, T, 3]`` coordinates (see :meth:`cell_embeddings`), or None.
        """
        if inputs_embeds is None:
            if tokens is None:
                raise ValueError("decode needs either tokens or inputs_embeds")
            x_tok = self.lookup(tokens)
            scale = self.embed_scale
        else:
            x_tok, scale = inputs_embeds, 1.0
        t = x_tok.shape[1]
        end = start_pos + t
        if end > self.config.max_target_positions:
            raise ValueError(f"decoder positions {start_pos}..{end - 1} exceed max_target_positions="
                             f"{self.config.max_target_positions}; raise it in ModelConfig or decode less")
        # One fused op: positions + scale * tokens.
        x = torch.add(self.embed_positions.weight[start_pos:end], x_tok, alpha=scale)
        where = self.cell_embeddings(cells) if cells is not None else None
        if where is not None:
            x = x + where
        return dropout(x, self.config.dropout, self.training)

    def _embed_packed(self, tokens: Tensor | None, inputs_embeds: Tensor | None, pack: Packing,
                      cells: Tensor | None = None) -> Tensor:
        # index_select, not weight[index]: its backward (index_add_) sums the rows of positions shared by many
        # sequences in a fixed order, where indexing's (index_put_ with accumulate) changes it from run to run on
        # several threads, and with it the losses of a seeded run
        positions = self.embed_positions.weight.index_select(0, pack.index % pack.length)
        if cells is not None and self.embed_cells is not None:
            positions = positions + self.cell_embeddings(pack.pack(cells))
        if inputs_embeds is not None:
            return positions + pack.pack(inputs_embeds)
        x = self.lookup(tokens.reshape(-1).index_select(0, pack.index))  # type: ignore[union-attr]
        return torch.add(positions, x, alpha=self.embed_scale)

    def decode(self, tokens: Tensor | None, enc_out: Tensor | None, enc_padding_mask: Tensor | None, *,
               inputs_embeds: Tensor | None = None, cache: KVCache | None = None,
               start_pos: int = 0, tgt_padding_mask: Tensor | None = None, cells: Tensor | None = None) -> Tensor:
        """Run the decoder.

        Without ``cache`` this is a full causal pass (training, scoring). With ``cache`` the inputs are the
        new positions ``start_pos .. start_pos+T-1`` only; their keys/values are appended to the cache and
        ``enc_out``/``enc_padding_mask`` are ignored (the cache holds the encoder keys/values).

        Args:
            tokens: ``LongTensor[B, T]`` global ids of the decoder inputs (shifted targets). Targets equal
                to ``pad_id`` carry no loss; causal masking alone keeps them from affecting real positions.
            enc_out: encoder output ``[B, S, d]`` (S may be 0 for decoder-only batches), or None.
            enc_padding_mask: ``BoolTensor[B, S]``, True at padding, or None.
            inputs_embeds: ``FloatTensor[B, T, d]`` used instead of embedding ``tokens``.
            cache: the incremental-decoding cache from :meth:`new_cache`.
            start_pos: position of the first input (incremental decoding).
            tgt_padding_mask: ``BoolTensor[B, T]``, True at *trailing* padding (every position after a
                row's last real input). Those positions are skipped (their outputs are 0), which saves
                the decoder's work on them; causality means no real position depends on them.
            cells: ``LongTensor[B, T, 3]``, the grid coordinates of the token each position predicts (see
                :meth:`cell_embeddings`), or None.

        Returns:
            ``FloatTensor[B, T, d]`` after the final LayerNorm.

        Raises:
            ValueError: when ``tgt_padding_mask`` marks a position before a real one.
        """
        if cache is None:
            if start_pos != 0:
                raise ValueError("start_pos != 0 needs a cache (incremental decoding)")
            pack = None
            if tgt_padding_mask is not None:
                if bool((tgt_padding_mask[:, :-1] & ~tgt_padding_mask[:, 1:]).any()):
                    raise ValueError("tgt_padding_mask must mark trailing padding only (no real position "
                                     "after a padded one)")
                pack = _packing(tgt_padding_mask)
            if pack is None:
                x = self.embed_decoder_input(tokens, inputs_embeds, 0, cells)
            else:
                x = self._embed_packed(tokens, inputs_embeds, pack, cells)
                x = dropout(x, self.config.dropout, self.training)
            has_cross = enc_out is not None and enc_out.shape[1] > 0
            mask, scale = key_mask(enc_padding_mask) if has_cross else (None, None)
            for layer in self.decoder_layers:
                x = layer(x, None, None, mask, scale, pack=pack, memory=enc_out if has_cross else None)
            x = self.decoder_norm(x)
            return x if pack is None else pack.unpack(x)
        x = self.embed_decoder_input(tokens, inputs_embeds, start_pos, cells)
        end = start_pos + x.shape[1]
        if end > cache.max_len:
            raise ValueError(f"cache holds {cache.max_len} positions, decoding up to {end}")
        if self.training:
            raise ValueError("incremental decoding runs in eval mode (call model.eval())")
        weights = cache.weights if cache.weights is not None else self.step_weights(x.dtype)
        row = self._row_step(weights) if RowStep.takes(x) else None
        for i, layer in enumerate(self.decoder_layers):
            sk, sv, ck, cv = cache.layer(i)
            if row is None or not row(i, x, sk, sv, start_pos, ck, cv, cache.cross_mask, cache.cross_scale,
                                      cache.group):
                x = decoder_layer_step(layer, weights[i], x, sk, sv, start_pos, ck, cv, cache.cross_mask,
                                       cache.cross_scale, group=cache.group)
        cache.length = max(cache.length, end)
        return self.decoder_norm(x)

    def forward(self, embeds: Tensor, padding_mask: Tensor | None, tokens: Tensor | None, *,
                inputs_embeds: Tensor | None = None, tgt_padding_mask: Tensor | None = None) -> Tensor:
        """Encode ``embeds`` and decode ``tokens`` (teacher forcing); returns decoder states."""
        enc = self.encode(embeds, padding_mask)
        return self.decode(tokens, enc, padding_mask, inputs_embeds=inputs_embeds,
                           tgt_padding_mask=tgt_padding_mask)

    # ------------------------------------------------------------------ incremental decoding
    def new_cache(self, enc_out: Tensor, enc_padding_mask: Tensor | None, max_len: int, *,
                  repeat: int = 1, share_cross: bool = False) -> KVCache:
        """Make the cache of one generate call: encoder keys/values now, self-attention buffers empty.

        Call it under the same autocast/inference context as the decoding steps so that the cache has
        the dtype the steps produce.

        Args:
            enc_out: encoder output ``[B, S, d]`` (S may be 0).
            enc_padding_mask: ``BoolTensor[B, S]``, True at padding, or None.
            max_len: decoder positions to hold (the number of decoding steps).
            repeat: hypotheses per row (beam size, samples per row); rows are repeated in place, so row
                ``b`` becomes rows ``b*repeat .. b*repeat+repeat-1``.
            share_cross: store each row's encoder keys/values once for its ``repeat`` hypotheses (the
                cache's ``group``); only for callers that keep a row's hypotheses together (beam search).
        """
        cfg = self.config
        if max_len > cfg.max_target_positions:
            raise ValueError(f"max_len={max_len} exceeds max_target_positions={cfg.max_target_positions}")
        b, s, _ = enc_out.shape
        n = b * repeat
        copies = 1 if share_cross else repeat
        h, dh, n_layers = cfg.n_heads, cfg.head_dim, cfg.decoder_layers
        cross_k = cross_v = mask = scale = None
        dtype = None
        if s > 0:
            for i, layer in enumerate(self.decoder_layers):
                k, v = layer.cross_attn.keys_values(enc_out)
                if cross_k is None:
                    dtype = k.dtype
                    cross_k = k.new_empty((n_layers, b * copies, h, s, dh))
                    cross_v = k.new_empty((n_layers, b * copies, h, s, dh))
                # Broadcasting copy repeats each row without an intermediate repeat_interleave tensor.
                cross_k[i].view(b, copies, h, s, dh).copy_(k[:, None])
                cross_v[i].view(b, copies, h, s, dh).copy_(v[:, None])  # type: ignore[union-attr]
            mask, scale = key_mask(enc_padding_mask)
            if copies > 1:
                mask = None if mask is None else mask.repeat_interleave(copies, dim=0)
                scale = None if scale is None else scale.repeat_interleave(copies, dim=0)
        if dtype is None:
            dtype = self._step_dtype(enc_out)
        sk, sv = KVCache.empty_like_layout(n_layers, n, h, max_len, dh, dtype, enc_out.device)
        return KVCache(sk, sv, cross_k, cross_v, mask, scale, weights=self.step_weights(dtype),
                       group=repeat if share_cross else 1)

    def clear_step_weights(self) -> None:
        """Drop the cached step weights (on CPU they are a transposed copy of the decoder's projections)."""
        self._step_weights = self._row_steps = None

    def step_weights(self, dtype: torch.dtype) -> list[StepWeights]:
        """The decoder's projections prepared for incremental decoding in ``dtype``.

        Cached until a decoder parameter changes (its version counter moves on every in-place update,
        e.g. an optimizer step), so repeated generate calls on a fixed model prepare them once.
        """
        params = list(self.decoder_layers.parameters())
        key = (dtype, tuple((p.data_ptr(), p._version) for p in params))
        cached = getattr(self, "_step_weights", None)
        if cached is None or cached[0] != key:
            cached = (key, prepare_step_weights(list(self.decoder_layers), dtype))
            self._step_weights = cached
        return cached[1]

    def _row_step(self, weights: list[StepWeights]) -> RowStep | None:
        """The decoder-step kernel (1-8 rows) bound to the decoder and ``weights``, made once per set of step
        weights."""
        cached = getattr(self, "_row_steps", None)
        if cached is None or cached[0] is not weights:
            cached = self._row_steps = (weights, RowStep.of(list(self.decoder_layers), weights))
        return cached[1]

    def _step_dtype(self, like: Tensor) -> torch.dtype:
        device_type = like.device.type
        if torch.is_autocast_enabled(device_type):
            return torch.get_autocast_dtype(device_type)
        return self.embed_tokens.weight.dtype
