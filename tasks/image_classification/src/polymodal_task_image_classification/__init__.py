"""Image classification for polymodal (see README): the ``image_classification`` preset (alias
``image_classify``), an ImageNet-style class-folder loader, toy shape-colour classes and the real digits."""
from __future__ import annotations

__version__ = "0.1.0"
