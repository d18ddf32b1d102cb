"""Visual grounding for polymodal (see README): the ``visual_grounding`` preset (alias ``refcoco``), RefCOCO JSON
loader, toy scenes with unique referring expressions."""
from __future__ import annotations

__version__ = "0.1.0"
