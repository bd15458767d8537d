"""An ``auto_install`` glue plugin: on as soon as ``example`` is on."""

from pyramid.config import Configurator

from totetaxi_core.plugin_api import Manifest

manifest = Manifest(
    name="example_glue",
    version="1.0.0",
    summary="Glue switched on automatically with example",
    depends=("example",),
    auto_install=True,
)


def includeme(config: Configurator) -> None:
    config.registry.settings["example_glue.included"] = True
