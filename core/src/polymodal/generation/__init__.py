"""Constrained generators: greedy, beam search and sampling over a decoding automaton.

Every generator takes the same leading arguments
``(model, enc_out, enc_padding_mask, head, automaton, start_states, *, bos_id, **kwargs)`` and returns a
:class:`GenerationOutput`. :data:`GENERATORS` maps the registry names to them::

    out = GENERATORS["beam"](model, enc, pad_mask, head, automaton, starts, bos_id=bos, beam_size=5)
    ids = out.global_ids(head)       # [B, n, L] global token ids
"""
from __future__ import annotations

from typing import Callable

from .automaton import Automaton
from .beam import beam_search
from .common import GenerationOutput, StepDecoder, constrain, ngram_bans
from .greedy import greedy
from .sampling import filter_logits, sample

__all__ = [
    "Automaton", "GenerationOutput", "StepDecoder", "GENERATORS", "greedy", "beam_search", "sample",
    "constrain", "ngram_bans", "filter_logits",
]

#: Registry-facing names of the generators.
GENERATORS: dict[str, Callable[..., GenerationOutput]] = {
    "greedy": greedy,
    "beam": beam_search,
    "sample": sample,
}
