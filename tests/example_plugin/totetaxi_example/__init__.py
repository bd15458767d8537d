"""Example plugin: a note model with its migration, a Cornice service, hooks (its own too) and a
task."""

from pyramid.config import Configurator

from totetaxi_core.plugin_api import Manifest, Setting

from .seed import seed

manifest = Manifest(
    name="example",
    version="1.0.0",
    summary="Notes: the smallest plugin with every room a plugin has",
    provides=("example_slot",),
    settings=(
        Setting("example.greeting", "hello", help="what GET /example/hello answers"),
        Setting(
            "example.max_notes",
            100,
            kind="int",
            minimum=1,
            maximum=1000,
            help="notes kept before POST /example/notes refuses more",
        ),
        Setting(
            "example.counter_delay_ms",
            0,
            kind="int",
            minimum=0,
            maximum=1000,
            help="pause between the read and the write of a counter, to provoke conflicts",
        ),
    ),
    migrations="totetaxi_example:migrations/versions",
    seed=seed,
)


def includeme(config: Configurator) -> None:
    from . import hooks, hookspecs, tasks

    config.add_hookspecs(hookspecs)
    config.add_hookimpls(hooks)
    config.add_task(tasks.record_note, name="example.record_note")
    config.add_task(tasks.flaky, name="example.flaky", max_retries=3, backoff_seconds=0)
    config.scan(".api")
