"""A typed facade over the pluggy hook relay: one method per hook, so core never calls hooks by string."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

from polymodal.errors import PluginError
from polymodal.hooks import specs

if TYPE_CHECKING:
    from polymodal.registry import Registry


class Hooks:
    """Loads the ``polymodal.hooks`` plugins of a registry and calls them.

    A hook plugin that fails to import, or implements a hook that does not exist, is marked as an error in the
    registry and unregistered; the others keep working.
    """

    def __init__(self, registry: "Registry") -> None:
        self._pm = pluggy.PluginManager(specs.PROJECT)
        self._pm.add_hookspecs(specs)
        for handle in registry.handles("hooks"):
            if not handle.usable:
                continue
            try:
                obj = handle.load()
            except PluginError:
                continue
            self.register_object(obj, f"{handle.distribution}:{handle.name}", handle)

    def register_object(self, obj: Any, name: str, handle: Any = None) -> None:
        try:
            self._pm.register(obj, name=name)
            self._pm.check_pending()
        except Exception as exc:  # pluggy raises PluginValidationError for unknown hooks
            if self._pm.is_registered(obj):
                self._pm.unregister(obj)
            if handle is not None:
                handle.status, handle.reason = "error", f"{type(exc).__name__}: {exc}"
            else:
                raise PluginError(f"hook plugin {name} is invalid: {exc}") from exc

    def slot_attributes(self, modality: str, side: str) -> list[Any]:
        out: list[Any] = []
        for result in self._pm.hook.polymodal_register_slot_attributes(modality=modality, side=side):
            out.extend(result or ())
        return out

    def choose_preprocessor(self, modality: str, side: str, attributes: dict) -> str | None:
        return self._pm.hook.polymodal_choose_preprocessor(modality=modality, side=side, attributes=attributes)

    def choose_adapter(self, modality: str, side: str, attributes: dict) -> str | None:
        return self._pm.hook.polymodal_choose_adapter(modality=modality, side=side, attributes=attributes)

    def before_train_step(self, trainer: Any, step: int, tasks: list[str]) -> None:
        self._pm.hook.polymodal_before_train_step(trainer=trainer, step=step, tasks=tasks)

    def after_train_step(self, trainer: Any, step: int, losses: dict) -> None:
        self._pm.hook.polymodal_after_train_step(trainer=trainer, step=step, losses=losses)

    def after_evaluate(self, trainer: Any, step: int, task: str, metrics: dict) -> None:
        self._pm.hook.polymodal_after_evaluate(trainer=trainer, step=step, task=task, metrics=metrics)

    def save_example(self, plan: Any, row: dict, prediction: dict, path_stem: str) -> list[str]:
        written: list[str] = []
        for result in self._pm.hook.polymodal_save_example(plan=plan, row=row, prediction=prediction,
                                                           path_stem=path_stem):
            written.extend(result or ())
        return written

    def add_cli_commands(self, subparsers: Any) -> None:
        self._pm.hook.polymodal_add_cli_commands(subparsers=subparsers)
