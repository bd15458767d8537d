"""moto's S3 served in this process on loopback, for the ``file_storage`` tests.

:class:`MotoS3` starts moto's ``ThreadedMotoServer`` on 127.0.0.1, a free port (PITFALLS 8,
through :func:`support.sns_stub.start_moto_server`, the same helper as the SES tests), creates
buckets with fresh names and gives the endpoint, the bucket and the fake credentials an
``S3Storage`` needs. Browsers' requests (the presigned POST form, the presigned GET URL) reach it
over real HTTP.

What moto 5.2 does NOT check (real S3 does): a presigned POST's policy (content-length-range,
Content-Type, key, and its expiration) and a presigned GET's expiry (``X-Amz-Expires``). Tests
that need those refusals skip on moto and check the signed documents themselves instead.
"""

from __future__ import annotations

import uuid
from typing import Any

import boto3
from botocore.config import Config

from support.sns_stub import start_moto_server

REGION = "us-east-1"
#: moto takes any credentials; these are never real.
ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"


class MotoS3:
    """moto's S3 on loopback with one empty bucket (``bucket``); a context manager (``close()``
    removes every bucket it made and stops the server).

    Starting and stopping the server costs about a second (werkzeug's shutdown polls every
    half second): tests share one per module and take a fresh bucket each
    (:meth:`create_bucket`).
    """

    def __init__(self) -> None:
        self._server, self.endpoint_url = start_moto_server()
        self.region = REGION
        self.access_key_id = ACCESS_KEY_ID
        self.secret_access_key = SECRET_ACCESS_KEY
        self._buckets: list[str] = []
        #: A plain client on the same server, for what the storage does not offer (listing).
        self.client: Any = boto3.session.Session().client(
            "s3",
            region_name=REGION,
            endpoint_url=self.endpoint_url,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )
        try:
            self.bucket = self.create_bucket()
        except BaseException:
            self._server.stop()
            raise

    def create_bucket(self) -> str:
        """A new empty bucket's name (fresh: moto's backends are process-wide and outlive the
        server, so names are never reused)."""
        name = f"totetaxi-test-{uuid.uuid4().hex[:12]}"
        self.client.create_bucket(Bucket=name)
        self._buckets.append(name)
        return name

    def storage_options(self, bucket: str | None = None) -> dict[str, Any]:
        """Keyword arguments for ``S3Storage(**options)`` on ``bucket`` (default: ours)."""
        return {
            "bucket": bucket or self.bucket,
            "region": self.region,
            "endpoint_url": self.endpoint_url,
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
        }

    def keys(self, bucket: str | None = None) -> list[str]:
        """Every key in ``bucket`` (default: ours)."""
        listing = self.client.list_objects_v2(Bucket=bucket or self.bucket)
        return [item["Key"] for item in listing.get("Contents", [])]

    def close(self) -> None:
        """Empty and remove our buckets (only ours: an SES test's identities stay), stop."""
        try:
            for bucket in self._buckets:
                for key in self.keys(bucket):
                    self.client.delete_object(Bucket=bucket, Key=key)
                self.client.delete_bucket(Bucket=bucket)
        finally:
            self._server.stop()

    def __enter__(self) -> MotoS3:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
