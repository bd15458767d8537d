"""What never leaves for Sentry: secrets, card data and personal data, removed from every event.

:func:`scrub` walks an event (or a breadcrumb, or any value) and returns a copy where

* the value of a **sensitive key** is ``[Filtered]`` whatever it holds (a string, a number, a
  whole dict or list): passwords, tokens, secrets, API keys, signatures, the ``Authorization``
  and ``Cookie`` headers, sessions and CSRF tokens, card numbers, CVC and expiry, emails, phone
  numbers and postal addresses (``street``, ``line1``, ``line2``, ``address``, ``postcode``,
  ``zip``, ``city``, ...). A key is compared without case and without ``-``/``_``, so
  ``X-Api-Key``, ``api_key`` and ``apiKey`` are one key; a key *containing* a word of
  :data:`KEY_PARTS` is sensitive (``pickup_address``, ``new_password``, ``stripe-signature``);
* **every string** elsewhere (an exception message, a log line, a local variable's ``repr``, a
  query string, a URL) has ``key=value`` / ``key: value`` pairs of those keys, ``Bearer`` and
  ``Basic`` credentials, email addresses (``@`` or ``%40``), phone numbers (``+16315551234``,
  ``(631) 555-1234``, ``631-555-1234``, ``631.555.1234``) and card numbers (13 to 19 digits,
  spaces or dashes between them, that pass the Luhn check) replaced;
* a number of 13 to 19 digits that passes the Luhn check is a card number too.

Sentry's own bookkeeping (event and trace ids, timestamps, the release, the SDK and module
lists, ``_meta``) is left alone: those keys hold nothing a person typed. Postal addresses are
recognised by key only (a street written inside a sentence is not); see README.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

FILTERED = "[Filtered]"
EMAIL = "[email]"
PHONE = "[phone]"
CARD = "[card]"

#: A key (lower case, without ``-`` and ``_``) containing one of these is sensitive.
KEY_PARTS = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "accesskey",
    "privatekey",
    "authorization",
    "authentication",
    "credential",
    "cookie",
    "session",
    "csrf",
    "xsrf",
    "signature",
    "cardnumber",
    "creditcard",
    "email",
    "phone",
    "mobile",
    "street",
    "address",
    "postcode",
    "postalcode",
    "zipcode",
)
#: Keys sensitive only as a whole word (as parts they would catch ``expected``, ``passenger``).
KEYS = frozenset(
    {
        "pw",
        "pwd",
        "pass",
        "auth",
        "key",
        "dsn",
        "card",
        "pan",
        "cvc",
        "cvc2",
        "cvv",
        "cvv2",
        "csc",
        "exp",
        "expmonth",
        "expyear",
        "expiry",
        "expires",
        "expiration",
        "expirydate",
        "line1",
        "line2",
        "line3",
        "zip",
        "city",
        "tel",
        "telephone",
    }
)
#: Sentry's bookkeeping at the top of an event: the release, the SDK, times, ``_meta``.
TOP_LEVEL_UNTOUCHED = frozenset(
    {
        "event_id",
        "timestamp",
        "start_timestamp",
        "received",
        "release",
        "dist",
        "environment",
        "platform",
        "sdk",
        "modules",
        "level",
        "type",
        "_meta",
    }
)
#: Ids, wherever they are (a trace id may hold 13 digits in a row: it is no card).
UNTOUCHED = frozenset({"event_id", "trace_id", "span_id", "parent_span_id", "segment_id"})


def normal_key(key: str) -> str:
    """``key`` in lower case without ``-``, ``_``, ``.`` or spaces: ``X-Api-Key`` → ``xapikey``."""
    return re.sub(r"[\s._-]", "", key.lower())


def sensitive_key(key: Any) -> bool:
    """Whether the value under ``key`` is filtered whatever it holds."""
    if not isinstance(key, str):
        return False
    word = normal_key(key)
    return word in KEYS or any(part in word for part in KEY_PARTS)


# `key=value`, `key: value`, `"key": "value"`, `'key': 'value'` inside any text (a query string,
# a form body, a dict's repr, a log line, a header line); _scrub_pairs filters the value when the
# key is sensitive. The key is at most 64 characters and starts a word: every pattern here runs
# in linear time, even on a long blob without spaces.
_PAIR = re.compile(r"(?<![\w-])(?P<key>[\w-]{1,64})(?P<sep>['\"]?\s*(?P<op>[:=])\s*)")
_QUOTED = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'")
# After `=` a value ends where a query string or a list goes on; after `:` (a header, a log
# line) it runs to the end of the line: `Stripe-Signature: t=1,v1=abc`.
_BARE_AFTER = {
    "=": re.compile(r"[^\s'\"&,;}\])]+"),
    ":": re.compile(r"[^\r\n'\"}\]]*[^\s'\"}\]]"),
}
_CREDENTIALS = re.compile(r"\b(?P<scheme>Bearer|Basic|Digest|Token)\s+[\w.~+/=-]+", re.IGNORECASE)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# With separators only (631-555-1234, (631) 555-1234, +1 631 555 1234), or E.164 with its plus:
# ten bare digits are as often an id or a time as a phone number.
_PHONE = re.compile(
    r"(?<![\w.+/-])(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?![\w/-])"
    r"|(?<![\w+])\+\d{10,15}(?!\w)"
)
# A run of digit groups with single spaces or dashes between them, not part of a word (a UUID, a
# hex id) or of a decimal number; _card looks for card numbers among its groups.
_CARD = re.compile(r"(?<!\w)(?<!\d\.)\d+(?:[ -]\d+)*(?!\w|\.\d)")


_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)  # a digit doubled, its two digits added


def luhn(digits: str) -> bool:
    """The Luhn checksum every payment card number passes."""
    total = sum(map(int, digits[-1::-2])) + sum(_DOUBLED[int(c)] for c in digits[-2::-2])
    return total % 10 == 0


def _scrub_pairs(text: str) -> str:
    out: list[str] = []
    done = 0  # text[:done] is in out
    at = 0  # where the next key may start
    while match := _PAIR.search(text, at):
        at = match.end("key")  # the value of an ordinary key may hold a sensitive pair
        if not sensitive_key(match.group("key")):
            continue
        start = match.end()
        quoted = _QUOTED.match(text, start)
        if quoted:
            quote = quoted.group()[0]
            replacement = f"{quote}{FILTERED}{quote}"
            value = quoted
        else:
            value = _BARE_AFTER[match.group("op")].match(text, start)
            replacement = FILTERED
        if value is None:
            continue
        out += [text[done:start], replacement]
        done = at = value.end()
    out.append(text[done:])
    return "".join(out)


def _card(match: re.Match[str]) -> str:
    return _cards_in(re.split(r"([ -])", match.group()))


def _cards_in(parts: list[str]) -> str:
    """The digit groups (``parts``: groups and their separators) with every run of whole groups
    that is a card number replaced: a run of digits may hold a card beside other numbers
    (``4242 4242 4242 4242 123``, a card then its CVC; an id, then a card)."""
    groups = parts[::2]
    out: list[str] = []
    first = 0
    while first < len(groups):
        last = _card_end(groups, first)
        if last is None:
            out.append(groups[first])
            last = first + 1
        else:
            out.append(CARD)
        if last < len(groups):
            out.append(parts[2 * last - 1])  # the separator before group `last`
        first = last
    return "".join(out)


def _card_end(groups: list[str], first: int) -> int | None:
    """The end of the shortest run of groups from ``first`` that is a card number, if any.

    A card is written in groups of 4 to 6 digits (4-4-4-4, 4-6-5) or in one: a run of groups
    shorter than 3 digits is no card (and "1 2 3 ..." costs nothing to scan).
    """
    digits = ""
    for last in range(first + 1, len(groups) + 1):
        group = groups[last - 1]
        digits += group
        if len(digits) > 19 or len(group) < 3:
            return None
        if len(digits) >= 13 and luhn(digits):
            return last
    return None


def scrub_text(text: str) -> str:
    """``text`` with sensitive pairs, credentials, emails, phone numbers and cards replaced."""
    text = _scrub_pairs(text)
    text = _CREDENTIALS.sub(lambda m: f"{m.group('scheme')} {FILTERED}", text)
    text = _EMAIL.sub(EMAIL, text)
    text = _CARD.sub(_card, text)
    return _PHONE.sub(PHONE, text)


def _card_number(value: int) -> bool:
    digits = str(abs(value))
    return 13 <= len(digits) <= 19 and luhn(digits)


def scrub(value: Any) -> Any:
    """A copy of ``value`` (an event, a breadcrumb, any JSON-like value) with nothing sensitive.

    Mappings, lists and tuples are walked; strings are scanned (:func:`scrub_text`); an integer
    that is a valid card number is replaced; other values (booleans, floats, ``None``, dates)
    are kept as they are.
    """
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, Mapping):
        return {_scrub_key(key): _scrub_item(key, item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub_sequence_item(item) for item in value)
    if isinstance(value, int) and not isinstance(value, bool) and _card_number(value):
        return CARD
    return value


def scrub_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`scrub` of a whole event, leaving Sentry's bookkeeping at its top alone."""
    return {
        key: item if key in TOP_LEVEL_UNTOUCHED else _scrub_item(key, item)
        for key, item in event.items()
    }


def _scrub_key(key: Any) -> Any:
    # A mapping keyed by what a person typed ({"ann@example.com": 3}).
    return scrub_text(key) if isinstance(key, str) else key


def _scrub_item(key: Any, item: Any) -> Any:
    if key in UNTOUCHED:
        return item
    if sensitive_key(key):
        return _filtered(item)
    return scrub(item)


def _scrub_sequence_item(item: Any) -> Any:
    # Headers and query strings as lists of pairs: [["Authorization", "Bearer ..."], ...].
    if isinstance(item, list | tuple) and len(item) == 2 and sensitive_key(item[0]):
        return type(item)((item[0], _filtered(item[1])))
    return scrub(item)


def _filtered(item: Any) -> Any:
    # Nothing to hide in an empty value, a flag or a null: keeping them tells what was sent.
    if item is None or isinstance(item, bool) or item == "":
        return item
    return FILTERED
