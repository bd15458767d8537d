"""``storage_local``: documents' files under a folder, behind signed URLs (development).

Uploads and downloads go through two routes of the app (:mod:`.api`) that take S3-like signed
forms and URLs, so the browser's flow is the one ``storage_s3`` gives: post the form, then
complete; follow the download redirect. An app with ``totetaxi.environment = production``
refuses to start with it enabled.
"""

from __future__ import annotations

import sys
from typing import Any

from pyramid.config import Configurator
from totetaxi_core.plugin_api import Manifest, Setting, find_service, hookimpl

from .storage import LocalStorage, derive_secret

__all__ = ["LocalStorage", "includeme", "manifest"]

SERVICE = "storage_local.storage"

manifest = Manifest(
    name="storage_local",
    version="1.0.0",
    summary="Development file storage: a folder, signed expiring upload and download URLs",
    depends=("documents",),
    provides=("file_storage",),
    development_only=True,
    settings=(
        Setting(
            "storage_local.folder",
            "var/documents",
            help="where the files are kept (created when missing)",
        ),
        Setting(
            "storage_local.base_url",
            "",
            help="the app's URL for the upload and download links (empty: paths on this host)",
        ),
    ),
)


@hookimpl
def totetaxi_file_storage(ctx: Any) -> LocalStorage:
    return find_service(ctx, SERVICE)


@hookimpl
def totetaxi_readiness_checks(registry: Any) -> dict[str, Any]:
    """``/readyz``'s ``storage``: the folder is there (or can be made) and writable."""
    return {"storage": find_service(registry, SERVICE).check}


def includeme(config: Configurator) -> None:
    settings = config.get_settings()
    storage = LocalStorage(
        settings["storage_local.folder"],
        derive_secret(str(settings.get("totetaxi.secret") or "")),
        base_url=settings["storage_local.base_url"],
    )
    config.register_service(storage, name=SERVICE)
    config.add_hookimpls(sys.modules[__name__])
    config.include(".api")
