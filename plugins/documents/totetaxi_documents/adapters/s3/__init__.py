"""``storage_s3``: production's ``file_storage``, Amazon S3 (presigned POST uploads, presigned
GET downloads). See :mod:`.storage`.

Switching from ``storage_local`` needs the plugin list of the ``.ini`` and, in the environment,
``TOTETAXI_STORAGE_S3__BUCKET`` (and the region); credentials come from boto3's usual chain
(an instance role, ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``) unless given as settings.
The bucket should keep public access blocked: every read and write goes through a presigned
URL the app signs.
"""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from totetaxi_core.plugin_api import Manifest, Setting, find_service, hookimpl

from .storage import S3Storage, storage_error

__all__ = ["SERVICE", "S3Storage", "includeme", "manifest", "storage_error"]

#: The service holding this app's storage (the hook answers with the same one).
SERVICE = "storage_s3.storage"


def _check_endpoint(value: str) -> str | None:
    if value and not value.startswith(("https://", "http://")):
        return f"must be an http(s):// URL or empty, got {value!r}"
    return None


manifest = Manifest(
    name="storage_s3",
    version="1.0.0",
    summary="Amazon S3 as the file storage (presigned POST and GET)",
    depends=("documents",),
    provides=("file_storage",),
    settings=(
        Setting("storage_s3.bucket", required=True, help="the bucket documents are kept in"),
        Setting("storage_s3.region", "us-east-1", help="the bucket's region"),
        Setting(
            "storage_s3.endpoint_url",
            "",
            help="another S3 endpoint (tests: moto's server); empty for AWS",
            check=_check_endpoint,
        ),
        Setting(
            "storage_s3.access_key_id",
            "",
            kind="secret",
            help="empty: boto3's credential chain (an instance role, AWS_* variables)",
        ),
        Setting("storage_s3.secret_access_key", "", kind="secret", help="with access_key_id"),
        Setting(
            "storage_s3.timeout_seconds",
            10,
            kind="int",
            minimum=1,
            maximum=120,
            help="connect and read timeout of each S3 call",
        ),
    ),
)


@hookimpl
def totetaxi_file_storage(ctx: Any) -> S3Storage:
    return find_service(ctx, SERVICE)


@hookimpl
def totetaxi_readiness_checks(registry: Any) -> dict[str, Any]:
    """``/readyz``'s ``storage``: the bucket answers ``HeadBucket``."""
    return {"storage": find_service(registry, SERVICE).check}


def includeme(config: Configurator) -> None:
    import sys

    settings = config.get_settings()
    timeout = float(settings["storage_s3.timeout_seconds"])
    storage = S3Storage(
        settings["storage_s3.bucket"],
        region=settings["storage_s3.region"],
        endpoint_url=settings["storage_s3.endpoint_url"] or None,
        access_key_id=settings["storage_s3.access_key_id"] or None,
        secret_access_key=settings["storage_s3.secret_access_key"] or None,
        connect_timeout=min(timeout, 5.0),
        read_timeout=timeout,
    )
    config.register_service(storage, name=SERVICE)
    config.add_hookimpls(sys.modules[__name__])
