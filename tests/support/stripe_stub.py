"""A local stand-in for the Stripe API, speaking its wire format, for the Stripe adapter's tests.

``StripeStub()`` serves on ``127.0.0.1`` (a free port) from a thread; point the ``stripe``
library at ``stub.url`` (``StripeClient(key, base_addresses={"api": stub.url})``) and close it
with ``stub.close()`` or use it as a context manager.

What it speaks, as Stripe does:

* form-encoded bodies (and GET query strings) in bracket notation: ``metadata[booking]=B1``,
  ``payment_method_types[0]=card`` (what stripe-python sends) or ``payment_method_types[]=card``,
  ``expand[0]=payment_method``; unknown parameters are refused (``parameter_unknown``);
* ``Authorization: Bearer <key>``: only the stub's ``api_key`` is accepted, otherwise 401;
* ``Idempotency-Key`` on POST: the same key with the same request answers the stored response
  (header ``Idempotent-Replayed: true``); the same key with another request is a 400
  ``idempotency_error``. Keys are scoped to the API key. Like Stripe, a result is stored once the
  endpoint has started executing (successes, card declines, state errors); refused
  authentication, parameter validation errors and injected faults are not stored;
* JSON objects (``id``, ``object``, ...) with the fields Stripe returns, errors as
  ``{"error": {"type", "code", "message", "param", "decline_code", "payment_intent", ...}}``
  with Stripe's status codes (400 invalid request, 401, 402 card errors, 404 resource_missing);
* test PaymentMethods: ``pm_card_visa`` (succeeds; visa 4242), ``pm_card_mastercard``
  (succeeds; mastercard 4444), ``pm_card_chargeDeclined`` (402 ``card_declined`` /
  ``generic_decline``; the intent goes back to ``requires_payment_method`` with
  ``last_payment_error``) and ``pm_card_authenticationRequired`` (``requires_action`` with a
  ``next_action``). Using a test id in a payment, a setup or an attach creates a new
  ``pm_...`` PaymentMethod, as Stripe does; that new id is what gets attached to a customer.
  Retrieving a test id itself answers an unattached PaymentMethod with that id.

Endpoints: ``/v1/payment_intents`` (create, list, retrieve, confirm, cancel), ``/v1/refunds``
(create, retrieve), ``/v1/charges/{id}``, ``/v1/customers`` (create, retrieve),
``/v1/customers/{id}/payment_methods``, ``/v1/setup_intents`` (create, retrieve, confirm),
``/v1/payment_methods`` (list by customer, retrieve, attach, detach).

Test helpers: :attr:`StripeStub.requests` records every request (:class:`RecordedRequest`);
:meth:`StripeStub.fail_next` makes the next requests fail (5xx, 429, ...) before they reach an
endpoint; :meth:`StripeStub.complete_authentication` plays the customer finishing 3-D Secure;
:attr:`StripeStub.events` holds the events Stripe would have sent, and :meth:`StripeStub.event`
/ :meth:`StripeStub.signed` give signed webhook payloads (``Stripe-Signature`` header).

Deviations from real Stripe are listed in :data:`DEVIATIONS`.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import string
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import stripe

from support.loopback import LoopbackServer

DEVIATIONS = """
* Only card PaymentMethods and the test ids above exist; there are no Charges beyond what a
  PaymentIntent creates, no captures (capture_method is always automatic), no balance
  transactions, no Connect, no 3-D Secure pages (use complete_authentication()).
* Refunds succeed at once. More than the unrefunded amount answers 400 invalid_request_error
  with code amount_too_large and Stripe's sentence "Refund amount ($X) is greater than
  unrefunded amount on charge ($Y)" (Stripe's exact code for this case is not documented; the
  error-code list gives amount_too_large); a fully refunded charge answers charge_already_refunded.
  A refund of an intent without a successful charge answers 400 without a code.
* Parameters are checked by name per endpoint and for the few values the adapter sends (amount,
  currency, reason, setup_future_usage, usage, payment_method_types); other values are accepted.
* The idempotency fingerprint is method + path + the parsed parameters; Stripe compares the
  parameters only, and also refuses a concurrent request with the same key (409), which the stub
  never sees because it handles one request at a time.
* Listing PaymentMethods needs ``customer`` (Stripe also lists Treasury methods without one);
  lists are newest first and honour ``limit`` and ``starting_after`` only.
* Event delivery is not simulated: events are recorded in ``stub.events`` for a test to sign
  and post itself.
"""

#: The test PaymentMethods: card facts and what happens when they are charged.
TEST_CARDS: dict[str, dict[str, Any]] = {
    "pm_card_visa": {
        "brand": "visa",
        "last4": "4242",
        "outcome": "succeeded",
        "fingerprint": "Xt5EWLLDS7FJjR1c",
    },
    "pm_card_mastercard": {
        "brand": "mastercard",
        "last4": "4444",
        "outcome": "succeeded",
        "fingerprint": "lmRP0NMBm8ACmr1D",
    },
    "pm_card_chargeDeclined": {
        "brand": "visa",
        "last4": "0002",
        "outcome": "declined",
        "fingerprint": "cBKGw5RkZ8L6JrjC",
    },
    "pm_card_authenticationRequired": {
        "brand": "visa",
        "last4": "3155",
        "outcome": "authentication_required",
        "fingerprint": "pdMMGNZRMuSzQfAM",
    },
}

STATUS_TEXT = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Request Failed",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}

CANCELABLE = (
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
    "processing",
)
CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")

_ALNUM = string.ascii_letters + string.digits


def new_id(prefix: str) -> str:
    """An id in Stripe's style: ``pi_3N...`` (prefix, underscore, 24 characters)."""
    return f"{prefix}_{''.join(secrets.choice(_ALNUM) for _ in range(24))}"


def parse_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Bracket-notation form pairs as nested dicts and lists (``a[b][0]=x``)."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = re.fullmatch(r"([^\[\]]+)((?:\[[^\[\]]*\])*)", key)
        if not match:
            raise StripeFailure(
                400,
                invalid(f"Invalid parameter name: {key}", key, code="parameter_unknown"),
                store=False,
            )
        parts = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node: Any = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if part == "":  # a[]=x: append
                if not isinstance(node, list):
                    raise StripeFailure(400, invalid(f"Invalid array: {key}", key), store=False)
                if last:
                    node.append(value)
                else:
                    node.append({})
                    node = node[-1]
                continue
            nxt = parts[index + 1] if not last else None
            container: Any = value if last else ([] if nxt == "" else {})
            if isinstance(node, list):
                raise StripeFailure(400, invalid(f"Invalid array: {key}", key), store=False)
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, container)
    return _lists(root)


def _lists(node: Any, name: str = "") -> Any:
    """Turn dicts keyed ``0``, ``1``, ... (``a[0]=x&a[1]=y``) into lists (not metadata)."""
    if isinstance(node, list):
        return [_lists(item) for item in node]
    if isinstance(node, dict):
        converted = {key: _lists(value, key) for key, value in node.items()}
        if converted and name != "metadata" and all(key.isdigit() for key in converted):
            return [converted[key] for key in sorted(converted, key=int)]
        return converted
    return node


def invalid(
    message: str, param: str | None = None, *, code: str | None = None, **extra: Any
) -> dict[str, Any]:
    """An ``invalid_request_error`` body."""
    error: dict[str, Any] = {"type": "invalid_request_error", "message": message}
    if code:
        error["code"] = code
        error["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
    if param:
        error["param"] = param
    error.update(extra)
    return {"error": error}


class StripeFailure(Exception):
    """An error answer: HTTP ``status`` with ``body``; ``store`` keeps it for idempotency."""

    def __init__(self, status: int, body: dict[str, Any], *, store: bool = True) -> None:
        super().__init__(body["error"].get("message"))
        self.status, self.body, self.store = status, body, store


def missing(kind: str, object_id: str, param: str = "id", status: int = 404) -> StripeFailure:
    """Stripe's ``resource_missing``: 404 for the path's object, 400 for a parameter's."""
    return StripeFailure(
        status, invalid(f"No such {kind}: '{object_id}'", param, code="resource_missing")
    )


@dataclass
class RecordedRequest:
    """One request as the stub received it."""

    method: str
    path: str
    query: str
    headers: Message
    body: str
    form: list[tuple[str, str]]
    params: dict[str, Any]
    status: int = 0
    response: dict[str, Any] = field(default_factory=dict)
    replayed: bool = False

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("Idempotency-Key")

    @property
    def authorization(self) -> str | None:
        return self.headers.get("Authorization")

    @property
    def content_type(self) -> str | None:
        return self.headers.get("Content-Type")


@dataclass
class _Stored:
    fingerprint: str
    status: int
    body: dict[str, Any]


class StripeStub(LoopbackServer):
    """The stub server and its state (see the module docstring)."""

    def __init__(
        self,
        api_key: str = "sk_test_stub_4eC39HqLyjWDarjtT1zdp7dc",
        webhook_secret: str = "whsec_stub_5WbX5kEWLBiSCRqy0j5DcBHgKPoEzdMW",
    ) -> None:
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.requests: list[RecordedRequest] = []
        self.events: list[dict[str, Any]] = []
        self.payment_intents: dict[str, dict[str, Any]] = {}
        self.payment_methods: dict[str, dict[str, Any]] = {}
        self.customers: dict[str, dict[str, Any]] = {}
        self.setup_intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self._idempotency: dict[tuple[str, str], _Stored] = {}
        self._faults: list[tuple[int, dict[str, Any], dict[str, str]]] = []
        self._outcomes: dict[str, str] = {}  # PaymentMethod id -> test outcome
        self._lock = threading.RLock()
        self._serve(_handler_for(self), "stripe-stub")

    # --- lifecycle ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- test helpers -------------------------------------------------------------------

    def fail_next(
        self,
        count: int = 1,
        status: int = 500,
        *,
        error_type: str = "api_error",
        message: str = "An unknown error occurred",
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next ``count`` requests with ``status`` before they reach an endpoint."""
        error: dict[str, Any] = {"type": error_type, "message": message}
        if code:
            error["code"] = code
        with self._lock:
            self._faults.extend([(status, {"error": error}, dict(headers or {}))] * count)

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        """The recorded requests with that method and path (``POST``, ``/v1/refunds``)."""
        return [r for r in self.requests if r.method == method.upper() and r.path == path]

    def complete_authentication(self, intent_id: str, succeed: bool = True) -> dict[str, Any]:
        """The customer finishes (or fails) 3-D Secure on a ``requires_action`` intent."""
        with self._lock:
            intent = self.payment_intents[intent_id]
            if intent["status"] != "requires_action":
                raise ValueError(f"{intent_id} is {intent['status']}, not requires_action")
            method = self.payment_methods[intent["payment_method"]]
            intent["next_action"] = None
            if succeed:
                self._charge_succeeded(intent, method)
            else:
                self._charge_failed(
                    intent,
                    method,
                    "payment_intent_authentication_failure",
                    "The provided PaymentMethod has failed authentication. You can provide "
                    "payment_method_data or a new PaymentMethod to attempt to fulfill this "
                    "PaymentIntent again.",
                    None,
                    charge=False,
                )
            return copy.deepcopy(intent)

    def event(
        self,
        type: str,
        obj: dict[str, Any],
        *,
        secret: str | None = None,
        timestamp: int | None = None,
    ) -> tuple[bytes, str]:
        """A new event of ``type`` about ``obj``, as a signed webhook (payload, header)."""
        return self.signed(self._make_event(type, obj), secret=secret, timestamp=timestamp)

    def signed(
        self, event: dict[str, Any], *, secret: str | None = None, timestamp: int | None = None
    ) -> tuple[bytes, str]:
        """``event`` as the raw webhook body and its ``Stripe-Signature`` header."""
        payload = json.dumps(event, indent=2).encode()
        return payload, self.sign(payload, secret=secret, timestamp=timestamp)

    def sign(
        self, payload: bytes, *, secret: str | None = None, timestamp: int | None = None
    ) -> str:
        """The ``Stripe-Signature`` header for ``payload`` (the stub's secret by default)."""
        return stripe.WebhookSignature.generate_signature_header(
            payload.decode(), secret or self.webhook_secret, timestamp
        )

    # --- the HTTP side ------------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: Message, body: bytes
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Answer one request: ``(status, json body, extra headers)``."""
        parts = urlsplit(target)
        text = body.decode("utf-8", "replace")
        raw = parts.query if method in ("GET", "DELETE") else text
        form = parse_qsl(raw, keep_blank_values=True)
        record = RecordedRequest(method, parts.path, parts.query, headers, text, form, {})
        with self._lock:
            self.requests.append(record)
            status, answer, extra = self._answer(method, parts.path, headers, form, record)
            record.status, record.response = status, answer
            record.replayed = extra.get("Idempotent-Replayed") == "true"
        extra.setdefault("Request-Id", new_id("req"))
        return status, answer, extra

    def _answer(
        self,
        method: str,
        path: str,
        headers: Message,
        form: list[tuple[str, str]],
        record: RecordedRequest,
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        auth = headers.get("Authorization") or ""
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            return (
                401,
                {
                    "error": {
                        "type": "invalid_request_error",
                        "message": "You did not provide an API key. You need to provide your API key "  # noqa: E501
                        "in the Authorization header, using Bearer auth (e.g. "
                        "'Authorization: Bearer YOUR_SECRET_KEY').",
                    }
                },
                {},
            )
        key = auth[7:].strip()
        if not secrets.compare_digest(key.encode(), self.api_key.encode()):
            shown = key[:8] + "*" * max(0, len(key) - 12) + key[-4:]
            return (
                401,
                {
                    "error": {
                        "type": "invalid_request_error",
                        "message": f"Invalid API Key provided: {shown}",
                    }
                },
                {},
            )
        if self._faults:
            status, answer, extra = self._faults.pop(0)
            return status, copy.deepcopy(answer), dict(extra)
        try:
            params = parse_form(form)
        except StripeFailure as failure:
            return failure.status, failure.body, {}
        record.params = params

        idem = headers.get("Idempotency-Key") if method == "POST" else None
        fingerprint = json.dumps([method, path, params], sort_keys=True)
        if idem:
            stored = self._idempotency.get((key, idem))
            if stored is not None:
                if stored.fingerprint != fingerprint:
                    return (
                        400,
                        {
                            "error": {
                                "type": "idempotency_error",
                                "message": "Keys for idempotent requests can only be used with the same "  # noqa: E501
                                "parameters they were first used with. Try using a key other "
                                f"than '{idem}' if you meant to execute a different request.",
                            }
                        },
                        {},
                    )
                return (
                    stored.status,
                    copy.deepcopy(stored.body),
                    {"Idempotent-Replayed": "true", "Idempotency-Key": idem},
                )
        try:
            status, answer = 200, self._route(method, path, params)
            store = True
        except StripeFailure as failure:
            status, answer, store = failure.status, failure.body, failure.store
        if idem and store:
            self._idempotency[(key, idem)] = _Stored(fingerprint, status, copy.deepcopy(answer))
        extra = {"Idempotency-Key": idem} if idem else {}
        return status, answer, extra

    # --- routing ------------------------------------------------------------------------

    _ROUTES: tuple[tuple[str, str, str], ...] = (
        ("POST", r"/v1/payment_intents", "create_payment_intent"),
        ("GET", r"/v1/payment_intents", "list_payment_intents"),
        ("GET", r"/v1/payment_intents/([^/]+)", "retrieve_payment_intent"),
        ("POST", r"/v1/payment_intents/([^/]+)/confirm", "confirm_payment_intent"),
        ("POST", r"/v1/payment_intents/([^/]+)/cancel", "cancel_payment_intent"),
        ("POST", r"/v1/refunds", "create_refund"),
        ("GET", r"/v1/refunds/([^/]+)", "retrieve_refund"),
        ("GET", r"/v1/charges/([^/]+)", "retrieve_charge"),
        ("POST", r"/v1/customers", "create_customer"),
        ("GET", r"/v1/customers/([^/]+)", "retrieve_customer"),
        ("GET", r"/v1/customers/([^/]+)/payment_methods", "list_customer_payment_methods"),
        ("POST", r"/v1/setup_intents", "create_setup_intent"),
        ("GET", r"/v1/setup_intents/([^/]+)", "retrieve_setup_intent"),
        ("POST", r"/v1/setup_intents/([^/]+)/confirm", "confirm_setup_intent"),
        ("GET", r"/v1/payment_methods", "list_payment_methods"),
        ("GET", r"/v1/payment_methods/([^/]+)", "retrieve_payment_method"),
        ("POST", r"/v1/payment_methods/([^/]+)/attach", "attach_payment_method"),
        ("POST", r"/v1/payment_methods/([^/]+)/detach", "detach_payment_method"),
    )

    _ALLOWED: dict[str, frozenset[str]] = {
        "create_payment_intent": frozenset(
            {
                "amount",
                "currency",
                "customer",
                "payment_method",
                "payment_method_types",
                "confirm",
                "setup_future_usage",
                "metadata",
                "description",
                "receipt_email",
                "automatic_payment_methods",
                "off_session",
                "return_url",
                "statement_descriptor",
                "capture_method",
                "expand",
            }
        ),
        "list_payment_intents": frozenset({"customer", "limit", "starting_after", "expand"}),
        "retrieve_payment_intent": frozenset({"client_secret", "expand"}),
        "confirm_payment_intent": frozenset(
            {
                "payment_method",
                "setup_future_usage",
                "off_session",
                "return_url",
                "receipt_email",
                "expand",
            }
        ),
        "cancel_payment_intent": frozenset({"cancellation_reason", "expand"}),
        "create_refund": frozenset(
            {"payment_intent", "charge", "amount", "reason", "metadata", "expand"}
        ),
        "retrieve_refund": frozenset({"expand"}),
        "retrieve_charge": frozenset({"expand"}),
        "create_customer": frozenset(
            {"email", "name", "description", "phone", "metadata", "expand"}
        ),
        "retrieve_customer": frozenset({"expand"}),
        "list_customer_payment_methods": frozenset({"type", "limit", "starting_after", "expand"}),
        "create_setup_intent": frozenset(
            {
                "customer",
                "payment_method_types",
                "usage",
                "metadata",
                "payment_method",
                "confirm",
                "description",
                "automatic_payment_methods",
                "return_url",
                "expand",
            }
        ),
        "retrieve_setup_intent": frozenset({"client_secret", "expand"}),
        "confirm_setup_intent": frozenset({"payment_method", "return_url", "expand"}),
        "list_payment_methods": frozenset(
            {"customer", "type", "limit", "starting_after", "expand"}
        ),
        "retrieve_payment_method": frozenset({"expand"}),
        "attach_payment_method": frozenset({"customer", "expand"}),
        "detach_payment_method": frozenset({"expand"}),
    }

    def _route(self, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        for verb, pattern, name in self._ROUTES:
            match = re.fullmatch(pattern, path)
            if verb == method and match:
                for param in params:
                    if param not in self._ALLOWED[name]:
                        raise StripeFailure(
                            400,
                            invalid(
                                f"Received unknown parameter: {param}",
                                param,
                                code="parameter_unknown",
                            ),
                            store=False,
                        )
                answer = getattr(self, "_" + name)(*match.groups(), params)
                return self._expand(copy.deepcopy(answer), params.get("expand") or [])
        raise StripeFailure(
            404,
            {
                "error": {
                    "type": "invalid_request_error",
                    "message": f"Unrecognized request URL ({method}: {path}). Please see "
                    "https://stripe.com/docs or we can help at https://support.stripe.com/.",
                }
            },
            store=False,
        )

    def _expand(self, obj: dict[str, Any], paths: list[str]) -> dict[str, Any]:
        stores = {
            "payment_method": self.payment_methods,
            "customer": self.customers,
            "latest_charge": self.charges,
            "payment_intent": self.payment_intents,
            "charge": self.charges,
        }
        if not isinstance(paths, list):
            raise StripeFailure(400, invalid("Invalid array", "expand"), store=False)
        for name in paths:
            if name not in stores:
                raise StripeFailure(
                    400,
                    invalid(f"This property cannot be expanded ({name}).", "expand"),
                    store=False,
                )
            value = obj.get(name)
            if isinstance(value, str) and value in stores[name]:
                obj[name] = self._public(copy.deepcopy(stores[name][value]))
        return obj

    # --- shared pieces ------------------------------------------------------------------

    @staticmethod
    def _now() -> int:
        return int(time.time())

    @staticmethod
    def _positive_int(params: dict[str, Any], name: str, required: bool = True) -> int | None:
        raw = params.get(name)
        if raw is None:
            if required:
                raise StripeFailure(
                    400,
                    invalid(f"Missing required param: {name}.", name, code="parameter_missing"),
                    store=False,
                )
            return None
        if not isinstance(raw, str) or not raw.isdigit():
            raise StripeFailure(
                400,
                invalid(f"Invalid integer: {raw}", name, code="parameter_invalid_integer"),
                store=False,
            )
        return int(raw)

    @staticmethod
    def _metadata(params: dict[str, Any]) -> dict[str, str]:
        metadata = params.get("metadata") or {}
        if metadata == "":
            return {}
        if not isinstance(metadata, dict) or any(not isinstance(v, str) for v in metadata.values()):
            raise StripeFailure(400, invalid("Invalid hash", "metadata"), store=False)
        return dict(metadata)

    @staticmethod
    def _bool(params: dict[str, Any], name: str) -> bool:
        raw = params.get(name, "false")
        if raw not in ("true", "false"):
            raise StripeFailure(400, invalid(f"Invalid boolean: {raw}", name), store=False)
        return raw == "true"

    def _method_types(self, params: dict[str, Any]) -> list[str]:
        types = params.get("payment_method_types", ["card"])
        if not isinstance(types, list) or any(t != "card" for t in types):
            raise StripeFailure(
                400,
                invalid("The stub supports only card payment methods.", "payment_method_types"),
                store=False,
            )
        return types

    def _record_event(self, type: str, obj: dict[str, Any]) -> None:
        self.events.append(self._make_event(type, obj))

    def _make_event(self, type: str, obj: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": new_id("evt"),
            "object": "event",
            "api_version": stripe.api_version,
            "created": self._now(),
            "data": {"object": copy.deepcopy(obj)},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": type,
        }

    def _new_card_method(self, test_id: str, created: int | None = None) -> dict[str, Any]:
        card = TEST_CARDS[test_id]
        year = time.gmtime().tm_year + 1
        method_id = test_id if created is None else new_id("pm")
        method = {
            "id": method_id,
            "object": "payment_method",
            "allow_redisplay": "unspecified",
            "billing_details": {
                "address": {
                    "city": None,
                    "country": None,
                    "line1": None,
                    "line2": None,
                    "postal_code": None,
                    "state": None,
                },
                "email": None,
                "name": None,
                "phone": None,
                "tax_id": None,
            },
            "card": {
                "brand": card["brand"],
                "checks": {
                    "address_line1_check": None,
                    "address_postal_code_check": None,
                    "cvc_check": None,
                },
                "country": "US",
                "display_brand": card["brand"],
                "exp_month": 8,
                "exp_year": year,
                "fingerprint": card["fingerprint"],
                "funding": "credit",
                "generated_from": None,
                "last4": card["last4"],
                "networks": {"available": [card["brand"]], "preferred": None},
                "regulated_status": "unregulated",
                "three_d_secure_usage": {"supported": True},
                "wallet": None,
            },
            "created": created or self._now(),
            "customer": None,
            "livemode": False,
            "metadata": {},
            "type": "card",
        }
        return method

    def _use_method(
        self, method_id: Any, param: str = "payment_method", customer: str | None = None
    ) -> dict[str, Any]:
        """The PaymentMethod a payment or setup uses (a test id makes a fresh one)."""
        if not isinstance(method_id, str) or not method_id:
            raise StripeFailure(400, invalid(f"Invalid string: {method_id!r}", param), store=False)
        if method_id in TEST_CARDS:
            method = self._new_card_method(method_id, created=self._now())
            self.payment_methods[method["id"]] = method
            self._outcomes[method["id"]] = TEST_CARDS[method_id]["outcome"]
            return method
        method = self.payment_methods.get(method_id)
        if method is None:
            raise missing("PaymentMethod", method_id, param, status=400)
        if method.get("_detached"):
            raise StripeFailure(
                400,
                invalid(
                    "The provided PaymentMethod was previously used with a PaymentIntent without "
                    "Customer attachment, shared with a connected account without Customer "
                    "attachment, or was detached from a Customer. It may not be used again. To use "
                    "a PaymentMethod multiple times, you must attach it to a Customer first.",
                    param,
                ),
            )
        if method["customer"] and method["customer"] != customer:
            raise StripeFailure(
                400,
                invalid(
                    f"The provided PaymentMethod belongs to Customer {method['customer']}; pass "
                    "customer with it.",
                    param,
                ),
            )
        return method

    @staticmethod
    def _public(obj: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in obj.items() if not k.startswith("_")}

    def _attach(self, method: dict[str, Any], customer: str) -> dict[str, Any]:
        if method["customer"] is None:
            method["customer"] = customer
            self._record_event("payment_method.attached", self._public(method))
        return method

    # --- PaymentIntents -----------------------------------------------------------------

    def _create_payment_intent(self, params: dict[str, Any]) -> dict[str, Any]:
        amount = self._positive_int(params, "amount")
        assert amount is not None
        currency = params.get("currency")
        if not currency:
            raise StripeFailure(
                400,
                invalid("Missing required param: currency.", "currency", code="parameter_missing"),
                store=False,
            )
        if not isinstance(currency, str) or not re.fullmatch(r"[A-Za-z]{3}", currency):
            raise StripeFailure(
                400,
                invalid(
                    f"Invalid currency: {currency}", "currency", code="parameter_invalid_string"
                ),
                store=False,
            )
        if amount < 50:
            raise StripeFailure(
                400,
                invalid("Amount must be at least $0.50 usd", "amount", code="amount_too_small"),
                store=False,
            )
        customer = params.get("customer")
        if customer is not None and customer not in self.customers:
            raise missing("customer", customer, "customer", status=400)
        future = params.get("setup_future_usage")
        if future not in (None, "off_session", "on_session"):
            raise StripeFailure(
                400,
                invalid(f"Invalid setup_future_usage: {future}", "setup_future_usage"),
                store=False,
            )
        confirm = self._bool(params, "confirm")
        intent_id = new_id("pi")
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_details": {"tip": {}},
            "amount_received": 0,
            "application": None,
            "application_fee_amount": None,
            "automatic_payment_methods": None,
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": "automatic",
            "client_secret": f"{intent_id}_secret_{new_id('x')[2:]}",
            "confirmation_method": "automatic",
            "created": self._now(),
            "currency": currency.lower(),
            "customer": customer,
            "description": params.get("description"),
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": self._metadata(params),
            "next_action": None,
            "on_behalf_of": None,
            "payment_method": None,
            "payment_method_configuration_details": None,
            "payment_method_options": {
                "card": {
                    "installments": None,
                    "mandate_options": None,
                    "network": None,
                    "request_three_d_secure": "automatic",
                }
            },
            "payment_method_types": self._method_types(params),
            "processing": None,
            "receipt_email": params.get("receipt_email"),
            "review": None,
            "setup_future_usage": future,
            "shipping": None,
            "source": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": None,
            "status": "requires_payment_method",
            "transfer_data": None,
            "transfer_group": None,
        }
        if params.get("payment_method") is not None:
            method = self._use_method(params["payment_method"], customer=customer)
            intent["payment_method"] = method["id"]
            intent["status"] = "requires_confirmation"
        self.payment_intents[intent_id] = intent
        self._record_event("payment_intent.created", intent)
        if confirm:
            return self._confirm(intent, params)
        return intent

    def _list_payment_intents(self, params: dict[str, Any]) -> dict[str, Any]:
        items = list(self.payment_intents.values())
        if params.get("customer"):
            items = [i for i in items if i["customer"] == params["customer"]]
        return self._list(items, params, "/v1/payment_intents")

    def _intent(self, intent_id: str) -> dict[str, Any]:
        intent = self.payment_intents.get(intent_id)
        if intent is None:
            raise missing("payment_intent", intent_id, "intent")
        return intent

    def _retrieve_payment_intent(self, intent_id: str, params: dict[str, Any]) -> dict[str, Any]:
        return self._intent(intent_id)

    def _confirm_payment_intent(self, intent_id: str, params: dict[str, Any]) -> dict[str, Any]:
        intent = self._intent(intent_id)
        if params.get("setup_future_usage") is not None:
            intent["setup_future_usage"] = params["setup_future_usage"]
        return self._confirm(intent, params)

    def _confirm(self, intent: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        if intent["status"] not in CONFIRMABLE:
            state = (
                "it has already succeeded after being previously confirmed"
                if intent["status"] == "succeeded"
                else f"it has a status of {intent['status']}"
            )
            raise StripeFailure(
                400,
                invalid(
                    f"You cannot confirm this PaymentIntent because {state}.",
                    None,
                    code="payment_intent_unexpected_state",
                    payment_intent=copy.deepcopy(intent),
                ),
            )
        if params.get("payment_method") is not None and not (
            params.get("payment_method") == intent["payment_method"]
        ):
            method = self._use_method(params["payment_method"], customer=intent["customer"])
            intent["payment_method"] = method["id"]
        if intent["payment_method"] is None:
            raise StripeFailure(
                400,
                invalid(
                    "You cannot confirm this PaymentIntent because it's missing a payment method. "
                    "To confirm the PaymentIntent with cus_..., provide the payment_method "
                    "parameter.",
                    None,
                    code="payment_intent_unexpected_state",
                    payment_intent=copy.deepcopy(intent),
                ),
            )
        method = self.payment_methods[intent["payment_method"]]
        outcome = self._outcomes.get(method["id"], "succeeded")
        intent["last_payment_error"] = None
        if outcome == "declined":
            self._charge_failed(
                intent, method, "card_declined", "Your card was declined.", "generic_decline"
            )
            error = copy.deepcopy(intent["last_payment_error"])
            error["payment_intent"] = copy.deepcopy(intent)
            error["request_log_url"] = "https://dashboard.stripe.com/test/logs/" + new_id("req")
            raise StripeFailure(402, {"error": error})
        if outcome == "authentication_required":
            intent["status"] = "requires_action"
            intent["next_action"] = {
                "type": "use_stripe_sdk",
                "use_stripe_sdk": {
                    "type": "three_d_secure_redirect",
                    "stripe_js": "https://hooks.stripe.com/redirect/authenticate/" + new_id("src"),
                    "source": new_id("src"),
                },
            }
            self._record_event("payment_intent.requires_action", intent)
            return intent
        self._charge_succeeded(intent, method)
        return intent

    def _new_charge(
        self,
        intent: dict[str, Any],
        method: dict[str, Any],
        paid: bool,
        failure: tuple[str, str] | None = None,
    ) -> dict[str, Any]:
        charge = {
            "id": new_id("ch"),
            "object": "charge",
            "amount": intent["amount"],
            "amount_captured": intent["amount"] if paid else 0,
            "amount_refunded": 0,
            "captured": paid,
            "created": self._now(),
            "currency": intent["currency"],
            "customer": intent["customer"],
            "failure_code": failure[0] if failure else None,
            "failure_message": failure[1] if failure else None,
            "livemode": False,
            "metadata": dict(intent["metadata"]),
            "outcome": {
                "type": "authorized" if paid else "issuer_declined",
                "network_status": "approved_by_network" if paid else "declined_by_network",
                "risk_level": "normal",
            },
            "paid": paid,
            "payment_intent": intent["id"],
            "payment_method": method["id"],
            "payment_method_details": {"card": copy.deepcopy(method["card"]), "type": "card"},
            "refunded": False,
            "status": "succeeded" if paid else "failed",
        }
        self.charges[charge["id"]] = charge
        return charge

    def _charge_succeeded(self, intent: dict[str, Any], method: dict[str, Any]) -> None:
        charge = self._new_charge(intent, method, paid=True)
        intent.update(
            status="succeeded",
            amount_received=intent["amount"],
            latest_charge=charge["id"],
            next_action=None,
            last_payment_error=None,
        )
        if intent["setup_future_usage"] and intent["customer"]:
            self._attach(method, intent["customer"])
        self._record_event("charge.succeeded", charge)
        self._record_event("payment_intent.succeeded", intent)

    def _charge_failed(
        self,
        intent: dict[str, Any],
        method: dict[str, Any],
        code: str,
        message: str,
        decline_code: str | None,
        charge: bool = True,
    ) -> None:
        error: dict[str, Any] = {
            "code": code,
            "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}",
            "message": message,
            "payment_method": self._public(copy.deepcopy(method)),
            "type": "card_error" if charge else "invalid_request_error",
        }
        if decline_code:
            error["decline_code"] = decline_code
        if charge:
            failed = self._new_charge(intent, method, paid=False, failure=(code, message))
            error["charge"] = failed["id"]
            intent["latest_charge"] = failed["id"]
            self._record_event("charge.failed", failed)
        # Stripe detaches the failed method from the intent: the customer must try another.
        intent.update(
            status="requires_payment_method",
            payment_method=None,
            next_action=None,
            last_payment_error=error,
        )
        self._record_event("payment_intent.payment_failed", intent)

    def _cancel_payment_intent(self, intent_id: str, params: dict[str, Any]) -> dict[str, Any]:
        intent = self._intent(intent_id)
        if intent["status"] not in CANCELABLE:
            raise StripeFailure(
                400,
                invalid(
                    "You cannot cancel this PaymentIntent because it has a status of "
                    f"{intent['status']}. Only a PaymentIntent with one of the following statuses "
                    f"may be canceled: {', '.join(CANCELABLE)}.",
                    None,
                    code="payment_intent_unexpected_state",
                    payment_intent=copy.deepcopy(intent),
                ),
            )
        reason = params.get("cancellation_reason")
        if reason not in (None, "duplicate", "fraudulent", "requested_by_customer", "abandoned"):
            raise StripeFailure(
                400,
                invalid(f"Invalid cancellation_reason: {reason}", "cancellation_reason"),
                store=False,
            )
        intent.update(
            status="canceled", canceled_at=self._now(), cancellation_reason=reason, next_action=None
        )
        self._record_event("payment_intent.canceled", intent)
        return intent

    # --- Refunds and charges ------------------------------------------------------------

    def _create_refund(self, params: dict[str, Any]) -> dict[str, Any]:
        amount = self._positive_int(params, "amount", required=False)
        reason = params.get("reason")
        if reason is not None and reason not in REFUND_REASONS:
            raise StripeFailure(
                400,
                invalid(f"Invalid reason: must be one of {', '.join(REFUND_REASONS)}", "reason"),
                store=False,
            )
        if params.get("payment_intent"):
            intent = self.payment_intents.get(params["payment_intent"])
            if intent is None:
                raise missing("payment_intent", params["payment_intent"], "payment_intent", 400)
            charge = self.charges.get(intent["latest_charge"] or "")
            if intent["status"] != "succeeded" or charge is None or not charge["paid"]:
                raise StripeFailure(
                    400,
                    invalid(
                        f"This PaymentIntent ({intent['id']}) does not have a successful charge "
                        "to refund.",
                        "payment_intent",
                    ),
                )
        elif params.get("charge"):
            charge = self.charges.get(params["charge"])
            if charge is None:
                raise missing("charge", params["charge"], "charge", 400)
        else:
            raise StripeFailure(
                400,
                invalid(
                    "One of the following params should be provided for this request: "
                    "payment_intent or charge.",
                    None,
                    code="parameter_missing",
                ),
                store=False,
            )
        remaining = charge["amount_captured"] - charge["amount_refunded"]
        if remaining <= 0:
            raise StripeFailure(
                400,
                invalid(
                    f"Charge {charge['id']} has already been refunded.",
                    None,
                    code="charge_already_refunded",
                ),
            )
        amount = remaining if amount is None else amount
        if amount <= 0:
            raise StripeFailure(
                400,
                invalid("Invalid positive integer", "amount", code="parameter_invalid_integer"),
                store=False,
            )
        if amount > remaining:
            raise StripeFailure(
                400,
                invalid(
                    f"Refund amount (${amount / 100:.2f}) is greater than unrefunded amount on "
                    f"charge (${remaining / 100:.2f})",
                    "amount",
                    code="amount_too_large",
                ),
            )
        refund = {
            "id": new_id("re"),
            "object": "refund",
            "amount": amount,
            "balance_transaction": new_id("txn"),
            "charge": charge["id"],
            "created": self._now(),
            "currency": charge["currency"],
            "destination_details": {
                "card": {
                    "reference_status": "pending",
                    "reference_type": "acquirer_reference_number",
                    "type": "refund",
                },
                "type": "card",
            },
            "metadata": self._metadata(params),
            "payment_intent": charge["payment_intent"],
            "reason": reason,
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": "succeeded",
            "transfer_reversal": None,
        }
        self.refunds[refund["id"]] = refund
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
        self._record_event("refund.created", refund)
        self._record_event("charge.refunded", charge)
        return refund

    def _retrieve_refund(self, refund_id: str, params: dict[str, Any]) -> dict[str, Any]:
        if refund_id not in self.refunds:
            raise missing("refund", refund_id, "id")
        return self.refunds[refund_id]

    def _retrieve_charge(self, charge_id: str, params: dict[str, Any]) -> dict[str, Any]:
        if charge_id not in self.charges:
            raise missing("charge", charge_id, "id")
        return self.charges[charge_id]

    # --- Customers ----------------------------------------------------------------------

    def _create_customer(self, params: dict[str, Any]) -> dict[str, Any]:
        customer = {
            "id": new_id("cus"),
            "object": "customer",
            "address": None,
            "balance": 0,
            "created": self._now(),
            "currency": None,
            "default_source": None,
            "delinquent": False,
            "description": params.get("description"),
            "email": params.get("email"),
            "invoice_prefix": new_id("x")[2:10].upper(),
            "invoice_settings": {
                "custom_fields": None,
                "default_payment_method": None,
                "footer": None,
                "rendering_options": None,
            },
            "livemode": False,
            "metadata": self._metadata(params),
            "name": params.get("name"),
            "phone": params.get("phone"),
            "preferred_locales": [],
            "shipping": None,
            "tax_exempt": "none",
            "test_clock": None,
        }
        self.customers[customer["id"]] = customer
        self._record_event("customer.created", customer)
        return customer

    def _retrieve_customer(self, customer_id: str, params: dict[str, Any]) -> dict[str, Any]:
        if customer_id not in self.customers:
            raise missing("customer", customer_id, "id")
        return self.customers[customer_id]

    # --- SetupIntents -------------------------------------------------------------------

    def _create_setup_intent(self, params: dict[str, Any]) -> dict[str, Any]:
        customer = params.get("customer")
        if customer is not None and customer not in self.customers:
            raise missing("customer", customer, "customer", status=400)
        usage = params.get("usage", "off_session")
        if usage not in ("off_session", "on_session"):
            raise StripeFailure(400, invalid(f"Invalid usage: {usage}", "usage"), store=False)
        setup_id = new_id("seti")
        setup = {
            "id": setup_id,
            "object": "setup_intent",
            "application": None,
            "automatic_payment_methods": None,
            "cancellation_reason": None,
            "client_secret": f"{setup_id}_secret_{new_id('x')[2:]}",
            "created": self._now(),
            "customer": customer,
            "description": params.get("description"),
            "flow_directions": None,
            "last_setup_error": None,
            "latest_attempt": None,
            "livemode": False,
            "mandate": None,
            "metadata": self._metadata(params),
            "next_action": None,
            "on_behalf_of": None,
            "payment_method": None,
            "payment_method_configuration_details": None,
            "payment_method_options": {
                "card": {
                    "mandate_options": None,
                    "network": None,
                    "request_three_d_secure": "automatic",
                }
            },
            "payment_method_types": self._method_types(params),
            "single_use_mandate": None,
            "status": "requires_payment_method",
            "usage": usage,
        }
        if params.get("payment_method") is not None:
            method = self._use_method(params["payment_method"], customer=customer)
            setup["payment_method"] = method["id"]
            setup["status"] = "requires_confirmation"
        self.setup_intents[setup_id] = setup
        self._record_event("setup_intent.created", setup)
        if self._bool(params, "confirm"):
            return self._confirm_setup(setup, params)
        return setup

    def _setup(self, setup_id: str) -> dict[str, Any]:
        if setup_id not in self.setup_intents:
            raise missing("setupintent", setup_id, "intent")
        return self.setup_intents[setup_id]

    def _retrieve_setup_intent(self, setup_id: str, params: dict[str, Any]) -> dict[str, Any]:
        return self._setup(setup_id)

    def _confirm_setup_intent(self, setup_id: str, params: dict[str, Any]) -> dict[str, Any]:
        return self._confirm_setup(self._setup(setup_id), params)

    def _confirm_setup(self, setup: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        if setup["status"] not in CONFIRMABLE:
            raise StripeFailure(
                400,
                invalid(
                    f"You cannot confirm this SetupIntent because it has a status of "
                    f"{setup['status']}.",
                    None,
                    code="setup_intent_unexpected_state",
                    setup_intent=copy.deepcopy(setup),
                ),
            )
        if params.get("payment_method") is not None and (
            params["payment_method"] != setup["payment_method"]
        ):
            setup["payment_method"] = self._use_method(
                params["payment_method"], customer=setup["customer"]
            )["id"]
        if setup["payment_method"] is None:
            raise StripeFailure(
                400,
                invalid(
                    "You cannot confirm this SetupIntent because it's missing a payment method.",
                    None,
                    code="setup_intent_unexpected_state",
                    setup_intent=copy.deepcopy(setup),
                ),
            )
        method = self.payment_methods[setup["payment_method"]]
        outcome = self._outcomes.get(method["id"], "succeeded")
        if outcome == "declined":
            error = {
                "code": "card_declined",
                "decline_code": "generic_decline",
                "doc_url": "https://stripe.com/docs/error-codes/card-declined",
                "message": "Your card was declined.",
                "payment_method": self._public(copy.deepcopy(method)),
                "type": "card_error",
            }
            setup.update(
                status="requires_payment_method", payment_method=None, last_setup_error=error
            )
            self._record_event("setup_intent.setup_failed", setup)
            raise StripeFailure(
                402, {"error": {**copy.deepcopy(error), "setup_intent": copy.deepcopy(setup)}}
            )
        if outcome == "authentication_required":
            setup.update(
                status="requires_action",
                next_action={
                    "type": "use_stripe_sdk",
                    "use_stripe_sdk": {"type": "three_d_secure_redirect", "source": new_id("src")},
                },
            )
            self._record_event("setup_intent.requires_action", setup)
            return setup
        setup.update(status="succeeded", last_setup_error=None, next_action=None)
        if setup["customer"]:
            self._attach(method, setup["customer"])
        self._record_event("setup_intent.succeeded", setup)
        return setup

    # --- PaymentMethods -----------------------------------------------------------------

    def _list(
        self, items: list[dict[str, Any]], params: dict[str, Any], url: str
    ) -> dict[str, Any]:
        items = sorted(items, key=lambda item: item["created"], reverse=True)
        after = params.get("starting_after")
        if after:
            ids = [item["id"] for item in items]
            items = items[ids.index(after) + 1 :] if after in ids else []
        limit = self._positive_int(params, "limit", required=False) or 10
        if not 1 <= limit <= 100:
            raise StripeFailure(
                400,
                invalid(
                    "This value must be greater than or equal to 1 and less than or equal to 100.",
                    "limit",
                ),
                store=False,
            )
        page = [self._public(item) for item in items[:limit]]
        return {"object": "list", "data": page, "has_more": len(items) > limit, "url": url}

    def _customer_methods(self, customer: Any, params: dict[str, Any], url: str) -> dict[str, Any]:
        if customer not in self.customers:
            raise missing("customer", str(customer), "customer", status=400)
        kind = params.get("type")
        items = [
            m
            for m in self.payment_methods.values()
            if m["customer"] == customer and (kind in (None, m["type"]))
        ]
        return self._list(items, params, url)

    def _list_payment_methods(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("customer"):
            raise StripeFailure(
                400,
                invalid(
                    "The stub lists PaymentMethods of a customer only: pass customer.",
                    "customer",
                    code="parameter_missing",
                ),
                store=False,
            )
        return self._customer_methods(params["customer"], params, "/v1/payment_methods")

    def _list_customer_payment_methods(
        self, customer: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        if customer not in self.customers:
            raise missing("customer", customer, "customer")
        return self._customer_methods(customer, params, f"/v1/customers/{customer}/payment_methods")

    def _retrieve_payment_method(self, method_id: str, params: dict[str, Any]) -> dict[str, Any]:
        if method_id in TEST_CARDS:
            return self._new_card_method(method_id)
        if method_id not in self.payment_methods:
            raise missing("PaymentMethod", method_id, "payment_method")
        return self._public(self.payment_methods[method_id])

    def _attach_payment_method(self, method_id: str, params: dict[str, Any]) -> dict[str, Any]:
        customer = params.get("customer")
        if not customer:
            raise StripeFailure(
                400,
                invalid("Missing required param: customer.", "customer", code="parameter_missing"),
                store=False,
            )
        if customer not in self.customers:
            raise missing("customer", customer, "customer", status=400)
        if method_id not in TEST_CARDS and method_id not in self.payment_methods:
            raise missing("PaymentMethod", method_id, "payment_method")
        method = self._use_method(method_id, customer=customer)
        return self._public(self._attach(method, customer))

    def _detach_payment_method(self, method_id: str, params: dict[str, Any]) -> dict[str, Any]:
        method = self.payment_methods.get(method_id)
        if method is None:
            raise missing("PaymentMethod", method_id, "payment_method")
        if method["customer"] is None:
            raise StripeFailure(
                400,
                invalid(
                    "The payment method you provided is not attached to a customer so detachment "
                    "is impossible.",
                    None,
                ),
            )
        method["customer"] = None
        method["_detached"] = True
        self._record_event("payment_method.detached", self._public(method))
        return self._public(method)

    def iter_objects(self) -> Iterator[dict[str, Any]]:
        """Every stored object (for tests that search the stub's state)."""
        for store in (
            self.payment_intents,
            self.payment_methods,
            self.customers,
            self.setup_intents,
            self.charges,
            self.refunds,
        ):
            yield from store.values()


def _handler_for(stub: StripeStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "stripe-stub/1.0"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, answer, extra = stub.handle(self.command, self.path, self.headers, body)
            data = json.dumps(answer, indent=2).encode()
            self.send_response(status, STATUS_TEXT.get(status))
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Stripe-Version", stripe.api_version)
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
