"""The app with ``storage_s3`` instead of the local storage: only the settings change.

S3 is moto's server on loopback; the upload is a real presigned POST over HTTP, the download a
real presigned GET. moto enforces none of the POST's conditions (PITFALLS 8): the app's own
checks at ``complete`` are what refuse a bad file here, and delete it from the bucket.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.documents import NOW, PDF, PNG, guest_booking
from support.moto_s3 import MotoS3
from support.sns_stub import aws_environment
from webtest import TestApp

PLUGINS = "pricing payments_mock notifications mail_console documents storage_s3"


@pytest.fixture
def moto(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoS3]:
    aws_environment(monkeypatch, tmp_path)  # nothing may reach AWS or instance metadata
    with MotoS3() as server:
        yield server


@pytest.fixture
def app(make_testapp: Callable[..., TestApp], moto: MotoS3, db_url: str) -> TestApp:
    """Installed by ``totetaxi migrate`` with storage_s3, as ops would, then served."""
    from totetaxi_core.db import make_engine
    from totetaxi_core.migrate import migrate
    from totetaxi_core.platform import prepare
    from totetaxi_core.testing import base_settings

    bucket = moto.create_bucket()
    settings = {
        "totetaxi.plugins": PLUGINS,
        "storage_s3.bucket": bucket,
        "storage_s3.endpoint_url": moto.endpoint_url,
        "storage_s3.access_key_id": moto.access_key_id,
        "storage_s3.secret_access_key": moto.secret_access_key,
    }
    platform = prepare(base_settings(db_url, **settings), environ={})
    engine = make_engine(platform.settings)
    try:
        assert "installed storage_s3 1.0.0" in migrate(platform, engine)
    finally:
        engine.dispose()
    testapp = make_testapp(**settings)
    testapp.app.registry.clock = lambda: NOW
    testapp.bucket = bucket  # type: ignore[attr-defined]
    return testapp


def _start(app: TestApp, booking: dict[str, Any], data: bytes, name: str, kind: str) -> Any:
    token = f"?token={booking['tracking_token']}"
    return app.post_json(
        f"/api/v1/bookings/{booking['id']}/documents/uploads{token}",
        {"category": "coi", "filename": name, "content_type": kind, "size": len(data)},
        status=201,
    ).json


def _post(form: dict[str, Any], data: bytes, kind: str) -> httpx.Response:
    return httpx.post(
        form["url"], data=form["fields"], files={"file": ("upload", data, kind)}, timeout=10
    )


def _keys(moto: MotoS3, bucket: str) -> list[str]:
    listed = moto.client.list_objects_v2(Bucket=bucket)
    return [item["Key"] for item in listed.get("Contents", [])]


def test_upload_and_download_through_s3(app: TestApp, moto: MotoS3) -> None:
    booking = guest_booking(app)
    token = f"?token={booking['tracking_token']}"
    started = _start(app, booking, PDF, "Police d'assurance — été.pdf", "application/pdf")
    assert _post(started["upload"], PDF, "application/pdf").status_code == 204
    done = app.post_json(
        f"/api/v1/bookings/{booking['id']}/documents/{started['document_id']}/complete{token}",
        None,
    ).json
    assert done["status"] == "uploaded" and done["sha256"] == hashlib.sha256(PDF).hexdigest()
    [key] = _keys(moto, app.bucket)  # type: ignore[attr-defined]
    assert key.startswith("documents/") and "assurance" not in key
    redirect = app.get(f"/api/v1/documents/{done['id']}/download{token}", status=302)
    fetched = httpx.get(redirect.location, timeout=10)
    assert fetched.status_code == 200 and fetched.content == PDF
    assert (
        "filename*=UTF-8''Police%20d%27assurance%20%E2%80%94%20%C3%A9t%C3%A9.pdf"
        in (fetched.headers["content-disposition"])
    )


def test_a_bad_file_the_bucket_took_is_deleted_from_it(app: TestApp, moto: MotoS3) -> None:
    booking = guest_booking(app)
    token = f"?token={booking['tracking_token']}"
    started = _start(app, booking, PNG, "scan.pdf", "application/pdf")
    # moto stores it (a real S3 would check only the size and the declared type).
    assert _post(started["upload"], PNG, "application/pdf").status_code == 204
    assert len(_keys(moto, app.bucket)) == 1  # type: ignore[attr-defined]
    app.post_json(
        f"/api/v1/bookings/{booking['id']}/documents/{started['document_id']}/complete{token}",
        None,
        status=415,
    )
    assert _keys(moto, app.bucket) == []  # type: ignore[attr-defined]


def test_a_file_longer_than_declared_is_deleted_at_complete(app: TestApp, moto: MotoS3) -> None:
    booking = guest_booking(app)
    token = f"?token={booking['tracking_token']}"
    started = _start(app, booking, PDF, "short.pdf", "application/pdf")
    # Real S3 would refuse it (content-length-range is the declared size); moto stores it.
    assert _post(started["upload"], PDF + b"more", "application/pdf").status_code == 204
    refused = app.post_json(
        f"/api/v1/bookings/{booking['id']}/documents/{started['document_id']}/complete{token}",
        None,
        status=422,
    ).json
    assert refused["errors"][0]["name"] == "size"
    assert _keys(moto, app.bucket) == []  # type: ignore[attr-defined]


def test_readyz_reports_the_bucket_and_a_503_naming_storage_without_it(
    app: TestApp, moto: MotoS3
) -> None:
    checks = app.get("/readyz").json["checks"]
    assert checks["storage"]["status"] == "ok"
    moto.client.delete_bucket(Bucket=app.bucket)  # type: ignore[attr-defined]
    body = app.get("/readyz", status=503).json
    assert [error["name"] for error in body["errors"]] == ["storage"]
    assert body["checks"]["database"]["status"] == "ok"
    moto.client.create_bucket(Bucket=app.bucket)  # type: ignore[attr-defined]
    app.get("/readyz", status=200)  # back without a restart (the fixture empties it too)
