"""Greedy decoding, and the single-path loop that sampling shares with it.

Each hypothesis follows one path: at every step one column is picked (the best one, or a sampled one)
among those the automaton allows. Finished hypotheses (final state reached) leave the batch at once, so
they cost nothing more; steps where every hypothesis is forced skip the output projection.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from ..model.heads import TiedHead
from ..model.transformer import EncoderDecoder
from .automaton import Automaton
from .common import GenerationOutput, StepDecoder, check_common, constrain, eval_mode, free_bans

__all__ = ["greedy", "single_path_search"]

#: ``pick(masked_logits [N, C]) -> columns [N]``.
Picker = Callable[[Tensor], Tensor]


def _kinds(automaton: Automaton, states: Tensor) -> tuple[bool, bool]:
    """Whether every state is forced, and whether every state is free text."""
    n_forced, n_free = torch.stack([(automaton.forced[states] >= 0).sum(),
                                    automaton.is_free(states).sum()]).tolist()
    return n_forced == states.shape[0], n_free == states.shape[0]


def _argmax(logits: Tensor) -> Tensor:
    return logits.argmax(dim=-1)


def single_path_search(model: EncoderDecoder, enc_out: Tensor, enc_padding_mask: Tensor | None,
                       head: TiedHead, automaton: Automaton, start_states: Tensor, *, bos_id: int,
                       max_len: int | None, min_len: int, no_repeat_ngram_size: int, len_penalty: float,
                       repeat: int, pick: Picker) -> GenerationOutput:
    """Decode ``repeat`` independent paths per row, choosing each column with ``pick``.

    Scores are the model's log-probabilities under the constraints (temperature 1), whatever ``pick``
    does. The ``repeat`` paths of a row come back sorted by score, best first.
    """
    max_len = check_common(enc_out, head, automaton, start_states, max_len, min_len, no_repeat_ngram_size,
                           model)
    device = enc_out.device
    b = enc_out.shape[0]
    n = b * repeat
    pad = automaton.pad_column
    dec = StepDecoder(model, head, enc_out, enc_padding_mask, max_len, repeat=repeat)
    out_cols = torch.full((n, max_len), pad, dtype=torch.long, device=device)
    out_lp = torch.zeros(n, max_len, device=device)
    lengths = torch.full((n,), max_len, dtype=torch.long, device=device)
    hist = torch.empty(n, max_len, dtype=torch.long, device=device)
    states = start_states.to(device).repeat_interleave(repeat)
    active = torch.arange(n, device=device)
    ids = torch.full((n,), bos_id, dtype=torch.long, device=device)
    # Rows that start in a final state produce nothing.
    done = automaton.final[states]
    lengths[done] = 0
    if bool(done.any()):
        keep = (~done).nonzero().squeeze(1)
        active, states, hist = active[keep], states[keep], hist[keep]
        ids = ids[keep]
        dec.select_rows(keep)
    compacted = active.shape[0] != n
    all_forced, all_free = _kinds(automaton, states)
    for t in range(max_len if active.numel() else 0):
        h = dec.hidden(ids, t, automaton.cells_of(states))
        if all_forced:
            # Forced prompt text: the column is known, so the output projection is skipped.
            col = automaton.forced[states]
            lp = torch.zeros(col.shape, device=device)
        elif all_free and pick is _argmax and not no_repeat_ngram_size and dec.ranks(h):
            lp, col = dec.top_log_probs(h, 1, free_bans(automaton, t, min_len))
            lp, col = lp[:, 0], col[:, 0]
        else:
            logits = constrain(dec.logits(h), automaton, states, t, min_len=min_len,
                               no_repeat_ngram_size=no_repeat_ngram_size,
                               history=hist[:, :t] if no_repeat_ngram_size else None, all_free=all_free)
            lprobs = torch.log_softmax(logits, dim=-1)
            if pick is _argmax:
                lp, col = lprobs.max(dim=-1)  # value and index in one pass
            else:
                col = pick(lprobs)
                lp = lprobs.gather(1, col[:, None]).squeeze(1)
        if compacted:
            out_cols[active, t] = col
            out_lp[active, t] = lp
        else:
            out_cols[:, t] = col
            out_lp[:, t] = lp
        hist[:, t] = col
        states = automaton.advance(states, col)
        done = automaton.final[states]
        # One synchronisation per step: finished count, and whether the next step is all forced or all
        # free text.
        n_done, n_forced, n_free = torch.stack([done.sum(), (automaton.forced[states] >= 0).sum(),
                                                automaton.is_free(states).sum()]).tolist()
        all_forced, all_free = n_forced == states.shape[0], n_free == states.shape[0]
        if n_done:
            lengths[active[done]] = t + 1
            if n_done == active.shape[0]:
                break
            keep = (~done).nonzero().squeeze(1)
            active, states, col, hist = active[keep], states[keep], col[keep], hist[keep]
            dec.select_rows(keep)
            compacted = True
            all_forced, all_free = _kinds(automaton, states)
        ids = dec.global_ids[col]
    used = int(lengths.max()) if n else 0
    scores = out_lp.sum(dim=1) / lengths.clamp(min=1).to(out_lp.dtype) ** len_penalty
    cols = out_cols[:, :used].view(b, repeat, used)
    lp = out_lp[:, :used].view(b, repeat, used)
    scores, lens = scores.view(b, repeat), lengths.view(b, repeat)
    if repeat > 1:
        scores, order = scores.sort(dim=1, descending=True)
        lens = lens.gather(1, order)
        cols = cols.gather(1, order[:, :, None].expand_as(cols))
        lp = lp.gather(1, order[:, :, None].expand_as(lp))
    return GenerationOutput(cols, lens, scores, lp)


def greedy(model: EncoderDecoder, enc_out: Tensor, enc_padding_mask: Tensor | None, head: TiedHead,
           automaton: Automaton, start_states: Tensor, *, bos_id: int, max_len: int | None = None,
           min_len: int = 0, no_repeat_ngram_size: int = 0, len_penalty: float = 1.0,
           return_n_best: int = 1) -> GenerationOutput:
    """Greedy constrained decoding: at each step the most probable allowed column.

    Args:
        model: the backbone (put in eval mode for the call).
        enc_out: encoder output ``[B, S, d]``.
        enc_padding_mask: ``BoolTensor[B, S]`` (True = padding) or None.
        head: the head whose columns are generated.
        automaton: the decoding automaton (one for the batch; rows differ by start state).
        start_states: ``LongTensor[B]``.
        bos_id: global id fed as the first decoder input.
        max_len: most columns per row (EOS included); a row that reaches it ends unfinished.
            None: 128, or the model's ``max_target_positions`` if smaller.
        min_len: EOS is banned for the first ``min_len`` columns (needs ``automaton.eos_column``).
        no_repeat_ngram_size: ban repeating any n-gram of this size; 0 disables.
        len_penalty: scores are divided by ``length ** len_penalty`` (0 gives raw sums).
        return_n_best: must be 1 (accepted so that every generator takes the same keywords).

    Returns:
        :class:`GenerationOutput` with ``n = 1``.
    """
    if return_n_best != 1:
        raise ValueError(f"greedy returns one hypothesis per row; got return_n_best={return_n_best} "
                         "(use beam search or sampling for n-best lists)")
    with torch.inference_mode(), eval_mode(model):
        return single_path_search(model, enc_out, enc_padding_mask, head, automaton, start_states,
                                  bos_id=bos_id, max_len=max_len, min_len=min_len,
                                  no_repeat_ngram_size=no_repeat_ngram_size, len_penalty=len_penalty,
                                  repeat=1, pick=_argmax)
