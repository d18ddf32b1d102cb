"""polymodal-plugin-metrics: the shared pack of corpus-level evaluators for polymodal.

The evaluators are published through the ``polymodal.evaluators`` entry-point group (see :mod:`.spec`)
and are plain functions ``fn(predictions, references, **options) -> dict[str, float]`` living in small
modules named for what they measure (``matching``, ``classification``, ``regression``, ``overlap``,
``cider``, ``boxes``, ``detection``, ``error_rates``). This package imports none of them, nor any scorer
library, so that listing plugins stays cheap; import the module you need, or load a spec's target.
"""
from __future__ import annotations

__version__ = "0.1.0"
