"""Output projections tied to the shared token embedding, scoring only some token columns.

A D-slot only ever predicts tokens of its own token spaces (a text target never needs logits for image
codes or location bins), so :class:`TiedHead` multiplies by the rows of the embedding that belong to those
spaces and nothing else. Output column ``j`` stands for global id ``head.columns[j]``. One contiguous
range uses a view of the embedding (no copy, gradients flow straight into it); several ranges are
concatenated per call.

For generation, :meth:`TiedHead.prepare` makes a :class:`PreparedHead` whose weight is materialised once
in the compute dtype and in the memory layouts that the CPU matmul kernels run fastest on; it is cached
until the embedding changes.
"""
from __future__ import annotations

from functools import partial
from typing import NamedTuple, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .fewrows import FewRowsWeight
from .native import library as native_library
from .ranking import top_log_probs as native_top_log_probs
from .stepping import (PACKED_MIN_ROWS, OnFirstUse, onednn_packed, onednn_packs, packed_linear, row_blocks,
                       row_blocks_product)

__all__ = ["TiedHead", "PreparedHead", "BatchHead", "COLUMN_BLOCKS", "TOPK_MIN_ROWS", "FEW_ROWS", "FEW_MIN_ROWS"]

#: Column blocks of :class:`PreparedHead`'s batched products (see there); 4 measured best on 2 threads.
COLUMN_BLOCKS = 4

#: Most rows :class:`PreparedHead` multiplies on the few-row kernel (either dtype); oneDNN's is faster from 6.
FEW_ROWS = 5

#: Fewest rows :class:`PreparedHead` multiplies on the few-row kernel, per dtype: a float32 row is as fast on
#: the row blocks of the weight itself.
FEW_MIN_ROWS = {torch.float32: 2, torch.bfloat16: 1}

#: Fewest rows for which the generators rank columns with :meth:`PreparedHead.top_log_probs`. Measured at
#: 50k columns, 2 threads, weights out of cache, against logits + ``log_softmax`` + ``topk``: at d 256, 60%
#: slower at 5 rows and 30% slower at 8 (where the logits come from the fast few-row product), 30-45%
#: faster at 10-16 and 13% faster at 80; at d 512 the same pattern.
TOPK_MIN_ROWS = 9


def _compute_dtype(t: Tensor) -> torch.dtype:
    dev = t.device.type
    return torch.get_autocast_dtype(dev) if torch.is_autocast_enabled(dev) else t.dtype


class _TiedLinear(torch.autograd.Function):
    """``hidden @ weight[ranges].T + bias`` whose weight gradient is written straight into one buffer.

    Autograd's own slice backward would zero a full ``[V, d]`` gradient and copy the ``[C, d]`` block into
    it; here only the rows outside ``ranges`` are zeroed and the block is computed in place (fp32) or
    copied once (bf16). With the vocabulary at 59k rows this saves a 60 MB fill per training step.
    """

    @staticmethod
    def forward(ctx, hidden: Tensor, weight: Tensor, bias: Tensor | None,  # type: ignore[override]
                ranges: tuple[tuple[int, int], ...]) -> Tensor:
        dtype = _compute_dtype(hidden)
        if len(ranges) == 1:
            w = weight[ranges[0][0]:ranges[0][1]]
        else:
            w = torch.cat([weight[s:e] for s, e in ranges])
        h, w = hidden.to(dtype), w.to(dtype)
        b = None if bias is None else bias.to(dtype)
        with torch.autocast(hidden.device.type, enabled=False):
            out = F.linear(h, w, b)
        ctx.save_for_backward(h, w)
        ctx.ranges = ranges
        ctx.weight_meta = (weight.shape, weight.dtype)
        ctx.has_bias = bias is not None
        return out

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        h, w = ctx.saved_tensors
        g = grad.to(w.dtype)
        grad_h = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_h = g @ w
        if ctx.needs_input_grad[1]:
            g2, h2 = g.reshape(-1, g.shape[-1]), h.reshape(-1, h.shape[-1])
            shape, dtype = ctx.weight_meta
            grad_w = torch.empty(shape, dtype=dtype, device=g.device)
            offset = 0
            for s, e in ctx.ranges:
                block = g2[:, offset:offset + e - s].t()
                if dtype == g2.dtype:
                    torch.mm(block, h2, out=grad_w[s:e])
                else:
                    grad_w[s:e].copy_(block @ h2)
                offset += e - s
            covered = 0
            for s, e in sorted(ctx.ranges):
                grad_w[covered:s].zero_()
                covered = e
            grad_w[covered:].zero_()
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = g.reshape(-1, g.shape[-1]).sum(0)
        return grad_h, grad_w, grad_b, None


class _Layouts(NamedTuple):
    """A :class:`PreparedHead`'s ``[d, C]`` copy and its views (the last two float32 on the CPU only)."""

    weight_t: Tensor
    blocks_t: Tensor | None     # [blocks, d, C / blocks]
    block_bias: Tensor | None   # [blocks, 1, C / blocks]


class PreparedHead:
    """A frozen copy of a head's weight for the decoding loop (no autograd, fixed dtype).

    Which product is fastest depends on the dtype and the number of rows ``n``. Measured on this project's
    CPUs, 50k columns, d 512, 2 threads, with the weight out of cache; in float32:

    * 1 row: MKL runs a matrix-vector product on one thread but a batch of products on all. The weight
      viewed as two blocks of its rows (:func:`~polymodal.model.stepping.row_blocks_product`, no copy)
      multiplies as one batched product: 3.2 ms (at 32 GB/s), against 9.7 for nn.Linear's layout and 4.3
      for oneDNN. The few-row kernel is no faster there in the decoding loop (1.01x the time of a greedy
      call; 0.9-1.2x in other runs), and would need a copy of the weight.
    * 2 to :data:`FEW_ROWS` rows, where the C kernels were built: the few-row kernel
      (:mod:`~polymodal.model.fewrows`) on its packed copy of the weight: 3.2-3.3 against 3.8 ms at 2 rows,
      3.6 against 4.0 at 5; medium beam-5 at batch 1 took 0.90x the time, greedy at batch 2 0.92x. At 6 and
      8 rows oneDNN's is faster.
    * 2-3 rows otherwise: ``([C, d] @ [d, n]).T``, 3.0-3.6 ms.
    * 4 rows and more (:data:`~polymodal.model.stepping.PACKED_MIN_ROWS`): oneDNN's product on its packed
      copy of the weight (what torch.compile emits for a CPU linear): 3.5 ms at 5 rows, 5.4 at 16, 19.7 at
      80, against MKL's best of 4.7, 9.8 and 27. Without oneDNN, MKL's, and :meth:`top_log_probs` ranks
      columns on a batch of column blocks of the ``[d, C]`` copy; with it, ranking the ``[N, C]``
      log-probabilities is 2-3% faster than that.

    In bfloat16 the few-row kernel takes 1-5 rows (1.7 against 2.4-2.8 ms at 1-4 rows, 2.1 against 2.4 at 5;
    medium bf16 greedy at batch 1 took 0.81x the time; its float32 sums are returned unrounded), and oneDNN's
    packed product is the fastest beyond (1.2-2.2x faster than the plain one at 1-80 rows). On a GPU no layout
    trick pays. Each copy is made when a product first needs it, so a call uses one or two of them: packing
    takes ~50 ms for 50k x 512 for oneDNN, ~60 ms for the kernel; the ``[d, C]`` copy is never made in float32
    with oneDNN.

    :meth:`top_log_probs` ranks the logits on the C kernel of :mod:`~polymodal.model.ranking` where it was built
    (any dtype, on the CPU), else, in float32 without oneDNN, on the batch of column blocks.

    Attributes:
        weight: ``[C, d]`` contiguous.
        bias: ``[C]`` or None.
        dtype: the dtype hidden states are cast to before the product.
        blockwise: :meth:`top_log_probs` may rank on column blocks: float32 on a CPU without oneDNN.
        native_ranking: :meth:`top_log_probs` ranks on the C kernel, faster at every row count than
            ``log_softmax`` then ``topk``.
    """

    def __init__(self, weight: Tensor, bias: Tensor | None) -> None:
        self.weight = weight.contiguous()
        self.bias = bias
        self.dtype = weight.dtype
        cpu = weight.device.type == "cpu"
        self._fp32_cpu = weight.dtype == torch.float32 and cpu
        # whether oneDNN packs this dtype (the copy itself is made on first use)
        onednn = cpu and onednn_packs(self.dtype)
        self._packed: OnFirstUse[Tensor] = OnFirstUse(partial(onednn_packed, self.weight) if onednn else None)
        native = cpu and native_library() is not None
        few = native and self.dtype in (torch.float32, torch.bfloat16)
        self._few: OnFirstUse[FewRowsWeight] = OnFirstUse(partial(FewRowsWeight.of, self.weight, bias) if few
                                                          else None)
        self.blockwise = self._fp32_cpu and not onednn
        self.native_ranking = native
        self._rows = self._row_bias = None
        if self._fp32_cpu:
            self._rows = row_blocks(self.weight)
            self._row_bias = None if bias is None else row_blocks(bias.contiguous()[:, None])
        self._t: _Layouts | None = None

    @property
    def weight_t(self) -> Tensor:
        """``[d, C]`` with unit column stride (in float32 on the CPU, a view of a copy padded to whole column
        blocks)."""
        return self._layouts().weight_t

    def _layouts(self) -> "_Layouts":
        """The ``[d, C]`` layouts, made on first use: in float32 on the CPU a
        ``[d, C]`` copy padded to :data:`COLUMN_BLOCKS` equal blocks, viewed (no copy) as a
        ``[blocks, d, C / blocks]`` batch; elsewhere only a contiguous ``[d, C]`` copy."""
        if self._t is not None:
            return self._t
        c, d = self.weight.shape
        if not self._fp32_cpu:
            self._t = _Layouts(self.weight.t().contiguous(), None, None)
            return self._t
        padded = -(-c // COLUMN_BLOCKS) * COLUMN_BLOCKS
        block = padded // COLUMN_BLOCKS
        full_t = torch.zeros(d, padded, dtype=self.dtype, device=self.weight.device)
        full_t[:, :c] = self.weight.t()
        blocks_t = full_t.as_strided((COLUMN_BLOCKS, d, block), (block, padded, 1))
        block_bias = None
        if self.bias is not None:
            block_bias = torch.zeros(padded, dtype=self.bias.dtype, device=self.bias.device)
            block_bias[:c] = self.bias
            block_bias = block_bias.view(COLUMN_BLOCKS, 1, block)
        self._t = _Layouts(full_t[:, :c], blocks_t, block_bias)
        return self._t

    def _block_logits(self, h: Tensor) -> Tensor:
        """``[blocks, N, C / blocks]`` logits of ``h`` (padding columns hold the bias or 0)."""
        layouts = self._layouts()
        out = torch.bmm(h.expand(COLUMN_BLOCKS, -1, -1), layouts.blocks_t)
        if layouts.block_bias is not None:
            out += layouts.block_bias
        return out

    def __call__(self, hidden: Tensor) -> Tensor:
        """Return ``float32`` logits ``[N, C]`` for ``hidden`` ``[N, d]``."""
        h = hidden.to(self.dtype)
        n = h.shape[0]
        c = self.weight.shape[0]
        if (self._few.possible and FEW_MIN_ROWS[self.dtype] <= n <= FEW_ROWS
                and (few := self._few.get()) is not None):
            return few(h, float_out=True)  # bfloat16 products: the float32 sums, unrounded
        if (self._packed.possible and (n >= PACKED_MIN_ROWS or not self._fp32_cpu)
                and (packed := self._packed.get()) is not None):
            return packed_linear(h, packed, self.bias).float()
        if not self._fp32_cpu:
            logits = h @ self.weight_t if self.bias is None else torch.addmm(self.bias, h, self.weight_t)
            return logits.float()
        if n == 1 and c > 1:
            return row_blocks_product(h, self._rows, self._row_bias, c)
        if n <= 8:
            # [C, n] -> [n, C] contiguous for the row-wise reductions that follow. Stacking the n columns
            # runs 7x faster than .t().contiguous(), whose generic strided copy crawls at this shape.
            logits = torch.stack((self.weight @ h.t()).unbind(1))
        else:
            logits = h @ self.weight_t
        if self.bias is not None:
            logits = logits + self.bias
        return logits.float()

    def top_log_probs(self, hidden: Tensor, k: int, banned: Sequence[int] = ()) -> tuple[Tensor, Tensor]:
        """The ``k`` most probable columns and their log-probabilities, without ``[N, C]`` log-probabilities.

        Same result as ``log_softmax(self(hidden) with banned columns at -inf).topk(k)``. Where
        :attr:`native_ranking`, the logits are ranked by the C kernel in one pass. Else, where :attr:`blockwise`,
        they are computed on the batch of column blocks: one batched product (all threads), then each block's
        top ``k`` and log-sum-exp (in place), merged; the full-width version also writes and re-reads ``N x C``
        floats for ``log_softmax``, and this is 45% faster at 16 rows, 13% at 80. Elsewhere, PyTorch's
        operators on the full logits.

        Args:
            hidden: ``[N, d]`` decoder states.
            k: columns wanted per row (at most ``C``).
            banned: columns that may not be chosen and carry no probability (e.g. the pad column).

        Returns:
            ``(log_probs, columns)``, each ``[N, k]``, best first; ``log_probs`` is float32.
        """
        if self.native_ranking or not self.blockwise:
            logits = self(hidden)
            ranked = native_top_log_probs(logits, k, banned) if self.native_ranking else None
            if ranked is not None:
                return ranked
            logits[:, list(banned)] = float("-inf")
            return torch.log_softmax(logits, dim=-1).topk(k, dim=-1)
        n, c = hidden.shape[0], self.weight.shape[0]
        width = self._layouts().blocks_t.shape[2]
        blocks = self._block_logits(hidden.to(self.dtype)).float()  # [blocks, N, width]
        blocks[-1, :, c - (COLUMN_BLOCKS - 1) * width:] = float("-inf")  # the padding columns
        for col in banned:
            blocks[col // width, :, col % width] = float("-inf")
        values, columns = blocks.topk(min(k, width), dim=-1)  # [blocks, N, k]
        # log-sum-exp in place, shifted by each block's maximum (its top value); a block whose every
        # column is banned has maximum -inf, clamped so that it adds exp(-inf) = 0.
        top = values[:, :, :1].clamp(min=torch.finfo(torch.float32).min)
        norms = blocks.sub_(top).exp_().sum(dim=-1).log_() + top[:, :, 0]
        norm = torch.logsumexp(norms, dim=0)[:, None]
        columns = columns + torch.arange(0, COLUMN_BLOCKS * width, width, device=columns.device)[:, None, None]
        values, columns = values.permute(1, 0, 2).reshape(n, -1), columns.permute(1, 0, 2).reshape(n, -1)
        best, pick = values.topk(k, dim=-1)
        return best - norm, columns.gather(1, pick)


class TiedHead(nn.Module):
    """Scores the columns ``ranges`` of a shared embedding: ``logits = hidden @ E[cols].T (+ bias)``.

    The embedding is referenced, not registered as a submodule, so the head's ``state_dict`` holds only
    its own bias and a checkpoint stores the shared embedding once.

    Args:
        embedding: the backbone's ``embed_tokens``.
        ranges: ``(start, end)`` global-id ranges, end exclusive, in output-column order; they must not
            overlap.
        bias: learn an output bias per column.

    Raises:
        ValueError: for an empty, reversed, overlapping or out-of-vocabulary range.
    """

    def __init__(self, embedding: nn.Embedding, ranges: Sequence[tuple[int, int]], *,
                 bias: bool = False) -> None:
        super().__init__()
        vocab = embedding.num_embeddings
        ranges = [(int(s), int(e)) for s, e in ranges]
        if not ranges:
            raise ValueError("TiedHead needs at least one (start, end) range")
        for s, e in ranges:
            if not 0 <= s < e <= vocab:
                raise ValueError(f"head range [{s}, {e}) is empty or outside the vocabulary [0, {vocab})")
        ordered = sorted(ranges)
        for (s1, e1), (s2, e2) in zip(ordered, ordered[1:]):
            if s2 < e1:
                raise ValueError(f"head ranges [{s1}, {e1}) and [{s2}, {e2}) overlap")
        # Adjacent ranges given in order collapse into one, so the common case specials+text is one view.
        merged: list[tuple[int, int]] = []
        for s, e in ranges:
            if merged and merged[-1][1] == s:
                merged[-1] = (merged[-1][0], e)
            else:
                merged.append((s, e))
        self.ranges: tuple[tuple[int, int], ...] = tuple(merged)
        self._tied = (embedding,)
        cols = torch.cat([torch.arange(s, e) for s, e in merged])
        self.register_buffer("_columns", cols.to(embedding.weight.device), persistent=False)
        self.bias = nn.Parameter(torch.zeros(len(cols), device=embedding.weight.device)) if bias else None
        self._prepared: tuple[tuple, PreparedHead] | None = None

    @property
    def embedding(self) -> nn.Embedding:
        """The shared embedding this head is tied to."""
        return self._tied[0]

    @property
    def columns(self) -> Tensor:
        """``LongTensor[C]``: the global id of each output column (on the embedding's device)."""
        device = self.embedding.weight.device
        if self._columns.device != device:
            # The head may live outside the module tree that was moved (e.g. in a plain dict).
            self._columns = self._columns.to(device)
        return self._columns

    @property
    def n_columns(self) -> int:
        """Number of output columns ``C``."""
        return self._columns.shape[0]

    def weight(self) -> Tensor:
        """The ``[C, d]`` output weight: a view for one range, a concatenation otherwise."""
        w = self.embedding.weight
        if len(self.ranges) == 1:
            s, e = self.ranges[0]
            return w[s:e]
        return torch.cat([w[s:e] for s, e in self.ranges])

    def forward(self, hidden: Tensor) -> Tensor:
        """Return logits ``[..., C]`` for decoder states ``hidden`` ``[..., d]``.

        Select the positions that carry a loss before calling this: the product is the most expensive
        part of a training step.
        """
        return _TiedLinear.apply(hidden, self.embedding.weight, self.bias, self.ranges)

    def column_of(self, global_ids: Tensor) -> Tensor:
        """Map global ids to output columns; ids outside the head map to -1."""
        out = torch.full_like(global_ids, -1)
        offset = 0
        for s, e in self.ranges:
            inside = (global_ids >= s) & (global_ids < e)
            out = torch.where(inside, global_ids - s + offset, out)
            offset += e - s
        return out

    def clear_prepared(self) -> None:
        """Drop the cached :class:`PreparedHead` (it holds a transposed copy of the weight)."""
        self._prepared = None

    def prepare(self, dtype: torch.dtype | None = None) -> PreparedHead:
        """Return the head's weight frozen for decoding, cached until the embedding or bias changes.

        Args:
            dtype: compute dtype (e.g. ``torch.bfloat16`` under autocast); default: the active autocast
                dtype of the embedding's device if autocast is on, else the embedding's dtype.
        """
        w = self.embedding.weight
        if dtype is None:
            dev = w.device.type
            dtype = torch.get_autocast_dtype(dev) if torch.is_autocast_enabled(dev) else w.dtype
        bias = self.bias
        # The version counters change on every in-place update (optimizer steps), so a stale copy is
        # never reused after training continues.
        key = (w.data_ptr(), w._version, dtype, None if bias is None else bias._version, self.ranges)
        if self._prepared is not None and self._prepared[0] == key:
            return self._prepared[1]
        with torch.no_grad():
            weight = self.weight().detach().to(dtype)
            b = None if bias is None else bias.detach().to(dtype)
            prepared = PreparedHead(weight, b)
        self._prepared = (key, prepared)
        return prepared


class BatchHead:
    """A head bound to one batch's source that changes another head's output (copying, locating): what the
    generators call. It behaves like the head it wraps (``columns``, ``n_columns``, ``prepare``) and is called
    with decoder states and the batch row of each hypothesis (``needs_rows``); subclasses implement
    :meth:`__call__` on :meth:`inner`'s output.
    """

    needs_rows = True

    def __init__(self, head) -> None:
        self.head = head
        self._prepared = None

    @property
    def columns(self) -> Tensor:
        return self.head.columns

    @property
    def n_columns(self) -> int:
        return self.head.n_columns

    def prepare(self, dtype: torch.dtype | None = None) -> "BatchHead":
        self._prepared = self.head.prepare(dtype)
        return self

    def inner(self, hidden: Tensor, rows: Tensor) -> Tensor:
        """The wrapped head's output for ``hidden`` (``[N, d]``) of batch rows ``rows``."""
        head = self._prepared or self.head
        return head(hidden, rows) if getattr(head, "needs_rows", False) else head(hidden)

    def __call__(self, hidden: Tensor, rows: Tensor) -> Tensor:
        raise NotImplementedError
