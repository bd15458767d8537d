"""Onfleet's workers, synced into the drivers table (names, phones, vehicles, duty)."""

from __future__ import annotations

from pyramid.config import Configurator
from sqlalchemy import select
from totetaxi_core.plugin_api import Context, find_service

from ...models import Driver

SYNC_DRIVERS = "logistics_onfleet.sync_drivers"


def sync_drivers(ctx: Context) -> int:
    """Upsert every Onfleet worker as a driver; a worker Onfleet no longer lists is made
    inactive (kept: past tasks name it). Returns how many drivers Onfleet listed."""
    workers = find_service(ctx, "logistics_onfleet.dispatcher").list_drivers()
    known = {
        d.provider_id: d
        for d in ctx.dbsession.scalars(select(Driver).where(Driver.provider == "onfleet"))
    }
    for worker in workers:
        driver = known.pop(worker.provider_id, None)
        if driver is None:
            driver = Driver(provider="onfleet", provider_id=worker.provider_id)
            ctx.dbsession.add(driver)
        driver.name = worker.name[:120] or "Driver"
        driver.phone = worker.phone[:40]
        driver.vehicle = worker.vehicle[:120]
        driver.active = worker.active
        driver.on_duty = worker.on_duty
    for gone in known.values():
        gone.active = False
    return len(workers)


def includeme(config: Configurator) -> None:
    config.add_task(sync_drivers, name=SYNC_DRIVERS)
    config.add_periodic_task(
        SYNC_DRIVERS, config.get_settings()["logistics_onfleet.driver_sync_seconds"]
    )
