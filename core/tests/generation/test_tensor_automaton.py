from __future__ import annotations

import pytest
import torch

from polymodal.generation import Automaton

C, EOS, PAD = 12, 2, 0


def test_unconstrained_allows_everything_but_pad_until_eos():
    a = Automaton.unconstrained(C, EOS, PAD)
    a.validate()
    allowed = a.allowed(torch.tensor([0]))[0]
    assert allowed.sum() == C - 1 and not allowed[PAD]
    assert a.advance(torch.tensor([0, 0]), torch.tensor([5, EOS])).tolist() == [0, 1]
    assert a.final.tolist() == [False, True]
    # Final states only produce pad and stay final.
    assert a.allowed(torch.tensor([1]))[0].nonzero().view(-1).tolist() == [PAD]
    assert a.advance(torch.tensor([1]), torch.tensor([PAD])).tolist() == [1]


def test_unconstrained_with_max_len_forces_eos():
    a = Automaton.unconstrained(C, EOS, PAD, max_len=3)
    a.validate()
    s = torch.tensor([0])
    for _ in range(2):
        assert a.allowed(s).sum() == C - 1
        s = a.advance(s, torch.tensor([7]))
    assert a.allowed(s)[0].nonzero().view(-1).tolist() == [EOS]
    assert a.final[a.advance(s, torch.tensor([EOS]))].all()
    # An early EOS also ends the sequence.
    assert a.final[a.advance(torch.tensor([0]), torch.tensor([EOS]))].all()


def test_trie_follows_its_edges():
    seqs = [[3, 4], [3, 5, 6], [7]]
    a = Automaton.trie(seqs, C, EOS, PAD)
    a.validate()
    root = torch.tensor([0])
    assert a.allowed(root)[0].nonzero().view(-1).tolist() == [3, 7]
    after3 = a.advance(root, torch.tensor([3]))
    assert a.allowed(after3)[0].nonzero().view(-1).tolist() == [4, 5]
    after34 = a.advance(after3, torch.tensor([4]))
    assert a.allowed(after34)[0].nonzero().view(-1).tolist() == [EOS]
    assert a.final[a.advance(after34, torch.tensor([EOS]))].all()


def test_forced_state_is_one_hot():
    a = Automaton.unconstrained(C, EOS, PAD)
    a.forced[0] = 9
    assert a.allowed(torch.tensor([0, 1])).nonzero().tolist() == [[0, 9], [1, PAD]]


def test_concatenate_offsets_states_and_keys():
    trie = Automaton.trie([[3, 4], [5]], C, EOS, PAD)
    free = Automaton.unconstrained(C, EOS, PAD)
    merged, offsets = Automaton.concatenate([free, trie, free])
    merged.validate()
    assert offsets.tolist() == [0, free.n_states, free.n_states + trie.n_states]
    starts = offsets.clone()
    cols = torch.tensor([EOS, 3, 8])
    nxt = merged.advance(starts, cols)
    assert merged.final[nxt].tolist() == [True, False, False]
    assert merged.allowed(nxt[1:2])[0].nonzero().view(-1).tolist() == [4]
    assert merged.allowed(starts)[1].nonzero().view(-1).tolist() == [3, 5]
    with pytest.raises(ValueError, match="share"):
        Automaton.concatenate([free, Automaton.unconstrained(C + 1, EOS, PAD)])


def test_validate_finds_dead_ends_and_bad_edges():
    a = Automaton.trie([[3]], C, EOS, PAD)
    a.masks[0, 6] = True  # allowed, but no edge and no default successor
    with pytest.raises(ValueError, match="neither an edge nor a default"):
        a.validate()
    b = Automaton.trie([[3]], C, EOS, PAD)
    b.masks[0, 3] = False  # an edge on a column that is not allowed
    with pytest.raises(ValueError, match="does not allow"):
        b.validate()
    c = Automaton.unconstrained(C, EOS, PAD)
    c.edge_keys = torch.tensor([5, 3])
    c.edge_next = torch.tensor([1, 1])
    with pytest.raises(ValueError, match="sorted"):
        c.validate()


def test_to_moves_every_tensor():
    a = Automaton.trie([[3, 4]], C, EOS, PAD).to("cpu")
    assert a.device.type == "cpu" and a.pad_column == PAD and a.eos_column == EOS


def test_is_free_marks_only_unconstrained_text_states():
    free = Automaton.unconstrained(C, EOS, PAD, max_len=3)
    free.forced[1] = 5
    trie = Automaton.trie([[3, 4]], C, EOS, PAD)
    merged, off = Automaton.concatenate([free, trie])
    # free: states 0 (free), 1 (forced), 2 (forced EOS), 3 (final); then the trie's states.
    assert merged.is_free(torch.arange(merged.n_states)).tolist() == (
        [True, False, False, False] + [False] * trie.n_states)
