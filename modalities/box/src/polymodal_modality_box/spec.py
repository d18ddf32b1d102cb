"""Declarations of the BOX modality's components (import-light: no numpy, no OpenCV).

A box ``x0,y0,x1,y1`` (pixels of the row's original image) becomes 4 location tokens of the ``box.loc`` space,
relative to the row's IMAGE *as preprocessed* (after its resize and training augmentation), so a box always
describes what the model sees. On the decoder side the head ``box.head`` makes the decoding program a span of
exactly 4 location tokens; on the encoder side ``box.embed`` embeds them with the shared token embedding, at
training *and* inference (OFASys replaced an input box by the whole image at test time).
"""
from __future__ import annotations

from polymodal.components import AttrSpec, ComponentSpec, ModalitySpec, TokenSpaceSpec

__all__ = ["NUM_BINS", "BOX", "PREPROCESS", "EMBED", "HEAD"]

#: Size of the ``box.loc`` token space (OFA's 1000 location bins).
NUM_BINS = 1000

BOX = ModalitySpec(
    token="BOX",
    doc="a bounding box x0,y0,x1,y1 in pixels of the row's image, as 4 location tokens",
    default_preprocessor="box",
    default_adapter="box.embed",
    default_head="box.head",
    token_spaces=(TokenSpaceSpec("box.loc", NUM_BINS, "location bins: a coordinate's fraction of the "
                                 "preprocessed image's width or height, quantised", ordinal=True, spatial=True),),
    requires=("IMAGE",),
)

PREPROCESS = ComponentSpec(
    kind="preprocessor", name="box", modality="BOX",
    target="polymodal_modality_box.preprocess:BoxPreprocessor",
    doc="box (text 'x0,y0,x1,y1', list, array or dict) -> 4 location tokens relative to the row's image after "
        "its resize and augmentation; tokens -> pixels of the original image",
    attributes=(
        AttrSpec("num_bins", "int", f"location bins used (at most the space's {NUM_BINS})", default=NUM_BINS,
                 minimum=2, maximum=NUM_BINS),
        AttrSpec("image", "str", "the IMAGE column the box refers to (needed only when the instruction has "
                 "several images)"),
    ),
)

EMBED = ComponentSpec(
    kind="adapter", name="box.embed", modality="BOX",
    target="polymodal.engine.tokens:TokenEmbedding",
    doc="input box: its 4 location tokens through the shared token embedding (kept at inference)",
    sides=frozenset({"encoder"}),
    options={"space": "box.loc"},
)

HEAD = ComponentSpec(
    kind="head", name="box.head", modality="BOX",
    target="polymodal.model.heads:TiedHead",
    doc="predicted box: exactly 4 tokens constrained to the slot's num_bins first tokens of the box.loc space, "
        "tied-embedding logits",
    sides=frozenset({"decoder"}),
    options={"space": "box.loc", "length": 4, "size": "num_bins"},
)
