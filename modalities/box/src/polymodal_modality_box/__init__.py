"""The BOX modality of polymodal (see README). Import-light: heavy parts live in their own modules.

- :mod:`~polymodal_modality_box.spec`: the component declarations (entry points);
- :mod:`~polymodal_modality_box.bins`: parsing boxes and the pixel <-> location-bin arithmetic;
- :mod:`~polymodal_modality_box.preprocess`: the ``box`` preprocessor and postprocessor;
- :mod:`~polymodal_modality_box.draw`: :func:`save_box`, drawing boxes on an image into a PNG.
"""
from __future__ import annotations

__version__ = "0.1.0"


def save_box(*args, **kwargs):  # a thin lazy re-export: OpenCV is imported only when drawing
    """Draw boxes on an image and write a PNG (see :func:`polymodal_modality_box.draw.save_box`)."""
    from polymodal_modality_box.draw import save_box as _save_box

    return _save_box(*args, **kwargs)
