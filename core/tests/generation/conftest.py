from __future__ import annotations

import pytest
import torch
from torch import nn

from polymodal.generation import Automaton
from polymodal.model import EncoderDecoder, ModelConfig, TiedHead

V = 48          # vocabulary: ids 0-4 specials, 5-47 "text"
PAD, BOS, EOS = 0, 1, 2
B, S = 3, 6


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def lively_model(seed: int = 0) -> EncoderDecoder:
    """A nano model whose random weights give varied, non-degenerate next-token distributions."""
    torch.manual_seed(seed)
    model = EncoderDecoder(ModelConfig.named("nano", vocab_size=V, dropout=0.0, max_target_positions=40))
    # Large layer weights and small embeddings: otherwise the tied head mostly predicts the input token.
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.5)
    nn.init.normal_(model.embed_tokens.weight, std=0.1)
    return model.eval()


@pytest.fixture
def setup():
    """(model, head over all columns, enc_out, padding mask)."""
    model = lively_model()
    head = TiedHead(model.embed_tokens, [(0, V)])
    g = torch.Generator().manual_seed(1)
    pad = torch.zeros(B, S, dtype=torch.bool)
    pad[1, 4:] = True
    with torch.no_grad():
        enc = model.encode(torch.randn(B, S, 64, generator=g), pad)
    return model, head, enc, pad


def rescore(model, head, enc, pad, automaton: Automaton, start: int, columns: list[int]) -> torch.Tensor:
    """Per-column log-probabilities of one row's hypothesis from a full (non-cached) forward pass."""
    ids = [BOS] + head.columns[torch.tensor(columns[:-1], dtype=torch.long)].tolist() if columns else [BOS]
    with torch.no_grad():
        hidden = model.decode(torch.tensor([ids]), enc, pad)
        logits = head(hidden)[0]
    state = torch.tensor([start])
    out = []
    for t, col in enumerate(columns):
        allowed = automaton.allowed(state)[0]
        lp = torch.log_softmax(logits[t].masked_fill(~allowed, float("-inf")), dim=-1)
        out.append(lp[col])
        state = automaton.advance(state, torch.tensor([col]))
    return torch.stack(out) if out else torch.zeros(0)


def random_automaton(seed: int, n_columns: int = V, n_live: int = 7) -> Automaton:
    """A random valid automaton: random allowed sets, forced states, explicit edges, EOS edges."""
    g = torch.Generator().manual_seed(seed)
    final = n_live
    s = n_live + 1
    masks = torch.rand(s, n_columns, generator=g) < 0.3
    masks[:, PAD] = False
    masks[:, EOS] = False
    masks[final] = False
    masks[final, PAD] = True
    forced = torch.full((s,), -1, dtype=torch.long)
    default_next = torch.randint(0, n_live, (s,), generator=g)
    default_next[final] = final
    keys, nxt = [], []
    for st in range(n_live):
        if torch.rand(1, generator=g) < 0.25:
            forced[st] = int(torch.randint(5, n_columns, (1,), generator=g))
            continue
        if st % 2 == 0:
            masks[st, EOS] = True
            keys.append(st * n_columns + EOS)
            nxt.append(final)
        cols = masks[st].nonzero().view(-1).tolist()
        for c in cols[:3]:
            if c != EOS:
                keys.append(st * n_columns + c)
                nxt.append(int(torch.randint(0, n_live, (1,), generator=g)))
        if not masks[st].any():
            masks[st, 7] = True
    order = sorted(range(len(keys)), key=keys.__getitem__)
    a = Automaton(masks, torch.arange(s), forced, default_next,
                  torch.tensor([keys[i] for i in order], dtype=torch.long),
                  torch.tensor([nxt[i] for i in order], dtype=torch.long),
                  torch.arange(s) == final, PAD, EOS)
    a.validate()
    return a


def replay_ok(automaton: Automaton, start: int, columns: list[int], length: int) -> bool:
    """True when every column is allowed where it was produced and padding follows the end."""
    state = torch.tensor([start])
    for t, col in enumerate(columns):
        if t >= length:
            if col != automaton.pad_column:
                return False
            continue
        if not automaton.allowed(state)[0, col]:
            return False
        forced = int(automaton.forced[state])
        if forced >= 0 and col != forced:
            return False
        state = automaton.advance(state, torch.tensor([col]))
    return True


@pytest.fixture
def helpers():
    """The helper functions above, for test modules (conftest is not importable under importlib mode)."""
    class H:
        pass

    h = H()
    h.V, h.PAD, h.BOS, h.EOS, h.B = V, PAD, BOS, EOS, B
    h.lively_model = lively_model
    h.rescore = rescore
    h.random_automaton = random_automaton
    h.replay_ok = replay_ok
    return h
