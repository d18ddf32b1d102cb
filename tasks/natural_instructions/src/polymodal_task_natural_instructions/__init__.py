"""polymodal-task-natural-instructions: Natural-Instructions v2 (follow a definition and examples).

Spec in :mod:`.task`, the NIv2 loader and toy data in :mod:`.data`, the toy families in :mod:`.families`,
per-task exact match in :mod:`.evaluate`.
"""
from __future__ import annotations

__version__ = "0.1.0"
