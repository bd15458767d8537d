"""The ``file_storage`` slot: where documents' bytes live.

A provider plugin ``provides=("file_storage",)`` and answers the core's hook
``totetaxi_file_storage(ctx)`` with an object offering :class:`FileStorage`. Exactly one is
enabled: ``storage_local`` (development: files under ``var/``, uploads and downloads through
signed, expiring URLs the app serves) or ``storage_s3`` (production: S3 with presigned POST
uploads and presigned GET downloads). Both pass one contract suite
(``tests/plugins/documents/test_storage_contract.py``).

The browser talks to the storage directly (it uploads with the presigned form, it downloads
from the short-lived URL); the app only signs, then checks what was stored: a storage may not
enforce the upload's conditions (moto does not), so :meth:`FileStorage.read` lets the documents
plugin verify size, checksum and content itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


class StorageError(Exception):
    """The storage did not answer or refused. ``permanent``: trying again cannot help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class PresignedUpload:
    """A browser form upload: ``POST`` to ``url`` as ``multipart/form-data`` with every one of
    ``fields`` and then the file as the ``file`` field (S3's presigned POST)."""

    url: str
    fields: dict[str, str] = field(default_factory=dict)
    expires_in: int = 900


@dataclass(frozen=True)
class StoredObject:
    """What the storage holds under a key."""

    key: str
    size: int
    content_type: str = ""


@runtime_checkable
class FileStorage(Protocol):
    """The interface of the ``file_storage`` slot. Keys are chosen by the documents plugin (never
    from a client's file name): ``documents/<booking>/<document uuid>``."""

    #: Short provider name, stored on each document (``local``, ``s3``).
    name: str

    def presign_upload(
        self, key: str, *, content_type: str, max_size: int, expires_in: int
    ) -> PresignedUpload:
        """A form that stores one file under ``key``, of ``content_type``, at most
        ``max_size`` bytes, usable for ``expires_in`` seconds. The storage should refuse
        anything else; the caller checks anyway."""
        ...

    def head(self, key: str) -> StoredObject | None:
        """What is stored under ``key``; ``None`` when nothing is."""
        ...

    def read(self, key: str, limit: int) -> bytes:
        """The object's bytes, at most ``limit`` of them (raise :class:`StorageError` when it
        is missing)."""
        ...

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        """Store ``data`` under ``key`` from the app itself (a checked upload is copied to its
        final key, which no presigned form ever names)."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; removing one that is not there is no error."""
        ...

    def presign_download(
        self, key: str, *, filename: str, content_type: str, expires_in: int
    ) -> str:
        """A URL that answers the object for ``expires_in`` seconds with
        ``Content-Disposition: attachment`` naming ``filename`` safely (RFC 6266: an ASCII
        ``filename=`` fallback and ``filename*=UTF-8''...``) and ``content_type``."""
        ...
