"""Uploads and downloads through the local storage: the checks, and who may do what."""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import unquote

from support.documents import (
    DAY,
    EXE,
    PDF,
    PNG,
    complete,
    documents,
    files_in,
    guest_booking,
    post_form,
    rows,
    start,
    upload,
)
from webtest import TestApp


def test_a_guest_uploads_a_pdf_and_downloads_it(app: TestApp, folder: Path) -> None:
    booking = guest_booking(app)
    document = upload(app, booking, filename='Résumé "final"; v2.pdf')
    assert document["status"] == "uploaded"
    assert document["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert document["filename"] == 'Résumé "final"; v2.pdf'
    assert "storage_key" not in document  # staff only
    [stored] = files_in(folder)
    assert stored.read_bytes() == PDF
    assert stored.relative_to(folder).parts[0] == "documents"  # the key is ours, not the name
    token = f"?token={booking['tracking_token']}"
    listed = app.get(f"/api/v1/bookings/{booking['id']}/documents{token}").json
    assert [d["id"] for d in listed["items"]] == [document["id"]]
    redirect = app.get(f"/api/v1/documents/{document['id']}/download{token}", status=302)
    assert redirect.headers["Cache-Control"] == "no-store"
    fetched = app.get(redirect.location)
    assert fetched.body == PDF
    assert fetched.content_type == "application/pdf"
    disposition = fetched.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="Resume _final__ v2.pdf"; ')
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == 'Résumé "final"; v2.pdf'


def test_bad_requests_are_refused_before_anything_is_stored(app: TestApp, folder: Path) -> None:
    booking = guest_booking(app)
    too_big = start(app, booking, b"x" * (10 * 1024 * 1024 + 1), status=413)
    assert too_big["errors"][0]["name"] == "size"
    exe = start(app, booking, EXE, "setup.exe", "application/x-msdownload", status=415)
    assert exe["errors"][0]["name"] == "content_type"
    png_as_pdf = start(app, booking, PNG, "photo.pdf", "image/png", status=400)
    assert png_as_pdf["errors"][0]["name"] == "filename"
    assert documents(app) == [] and files_in(folder) == []


def test_a_stored_file_that_is_not_what_was_declared_is_deleted(app: TestApp, folder: Path) -> None:
    booking = guest_booking(app)
    # A PNG sent as a PDF (name and type say PDF): the first bytes say otherwise.
    started = start(app, booking, PNG, "scan.pdf", "application/pdf")
    post_form(app, started["upload"], PNG, "application/pdf")
    refused = complete(app, booking, started["document_id"], status=415)
    assert refused["errors"][0]["name"] == "content_type"
    # An executable named .pdf: the same.
    started = start(app, booking, EXE, "invoice.pdf", "application/pdf")
    post_form(app, started["upload"], EXE, "application/pdf")
    complete(app, booking, started["document_id"], status=415)
    # A file longer than declared: the form allows the declared size only (the storage
    # refuses it; with S3 on moto, which enforces nothing, complete does: test_documents_s3).
    started = start(app, booking, PDF, "short.pdf", "application/pdf")
    post_form(app, started["upload"], PDF + b"more", "application/pdf", status=400)
    assert complete(app, booking, started["document_id"], status=409)["errors"][0]["name"] == (
        "file"
    )
    assert files_in(folder) == []
    refused = [d for d in documents(app) if d.status == "expired"]
    assert len(refused) == 2 and all(d.purged_at and d.purge_reason for d in refused)


def test_a_path_in_the_file_name_names_nothing(app: TestApp, folder: Path) -> None:
    booking = guest_booking(app)
    document = upload(app, booking, filename="../../../etc/passwd.pdf")
    assert document["filename"] == "passwd.pdf"
    [stored] = files_in(folder)
    assert folder in stored.parents and "passwd" not in str(stored)


def test_a_replayed_complete_changes_nothing(app: TestApp) -> None:
    booking = guest_booking(app)
    document = upload(app, booking)
    again = complete(app, booking, document["id"], status=409)
    assert again["errors"][0]["name"] == "status"
    assert [d.status for d in documents(app)] == ["uploaded"]


def test_an_expired_upload_form_is_refused_by_the_storage(app: TestApp, folder: Path) -> None:
    from totetaxi_core.plugin_api import find_service

    booking = guest_booking(app)
    started = start(app, booking)
    storage = find_service(app.app.registry, "storage_local.storage")
    real = storage.clock
    storage.clock = lambda: real() + 3600
    try:
        refused = post_form(app, started["upload"], PDF, "application/pdf", status=403)
    finally:
        storage.clock = real
    assert refused.json["errors"][0]["name"] == "signature"
    forged = dict(started["upload"])
    forged["fields"] = {**forged["fields"], "max_size": str(10**9)}
    post_form(app, forged, PDF, "application/pdf", status=403)
    assert files_in(folder) == []


def test_another_customer_never_reaches_a_document(app: TestApp) -> None:
    from totetaxi_core.testing import bearer, make_customer

    a = make_customer(app.app.registry)
    b = make_customer(app.app.registry)
    a_headers, b_headers = bearer(app, a.email), bearer(app, b.email)
    from totetaxi_core.testing import booking_body

    booking = app.post_json(
        "/api/v1/bookings", booking_body(DAY, guest=False), headers=a_headers
    ).json
    started = app.post_json(
        f"/api/v1/bookings/{booking['id']}/documents/uploads",
        {
            "category": "other",
            "filename": "a.pdf",
            "content_type": "application/pdf",
            "size": len(PDF),
        },
        headers=a_headers,
        status=201,
    ).json
    post_form(app, started["upload"], PDF, "application/pdf")
    app.post_json(
        f"/api/v1/bookings/{booking['id']}/documents/{started['document_id']}/complete",
        None,
        headers=a_headers,
    )
    doc = started["document_id"]
    app.get(f"/api/v1/documents/{doc}/download", headers=b_headers, status=404)
    app.get(f"/api/v1/bookings/{booking['id']}/documents", headers=b_headers, status=404)
    app.get(f"/api/v1/documents/{doc}/download", status=404)
    app.get(f"/api/v1/documents/{doc}/download", headers=a_headers, status=302)


def test_a_staff_download_is_audited(app: TestApp, staff: dict[str, str]) -> None:
    from sqlalchemy import select

    from totetaxi_core.audit.models import AuditRecord

    booking = guest_booking(app)
    document = upload(app, booking)
    app.get(f"/api/v1/documents/{document['id']}/download", headers=staff, status=302)
    records = rows(app, select(AuditRecord).where(AuditRecord.action == "documents.downloaded"))
    assert [str(r.target_id) for r in records] == [document["id"]]


def test_a_form_reused_after_complete_cannot_replace_the_checked_file(app: TestApp) -> None:
    booking = guest_booking(app)
    started = start(app, booking)
    post_form(app, started["upload"], PDF, "application/pdf")
    complete(app, booking, started["document_id"])
    # Within the form's validity, something else is posted with it: it lands in the upload
    # slot, never on the checked file.
    post_form(app, started["upload"], b"%PDF-1.7 forged" + b"x" * 100, "application/pdf")
    token = f"?token={booking['tracking_token']}"
    redirect = app.get(f"/api/v1/documents/{started['document_id']}/download{token}", status=302)
    assert app.get(redirect.location).body == PDF
