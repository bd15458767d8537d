"""The enabled ``file_storage`` provider."""

from __future__ import annotations

from totetaxi_core.plugin_api import Context

from ..interfaces import FileStorage


def storage(ctx: Context) -> FileStorage:
    provider = ctx.call_hook("totetaxi_file_storage")
    if provider is None:
        raise LookupError("no plugin provides the file_storage slot")
    return provider
