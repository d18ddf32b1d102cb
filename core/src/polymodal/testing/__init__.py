"""Test helpers for plugin authors (opt-in: import them in your tests; nothing is auto-loaded).

- :func:`isolated_registry`: a registry with discovery off, holding only the specs you give it.
- :mod:`polymodal.testing.fakes`: tiny stand-in modalities (a whitespace-token TEXT, a fixed-length SPAN) so core
  and plugin tests run without other plugins.
- :mod:`polymodal.testing.contracts`: contract test bases for preprocessors, evaluators and tasks.
"""
from __future__ import annotations

from typing import Any

from polymodal.registry import Registry

__all__ = ["isolated_registry"]


def isolated_registry(*specs: Any, fakes: bool = False) -> Registry:
    """A registry with discovery off, holding ``specs`` (and the fake modalities when ``fakes``)."""
    registry = Registry(discover=False)
    if fakes:
        from polymodal.testing import fakes as fake_mod

        for spec in fake_mod.ALL:
            registry.register(spec)
    for spec in specs:
        registry.register(spec)
    return registry
