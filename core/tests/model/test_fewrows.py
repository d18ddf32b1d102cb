from __future__ import annotations

import logging
import shutil
import sys

import pytest
import torch
import torch.nn.functional as F

from polymodal.model import fewrows
from polymodal.model.fewrows import MAX_ROWS, MIN_ROWS, FewRowsWeight
from polymodal.model.stepping import LinearT

BUILDABLE = sys.platform.startswith("linux") and shutil.which("cc") is not None
needs_kernel = pytest.mark.skipif(not BUILDABLE, reason="the few-row kernel is built on Linux with a C compiler")


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture
def fresh_kernel(monkeypatch, tmp_path):
    """``fewrows.kernel`` forgotten (and forgotten again afterwards), building into an empty cache."""
    monkeypatch.setenv("POLYMODAL_CACHE", str(tmp_path))
    fewrows.kernel.cache_clear()
    yield tmp_path
    fewrows.kernel.cache_clear()


@needs_kernel
def test_the_kernel_builds_once_into_the_cache_and_is_reused(fresh_kernel):
    assert fewrows.kernel() is not None
    built = list((fresh_kernel / "kernels").glob("fewrows-*.so"))
    assert len(built) == 1
    stamp = built[0].stat().st_mtime_ns
    fewrows.kernel.cache_clear()
    assert fewrows.kernel() is not None
    assert [p.stat().st_mtime_ns for p in (fresh_kernel / "kernels").glob("fewrows-*.so")] == [stamp]
    assert not [p for p in (fresh_kernel / "kernels").iterdir() if p.suffix != ".so"]  # no build leftovers


@needs_kernel
# a multiple of the block, a tail block, an input that is no multiple of the vector width, a wide input
@pytest.mark.parametrize("shape", [(512, 256), (256, 1023), (100, 70), (2048, 64)])
@pytest.mark.parametrize("bias", [True, False])
def test_few_row_products_match_linear(shape, bias):
    torch.manual_seed(0)
    linear = torch.nn.Linear(*shape, bias=bias)
    few = FewRowsWeight.of(linear.weight.detach(), None if linear.bias is None else linear.bias.detach())
    assert few is not None
    for n in range(MIN_ROWS, MAX_ROWS + 1):
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
    for bad in (torch.randn(1, 32), torch.randn(MAX_ROWS + 1, 32), torch.randn(3, 31), torch.randn(3, 32, 1)):
        with pytest.raises(ValueError, match="few-row product takes"):
            few(bad)
    assert FewRowsWeight.of(torch.randn(64, 32, dtype=torch.bfloat16), None) is None


def test_without_the_kernel_the_reason_is_logged_and_steps_use_pytorch(fresh_kernel, monkeypatch, caplog):
    monkeypatch.setenv("POLYMODAL_NATIVE", "0")
    with caplog.at_level(logging.INFO, logger="polymodal.model.fewrows"):
        assert fewrows.kernel() is None
    assert "POLYMODAL_NATIVE=0" in caplog.text
    linear = torch.nn.Linear(64, 96)
    prepared = LinearT.of(linear, torch.float32)
    x = torch.randn(5, 64)
    with torch.no_grad():
        assert torch.allclose(prepared(x), linear(x), atol=1e-5)
    assert prepared.few is None and not prepared.few_rows


@needs_kernel
def test_a_compiler_that_fails_is_reported_not_raised(fresh_kernel, monkeypatch, caplog):
    monkeypatch.setenv("CC", "false")
    with caplog.at_level(logging.INFO, logger="polymodal.model.fewrows"):
        assert fewrows.kernel() is None
    assert "building it failed" in caplog.text and "false" in caplog.text
