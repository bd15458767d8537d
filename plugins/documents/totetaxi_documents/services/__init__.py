"""The documents domain: uploads, review, the high-value gate, downloads, clean-up, search.

Views, hooks and tasks call these with a :class:`~totetaxi_core.plugin_api.Context`. Talking to
the storage happens in requests only where the caller waits for it (signing is local; the
checks of ``complete`` read the stored object) and in the periodic clean-up.
"""

from __future__ import annotations

from .gate import coi_requirement, holds_of, lacks_coi, sweep_attention
from .lifecycle import purge_due
from .reading import document_json, documents_of, search
from .review import review
from .storage import storage
from .uploads import UploadRefused, complete_upload, download_url, start_upload

__all__ = [
    "UploadRefused",
    "coi_requirement",
    "complete_upload",
    "document_json",
    "documents_of",
    "download_url",
    "holds_of",
    "lacks_coi",
    "purge_due",
    "review",
    "search",
    "start_upload",
    "storage",
    "sweep_attention",
]
