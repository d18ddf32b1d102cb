"""polymodal: multi-modal multi-task learning with one-line instructions.

Light to import: the heavy parts (torch) load only when a model, trainer or generator is used.
"""
from __future__ import annotations

from typing import Any

from polymodal.errors import DataError, InstructionError, PlanError, PluginError, PolymodalError

__version__ = "0.1.0"

__all__ = [
    "__version__", "compile", "register", "InstructionError", "PlanError", "DataError", "PluginError",
    "PolymodalError", "Task", "GeneralistModel", "Trainer", "TrainerConfig",
]

_LAZY = {
    "Task": "polymodal.api.task:Task",
    "GeneralistModel": "polymodal.api.model:GeneralistModel",
    "Trainer": "polymodal.training.trainer:Trainer",
    "TrainerConfig": "polymodal.training.config:TrainerConfig",
}


def compile(instruction: str, registry: Any = None):  # noqa: A001 - the verb users expect
    """Compile an instruction into a :class:`polymodal.planning.Plan` (see :func:`polymodal.planning.compile`)."""
    from polymodal.planning.planner import compile_instruction

    return compile_instruction(instruction, registry)


def register(obj: Any, *, name: str | None = None, kind: str | None = None):
    """Register a component or task spec from user code into the process registry."""
    from polymodal.registry import default_registry

    return default_registry().register(obj, name=name, kind=kind)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from polymodal.components import resolve_target

        return resolve_target(_LAZY[name])
    raise AttributeError(f"module 'polymodal' has no attribute {name!r}")
