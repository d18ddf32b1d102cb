"""One incremental decoder step over the static KV cache, with weights prepared for it.

A decoding step multiplies one (or a few) rows by every decoder weight matrix: it is bound by reading
those weights, not by arithmetic. ``nn.Linear`` hands a single row to a matrix-vector kernel that runs on one
thread, 2.6-2.9x slower than a split product on both (d 512); other kernels and layouts win at other row counts and
dtypes (see :class:`LinearT`). :func:`prepare_step_weights` makes the views and copies (in the compute dtype)
once per generate call, and :func:`decoder_layer_step` runs a layer on them, one product per projection on
2-D activations. The full (training) pass keeps using the modules themselves, so gradients are unaffected.
"""
from __future__ import annotations

from functools import partial
from typing import Callable, Generic, NamedTuple, Sequence, TypeVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .fewrows import MAX_ROWS as FEW_MAX_ROWS, FewRowsWeight
from .layers import DecoderLayer, activate
from .stepattention import step_attention

T = TypeVar("T")

__all__ = ["LinearT", "StepWeights", "prepare_step_weights", "decoder_layer_step", "row_blocks", "row_blocks_product",
           "COLUMN_FORM_ROWS", "BLOCKS_MIN_SIZE", "PACKED_MIN_ROWS", "FEW_MIN_ROWS", "onednn_packed", "onednn_packs",
           "packed_linear", "OnFirstUse"]


#: Rows up to which :class:`LinearT` multiplies as ``(weight @ x.T).T`` (see there).
COLUMN_FORM_ROWS = 16

#: Weights at least this large (in x out) get the row blocks; smaller products gain nothing.
BLOCKS_MIN_SIZE = 1 << 17

#: Fewest rows a float32 :class:`LinearT` multiplies on the few-row kernel where the weight has row blocks (a
#: single row's product on them is as fast: 43 against 45 us on 512 x 512, 152 against 154 on 2048 -> 512; and
#: needs no packed copy). Smaller weights and bfloat16 take the kernel from one row.
FEW_MIN_ROWS = 2

#: Fewest rows that :class:`LinearT` (and the head) multiply by oneDNN's packed copy of a float32 weight; in
#: bfloat16 the packed copy serves every row count.
PACKED_MIN_ROWS = 4


def onednn_packs(dtype: torch.dtype) -> bool:
    """Whether oneDNN packs CPU weights of ``dtype``, probed on a 2 x 2 weight (75 us)."""
    return onednn_packed(torch.zeros(2, 2, dtype=dtype)) is not None


def onednn_packed(weight: Tensor) -> Tensor | None:
    """oneDNN's packed copy of a float32 or bfloat16 ``[out, in]`` CPU weight for :func:`packed_linear`, or
    None where this build of PyTorch has no oneDNN or it refuses the dtype (callers then use other kernels).
    The layout does not depend on the row count it is packed for (measured: the same speed at 2 to 80 rows
    whatever the hint)."""
    if not torch.backends.mkldnn.is_available():
        return None
    try:
        return torch.ops.mkldnn._reorder_linear_weight(weight, 16)
    except (AttributeError, RuntimeError):
        return None


def packed_linear(x: Tensor, packed: Tensor, bias: Tensor | None) -> Tensor:
    """``x @ weight.T + bias`` on oneDNN's packed weight: the kernel torch.compile emits for a CPU linear."""
    return torch.ops.mkldnn._linear_pointwise(x, packed, bias, "none", [], "")


def row_blocks(weight: Tensor) -> Tensor:
    """A contiguous ``[out, ...]`` tensor viewed (no copy) as two blocks of its rows, ``[2, ceil(out / 2), ...]``;
    at an odd ``out`` the blocks share their middle row."""
    out = weight.shape[0]
    half = -(-out // 2)
    row = weight.stride(0)
    return weight.as_strided((2, half, *weight.shape[1:]), ((out - half) * row, *weight.stride()))


def row_blocks_product(x: Tensor, blocks: Tensor, bias_blocks: Tensor | None, out: int) -> Tensor:
    """``x @ weight.T + bias`` for a single row ``x`` (``[1, in]``), from :func:`row_blocks` of the ``[out, in]``
    weight (``blocks``) and of the bias viewed as ``[out, 1]`` (``bias_blocks``, or None): one batched product,
    each of its two products a block of output rows computed as dot products with ``x``. MKL runs a
    matrix-vector product on one thread, but a batch of products on all of them. The result is ``[1, out]``."""
    xt = x.t().expand(2, -1, 1)
    y = torch.bmm(blocks, xt) if bias_blocks is None else torch.baddbmm(bias_blocks, blocks, xt)
    shared = 2 * blocks.shape[1] - out
    return y.view(1, out) if not shared else torch.cat((y[0, :, 0], y[1, shared:, 0]))[None]


class OnFirstUse(Generic[T]):
    """A copy of a weight made by the first product that needs it: ``get()`` calls ``make`` once. A None from
    ``make`` (the kernel or the layout is unavailable) is kept, and ``possible`` turns False; a None ``make``
    means never."""

    __slots__ = ("make", "value", "possible")

    def __init__(self, make: Callable[[], T | None] | None) -> None:
        self.make, self.value, self.possible = make, None, make is not None

    def get(self) -> T | None:
        if self.possible and self.value is None:
            self.value = self.make()
            self.possible = self.value is not None
        return self.value


class LinearT:
    """A linear map prepared for a decoding step: ``x @ weight.T + bias`` for ``x`` of a few rows.

    MKL picks a different kernel for each operand layout, and which is fastest depends on the dtype and the
    number of rows ``n`` (measured with the weights out of cache, as in a decoding step, d 512, 2 threads).
    In float32:

    * ``n = 1``: MKL runs a matrix-vector product on one thread but a batch of products on all, so the
      ``[out, in]`` weight is split into two blocks of output rows (``blocks``, a view) and the row is
      multiplied by both as one batched product (:func:`row_blocks_product`): 1.1-1.6x faster than any other
      form at every decoder shape (41 against 67 us on 512 x 512, 137 against 191 on 2048 -> 512).
    * ``2 <= n <= 8``: the few-row kernel (:mod:`~polymodal.model.fewrows`) on its packed copy of the weight,
      made on the first such call (``few``), where it could be built: it reads the weight at 23-28 GB/s where
      the library GEMMs below reach 10-16 (46 against 76 us on 512 x 512 at 5 rows). Beam search at batch 1
      runs 17% faster in all. A weight too small for row blocks (below :data:`BLOCKS_MIN_SIZE`) takes the
      kernel from one row on: tiny greedy generation at batch 1 ran 0.86-0.94x the time.
    * ``2 <= n <=`` :data:`COLUMN_FORM_ROWS`: ``weight @ x.T`` on the ``[out, in]`` weight, transposed back
      (the column form), runs 1.2-3x faster than ``addmm`` on ``weight_t`` (that kernel is the slow one
      up to 16 rows).
    * more rows: ``addmm`` on ``weight_t`` (``[in, out]`` contiguous).

    Where PyTorch has oneDNN, its product on a packed copy of the weight (``packed``) beats or matches the
    MKL forms from :data:`PACKED_MIN_ROWS` rows on: level at 5 rows (1.4x on the feed-forward's narrowing
    weight), 1.3-1.5x faster at 16 and 80. Except on a widening weight (``out >= 4 * in``, the feed-forward's
    first layer), where it ran 2.4x slower than MKL at 16 rows: that one is not packed.

    In bfloat16 the few-row kernel takes 1-8 rows where it was built: at one row 1.3-2.8x faster than oneDNN's
    product on its packed copy (25 against 40 us on 512 x 512, 78 against 109 on 2048 -> 512), at 5 rows
    1.05-1.7x. Beyond, oneDNN's is the fastest at every row count and on every weight: 1.2-2.5x faster
    than the best of the others, which are ``addmm`` on ``weight_t`` from 2 rows on and the column form
    at 1 row (used without oneDNN).
    """

    __slots__ = ("weight", "weight_t", "bias", "blocks", "block_bias", "column_rows", "packed", "few", "few_min")

    def __init__(self, weight: Tensor, weight_t: Tensor, bias: Tensor | None, blocks: Tensor | None = None,
                 block_bias: Tensor | None = None, column_rows: int = 0, packed: bool = False,
                 few_min: int = 0) -> None:
        self.weight, self.weight_t, self.bias = weight, weight_t, bias
        self.blocks, self.block_bias, self.column_rows = blocks, block_bias, column_rows
        # oneDNN's packed copy, made by the first product that takes it (a single sequence's steps never do)
        self.packed: OnFirstUse[Tensor] = OnFirstUse(partial(onednn_packed, weight) if packed else None)
        # the few-row kernel's copy, for few_min to FEW_MAX_ROWS rows (0: never)
        self.few: OnFirstUse[FewRowsWeight] = OnFirstUse(partial(FewRowsWeight.of, weight, bias) if few_min
                                                         else None)
        self.few_min = few_min

    @classmethod
    def of(cls, linear: nn.Linear, dtype: torch.dtype, onednn: bool | None = None) -> "LinearT":
        """Prepare ``linear`` in ``dtype``; ``onednn``: whether oneDNN packs that dtype (None: probe it)."""
        w = linear.weight.detach().to(dtype)
        b = None if linear.bias is None else linear.bias.detach().to(dtype)
        if w.device.type != "cpu":
            # GPU BLAS reads either layout at full speed: no copies, no tricks.
            return cls(w, w.t(), b)
        w = w.contiguous()
        if dtype != torch.float32:
            packed = onednn_packs(dtype) if onednn is None else onednn
            # the packed copy serves every row count: no transposed copy then
            return cls(w, w.t() if packed else w.t().contiguous(), b, column_rows=1, packed=packed,
                       few_min=1 if dtype == torch.bfloat16 else 0)
        d_out, d_in = w.shape
        blocks = block_bias = None
        if d_out > 1 and d_in * d_out >= BLOCKS_MIN_SIZE:
            blocks = row_blocks(w)
            block_bias = None if b is None else row_blocks(b.contiguous()[:, None])
        packed = d_out < 4 * d_in and (onednn_packs(dtype) if onednn is None else onednn)
        # a packed weight serves more than COLUMN_FORM_ROWS rows: a view stands for the unused [in, out] copy
        w_t = w.t() if packed else w.t().contiguous()
        # a single row takes the row blocks where the weight has them, else the kernel too
        return cls(w, w_t, b, blocks, block_bias, COLUMN_FORM_ROWS, packed,
                   few_min=FEW_MIN_ROWS if blocks is not None else 1)

    def __call__(self, x: Tensor) -> Tensor:
        x = x.to(self.weight.dtype)
        n = x.shape[0]
        if self.few.possible and self.few_min <= n <= FEW_MAX_ROWS and (few := self.few.get()) is not None:
            return few(x)
        # a packed bfloat16 weight serves every row count, a float32 one from PACKED_MIN_ROWS on
        if (self.packed.possible and (n >= PACKED_MIN_ROWS or self.weight.dtype != torch.float32)
                and (packed := self.packed.get()) is not None):
            return packed_linear(x, packed, self.bias)
        if n == 1 and self.blocks is not None:
            return row_blocks_product(x, self.blocks, self.block_bias, self.weight.shape[0])
        if n <= self.column_rows:
            out = self.weight @ x.t() if self.bias is None else torch.addmm(self.bias[:, None], self.weight, x.t())
            return out.t().contiguous()
        if self.bias is None:
            return x @ self.weight_t
        return torch.addmm(self.bias, x, self.weight_t)


class StepWeights(NamedTuple):
    """The six projections of one decoder layer, prepared for stepping."""

    qkv: LinearT
    self_out: LinearT
    cross_q: LinearT
    cross_out: LinearT
    fc1: LinearT
    fc2: LinearT


def prepare_step_weights(layers: Sequence[DecoderLayer], dtype: torch.dtype) -> list[StepWeights]:
    """Transposed, contiguous copies of every decoder projection in ``dtype``."""
    onednn = onednn_packs(dtype) if layers and next(layers[0].parameters()).device.type == "cpu" else False
    with torch.no_grad():
        prepare = partial(LinearT.of, dtype=dtype, onednn=onednn)
        return [StepWeights(prepare(layer.self_attn.qkv), prepare(layer.self_attn.out), prepare(layer.cross_attn.q),
                            prepare(layer.cross_attn.out), prepare(layer.ffn.fc1), prepare(layer.ffn.fc2))
                for layer in layers]


def decoder_layer_step(layer: DecoderLayer, w: StepWeights, x: Tensor, cache_k: Tensor, cache_v: Tensor,
                       pos: int, cross_k: Tensor | None, cross_v: Tensor | None, cross_mask: Tensor | None,
                       cross_scale: Tensor | None, group: int = 1) -> Tensor:
    """Run ``layer`` (in eval mode) on new positions ``pos .. pos+t-1`` of ``x`` (``[B, t, d]``).

    The new self-attention keys/values are written into ``cache_k``/``cache_v`` (``[B, H, T_max, dh]``).
    With ``group > 1`` the encoder keys/values (``[B / group, H, S, dh]``) are shared by each run of
    ``group`` consecutive rows: their queries attend together as ``group * t`` query positions of one row.
    Same result as a full pass of ``layer`` over the sequence, without dropout. Attention runs on the C kernel of
    :mod:`~polymodal.model.stepattention` where it was built, else on PyTorch's.
    """
    b, t, d = x.shape
    n_heads = layer.self_attn.n_heads
    dh = d // n_heads
    x2 = x.reshape(b * t, d)
    qkv = w.qkv(layer.self_norm(x2)).view(b, t, 3, n_heads, dh).permute(2, 0, 3, 1, 4)
    end = pos + t
    cache_k[:, :, pos:end].copy_(qkv[1])
    cache_v[:, :, pos:end].copy_(qkv[2])
    # Several new positions at once (a forced prefix): each sees the cache and its own past.
    o = step_attention(qkv[0], cache_k[:, :, :end], cache_v[:, :, :end], causal_from=pos if t > 1 else None)
    if o is None:
        mask = None
        if t > 1:
            rows = torch.arange(pos, end, device=x.device)[:, None]
            mask = torch.arange(end, device=x.device)[None, :] <= rows
        o = F.scaled_dot_product_attention(qkv[0], cache_k[:, :, :end], cache_v[:, :, :end],
                                           attn_mask=mask).transpose(1, 2)
    x2 = x2 + w.self_out(o.reshape(b * t, d))
    if cross_k is not None:
        rows, per_row = b // group, group * t
        q = w.cross_q(layer.cross_norm(x2)).view(rows, per_row, n_heads, dh).transpose(1, 2)
        o = step_attention(q, cross_k, cross_v, cross_mask)
        if o is None:
            o = F.scaled_dot_product_attention(q, cross_k, cross_v, attn_mask=cross_mask).transpose(1, 2)
        o = w.cross_out(o.reshape(b * t, d))
        if cross_scale is not None:
            o = o * cross_scale.view(rows, 1, 1).expand(rows, per_row, 1).reshape(b * t, 1)
        x2 = x2 + o
    h = activate(w.fc1(layer.ffn_norm(x2)), layer.ffn.activation)
    return (x2 + w.fc2(h)).view(b, t, d)
