"""What every generator shares: the step decoder, the per-step constraints and the output type.

:class:`StepDecoder` owns the state of one generate call (the static KV cache with the encoder keys and
values computed once, and the head's weight prepared once) and turns the inputs of one step into
float32 logits over the head's columns. :func:`constrain` applies, as whole-batch tensor ops, the
decoding automaton, ``min_len`` and ``no_repeat_ngram_size``.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Iterator

import torch
from torch import Tensor, nn

from ..model.heads import TOPK_MIN_ROWS, PreparedHead, TiedHead
from ..model.transformer import EncoderDecoder
from .automaton import Automaton

__all__ = ["GenerationOutput", "StepDecoder", "constrain", "free_bans", "ngram_bans", "check_common",
           "eval_mode"]

NEG_INF = float("-inf")


@dataclass
class GenerationOutput:
    """Generated column sequences, ``n`` per input row, best first.

    Attributes:
        columns: ``LongTensor[B, n, L]`` head columns; the EOS column is included when a hypothesis ended
            with it, positions after the end hold the automaton's pad column.
        lengths: ``LongTensor[B, n]`` number of columns of each hypothesis (EOS included).
        scores: ``FloatTensor[B, n]`` sum of log-probabilities divided by ``length ** len_penalty``;
            ``-inf`` for a missing hypothesis (fewer than ``n`` found).
        positional_scores: ``FloatTensor[B, n, L]`` log-probability of each column (0 for forced ones).
    """

    columns: Tensor
    lengths: Tensor
    scores: Tensor
    positional_scores: Tensor

    def global_ids(self, head: TiedHead) -> Tensor:
        """The columns as global token ids (``LongTensor[B, n, L]``, same padding positions)."""
        return head.columns[self.columns]

    def sequences(self, row: int = 0, rank: int = 0) -> list[int]:
        """The columns of one hypothesis without padding, as a Python list."""
        n = int(self.lengths[row, rank])
        return self.columns[row, rank, :n].tolist()


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[None]:
    """Run a block with ``model`` in eval mode (no dropout), restoring its mode afterwards."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


class StepDecoder:
    """Incremental decoding for one generate call.

    Args:
        model: the backbone.
        head: the output head whose columns are generated.
        enc_out: encoder output ``[B, S, d]``.
        enc_padding_mask: ``BoolTensor[B, S]`` (True = padding) or None.
        max_len: number of decoding steps (cache positions).
        repeat: hypotheses per row.
        share_cross: keep one copy of each row's encoder keys/values for its hypotheses (beam search,
            which only ever drops a row's hypotheses together).
    """

    def __init__(self, model: EncoderDecoder, head: TiedHead, enc_out: Tensor,
                 enc_padding_mask: Tensor | None, max_len: int, repeat: int = 1,
                 share_cross: bool = False) -> None:
        self.model = model
        self.cache = model.new_cache(enc_out, enc_padding_mask, max_len, repeat=repeat, share_cross=share_cross)
        self.head = head.prepare()
        self.global_ids = head.columns
        # the batch row of each hypothesis, for heads that read the row's source (copying)
        self.rows = torch.arange(enc_out.shape[0], device=enc_out.device).repeat_interleave(repeat)
        self._needs_rows = getattr(self.head, "needs_rows", False)
        self._prepared = self.head if isinstance(self.head, PreparedHead) else None

    def hidden(self, ids: Tensor, pos: int, cells: Tensor | None = None) -> Tensor:
        """Decoder state ``[N, d]`` after feeding global ids ``ids`` (``[N]``) at position ``pos``, with the
        coordinates ``cells`` (``[N, 3]``) of the tokens to predict there, if any."""
        return self.model.decode(ids[:, None], None, None, cache=self.cache, start_pos=pos,
                                 cells=None if cells is None else cells[:, None])[:, 0]

    def logits(self, hidden: Tensor) -> Tensor:
        """Float32 logits ``[N, C]`` over the head's columns."""
        return self.head(hidden, self.rows) if self._needs_rows else self.head(hidden)

    def ranks(self, hidden: Tensor) -> bool:
        """Whether :meth:`top_log_probs` is available and faster than logits + ``log_softmax`` + ``topk``: on
        the C kernel, or on column blocks from :data:`~polymodal.model.heads.TOPK_MIN_ROWS` rows."""
        head = self._prepared
        return head is not None and (head.native_ranking
                                     or (head.blockwise and hidden.shape[0] >= TOPK_MIN_ROWS))

    def top_log_probs(self, hidden: Tensor, k: int, banned: list[int]) -> tuple[Tensor, Tensor]:
        """The ``k`` best columns of every hypothesis and their log-probabilities, ``[N, k]`` each.

        Only for free-text steps (every column allowed but ``banned``) of a plain head: see
        :meth:`~polymodal.model.heads.PreparedHead.top_log_probs`.
        """
        return self.head.top_log_probs(hidden, k, banned)

    def reorder(self, index: Tensor) -> None:
        """Permute hypotheses within their rows (beam search)."""
        self.cache.reorder(index)
        if self._needs_rows:
            self.rows = self.rows[index]

    def select_rows(self, index: Tensor) -> None:
        """Keep only hypotheses ``index``."""
        self.cache.select_rows(index)
        if self._needs_rows:
            self.rows = self.rows[index]


def ngram_bans(history: Tensor, n: int, n_columns: int) -> Tensor | None:
    """Columns that would repeat an n-gram already in each history.

    Args:
        history: ``LongTensor[N, t]`` columns produced so far.
        n: n-gram size (>= 1).
        n_columns: ``C``.

    Returns:
        ``BoolTensor[N, C]`` (True = banned), or None when no n-gram can repeat yet.
    """
    rows, t = history.shape
    if t < n:
        return None
    if n == 1:
        nxt = history
    else:
        # Each earlier (n-1)-gram that equals the current suffix bans the column that followed it.
        windows = history.unfold(1, n - 1, 1)[:, : t - n + 1]
        suffix = history[:, t - n + 1:]
        match = (windows == suffix[:, None, :]).all(dim=-1)
        nxt = torch.where(match, history[:, n - 1:], n_columns)
    banned = torch.zeros(rows, n_columns + 1, dtype=torch.bool, device=history.device)
    banned.scatter_(1, nxt, True)
    return banned[:, :n_columns]


def free_bans(automaton: Automaton, step: int, min_len: int) -> list[int]:
    """The columns a free-text state may not produce at ``step``: pad, and EOS before ``min_len``."""
    banned = [automaton.pad_column]
    if step < min_len and automaton.eos_column >= 0:
        banned.append(automaton.eos_column)
    return banned


def constrain(logits: Tensor, automaton: Automaton, states: Tensor, step: int, *, min_len: int,
              no_repeat_ngram_size: int, history: Tensor | None, all_free: bool = False) -> Tensor:
    """Set disallowed logits to ``-inf`` in place and return them.

    The automaton decides first. Then, in free (not forced, not final) states only, EOS is banned before
    ``min_len`` columns and repeated n-grams are banned; if that would leave a hypothesis nothing to
    produce, those extra bans are lifted for it (the automaton's own constraint is never broken).

    Args:
        logits: ``[N, C]`` float logits.
        automaton: the decoding automaton.
        states: ``LongTensor[N]`` current states.
        step: index of the column being produced (0-based).
        min_len: EOS is banned while ``step < min_len``.
        no_repeat_ngram_size: 0 disables n-gram blocking.
        history: ``LongTensor[N, step]`` columns so far (needed for n-gram blocking).
        all_free: the caller knows every state is free text (:meth:`Automaton.is_free`): only the pad
            (and before ``min_len`` the EOS) column is banned, without building the ``[N, C]`` mask.
    """
    ban_eos = step < min_len and automaton.eos_column >= 0
    bans = None
    if no_repeat_ngram_size > 0 and history is not None:
        bans = ngram_bans(history, no_repeat_ngram_size, automaton.n_columns)
    if all_free and bans is None:
        logits[:, free_bans(automaton, step, min_len)] = NEG_INF
        return logits
    allowed = automaton.allowed(states)
    if ban_eos or bans is not None:
        free = (automaton.forced[states] < 0) & ~automaton.final[states]
        if bans is None:
            bans = torch.zeros_like(allowed)
        if ban_eos:
            bans[:, automaton.eos_column] = True
        strict = allowed & ~(bans & free[:, None])
        allowed = torch.where(strict.any(dim=1, keepdim=True), strict, allowed)
    return logits.masked_fill_(~allowed, NEG_INF)


#: ``max_len`` when none is given (capped by the model's ``max_target_positions``).
DEFAULT_MAX_LEN = 128


def check_common(enc_out: Tensor, head: TiedHead, automaton: Automaton, start_states: Tensor,
                 max_len: int | None, min_len: int, no_repeat_ngram_size: int, model: EncoderDecoder) -> int:
    """Validate the arguments every generator takes.

    Returns:
        ``max_len``, resolved when None.

    Raises:
        ValueError: naming the argument at fault.
    """
    if max_len is None:
        max_len = min(DEFAULT_MAX_LEN, model.config.max_target_positions)
    b = enc_out.shape[0]
    if start_states.shape != (b,):
        raise ValueError(f"start_states must be [{b}] (one per row), got {tuple(start_states.shape)}")
    if automaton.n_columns != head.n_columns:
        raise ValueError(f"automaton has {automaton.n_columns} columns but the head scores "
                         f"{head.n_columns}")
    if not 1 <= max_len <= model.config.max_target_positions:
        raise ValueError(f"max_len must be in [1, {model.config.max_target_positions}], got {max_len}")
    if not 0 <= min_len <= max_len:
        raise ValueError(f"min_len must be in [0, max_len={max_len}], got {min_len}")
    if min_len > 0 and automaton.eos_column < 0:
        raise ValueError("min_len > 0 needs an automaton with eos_column set")
    if no_repeat_ngram_size < 0:
        raise ValueError(f"no_repeat_ngram_size must be >= 0 (0 disables), got {no_repeat_ngram_size}")
    if start_states.numel() and (int(start_states.min()) < 0
                                 or int(start_states.max()) >= automaton.n_states):
        raise ValueError(f"start_states must be states of the automaton [0, {automaton.n_states})")
    return max_len
