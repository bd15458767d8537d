"""The ``file_storage`` slot on Amazon S3 (boto3).

The browser uploads straight to S3 with a presigned POST form whose policy pins the key, the
content type and a size range, and downloads from a presigned GET URL that makes S3 answer with
our ``Content-Disposition`` and ``Content-Type`` (``ResponseContentDisposition`` /
``ResponseContentType``), whatever the uploader sent. The app itself only signs, looks
(``head``), reads the first bytes (``read``, a ranged GET) and deletes.

Errors become :class:`~totetaxi_documents.interfaces.StorageError`: permanent when asking again
cannot help (S3 refused: access denied, no such bucket, a bad request), not permanent for the
network (refused connection, timeouts) and for S3's own failures and throttling (5xx, SlowDown).
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
)

from ...disposition import attachment
from ...interfaces import PresignedUpload, StorageError, StoredObject

#: 4xx codes a later attempt can still get past: S3 asks to slow down or retry, or the clock or
#: the temporary credentials were off (ops fix those; the request itself was fine).
TRANSIENT_CODES = frozenset(
    {
        "RequestTimeout",
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestTimeTooSkewed",
        "ExpiredToken",
        "TokenRefreshRequired",
        "InternalError",
        "ServiceUnavailable",
    }
)
#: What S3 answers for an absent key: ``NoSuchKey`` from GET, a bare ``404`` from HEAD (no body).
MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


def _code_and_status(exc: ClientError) -> tuple[str, int]:
    error = exc.response.get("Error", {}) or {}
    status = int((exc.response.get("ResponseMetadata", {}) or {}).get("HTTPStatusCode") or 0)
    return str(error.get("Code") or ""), status


def storage_error(exc: Exception, action: str) -> StorageError:
    """The :class:`StorageError` for a boto3 failure during ``action`` (permanent or not)."""
    if isinstance(exc, ClientError):
        code, status = _code_and_status(exc)
        message = (exc.response.get("Error", {}) or {}).get("Message") or str(exc)
        if code in TRANSIENT_CODES:
            permanent = False
        else:
            # Any other 4xx (AccessDenied, NoSuchBucket, InvalidArgument...) will be refused
            # again; 5xx, 408 and 429 are S3's or the network's passing trouble.
            permanent = 400 <= status < 500 and status not in (408, 429)
        return StorageError(f"S3 {action}: {code or status}: {message}", permanent=permanent)
    if isinstance(exc, ParamValidationError):
        # Our own request is malformed: sending it again changes nothing.
        return StorageError(f"S3 {action}: {exc}", permanent=True)
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        # Ops can fix the environment or the role; the documents wait meanwhile.
        return StorageError(f"S3 {action}: {exc}", permanent=False)
    # EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError...
    return StorageError(f"S3 {action}: {type(exc).__name__}: {exc}", permanent=False)


class S3Storage:
    """The ``file_storage`` slot on one S3 bucket.

    One boto3 client (thread-safe) is built up front, SigV4 (presigned POST needs it in every
    region), with short connect/read timeouts and botocore's ``standard`` retries so that a
    request handler never hangs on S3. ``endpoint_url`` points at an S3-compatible server (moto,
    MinIO) and switches to path-style addressing, which those serve without wildcard DNS.
    Credentials, when not given, come from boto3's default chain (environment, profile, role).
    """

    name = "s3"

    def __init__(
        self,
        bucket: str,
        *,
        region: str = "us-east-1",
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        connect_timeout: float = 5,
        read_timeout: float = 20,
        max_attempts: int = 3,
    ) -> None:
        self.bucket = bucket
        self.region = region
        self.endpoint_url = endpoint_url or None
        config = Config(
            signature_version="s3v4",
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            # ``total_max_attempts`` counts the first try too; botocore's ``max_attempts`` key
            # would count retries only (one more request than the name says).
            retries={"total_max_attempts": max_attempts, "mode": "standard"},
            s3={"addressing_style": "path"} if self.endpoint_url else None,
        )
        # A session of our own: the module-level default session is shared process-wide.
        self._session = boto3.session.Session()
        self._client_options: dict[str, Any] = {
            "region_name": region,
            "endpoint_url": self.endpoint_url,
            "aws_access_key_id": access_key_id or None,
            "aws_secret_access_key": secret_access_key or None,
        }
        #: The boto3 S3 client (public for tests and for ops' scripts).
        self.client: Any = self._session.client("s3", config=config, **self._client_options)
        self._probe: Any = None

    # --- FileStorage ----------------------------------------------------------------------------

    def presign_upload(
        self, key: str, *, content_type: str, max_size: int, expires_in: int
    ) -> PresignedUpload:
        """A presigned POST form whose policy pins ``key``, ``content_type`` and 1..``max_size``
        bytes (S3 refuses a form that breaks them; the caller checks what was stored anyway)."""
        try:
            signed = self.client.generate_presigned_post(
                Bucket=self.bucket,
                Key=key,
                Fields={"Content-Type": content_type},
                Conditions=[
                    {"Content-Type": content_type},
                    ["content-length-range", 1, max_size],
                    {"key": key},
                ],
                ExpiresIn=expires_in,
            )
        except (ClientError, BotoCoreError) as exc:  # signing is local: credentials, params
            raise storage_error(exc, "presign upload") from exc
        return PresignedUpload(
            url=signed["url"],
            fields={k: str(v) for k, v in signed["fields"].items()},
            expires_in=expires_in,
        )

    def head(self, key: str) -> StoredObject | None:
        """Size and content type of ``key``, ``None`` when S3 has nothing there.

        HEAD answers carry no body, so a missing bucket also reads as a bare 404 here; ``read``
        and ``delete`` tell the two apart."""
        try:
            found = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            code, status = _code_and_status(exc)
            if code in MISSING_CODES or status == 404:
                return None
            raise storage_error(exc, "head") from exc
        except BotoCoreError as exc:
            raise storage_error(exc, "head") from exc
        return StoredObject(
            key=key,
            size=int(found.get("ContentLength") or 0),
            content_type=str(found.get("ContentType") or ""),
        )

    def read(self, key: str, limit: int) -> bytes:
        """The first ``limit`` bytes of ``key`` (one ranged GET; never the whole object)."""
        if limit <= 0:
            return b""
        try:
            answer = self.client.get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes=0-{limit - 1}"
            )
            body = answer["Body"]
            try:
                # A server that ignores Range must still not make us hold more than ``limit``.
                return body.read(limit)
            finally:
                body.close()
        except ClientError as exc:
            code, _ = _code_and_status(exc)
            if code == "InvalidRange":
                return b""  # the object exists but is empty: no byte 0 to range over
            if code == "NoSuchKey":
                raise StorageError(f"S3 read: no object under {key!r}", permanent=True) from exc
            raise storage_error(exc, "read") from exc
        except BotoCoreError as exc:
            raise storage_error(exc, "read") from exc

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        """Store ``data`` under ``key`` (``put_object``)."""
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)
        except (ClientError, BotoCoreError) as exc:
            raise storage_error(exc, "put") from exc

    def delete(self, key: str) -> None:
        """Remove ``key``; S3 answers 204 whether or not it was there."""
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            code, _ = _code_and_status(exc)
            if code == "NoSuchKey":  # some S3-compatible servers say so; already gone is fine
                return
            raise storage_error(exc, "delete") from exc
        except BotoCoreError as exc:
            raise storage_error(exc, "delete") from exc

    def presign_download(
        self, key: str, *, filename: str, content_type: str, expires_in: int
    ) -> str:
        """A presigned GET that makes S3 answer ``Content-Disposition: attachment`` (RFC 6266,
        see :func:`~totetaxi_documents.disposition.attachment`) and ``content_type``."""
        try:
            return str(
                self.client.generate_presigned_url(
                    "get_object",
                    Params={
                        "Bucket": self.bucket,
                        "Key": key,
                        "ResponseContentDisposition": attachment(filename),
                        "ResponseContentType": content_type,
                    },
                    ExpiresIn=expires_in,
                )
            )
        except (ClientError, BotoCoreError) as exc:
            raise storage_error(exc, "presign download") from exc

    # --- operations -----------------------------------------------------------------------------

    #: Seconds the readiness probe waits to connect and for an answer (one attempt).
    PROBE_TIMEOUT = 2.0

    def check(self) -> None:
        """Readiness (``/readyz``'s ``storage``): ``HeadBucket`` answers, with a short timeout
        and no retry (the load balancer is waiting); raises :class:`StorageError` otherwise."""
        if self._probe is None:
            # Made on first use (app start-up stays free of it); two threads racing make two.
            config = Config(
                signature_version="s3v4",
                connect_timeout=self.PROBE_TIMEOUT,
                read_timeout=self.PROBE_TIMEOUT,
                retries={"total_max_attempts": 1, "mode": "standard"},
                s3={"addressing_style": "path"} if self.endpoint_url else None,
            )
            self._probe = self._session.client("s3", config=config, **self._client_options)
        try:
            self._probe.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as exc:
            raise storage_error(exc, "head bucket") from exc

    # --- development ----------------------------------------------------------------------------

    def ensure_bucket(self) -> None:
        """Create the bucket when it does not exist (tests, a development first run against
        moto or MinIO; production's bucket is made by ops with its policy and CORS)."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            code, status = _code_and_status(exc)
            if not (status == 404 or code in ("404", "NoSuchBucket", "NotFound")):
                raise storage_error(exc, "head bucket") from exc
        except BotoCoreError as exc:
            raise storage_error(exc, "head bucket") from exc
        options: dict[str, Any] = {"Bucket": self.bucket}
        if self.region != "us-east-1":
            # us-east-1 refuses an explicit LocationConstraint; every other region needs one.
            options["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            self.client.create_bucket(**options)
        except ClientError as exc:
            code, _ = _code_and_status(exc)
            if code != "BucketAlreadyOwnedByYou":  # created meanwhile by another process
                raise storage_error(exc, "create bucket") from exc
        except BotoCoreError as exc:
            raise storage_error(exc, "create bucket") from exc
