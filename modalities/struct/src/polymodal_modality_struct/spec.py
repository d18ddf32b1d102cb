"""Declarations of the STRUCT modality (import-light).

STRUCT slots hold structured values (tables, triple sets, databases, Sudoku grids). They are linearised into
text and share the TEXT modality's tokenizer and token space, so a STRUCT slot costs no new embedding rows.
"""
from __future__ import annotations

from polymodal.components import AttrSpec, ComponentSpec, ModalitySpec

STRUCT = ModalitySpec(
    token="STRUCT",
    doc="tables, triple sets, databases and Sudoku grids, linearised into the text token space",
    default_preprocessor="struct",
    default_adapter="text.embed",
    default_head="struct.lm",
    resource="polymodal_modality_text.tokenizer:TextTokenizer",
)

PREPROCESS = ComponentSpec(
    kind="preprocessor", name="struct", modality="STRUCT",
    target="polymodal_modality_struct.preprocess:StructPreprocessor",
    doc="linearise a structure into text (and parse generated text back into the structure)",
    attributes=(
        AttrSpec("kind", "choice", "which structure the column holds (default: guessed from the value)",
                 choices=("table", "triples", "database", "grid")),
        AttrSpec("max_length", "int", "keep at most this many BPE tokens", minimum=1),
        AttrSpec("uncased", "flag", "lower-case the linearised text", default=False),
        AttrSpec("values", "choice", "database content shown next to columns", default="auto",
                 choices=("none", "matched", "all", "auto"), sides=frozenset({"encoder"})),
        AttrSpec("keeps", "str", "a grid that keeps the given cells of this input column (a Sudoku solution "
                 "keeps its puzzle's clues): decoding forces them and predicts only the blanks",
                 sides=frozenset({"decoder"})),
    ),
)

LM_HEAD = ComponentSpec(
    kind="head", name="struct.lm", modality="STRUCT",
    target="polymodal.model.heads:TiedHead",
    doc="predicts the linearised structure over the text space",
    sides=frozenset({"decoder"}),
    options={"space": "text"},
)
