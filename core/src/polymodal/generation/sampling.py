"""Constrained sampling with temperature, top-k and nucleus (top-p) filtering.

``return_n_best`` independent samples are drawn per row and returned best first by their model score
(log-probability under the constraints at temperature 1, divided by ``length ** len_penalty``), so an
n-best list of samples can be reranked like beam search output. Seeding makes the draw reproducible.
"""
from __future__ import annotations

import torch
from torch import Tensor

from ..model.heads import TiedHead
from ..model.transformer import EncoderDecoder
from .automaton import Automaton
from .common import NEG_INF, GenerationOutput, eval_mode
from .greedy import single_path_search

__all__ = ["sample", "filter_logits"]


def filter_logits(logits: Tensor, top_k: int = 0, top_p: float = 1.0) -> Tensor:
    """Keep the ``top_k`` best columns and the smallest set with probability mass ``>= top_p``.

    Args:
        logits: ``[N, C]`` (disallowed columns already ``-inf``).
        top_k: 0 disables the top-k filter.
        top_p: 1.0 disables the nucleus filter; 0.0 keeps only the best column.

    Returns:
        A new tensor with filtered columns set to ``-inf``; the best column is always kept.
    """
    out = logits
    if top_k > 0 and top_k < logits.shape[-1]:
        kth = logits.topk(top_k, dim=-1).values[:, -1:]
        out = out.masked_fill(logits < kth, NEG_INF)
    if top_p < 1.0:
        sorted_logits, order = out.sort(dim=-1, descending=True)
        probs = sorted_logits.softmax(dim=-1)
        mass_before = probs.cumsum(dim=-1) - probs
        drop_sorted = mass_before >= top_p
        drop_sorted[:, 0] = False
        drop = torch.zeros_like(drop_sorted).scatter_(1, order, drop_sorted)
        out = out.masked_fill(drop, NEG_INF)
    return out


def sample(model: EncoderDecoder, enc_out: Tensor, enc_padding_mask: Tensor | None, head: TiedHead,
           automaton: Automaton, start_states: Tensor, *, bos_id: int, max_len: int | None = None,
           min_len: int = 0, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0,
           return_n_best: int = 1, no_repeat_ngram_size: int = 0, len_penalty: float = 1.0,
           seed: int | None = None, generator: torch.Generator | None = None) -> GenerationOutput:
    """Draw ``return_n_best`` constrained samples per row.

    Args:
        model: the backbone (put in eval mode for the call).
        enc_out: encoder output ``[B, S, d]``.
        enc_padding_mask: ``BoolTensor[B, S]`` (True = padding) or None.
        head: the head whose columns are generated.
        automaton: the decoding automaton; rows differ by start state.
        start_states: ``LongTensor[B]``.
        bos_id: global id fed as the first decoder input.
        max_len: most columns per sample (EOS included); None: 128 or ``max_target_positions``.
        min_len: EOS is banned for the first ``min_len`` columns.
        temperature: divides the logits before sampling; 0 means greedy (take the best column).
        top_k: sample among the ``top_k`` best columns; 0 disables.
        top_p: sample from the smallest set of columns with mass ``>= top_p``; 1.0 disables, 0.0 keeps
            only the best column.
        return_n_best: samples per row, returned best first by score.
        no_repeat_ngram_size: ban repeating any n-gram of this size; 0 disables.
        len_penalty: scores are divided by ``length ** len_penalty``.
        seed: seed of a fresh random generator (reproducible draws); exclusive with ``generator``.
        generator: a ``torch.Generator`` on the model's device.

    Returns:
        :class:`GenerationOutput` with ``n = return_n_best``.
    """
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0 (0 = greedy), got {temperature}")
    if top_k < 0:
        raise ValueError(f"top_k must be >= 0 (0 disables), got {top_k}")
    if not 0.0 <= top_p <= 1.0:
        raise ValueError(f"top_p must be in [0, 1] (1 disables), got {top_p}")
    if return_n_best < 1:
        raise ValueError(f"return_n_best must be >= 1, got {return_n_best}")
    if seed is not None and generator is not None:
        raise ValueError("pass either seed or generator, not both")
    if seed is not None:
        generator = torch.Generator(device=enc_out.device)
        generator.manual_seed(seed)

    def pick(logits: Tensor) -> Tensor:
        if temperature == 0:
            return logits.argmax(dim=-1)
        filtered = filter_logits(logits, top_k, top_p)
        probs = torch.softmax(filtered / temperature, dim=-1)
        return torch.multinomial(probs, 1, generator=generator).squeeze(1)

    with torch.inference_mode(), eval_mode(model):
        return single_path_search(model, enc_out, enc_padding_mask, head, automaton, start_states,
                                  bos_id=bos_id, max_len=max_len, min_len=min_len,
                                  no_repeat_ngram_size=no_repeat_ngram_size, len_penalty=len_penalty,
                                  repeat=return_n_best, pick=pick)
