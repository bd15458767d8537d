"""Local stand-ins for AWS in the SES tests: a signing SNS and moto's SES. Loopback only.

:class:`SnsStub` plays Amazon SNS towards an HTTP endpoint: it owns an RSA key and a
self-signed X.509 certificate, serves the certificate (PEM) and the ``SubscribeURL`` of its
confirmations from an ``http.server`` on ``127.0.0.1`` (a free port, in a thread), records every
GET it receives, and builds messages signed exactly as AWS documents ("Verifying the signatures
of Amazon SNS messages"): the string to sign is written out here again, independently of
``totetaxi_notifications.sns``, so the tests check that module against the documented algorithm
rather than against itself. :func:`ses_event` builds the SES event carried in a notification's
``Message`` (identity notifications, or configuration-set event publishing).

:class:`MotoSes` runs moto's server in this process (``ThreadedMotoServer`` on 127.0.0.1, port 0:
PITFALLS 8) as the SES API, and reads back what was sent: moto keeps the accepted message
(``ses_backends``: id, sender, recipients, subject, and only one body), and moto's request
recorder keeps the ``SendEmail`` request as SES received it (both bodies, Reply-To, tags).

Both are context managers; ``close()`` stops their threads.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import threading
import urllib.request
import uuid
from dataclasses import dataclass
from email.header import decode_header, make_header
from email.utils import parseaddr
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from support.loopback import LoopbackServer

ACCOUNT = "123456789012"
REGION = "us-east-1"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:totetaxi-ses-events"
OTHER_TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:somebody-elses-topic"

#: The fields AWS signs, in its order, per message type (its documentation, not our module).
_SIGNED = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
    "UnsubscribeConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}


def sns_timestamp(when: dt.datetime) -> str:
    """``when`` as SNS writes it: UTC, milliseconds, ``Z``."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{when.microsecond // 1000:03d}Z"
    )


class SnsStub(LoopbackServer):
    """A signing Amazon SNS on loopback: key, certificate, certificate server, GET log."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
        now = dt.datetime.now(dt.UTC)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            # Valid well around both the wall clock and the tests' fixed clock.
            .not_valid_before(now - dt.timedelta(days=400))
            .not_valid_after(now + dt.timedelta(days=400))
            .sign(self.key, hashes.SHA256())
        )
        self.pem = self.certificate.public_bytes(serialization.Encoding.PEM)
        #: Every GET received, as a path with its query (``/x.pem``, ``/?Action=...``).
        self.gets: list[str] = []
        #: Called with each GET's path before it is answered (from the server's thread).
        self.on_get: Any = None
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with stub._lock:
                    stub.gets.append(self.path)
                if stub.on_get is not None:
                    stub.on_get(self.path)
                if self.path.endswith(".pem"):
                    self._answer(200, stub.pem, "application/x-pem-file")
                elif self.path.startswith("/?Action=ConfirmSubscription"):
                    self._answer(
                        200,
                        b"<ConfirmSubscriptionResponse><ConfirmSubscriptionResult>"
                        b"<SubscriptionArn>arn</SubscriptionArn>"
                        b"</ConfirmSubscriptionResult></ConfirmSubscriptionResponse>",
                        "text/xml",
                    )
                else:
                    self._answer(404, b"not found", "text/plain")

            def _answer(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._serve(Handler, "sns-stub")
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.cert_url = f"{self.base_url}/SimpleNotificationService-0123456789abcdef.pem"
        #: The ``mail_ses.certificate_url_pattern`` that admits this stub's certificates.
        self.pattern = re.escape(self.base_url) + r"/[A-Za-z0-9._-]+\.pem"

    # --- messages ---------------------------------------------------------------------------

    def sign(self, message: dict[str, Any], version: str = "1") -> dict[str, Any]:
        """``message`` with ``SignatureVersion``, ``Signature`` and ``SigningCertURL`` set."""
        signed = dict(message)
        signed.setdefault("SigningCertURL", self.cert_url)
        signed["SignatureVersion"] = version
        text = "".join(
            f"{name}\n{signed[name]}\n" for name in _SIGNED[signed["Type"]] if name in signed
        )
        algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
        signature = self.key.sign(text.encode("utf-8"), padding.PKCS1v15(), algorithm)
        signed["Signature"] = base64.b64encode(signature).decode("ascii")
        return signed

    def notification(
        self,
        message: str | dict[str, Any],
        *,
        when: dt.datetime,
        topic_arn: str = TOPIC_ARN,
        subject: str | None = None,
        message_id: str | None = None,
        version: str = "1",
        cert_url: str | None = None,
    ) -> dict[str, Any]:
        """A signed ``Notification`` (a dict ``message`` is sent as its JSON, as SES does)."""
        body: dict[str, Any] = {
            "Type": "Notification",
            "MessageId": message_id or str(uuid.uuid4()),
            "TopicArn": topic_arn,
            "Message": message if isinstance(message, str) else json.dumps(message),
            "Timestamp": sns_timestamp(when),
            "UnsubscribeURL": f"{self.base_url}/?Action=Unsubscribe&SubscriptionArn=x",
        }
        if subject is not None:
            body["Subject"] = subject
        if cert_url is not None:
            body["SigningCertURL"] = cert_url
        return self.sign(body, version)

    def confirmation(
        self,
        *,
        when: dt.datetime,
        kind: str = "SubscriptionConfirmation",
        topic_arn: str = TOPIC_ARN,
        subscribe_url: str | None = None,
        version: str = "1",
        message_id: str | None = None,
    ) -> dict[str, Any]:
        """A signed ``SubscriptionConfirmation`` (or ``UnsubscribeConfirmation``)."""
        token = uuid.uuid4().hex * 2
        body = {
            "Type": kind,
            "MessageId": message_id or str(uuid.uuid4()),
            "Token": token,
            "TopicArn": topic_arn,
            "Message": f"You have chosen to subscribe to the topic {topic_arn}.\nTo confirm the "
            "subscription, visit the SubscribeURL included in this message.",
            "SubscribeURL": subscribe_url
            or (
                f"{self.base_url}/?Action=ConfirmSubscription&TopicArn={quote(topic_arn)}"
                f"&Token={token}"
            ),
            "Timestamp": sns_timestamp(when),
        }
        return self.sign(body, version)

    def certificate_gets(self) -> list[str]:
        with self._lock:
            return [path for path in self.gets if path.endswith(".pem")]

    def subscribe_gets(self) -> list[str]:
        with self._lock:
            return [path for path in self.gets if "Action=ConfirmSubscription" in path]


def ses_event(
    kind: str,
    mail_id: str,
    recipients: list[str],
    *,
    bounce_type: str = "Permanent",
    publishing: bool = False,
    source: str = "bookings@totetaxi.example",
) -> dict[str, Any]:
    """An SES event as SES publishes it to SNS.

    ``kind`` is ``Bounce``, ``Complaint`` or ``Delivery`` (or any other event type, e.g.
    ``Open``). ``publishing`` chooses configuration-set event publishing (``eventType``) over
    identity notifications (``notificationType``).
    """
    at = "2026-11-23T15:00:00.000Z"
    event: dict[str, Any] = {
        "eventType" if publishing else "notificationType": kind,
        "mail": {
            "timestamp": at,
            "messageId": mail_id,
            "source": source,
            "sourceArn": f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/totetaxi.example",
            "destination": recipients,
            "sendingAccountId": ACCOUNT,
        },
    }
    if kind == "Bounce":
        event["bounce"] = {
            "bounceType": bounce_type,
            "bounceSubType": "General",
            "bouncedRecipients": [
                {
                    "emailAddress": r,
                    "action": "failed",
                    "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }
                for r in recipients
            ],
            "timestamp": at,
            "feedbackId": uuid.uuid4().hex,
        }
    elif kind == "Complaint":
        event["complaint"] = {
            "complainedRecipients": [{"emailAddress": r} for r in recipients],
            "complaintFeedbackType": "abuse",
            "timestamp": at,
            "feedbackId": uuid.uuid4().hex,
        }
    elif kind == "Delivery":
        event["delivery"] = {
            "timestamp": at,
            "recipients": recipients,
            "processingTimeMillis": 500,
            "smtpResponse": "250 ok",
        }
    else:
        event[kind[:1].lower() + kind[1:]] = {"timestamp": at}
    return event


# --- moto's SES -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SentEmail:
    """An email as SES took it: moto's record joined with the ``SendEmail`` request."""

    message_id: str
    to: str
    from_address: str  # MIME encoded-words decoded
    subject: str
    text: str
    html: str
    reply_to: str
    tags: dict[str, str]
    configuration_set: str


def decoded(value: str) -> str:
    """A header value with MIME encoded-words decoded (``=?utf-8?b?...?=``)."""
    return str(make_header(decode_header(value)))


def start_moto_server() -> tuple[Any, str]:
    """moto's server started in this process on loopback, a free port (PITFALLS 8): the
    ``ThreadedMotoServer`` (``stop()`` it) and its base URL. Every AWS API moto knows is served
    there; their state is moto's process-wide backends (``POST /moto-api/reset`` clears it)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def reset_moto(url: str) -> None:
    """Forget every resource of moto's backends (process-wide) through the server at ``url``."""
    reset = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
    urllib.request.urlopen(reset, timeout=10).close()


class MotoSes:
    """moto's SES API, served in this process on loopback.

    ``record=True`` turns on moto's request recorder (process-wide; written to
    ``recording``) so that :meth:`sent` can give back the whole request. ``close()`` stops the
    recorder, resets moto's state (identities, sent mail) and stops the server.
    """

    def __init__(self, recording: Path | None = None) -> None:
        self._server, self.url = start_moto_server()
        self.client = boto3.session.Session().client(
            "sesv2",
            region_name=REGION,
            endpoint_url=self.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )  # moto takes any credentials
        self._recording = recording
        self._recorder_location: str | None = None
        if recording is not None:
            from moto.moto_api import recorder

            self._recorder_location = recorder._location
            recorder._location = str(recording)
            recorder.reset_recording()
            recorder.start_recording()

    def verify(self, identity: str) -> None:
        """Make ``identity`` (an address or a domain) a verified SES identity."""
        self.client.create_email_identity(EmailIdentity=identity)

    def _backend(self) -> Any:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ses.models import ses_backends

        return ses_backends[DEFAULT_ACCOUNT_ID][REGION]

    def sent_ids(self) -> list[str]:
        """The MessageIds of every message SES accepted, oldest first."""
        return [m.id for m in self._backend().sent_messages]

    def requests(self) -> list[dict[str, Any]]:
        """The ``SendEmail`` requests SES received (accepted or not), oldest first."""
        if self._recording is None or not self._recording.exists():
            return []
        found = []
        for line in self._recording.read_text().splitlines():
            entry = json.loads(line)
            if not entry["url"].endswith("/v2/email/outbound-emails"):
                continue
            body = entry["body"]
            if entry["body_encoded"]:
                body = base64.b64decode(body).decode("utf-8")
            found.append(json.loads(body))
        return found

    def sent(self, message_id: str) -> SentEmail | None:
        """The message SES accepted under ``message_id``, or ``None``."""
        accepted = [m for m in self._backend().sent_messages if m.id == message_id]
        if not accepted:
            return None
        message = accepted[0]

        def same(request: dict[str, Any]) -> bool:
            simple = request["Content"]["Simple"]
            # moto keeps the HTML part when there is one, else the text part.
            kept = simple["Body"].get("Html", simple["Body"]["Text"])["Data"]
            return (
                request.get("FromEmailAddress") == message.source
                and simple["Subject"]["Data"] == message.subject
                and kept == message.body
            )

        matching = [r for r in self.requests() if same(r)]
        assert matching, f"no SendEmail request recorded for {message_id}"
        request = matching[-1]
        body = request["Content"]["Simple"]["Body"]
        return SentEmail(
            message_id=message.id,
            to=decoded(message.destinations["ToAddresses"][0]),
            from_address=decoded(message.source),
            subject=message.subject,
            text=body["Text"]["Data"],
            html=body.get("Html", {}).get("Data", ""),
            reply_to=", ".join(decoded(a) for a in request.get("ReplyToAddresses", [])),
            tags={t["Name"]: t["Value"] for t in request.get("EmailTags", [])},
            configuration_set=request.get("ConfigurationSetName", ""),
        )

    def reset(self) -> None:
        """Forget every identity and message (moto's state is process-wide)."""
        reset_moto(self.url)
        if self._recording is not None:
            from moto.moto_api import recorder

            recorder.reset_recording()

    def close(self) -> None:
        try:
            self.reset()  # leave no identity or mail for the next test
        finally:
            self._server.stop()
            if self._recording is not None:
                from moto.moto_api import recorder

                recorder.stop_recording()
                recorder._location = self._recorder_location

    def __enter__(self) -> MotoSes:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def aws_environment(monkeypatch: Any, tmp_path: Path) -> None:
    """Dummy credentials for boto3's default chain; no profile, no instance metadata (nothing
    may try to reach AWS or 169.254.169.254)."""
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def mailbox(value: str) -> tuple[str, str]:
    """``(display name, address)`` of a From/To/Reply-To value, encoded-words decoded."""
    return parseaddr(decoded(value))
