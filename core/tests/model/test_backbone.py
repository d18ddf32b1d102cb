from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F

from polymodal.model import EncoderDecoder, ModelConfig, key_mask
from polymodal.model import native
from polymodal.model.stepping import LinearT

V = 60


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def make_model(seed: int = 0, **overrides) -> EncoderDecoder:
    torch.manual_seed(seed)
    cfg = ModelConfig.named("nano", vocab_size=V, dropout=0.0, max_target_positions=32, **overrides)
    return EncoderDecoder(cfg).eval()


def source(b: int = 3, s: int = 7, d: int = 64, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    emb = torch.randn(b, s, d, generator=g)
    pad = torch.zeros(b, s, dtype=torch.bool)
    if b > 1:
        pad[1, 4:] = True
    return emb, pad


@pytest.mark.parametrize("blocks", [False, True])  # single rows on two blocks of output rows (see LinearT)
@pytest.mark.parametrize("b", [1, 3, 17])  # row blocks / column form / addmm
@pytest.mark.parametrize("kernel", [True, False])  # the steps on the C kernels (1-8 rows: whole layers), or PyTorch's
def test_incremental_decoding_matches_full_pass(monkeypatch, blocks, b, kernel):
    if blocks:
        monkeypatch.setattr("polymodal.model.stepping.BLOCKS_MIN_SIZE", 0)
    if not kernel:
        monkeypatch.setattr("polymodal.model.stepping.step_attention", lambda *args, **kwargs: None)
        monkeypatch.setattr("polymodal.model.rowstep.RowStep.takes", staticmethod(lambda x: False))
    elif native.library() is None:
        pytest.skip("the C kernels could not be built here")
    model = make_model()
    emb, pad = source(b=b)
    tokens = torch.randint(1, V, (b, 9), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        enc = model.encode(emb, pad)
        full = model.decode(tokens, enc, pad)
        cache = model.new_cache(enc, pad, max_len=9)
        steps = [model.decode(tokens[:, i:i + 1], None, None, cache=cache, start_pos=i) for i in range(9)]
    assert torch.allclose(torch.cat(steps, dim=1), full, atol=1e-5)
    assert cache.length == 9
    assert all((w.fc1.blocks is not None) == blocks for w in cache.weights)


@pytest.mark.parametrize("few", [True, False])  # 2-8 rows on the few-row kernel, or on PyTorch's products
@pytest.mark.parametrize("onednn", [True, False])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
# a wide input, a wide output, an odd output (its two row blocks share the middle row): all get row blocks
@pytest.mark.parametrize("shape", [(512, 256), (256, 1024), (256, 1023)])
def test_step_projection_matches_linear_at_every_row_count(monkeypatch, few, onednn, dtype, shape):
    if not onednn:
        monkeypatch.setattr("polymodal.model.stepping.onednn_packed", lambda weight: None)
    if not few:
        monkeypatch.setattr("polymodal.model.stepping.FewRowsWeight.of", lambda weight, bias: None)
    torch.manual_seed(0)
    linear = torch.nn.Linear(*shape)
    prepared = LinearT.of(linear, dtype)
    # float32 makes the layouts of every kernel it picks from, but packs no widening weight; bfloat16 packs
    # every weight and has only the plain layouts besides
    fp32 = dtype == torch.float32
    assert (prepared.blocks is not None) == fp32
    # a packed weight serves the many-row products, so its [in, out] layout is a view, not a copy
    packs = onednn and torch.backends.mkldnn.is_available() and (not fp32 or shape[1] < 4 * shape[0])
    assert (prepared.weight_t.data_ptr() == prepared.weight.data_ptr()) == packs
    assert prepared.packed.possible == packs and prepared.packed.value is None  # made on first use
    for n in (1, 2, 5, 9, 16, 17, 40):
        x = torch.randn(n, shape[0])
        with torch.no_grad():
            want = F.linear(x.to(dtype), linear.weight.to(dtype), linear.bias.to(dtype)).float()
        got = prepared(x)
        assert got.shape == (n, shape[1]) and got.is_contiguous() and got.dtype == dtype
        tol = 1e-4 if dtype == torch.float32 else 3e-2
        assert torch.allclose(got.float(), want, atol=tol, rtol=tol), n
    assert (prepared.packed.value is not None) == packs
    # the kernel's packed copy is made by the first call of 2-8 rows (1-8 in bfloat16), where it was built
    assert (prepared.few.get() is not None) == (few and native.library() is not None)


def test_cache_accepts_several_positions_at_once_and_repeat():
    model = make_model()
    emb, pad = source()
    tokens = torch.randint(1, V, (3, 6), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        enc = model.encode(emb, pad)
        full = model.decode(tokens, enc, pad)
        cache = model.new_cache(enc, pad, max_len=6, repeat=2)
        rep = tokens.repeat_interleave(2, dim=0)
        first = model.decode(rep[:, :4], None, None, cache=cache, start_pos=0)
        rest = model.decode(rep[:, 4:], None, None, cache=cache, start_pos=4)
    got = torch.cat([first, rest], dim=1)
    assert torch.allclose(got[0::2], full, atol=1e-5)
    assert torch.allclose(got[1::2], full, atol=1e-5)


def test_reorder_and_select_rows_follow_hypotheses():
    model = make_model()
    emb, pad = source()
    tokens = torch.randint(1, V, (3, 5), generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        enc = model.encode(emb, pad)
        full = model.decode(tokens, enc, pad)
        cache = model.new_cache(enc, pad, max_len=5)
        model.decode(tokens[:, :3], None, None, cache=cache, start_pos=0)
        # Rows 0 and 2 swap their self-attention history; their encoder stays: row 0 now continues
        # row 2's prefix while attending to row 0's source.
        cache.select_rows(torch.tensor([2, 0]))
        out = model.decode(tokens[[2, 0], 3:], None, None, cache=cache, start_pos=3)
    assert torch.allclose(out, full[[2, 0], 3:], atol=1e-5)


def test_padding_does_not_leak_and_empty_sources_are_finite():
    model = make_model()
    emb, pad = source()
    with torch.no_grad():
        enc = model.encode(emb, pad)
        emb2 = emb.clone()
        emb2[1, 4:] = 100.0  # garbage under the padding of row 1
        enc2 = model.encode(emb2, pad)
        tokens = torch.randint(1, V, (3, 4))
        assert torch.allclose(model.decode(tokens, enc, pad)[1], model.decode(tokens, enc2, pad)[1], atol=1e-5)
        pad_all = pad.clone()
        pad_all[2] = True  # a row without any source position (decoder-only)
        out = model.decode(tokens, model.encode(emb, pad_all), pad_all)
        assert torch.isfinite(out).all()
        # An empty source contributes nothing: same as decoding that row against an empty encoder output.
        alone = model.decode(tokens[2:], enc[2:, :0], None)
        assert torch.allclose(out[2], alone[0], atol=1e-5)
    mask, scale = key_mask(pad_all)
    assert scale is not None and scale.view(-1).tolist() == [1.0, 1.0, 0.0]
    assert key_mask(torch.zeros(2, 3, dtype=torch.bool)) == (None, None)


def test_decoder_is_causal():
    model = make_model()
    emb, pad = source()
    a = torch.randint(1, V, (3, 6), generator=torch.Generator().manual_seed(5))
    b = a.clone()
    b[:, 4:] = 7
    with torch.no_grad():
        enc = model.encode(emb, pad)
        assert torch.allclose(model.decode(a, enc, pad)[:, :4], model.decode(b, enc, pad)[:, :4], atol=1e-6)
        assert not torch.allclose(model.decode(a, enc, pad)[:, 4:], model.decode(b, enc, pad)[:, 4:])


def test_inputs_embeds_replace_token_embeddings():
    model = make_model()
    emb, pad = source()
    tokens = torch.randint(1, V, (3, 4))
    with torch.no_grad():
        enc = model.encode(emb, pad)
        by_ids = model.decode(tokens, enc, pad)
        by_embeds = model.decode(None, enc, pad, inputs_embeds=model.embed_tokens(tokens) * model.embed_scale)
    assert torch.allclose(by_ids, by_embeds, atol=1e-6)


def test_bf16_autocast_forward_backward_and_cache():
    model = make_model()
    model.train()
    emb, pad = source()
    tokens = torch.randint(1, V, (3, 5))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        hidden = model.decode(tokens, model.encode(emb, pad), pad)
    hidden.float().pow(2).mean().backward()
    assert all(p.grad is None or torch.isfinite(p.grad).all() for p in model.parameters())
    model.eval()
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        enc = model.encode(emb, pad)
        cache = model.new_cache(enc, pad, max_len=5)
        step = model.decode(tokens[:, :1], None, None, cache=cache, start_pos=0)
    assert cache.self_k.dtype == torch.bfloat16 and torch.isfinite(step).all()


def test_dropout_only_in_training():
    torch.manual_seed(0)
    model = EncoderDecoder(ModelConfig.named("nano", vocab_size=V, dropout=0.5))
    emb, pad = source()
    tokens = torch.randint(1, V, (3, 4))
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(emb, pad, tokens), model(emb, pad, tokens))
        model.train()
        assert not torch.allclose(model(emb, pad, tokens), model(emb, pad, tokens))


def test_lookup_gradient_equals_dense_and_is_dense():
    model = make_model()
    ids = torch.randint(0, V, (4, 5))
    weights = torch.randn(4, 5, 64)
    (model.lookup(ids) * weights).sum().backward()
    grad_sparse_path = model.embed_tokens.weight.grad
    assert not grad_sparse_path.is_sparse
    twin = copy.deepcopy(model)
    twin.zero_grad()
    (twin.embed_tokens(ids) * weights).sum().backward()
    assert torch.allclose(grad_sparse_path, twin.embed_tokens.weight.grad, atol=1e-6)
    # The copy registers its own hook on first use: its gradient is dense too.
    twin.zero_grad()
    (twin.lookup(ids) * weights).sum().backward()
    assert not twin.embed_tokens.weight.grad.is_sparse


def test_position_and_cache_limits_raise():
    model = make_model()
    emb, pad = source()
    with torch.no_grad():
        enc = model.encode(emb, pad)
        with pytest.raises(ValueError, match="max_target_positions"):
            model.decode(torch.ones(3, 40, dtype=torch.long), enc, pad)
        cache = model.new_cache(enc, pad, max_len=2)
        with pytest.raises(ValueError, match="cache holds 2"):
            model.decode(torch.ones(3, 3, dtype=torch.long), None, None, cache=cache)
    with pytest.raises(ValueError, match="encode expects"):
        model.encode(torch.randn(2, 3, 10))


def test_reorder_permutes_prefixes_within_a_row():
    model = make_model()
    emb, pad = source(b=1)
    a = torch.randint(1, V, (1, 5), generator=torch.Generator().manual_seed(6))
    b = torch.randint(1, V, (1, 5), generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        enc = model.encode(emb, pad[:1])
        full_a, full_b = model.decode(a, enc, pad[:1]), model.decode(b, enc, pad[:1])
        cache = model.new_cache(enc, pad[:1], max_len=5, repeat=2)
        model.decode(torch.cat([a, b])[:, :3], None, None, cache=cache, start_pos=0)
        cache.reorder(torch.tensor([1, 1]))  # both hypotheses now continue prefix b
        out = model.decode(torch.cat([b, b])[:, 3:], None, None, cache=cache, start_pos=3)
    assert torch.allclose(out[0], full_b[0, 3:], atol=1e-5) and torch.allclose(out[1], full_b[0, 3:], atol=1e-5)
    assert not torch.allclose(out[0], full_a[0, 3:])


@pytest.mark.parametrize("training", [False, True])
def test_packed_passes_match_padded_ones_with_gradients(monkeypatch, training):
    import polymodal.model.transformer as tr

    model = make_model()
    model.train(training)  # dropout is 0: train mode only changes code paths
    g = torch.Generator().manual_seed(8)
    emb = torch.randn(3, 8, 64, generator=g)
    src_pad = torch.zeros(3, 8, dtype=torch.bool)
    src_pad[0, 3:] = True
    src_pad[2, 6:] = True
    tokens = torch.randint(1, V, (3, 7), generator=g)
    lengths = torch.tensor([7, 2, 4])
    tgt_pad = torch.arange(7)[None, :] >= lengths[:, None]
    weights = torch.randn(3, 7, 64, generator=g) * (~tgt_pad)[..., None]

    def run():
        model.zero_grad()
        out = model(emb, src_pad, tokens, tgt_padding_mask=tgt_pad)
        (out * weights).sum().backward()
        return out.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}

    packed, packed_grads = run()
    monkeypatch.setattr(tr, "PACK_MIN_PADDING", 2.0)  # never pack
    plain, plain_grads = run()
    real = ~tgt_pad
    assert torch.allclose(packed[real], plain[real], atol=1e-5)
    assert (packed[tgt_pad] == 0).all()
    assert packed_grads.keys() == plain_grads.keys()
    for name in plain_grads:
        assert torch.allclose(packed_grads[name], plain_grads[name], atol=1e-4), name


def test_tgt_padding_must_be_trailing():
    model = make_model()
    emb, pad = source()
    bad = torch.tensor([[False, True, False, False]] * 3)
    with pytest.raises(ValueError, match="trailing"):
        model.decode(torch.ones(3, 4, dtype=torch.long), model.encode(emb, pad), pad, tgt_padding_mask=bad)


def test_shared_cross_keys_values_match_repeated_ones():
    model = make_model()
    emb, pad = source()
    pad[2, :] = True  # an empty source row: its cross-attention must contribute nothing either way
    tokens = torch.randint(1, V, (9, 4), generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        enc = model.encode(emb, pad)
        plain = model.new_cache(enc, pad, max_len=4, repeat=3)
        shared = model.new_cache(enc, pad, max_len=4, repeat=3, share_cross=True)
        assert shared.group == 3 and shared.cross_k.shape[1] == 3 and plain.cross_k.shape[1] == 9
        a = [model.decode(tokens[:, i:i + 1], None, None, cache=plain, start_pos=i) for i in range(2)]
        b = [model.decode(tokens[:, i:i + 1], None, None, cache=shared, start_pos=i) for i in range(2)]
        assert torch.allclose(torch.cat(a, 1), torch.cat(b, 1), atol=1e-5)
        keep = torch.tensor([6, 7, 8, 0, 1, 2])  # whole groups: rows 2 and 0
        plain.select_rows(keep)
        shared.select_rows(keep)
        a = model.decode(tokens[keep, 2:], None, None, cache=plain, start_pos=2)
        b = model.decode(tokens[keep, 2:], None, None, cache=shared, start_pos=2)
    assert torch.allclose(a, b, atol=1e-5)


def test_position_tables_start_as_waves_on_the_token_scale():
    from polymodal.model import sinusoidal_

    model = EncoderDecoder(ModelConfig.named("nano", vocab_size=50))
    table = model.embed_positions.weight.detach()
    assert 0.4 < float(table.var()) < 0.6  # the sqrt(d)-scaled tokens have variance 1
    torch.testing.assert_close(table[0, : table.shape[1] // 2], torch.zeros(table.shape[1] // 2))  # sin(0)
    # neighbours are closer than distant positions
    assert (table[10] - table[11]).norm() < (table[10] - table[60]).norm()
    rows, cols = torch.empty(8, 16), torch.empty(8, 16)
    sinusoidal_(rows, slice(0, 8))
    sinusoidal_(cols, slice(8, 16))
    assert rows[:, 8:].abs().sum() == 0 and cols[:, :8].abs().sum() == 0
    assert not torch.allclose(rows[1] + cols[2], rows[2] + cols[1])  # (1, 2) and (2, 1) differ


def test_repeated_reorders_keep_each_hypothesis_prefix():
    """Reorders swap between two buffers: several in a row, mixed with steps, must still follow prefixes."""
    model = make_model()
    emb, pad = source(b=1)
    g = torch.Generator().manual_seed(9)
    seqs = torch.randint(1, V, (3, 6), generator=g)  # three candidate continuations
    with torch.no_grad():
        enc = model.encode(emb, pad[:1])
        cache = model.new_cache(enc, pad[:1], max_len=6, repeat=3)
        tokens = seqs.clone()  # row h: the sequence hypothesis h has followed so far
        for t, index in enumerate([[2, 0, 1], [1, 1, 0], [0, 2, 2], [2, 1, 0], [0, 0, 1]]):
            model.decode(tokens[:, t:t + 1], None, None, cache=cache, start_pos=t)
            cache.reorder(torch.tensor(index))
            tokens = tokens[index]
        out = model.decode(tokens[:, 5:6], None, None, cache=cache, start_pos=5)
        for hyp in range(3):
            full = model.decode(tokens[hyp:hyp + 1], enc, pad[:1])
            assert torch.allclose(out[hyp], full[0, 5:6], atol=1e-5)


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_cpu_dropout_drops_the_asked_share_and_scales_the_rest(p):
    from polymodal.model.layers import dropout

    torch.manual_seed(0)
    x = torch.ones(200_000, requires_grad=True)
    y = dropout(x, p, True)
    dropped = (y == 0).float().mean().item()
    assert abs(dropped - p) < 0.005
    assert torch.allclose(y[y != 0], torch.full_like(y[y != 0], 1 / (1 - p)))
    y.sum().backward()
    assert torch.equal(x.grad, y.detach())  # the gradient goes through the kept elements, scaled alike
    assert dropout(x, p, False) is x and dropout(x, 0.0, True) is x
    torch.manual_seed(0)
    assert torch.equal(dropout(x, p, True), y)  # seeded: the same mask again


def test_cell_coordinates_enter_both_passes_alike_and_none_means_zero():
    model = make_model()
    emb, pad = source(b=2)
    tokens = torch.randint(1, V, (2, 6), generator=torch.Generator().manual_seed(2))
    cells = torch.randint(0, 10, (2, 6, 3), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        enc = model.encode(emb, pad)
        plain = model.decode(tokens, enc, pad)
        full = model.decode(tokens, enc, pad, cells=cells)
        assert not torch.allclose(plain, full, atol=1e-3)  # the coordinates count
        zero = model.decode(tokens, enc, pad, cells=torch.zeros_like(cells))
        assert torch.allclose(plain, zero, atol=1e-6)  # coordinate 0 is "none"
        cache = model.new_cache(enc, pad, 6)
        steps = torch.cat([model.decode(tokens[:, i:i + 1], None, None, cache=cache, start_pos=i,
                                        cells=cells[:, i:i + 1]) for i in range(6)], dim=1)
    assert torch.allclose(steps, full, atol=1e-4)
    # each axis has its own table; coordinates beyond the table share its last row
    n = model.config.cells
    assert torch.equal(model.cell_embeddings(torch.tensor([[n + 5, 0, 0]])),
                       model.cell_embeddings(torch.tensor([[n, 0, 0]])))
    assert not torch.equal(model.cell_embeddings(torch.tensor([[2, 0, 0]])),
                           model.cell_embeddings(torch.tensor([[0, 2, 0]])))


def test_models_without_cells_ignore_them_and_old_configs_have_none():
    model = make_model(cells=0)
    assert model.embed_cells is None and model.cell_embeddings(torch.ones(1, 3, dtype=torch.long)) is None
    emb, pad = source(b=1)
    tokens = torch.randint(1, V, (1, 4), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        enc = model.encode(emb, pad)
        assert torch.equal(model.decode(tokens, enc, pad),
                           model.decode(tokens, enc, pad, cells=torch.ones(1, 4, 3, dtype=torch.long)))
    data = ModelConfig.named("nano", vocab_size=V).to_dict()
    assert data["cells"] == 16
    del data["cells"]  # a checkpoint written before coordinates existed
    assert ModelConfig.from_dict(data).cells == 0


def test_packed_decoder_gradients_repeat_bit_for_bit_on_two_threads():
    # A packed pass gathers each real position's embedding row. Gathered by advanced indexing, the rows of
    # the positions shared by many sequences would be summed by index_put_(accumulate=True), whose order
    # changes from run to run on several threads: same seed, different losses after a few hundred steps.
    model = make_model().train()
    b, t = 32, 24
    g = torch.Generator().manual_seed(5)
    emb, pad = torch.randn(b, 5, model.config.d_model, generator=g), torch.zeros(b, 5, dtype=torch.bool)
    tokens = torch.randint(1, V, (b, t), generator=g)
    tgt_pad = torch.arange(t)[None, :] >= torch.randint(t // 2, t + 1, (b, 1), generator=g)
    weight = torch.randn(b, t, model.config.d_model, generator=g)
    grads = set()
    torch.set_num_threads(2)
    try:
        for _ in range(8):
            model.zero_grad(set_to_none=True)
            (model.decode(tokens, model.encode(emb, pad), pad, tgt_padding_mask=tgt_pad) * weight).sum().backward()
            grads.add(model.embed_positions.weight.grad.numpy().tobytes())
    finally:
        torch.set_num_threads(1)
    assert len(grads) == 1
