"""The documents plugins' rows of the permission matrix (see totetaxi_core.testing.permissions).

Callers in the order anonymous, customer A, customer B, viewer, staff, admin; ``{booking}`` is
customer A's booking.
"""

from __future__ import annotations

from typing import Any

NO_DOCUMENT = "00000000-0000-4000-8000-000000000000"


def rows(kit: Any) -> dict[tuple[str, str], tuple[str, Any, dict[str, int]]]:
    """Every endpoint of the documents plugin, with who may call it."""
    booking = "/api/v1/bookings/{booking}/documents"
    return {
        # A booking's documents: its owner and staff (404 to others); writes not for viewers.
        ("GET", "/api/v1/bookings/{id}/documents"): (
            booking,
            None,
            kit.row(404, 200, 404, 200, 200, 200),
        ),
        ("POST", "/api/v1/bookings/{id}/documents/uploads"): (
            booking + "/uploads",
            {},
            kit.row(404, 400, 404, 403, 400, 400),
        ),
        ("POST", "/api/v1/bookings/{id}/documents/{doc_id}/complete"): (
            f"{booking}/{NO_DOCUMENT}/complete",
            None,
            kit.row(404, 404, 404, 403, 404, 404),
        ),
        ("GET", "/api/v1/documents/{id}/download"): (
            f"/api/v1/documents/{NO_DOCUMENT}/download",
            None,
            kit.row(404, 404, 404, 404, 404, 404),
        ),
        ("POST", "/api/v1/staff/documents/{id}/review"): (
            f"/api/v1/staff/documents/{NO_DOCUMENT}/review",
            {},
            kit.row(401, 403, 403, 403, 400, 400),
        ),
        ("GET", "/api/v1/staff/documents"): ("/api/v1/staff/documents", None, kit.STAFF_API_READ),
        # Its console: every staff role reads the pages; the review form takes documents.review
        # (a viewer: 403); staff and admins reach the unknown document (404). Anonymous callers
        # are sent to the login page.
        ("GET", "/console/documents/review"): ("/console/documents/review", None, kit.STAFF_PAGE),
        ("GET", "/console/documents"): ("/console/documents", None, kit.STAFF_PAGE),
        ("POST", "/console/documents/{id}/review"): (
            f"/console/documents/{NO_DOCUMENT}/review",
            {},
            kit.row(302, 403, 403, 403, 404, 404),
        ),
        # The pages' stylesheet: a public file.
        ("GET", "console/static/documents/*subpath"): (
            "/console/static/documents/documents.css",
            None,
            kit.PUBLIC,
        ),
    }


def local_rows(kit: Any) -> dict[tuple[str, str], tuple[str, Any, dict[str, int]]]:
    """The local storage's signed routes: without a signature, 403 to anyone."""
    return {
        ("POST", "/api/v1/storage/local/upload"): (
            "/api/v1/storage/local/upload",
            None,
            kit.row(*[403] * 6),
        ),
        ("GET", "/api/v1/storage/local/files/*key"): (
            "/api/v1/storage/local/files/documents/x",
            None,
            kit.row(*[403] * 6),
        ),
    }


def s3_rows(kit: Any) -> dict[tuple[str, str], tuple[str, Any, dict[str, int]]]:
    """S3 serves the files itself: the app has no route of its own for it."""
    return {}
