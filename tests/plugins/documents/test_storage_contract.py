"""The ``file_storage`` slot's contract: one suite, run against every storage, over real HTTP.

Each storage joins through a *harness* (:class:`Harness`):

* ``storage``: the :class:`~totetaxi_documents.interfaces.FileStorage` under contract;
* ``http``: an ``httpx.Client`` that reaches the URLs the storage signs (the browser's side: the
  presigned upload form is POSTed to it, the download URL fetched from it);
* ``signed_in_the_past()``: a context manager inside which everything the storage presigns is
  signed as if long ago, so that it has already expired when used (no sleeping);
* ``unenforced``: the refusals this provider's stand-in does not make, each with the reason; the
  tests of those refusals skip for it (only ever for a stand-in: the real service enforces them).

Providers:

* ``s3``: :class:`~totetaxi_documents.adapters.s3.S3Storage` against moto's S3 in this process
  (``support.moto_s3.MotoS3``). Its clock travel moves botocore's signing clock an hour back.
  moto 5.2 enforces neither a presigned POST's policy (size range, content type, expiration)
  nor a presigned GET's expiry: those contract tests skip on moto, and the S3 tests after the
  contract check instead that what we sign would make S3 refuse (the policy's conditions and
  expiration, the URL's date and lifetime).
* ``local``: joins later (see ``# LOCAL PROVIDER``).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import socket
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import botocore.auth
import botocore.signers
import httpx
import pytest
from botocore.stub import Stubber
from support.moto_s3 import MotoS3
from support.sns_stub import aws_environment
from totetaxi_documents.adapters.s3 import S3Storage
from totetaxi_documents.disposition import safe_name
from totetaxi_documents.interfaces import (
    FileStorage,
    PresignedUpload,
    StorageError,
    StoredObject,
)

from totetaxi_core.testing import SlotContract

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 4 + b"\n%%EOF\n"

#: Names of the refusals a stand-in may not make (keys of :attr:`Harness.unenforced`).
UPLOAD_CONDITIONS = "upload_conditions"
UPLOAD_EXPIRY = "upload_expiry"
DOWNLOAD_EXPIRY = "download_expiry"


@dataclass
class Harness:
    """One storage under contract (see the module's documentation)."""

    name: str
    storage: FileStorage
    #: Reaches the storage's signed URLs (a live server, or an app through a WSGI transport).
    http: httpx.Client
    #: Inside it, whatever the storage presigns has already expired.
    signed_in_the_past: Callable[[], AbstractContextManager[None]]
    #: Refusals this provider's stand-in does not make -> why (their tests skip).
    unenforced: Mapping[str, str] = field(default_factory=dict)

    def skip_unless_enforced(self, refusal: str) -> None:
        if refusal in self.unenforced:
            pytest.skip(f"{self.name}: {self.unenforced[refusal]}")


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def new_key() -> str:
    """A key as the documents plugin makes them: ``documents/<booking>/<document uuid>``."""
    return f"documents/TT-{uuid.uuid4().hex[:6].upper()}/{uuid.uuid4()}"


def upload(
    harness: Harness,
    form: PresignedUpload,
    content: bytes,
    *,
    content_type: str = "application/pdf",
    fields: Mapping[str, str] | None = None,
) -> httpx.Response:
    """POST ``form`` as a browser does: every field, then the file as ``file`` (S3 requires the
    file last; httpx writes ``data`` before ``files``)."""
    return harness.http.post(
        form.url,
        data=dict(fields if fields is not None else form.fields),
        files={"file": ("upload.bin", content, content_type)},
    )


def stored(harness: Harness, content: bytes = PDF, content_type: str = "application/pdf") -> str:
    """A key holding ``content``, uploaded through the storage's own form."""
    key = new_key()
    form = harness.storage.presign_upload(
        key, content_type=content_type, max_size=10_000, expires_in=300
    )
    answer = upload(harness, form, content, content_type=content_type)
    assert 200 <= answer.status_code < 300, answer.text
    return key


#: One ``; name=value`` parameter of a header (RFC 6266: a token or a quoted string).
PARAMETER = re.compile(r';\s*([A-Za-z0-9*_-]+)=("(?:[^"\\]|\\.)*"|[^;\s"]+)\s*')


def disposition(header: str) -> tuple[str, str]:
    """``(filename* decoded, filename fallback)`` of a ``Content-Disposition`` value, read as a
    browser does; the whole value must parse (nothing a file name holds may add a parameter)."""
    kind = header.partition(";")[0]
    assert kind.strip() == "attachment", header
    parameters: dict[str, str] = {}
    position = len(kind)
    while position < len(header):
        found = PARAMETER.match(header, position)
        assert found, f"unparsable from {position}: {header!r}"
        name = found.group(1).lower()
        assert name not in parameters, f"{name} twice: {header!r}"
        parameters[name] = found.group(2)
        position = found.end()
    assert set(parameters) == {"filename", "filename*"}, header
    charset, _, encoded = parameters["filename*"].partition("''")
    assert charset.upper() == "UTF-8", header
    fallback = parameters["filename"]
    if fallback.startswith('"'):
        fallback = re.sub(r"\\(.)", r"\1", fallback[1:-1])
    return unquote(encoded, encoding="utf-8", errors="strict"), fallback


# --- providers --------------------------------------------------------------------------------


@contextmanager
def botocore_clock_moved_back(
    monkeypatch: pytest.MonkeyPatch, by: dt.timedelta = dt.timedelta(hours=1)
) -> Iterator[None]:
    """botocore signs (SigV4 dates, the POST policy's expiration) from
    ``botocore.compat.get_current_datetime``, imported by name into ``botocore.auth`` and
    ``botocore.signers``: moving both back makes every presigned form and URL already expired."""

    def past(remove_tzinfo: bool = True) -> dt.datetime:
        now = dt.datetime.now(dt.UTC) - by
        return now.replace(tzinfo=None) if remove_tzinfo else now

    with monkeypatch.context() as patch:
        patch.setattr(botocore.auth, "get_current_datetime", past)
        patch.setattr(botocore.signers, "get_current_datetime", past)
        yield


MOTO_UNENFORCED = {
    UPLOAD_CONDITIONS: "moto does not enforce a presigned POST's policy conditions "
    "(content-length-range, Content-Type); real S3 does (the policy is checked in "
    "test_s3_post_policy_pins_key_type_and_size)",
    UPLOAD_EXPIRY: "moto does not enforce a presigned POST policy's expiration; real S3 does "
    "(checked in test_s3_forms_signed_in_the_past_are_expired)",
    DOWNLOAD_EXPIRY: "moto does not enforce a presigned GET's X-Amz-Expires; real S3 does "
    "(checked in test_s3_forms_signed_in_the_past_are_expired)",
}


@pytest.fixture(scope="module")
def moto_s3() -> Iterator[MotoS3]:
    """One moto server per module (starting and stopping one costs about a second); each
    harness takes a fresh bucket on it."""
    with MotoS3() as moto:
        yield moto


def _s3_harness(moto: MotoS3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    aws_environment(monkeypatch, tmp_path)  # nothing may reach AWS or instance metadata
    bucket = moto.create_bucket()
    with httpx.Client(timeout=10) as http:
        storage = S3Storage(**moto.storage_options(bucket), connect_timeout=2, read_timeout=5)
        harness = Harness(
            "s3",
            storage,
            http,
            signed_in_the_past=lambda: botocore_clock_moved_back(monkeypatch),
            unenforced=MOTO_UNENFORCED,
        )
        harness.moto = moto  # type: ignore[attr-defined]  # for the S3-only tests
        harness.bucket = bucket  # type: ignore[attr-defined]
        yield harness


def _local_harness(make_testapp: Callable[..., Any], tmp_path: Path) -> Iterator[Harness]:
    """The local storage of an app (which serves its signed URLs), reached through a WSGI
    transport; it enforces every refusal itself."""
    from totetaxi_core.plugin_api import find_service

    app = make_testapp(
        **{
            "totetaxi.plugins": "documents storage_local",
            "storage_local.folder": str(tmp_path / "files"),
        }
    ).app
    storage = find_service(app.registry, "storage_local.storage")

    @contextmanager
    def signed_in_the_past() -> Iterator[None]:
        real = storage.clock
        storage.clock = lambda: real() - 3600
        try:
            yield
        finally:
            storage.clock = real

    transport = httpx.WSGITransport(app=app, remote_addr="127.0.0.1")
    with httpx.Client(transport=transport, base_url="http://localhost", timeout=10) as http:
        yield Harness("local", storage, http, signed_in_the_past=signed_in_the_past)


# --- the contract -----------------------------------------------------------------------------


class StorageContract(SlotContract):
    """What every ``file_storage`` provider does, driven over HTTP as the browser drives it.

    A provider's test class sets ``providers`` and a :meth:`provide` yielding its
    :class:`Harness`."""

    slot = "file_storage"

    def test_put_stores_what_the_app_gives(self, harness: Harness) -> None:
        key = new_key()
        harness.storage.put(key, PDF, content_type="application/pdf")
        stored = harness.storage.head(key)
        assert stored is not None and stored.size == len(PDF)
        assert harness.storage.read(key, len(PDF) + 1) == PDF
        harness.storage.put(key, b"%PDF-2", content_type="application/pdf")  # replaced
        assert harness.storage.read(key, 100) == b"%PDF-2"

    def test_offers_the_interface(self, harness: Harness) -> None:
        assert isinstance(harness.storage, FileStorage)
        assert harness.storage.name == harness.name

    def test_upload_form_stores_the_file(self, harness: Harness) -> None:
        key = new_key()
        form = harness.storage.presign_upload(
            key, content_type="application/pdf", max_size=10_000, expires_in=300
        )
        assert form.expires_in == 300
        assert harness.storage.head(key) is None
        answer = upload(harness, form, PDF)
        assert 200 <= answer.status_code < 300, answer.text
        assert harness.storage.head(key) == StoredObject(
            key=key, size=len(PDF), content_type="application/pdf"
        )

    def test_read_returns_the_bytes_and_only_limit_of_them(self, harness: Harness) -> None:
        key = stored(harness)
        assert harness.storage.read(key, len(PDF)) == PDF
        assert harness.storage.read(key, len(PDF) + 100) == PDF
        assert harness.storage.read(key, 8) == PDF[:8]
        assert harness.storage.read(key, 1) == PDF[:1]

    def test_keys_hold_their_own_bytes(self, harness: Harness) -> None:
        first, second = stored(harness, b"first file"), stored(harness, b"the second one")
        assert harness.storage.read(first, 100) == b"first file"
        assert harness.storage.read(second, 100) == b"the second one"

    @pytest.mark.parametrize(
        "filename",
        ['Résumé "final".pdf', "..\\..\\etc/passwd; name=x.pdf", "Quittung Übergabe 📦.pdf"],
    )
    def test_download_url_answers_the_bytes_as_an_attachment(
        self, harness: Harness, filename: str
    ) -> None:
        key = stored(harness)
        url = harness.storage.presign_download(
            key, filename=filename, content_type="application/pdf", expires_in=300
        )
        answer = harness.http.get(url)
        assert answer.status_code == 200, answer.text
        assert answer.content == PDF
        assert answer.headers["content-type"].split(";")[0] == "application/pdf"
        exact, fallback = disposition(answer.headers["content-disposition"])
        # The exact (last component of the) name, in UTF-8; an ASCII fallback that names no path
        # and cannot end the quoted string.
        assert exact == safe_name(filename)
        assert fallback.isascii() and fallback
        assert not set(fallback) & set('"\\/;')

    def test_download_names_the_unicode_file(self, harness: Harness) -> None:
        key = stored(harness)
        url = harness.storage.presign_download(
            key, filename='Résumé "final".pdf', content_type="application/pdf", expires_in=60
        )
        exact, fallback = disposition(harness.http.get(url).headers["content-disposition"])
        assert exact == 'Résumé "final".pdf'
        assert fallback.startswith("Resume") and fallback.endswith(".pdf")

    def test_upload_breaking_the_form_is_refused(self, harness: Harness) -> None:
        harness.skip_unless_enforced(UPLOAD_CONDITIONS)
        key = new_key()
        form = harness.storage.presign_upload(
            key, content_type="application/pdf", max_size=100, expires_in=300
        )
        too_big = upload(harness, form, b"x" * 101)
        assert 400 <= too_big.status_code < 500
        other_type = upload(
            harness,
            form,
            b"<html>",
            content_type="text/html",
            fields={**form.fields, "Content-Type": "text/html"},
        )
        assert 400 <= other_type.status_code < 500
        assert harness.storage.head(key) is None

    def test_expired_upload_form_is_refused(self, harness: Harness) -> None:
        harness.skip_unless_enforced(UPLOAD_EXPIRY)
        key = new_key()
        with harness.signed_in_the_past():
            form = harness.storage.presign_upload(
                key, content_type="application/pdf", max_size=10_000, expires_in=60
            )
        answer = upload(harness, form, PDF)
        assert 400 <= answer.status_code < 500
        assert harness.storage.head(key) is None

    def test_expired_download_url_is_refused(self, harness: Harness) -> None:
        harness.skip_unless_enforced(DOWNLOAD_EXPIRY)
        key = stored(harness)
        with harness.signed_in_the_past():
            url = harness.storage.presign_download(
                key, filename="a.pdf", content_type="application/pdf", expires_in=60
            )
        answer = harness.http.get(url)
        assert 400 <= answer.status_code < 500
        assert PDF not in answer.content

    def test_delete_removes_and_deleting_again_is_fine(self, harness: Harness) -> None:
        key = stored(harness)
        harness.storage.delete(key)
        assert harness.storage.head(key) is None
        with pytest.raises(StorageError):
            harness.storage.read(key, 10)
        harness.storage.delete(key)  # already gone: no error
        assert harness.storage.head(key) is None

    def test_unknown_key(self, harness: Harness) -> None:
        key = new_key()
        assert harness.storage.head(key) is None
        with pytest.raises(StorageError):
            harness.storage.read(key, 10)
        harness.storage.delete(key)


class TestStorageContract(StorageContract):
    """The ``file_storage`` contract, run against every storage."""

    providers = ("s3", "local")

    def provide(self, name: str, request: pytest.FixtureRequest) -> Iterator[Harness]:
        tmp_path = request.getfixturevalue("tmp_path")
        if name == "s3":
            yield from _s3_harness(
                request.getfixturevalue("moto_s3"), tmp_path, request.getfixturevalue("monkeypatch")
            )
        elif name == "local":
            yield from _local_harness(request.getfixturevalue("make_testapp"), tmp_path)
        else:
            raise AssertionError(f"no harness for {name!r}")


# --- S3 only ----------------------------------------------------------------------------------


@pytest.fixture
def s3(moto_s3: MotoS3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    yield from _s3_harness(moto_s3, tmp_path, monkeypatch)


def policy_of(form: PresignedUpload) -> dict:
    return json.loads(base64.b64decode(form.fields["policy"]))


def test_s3_post_policy_pins_key_type_and_size(s3: Harness) -> None:
    key = new_key()
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    form = s3.storage.presign_upload(
        key, content_type="image/png", max_size=5_000_000, expires_in=900
    )
    assert form.fields["key"] == key
    assert form.fields["Content-Type"] == "image/png"
    assert form.fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"  # SigV4
    policy = policy_of(form)
    conditions = policy["conditions"]
    assert {"Content-Type": "image/png"} in conditions
    assert ["content-length-range", 1, 5_000_000] in conditions
    assert {"key": key} in conditions
    assert {"bucket": s3.bucket} in conditions  # type: ignore[attr-defined]
    expiration = dt.datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert before + dt.timedelta(seconds=899) <= expiration
    assert expiration <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=901)
    # Path-style on a custom endpoint: the bucket is in the path, not the host name.
    assert form.url == f"{s3.moto.endpoint_url}/{s3.bucket}"  # type: ignore[attr-defined]


def test_s3_stores_under_exactly_the_key_given(s3: Harness) -> None:
    key = stored(s3)
    assert s3.moto.keys(s3.bucket) == [key]  # type: ignore[attr-defined]


def test_s3_forms_signed_in_the_past_are_expired(s3: Harness) -> None:
    """moto refuses neither; this is what real S3 checks, as signed."""
    key = stored(s3)
    now = dt.datetime.now(dt.UTC)
    with s3.signed_in_the_past():
        form = s3.storage.presign_upload(
            new_key(), content_type="application/pdf", max_size=10, expires_in=60
        )
        url = s3.storage.presign_download(
            key, filename="a.pdf", content_type="application/pdf", expires_in=60
        )
    expiration = dt.datetime.fromisoformat(policy_of(form)["expiration"].replace("Z", "+00:00"))
    assert expiration < now
    query = parse_qs(urlsplit(url).query)
    signed_at = dt.datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(
        tzinfo=dt.UTC
    )
    assert signed_at + dt.timedelta(seconds=int(query["X-Amz-Expires"][0])) < now
    # Outside the context the clock is back: a fresh URL is valid for its whole lifetime.
    fresh = s3.storage.presign_download(
        key, filename="a.pdf", content_type="application/pdf", expires_in=60
    )
    fresh_at = parse_qs(urlsplit(fresh).query)["X-Amz-Date"][0]
    assert abs(
        dt.datetime.strptime(fresh_at, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC) - now
    ) < dt.timedelta(seconds=30)


def test_s3_download_url_overrides_the_stored_type(s3: Harness) -> None:
    key = stored(s3, b"<html><script>", content_type="text/html")
    url = s3.storage.presign_download(
        key, filename="x.pdf", content_type="application/pdf", expires_in=60
    )
    query = parse_qs(urlsplit(url).query)
    assert query["response-content-type"] == ["application/pdf"]
    assert s3.http.get(url).headers["content-type"].startswith("application/pdf")


def test_s3_client_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    aws_environment(monkeypatch, tmp_path)
    storage = S3Storage(
        "bucket-name",
        region="eu-west-1",
        connect_timeout=1.5,
        read_timeout=7,
        max_attempts=4,
    )
    config = storage.client.meta.config
    assert config.signature_version == "s3v4"
    assert config.connect_timeout == 1.5
    assert config.read_timeout == 7
    # Four requests in all (botocore's own ``max_attempts`` key would mean four retries).
    assert config.retries == {"total_max_attempts": 4, "mode": "standard"}
    assert storage.client.meta.region_name == "eu-west-1"
    assert (config.s3 or {}).get("addressing_style") != "path"  # AWS: S3's own default
    local = S3Storage("bucket-name", endpoint_url="http://127.0.0.1:9")
    assert local.client.meta.config.s3["addressing_style"] == "path"
    assert local.client.meta.endpoint_url == "http://127.0.0.1:9"


def test_s3_unreachable_endpoint_is_not_permanent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws_environment(monkeypatch, tmp_path)
    storage = S3Storage(
        "bucket-name",
        endpoint_url=f"http://127.0.0.1:{closed_port()}",
        access_key_id="testing",
        secret_access_key="testing",
        connect_timeout=0.5,
        max_attempts=1,
    )
    started = time.monotonic()
    for call in (
        lambda: storage.head("k"),
        lambda: storage.read("k", 10),
        lambda: storage.delete("k"),
    ):
        with pytest.raises(StorageError) as raised:
            call()
        assert not raised.value.permanent
    assert time.monotonic() - started < 5


def test_s3_missing_bucket_is_permanent(s3: Harness) -> None:
    storage = S3Storage(**{**s3.moto.storage_options(), "bucket": "no-such-bucket-here"})  # type: ignore[attr-defined]
    for call in (lambda: storage.read("k", 10), lambda: storage.delete("k")):
        with pytest.raises(StorageError) as raised:
            call()
        assert raised.value.permanent
        assert "NoSuchBucket" in str(raised.value)


@pytest.mark.parametrize(
    ("code", "status", "permanent"),
    [
        ("AccessDenied", 403, True),
        ("InvalidAccessKeyId", 403, True),
        ("InternalError", 500, False),
        ("SlowDown", 503, False),
        ("RequestTimeout", 400, False),
    ],
)
def test_s3_refusals_are_mapped(s3: Harness, code: str, status: int, permanent: bool) -> None:
    storage = s3.storage
    assert isinstance(storage, S3Storage)
    with Stubber(storage.client) as stub:
        for operation in ("head_object", "get_object", "delete_object"):
            stub.add_client_error(operation, service_error_code=code, http_status_code=status)
        for call in (
            lambda: storage.head("k"),
            lambda: storage.read("k", 10),
            lambda: storage.delete("k"),
        ):
            with pytest.raises(StorageError) as raised:
                call()
            assert raised.value.permanent is permanent, (code, str(raised.value))


def test_s3_reads_an_empty_object(s3: Harness) -> None:
    s3.moto.client.put_object(Bucket=s3.bucket, Key="empty", Body=b"")  # type: ignore[attr-defined]
    assert s3.storage.read("empty", 10) == b""
    assert s3.storage.read("empty", 0) == b""


def test_s3_ensure_bucket_creates_it_once(s3: Harness) -> None:
    name = f"totetaxi-new-{uuid.uuid4().hex[:8]}"
    storage = S3Storage(**{**s3.moto.storage_options(), "bucket": name})  # type: ignore[attr-defined]
    storage.ensure_bucket()
    storage.ensure_bucket()  # already there: nothing to do
    key = new_key()
    storage.client.put_object(Bucket=name, Key=key, Body=b"abc")
    assert storage.read(key, 10) == b"abc"
    storage.delete(key)
    storage.client.delete_bucket(Bucket=name)
