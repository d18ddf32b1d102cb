from __future__ import annotations

import shutil
import sys

import pytest
import torch
import torch.nn.functional as F

from polymodal.model.fewrows import MAX_ROWS, FewRowsWeight

BUILDABLE = sys.platform.startswith("linux") and shutil.which("cc") is not None
needs_kernel = pytest.mark.skipif(not BUILDABLE, reason="the C kernels are built on Linux with a C compiler")


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@needs_kernel
# a multiple of the block, a tail block, an input that is no multiple of the vector width, a wide input
@pytest.mark.parametrize("shape", [(512, 256), (256, 1023), (100, 70), (2048, 64)])
@pytest.mark.parametrize("bias", [True, False])
def test_few_row_products_match_linear(shape, bias):
    torch.manual_seed(0)
    linear = torch.nn.Linear(*shape, bias=bias)
    few = FewRowsWeight.of(linear.weight.detach(), None if linear.bias is None else linear.bias.detach())
    assert few is not None
    for n in range(1, MAX_ROWS + 1):
        wide = torch.randn(n, shape[0] + 3)
        x = wide[:, 1:shape[0] + 1]  # rows that are not contiguous with one another
        with torch.no_grad():
            want = linear(x)
        got = few(x)
        assert got.shape == (n, shape[1]) and got.is_contiguous()
        assert torch.allclose(got, want, atol=1e-5, rtol=1e-5), n


@needs_kernel
def test_few_row_products_do_not_depend_on_the_thread_count():
    torch.manual_seed(0)
    w, b, x = torch.randn(300, 200), torch.randn(300), torch.randn(5, 200)
    few = FewRowsWeight.of(w, b)
    one = few(x)
    torch.set_num_threads(2)
    assert torch.equal(few(x), one)


@needs_kernel
def test_few_row_products_refuse_what_the_kernel_cannot_read():
    few = FewRowsWeight.of(torch.randn(64, 32), None)
    for bad in (torch.randn(0, 32), torch.randn(MAX_ROWS + 1, 32), torch.randn(3, 31), torch.randn(3, 32, 1)):
        with pytest.raises(ValueError, match="few-row product takes"):
            few(bad)
    assert FewRowsWeight.of(torch.randn(64, 32, dtype=torch.float16), None) is None




@needs_kernel
@pytest.mark.parametrize("shape", [(512, 256), (256, 1023), (100, 70)])
def test_bfloat16_products_match_linear_and_can_stay_unrounded(shape):
    torch.manual_seed(1)
    weight, bias = torch.randn(shape[1], shape[0]).bfloat16(), torch.randn(shape[1]).bfloat16()
    few = FewRowsWeight.of(weight, bias)
    for n in range(1, MAX_ROWS + 1):
        x = torch.randn(n, shape[0])
        got = few(x)  # x is cast to bfloat16, as autocast would
        want = F.linear(x.bfloat16(), weight, bias)
        assert got.dtype == torch.bfloat16 and got.shape == (n, shape[1])
        assert torch.allclose(got.float(), want.float(), rtol=1e-2, atol=1e-2), n
        sums = few(x, float_out=True)  # the float32 sums before rounding
        exact = F.linear(x.bfloat16().double(), weight.double(), bias.double())
        assert sums.dtype == torch.float32 and torch.allclose(sums.double(), exact, rtol=1e-5, atol=1e-4)
        assert torch.equal(sums.bfloat16(), got)  # rounded to nearest even, as oneDNN's bfloat16 product
