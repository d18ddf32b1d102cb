"""Products of a few rows with a float32 or bfloat16 weight, on the C kernel ``fewrows.c``
(built by :mod:`~polymodal.model.native`).

A beam-search step multiplies its few hypotheses (5 at batch 1) by every decoder weight. At 2-8 rows MKL's and
oneDNN's GEMMs read a 512 x 512 float32 weight at 10-16 GB/s, half of what one row's products reach, so beam
search spent a third of its time there. The kernel streams once a copy of the weight packed in blocks of 64
output columns stored input-major, each row's 64 partial sums held in registers: at 5 rows, 512 x 512 in 46
against 76 us for oneDNN, 2048 -> 512 in 160 against 240 (2 threads, weights out of cache). Each output is a
sum in input order, so results do not depend on the thread count.

In bfloat16 the kernel reads half the bytes: against oneDNN's bfloat16 product, 19 against 53 us on 512 x 512
at one row, 26 against 45 at 5 rows, 55 against 113 on 2048 -> 512 at one row, and the 50k-column head in 1.2
against 1.9 ms at one row (at 5 rows 1.6 against 1.4 in a first measurement, 2.1 against 2.4 in a second,
interleaved one: see :class:`~polymodal.model.heads.PreparedHead`).
"""
from __future__ import annotations

import torch
from torch import Tensor

from .native import Library, library

__all__ = ["FewRowsWeight", "MAX_ROWS"]

#: Most rows the kernel takes (``MAX_ROWS`` in ``fewrows.c``, which refuses more); at 8 it is still 10-15% faster
#: than oneDNN, beyond that arithmetic bounds it. Which row counts use it is the callers' choice
#: (:class:`~polymodal.model.stepping.LinearT`, :class:`~polymodal.model.heads.PreparedHead`).
MAX_ROWS = 8


class FewRowsWeight:
    """A float32 or bfloat16 CPU ``[out, in]`` weight (and bias) packed for the kernel: ``x @ weight.T + bias``
    for ``x`` of 1 to :data:`MAX_ROWS` rows, in the weight's dtype. Build it with :meth:`of`."""

    def __init__(self, lib: Library, packed: Tensor, bias: Tensor | None, out: int, inp: int) -> None:
        self._lib, self.packed, self.bias, self.out, self.inp = lib, packed, bias, out, inp
        self.dtype = packed.dtype

    @classmethod
    def of(cls, weight: Tensor, bias: Tensor | None) -> "FewRowsWeight | None":
        """Pack ``weight``, or None where the kernel is unavailable or does not take it."""
        lib = library()
        if (lib is None or weight.dtype not in (torch.float32, torch.bfloat16) or weight.device.type != "cpu"
                or weight.dim() != 2):
            return None
        out, inp = weight.shape
        weight = weight.detach().contiguous()
        packed = torch.empty(-(-out // lib.block) * inp * lib.block, dtype=weight.dtype)
        pack = lib.pack if weight.dtype == torch.float32 else lib.pack_bf16
        pack(weight.data_ptr(), out, inp, packed.data_ptr(), torch.get_num_threads())
        if bias is not None:
            bias = bias.detach().to(torch.float32).contiguous()  # added to the float32 sums
        return cls(lib, packed, bias, out, inp)

    def __call__(self, x: Tensor, float_out: bool = False) -> Tensor:
        """``x`` (``[n, in]``, ``1 <= n <= MAX_ROWS``, cast to the weight's dtype) times the weight: ``[n, out]``
        in the weight's dtype, or in float32 with ``float_out`` (a bfloat16 product's sums unrounded)."""
        n = x.shape[0]
        if x.dim() != 2 or x.shape[1] != self.inp or not 1 <= n <= MAX_ROWS:
            raise ValueError(f"the few-row product takes [1..{MAX_ROWS}, {self.inp}], got {tuple(x.shape)}")
        if x.stride(-1) != 1 or x.dtype != self.dtype:
            x = x.to(self.dtype).contiguous()
        bias = None if self.bias is None else self.bias.data_ptr()
        threads = torch.get_num_threads()
        if self.dtype == torch.float32:
            y = torch.empty(n, self.out, dtype=torch.float32)
            status = self._lib.linear(x.data_ptr(), n, x.stride(0), self.packed.data_ptr(), self.out, self.inp,
                                      bias, y.data_ptr(), threads)
        else:
            y = torch.empty(n, self.out, dtype=torch.float32 if float_out else torch.bfloat16)
            status = self._lib.linear_bf16(x.data_ptr(), n, x.stride(0), self.packed.data_ptr(), self.out,
                                           self.inp, bias, y.data_ptr(), int(not float_out), threads)
        if status:
            raise RuntimeError(f"the few-row kernel refused {n} rows")
        return y
