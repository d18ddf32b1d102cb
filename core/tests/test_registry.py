from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from polymodal.components import ComponentSpec, EvaluatorSpec, ModalitySpec
from polymodal.errors import PluginError
from polymodal.registry import Registry
from polymodal.registry.discovery import EntryRecord, parse_plugin_env


def record(kind="evaluator", name="acc", dist="polymodal-x", target="json:dumps", skip=None):
    return EntryRecord(kind, name, dist, "0.1.0", target, skip)


def test_lazy_handle_imports_on_first_use():
    reg = Registry(discover=False, records=[record(target="polymodal.testing.fakes:TEXT", kind="modality",
                                                   name="text")])
    handle = reg.handle("modality", "text")
    assert not handle._loaded
    assert isinstance(reg.get("modality", "text"), ModalitySpec)
    assert handle._loaded


def test_broken_plugin_is_reported_and_skipped():
    reg = Registry(discover=False, records=[record(target="no_such_module_xyz:SPEC", name="broken"),
                                            record(target="polymodal.testing.fakes:TEXT", kind="modality",
                                                   name="text")])
    with pytest.raises(PluginError) as info:
        reg.get("evaluator", "broken")
    assert "ModuleNotFoundError" in str(info.value)
    assert reg.handle("evaluator", "broken").status == "error"
    assert reg.modality("TEXT") is not None  # the rest keeps working


def test_wrong_spec_type_and_api_version():
    reg = Registry(discover=False, records=[record(target="polymodal.testing.fakes:TEXT", name="wrongtype")])
    with pytest.raises(PluginError, match="expected a EvaluatorSpec"):
        reg.get("evaluator", "wrongtype")
    with pytest.raises(PluginError, match="plugin API 99"):
        reg.register(EvaluatorSpec("future", "json:dumps", plugin_api=99))


def test_env_selection():
    assert parse_plugin_env({"POLYMODAL_LOAD_PLUGINS": "polymodal-modality-text, Foo_Bar"}) == (
        {"polymodal-modality-text", "foo-bar"}, set())
    assert parse_plugin_env({"POLYMODAL_DISABLE_PLUGINS": "a,b"}) == (None, {"a", "b"})
    assert parse_plugin_env({"POLYMODAL_LOAD_PLUGINS": ""}) == (set(), set())


def test_register_from_user_code_and_suggestions():
    reg = Registry(discover=False)
    reg.register(ComponentSpec("preprocessor", "mine", None, "json:dumps"))
    assert reg.names("preprocessor") == ["mine"]
    assert reg.handle("preprocessor", "mine").distribution == "<registered in code>"
    with pytest.raises(PluginError, match="did you mean 'mine'"):
        reg.get("preprocessor", "mina")


def _fake_site(tmp_path: Path, requires: str = "") -> Path:
    site = tmp_path / "site"
    info = site / "polymodal_broken-0.3.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: polymodal-broken\nVersion: 0.3\n{requires}")
    (info / "entry_points.txt").write_text("[polymodal.evaluators]\nboom = polymodal_broken_mod:SPEC\n")
    (site / "polymodal_broken_mod.py").write_text("raise RuntimeError('this plugin is broken on purpose')\n")
    return site


def _cli(args, site: Path | None = None, env_extra=None):
    env = dict(os.environ)
    if site is not None:
        env["PYTHONPATH"] = str(site) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "polymodal.cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_cli_lists_broken_plugin_with_its_error_and_plan_still_works(tmp_path):
    site = _fake_site(tmp_path)
    out = _cli(["plugins", "--json", "--verify"], site)
    assert out.returncode == 0, out.stderr
    rows = {(r["kind"], r["name"]): r for r in json.loads(out.stdout)}
    boom = rows[("evaluator", "boom")]
    assert boom["distribution"] == "polymodal-broken" and boom["version"] == "0.3"
    assert boom["status"].startswith("error: RuntimeError: this plugin is broken on purpose")
    assert rows[("generator", "greedy")]["status"] == "ok"
    assert rows[("generator", "greedy")]["distribution"] == "polymodal"


def test_incompatible_plugin_api_is_skipped_from_metadata(tmp_path):
    site = _fake_site(tmp_path, "Requires-Dist: polymodal<0.1\n")
    out = _cli(["plugins", "--json"], site)
    row = next(r for r in json.loads(out.stdout) if r["name"] == "boom")
    assert row["status"].startswith("skipped: requires polymodal<0.1")


def test_disable_env_skips_before_import(tmp_path):
    site = _fake_site(tmp_path)
    out = _cli(["plugins", "--json", "--verify"], site, {"POLYMODAL_DISABLE_PLUGINS": "polymodal-broken"})
    row = next(r for r in json.loads(out.stdout) if r["name"] == "boom")
    assert row["status"] == "skipped: disabled by POLYMODAL_DISABLE_PLUGINS"


def test_listing_and_compiling_do_not_import_torch():
    code = textwrap.dedent("""
        import sys, json
        from polymodal.registry import default_registry
        from polymodal.testing import isolated_registry
        import polymodal
        reg = default_registry()
        [h.as_row() for h in reg.handles()]
        plan = polymodal.compile("[TEXT:a,max_length=4] -> [TEXT:b,closed_set]", isolated_registry(fakes=True))
        print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'numpy', 'tokenizers'))))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert [m for m in json.loads(out.stdout) if m.startswith("torch")] == []
