"""Behaviour hooks (pluggy): specifications in :mod:`polymodal.hooks.specs`, called through
:class:`polymodal.hooks.facade.Hooks`. Implement them with :data:`hookimpl`."""
from __future__ import annotations

from polymodal.hooks.specs import hookimpl

__all__ = ["hookimpl"]
