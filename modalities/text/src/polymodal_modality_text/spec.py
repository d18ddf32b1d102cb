"""Declarations of the TEXT modality's components (import-light: no torch, no tokenizers)."""
from __future__ import annotations

from polymodal.components import AttrSpec, ComponentSpec, ModalitySpec, TokenSpaceSpec

TEXT = ModalitySpec(
    token="TEXT",
    doc="natural-language text, tokenised with a byte-level BPE into the 'text' token space",
    default_preprocessor="text",
    default_adapter="text.embed",
    default_head="text.lm",
    token_spaces=(TokenSpaceSpec("text", None, "byte-level BPE tokens (size set by the tokenizer)"),),
    resource="polymodal_modality_text.tokenizer:TextTokenizer",
)

PREPROCESS = ComponentSpec(
    kind="preprocessor", name="text", modality="TEXT",
    target="polymodal_modality_text.preprocess:TextPreprocessor",
    doc="normalise and BPE-tokenise text; BART span masking and decoder-input noise in training",
    attributes=(
        AttrSpec("max_length", "int", "keep at most this many BPE tokens", minimum=1),
        AttrSpec("uncased", "flag", "lower-case the text", default=False),
        AttrSpec("no_punctuation", "flag", "strip ASCII punctuation", default=False),
        AttrSpec("mask_ratio", "float", "BART whole-word span masking of this fraction of words (training)",
                 minimum=0.0, maximum=1.0, sides=frozenset({"encoder"})),
        AttrSpec("eval_mask", "flag", "apply mask_ratio at evaluation and inference too (a fixed pattern per row), "
                 "for tasks whose point is restoring the masked text", default=False, sides=frozenset({"encoder"})),
        AttrSpec("noise_ratio", "float", "replace decoder-input tokens by random text tokens with this probability "
                 "(training)", minimum=0.0, maximum=1.0, sides=frozenset({"decoder"})),
    ),
)

EMBED = ComponentSpec(
    kind="adapter", name="text.embed", modality=None,
    target="polymodal.engine.tokens:TokenEmbedding",
    doc="shared token embedding + learned 1-D positions + slot-type embedding",
    sides=frozenset({"encoder"}),
    options={"space": "text"},
)

LM_HEAD = ComponentSpec(
    kind="head", name="text.lm", modality="TEXT",
    target="polymodal.model.heads:TiedHead",
    doc="decoder token embedding in, tied-embedding logits over the text space (+ specials) out",
    sides=frozenset({"decoder"}),
    options={"space": "text"},
)
