"""Entry-point discovery: one scan of installed distributions' metadata, nothing imported.

``POLYMODAL_LOAD_PLUGINS`` (comma-separated distribution names) restricts discovery to those distributions
(core always loads; an empty value loads no plugin at all). ``POLYMODAL_DISABLE_PLUGINS`` skips the named
distributions. Both apply before any plugin code is imported.
"""
from __future__ import annotations

import importlib.metadata as md
import re
from dataclasses import dataclass
from typing import Iterable, Mapping

from polymodal.components import COMPONENT_KINDS

__all__ = ["EntryRecord", "scan", "CORE_DISTRIBUTION", "parse_plugin_env"]

CORE_DISTRIBUTION = "polymodal"
_GROUP_TO_KIND = {group: kind for kind, group in COMPONENT_KINDS.items()}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class EntryRecord:
    """One entry point as read from metadata."""

    kind: str
    name: str
    distribution: str
    version: str
    target: str
    skip_reason: str | None = None


def parse_plugin_env(env: Mapping[str, str]) -> tuple[set[str] | None, set[str]]:
    """Read the two plugin-selection variables; returns (allowed or None for all, disabled)."""
    load = env.get("POLYMODAL_LOAD_PLUGINS")
    allowed = None if load is None else {_canonical(x.strip()) for x in load.split(",") if x.strip()}
    disabled = {_canonical(x.strip()) for x in env.get("POLYMODAL_DISABLE_PLUGINS", "").split(",") if x.strip()}
    return allowed, disabled


def _api_skip(dist: md.Distribution, core_version: str) -> str | None:
    """Why a distribution cannot work with this core, judged from its declared requirement on core."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.version import Version

    for raw in dist.requires or ():
        try:
            req = Requirement(raw)
        except InvalidRequirement:
            continue
        if _canonical(req.name) != CORE_DISTRIBUTION or req.marker is not None:
            continue
        if req.specifier and not req.specifier.contains(Version(core_version), prereleases=True):
            return (f"requires {CORE_DISTRIBUTION}{req.specifier} but {CORE_DISTRIBUTION} {core_version} is "
                    "installed (incompatible plugin API)")
    return None


def scan(env: Mapping[str, str], core_version: str,
         distributions: Iterable[md.Distribution] | None = None) -> list[EntryRecord]:
    """Read every ``polymodal.*`` entry point of the installed distributions, once.

    Args:
        env: environment (for the plugin-selection variables).
        core_version: the running core's version, to check plugins' declared requirement on core.
        distributions: override for tests; defaults to all installed distributions.
    """
    allowed, disabled = parse_plugin_env(env)
    records: list[EntryRecord] = []
    seen: set[str] = set()
    for dist in distributions if distributions is not None else md.distributions():
        meta_name = dist.metadata["Name"] if dist.metadata else None
        if not meta_name:
            continue
        dist_name = _canonical(meta_name)
        if dist_name in seen:  # the same distribution found twice on sys.path: the first one wins
            continue
        eps = [ep for ep in dist.entry_points if ep.group in _GROUP_TO_KIND]
        if not eps:
            continue
        seen.add(dist_name)
        version = dist.version
        skip = None
        if dist_name != CORE_DISTRIBUTION:
            if dist_name in disabled:
                skip = "disabled by POLYMODAL_DISABLE_PLUGINS"
            elif allowed is not None and dist_name not in allowed:
                skip = "not listed in POLYMODAL_LOAD_PLUGINS"
            else:
                skip = _api_skip(dist, core_version)
        for ep in eps:
            records.append(EntryRecord(_GROUP_TO_KIND[ep.group], ep.name, meta_name, version, ep.value, skip))
    records.sort(key=lambda r: (list(COMPONENT_KINDS).index(r.kind), r.name, r.distribution))
    return records
