"""Files under a folder, behind signed, expiring URLs the app serves: S3's presigned POST and
GET, imitated for development.

* An upload form is ``POST {url}`` (``multipart/form-data``) with the fields ``key``,
  ``Content-Type``, ``max_size``, ``expires`` and ``signature`` (HMAC-SHA256 under a secret
  derived from ``totetaxi.secret`` over the others), then ``file``. The app refuses a bad
  signature, an expired form (403, as S3 does), another content type or a larger file, and
  writes the file atomically.
* A download URL is ``GET {files}/{key}?expires=&filename=&type=&signature=``: the file with
  ``Content-Disposition: attachment`` and the signed content type.

Keys are the documents plugin's own (``documents/<uuid>/<uuid>``); one with anything but
letters, digits, ``-`` and ``/`` between segments (``..``, an absolute path) is refused, so
nothing is ever written or read outside the folder.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlencode

from ...interfaces import PresignedUpload, StorageError, StoredObject

KEY = re.compile(r"^[A-Za-z0-9-]+(/[A-Za-z0-9-]+)*$")
UPLOAD_PATH = "/api/v1/storage/local/upload"
FILES_PATH = "/api/v1/storage/local/files"


def derive_secret(base: str) -> bytes:
    return hmac.new(base.encode(), b"storage_local.signing", hashlib.sha256).digest()


class LocalStorage:
    """The ``file_storage`` slot over a folder (development)."""

    name = "local"

    def __init__(
        self,
        root: Path | str,
        secret: bytes,
        *,
        base_url: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.root = Path(root).resolve()
        self.secret = secret
        self.base_url = base_url.rstrip("/")
        self.clock = clock

    # --- signing --------------------------------------------------------------------------

    def _sign(self, *parts: str) -> str:
        return hmac.new(self.secret, "\n".join(parts).encode(), hashlib.sha256).hexdigest()

    def upload_signature(self, key: str, content_type: str, max_size: str, expires: str) -> str:
        return self._sign("upload", key, content_type, max_size, expires)

    def download_signature(self, key: str, filename: str, content_type: str, expires: str) -> str:
        return self._sign("download", key, filename, content_type, expires)

    def verify(self, given: str, expected: str, expires: str) -> str | None:
        """Why a signed request is refused (``None``: it is good)."""
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return "The signature does not match."
        try:
            if int(expires) < self.clock():
                return "The URL has expired."
        except ValueError:
            return "The URL has no valid expiry."
        return None

    # --- operations -----------------------------------------------------------------------

    def check(self) -> None:
        """Readiness (``/readyz``'s ``storage``): the folder exists (made when missing, as the
        first upload would) and this process may write in it; raises :class:`StorageError`."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot make the storage folder: {exc}") from exc
        if not self.root.is_dir() or not os.access(self.root, os.W_OK | os.X_OK):
            raise StorageError(f"the storage folder {self.root} is not a writable folder")

    # --- paths ----------------------------------------------------------------------------

    def path_of(self, key: str) -> Path:
        if not KEY.match(key):
            raise StorageError(f"not a storage key: {key!r}", permanent=True)
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise StorageError(f"not a storage key: {key!r}", permanent=True)
        return path

    def _meta(self, path: Path) -> Path:
        return path.with_name(path.name + ".meta")

    def write(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key`` (atomically: a reader never sees half a file)."""
        path = self.path_of(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        for target, payload in (
            (self._meta(path), json.dumps({"content_type": content_type}).encode()),
            (path, data),
        ):
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(payload)
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise

    # --- the interface --------------------------------------------------------------------

    def presign_upload(
        self, key: str, *, content_type: str, max_size: int, expires_in: int
    ) -> PresignedUpload:
        self.path_of(key)
        expires = str(int(self.clock()) + expires_in)
        fields = {
            "key": key,
            "Content-Type": content_type,
            "max_size": str(max_size),
            "expires": expires,
        }
        fields["signature"] = self.upload_signature(key, content_type, str(max_size), expires)
        return PresignedUpload(
            url=self.base_url + UPLOAD_PATH, fields=fields, expires_in=expires_in
        )

    def head(self, key: str) -> StoredObject | None:
        path = self.path_of(key)
        if not path.is_file():
            return None
        try:
            meta = json.loads(self._meta(path).read_text())
        except (OSError, ValueError):
            meta = {}
        return StoredObject(
            key=key, size=path.stat().st_size, content_type=meta.get("content_type", "")
        )

    def read(self, key: str, limit: int) -> bytes:
        try:
            with self.path_of(key).open("rb") as handle:
                return handle.read(limit)
        except FileNotFoundError:
            raise StorageError(f"no object {key}", permanent=True) from None

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        self.write(key, data, content_type)

    def delete(self, key: str) -> None:
        path = self.path_of(key)
        path.unlink(missing_ok=True)
        self._meta(path).unlink(missing_ok=True)

    def presign_download(
        self, key: str, *, filename: str, content_type: str, expires_in: int
    ) -> str:
        self.path_of(key)
        expires = str(int(self.clock()) + expires_in)
        query: Mapping[str, str] = {
            "expires": expires,
            "filename": filename,
            "type": content_type,
            "signature": self.download_signature(key, filename, content_type, expires),
        }
        return f"{self.base_url}{FILES_PATH}/{key}?{urlencode(query)}"
