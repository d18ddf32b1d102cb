from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from polymodal.model import EncoderDecoder, ModelConfig, TiedHead, native
from polymodal.model.heads import PreparedHead

V, D = 50, 64


@pytest.fixture
def model():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    return EncoderDecoder(ModelConfig.named("nano", vocab_size=V, dropout=0.0))


def reference_weight(model, ranges):
    w = model.embed_tokens.weight
    return torch.cat([w[s:e] for s, e in ranges])


def test_single_range_is_a_view_and_columns_are_global_ids(model):
    head = TiedHead(model.embed_tokens, [(0, 5), (5, 30)])  # adjacent: merged into one range
    assert head.ranges == ((0, 30),)
    assert head.weight().data_ptr() == model.embed_tokens.weight.data_ptr()
    assert head.columns.tolist() == list(range(30))
    assert head.n_columns == 30


def test_several_ranges_keep_the_given_column_order(model):
    head = TiedHead(model.embed_tokens, [(40, 45), (0, 3)])
    assert head.columns.tolist() == [40, 41, 42, 43, 44, 0, 1, 2]
    assert head.column_of(torch.tensor([41, 2, 10])).tolist() == [1, 7, -1]


@pytest.mark.parametrize("ranges", [[(0, 50)], [(0, 5), (20, 30)], [(30, 45), (2, 10)]])
@pytest.mark.parametrize("bias", [False, True])
def test_forward_and_gradients_match_a_plain_linear(model, ranges, bias):
    head = TiedHead(model.embed_tokens, ranges, bias=bias)
    if bias:
        with torch.no_grad():
            head.bias.normal_()
    x = torch.randn(3, 4, D, requires_grad=True)
    r = torch.randn(3, 4, head.n_columns)
    (head(x) * r).sum().backward()
    got_w, got_x = model.embed_tokens.weight.grad.clone(), x.grad.clone()
    got_b = head.bias.grad.clone() if bias else None
    model.zero_grad()
    x.grad = None
    if bias:
        head.bias.grad = None
    ref = F.linear(x, reference_weight(model, ranges), head.bias)
    (ref * r).sum().backward()
    assert torch.allclose(got_w, model.embed_tokens.weight.grad, atol=1e-5)
    assert torch.allclose(got_x, x.grad, atol=1e-5)
    if bias:
        assert torch.allclose(got_b, head.bias.grad, atol=1e-5)
    # Rows outside the head get an exact zero gradient.
    outside = torch.ones(V, dtype=torch.bool)
    outside[head.columns] = False
    assert (got_w[outside] == 0).all()


def test_bf16_autocast_gradients_are_close(model):
    head = TiedHead(model.embed_tokens, [(0, 5), (20, 30)])
    x = torch.randn(6, D)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = head(x)
    assert out.dtype == torch.bfloat16
    out.float().sum().backward()
    assert model.embed_tokens.weight.grad.dtype == torch.float32
    expected = torch.zeros(V, D)
    expected[head.columns] = x.sum(0)
    assert torch.allclose(model.embed_tokens.weight.grad, expected, rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize("few", [True, False])  # 1-5 rows on the few-row kernel where it was built
@pytest.mark.parametrize("onednn", [True, False])  # from 4 rows oneDNN's packed product, else MKL's
def test_prepared_head_matches_forward_for_all_row_counts(model, monkeypatch, onednn, few):
    if not onednn:
        monkeypatch.setattr("polymodal.model.heads.onednn_packs", lambda dtype: False)
    if not few:
        monkeypatch.setattr("polymodal.model.heads.native_library", lambda: None)
    head = TiedHead(model.embed_tokens, [(3, 40)], bias=True)
    assert head.prepare().blockwise == (not onednn or not torch.backends.mkldnn.is_available())
    kernel = few and native.library() is not None
    with torch.no_grad():
        head.bias.normal_()
        for n in (1, 2, 5, 13, 40):
            x = torch.randn(n, D)
            assert torch.allclose(head.prepare()(x), head(x), atol=1e-5)
            assert head.prepare()(x).shape == (n, 37)
            prepared = head.prepare()
            if n == 1:  # a single float32 row multiplies on views of the weight: no copy yet
                assert prepared._few.value is None and prepared._packed.value is None
            if n == 5:
                # each packed copy is made by the first product that needs it: up to 5 rows only the kernel's
                assert (prepared._few.value is not None) == kernel
                assert (prepared._packed.value is not None) == (onednn and not kernel
                                                               and torch.backends.mkldnn.is_available())


def test_prepare_is_cached_until_the_weight_changes(model):
    head = TiedHead(model.embed_tokens, [(0, 10), (20, 30)])
    first = head.prepare()
    assert head.prepare() is first
    assert head.prepare(torch.bfloat16) is not first
    with torch.no_grad():
        model.embed_tokens.weight.add_(1.0)  # an optimizer step
    second = head.prepare()
    assert second is not first
    x = torch.randn(2, D)
    assert torch.allclose(second(x), head(x).detach(), atol=1e-5)


@pytest.mark.parametrize("ranges, message", [
    ([], "at least one"),
    ([(5, 5)], "empty"),
    ([(0, 60)], "outside"),
    ([(0, 10), (5, 20)], "overlap"),
])
def test_bad_ranges_are_rejected(model, ranges, message):
    with pytest.raises(ValueError, match=message):
        TiedHead(model.embed_tokens, ranges)


def test_state_dict_does_not_duplicate_the_embedding(model):
    head = TiedHead(model.embed_tokens, [(0, 10)], bias=True)
    assert list(head.state_dict()) == ["bias"]


@pytest.mark.parametrize("blocks", [1, 4, 7])  # 7 blocks of 6 columns: the last holds one (banned) column
@pytest.mark.parametrize("n, k", [(1, 1), (5, 3), (12, 10), (3, 37)])
def test_blockwise_top_log_probs_equal_the_full_log_softmax(model, monkeypatch, blocks, n, k):
    monkeypatch.setattr("polymodal.model.heads.COLUMN_BLOCKS", blocks)
    head = TiedHead(model.embed_tokens, [(3, 40)], bias=True)
    with torch.no_grad():
        head.bias.normal_()
    x = torch.randn(n, D)
    banned = [0, 20, 36]  # the first column, one inside a block, one in the last block
    with torch.no_grad():
        full = head(x)
    full[:, banned] = float("-inf")
    want_lp, want_col = torch.log_softmax(full, dim=-1).topk(k, dim=-1)
    got_lp, got_col = head.prepare().top_log_probs(x, k, banned)
    live = torch.isfinite(want_lp)  # past the allowed columns only -inf is left, in any order
    assert torch.equal(got_col[live], want_col[live])
    assert torch.allclose(got_lp, want_lp, atol=1e-5)
    assert not set(got_col[live].tolist()) & set(banned)


@pytest.mark.parametrize("d", [63, 64])
@pytest.mark.parametrize("c", [37, 38])  # single rows: at an odd column count the two row blocks share one row
@pytest.mark.parametrize("bias", [False, True])
def test_prepared_head_few_rows_for_odd_and_even_shapes(d, c, bias):
    torch.manual_seed(3)
    weight, b = torch.randn(c, d), (torch.randn(c) if bias else None)
    prepared = PreparedHead(weight, b)
    for n in (1, 4, 12):
        x = torch.randn(n, d)
        assert torch.allclose(prepared(x), F.linear(x, weight, b), atol=1e-4)


def test_bf16_prepared_head_uses_the_plain_product_and_matches_forward(model):
    head = TiedHead(model.embed_tokens, [(3, 40)], bias=True)
    with torch.no_grad():
        head.bias.normal_()
    prepared = head.prepare(torch.bfloat16)
    assert not prepared.blockwise  # top_log_probs is a float32 path
    for n in (1, 5, 12):
        x = torch.randn(n, D)
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
            want = head(x).float()
        got = prepared(x)
        assert got.dtype == torch.float32 and got.shape == (n, 37)
        assert torch.allclose(got, want, atol=3e-2, rtol=3e-2)
