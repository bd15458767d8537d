"""``storage_s3``: production's ``file_storage``, Amazon S3 (presigned POST uploads, presigned
GET downloads). See :mod:`.storage`."""

from __future__ import annotations

from .storage import S3Storage, storage_error

__all__ = ["S3Storage", "storage_error"]
