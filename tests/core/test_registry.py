"""Plugin discovery and resolution: which plugins start, in which order, and why not (DESIGN §2).

The misfit plugins in ``tests/misfits`` are wrong on purpose; they are not installed, so each test
builds their entry points and adds them to the installed ones (the example distribution).
"""

from __future__ import annotations

import importlib
import sys
from importlib import metadata
from pathlib import Path

import pytest

import totetaxi_core
from totetaxi_core.errors import PluginError, SettingsError, StartupError
from totetaxi_core.platform import prepare
from totetaxi_core.plugins import ENTRY_POINT_GROUP, PluginSet, discover
from totetaxi_core.testing import base_settings
from totetaxi_core.version import __version__

MISFITS = (
    "cycle_a",
    "cycle_b",
    "needs_missing",
    "needs_example",
    "needs_broken",
    "needs_slot",
    "needs_mailer",
    "provider_one",
    "provider_two",
    "future_core",
    "bad_core_spec",
    "dev_mock",
    "chain_a",
    "chain_b",
    "chain_c",
    "pair_glue",
    "wrong_name",
    "outside_prefix",
    "broken",
    "broken_import",
    "no_manifest",
    "no_includeme",
)

INSTALLED = "installed: totetaxi-example 1.0.0 (example, example_glue)"


def installed_eps() -> list[metadata.EntryPoint]:
    """The example distribution's entry points only: other installed plugins (plugins/*) must
    not change what these tests expect."""
    return [
        ep
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)
        if ep.dist is not None and ep.dist.metadata["Name"] == "totetaxi-example"
    ]


def misfit_eps(*names: str) -> list[metadata.EntryPoint]:
    return [
        metadata.EntryPoint(name=name, value=f"misfits.{name}", group=ENTRY_POINT_GROUP)
        for name in names or MISFITS
    ]


def all_eps() -> list[metadata.EntryPoint]:
    return installed_eps() + misfit_eps()


@pytest.fixture(scope="module")
def everything() -> PluginSet:
    return discover(all_eps())


def resolve(plugins: PluginSet, *requested: str, **kwargs) -> list[str]:
    kwargs.setdefault("core_version", __version__)
    return [p.name for p in plugins.resolve(list(requested), **kwargs)]


def refusal(plugins: PluginSet, *requested: str, **kwargs) -> PluginError:
    kwargs.setdefault("core_version", __version__)
    with pytest.raises(PluginError) as info:
        plugins.resolve(list(requested), **kwargs)
    assert isinstance(info.value, StartupError)
    return info.value


def only_problem(exc: StartupError) -> str:
    assert len(exc.problems) == 1, exc.problems
    return exc.problems[0]


@pytest.fixture
def url(tmp_path) -> str:
    return "sqlite:///" + str(tmp_path / "x.sqlite")


# --- the test set-up itself ---


def test_misfits_package_is_importable_from_the_tests_folder():
    tests_dir = Path(__file__).resolve().parents[1]
    assert str(tests_dir) in [str(Path(p).resolve()) for p in sys.path if p]
    module = importlib.import_module("misfits.cycle_a")
    assert module.manifest.name == "cycle_a"
    assert module.manifest.depends == ("cycle_b",)


def test_the_example_distribution_is_installed():
    names = {(ep.name, ep.value) for ep in installed_eps()}
    assert ("example", "totetaxi_example") in names
    assert ("example_glue", "totetaxi_example.glue") in names


# --- discovery ---


def test_discover_finds_the_installed_plugins_with_their_distribution():
    plugins = discover(installed_eps())
    assert [p.name for p in plugins] == ["example", "example_glue"]
    example = plugins["example"]
    assert example.loaded and example.error is None
    assert example.distribution == "totetaxi-example"
    assert example.distribution_version == "1.0.0"
    assert example.entry_point == "totetaxi_example"
    assert example.manifest.name == "example"
    assert "example_glue" in plugins and "nonexistent" not in plugins


def test_discover_survives_plugins_that_fail_to_import(everything):
    assert [p.name for p in everything] == sorted(["example", "example_glue", *MISFITS])
    for name in ("broken", "broken_import", "wrong_name", "no_manifest", "no_includeme"):
        assert not everything[name].loaded, name
        assert everything[name].error, name
    assert everything["example"].loaded
    assert everything["cycle_a"].loaded


def test_import_error_is_recorded_with_type_message_and_place(everything):
    error = everything["broken"].error
    assert error.startswith("ValueError: misfit plugin broken exploded on purpose (at ")
    assert "broken.py:" in error
    error = everything["broken_import"].error
    assert error.startswith(
        "ModuleNotFoundError: No module named 'totetaxi_no_such_module_anywhere'"
    )


def test_entry_point_to_a_missing_module_is_recorded():
    plugins = discover(
        [metadata.EntryPoint(name="ghost", value="misfits.ghost", group=ENTRY_POINT_GROUP)]
    )
    assert not plugins["ghost"].loaded
    assert plugins["ghost"].error.startswith("ModuleNotFoundError: No module named 'misfits.ghost'")


def test_manifest_name_must_match_the_entry_point_name(everything):
    plugin = everything["wrong_name"]
    assert not plugin.loaded
    assert "'right_name'" in plugin.error and "'wrong_name'" in plugin.error


def test_module_without_manifest_or_includeme_is_not_loaded(everything):
    assert "misfits.no_manifest has no 'manifest'" in everything["no_manifest"].error
    assert "misfits.no_includeme has no includeme(config)" in everything["no_includeme"].error


# --- resolution: the happy path ---


def test_example_brings_its_auto_install_glue():
    assert resolve(discover(installed_eps()), "example") == ["example", "example_glue"]


def test_nothing_requested_enables_nothing(everything):
    assert resolve(everything) == []


def test_dependencies_come_first_in_a_chain(everything):
    assert resolve(everything, "chain_c") == ["chain_a", "chain_b", "chain_c"]


def test_requested_order_is_kept_where_dependencies_allow(everything):
    assert resolve(everything, "chain_c", "example") == [
        "chain_a",
        "chain_b",
        "chain_c",
        "example",
        "example_glue",
    ]
    assert resolve(everything, "example", "chain_b") == [
        "example",
        "chain_a",
        "chain_b",
        "example_glue",
    ]


def test_dependency_is_enabled_automatically(everything):
    assert resolve(everything, "needs_example") == ["example", "needs_example", "example_glue"]


def test_glue_waits_for_all_of_its_dependencies(everything):
    assert "pair_glue" not in resolve(everything, "example")
    assert "pair_glue" not in resolve(everything, "provider_one")
    order = resolve(everything, "provider_one", "example")
    assert set(order) == {"provider_one", "example", "example_glue", "pair_glue"}
    assert order.index("pair_glue") > order.index("provider_one")
    assert order.index("pair_glue") > order.index("example")


def test_required_slot_filled_by_an_enabled_provider(everything):
    assert resolve(everything, "needs_mailer", "provider_two") == ["needs_mailer", "provider_two"]


def test_broken_plugin_that_is_not_enabled_does_not_stop_start_up(everything, url):
    assert resolve(everything, "example") == ["example", "example_glue"]
    platform = prepare(base_settings(url), environ={}, entry_points=all_eps())
    assert platform.enabled_names == ["example", "example_glue"]
    assert not platform.discovered["broken"].loaded
    assert "misfit plugin broken exploded on purpose" in platform.discovered["broken"].error


# --- resolution: refusals ---


def test_unknown_plugin_names_it_and_the_installed_distributions():
    exc = refusal(discover(installed_eps()), "example", "nonexistent")
    assert only_problem(exc) == (
        "Unknown plugin 'nonexistent' in totetaxi.plugins: no installed distribution provides it "
        f"({INSTALLED})."
    )


def test_unknown_plugin_when_nothing_is_installed():
    exc = refusal(discover([]), "example")
    assert only_problem(exc) == (
        "Unknown plugin 'example' in totetaxi.plugins: no installed distribution provides it "
        "(no plugin distributions are installed)."
    )


def test_missing_dependency_names_plugin_and_dependency(everything):
    sentence = only_problem(refusal(everything, "needs_missing"))
    assert sentence.startswith(
        "Plugin 'needs_missing' depends on 'no_such_plugin', which is not installed"
    )


@pytest.mark.parametrize(
    ("requested", "cycle"),
    [("cycle_a", "cycle_a -> cycle_b -> cycle_a"), ("cycle_b", "cycle_b -> cycle_a -> cycle_b")],
)
def test_dependency_cycle_is_named(everything, requested, cycle):
    sentence = only_problem(refusal(everything, requested))
    assert sentence.startswith(f"Plugins {cycle} depend on each other in a cycle")


def test_required_slot_without_provider(everything):
    sentence = only_problem(refusal(everything, "needs_slot"))
    assert sentence == (
        "Plugin 'needs_slot' requires the 'teleporter' slot, but no enabled plugin provides it; "
        "no installed plugin provides it."
    )


def test_required_slot_names_installed_providers(everything):
    sentence = only_problem(refusal(everything, "needs_mailer"))
    assert sentence == (
        "Plugin 'needs_mailer' requires the 'mailer' slot, but no enabled plugin provides it; "
        "enable one of: provider_one, provider_two."
    )


def test_two_providers_of_one_slot(everything):
    sentence = only_problem(refusal(everything, "provider_two", "provider_one"))
    assert sentence.startswith(
        "Plugins 'provider_one' and 'provider_two' both provide the 'mailer' slot"
    )


def test_core_version_outside_the_plugin_specifier(everything):
    sentence = only_problem(refusal(everything, "future_core"))
    assert sentence.startswith(
        f"Plugin 'future_core' 1.0 needs totetaxi-core >=99, but this is totetaxi-core "
        f"{__version__};"
    )


def test_example_refused_by_a_core_it_was_not_made_for():
    exc = refusal(discover(installed_eps()), "example", core_version="2.0.0")
    assert [p.split(";")[0] for p in exc.problems] == [
        "Plugin 'example' 1.0.0 needs totetaxi-core >=1.0,<2, but this is totetaxi-core 2.0.0",
        "Plugin 'example_glue' 1.0.0 needs totetaxi-core >=1.0,<2, but this is totetaxi-core 2.0.0",
    ]
    plugins = discover(installed_eps())
    assert resolve(plugins, "example", core_version="1.9.3") == ["example", "example_glue"]


def test_invalid_core_specifier(everything):
    sentence = only_problem(refusal(everything, "bad_core_spec"))
    assert sentence == "Plugin 'bad_core_spec' declares an invalid core specifier 'one point oh'."


def test_development_only_plugin_refused_in_production(everything):
    sentence = only_problem(refusal(everything, "dev_mock", environment="production"))
    assert sentence.startswith(
        "Plugin 'dev_mock' is for development only and cannot be enabled when "
        "totetaxi.environment = production"
    )
    assert "mock_slot" in sentence


@pytest.mark.parametrize("environment", ["development", "test"])
def test_development_only_plugin_allowed_outside_production(everything, environment):
    assert resolve(everything, "dev_mock", environment=environment) == ["dev_mock"]


def test_enabled_plugin_that_fails_to_import(everything):
    sentence = only_problem(refusal(everything, "example", "broken"))
    assert sentence.startswith(
        "Plugin 'broken' (distribution ? ?) failed to import: "
        "ValueError: misfit plugin broken exploded on purpose"
    )
    assert "broken.py:" in sentence


def test_dependency_that_fails_to_import(everything):
    sentence = only_problem(refusal(everything, "needs_broken"))
    assert "Plugin 'broken'" in sentence
    assert "ValueError: misfit plugin broken exploded on purpose" in sentence


def test_enabled_plugin_with_a_missing_import(everything):
    sentence = only_problem(refusal(everything, "broken_import"))
    assert "Plugin 'broken_import'" in sentence
    assert "ModuleNotFoundError: No module named 'totetaxi_no_such_module_anywhere'" in sentence


def test_enabled_plugin_with_the_wrong_manifest_name(everything):
    sentence = only_problem(refusal(everything, "wrong_name"))
    assert sentence.startswith("Plugin 'wrong_name'")
    assert "'right_name'" in sentence


def test_several_problems_are_reported_together(everything):
    exc = refusal(everything, "nonexistent", "needs_missing", "broken", "example")
    assert len(exc.problems) == 3
    unknown, missing, broken = exc.problems
    assert unknown.startswith("Unknown plugin 'nonexistent'")
    assert missing.startswith("Plugin 'needs_missing' depends on 'no_such_plugin'")
    assert broken.startswith("Plugin 'broken' (distribution ? ?) failed to import")
    assert str(exc) == "\n".join(exc.problems)


def test_several_compatibility_and_slot_problems_are_reported_together(everything):
    exc = refusal(
        everything,
        "future_core",
        "dev_mock",
        "provider_one",
        "provider_two",
        "needs_slot",
        environment="production",
    )
    assert len(exc.problems) == 4
    text = "\n".join(exc.problems)
    assert "Plugin 'future_core' 1.0 needs totetaxi-core >=99" in text
    assert "Plugin 'dev_mock' is for development only" in text
    assert "Plugins 'provider_one' and 'provider_two' both provide the 'mailer' slot" in text
    assert "Plugin 'needs_slot' requires the 'teleporter' slot" in text


# --- TOTETAXI_PLUGINS_DISABLED ---


def test_disabled_glue_is_left_off(url):
    platform = prepare(
        base_settings(url),
        environ={"TOTETAXI_PLUGINS_DISABLED": "example_glue"},
        entry_points=installed_eps(),
    )
    assert platform.enabled_names == ["example"]
    assert platform.settings["totetaxi.enabled_plugins"] == ["example"]


def test_disabled_requested_plugin_is_left_off(url):
    platform = prepare(
        base_settings(url, **{"totetaxi.plugins": "example chain_c"}),
        environ={"TOTETAXI_PLUGINS_DISABLED": "example, example_glue"},
        entry_points=all_eps(),
    )
    assert platform.enabled_names == ["chain_a", "chain_b", "chain_c"]


def test_disabled_plugin_is_left_off_by_resolve(everything):
    assert resolve(everything, "example", disabled=["example_glue"]) == ["example"]
    assert resolve(everything, "example", "provider_one", disabled=["pair_glue"]) == [
        "example",
        "provider_one",
        "example_glue",
    ]


def test_disabling_a_dependency_names_both(url):
    with pytest.raises(PluginError) as info:
        prepare(
            base_settings(url, **{"totetaxi.plugins": "needs_example"}),
            environ={"TOTETAXI_PLUGINS_DISABLED": "example"},
            entry_points=all_eps(),
        )
    sentence = only_problem(info.value)
    assert sentence.startswith(
        "Plugin 'needs_example' depends on 'example', which TOTETAXI_PLUGINS_DISABLED switches off"
    )


# --- through prepare and the app factory ---


def test_prepare_refuses_an_unknown_plugin(url):
    with pytest.raises(PluginError) as info:
        prepare(base_settings(url, **{"totetaxi.plugins": "example nonexistent"}), environ={})
    assert only_problem(info.value).startswith("Unknown plugin 'nonexistent' in totetaxi.plugins")
    assert "totetaxi-example 1.0.0" in info.value.problems[0]


def test_prepare_refuses_a_development_only_plugin_in_production(url):
    settings = base_settings(
        url,
        **{
            "totetaxi.environment": "production",
            "totetaxi.secret": "Zx9-" + "qW3rTy7uIoP1aSdF6gHjK2lLzX8cVbN0m" * 2,
            "totetaxi.plugins": "dev_mock",
        },
    )
    with pytest.raises(PluginError) as info:
        prepare(settings, environ={}, entry_points=all_eps())
    assert only_problem(info.value).startswith("Plugin 'dev_mock' is for development only")
    settings["totetaxi.environment"] = "development"
    assert prepare(settings, environ={}, entry_points=all_eps()).enabled_names == ["dev_mock"]


def test_prepare_refuses_a_setting_outside_the_plugin_prefix(url):
    with pytest.raises(SettingsError) as info:
        prepare(
            base_settings(url, **{"totetaxi.plugins": "outside_prefix"}),
            environ={},
            entry_points=all_eps(),
        )
    assert only_problem(info.value) == (
        "Plugin 'outside_prefix' declares setting 'elsewhere.key' outside its prefix "
        "'outside_prefix.'."
    )


def test_app_factory_refuses_a_misconfigured_plugin_list(url, monkeypatch):
    import os

    for var in list(os.environ):
        if var.startswith("TOTETAXI_"):
            monkeypatch.delenv(var)
    settings = base_settings(url, **{"totetaxi.plugins": "example nonexistent"})
    with pytest.raises(PluginError) as info:
        totetaxi_core.main({"__file__": "testing.ini"}, **settings)
    sentence = only_problem(info.value)
    assert sentence.startswith(
        "Unknown plugin 'nonexistent' in totetaxi.plugins: no installed distribution provides it "
        "(installed: "
    )
    assert "totetaxi-example 1.0.0 (example, example_glue)" in sentence


def test_two_distributions_offering_one_plugin_name_are_refused_naming_both():
    impostor = metadata.EntryPoint(name="example", value="misfits.chain_a", group=ENTRY_POINT_GROUP)
    plugins = discover([*installed_eps(), impostor])
    assert plugins["example"].distribution == "totetaxi-example"  # the first one is kept
    exc = refusal(plugins, "example")
    assert only_problem(exc) == (
        "Plugin 'example' is provided by two installed distributions, totetaxi-example 1.0.0 "
        "and ? ?; uninstall one of them."
    )


def test_a_pre_release_core_satisfies_a_plain_specifier():
    assert resolve(discover(installed_eps()), "example", core_version="1.1.0rc1") == [
        "example",
        "example_glue",
    ]
