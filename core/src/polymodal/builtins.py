"""Core's own components, published through the same entry-point groups as any plugin."""
from __future__ import annotations

from polymodal.components import AttrSpec, ComponentSpec

_GEN_ATTRS = (
    AttrSpec("max_len", "int", "maximum generated tokens", minimum=1),
    AttrSpec("min_len", "int", "minimum generated tokens", minimum=0),
)

GREEDY = ComponentSpec(kind="generator", name="greedy", modality=None,
                       target="polymodal.generation:greedy", doc="greedy decoding under the decoding program",
                       attributes=_GEN_ATTRS)
BEAM = ComponentSpec(kind="generator", name="beam", modality=None,
                     target="polymodal.generation:beam_search",
                     doc="beam search (length penalty, no-repeat n-gram, n-best) under the decoding program",
                     attributes=_GEN_ATTRS)
SAMPLE = ComponentSpec(kind="generator", name="sample", modality=None,
                       target="polymodal.generation:sample",
                       doc="sampling (temperature, top-k, top-p) under the decoding program", attributes=_GEN_ATTRS)
