"""Every pluggy hook specification of polymodal, in one place.

Plugins implement them with ``@polymodal.hooks.hookimpl`` in a module (or object) named by an entry point of the
``polymodal.hooks`` group. Core calls them only through :class:`polymodal.hooks.facade.Hooks`.
"""
from __future__ import annotations

from typing import Any

import pluggy

PROJECT = "polymodal"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def polymodal_register_slot_attributes(modality: str, side: str) -> list[Any]:
    """Declare extra slot attributes that a hook plugin consumes.

    Args:
        modality: the slot's modality token (``"TEXT"``).
        side: ``"encoder"`` or ``"decoder"``.

    Returns:
        A list of :class:`polymodal.components.AttrSpec` (may be empty).

    Since: 0.1
    """


@hookspec(firstresult=True)
def polymodal_choose_preprocessor(modality: str, side: str, attributes: dict) -> str | None:
    """Pick a preprocessor for a slot that has no ``preprocess=`` attribute; ``None`` leaves the default.

    Since: 0.1
    """


@hookspec(firstresult=True)
def polymodal_choose_adapter(modality: str, side: str, attributes: dict) -> str | None:
    """Pick the adapter (encoder side) or head (decoder side) of a slot without ``adapter=``.

    Since: 0.1
    """


@hookspec
def polymodal_before_train_step(trainer: Any, step: int, tasks: list[str]) -> None:
    """Called before each optimiser step.

    Since: 0.1
    """


@hookspec
def polymodal_after_train_step(trainer: Any, step: int, losses: dict) -> None:
    """Called after each optimiser step with the per-task losses.

    Since: 0.1
    """


@hookspec
def polymodal_after_evaluate(trainer: Any, step: int, task: str, metrics: dict) -> None:
    """Called after a task is evaluated, with its corpus-level metrics.

    Since: 0.1
    """


@hookspec
def polymodal_save_example(plan: Any, row: dict, prediction: dict, path_stem: str) -> list[str] | None:
    """Write a picture (or sound) of one prediction, for people to look at (the demo's examples).

    Args:
        plan: the :class:`~polymodal.planning.plan.Plan` of the instruction.
        row: the input row.
        prediction: the predicted values by column.
        path_stem: where to write, without extension (add your own, e.g. ``.png``).

    Returns:
        The paths written, or None when this plugin has nothing to show for the plan.

    Since: 0.1
    """


@hookspec
def polymodal_add_cli_commands(subparsers: Any) -> None:
    """Add sub-commands to the ``polymodal`` command line (``subparsers`` from argparse).

    Since: 0.1
    """
