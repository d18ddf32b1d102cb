from __future__ import annotations

import itertools

import pytest
import torch

from polymodal.generation import GENERATORS, Automaton, beam_search, greedy, ngram_bans, sample
from polymodal.model import TiedHead, native


def starts(n: int, value: int = 0) -> torch.Tensor:
    return torch.full((n,), value, dtype=torch.long)


def test_registry_names():
    assert GENERATORS == {"greedy": greedy, "beam": beam_search, "sample": sample}


def test_greedy_agrees_with_full_forward_rescoring(setup, helpers):
    model, head, enc, pad = setup
    a = Automaton.unconstrained(helpers.V, helpers.EOS, helpers.PAD)
    out = greedy(model, enc, pad, head, a, starts(3), bos_id=helpers.BOS, max_len=10)
    for row in range(3):
        cols = out.sequences(row)
        lp = helpers.rescore(model, head, enc[row:row + 1], pad[row:row + 1], a, 0, cols)
        assert torch.allclose(lp, out.positional_scores[row, 0, :len(cols)], atol=1e-4)
        assert out.scores[row, 0].item() == pytest.approx(lp.sum().item() / len(cols), abs=1e-4)
        # Greedy: every column is the argmax of the constrained distribution at its step.
        ids = [helpers.BOS] + cols[:-1]
        with torch.no_grad():
            logits = head(model.decode(torch.tensor([ids]), enc[row:row + 1], pad[row:row + 1]))[0]
        logits[:, helpers.PAD] = float("-inf")
        assert logits.argmax(-1).tolist() == cols


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("len_penalty", [0.0, 1.0])
def test_beam_of_one_equals_greedy(setup, helpers, seed, len_penalty):
    model, head, enc, pad = setup
    a = helpers.random_automaton(seed)
    s = torch.tensor([0, 2, 4])
    g = greedy(model, enc, pad, head, a, s, bos_id=helpers.BOS, max_len=12, len_penalty=len_penalty)
    b = beam_search(model, enc, pad, head, a, s, bos_id=helpers.BOS, max_len=12, beam_size=1,
                    len_penalty=len_penalty)
    assert torch.equal(g.lengths, b.lengths)
    assert torch.equal(g.columns, b.columns)
    assert torch.allclose(g.scores, b.scores, atol=1e-5)
    assert torch.allclose(g.positional_scores, b.positional_scores, atol=1e-5)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("method, kwargs", [
    ("greedy", {}),
    ("beam", {"beam_size": 3, "return_n_best": 3}),
    ("sample", {"return_n_best": 2, "seed": 5, "temperature": 1.5}),
])
def test_random_automata_are_respected(setup, helpers, seed, method, kwargs):
    model, head, enc, pad = setup
    a = helpers.random_automaton(seed)
    s = torch.tensor([0, 1, 3])
    out = GENERATORS[method](model, enc, pad, head, a, s, bos_id=helpers.BOS, max_len=9, **kwargs)
    n = out.columns.shape[1]
    assert n == kwargs.get("return_n_best", 1)
    for row, rank in itertools.product(range(3), range(n)):
        if not torch.isfinite(out.scores[row, rank]):
            continue
        length = int(out.lengths[row, rank])
        assert helpers.replay_ok(a, int(s[row]), out.columns[row, rank].tolist(), length)


def test_rows_with_different_automata_each_follow_their_own(setup, helpers):
    model, head, enc, pad = setup
    labels = [[10, 11], [10, 12, 13], [20]]
    trie = Automaton.trie(labels, helpers.V, helpers.EOS, helpers.PAD)
    forced = Automaton.unconstrained(helpers.V, helpers.EOS, helpers.PAD, max_len=4)
    forced.forced[0] = 30
    free = Automaton.unconstrained(helpers.V, helpers.EOS, helpers.PAD)
    merged, offsets = Automaton.concatenate([trie, forced, free])
    for method in ("greedy", "beam"):
        out = GENERATORS[method](model, enc, pad, head, merged, offsets, bos_id=helpers.BOS, max_len=8)
        assert out.sequences(0)[:-1] in labels and out.sequences(0)[-1] == helpers.EOS
        row1 = out.sequences(1)
        assert row1[0] == 30 and len(row1) == 4 and row1[-1] == helpers.EOS
        assert out.positional_scores[1, 0, 0] == 0  # a forced column costs nothing
        assert len(out.sequences(2)) == 8  # the free row runs to max_len
        # Finished rows produce pad after their end, with zero positional scores.
        assert (out.columns[0, 0, int(out.lengths[0, 0]):] == helpers.PAD).all()
        assert (out.positional_scores[0, 0, int(out.lengths[0, 0]):] == 0).all()


def test_beam_finds_the_best_member_of_a_closed_set(setup, helpers):
    model, head, enc, pad = setup
    labels = [[10, 11], [10, 12, 13], [20], [21, 10], [22, 23, 24, 25]]
    a = Automaton.trie(labels, helpers.V, helpers.EOS, helpers.PAD)
    for len_penalty in (0.0, 1.0):
        out = beam_search(model, enc, pad, head, a, starts(3), bos_id=helpers.BOS, max_len=8, beam_size=5,
                          return_n_best=5, len_penalty=len_penalty)
        for row in range(3):
            exact = []
            for lab in labels:
                cols = lab + [helpers.EOS]
                lp = helpers.rescore(model, head, enc[row:row + 1], pad[row:row + 1], a, 0, cols)
                exact.append((lp.sum().item() / len(cols) ** len_penalty, cols))
            exact.sort(reverse=True)
            got = [out.sequences(row, k) for k in range(5)]
            # With a beam as wide as the set, the search is exhaustive: same ranking, same scores.
            assert got == [cols for _, cols in exact]
            assert out.scores[row].tolist() == pytest.approx([sc for sc, _ in exact], abs=1e-4)


def test_beam_nbest_is_sorted_and_scores_match_rescoring(setup, helpers):
    model, head, enc, pad = setup
    a = helpers.random_automaton(7)
    out = beam_search(model, enc, pad, head, a, starts(3, 2), bos_id=helpers.BOS, max_len=7, beam_size=4,
                      return_n_best=4, len_penalty=0.7)
    assert (out.scores[:, :-1] >= out.scores[:, 1:]).all()
    for row in range(3):
        for k in range(4):
            cols = out.sequences(row, k)
            lp = helpers.rescore(model, head, enc[row:row + 1], pad[row:row + 1], a, 2, cols)
            assert out.scores[row, k].item() == pytest.approx(lp.sum().item() / len(cols) ** 0.7, abs=1e-4)
        assert len({tuple(out.sequences(row, k)) for k in range(4)}) == 4


def test_len_penalty_zero_gives_raw_sums(setup, helpers):
    model, head, enc, pad = setup
    a = Automaton.unconstrained(helpers.V, helpers.EOS, helpers.PAD)
    for fn in (greedy, beam_search):
        out = fn(model, enc, pad, head, a, starts(3), bos_id=helpers.BOS, max_len=6, len_penalty=0.0)
        assert torch.allclose(out.scores, out.positional_scores.sum(-1), atol=1e-5)


def test_no_repeat_ngram_blocks_and_zero_disables(setup, helpers):
    model, head, enc, pad = setup
    a = Automaton.unconstrained(helpers.V, helpers.EOS, helpers.PAD)

    def has_repeat(seq, n):
        grams = [tuple(seq[i:i + n]) for i in range(len(seq) - n + 1)]
        return len(grams) != len(set(grams))

    for fn, kw in ((greedy, {}), (beam_search, {"beam_size": 3}), (sample, {"seed": 0, "temperature": 0.3})):
        free = fn(model, enc, pad, head, a, starts(3), bos_id=helpers.BOS, max_len=14, no_repeat_ngram_size=0, **kw)
        assert any(has_repeat(free.sequences(r), 2) for r in range(3)), "the test model should repeat itself"
        for n in (1, 2, 3):
            out = fn(model, enc, pad, head, a, starts(3), bos_id=helpers.BOS, max_len=14, no_repeat_ngram_size=n,
                     **kw)
            assert not any(has_repeat(out.sequences(r), n) for r in range(3))


def test_ngram_bans_vectorised():
    hist = torch.tensor([[5, 6, 5, 7, 5], [1, 2, 3, 4, 1]])
    bans = ngram_bans(hist, 2, 9)
    assert bans[0].nonzero().view(-1).tolist() == [6, 7]
    assert bans[1].nonzero().view(-1).tolist() == [2]
    assert ngram_bans(hist[:, :1], 2, 9) is None
    assert ngram_bans(hist, 1, 9)[1].nonzero().view(-1).tolist() == [1, 2, 3, 4]


def test_min_len_delays_eos_and_zero_allows_it(setup, helpers):
    model, enc, pad = setup[0], setup[2], setup[3]
    head = TiedHead(model.embed_tokens, [(0, helpers.V)], bias=True)
    with torch.no_grad():
        head.bias[helpers.EOS] = 50.0  # EOS is by far the most likely column
    a = Automaton.unconstrained(helpers.V, helpers.EOS, helpers.PAD)
    for fn in (greedy, beam_search, sample):
        now = fn(model, enc, pad, head, a, starts(3), bos_id=helpers.BOS, max_len=10, min_len=0)
        assert now.lengths.view(-1).tolist() == [1, 1, 1]
        late = fn(model, enc, pad, head, a, starts(3), bos_id=helpers.BOS, max_len=10, min_len=4)
        assert late.lengths.view(-1).tolist() == [5, 5, 5]
        assert (late.columns[:, 0, 4] == helpers.EOS).all() and (late.columns[:, 0, :4] != helpers.EOS).all()


def test_forced_length_runs_exactly_max_len(setup, helpers):
    model, head, enc, pad = setup
    a = Automaton.unconstrained(helpers.V, helpers.EOS, helpers.PAD)
    for fn in (greedy, beam_search):
        out = fn(model, enc, pad, head, a, starts(3), bos_id=helpers.BOS, max_len=7, min_len=7)
        assert out.columns.shape[-1] == 7 and (out.lengths == 7).all()


def test_sampling_is_reproducible_and_filters_reduce_to_greedy(setup, helpers):
    model, head, enc, pad = setup
    a = Automaton.unconstrained(helpers.V, helpers.EOS, helpers.PAD)
    kw = dict(bos_id=helpers.BOS, max_len=8)
    one = sample(model, enc, pad, head, a, starts(3), seed=123, temperature=2.0, return_n_best=3, **kw)
    two = sample(model, enc, pad, head, a, starts(3), seed=123, temperature=2.0, return_n_best=3, **kw)
    other = sample(model, enc, pad, head, a, starts(3), seed=124, temperature=2.0, return_n_best=3, **kw)
    assert torch.equal(one.columns, two.columns) and not torch.equal(one.columns, other.columns)
    assert (one.scores[:, :-1] >= one.scores[:, 1:]).all()
    g = torch.Generator().manual_seed(123)
    three = sample(model, enc, pad, head, a, starts(3), generator=g, temperature=2.0, return_n_best=3, **kw)
    assert torch.equal(one.columns, three.columns)
    best = greedy(model, enc, pad, head, a, starts(3), **kw)
    for filt in ({"top_k": 1}, {"top_p": 0.0}, {"temperature": 0.0}):
        out = sample(model, enc, pad, head, a, starts(3), seed=9, **filt, **kw)
        assert torch.equal(out.columns, best.columns), filt
    # top_k=0 and top_p=1.0 mean "off": identical to plain sampling with the same seed.
    plain = sample(model, enc, pad, head, a, starts(3), seed=3, **kw)
    off = sample(model, enc, pad, head, a, starts(3), seed=3, top_k=0, top_p=1.0, **kw)
    assert torch.equal(plain.columns, off.columns)


def test_top_k_limits_the_choices(setup, helpers):
    model, head, enc, pad = setup
    a = Automaton.unconstrained(helpers.V, helpers.EOS, helpers.PAD)
    out = sample(model, enc, pad, head, a, starts(3), bos_id=helpers.BOS, max_len=1, seed=0, top_k=2,
                 temperature=100.0, return_n_best=40)
    with torch.no_grad():
        logits = head(model.decode(torch.full((3, 1), helpers.BOS), enc, pad))[:, 0]
    logits[:, helpers.PAD] = float("-inf")
    top2 = logits.topk(2).indices
    for row in range(3):
        assert set(out.columns[row, :, 0].tolist()) <= set(top2[row].tolist())


def test_bf16_autocast_generation_respects_constraints(setup, helpers):
    model, head, enc, pad = setup
    a = helpers.random_automaton(1)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = beam_search(model, enc, pad, head, a, starts(3), bos_id=helpers.BOS, max_len=6, beam_size=2)
    for row in range(3):
        assert helpers.replay_ok(a, 0, out.columns[row, 0].tolist(), int(out.lengths[row, 0]))


def test_generators_leave_the_model_mode_alone(setup, helpers):
    model, head, enc, pad = setup
    model.train()
    a = Automaton.unconstrained(helpers.V, helpers.EOS, helpers.PAD)
    greedy(model, enc, pad, head, a, starts(3), bos_id=helpers.BOS, max_len=3)
    assert model.training


@pytest.mark.parametrize("fn, kwargs, message", [
    (greedy, {"return_n_best": 2}, "one hypothesis"),
    (beam_search, {"beam_size": 2, "return_n_best": 3}, "return_n_best"),
    (beam_search, {"beam_size": 0}, "beam_size"),
    (greedy, {"max_len": 100}, "max_len"),
    (greedy, {"min_len": 5, "max_len": 3}, "min_len"),
    (greedy, {"no_repeat_ngram_size": -1}, "no_repeat_ngram_size"),
    (sample, {"temperature": -1.0}, "temperature"),
    (sample, {"top_p": 1.5}, "top_p"),
    (sample, {"top_k": -2}, "top_k"),
    (sample, {"seed": 1, "generator": torch.Generator()}, "either"),
])
def test_bad_arguments_are_rejected(setup, helpers, fn, kwargs, message):
    model, head, enc, pad = setup
    a = Automaton.unconstrained(helpers.V, helpers.EOS, helpers.PAD)
    with pytest.raises(ValueError, match=message):
        fn(model, enc, pad, head, a, starts(3), bos_id=helpers.BOS, **kwargs)


def test_min_len_needs_an_eos_column(setup, helpers):
    model, head, enc, pad = setup
    a = Automaton.unconstrained(helpers.V, helpers.EOS, helpers.PAD)
    a.eos_column = -1
    with pytest.raises(ValueError, match="eos_column"):
        greedy(model, enc, pad, head, a, starts(3), bos_id=helpers.BOS, min_len=2)


def forced_prefix_automaton(helpers, prefix):
    """Forced ``prefix`` columns, then free text until EOS."""
    n = len(prefix)
    a = Automaton.unconstrained(helpers.V, helpers.EOS, helpers.PAD)
    # States 0..n-1 forced, state n free, state n+1 final.
    masks = a.masks
    forced = torch.tensor(list(prefix) + [-1, -1])
    default_next = torch.tensor(list(range(1, n + 1)) + [n, n + 1])
    mask_of_state = torch.tensor([0] * (n + 1) + [1])
    final = torch.zeros(n + 2, dtype=torch.bool)
    final[n + 1] = True
    out = Automaton(masks, mask_of_state, forced, default_next, torch.tensor([n * helpers.V + helpers.EOS]),
                    torch.tensor([n + 1]), final, helpers.PAD, helpers.EOS)
    out.validate()
    return out


@pytest.mark.parametrize("method, kwargs", [("greedy", {}), ("beam", {"beam_size": 3, "return_n_best": 2}),
                                            ("sample", {"seed": 1, "return_n_best": 2})])
def test_forced_prefix_for_every_row(setup, helpers, method, kwargs):
    model, head, enc, pad = setup
    prefix = [30, 31, 32]
    a = forced_prefix_automaton(helpers, prefix)
    out = GENERATORS[method](model, enc, pad, head, a, starts(3), bos_id=helpers.BOS, max_len=8, **kwargs)
    for row in range(3):
        for rank in range(out.columns.shape[1]):
            cols = out.sequences(row, rank)
            assert cols[:3] == prefix
            assert (out.positional_scores[row, rank, :3] == 0).all()
            lp = helpers.rescore(model, head, enc[row:row + 1], pad[row:row + 1], a, 0, cols)
            assert torch.allclose(lp, out.positional_scores[row, rank, :len(cols)], atol=1e-4)


def test_beam_with_forced_prefix_of_one_equals_greedy(setup, helpers):
    model, head, enc, pad = setup
    a = forced_prefix_automaton(helpers, [30, 31])
    g = greedy(model, enc, pad, head, a, starts(3), bos_id=helpers.BOS, max_len=9)
    b = beam_search(model, enc, pad, head, a, starts(3), bos_id=helpers.BOS, max_len=9, beam_size=1)
    assert torch.equal(g.columns, b.columns) and torch.allclose(g.scores, b.scores, atol=1e-5)


def test_missing_beam_hypotheses_are_padding(setup, helpers):
    model, head, enc, pad = setup
    a = Automaton.trie([[10], [11]], helpers.V, helpers.EOS, helpers.PAD)
    out = beam_search(model, enc, pad, head, a, starts(3), bos_id=helpers.BOS, max_len=4, beam_size=4,
                      return_n_best=4)
    assert torch.isfinite(out.scores[:, :2]).all() and not torch.isfinite(out.scores[:, 2:]).any()
    assert (out.lengths[:, 2:] == 0).all() and (out.columns[:, 2:] == helpers.PAD).all()


@pytest.mark.parametrize("method, kwargs", [("greedy", {}), ("beam", {"beam_size": 3, "return_n_best": 3})])
@pytest.mark.parametrize("min_len", [0, 6])
@pytest.mark.parametrize("ranking", ["blocks", "native"])
def test_ranking_gives_the_same_hypotheses(setup, helpers, monkeypatch, method, kwargs, min_len, ranking):
    model, head, enc, pad = setup
    a = Automaton.unconstrained(helpers.V, helpers.EOS, helpers.PAD)
    if ranking == "native" and native.library() is None:
        pytest.skip("the C kernels could not be built here")

    def run(min_rows: int, blocks: int, kernel: bool):
        monkeypatch.setattr("polymodal.generation.common.TOPK_MIN_ROWS", min_rows)
        monkeypatch.setattr("polymodal.model.heads.COLUMN_BLOCKS", blocks)
        monkeypatch.setattr("polymodal.model.heads.onednn_packs", lambda dtype: False)  # blockwise needs MKL
        monkeypatch.setattr("polymodal.model.heads.native_library", native.library if kernel else lambda: None)
        head.clear_prepared()
        return GENERATORS[method](model, enc, pad, head, a, starts(3), bos_id=helpers.BOS, max_len=10,
                                  min_len=min_len, **kwargs)

    # every step full-width, then ranked in 5 blocks of 10 columns or by the C kernel
    full, blocks = run(10 ** 9, 4, False), run(1, 5, False) if ranking == "blocks" else run(10 ** 9, 4, True)
    assert torch.equal(full.columns, blocks.columns)
    assert torch.equal(full.lengths, blocks.lengths)
    assert torch.allclose(full.scores, blocks.scores, atol=1e-5)
    assert torch.allclose(full.positional_scores, blocks.positional_scores, atol=1e-5)
    assert min_len == 0 or (full.lengths >= min_len).all()


@pytest.mark.parametrize("method, kwargs", [("greedy", {}), ("beam", {"beam_size": 3, "return_n_best": 3}),
                                            ("beam", {"beam_size": 3, "no_repeat_ngram_size": 2})])
def test_onednn_and_mkl_products_give_the_same_hypotheses(setup, helpers, monkeypatch, method, kwargs):
    if not torch.backends.mkldnn.is_available():
        pytest.skip("this PyTorch build has no oneDNN")
    model, head, enc, pad = setup
    a = helpers.random_automaton(2)
    for module in ("heads", "stepping"):  # the 3 rows of greedy take it too
        monkeypatch.setattr(f"polymodal.model.{module}.PACKED_MIN_ROWS", 2)
    # the C kernels would take these rows first (1-8 rows: the few-row product and the whole decoder step)
    monkeypatch.setattr("polymodal.model.stepping.FewRowsWeight.of", lambda weight, bias: None)
    monkeypatch.setattr("polymodal.model.heads.native_library", lambda: None)
    monkeypatch.setattr("polymodal.model.rowstep.RowStep.takes", staticmethod(lambda x: False))

    def run(onednn: bool):
        if not onednn:
            for module in ("heads", "stepping"):
                monkeypatch.setattr(f"polymodal.model.{module}.onednn_packs", lambda dtype: False)
        head.clear_prepared()
        model.clear_step_weights()
        out = GENERATORS[method](model, enc, pad, head, a, starts(3), bos_id=helpers.BOS, max_len=8, **kwargs)
        used = [w.self_out.packed.value is not None for w in model.step_weights(torch.float32)]
        assert all(used) == onednn and any(used) == onednn
        return out

    packed, plain = run(True), run(False)
    assert torch.equal(packed.columns, plain.columns) and torch.equal(packed.lengths, plain.lengths)
    assert torch.allclose(packed.scores, plain.scores, atol=1e-5)


@pytest.mark.parametrize("method, kwargs", [("greedy", {}), ("beam", {"beam_size": 3})])
def test_each_state_feeds_its_cell_to_the_decoder_as_the_full_pass_does(setup, helpers, method, kwargs):
    import dataclasses

    model, head, enc, pad = setup
    plain = helpers.random_automaton(3)
    cells = torch.randint(0, 5, (plain.n_states, 3), generator=torch.Generator().manual_seed(4))
    a = dataclasses.replace(plain, cells=cells)
    s = torch.tensor([0, 2, 4])
    out = GENERATORS[method](model, enc, pad, head, a, s, bos_id=helpers.BOS, max_len=12, **kwargs)
    base = GENERATORS[method](model, enc, pad, head, plain, s, bos_id=helpers.BOS, max_len=12, **kwargs)
    assert not torch.allclose(out.scores, base.scores)  # the coordinates count
    for row in range(3):
        columns = out.sequences(row)
        state, states = s[row:row + 1], []
        for col in columns:
            states.append(state)
            state = a.advance(state, torch.tensor([col]))
        ids = [helpers.BOS] + head.columns[torch.tensor(columns[:-1], dtype=torch.long)].tolist()
        with torch.no_grad():
            logits = head(model.decode(torch.tensor([ids]), enc[row:row + 1], pad[row:row + 1],
                                       cells=cells[torch.cat(states)][None]))[0]
        lp = [torch.log_softmax(logits[t].masked_fill(~a.allowed(st)[0], float("-inf")), -1)[c]
              for t, (st, c) in enumerate(zip(states, columns))]
        assert torch.allclose(torch.stack(lp), out.positional_scores[row, 0, :len(columns)], atol=1e-4)
