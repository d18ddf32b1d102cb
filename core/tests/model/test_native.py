from __future__ import annotations

import logging
import shutil
import sys

import pytest
import torch

from polymodal.model import native
from polymodal.model.stepping import LinearT

BUILDABLE = sys.platform.startswith("linux") and shutil.which("cc") is not None
needs_kernel = pytest.mark.skipif(not BUILDABLE, reason="the C kernels are built on Linux with a C compiler")


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture
def fresh_kernel(monkeypatch, tmp_path):
    """``native.library`` forgotten (and forgotten again afterwards), building into an empty cache."""
    monkeypatch.setenv("POLYMODAL_CACHE", str(tmp_path))
    native.library.cache_clear()
    yield tmp_path
    native.library.cache_clear()


@needs_kernel
def test_the_kernels_build_once_into_the_cache_and_are_reused(fresh_kernel):
    assert native.library() is not None
    built = list((fresh_kernel / "kernels").glob("polymodal-native-*.so"))
    assert len(built) == 1
    stamp = built[0].stat().st_mtime_ns
    native.library.cache_clear()
    assert native.library() is not None
    assert [p.stat().st_mtime_ns for p in (fresh_kernel / "kernels").glob("polymodal-native-*.so")] == [stamp]
    assert not [p for p in (fresh_kernel / "kernels").iterdir() if p.suffix != ".so"]  # no build leftovers


def test_without_the_kernel_the_reason_is_logged_and_steps_use_pytorch(fresh_kernel, monkeypatch, caplog):
    monkeypatch.setenv("POLYMODAL_NATIVE", "0")
    with caplog.at_level(logging.INFO, logger="polymodal.model.native"):
        assert native.library() is None
    assert "POLYMODAL_NATIVE=0" in caplog.text
    linear = torch.nn.Linear(64, 96)
    prepared = LinearT.of(linear, torch.float32)
    x = torch.randn(5, 64)
    with torch.no_grad():
        assert torch.allclose(prepared(x), linear(x), atol=1e-5)
    assert prepared.few.get() is None and not prepared.few.possible


@needs_kernel
def test_a_compiler_that_fails_is_reported_not_raised(fresh_kernel, monkeypatch, caplog):
    monkeypatch.setenv("CC", "false")
    with caplog.at_level(logging.INFO, logger="polymodal.model.native"):
        assert native.library() is None
    assert "building them failed" in caplog.text and "false" in caplog.text
