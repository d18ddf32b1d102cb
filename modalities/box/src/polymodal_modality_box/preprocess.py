"""The ``box`` preprocessor: pixels of the original image <-> 4 location tokens of the preprocessed image.

**Which image.** A BOX slot is relative to an IMAGE slot of the same instruction (``requires=("IMAGE",)``). The
image preprocessor leaves its exact transform (resize, crop, flip) in the row's working copy under
``row["__image_transform__"][<image column>]`` (see :mod:`polymodal_modality_image.transform`); the engine runs
encoder slots first and in instruction order, so an encoder BOX after the IMAGE, and every decoder BOX, find it.
With several images, the slot attribute ``image=<column>`` says which.

**Encoding** (``encode`` for an input box, ``target`` for a predicted one): parse the box, map it through the
transform, clip it to the visible image, and quantise each coordinate by its fraction of the preprocessed
content width/height (:class:`~polymodal_modality_box.bins.LocationBins`). A box with NaNs, no area, or nothing
left inside the (cropped) image is a :class:`~polymodal.errors.DataError` naming the column. An input box is
encoded the same way at inference (OFASys dropped it).

**Postprocessing**: 4 tokens -> bins -> the preprocessed frame -> the original image by inverting the transform
the row's image received (at evaluation: the plain resize). ``postprocess`` needs that transform: from the row's
working copy when the engine passes it, otherwise from the size of the row's raw image (the image column seen
while encoding, or ``image=``), which gives the evaluation-time transform.
"""
from __future__ import annotations

import random
from typing import Any, Mapping

from polymodal.errors import DataError
from polymodal.preprocessing import BuildContext, Preprocessor
from polymodal_modality_image.transform import ImageTransform, recorded_transforms

from polymodal_modality_box.bins import Box, LocationBins, parse_box

__all__ = ["BoxPreprocessor"]

_SPACE = "box.loc"


class BoxPreprocessor(Preprocessor):
    """The ``box`` preprocessor and postprocessor (both sides); see the module docstring.

    Slot attributes: ``num_bins`` (default: the whole ``box.loc`` space), ``image`` (the image column).
    """

    def __init__(self, slot: Any, ctx: BuildContext) -> None:
        super().__init__(slot, ctx)
        space = ctx.layout.space(_SPACE)
        self.offset, self.space_size = space.offset, space.size
        num_bins = int(self.attrs.get("num_bins") or space.size)
        if num_bins > space.size:
            raise DataError(f"num_bins={num_bins} exceeds the {space.size} tokens of the '{_SPACE}' space",
                            column=slot.column)
        self.bins = LocationBins(num_bins)
        self.image_column: str | None = self.attrs.get("image")
        self._seen_image: str | None = None  # the image column found while encoding (for postprocess)

    # -- the image this box is relative to --------------------------------------------------------------------
    def transform(self, row: Mapping[str, Any] | None) -> ImageTransform:
        """The transform of the row's image: recorded by its preprocessor, else the evaluation-time one.

        Raises:
            DataError: no image in the row, or several and no ``image=`` attribute to choose.
        """
        notes = recorded_transforms(row)
        column = self.image_column
        if column is not None and column in notes:
            return notes[column]
        if column is None and len(notes) == 1:
            self._seen_image = next(iter(notes))
            return notes[self._seen_image]
        if column is None and len(notes) > 1:
            raise DataError(f"this row has images in columns {', '.join(sorted(notes))}; say which one the box "
                            f"refers to with [BOX:{self.slot.column},image=<column>]", column=self.slot.column)
        column = column or self._seen_image
        if row is not None and column is not None and column in row:
            from polymodal_modality_image.io import read_size

            width, height = read_size(row[column], column=column)
            return ImageTransform.resize(width, height, width, height)
        if row is None:
            raise DataError("cannot map location tokens back to pixels without the row: its image's transform is "
                            "needed (the engine must pass the row, with the notes its preprocessors left, to "
                            "postprocess)", column=self.slot.column)
        raise DataError("no IMAGE was preprocessed before this BOX slot in this row: put the [IMAGE:...] slot "
                        "before the box on the encoder side", column=self.slot.column)

    # -- pixels -> tokens -----------------------------------------------------------------------------------
    def tokens(self, value: Any, row: Mapping[str, Any] | None) -> list[int]:
        """The 4 global token ids of a box given in pixels of the row's original image."""
        box = parse_box(value, self.slot.column)
        t = self.transform(row)
        x0, y0, x1, y1 = t.apply_box(box)
        if x1 - x0 <= 0 or y1 - y0 <= 0:
            where = "the augmented (cropped) image" if (t.offset_x or t.offset_y) else \
                f"the {t.orig_w}x{t.orig_h} image"
            raise DataError(f"the box {tuple(round(c, 2) for c in box)} lies outside {where}",
                            column=self.slot.column)
        return [self.offset + b for b in self.bins.to_bins((x0, y0, x1, y1), t.out_w, t.out_h)]

    def encode(self, value: Any, *, train: bool, rng: random.Random, row: Mapping[str, Any]) -> dict[str, Any]:
        return {"tokens": self.tokens(value, row)}

    def target(self, value: Any, *, train: bool, rng: random.Random, row: Mapping[str, Any]) -> list[int]:
        return self.tokens(value, row)

    # -- tokens -> pixels -----------------------------------------------------------------------------------
    def postprocess(self, tokens: list[int], row: Mapping[str, Any] | None = None) -> list[float] | None:
        """``[x0, y0, x1, y1]`` in pixels of the original image, or ``None`` unless 4 location tokens came."""
        local = [t - self.offset for t in tokens if self.offset <= t < self.offset + self.space_size]
        if len(local) != 4:
            return None
        t = self.transform(row)
        box: Box = t.invert_box(self.bins.from_bins(local, t.out_w, t.out_h))
        return [round(c, 2) for c in box]
