"""Constrained beam search, vectorised over rows and beams.

At each step the ``2K`` best extensions of a row's ``K`` live beams are ranked together. Extensions that
reach a final state (EOS taken) and rank among the first ``K`` become finished hypotheses of that row,
kept in a per-row pool of the ``K`` best by length-normalised score; the ``K`` best other extensions
become the next live beams. A row is done when its pool holds ``K`` hypotheses (fairseq's rule) or no
live beam is left; at ``max_len`` the live beams join the pool unfinished. Done rows leave the batch.
Everything is tensor ops on ``[rows, beams]``: no Python loop over rows or hypotheses.
"""
from __future__ import annotations

import torch
from torch import Tensor

from ..model.heads import TiedHead
from ..model.transformer import EncoderDecoder
from .automaton import Automaton
from .common import NEG_INF, GenerationOutput, StepDecoder, check_common, constrain, eval_mode, free_bans

__all__ = ["beam_search"]


class _Pool:
    """The best ``K`` finished hypotheses of every row."""

    def __init__(self, b: int, k: int, max_len: int, pad: int, device: torch.device) -> None:
        self.k = k
        self.score = torch.full((b, k), NEG_INF, device=device)
        self.cols = torch.full((b, k, max_len), pad, dtype=torch.long, device=device)
        self.lp = torch.zeros(b, k, max_len, device=device)
        self.length = torch.zeros(b, k, dtype=torch.long, device=device)
        self.count = torch.zeros(b, dtype=torch.long, device=device)

    def add(self, rows: Tensor, score: Tensor, cols: Tensor, lp: Tensor, length: Tensor,
            valid: Tensor) -> None:
        """Merge candidates (``[R, M, ...]`` for pool rows ``rows``; ``valid`` marks real ones)."""
        score = score.masked_fill(~valid, NEG_INF)
        all_score = torch.cat([self.score[rows], score], dim=1)
        best, idx = all_score.topk(self.k, dim=1)
        all_cols = torch.cat([self.cols[rows], cols], dim=1)
        all_lp = torch.cat([self.lp[rows], lp], dim=1)
        all_len = torch.cat([self.length[rows], length], dim=1)
        index3 = idx[:, :, None].expand(-1, -1, all_cols.shape[2])
        self.score[rows] = best
        self.cols[rows] = all_cols.gather(1, index3)
        self.lp[rows] = all_lp.gather(1, index3)
        self.length[rows] = all_len.gather(1, idx)
        self.count[rows] = (self.count[rows] + valid.sum(dim=1)).clamp(max=self.k)


def beam_search(model: EncoderDecoder, enc_out: Tensor, enc_padding_mask: Tensor | None,
                head: TiedHead, automaton: Automaton, start_states: Tensor, *, bos_id: int,
                max_len: int | None = None, min_len: int = 0, beam_size: int = 5, len_penalty: float = 1.0,
                no_repeat_ngram_size: int = 0, return_n_best: int = 1) -> GenerationOutput:
    """Beam search under a decoding automaton.

    Args:
        model: the backbone (put in eval mode for the call).
        enc_out: encoder output ``[B, S, d]``.
        enc_padding_mask: ``BoolTensor[B, S]`` (True = padding) or None.
        head: the head whose columns are generated.
        automaton: the decoding automaton; rows differ by start state.
        start_states: ``LongTensor[B]``.
        bos_id: global id fed as the first decoder input.
        max_len: most columns per hypothesis (EOS included); None: 128 or ``max_target_positions``.
        min_len: EOS is banned for the first ``min_len`` columns.
        beam_size: live beams per row (``K``); 1 gives greedy decoding.
        len_penalty: finished hypotheses are ranked by ``sum log p / length ** len_penalty``.
        no_repeat_ngram_size: ban repeating any n-gram of this size; 0 disables.
        return_n_best: hypotheses returned per row, at most ``beam_size``.

    Returns:
        :class:`GenerationOutput` with ``n = return_n_best``, best first.
    """
    if beam_size < 1:
        raise ValueError(f"beam_size must be >= 1, got {beam_size}")
    if not 1 <= return_n_best <= beam_size:
        raise ValueError(f"return_n_best must be in [1, beam_size={beam_size}], got {return_n_best}")
    max_len = check_common(enc_out, head, automaton, start_states, max_len, min_len, no_repeat_ngram_size,
                           model)
    with torch.inference_mode(), eval_mode(model):
        return _beam(model, enc_out, enc_padding_mask, head, automaton, start_states.to(enc_out.device),
                     bos_id, max_len, min_len, beam_size, len_penalty, no_repeat_ngram_size, return_n_best)


class _Live:
    """The live beams of the rows still searching: ``[Ba, K]`` scores and ``[Ba*K, ...]`` hypotheses."""

    def __init__(self, b: int, k: int, max_len: int, pad: int, bos_id: int, start_states: Tensor) -> None:
        device = start_states.device
        self.k = k
        self.rows = torch.arange(b, device=device)
        # All K beams start identical: only beam 0 may extend at the first step.
        self.scores = torch.full((b, k), NEG_INF, device=device)
        self.scores[:, 0] = 0.0
        self.states = start_states.repeat_interleave(k)
        self.cols = torch.full((b * k, max_len), pad, dtype=torch.long, device=device)
        self.lp = torch.zeros(b * k, max_len, device=device)
        self.ids = torch.full((b * k,), bos_id, dtype=torch.long, device=device)

    def keep(self, keep: Tensor, dec: StepDecoder) -> None:
        """Keep only rows ``keep`` (indices into the current rows)."""
        beams = (keep[:, None] * self.k + torch.arange(self.k, device=keep.device)).view(-1)
        self.rows, self.scores = self.rows[keep], self.scores[keep]
        self.states, self.cols, self.lp, self.ids = (self.states[beams], self.cols[beams], self.lp[beams],
                                                     self.ids[beams])
        dec.select_rows(beams)


def _shortcut_ok(automaton: Automaton, states: Tensor) -> Tensor:
    """0-d bool tensor: every beam is forced and no forced column ends a hypothesis."""
    forced = automaton.forced[states]
    return (forced >= 0).all() & ~automaton.final[automaton.advance(states, forced.clamp(min=0))].any()


def _kinds(automaton: Automaton, states: Tensor) -> tuple[bool, bool]:
    """Whether the next step can take the forced shortcut, and whether every state is free text."""
    shortcut, free = torch.stack([_shortcut_ok(automaton, states), automaton.is_free(states).all()]).tolist()
    return bool(shortcut), bool(free)


def _beam(model: EncoderDecoder, enc_out: Tensor, enc_padding_mask: Tensor | None, head: TiedHead,
          automaton: Automaton, start_states: Tensor, bos_id: int, max_len: int, min_len: int, k: int,
          len_penalty: float, ngram: int, n_best: int) -> GenerationOutput:
    device = enc_out.device
    b = enc_out.shape[0]
    c = head.n_columns
    dec = StepDecoder(model, head, enc_out, enc_padding_mask, max_len, repeat=k, share_cross=True)
    pool = _Pool(b, k, max_len, automaton.pad_column, device)
    live = _Live(b, k, max_len, automaton.pad_column, bos_id, start_states)
    n_cand = min(2 * k, k * c)
    per_beam = min(n_cand, c)
    ranks_ok = torch.arange(n_cand, device=device) < k
    # Rows that start final hold one empty hypothesis.
    start_final = automaton.final[start_states]
    if bool(start_final.any()):
        pool.score[start_final, 0] = 0.0
        pool.count[start_final] = k
        live.keep((~start_final).nonzero().squeeze(1), dec)
    t_end = 0
    shortcut, free = _kinds(automaton, live.states) if live.rows.numel() else (False, False)
    for t in range(max_len if live.rows.numel() else 0):
        ba = live.rows.shape[0]
        t_end = t + 1
        h = dec.hidden(live.ids, t, automaton.cells_of(live.states))
        if shortcut:
            # Every beam is in forced prompt text: all extend by their forced column at no cost.
            forced = automaton.forced[live.states]
            live.cols[:, t] = forced
            live.states = automaton.advance(live.states, forced)
            live.ids = dec.global_ids[forced]
            shortcut, free = _kinds(automaton, live.states)
            continue
        # The best n_cand extensions of a row are among the best n_cand of each of its beams: rank those
        # ([N, n_cand]) instead of adding beam scores to all [N, C] columns and ranking K * C per row.
        if free and not ngram and dec.ranks(h):
            beam_top, beam_col = dec.top_log_probs(h, per_beam, free_bans(automaton, t, min_len))
        else:
            logits = constrain(dec.logits(h), automaton, live.states, t, min_len=min_len,
                               no_repeat_ngram_size=ngram, history=live.cols[:, :t] if ngram else None,
                               all_free=free)
            beam_top, beam_col = torch.log_softmax(logits, dim=-1).topk(per_beam, dim=-1)
        cand = (live.scores.view(-1, 1) + beam_top).view(ba, k * per_beam)
        top_s, top_i = cand.topk(n_cand, dim=1)
        beam_j = torch.div(top_i, per_beam, rounding_mode="floor")
        col = beam_col.view(ba, k * per_beam).gather(1, top_i)
        tok_lp = beam_top.view(ba, k * per_beam).gather(1, top_i)
        src = beam_j + (torch.arange(ba, device=device) * k)[:, None]
        nstate = automaton.advance(live.states[src], col)
        is_final = automaton.final[nstate] & torch.isfinite(top_s)
        # Extensions that end a hypothesis and rank among the first K join the pool (a no-op merge when
        # there are none, cheaper than a synchronisation to find out).
        cand_cols = live.cols[src]
        cand_cols[:, :, t] = col
        cand_lp = live.lp[src]
        cand_lp[:, :, t] = tok_lp
        pool.add(live.rows, top_s / float(t + 1) ** len_penalty, cand_cols, cand_lp, torch.full_like(col, t + 1),
                 is_final & ranks_ok)
        live_s = top_s.masked_fill(is_final, NEG_INF)
        live.scores, live_j = live_s.topk(k, dim=1) if n_cand >= k else _pad_topk(live_s, k)
        sel = src.gather(1, live_j).view(-1)
        sel_col = col.gather(1, live_j).view(-1)
        live.cols = live.cols[sel]
        live.cols[:, t] = sel_col
        live.lp = live.lp[sel]
        live.lp[:, t] = tok_lp.gather(1, live_j).view(-1)
        live.states = nstate.gather(1, live_j).view(-1)
        live.ids = dec.global_ids[sel_col]
        dec.reorder(sel)
        row_done = (pool.count[live.rows] >= k) | ~torch.isfinite(live.scores[:, 0])
        # One synchronisation per step: finished rows, and the kind of the next step.
        n_done, shortcut, free = torch.stack([row_done.sum(), _shortcut_ok(automaton, live.states),
                                              automaton.is_free(live.states).all()]).tolist()
        if n_done:
            if n_done == ba:
                live.rows = live.rows[:0]
                break
            live.keep((~row_done).nonzero().squeeze(1), dec)
            shortcut, free = _kinds(automaton, live.states)
    if live.rows.numel():
        # Rows still searching at max_len: their live beams join the pool unfinished.
        ba = live.rows.shape[0]
        norm = live.scores / float(t_end) ** len_penalty if t_end else live.scores
        pool.add(live.rows, norm, live.cols.view(ba, k, max_len), live.lp.view(ba, k, max_len),
                 torch.full((ba, k), t_end, dtype=torch.long, device=device), torch.isfinite(live.scores))
    missing = ~torch.isfinite(pool.score)
    pool.cols.masked_fill_(missing[:, :, None], automaton.pad_column)
    pool.lp.masked_fill_(missing[:, :, None], 0.0)
    pool.length.masked_fill_(missing, 0)
    used = int(pool.length.max()) if b else 0
    return GenerationOutput(pool.cols[:, :n_best, :used], pool.length[:, :n_best], pool.score[:, :n_best],
                            pool.lp[:, :n_best, :used])


def _pad_topk(scores: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """topk for fewer than ``k`` candidates (tiny vocabularies): pad with -inf entries of column 0."""
    s, i = scores.sort(dim=1, descending=True)
    extra = k - s.shape[1]
    s = torch.cat([s, s.new_full((s.shape[0], extra), NEG_INF)], dim=1)
    i = torch.cat([i, i.new_zeros((i.shape[0], extra))], dim=1)
    return s, i
