"""The permissions of the documents plugin and who holds them.

Reading (the review queue, search, any booking's documents) takes the core's
``Permission.STAFF_READ``; deciding on a COI and uploading to any booking takes :data:`REVIEW`,
granted to the ``staff`` role (and so to admins).
"""

from __future__ import annotations

#: Approve or reject a document; upload to any booking.
REVIEW = "documents.review"

#: The manifest's ``permissions``: each permission and the least role that holds it.
GRANTS: dict[str, str] = {REVIEW: "staff"}
