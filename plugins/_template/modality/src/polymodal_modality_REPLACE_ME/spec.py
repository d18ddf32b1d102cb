"""REPLACE_ME: declarations of the modality's components. Keep this module import-light (no torch)."""
from __future__ import annotations

from polymodal.components import AttrSpec, ComponentSpec, ModalitySpec, TokenSpaceSpec

MODALITY = ModalitySpec(
    token="REPLACE_ME",                        # the slot type written in instructions, upper case
    doc="REPLACE_ME: one line",
    default_preprocessor="REPLACE_ME",         # used when a slot has no preprocess=
    default_adapter="REPLACE_ME.embed",        # encoder side, when a slot has no adapter=
    default_head=None,                         # decoder side; None if the modality is input-only
    token_spaces=(TokenSpaceSpec("REPLACE_ME.code", 256, "REPLACE_ME: what the tokens are"),),
    requires=(),                               # other slot types this one needs in the same instruction
)

PREPROCESS = ComponentSpec(
    kind="preprocessor", name="REPLACE_ME", modality="REPLACE_ME",
    target="polymodal_modality_REPLACE_ME.preprocess:Preprocessor",   # imported on first use
    doc="REPLACE_ME",
    # every slot attribute this component reads, with its type and bounds: the planner validates them
    attributes=(AttrSpec("REPLACE_ME_option", "float", "REPLACE_ME", minimum=0.0, maximum=1.0),),
)

ADAPTER = ComponentSpec(
    kind="adapter", name="REPLACE_ME.embed", modality="REPLACE_ME",
    target="polymodal_modality_REPLACE_ME.adapters:Adapter",
    doc="REPLACE_ME", sides=frozenset({"encoder"}),
)
