"""Documents: uploads to bookings, COI review and the high-value gate, downloads, expiry.

The domain plugin. It fills in the core's ``file_storage`` slot (:mod:`.interfaces`), answered
through the core's hook ``totetaxi_file_storage``, and needs one provider enabled:
``storage_local`` (files under ``var/``, development) or ``storage_s3`` (S3, production).
Switching one for the other in ``totetaxi.plugins`` (and the bucket and credentials in the
environment) is the only change between the two.
"""

from __future__ import annotations

from pyramid.config import Configurator
from totetaxi_core.plugin_api import Manifest, Setting

from . import models  # noqa: F401  (its tables on the metadata, as soon as the plugin is found)
from .permissions import GRANTS

manifest = Manifest(
    name="documents",
    version="1.0.0",
    summary="Secure uploads, COI review and the high-value gate, downloads, expiry and clean-up",
    requires=("file_storage",),
    core=">=1.0,<2",
    settings=(
        Setting(
            "documents.max_upload_bytes",
            10 * 1024 * 1024,
            kind="int",
            minimum=1024,
            maximum=100 * 1024 * 1024,
            help="the largest file a customer or staff member may upload",
        ),
        Setting(
            "documents.upload_expires_seconds",
            900,
            kind="int",
            minimum=60,
            maximum=3600,
            help="how long an upload form stays valid",
        ),
        Setting(
            "documents.download_expires_seconds",
            300,
            kind="int",
            minimum=10,
            maximum=3600,
            help="how long a download link stays valid",
        ),
        Setting(
            "documents.pending_hours",
            24,
            kind="int",
            minimum=1,
            maximum=168,
            help="an upload never completed is expired (and its object deleted) after this long",
        ),
        Setting(
            "documents.retention_days",
            730,
            kind="int",
            minimum=1,
            maximum=3650,
            help="a document's file is deleted this long after its booking's pickup date",
        ),
        Setting(
            "documents.coi_notice_hours",
            72,
            kind="int",
            minimum=1,
            maximum=720,
            help="a high-value booking this close to pickup without an approved COI alerts",
        ),
        Setting(
            "documents.page_size",
            50,
            kind="int",
            minimum=1,
            maximum=500,
            help="documents listed per page (API and console)",
        ),
    ),
    migrations="totetaxi_documents:migrations/versions",
    permissions=GRANTS,
)


def includeme(config: Configurator) -> None:
    """Wire the plugin into the app: hooks, tasks, the API and the console pages."""
    from . import hooks

    config.add_hookimpls(hooks)
    config.include(".tasks")
    config.include(".api")
    config.include(".console")
