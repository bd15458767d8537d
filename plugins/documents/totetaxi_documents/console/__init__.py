"""The staff console pages of the documents plugin.

* ``/console/documents/review`` (:mod:`.pages`): the COI review queue — uploaded certificates
  waiting for a decision, soonest pickup first, each with its review form — and the high-value
  bookings that have no approved COI at all.
* ``/console/documents`` (:mod:`.pages`): document search (booking number or name, category,
  status, created between two New York days), keyset-paged.
* ``POST /console/documents/{id}/review`` (:mod:`.pages`): approve or reject a document, with a
  COI's details (``documents.review``); sent from the queue or the booking page's panel.
* The booking page's "Documents" panel, the dashboard tiles and the menu (:mod:`.panels`, called
  from hooks.py).

Downloads link to the API's ``GET /api/v1/documents/{id}/download``: it accepts the console's
session cookie, answers a 302 to a short-lived URL and audits a staff download.

A decision redirects (303) back to its page with a ``?done=`` code naming a fixed sentence; a
refusal answers the page again with its 4xx status (which vetoes the commit) and the message
next to the field at fault.
"""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.security import NO_PERMISSION_REQUIRED

TEMPLATES = "totetaxi_documents:templates/"
QUEUE = TEMPLATES + "review.jinja2"
SEARCH = TEMPLATES + "search.jinja2"
PANEL = TEMPLATES + "_panel.jinja2"

#: One-shot messages after a change: the query carries a code, never text.
MESSAGES: dict[str, str] = {
    "approved": "Certificate approved: the booking's hold on it is released.",
    "rejected": "Document rejected: the customer is asked for a new one.",
}


def includeme(config: Configurator) -> None:
    # The pages' stylesheet (the console's Content-Security-Policy allows no inline one).
    config.add_static_view(
        "console/static/documents",
        "totetaxi_documents:static",
        cache_max_age=3600,
        permission=NO_PERMISSION_REQUIRED,
    )
    config.add_route("documents_review_queue", "/console/documents/review")
    config.add_route("documents_search", "/console/documents")
    config.add_route("documents_review_form", "/console/documents/{id}/review")
    config.scan(".pages")
