"""Image captioning for polymodal (see README): the ``caption`` task preset, COCO/Karpathy loader, toy scenes."""
from __future__ import annotations

__version__ = "0.1.0"
