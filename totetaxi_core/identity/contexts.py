"""ACL contexts for objects that belong to somebody.

A context of an :class:`OwnedContext` subclass grants its permission to the owner's principal
only. When the permission is denied, the forbidden view answers 404, never 403: nobody learns
that an object they may not see exists.
"""

from __future__ import annotations

import uuid
from typing import Any

from pyramid.authorization import DENY_ALL, Allow
from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound
from pyramid.request import Request

from .models import SavedAddress
from .permissions import Permission


class OwnedContext:
    """An object reachable only by its owner; 404 to everyone else who is signed in, 401 to a
    caller who is not (before the object is looked up, so that answer tells nothing either)."""

    model: Any = None
    noun = "object"  # in the 404 sentence
    permission: str = Permission.CUSTOMER_SELF
    owner_attribute = "customer_id"
    owner_kind = "customer"
    #: Whether a caller who is not signed in may reach the object (a guest holding a booking's
    #: tracking token); if not, such a caller gets 401, as for any view needing a sign-in.
    admits_anonymous = False

    def __init__(self, request: Request) -> None:
        self.request = request
        if not self.admits_anonymous and request.identity is None:
            raise HTTPForbidden()  # the forbidden view: 401 (API), the login page (console)
        self.obj = self._load(request.matchdict.get("id", ""))
        owner = getattr(self.obj, self.owner_attribute)
        self.__acl__ = [(Allow, f"{self.owner_kind}:{owner}", self.permission), DENY_ALL]

    def _load(self, raw_id: str) -> Any:
        try:
            obj = self.request.dbsession.get(self.model, uuid.UUID(raw_id))
        except ValueError:
            obj = None
        if obj is None or getattr(obj, "deleted_at", None) is not None:
            raise self.not_found()
        return obj

    def not_found(self) -> HTTPNotFound:
        """The answer for a missing object, and for one that is not the caller's: the same."""
        return HTTPNotFound(f"No {self.noun} with id {self.request.matchdict.get('id', '')}.")


class AddressContext(OwnedContext):
    model = SavedAddress
    noun = "saved address"
