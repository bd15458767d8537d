"""The scrubber on its own: every kind of secret and personal datum, in every place it hides.

Pure functions, no app: each case is a few microseconds.
"""

from __future__ import annotations

import pytest
from totetaxi_monitoring_sentry.scrubbing import (
    CARD,
    EMAIL,
    FILTERED,
    PHONE,
    luhn,
    scrub,
    scrub_event,
    scrub_text,
    sensitive_key,
)

# --- keys -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "new_password",
        "current_password",
        "passwd",
        "pwd",
        "secret",
        "client_secret",
        "token",
        "access_token",
        "refresh_token",
        "csrf_token",
        "api_key",
        "apiKey",
        "X-Api-Key",
        "Authorization",
        "Proxy-Authorization",
        "Cookie",
        "Set-Cookie",
        "session",
        "sessionid",
        "Stripe-Signature",
        "X-Onfleet-Signature",
        "card",
        "card_number",
        "cardNumber",
        "cvc",
        "CVV",
        "exp",
        "exp_month",
        "exp_year",
        "expiry",
        "email",
        "contact_email",
        "phone",
        "phone_number",
        "mobile",
        "street",
        "line1",
        "line2",
        "address",
        "pickup_address",
        "postcode",
        "postal_code",
        "zip",
        "zip_code",
        "city",
        "dsn",
    ],
)
def test_sensitive_keys(key: str) -> None:
    assert sensitive_key(key)
    assert scrub({key: "anything at all"}) == {key: FILTERED}


@pytest.mark.parametrize(
    "key",
    ["id", "status", "number", "total_cents", "expected", "passenger", "type", "service_type"],
)
def test_ordinary_keys_are_kept(key: str) -> None:
    assert not sensitive_key(key)
    assert scrub({key: "TT-000123"}) == {key: "TT-000123"}


def test_a_sensitive_key_filters_whatever_it_holds() -> None:
    scrubbed = scrub(
        {
            "pickup_address": {"line1": "12 Main St", "city": "Sag Harbor", "postcode": "11963"},
            "card": {"number": 4242424242424242, "exp_month": 12, "exp_year": 2030, "cvc": 123},
            "emails": ["ann@example.com", "bob@example.com"],
            "zip": 11963,
        }
    )
    assert scrubbed == {
        "pickup_address": FILTERED,
        "card": FILTERED,
        "emails": FILTERED,
        "zip": FILTERED,
    }


def test_empty_flags_and_nulls_under_sensitive_keys_stay_as_they_are() -> None:
    # They hide nothing, and "no password was sent" is worth seeing.
    assert scrub({"password": "", "email_verified": True, "token": None}) == {
        "password": "",
        "email_verified": True,
        "token": None,
    }


def test_nested_dicts_and_lists_are_walked() -> None:
    event = {
        "request": {
            "data": {
                "booking": {
                    "contact": {"name": "Ann Lee", "email": "ann@example.com"},
                    "items": [{"kind": "surfboard", "notes": "call 631-555-1234 first"}],
                    "payment": {"method": {"card": {"number": "4242 4242 4242 4242"}}},
                }
            }
        }
    }
    booking = scrub(event)["request"]["data"]["booking"]
    assert booking["contact"] == {"name": "Ann Lee", "email": FILTERED}
    assert booking["items"] == [{"kind": "surfboard", "notes": f"call {PHONE} first"}]
    assert booking["payment"] == {"method": {"card": FILTERED}}


def test_headers_as_a_dict_and_as_a_list_of_pairs() -> None:
    headers = {
        "Authorization": "Bearer tt_abc.def",
        "Cookie": "session=s3cr3t; csrf=x",
        "X-Api-Key": "k-123",
        "Accept": "application/json",
        "User-Agent": "curl/8",
    }
    assert scrub(headers) == {
        "Authorization": FILTERED,
        "Cookie": FILTERED,
        "X-Api-Key": FILTERED,
        "Accept": "application/json",
        "User-Agent": "curl/8",
    }
    pairs = [["Authorization", "Basic dXNlcjpwYXNz"], ["Accept", "*/*"], ("Set-Cookie", "a=b")]
    assert scrub(pairs) == [
        ["Authorization", FILTERED],
        ["Accept", "*/*"],
        ("Set-Cookie", FILTERED),
    ]


def test_keys_holding_personal_data_are_scrubbed_too() -> None:
    assert scrub({"ann@example.com": 3}) == {EMAIL: 3}


# --- strings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("token=abc123&page=2", f"token={FILTERED}&page=2"),
        (
            "/api/v1/track/TT-000123?token=abc123&password=hunter2&next=/me",
            f"/api/v1/track/TT-000123?token={FILTERED}&password={FILTERED}&next=/me",
        ),
        ("access_token=eyJ.abc.def&x=1", f"access_token={FILTERED}&x=1"),
        ("api_key=sk_live_123", f"api_key={FILTERED}"),
        ("email=ann%40example.com&x=1", f"email={FILTERED}&x=1"),
        ("reset?key=abc", f"reset?key={FILTERED}"),
    ],
)
def test_query_strings(text: str, expected: str) -> None:
    assert scrub_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer tt_abc.def-ghi", f"Authorization: {FILTERED}"),
        ("sent Bearer tt_abc.def-ghi upstream", f"sent Bearer {FILTERED} upstream"),
        ("basic dXNlcjpwYXNz==", f"basic {FILTERED}"),
        ("{'password': 'hunter 2', 'n': 1}", f"{{'password': '{FILTERED}', 'n': 1}}"),
        ('{"new_password": "a \\" b", "n": 1}', f'{{"new_password": "{FILTERED}", "n": 1}}'),
        ("login failed: password=hunter2 for x", f"login failed: password={FILTERED} for x"),
        ("Stripe-Signature: t=1,v1=abc", f"Stripe-Signature: {FILTERED}"),
        ("card expires exp=12/29, cvc: 123", f"card expires exp={FILTERED}, cvc: {FILTERED}"),
        ("X-Api-Key: k-1 \nAccept: */*", f"X-Api-Key: {FILTERED} \nAccept: */*"),
    ],
)
def test_secrets_in_text(text: str, expected: str) -> None:
    assert scrub_text(text) == expected


@pytest.mark.parametrize(
    "email",
    ["ann@example.com", "ann.lee+moves@mail.example.co.uk", "ANN_LEE@EXAMPLE.COM", "a%40b.io"],
)
def test_emails_in_text(email: str) -> None:
    assert scrub_text(f"no account for {email}, sorry") == f"no account for {EMAIL}, sorry"


@pytest.mark.parametrize(
    "phone",
    [
        "(631) 555-1234",
        "631-555-1234",
        "631.555.1234",
        "631 555 1234",
        "+1 631 555 1234",
        "+16315551234",
    ],
)
def test_phone_numbers_in_text(phone: str) -> None:
    assert scrub_text(f"driver called {phone} twice") == f"driver called {PHONE} twice"


@pytest.mark.parametrize(
    "card",
    [
        "4242424242424242",
        "4242 4242 4242 4242",
        "4242-4242-4242-4242",
        "5555 5555 5555 4444",
        "3782 822463 10005",  # American Express, 15 digits
        "4000056655665556",
    ],
)
def test_card_numbers_in_text(card: str) -> None:
    assert scrub_text(f"charge {card}.") == f"charge {CARD}."


def test_a_card_beside_other_digits() -> None:
    assert scrub_text("4242 4242 4242 4242 123") == f"{CARD} 123"  # then its CVC
    assert scrub_text("TT 1234 4242 4242 4242 4242") == f"TT 1234 {CARD}"
    assert scrub_text("4242424242424242 5555555555554444") == f"{CARD} {CARD}"


@pytest.mark.parametrize(
    "text",
    [
        "4242424242424241",  # fails the Luhn check
        "550e8400-e29b-41d4-a716-446655440000",  # a UUID
        "2026-12-03T21:07:00+00:00",
        "booking TT-000123 total 12345 cents",
        "1733259420.4242424242424242",  # a decimal number
        "expected 3 arguments, got 4",
        "GET /api/v1/bookings?page=2&status=confirmed",
        "ValueError: badly formed hexadecimal UUID string",
    ],
)
def test_ordinary_text_is_kept(text: str) -> None:
    assert scrub_text(text) == text


def test_luhn() -> None:
    assert luhn("79927398713")
    assert luhn("4242424242424242")
    assert not luhn("79927398710")


def test_an_integer_card_number_outside_a_sensitive_key() -> None:
    assert scrub({"values": [4242424242424242, 12345]}) == {"values": [CARD, 12345]}


def test_long_blobs_are_scanned_in_linear_time() -> None:
    # Nested quantifiers would make these take minutes (each pattern anchors at word starts).
    for blob in ("A" * 100_000, "a@" * 50_000, "x=1&" * 25_000, "1 " * 50_000, "-" * 100_000):
        assert len(scrub_text(blob)) == len(blob)


# --- events ---------------------------------------------------------------------------------


def test_an_event_from_end_to_end() -> None:
    event = {
        "event_id": "0123456789abcdef4242424242424242",
        "timestamp": "2026-12-03T21:07:00Z",
        "release": "totetaxi@1.0.0",
        "level": "error",
        "contexts": {"trace": {"trace_id": "42424242424242424242424242424242"}},
        "exception": {
            "values": [
                {
                    "type": "IntegrityError",
                    "value": "INSERT failed [parameters: ('ann@example.com', '4242424242424242')]",
                    "stacktrace": {
                        "frames": [
                            {
                                "function": "create",
                                "lineno": 42,
                                "vars": {
                                    "password": "'hunter2'",
                                    "body": "{'email': 'ann@example.com', 'n': 2}",
                                    "count": "3",
                                },
                            }
                        ]
                    },
                }
            ]
        },
        "request": {
            "url": "http://127.0.0.1/api/v1/auth/login",
            "query_string": "token=abc&next=/me",
            "headers": {"Authorization": "Bearer x", "Host": "127.0.0.1"},
            "data": {"email": "ann@example.com", "password": "hunter2"},
        },
        "breadcrumbs": {
            "values": [{"category": "totetaxi", "message": "reset link sent to ann@example.com"}]
        },
        "_meta": {"request": {"data": {"": {"rem": [["!config", "x"]]}}}},
    }
    scrubbed = scrub_event(event)
    for key in ("event_id", "timestamp", "release", "level", "_meta"):
        assert scrubbed[key] == event[key]
    assert scrubbed["contexts"] == event["contexts"]  # trace ids are no cards
    exception = scrubbed["exception"]["values"][0]
    assert exception["value"] == f"INSERT failed [parameters: ('{EMAIL}', '{CARD}')]"
    frame = exception["stacktrace"]["frames"][0]
    assert frame["vars"] == {
        "password": FILTERED,
        "body": f"{{'email': '{FILTERED}', 'n': 2}}",
        "count": "3",
    }
    assert frame["lineno"] == 42
    assert scrubbed["request"] == {
        "url": "http://127.0.0.1/api/v1/auth/login",
        "query_string": f"token={FILTERED}&next=/me",
        "headers": {"Authorization": FILTERED, "Host": "127.0.0.1"},
        "data": {"email": FILTERED, "password": FILTERED},
    }
    assert scrubbed["breadcrumbs"]["values"][0]["message"] == f"reset link sent to {EMAIL}"
    assert event["request"]["data"]["password"] == "hunter2"  # a copy: the original is intact
