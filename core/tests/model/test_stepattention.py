from __future__ import annotations

import shutil
import sys

import pytest
import torch
import torch.nn.functional as F

from polymodal.model.stepattention import MAX_QUERIES, step_attention

BUILDABLE = sys.platform.startswith("linux") and shutil.which("cc") is not None
needs_kernel = pytest.mark.skipif(not BUILDABLE, reason="the C kernels are built on Linux with a C compiler")
H, DH = 4, 16


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def self_operands(b: int, t: int, keys: int, dtype=torch.float32, seed: int = 0):
    """Queries as the decoder step makes them (a permuted view of the fused projection) and a slice of a
    longer key/value cache."""
    g = torch.Generator().manual_seed(seed)
    qkv = torch.randn(b, t, 3, H, DH, generator=g).to(dtype).permute(2, 0, 3, 1, 4)
    cache_k = torch.randn(b, H, keys + 5, DH, generator=g).to(dtype)
    cache_v = torch.randn(b, H, keys + 5, DH, generator=g).to(dtype)
    return qkv[0], cache_k[:, :, :keys], cache_v[:, :, :keys]


def reference(q, k, v, mask=None):
    """PyTorch's attention in float32, laid out as the kernel's output."""
    return F.scaled_dot_product_attention(q.float(), k.float(), v.float(), attn_mask=mask).transpose(1, 2)


@needs_kernel
@pytest.mark.parametrize("b, t, keys", [(1, 1, 1), (1, 1, 31), (3, 1, 8), (2, 4, 9), (1, MAX_QUERIES, 40)])
def test_self_attention_over_the_cache_matches_pytorch(b, t, keys):
    q, k, v = self_operands(b, t, keys)
    pos = keys - t  # the cache held pos positions before these t
    got = step_attention(q, k, v, causal_from=pos if t > 1 else None)
    causal = torch.arange(keys)[None, :] <= torch.arange(pos, keys)[:, None]
    assert got.shape == (b, t, H, DH) and got.is_contiguous()
    assert torch.allclose(got, reference(q, k, v, causal), atol=1e-6, rtol=1e-5)


@needs_kernel
@pytest.mark.parametrize("group", [1, 3])
def test_cross_attention_with_padding_and_shared_keys_matches_pytorch(group):
    g = torch.Generator().manual_seed(1)
    rows, keys = 3, 11
    # group queries of each row (the hypotheses of beam search) share the row's keys and values
    q = torch.randn(rows, group, H, DH, generator=g).transpose(1, 2)
    k, v = torch.randn(rows, H, keys, DH, generator=g), torch.randn(rows, H, keys, DH, generator=g)
    mask = torch.ones(rows, 1, 1, keys, dtype=torch.bool)
    mask[0, ..., 7:] = False
    mask[2, ..., ::2] = False
    got = step_attention(q, k, v, mask)
    assert torch.allclose(got, reference(q, k, v, mask), atol=1e-6, rtol=1e-5)
    # padded keys carry no weight whatever they hold
    k2, v2 = k.clone(), v.clone()
    k2[0, :, 7:], v2[0, :, 7:] = 1e4, -1e4
    assert torch.equal(step_attention(q, k2, v2, mask)[0], got[0])


@needs_kernel
def test_bfloat16_attention_is_float32_attention_rounded():
    q, k, v = self_operands(2, 3, 13, torch.bfloat16)
    got = step_attention(q, k, v, causal_from=10)
    assert got.dtype == torch.bfloat16
    want = reference(q, k, v, torch.arange(13)[None, :] <= torch.arange(10, 13)[:, None])
    # within half a bfloat16 step of the float32 result of the same operands, up to float32 sums
    assert ((got.float() - want).abs() <= want.abs() * 2 ** -8 + 1e-6).all()


@needs_kernel
def test_results_do_not_depend_on_the_thread_count():
    q, k, v = self_operands(3, 2, 20)
    one = step_attention(q, k, v, causal_from=18)
    torch.set_num_threads(2)
    assert torch.equal(step_attention(q, k, v, causal_from=18), one)


@needs_kernel
def test_a_query_that_sees_no_key_gets_zeros():
    q, k, v = self_operands(2, 1, 6)
    mask = torch.zeros(2, 6, dtype=torch.bool)
    mask[1, 2] = True
    got = step_attention(q, k, v, mask)
    assert torch.equal(got[0], torch.zeros_like(got[0]))
    assert torch.allclose(got[1], v[1, :, 2][None], atol=1e-6)  # one key: its value


@needs_kernel
def test_operands_the_kernel_cannot_read_are_left_to_pytorch():
    q, k, v = self_operands(1, 1, 5)
    assert step_attention(q.double(), k.double(), v.double()) is None
    assert step_attention(q.half(), k.half(), v.half()) is None
    assert step_attention(q, k.transpose(2, 3), v.transpose(2, 3)) is None  # head dimension not contiguous
    assert step_attention(q, k[:, :2], v[:, :2]) is None  # fewer heads than the queries
    assert step_attention(q, k, v, torch.ones(1, 5, dtype=torch.int64)) is None  # not a bool mask
    many = torch.randn(1, H, MAX_QUERIES + 1, DH)
    assert step_attention(many, k, v) is None  # a long run of positions: PyTorch's blocked kernel
    assert step_attention(q.to("meta"), k.to("meta"), v.to("meta")) is None

