from __future__ import annotations

import threading

import pytest
import torch

from polymodal.generation import Automaton, greedy
from polymodal.model import EncoderDecoder, ModelConfig, TiedHead, native
from polymodal.model.rowstep import RowStep

V = 50
TAKES = RowStep.takes  # the kernel's own test, whatever a test patched in


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _kernel():
    if native.library() is None:
        pytest.skip("the C kernels could not be built here")


def make_model(activation: str = "gelu", d: int = 64, heads: int = 2, ffn: int = 256, seed: int = 0):
    torch.manual_seed(seed)
    cfg = ModelConfig(vocab_size=V, d_model=d, n_heads=heads, ffn_dim=ffn, encoder_layers=1, decoder_layers=2,
                      dropout=0.0, max_target_positions=16, activation=activation)
    model = EncoderDecoder(cfg).eval()
    with torch.no_grad():  # layer norms away from their initial ones and zeros, to be checked too
        for p in model.parameters():
            if p.dim() == 1:
                p.add_(torch.randn_like(p) * 0.1)
    return model


def steps(model, emb, pad, tokens, kernel: bool, monkeypatch, repeat: int = 1, share_cross: bool = False):
    """States of every step of incremental decoding, with the kernel on or off (``tokens``: ``[B * repeat, T]``)."""
    monkeypatch.setattr(RowStep, "takes", staticmethod(TAKES if kernel else lambda x: False))
    with torch.inference_mode():
        enc = model.encode(emb, pad)
        cache = model.new_cache(enc, pad, max_len=tokens.shape[1], repeat=repeat, share_cross=share_cross)
        out = [model.decode(tokens[:, i:i + 1], None, None, cache=cache, start_pos=i) for i in range(tokens.shape[1])]
    return torch.cat(out, dim=1)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("b, repeat, share_cross", [(3, 1, False), (2, 3, False), (2, 4, True)])
def test_steps_of_a_few_rows_match_the_pytorch_steps(monkeypatch, dtype, b, repeat, share_cross):
    """Several sequences at once (a small batch, or beam search's hypotheses sharing their row's encoder keys and
    values), with a padded source and an empty one."""
    model = make_model()
    g = torch.Generator().manual_seed(6)
    emb, pad = torch.randn(b, 7, 64, generator=g), torch.zeros(b, 7, dtype=torch.bool)
    pad[0, 4:] = True
    pad[-1, :] = True
    tokens = torch.randint(1, V, (b * repeat, 9), generator=g)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == torch.bfloat16):
        model.clear_step_weights()
        with_kernel = steps(model, emb, pad, tokens, True, monkeypatch, repeat, share_cross)
        assert model._row_steps[1] is not None
        without = steps(model, emb, pad, tokens, False, monkeypatch, repeat, share_cross)
    close = torch.isclose(with_kernel, without, atol=1e-5, rtol=1e-5)
    assert close.float().mean() > (0.999 if dtype == torch.float32 else 0.95)
    assert torch.allclose(with_kernel, without, atol=2e-5 if dtype == torch.float32 else 5e-2, rtol=2e-2)


# gelu, relu, gelu_tanh; a width and feed-forward that are no multiples of the vector width (the tails)
@pytest.mark.parametrize("activation, d, heads, ffn", [("gelu", 64, 2, 256), ("relu", 64, 4, 256),
                                                       ("gelu_tanh", 40, 4, 70)])
@pytest.mark.parametrize("source", ["plain", "padded", "empty", "none"])
def test_single_row_steps_match_the_pytorch_steps(monkeypatch, activation, d, heads, ffn, source):
    model = make_model(activation, d, heads, ffn)
    g = torch.Generator().manual_seed(1)
    s = 0 if source == "none" else 7
    emb, pad = torch.randn(1, s, d, generator=g), torch.zeros(1, s, dtype=torch.bool)
    if source == "padded":
        pad[0, 5:] = True
    if source == "empty":
        pad[:] = True  # no source position: the cross-attention contributes nothing
    tokens = torch.randint(1, V, (1, 9), generator=g)
    model.clear_step_weights()
    with_kernel = steps(model, emb, pad, tokens, True, monkeypatch)
    assert model._row_steps[1] is not None  # the kernel ran
    without = steps(model, emb, pad, tokens, False, monkeypatch)
    assert torch.allclose(with_kernel, without, atol=2e-5, rtol=1e-5)
    with torch.no_grad():
        full = model.decode(tokens, model.encode(emb, pad), pad)
    assert torch.allclose(with_kernel, full, atol=2e-5, rtol=1e-5)


@pytest.mark.parametrize("activation, d, heads, ffn", [("gelu", 64, 2, 256), ("gelu_tanh", 40, 4, 70)])
def test_bfloat16_single_row_steps_round_as_autocast_does(monkeypatch, activation, d, heads, ffn):
    model = make_model(activation, d, heads, ffn)
    g = torch.Generator().manual_seed(4)
    emb, pad = torch.randn(1, 7, d, generator=g), torch.zeros(1, 7, dtype=torch.bool)
    pad[0, 5:] = True
    tokens = torch.randint(1, V, (1, 9), generator=g)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        with_kernel = steps(model, emb, pad, tokens, True, monkeypatch)
        assert model._row_steps[1] is not None and model._row_steps[1].dtype == torch.bfloat16
        without = steps(model, emb, pad, tokens, False, monkeypatch)
    # every product's input and output, the activation and the attention rounded to bfloat16 at the same places:
    # the states agree to float32 precision (here exactly; the layer norms' float32 sums, in another order, could
    # rarely tip a rounding by one bfloat16 step, 2^-8), where rounding at other places would move most of them
    close = torch.isclose(with_kernel, without, atol=1e-5, rtol=1e-5)
    assert close.float().mean() > 0.95
    assert torch.allclose(with_kernel, without, atol=5e-2, rtol=2e-2)


def test_single_row_steps_do_not_depend_on_the_thread_count():
    model = make_model()
    row = RowStep.of(list(model.decoder_layers), model.step_weights(torch.float32))
    g = torch.Generator().manual_seed(2)
    x0 = torch.randn(1, 1, 64, generator=g)
    cross = torch.randn(2, 1, 2, 6, 32, generator=g)  # keys and values of 6 source positions
    cache = torch.randn(2, 1, 2, 16, 32, generator=g)  # 16 positions, of which 4 are filled
    results = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        x, k, v = x0.clone(), cache[0].clone(), cache[1].clone()
        with torch.no_grad():
            for i in range(2):
                assert row(i, x, k, v, 4, cross[0], cross[1], None, None)
        results.append((x, k, v))
    assert all(torch.equal(a, b) for a, b in zip(*results))
    assert not torch.equal(results[0][0], x0)  # the layers ran
    assert not torch.equal(results[0][1][:, :, 4], cache[0][:, :, 4])  # and wrote the new key


def test_greedy_search_gives_the_same_hypotheses_with_and_without_the_kernel(monkeypatch):
    model = make_model()
    head = TiedHead(model.embed_tokens, [(0, V)])
    automaton = Automaton.unconstrained(V, 2, 0)
    g = torch.Generator().manual_seed(3)
    emb, pad = torch.randn(1, 5, 64, generator=g), torch.zeros(1, 5, dtype=torch.bool)
    outs = []
    for kernel in (True, False):
        monkeypatch.setattr(RowStep, "takes", staticmethod(TAKES if kernel else lambda x: False))
        with torch.inference_mode():
            enc = model.encode(emb, pad)
            outs.append(greedy(model, enc, pad, head, automaton, torch.zeros(1, dtype=torch.long), bos_id=1,
                               max_len=12))
    assert torch.equal(outs[0].columns, outs[1].columns) and torch.equal(outs[0].lengths, outs[1].lengths)
    assert torch.allclose(outs[0].positional_scores, outs[1].positional_scores, atol=1e-5)


def test_what_the_kernel_does_not_take_stays_on_pytorch():
    model = make_model()
    weights = model.step_weights(torch.float32)
    assert RowStep.of(list(model.decoder_layers), weights) is not None
    assert RowStep.of(list(model.decoder_layers), model.step_weights(torch.bfloat16)) is not None
    assert RowStep.of(list(model.decoder_layers), model.step_weights(torch.float16)) is None
    x = torch.randn(1, 1, 64)
    with torch.no_grad():
        assert RowStep.takes(x)
        assert RowStep.takes(torch.randn(8, 1, 64))
        assert not RowStep.takes(torch.randn(9, 1, 64))  # more rows than the few-row kernel takes
        assert not RowStep.takes(torch.randn(1, 3, 64))  # a run of positions
        assert not RowStep.takes(x.bfloat16())
    assert not RowStep.takes(x)  # autograd on: the kernel would write where autograd cannot see


def test_steps_of_two_sequences_in_two_threads_at_once_match_one_at_a_time(monkeypatch):
    model = make_model(d=256, heads=4, ffn=1024)  # wide enough that most of a step runs in the kernel
    g = torch.Generator().manual_seed(5)
    sources = [(torch.randn(1, 6, 256, generator=g), torch.zeros(1, 6, dtype=torch.bool)) for _ in range(2)]
    tokens = [torch.randint(1, V, (1, 16), generator=g) for _ in range(2)]
    alone = [steps(model, *src, tok, True, monkeypatch) for src, tok in zip(sources, tokens)]
    together: list = [[], []]

    def run(i: int) -> None:
        for _ in range(10):  # the kernel releases the GIL: the two threads' steps overlap
            together[i].append(steps(model, *sources[i], tokens[i], True, monkeypatch))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(torch.equal(alone[i], got) for i in range(2) for got in together[i])
