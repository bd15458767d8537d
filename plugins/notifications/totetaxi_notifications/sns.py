"""Verifying the messages Amazon SNS posts to an HTTP(S) endpoint, as AWS documents it.

AWS's algorithm ("Verifying the signatures of Amazon SNS messages"):

1. Take the name-value pairs of the JSON body. The *string to sign* is, for each signed field in
   byte order of its name and only when present, ``"<Name>\\n<value>\\n"``:

   * ``Notification``: ``Message``, ``MessageId``, ``Subject`` (only if present), ``Timestamp``,
     ``TopicArn``, ``Type``;
   * ``SubscriptionConfirmation`` and ``UnsubscribeConfirmation``: ``Message``, ``MessageId``,
     ``SubscribeURL``, ``Timestamp``, ``Token``, ``TopicArn``, ``Type``.

2. Fetch the X.509 certificate at ``SigningCertURL`` (only from an address SNS uses: anyone can
   put any URL in a forged message) and take its RSA public key.
3. ``Signature`` is the base64 of an RSA PKCS#1 v1.5 signature of the string to sign with SHA1
   (``SignatureVersion`` ``"1"``) or SHA256 (``"2"``).

On top of the signature: the message's ``TopicArn`` must be one the caller expects (anyone can
create a topic and sign with SNS's own key: a valid signature only says SNS sent it), and its
``Timestamp`` must be recent (a replayed old message is refused). The caller passes "now" from
the app's clock so that tests can move time.

Nothing here touches the database; :class:`CertificateStore` is the only network I/O (one GET
per certificate URL, kept in memory afterwards).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import threading
import urllib.error
import urllib.request
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

NOTIFICATION = "Notification"
SUBSCRIPTION_CONFIRMATION = "SubscriptionConfirmation"
UNSUBSCRIBE_CONFIRMATION = "UnsubscribeConfirmation"

_CONFIRMATION_FIELDS = (
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
)
#: The fields of the string to sign, in AWS's order, per message type.
SIGNED_FIELDS: dict[str, tuple[str, ...]] = {
    NOTIFICATION: ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    SUBSCRIPTION_CONFIRMATION: _CONFIRMATION_FIELDS,
    UNSUBSCRIBE_CONFIRMATION: _CONFIRMATION_FIELDS,
}
#: Signed fields that may be absent (then left out of the string to sign).
OPTIONAL_FIELDS = frozenset({"Subject"})
#: Unsigned fields every message must carry to be verified at all.
SIGNATURE_FIELDS = ("SignatureVersion", "Signature", "SigningCertURL")
#: ``SignatureVersion`` -> the hash of the RSA signature.
HASHES: dict[str, type[hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}

#: A message older than this is refused as a replay. SNS gives up retrying an HTTP delivery
#: within an hour of publishing it, so a genuine message is never older.
MAX_AGE = dt.timedelta(hours=1)
#: Tolerated difference between SNS's clock and ours (both ways).
CLOCK_SKEW = dt.timedelta(minutes=5)
#: An SNS signing certificate is about 2 KB; refuse to read a large body from anywhere.
MAX_CERTIFICATE_BYTES = 64 * 1024
#: Longest MessageId accepted (SNS's are UUIDs; the delivery log keeps 200 characters).
MAX_ID_LENGTH = 200
#: Longest message accepted (SNS's limit is 256 KB of payload; its JSON envelope adds a little).
MAX_BODY_BYTES = 512 * 1024

#: Where AWS serves SNS signing certificates: ``https://sns.<region>.amazonaws.com[.cn]/<x>.pem``.
DEFAULT_CERTIFICATE_URL_PATTERN = (
    # A region-shaped label: "sns.s3.amazonaws.com" is an S3 bucket anyone could own.
    r"https://sns\.[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d\.amazonaws\.com(\.cn)?"
    r"/SimpleNotificationService-[0-9a-f]+\.pem"
)


class SnsError(Exception):
    """The message is refused; ``field`` names the JSON field at fault (for a 400 answer)."""

    def __init__(self, field: str, description: str) -> None:
        super().__init__(f"{field}: {description}")
        self.field = field
        self.description = description


class CertificateUnavailable(Exception):
    """The signing certificate could not be fetched now (network, 5xx): SNS should retry."""


def _shown(value: str, limit: int = 200) -> str:
    # Error answers quote what was sent; keep a forged giant value out of them and the logs.
    return repr(value if len(value) <= limit else value[:limit] + "...")


# --- parsing ----------------------------------------------------------------------------------


def parse(body: bytes) -> dict[str, Any]:
    """The SNS message in an HTTP body, with its fields checked; raises :class:`SnsError`.

    SNS posts ``Content-Type: text/plain`` with a JSON document: the body is parsed whatever its
    content type. Every signed field of the message's ``Type`` (``Subject`` only if present) and
    the signature fields must be strings.
    """
    if len(body) > MAX_BODY_BYTES:
        raise SnsError("body", f"The body is larger than {MAX_BODY_BYTES} bytes.")
    try:
        message = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise SnsError("body", "The body is not a JSON document (an Amazon SNS message).") from None
    if not isinstance(message, dict):
        raise SnsError("body", "The body must be a JSON object (an Amazon SNS message).")
    kind = message.get("Type")
    if not isinstance(kind, str) or not kind:
        raise SnsError(
            "Type", "Type is missing: it must be one of " + ", ".join(SIGNED_FIELDS) + "."
        )
    if kind not in SIGNED_FIELDS:
        raise SnsError(
            "Type",
            f"Unknown message Type {_shown(kind)}; expected one of "
            + ", ".join(SIGNED_FIELDS)
            + ".",
        )
    for name in (*SIGNED_FIELDS[kind], *SIGNATURE_FIELDS):
        value = message.get(name)
        if name in OPTIONAL_FIELDS and value is None:
            message.pop(name, None)  # absent (or null): not part of the string to sign
            continue
        if not isinstance(value, str) or (not value and name not in ("Message", "Subject")):
            raise SnsError(name, f"{name} is missing or not a string.")
        if "\x00" in value:  # SNS never sends one; PostgreSQL refuses it in text (PITFALLS 5)
            raise SnsError(name, f"{name} contains a NUL character.")
    if len(message["MessageId"]) > MAX_ID_LENGTH:
        raise SnsError("MessageId", f"MessageId is longer than {MAX_ID_LENGTH} characters.")
    return message


def string_to_sign(message: Mapping[str, Any]) -> bytes:
    """The bytes SNS signed for ``message`` (a message :func:`parse` accepted)."""
    parts = []
    for name in SIGNED_FIELDS[message["Type"]]:
        value = message.get(name)
        if value is None:
            continue  # only an optional field (Subject) can be absent after parse()
        parts.append(f"{name}\n{value}\n")
    return "".join(parts).encode("utf-8")


def parse_timestamp(value: str) -> dt.datetime:
    """SNS's ``Timestamp`` (ISO 8601 in UTC, ``2026-11-23T15:00:00.000Z``), aware."""
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise SnsError("Timestamp", f"Timestamp {_shown(value)} is not an ISO 8601 time.") from None
    if when.tzinfo is None:
        raise SnsError("Timestamp", f"Timestamp {_shown(value)} has no time zone.")
    return when


# --- addresses --------------------------------------------------------------------------------


def check_url(url: str, pattern: str | re.Pattern[str], field: str = "SigningCertURL") -> None:
    """Refuse ``url`` unless all of it matches ``pattern`` (before anything is fetched from it).

    Also refused whatever the pattern says: another scheme than http(s), credentials in the URL
    or a fragment (none of which SNS ever sends).
    """
    compiled = re.compile(pattern) if isinstance(pattern, str) else pattern
    parts = urlsplit(url)
    if (
        parts.scheme not in ("https", "http")
        or not parts.hostname
        or parts.username is not None
        or parts.password is not None
        or parts.fragment
        or compiled.fullmatch(url) is None
    ):
        raise SnsError(
            field,
            f"{field} {_shown(url)} is not an address Amazon SNS uses "
            "(setting mail_ses.certificate_url_pattern).",
        )


def origin(url: str) -> tuple[str, str]:
    """``(scheme, host[:port])`` of ``url``, lower-cased."""
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def check_subscribe_url(
    subscribe_url: str, signing_cert_url: str, pattern: str | re.Pattern[str]
) -> None:
    """Refuse a ``SubscribeURL`` that is not on the SNS host that signed the message.

    ``SubscribeURL`` is ``https://sns.<region>.amazonaws.com/?Action=ConfirmSubscription&...``:
    the same scheme and host as the (pattern-checked) ``SigningCertURL``, which is what is
    required of it. The signature covers it too; this keeps a GET from ever going elsewhere.
    """
    check_url(signing_cert_url, pattern)
    parts = urlsplit(subscribe_url)
    if (
        parts.scheme not in ("https", "http")
        or parts.username is not None
        or parts.password is not None
        or parts.fragment
        or origin(subscribe_url) != origin(signing_cert_url)
    ):
        raise SnsError(
            "SubscribeURL",
            f"SubscribeURL {_shown(subscribe_url)} is not on the "
            "Amazon SNS host that signed the message.",
        )


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # The URL was checked before fetching: a redirect would lead somewhere unchecked. Returning
    # None makes urllib raise HTTPError for the 3xx instead of following it.
    def redirect_request(
        self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def http_get(url: str, timeout: float, limit: int = MAX_CERTIFICATE_BYTES) -> bytes:
    """GET ``url`` (already checked by the caller) without following redirects.

    Raises ``urllib.error.HTTPError`` for a status of 300 or more, ``OSError`` (``URLError``,
    timeouts) when the server cannot be reached, ``ValueError`` for a body over ``limit`` bytes.
    """
    scheme = urlsplit(url).scheme
    if scheme not in ("https", "http"):
        raise ValueError(f"refusing to fetch a {scheme!r} URL")
    # The scheme is checked just above (S310 is about file:// and custom schemes).
    request = urllib.request.Request(url, headers={"User-Agent": "totetaxi-mail-ses"})  # noqa: S310
    with _opener.open(request, timeout=timeout) as response:
        data = response.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"the answer is larger than {limit} bytes")
    return data


# --- certificates -----------------------------------------------------------------------------


class CertificateStore:
    """SNS signing certificates by URL, fetched once per process and kept in memory.

    SNS signs with a handful of certificates that change rarely; fetching one per message would
    make every webhook call wait on AWS. At most ``max_entries`` are kept (the oldest is dropped).
    Failures are not kept: the next message tries again.
    """

    def __init__(self, timeout: float = 10.0, max_entries: int = 32) -> None:
        self.timeout = timeout
        self.max_entries = max_entries
        self._certificates: OrderedDict[str, x509.Certificate] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, url: str) -> x509.Certificate:
        """The certificate at ``url`` (checked by the caller against the allowed pattern).

        Raises :class:`SnsError` (``SigningCertURL``) when the server answers something that is
        not a certificate, :class:`CertificateUnavailable` when it cannot be reached now.
        """
        with self._lock:
            found = self._certificates.get(url)
            if found is not None:
                self._certificates.move_to_end(url)
                return found
        # Fetched outside the lock: a slow server must not hold up messages signed by another
        # certificate. Two threads fetching the same URL at once is harmless.
        certificate = self._fetch(url)
        with self._lock:
            self._certificates[url] = certificate
            self._certificates.move_to_end(url)
            while len(self._certificates) > self.max_entries:
                self._certificates.popitem(last=False)
        return certificate

    def _fetch(self, url: str) -> x509.Certificate:
        try:
            data = http_get(url, self.timeout)
        except urllib.error.HTTPError as exc:
            if exc.code >= 500 or exc.code == 429:
                raise CertificateUnavailable(f"{url} answered HTTP {exc.code}") from None
            raise SnsError(
                "SigningCertURL",
                f"The signing certificate at {_shown(url)} could not be fetched (HTTP {exc.code}).",
            ) from None
        except ValueError as exc:
            raise SnsError(
                "SigningCertURL", f"The signing certificate at {_shown(url)} was refused: {exc}."
            ) from None
        except OSError as exc:  # URLError, timeouts, refused connections
            raise CertificateUnavailable(f"{url} could not be reached: {exc}") from None
        try:
            return x509.load_pem_x509_certificate(data)
        except ValueError:
            raise SnsError(
                "SigningCertURL", f"{_shown(url)} does not serve a PEM certificate."
            ) from None


# --- verification -----------------------------------------------------------------------------


def verify(
    message: Mapping[str, Any],
    *,
    certificate_url_pattern: str | re.Pattern[str],
    certificates: CertificateStore,
    now: dt.datetime,
    max_age: dt.timedelta = MAX_AGE,
) -> None:
    """Check that SNS signed ``message`` (as :func:`parse` returned it) recently.

    In order, so that nothing is fetched for a message refused on its face: the signature
    version, the certificate URL against ``certificate_url_pattern``, the ``Timestamp`` against
    ``now`` (aware; the app's clock), the ``Signature``'s encoding, then the certificate (fetched
    or from memory; it must be valid at ``now`` and hold an RSA key) and the signature itself.

    Raises :class:`SnsError` naming the field at fault, or :class:`CertificateUnavailable`.
    """
    version = message["SignatureVersion"]
    algorithm = HASHES.get(version)
    if algorithm is None:
        raise SnsError(
            "SignatureVersion", f"SignatureVersion {_shown(version)} is not supported (1 or 2)."
        )
    url = message["SigningCertURL"]
    check_url(url, certificate_url_pattern)
    when = parse_timestamp(message["Timestamp"])
    if now - when > max_age + CLOCK_SKEW:
        raise SnsError(
            "Timestamp",
            f"The message is too old (sent {when.isoformat()}); a replayed message is refused.",
        )
    if when - now > CLOCK_SKEW:
        raise SnsError("Timestamp", f"The message's Timestamp {when.isoformat()} is in the future.")
    try:
        signature = base64.b64decode(message["Signature"], validate=True)
    except (binascii.Error, ValueError):
        raise SnsError("Signature", "Signature is not base64.") from None
    certificate = certificates.get(url)
    if not (
        certificate.not_valid_before_utc - CLOCK_SKEW
        <= now
        <= certificate.not_valid_after_utc + CLOCK_SKEW
    ):
        raise SnsError(
            "SigningCertURL", "The signing certificate is not valid now (expired or not yet valid)."
        )
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise SnsError("SigningCertURL", "The signing certificate does not hold an RSA key.")
    try:
        key.verify(signature, string_to_sign(message), padding.PKCS1v15(), algorithm())
    except InvalidSignature:
        raise SnsError("Signature", "The signature does not match the message.") from None
