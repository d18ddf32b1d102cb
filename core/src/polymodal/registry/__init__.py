"""The plugin registry: entry-point discovery, lazy handles, and registration from user code."""
from __future__ import annotations

from polymodal.registry.registry import (
    KNOWN_DISTRIBUTIONS, USER_DISTRIBUTION, Handle, Registry, default_registry,
)

__all__ = ["Handle", "Registry", "default_registry", "KNOWN_DISTRIBUTIONS", "USER_DISTRIBUTION"]
