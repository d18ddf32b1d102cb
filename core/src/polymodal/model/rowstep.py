"""A decoder layer's step for a few rows in one call (float32, or bfloat16 weights under autocast), on the C
kernel ``rowstep.c`` (built by :mod:`~polymodal.model.native`).

Greedy search or sampling of one sequence runs every decoder layer on one row per step, beam search at batch 1 on
its few hypotheses. The step's six products read the layer's weights at the machine's bandwidth, but the step
made about 45 PyTorch calls per layer around them (layer norms, views, cache writes, attention, activation,
residual additions), each of a few microseconds: on the medium model 0.7 ms of a 1.7 ms decoder step at one row
was spent outside the products. The kernel runs the whole layer on one OpenMP team, the rest between the products
on the same threads. A single float32 row's products read the weights in their own layout (no copy), a thread
streaming a contiguous run of a weight's rows; otherwise the products run the few-row kernel on its packed copies
(:mod:`~polymodal.model.fewrows`), and in bfloat16 round where autocast does. Interleaved A/B runs on the medium
model, the same columns: greedy search at batch 1 took 0.84x the time in float32 and 0.83x in bfloat16, beam-5
at batch 1 0.93x and 0.87x.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from .fewrows import MAX_ROWS
from .layers import DecoderLayer
from .native import Library, library

__all__ = ["RowStep"]

_ACTIVATIONS = {"relu": 0, "gelu": 1, "gelu_tanh": 2}

#: Entries of a layer's parameter array (``P_COUNT`` in ``rowstep.c``): 18 tensors, then the width, the heads,
#: the feed-forward width, the activation, whether the weights are bfloat16 and whether they are packed.
_PARAMETERS = 24


def _readable(t: Tensor | None, dtype: torch.dtype, optional: bool = True) -> bool:
    """Whether the kernel reads ``t`` as it is: a contiguous CPU tensor of ``dtype`` (or None, if ``optional``)."""
    if t is None:
        return optional
    return t.dtype == dtype and t.device.type == "cpu" and t.is_contiguous()


class RowStep:
    """The decoder's layers bound to the kernel for steps of 1 to :data:`MAX_ROWS` rows. Build it with :meth:`of`;
    call it on each layer in turn. It keeps the tensors whose memory the kernel reads."""

    def __init__(self, lib: Library, layers: Sequence[DecoderLayer], weights: Sequence) -> None:
        self._lib, self._layers, self._weights = lib, list(layers), list(weights)
        #: the weights', caches' and encoder keys' dtype: float32, or bfloat16 (autocast)
        self.dtype = weights[0].qkv.weight.dtype
        self._bf16 = self.dtype == torch.bfloat16
        self._keep: list[Tensor] = []
        self._eps = [torch.tensor([layer.self_norm.eps, layer.cross_norm.eps, layer.ffn_norm.eps],
                                  dtype=torch.float32) for layer in layers]
        # per layer, the parameter arrays with the weights in place (one float32 row) and packed (the few-row
        # kernel's copies, made by the first call that needs them; None where they cannot be made)
        self._in_place = None if self._bf16 else self._parameters(packed=False)
        self._packed: list[Tensor] | None | bool = False
        self._d = layers[0].self_norm.weight.shape[0]
        self._ffn = max(w.fc1.weight.shape[0] for w in weights)
        self._heads = max(layer.self_attn.n_heads for layer in layers)

    def _parameters(self, packed: bool) -> list[Tensor] | None:
        arrays = []
        for layer, w in zip(self._layers, self._weights):
            linears = []
            for lt in (w.qkv, w.self_out, w.cross_q, w.cross_out, w.fc1, w.fc2):
                if packed:
                    few = lt.few.get()
                    if few is None:
                        return None
                    linears.append((few.packed, few.bias))
                else:
                    linears.append((lt.weight, lt.bias))
            norms = [(n.weight, n.bias) for n in (layer.self_norm, layer.cross_norm, layer.ffn_norm)]
            tensors = [*norms[0], *linears[0], *linears[1], *norms[1], *linears[2], *linears[3], *norms[2],
                       *linears[4], *linears[5]]
            tensors = [None if t is None else t.detach() for t in tensors]
            self._keep.extend(t for t in tensors if t is not None)
            values = [0 if t is None else t.data_ptr() for t in tensors]
            values += [layer.self_norm.weight.shape[0], layer.self_attn.n_heads, w.fc1.weight.shape[0],
                       _ACTIVATIONS[layer.ffn.activation], int(self._bf16), int(packed)]
            arrays.append(torch.tensor(values, dtype=torch.int64))
        return arrays

    @classmethod
    def of(cls, layers: Sequence[DecoderLayer], weights: Sequence) -> "RowStep | None":
        """The kernel bound to ``layers`` and their float32 or bfloat16 step weights, or None where it is
        unavailable or does not take them (other dtypes or devices, an unknown activation, layer norms without
        float32 parameters)."""
        lib = library()
        if lib is None or not layers or lib.row_step_parameters() != _PARAMETERS:
            return None
        dtype = weights[0].qkv.weight.dtype
        if dtype not in (torch.float32, torch.bfloat16):
            return None
        for layer, w in zip(layers, weights):
            linears = (w.qkv, w.self_out, w.cross_q, w.cross_out, w.fc1, w.fc2)
            norms = (layer.self_norm, layer.cross_norm, layer.ffn_norm)
            if (layer.ffn.activation not in _ACTIVATIONS
                    or not all(_readable(lt.weight, dtype, False) and _readable(lt.bias, dtype) for lt in linears)
                    or not all(_readable(n.weight, torch.float32, False) and _readable(n.bias, torch.float32, False)
                               for n in norms)
                    or layer.self_norm.weight.shape[0] % layer.self_attn.n_heads):
                return None
        return cls(lib, layers, weights)

    @staticmethod
    def takes(x: Tensor) -> bool:
        """Whether a step on decoder states ``x`` (``[B, T, d]``) runs on the kernel: 1 to :data:`MAX_ROWS` rows at
        one position, in float32 on the CPU, outside autograd."""
        return (1 <= x.shape[0] <= MAX_ROWS and x.shape[1] == 1 and x.dtype == torch.float32
                and x.device.type == "cpu" and not torch.is_grad_enabled())

    def __call__(self, i: int, x: Tensor, self_k: Tensor, self_v: Tensor, pos: int, cross_k: Tensor | None,
                 cross_v: Tensor | None, cross_mask: Tensor | None, cross_scale: Tensor | None,
                 group: int = 1) -> bool:
        """Run layer ``i`` on ``x`` (``[R, 1, d]``, contiguous float32, updated in place), every row at position
        ``pos``, writing the new keys and values into ``self_k`` / ``self_v`` (``[R, H, T, dh]``, of the weights'
        dtype); each run of ``group`` rows shares its row of ``cross_k`` / ``cross_v`` (``[R / group, H, S, dh]``).
        Returns False, having done nothing, where the operands' layout does not suit the kernel. Calls from several
        threads at once are safe (each has its own work space)."""
        rows = x.shape[0]
        if not (x.is_contiguous() and self_k.shape[0] == rows and self_k.stride(3) == 1
                and self_k.stride()[:3] == self_v.stride()[:3] and self_k.dtype == self.dtype == self_v.dtype):
            return False
        if self._bf16 or rows > 1:
            if self._packed is False:
                self._packed = self._parameters(packed=True)
            params = self._packed
        else:
            params = self._in_place
        if params is None:
            return False
        n_src = ck = cv = cr = ch = cp = mask = mask_row = 0
        scale = None
        if cross_k is not None:
            if (cross_k.shape[0] * group != rows or cross_k.stride(3) != 1 or cross_v.stride() != cross_k.stride()
                    or cross_k.dtype != self.dtype or cross_v.dtype != self.dtype):
                return False
            n_src, ck, cv, (cr, ch, cp) = cross_k.shape[2], cross_k.data_ptr(), cross_v.data_ptr(), cross_k.stride()[:3]
            if cross_mask is not None:
                if cross_mask.dtype != torch.bool or cross_mask.stride(-1) != 1 or cross_mask.shape[-1] != n_src:
                    return False
                mask, mask_row = cross_mask.data_ptr(), cross_mask.stride(0)
            if cross_scale is not None:
                scale = cross_scale.to(torch.float32).contiguous()  # held until the call returns
        scratch = torch.empty(rows * (7 * self._d + 3 * self._ffn + self._heads * (pos + 1 + n_src)))
        status = self._lib.row_step(params[i].data_ptr(), self._eps[i].data_ptr(), x.data_ptr(), rows, group,
                                    self_k.data_ptr(), self_v.data_ptr(), *self_k.stride()[:3], pos, ck, cv, cr, ch,
                                    cp, n_src, mask, mask_row, 0 if scale is None else scale.data_ptr(),
                                    scratch.data_ptr(), torch.get_num_threads())
        if status:
            raise RuntimeError(f"the decoder-step kernel refused {rows} rows")
        return True
