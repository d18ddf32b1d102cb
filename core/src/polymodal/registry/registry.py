"""The component registry: lazy handles over entry points, plus components registered from user code.

A :class:`Handle` knows its kind, name, distribution, version and target from metadata alone; its spec object is
imported the first time something asks for it. A plugin whose import fails, or that declares an incompatible
plugin API, is marked with the reason and skipped: core keeps working.
"""
from __future__ import annotations

import difflib
import os
import threading
import traceback
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from polymodal.components import (
    COMPONENT_KINDS, PLUGIN_API, ComponentSpec, EvaluatorSpec, ModalitySpec, TaskSpec, resolve_target,
)
from polymodal.errors import PluginError
from polymodal.registry.discovery import CORE_DISTRIBUTION, EntryRecord, scan

__all__ = ["Handle", "Registry", "default_registry", "USER_DISTRIBUTION", "KNOWN_DISTRIBUTIONS"]

USER_DISTRIBUTION = "<registered in code>"

#: Where to get modalities that are not installed (a hint table, not a list of what may exist).
KNOWN_DISTRIBUTIONS = {
    "TEXT": "polymodal-modality-text", "IMAGE": "polymodal-modality-image", "BOX": "polymodal-modality-box",
    "AUDIO": "polymodal-modality-audio", "PHONE": "polymodal-modality-audio",
    "VIDEO": "polymodal-modality-video", "MOTION": "polymodal-modality-motion",
    "STRUCT": "polymodal-modality-struct",
}

_SPEC_TYPES = {"modality": ModalitySpec, "preprocessor": ComponentSpec, "adapter": ComponentSpec,
               "head": ComponentSpec, "generator": ComponentSpec, "evaluator": EvaluatorSpec, "task": TaskSpec}


@dataclass
class Handle:
    """A registered component, imported on first use."""

    kind: str
    name: str
    distribution: str
    version: str
    target: str
    status: str = "ok"  # "ok", "skipped", "error"
    reason: str | None = None
    _obj: Any = field(default=None, repr=False)
    _loaded: bool = field(default=False, repr=False)

    @property
    def usable(self) -> bool:
        return self.status == "ok"

    def load(self) -> Any:
        """Import and return the spec object (or the hook module); raise :class:`PluginError` if unusable."""
        if self._loaded:
            return self._obj
        if self.status != "ok":
            raise PluginError(self._describe_failure())
        try:
            obj = resolve_target(self.target) if isinstance(self.target, str) else self.target
        except Exception as exc:  # a broken plugin must never take core down
            self.status, self.reason = "error", f"{type(exc).__name__}: {exc}"
            self._trace = traceback.format_exc()
            raise PluginError(self._describe_failure()) from exc
        expected = _SPEC_TYPES.get(self.kind)
        if expected is not None and not isinstance(obj, expected):
            self.status = "error"
            self.reason = f"entry point names a {type(obj).__name__}, expected a {expected.__name__}"
            raise PluginError(self._describe_failure())
        api = getattr(obj, "plugin_api", PLUGIN_API)
        if api != PLUGIN_API:
            self.status = "skipped"
            self.reason = f"written for plugin API {api}; this core provides API {PLUGIN_API}"
            raise PluginError(self._describe_failure())
        self._obj, self._loaded = obj, True
        return obj

    def verify(self) -> None:
        """Import the spec and its implementation target too (``polymodal plugins --verify``)."""
        obj = self.load()
        target = getattr(obj, "target", None)
        if isinstance(target, str):
            try:
                resolve_target(target)
            except Exception as exc:
                self.status, self.reason = "error", f"target {target}: {type(exc).__name__}: {exc}"
                raise PluginError(self._describe_failure()) from exc

    def _describe_failure(self) -> str:
        return (f"{self.kind} '{self.name}' from {self.distribution} {self.version} is unusable "
                f"({self.status}: {self.reason})")

    def as_row(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "distribution": self.distribution,
                "version": self.version, "target": self.target if isinstance(self.target, str) else
                f"{type(self.target).__module__}.{type(self.target).__qualname__}",
                "status": self.status if self.reason is None else f"{self.status}: {self.reason}"}


class Registry:
    """Components by kind and name.

    Args:
        discover: scan installed entry points (``False`` for an isolated registry in tests).
        env: environment mapping for ``POLYMODAL_LOAD_PLUGINS`` / ``POLYMODAL_DISABLE_PLUGINS``.
        records: pre-read entry records (tests).
    """

    def __init__(self, discover: bool = True, env: Mapping[str, str] | None = None,
                 records: Iterable[EntryRecord] | None = None) -> None:
        from polymodal import __version__

        self._by_kind: dict[str, dict[str, Handle]] = {k: {} for k in COMPONENT_KINDS}
        self._shadowed: list[Handle] = []
        if records is None and discover:
            records = scan(os.environ if env is None else env, __version__)
        for rec in records or ():
            handle = Handle(rec.kind, rec.name, rec.distribution, rec.version, rec.target)
            if rec.skip_reason:
                handle.status, handle.reason = "skipped", rec.skip_reason
            self._add(handle)
        self._hooks = None
        self._lock = threading.Lock()

    # -- adding --------------------------------------------------------------------------------------------
    def _add(self, handle: Handle) -> None:
        table = self._by_kind[handle.kind]
        old = table.get(handle.name)
        if old is not None and old.usable and not handle.usable:
            self._shadowed.append(handle)
            return
        if old is not None:
            self._shadowed.append(old)
        table[handle.name] = handle

    def register(self, obj: Any, *, name: str | None = None, kind: str | None = None) -> Handle:
        """Register a component or task from user code, without a package.

        Args:
            obj: a :class:`ModalitySpec`, :class:`ComponentSpec`, :class:`EvaluatorSpec` or :class:`TaskSpec`
                (or, with ``kind="hooks"``, an object carrying pluggy hook implementations).
            name: registry name; defaults to the spec's own name (a modality's is its token in lower case).
            kind: needed only for hooks; otherwise inferred from the spec type.
        """
        if kind is None:
            if isinstance(obj, ModalitySpec):
                kind = "modality"
            elif isinstance(obj, ComponentSpec):
                kind = obj.kind
            elif isinstance(obj, EvaluatorSpec):
                kind = "evaluator"
            elif isinstance(obj, TaskSpec):
                kind = "task"
            else:
                raise PluginError(f"cannot register a {type(obj).__name__}: pass a spec from polymodal.components "
                                  "or kind='hooks'")
        if kind not in COMPONENT_KINDS:
            raise PluginError(f"unknown component kind {kind!r}; kinds are {', '.join(COMPONENT_KINDS)}")
        if name is None:
            name = obj.token.lower() if isinstance(obj, ModalitySpec) else getattr(obj, "name", None)
        if not name:
            raise PluginError(f"a {kind} needs a name")
        handle = Handle(kind, name, USER_DISTRIBUTION, "-", obj, _obj=obj, _loaded=True)
        if kind != "hooks":
            api = getattr(obj, "plugin_api", PLUGIN_API)
            if api != PLUGIN_API:
                raise PluginError(f"{kind} '{name}' is written for plugin API {api}; this core provides {PLUGIN_API}")
        self._add(handle)
        if kind == "hooks" and self._hooks is not None:
            self._hooks.register_object(obj, name)
        return handle

    # -- reading -------------------------------------------------------------------------------------------
    def handles(self, kind: str | None = None) -> list[Handle]:
        kinds = [kind] if kind else list(COMPONENT_KINDS)
        out = [h for k in kinds for h in self._by_kind[k].values()]
        out += [h for h in self._shadowed if kind is None or h.kind == kind]
        return out

    def names(self, kind: str) -> list[str]:
        return sorted(n for n, h in self._by_kind[kind].items() if h.usable)

    def has(self, kind: str, name: str) -> bool:
        handle = self._by_kind[kind].get(name)
        return handle is not None and handle.usable

    def handle(self, kind: str, name: str) -> Handle:
        handle = self._by_kind[kind].get(name)
        if handle is None:
            raise PluginError(self.missing_message(kind, name))
        return handle

    def get(self, kind: str, name: str) -> Any:
        """Return the spec object of a component, importing its module on first use."""
        return self.handle(kind, name).load()

    def missing_message(self, kind: str, name: str) -> str:
        names = self.names(kind)
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
        msg = f"no {kind} named '{name}' is installed"
        if close:
            msg += f"; did you mean {' or '.join(repr(c) for c in close)}?"
        msg += f" (installed: {', '.join(names) if names else 'none'})"
        return msg

    def modality(self, token: str) -> ModalitySpec | None:
        """The modality spec for a slot type, or ``None`` if no usable plugin provides it."""
        handle = self._by_kind["modality"].get(token.lower())
        if handle is None or not handle.usable:
            return None
        try:
            spec = handle.load()
        except PluginError:
            return None
        return spec if spec.token == token else None

    def modality_tokens(self) -> list[str]:
        return sorted(n.upper() for n in self.names("modality"))

    def distribution_of(self, kind: str, name: str) -> str:
        handle = self._by_kind[kind].get(name)
        return "?" if handle is None else handle.distribution

    def task(self, name: str) -> TaskSpec:
        """A task preset by name or alias."""
        if self.has("task", name):
            return self.get("task", name)
        for task_name in self.names("task"):
            try:
                spec = self.get("task", task_name)
            except PluginError:
                continue
            if name in spec.aliases:
                return spec
        raise PluginError(self.missing_message("task", name))

    @property
    def hooks(self):
        """The typed hook facade (created, and hook plugins imported, on first use)."""
        with self._lock:
            if self._hooks is None:
                from polymodal.hooks.facade import Hooks

                self._hooks = Hooks(self)
        return self._hooks


_DEFAULT: Registry | None = None
_DEFAULT_LOCK = threading.Lock()


def default_registry() -> Registry:
    """The process-wide registry, scanned once."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = Registry()
        return _DEFAULT


def _reset_default_registry() -> None:
    """Forget the process-wide registry (tests that change the environment)."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        _DEFAULT = None
