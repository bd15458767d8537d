"""The SES mailer: one rendered message, one SES v2 ``SendEmail``; SES's refusals as
:class:`~totetaxi_notifications.interfaces.MailerError`."""

from __future__ import annotations

import logging
import re
import threading
from email.utils import formataddr, parseaddr
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
)

from ...interfaces import MailerError, Message

log = logging.getLogger("totetaxi.mail_ses")

#: SES error codes that sending the same message again cannot get past.
PERMANENT_CODES = frozenset(
    {
        "MessageRejected",  # refused content, or an unverified sender / recipient in the sandbox
        "MailFromDomainNotVerifiedException",
        "MailFromDomainNotVerified",
        "AccountSuspendedException",
        "AccountSuspended",
        "SendingPausedException",
        "SendingPaused",
        "ConfigurationSetSendingPausedException",
        "BadRequestException",
        "BadRequest",
        "ValidationException",
        "ValidationError",
        "InvalidParameterValue",
        "NotFoundException",  # e.g. the configuration set does not exist
        "ConfigurationSetDoesNotExist",
        "ConfigurationSetDoesNotExistException",
    }
)
#: SES error codes that a later attempt can get past: throttling, quotas, AWS's own failures,
#: and credential problems (ops fix the role or rotate the key; the queued mail then goes out).
TRANSIENT_CODES = frozenset(
    {
        "TooManyRequestsException",
        "LimitExceededException",
        "Throttling",
        "ThrottlingException",
        "RequestThrottled",
        "SlowDown",
        "RequestTimeout",
        "RequestTimeoutException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalServerError",
        "InternalServiceError",
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "AccessDenied",
        "AccessDeniedException",
        "MissingAuthenticationTokenException",
    }
)

#: SES email tag values allow only letters, digits, ``_`` and ``-`` (256 at most).
_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def _encoded_address(value: str) -> str:
    """``value`` (``addr`` or ``Name <addr>``) as SES accepts it: a non-ASCII display name in
    MIME encoded-words, a non-ASCII domain in punycode. SES takes no non-ASCII local part."""
    name, address = parseaddr(value)
    if not address or "@" not in address:
        raise MailerError(f"not an email address: {value!r}", permanent=True)
    local, _, domain = address.rpartition("@")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise MailerError(f"the domain of {address!r} cannot be encoded", permanent=True) from None
    return formataddr((name, f"{local}@{domain}"), charset="utf-8")


def mailer_error(exc: ClientError) -> MailerError:
    """The :class:`MailerError` for an error SES answered (permanent or not, see above)."""
    error = exc.response.get("Error", {}) or {}
    code = str(error.get("Code") or "")
    status = int((exc.response.get("ResponseMetadata", {}) or {}).get("HTTPStatusCode") or 0)
    text = str(error.get("Message") or exc)
    if code in PERMANENT_CODES:
        permanent = True
    elif code in TRANSIENT_CODES:
        permanent = False
    else:
        # Unknown: AWS's own failures and throttling may pass; another 4xx will not.
        permanent = 400 <= status < 500 and status not in (408, 429)
    return MailerError(f"SES refused the message ({code or status}): {text}", permanent=permanent)


class SesMailer:
    """The ``mailer`` slot on Amazon SES v2: one ``SendEmail`` per message, no retries.

    ``client`` may be given (tests); otherwise a ``sesv2`` client is built on first use from
    boto3's default credential chain and kept (boto3 clients are thread-safe).
    """

    name = "ses"

    def __init__(
        self,
        *,
        region: str = "us-east-1",
        endpoint_url: str = "",
        configuration_set: str = "",
        timeout_seconds: float = 10,
        client: Any = None,
    ) -> None:
        self.region = region
        self.endpoint_url = endpoint_url
        self.configuration_set = configuration_set
        self.timeout_seconds = timeout_seconds
        self._client = client
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> SesMailer:
        """A mailer configured by the validated ``mail_ses.*`` settings."""
        return cls(
            region=settings["mail_ses.region"],
            endpoint_url=settings["mail_ses.endpoint_url"],
            configuration_set=settings["mail_ses.configuration_set"],
            timeout_seconds=settings["mail_ses.timeout_seconds"],
        )

    @property
    def client(self) -> Any:
        """The ``sesv2`` client (built on first use)."""
        if self._client is None:
            with self._lock:  # boto3 sessions are not thread-safe: build the client once
                if self._client is None:
                    config = Config(
                        # One attempt: the notifications plugin retries with backoff and counts
                        # attempts (botocore's max_attempts counts *retries*; total does not).
                        retries={"total_max_attempts": 1, "mode": "standard"},
                        connect_timeout=self.timeout_seconds,
                        read_timeout=self.timeout_seconds,
                        user_agent_extra="totetaxi-mail-ses",
                    )
                    self._client = boto3.session.Session().client(
                        "sesv2",
                        region_name=self.region,
                        endpoint_url=self.endpoint_url or None,
                        config=config,
                    )
        return self._client

    def request(self, message: Message) -> dict[str, Any]:
        """The ``SendEmail`` parameters for ``message``."""
        charset = "UTF-8"
        body: dict[str, Any] = {"Text": {"Data": message.text, "Charset": charset}}
        if message.html:
            body["Html"] = {"Data": message.html, "Charset": charset}
        simple: dict[str, Any] = {
            "Subject": {"Data": message.subject, "Charset": charset},
            "Body": body,
        }
        if message.headers:
            simple["Headers"] = [{"Name": k, "Value": v} for k, v in message.headers.items()]
        params: dict[str, Any] = {
            "FromEmailAddress": _encoded_address(message.from_address),
            "Destination": {"ToAddresses": [_encoded_address(message.to)]},
            "Content": {"Simple": simple},
        }
        if message.reply_to:
            params["ReplyToAddresses"] = [_encoded_address(message.reply_to)]
        if message.reference:
            # Lets SES's events (and its console) name the notification an email was.
            params["EmailTags"] = [
                {"Name": "notification", "Value": _TAG_UNSAFE.sub("_", message.reference)[:256]}
            ]
        if self.configuration_set:
            params["ConfigurationSetName"] = self.configuration_set
        return params

    def send(self, message: Message) -> str:
        """Send ``message`` with SES; return SES's MessageId. Raises :class:`MailerError`."""
        params = self.request(message)
        try:
            answer = self.client.send_email(**params)
        except ClientError as exc:
            raise mailer_error(exc) from exc
        except ParamValidationError as exc:
            raise MailerError(f"SES cannot take this message: {exc}", permanent=True) from exc
        except (NoCredentialsError, PartialCredentialsError) as exc:
            raise MailerError(
                f"no AWS credentials for SES (set AWS_ACCESS_KEY_ID and "
                f"AWS_SECRET_ACCESS_KEY, or give the host a role): {exc}"
            ) from exc
        except BotoCoreError as exc:  # endpoint unreachable, timeouts, connection closed
            raise MailerError(f"SES could not be reached: {exc}") from exc
        message_id = answer.get("MessageId")
        if not message_id:
            raise MailerError("SES answered without a MessageId")
        log.info(
            "email %s to %s sent with SES (notification %s)",
            message_id,
            message.to,
            message.reference,
        )
        return str(message_id)


#: The services holding this app's :class:`SesMailer` and SNS :class:`CertificateStore`.
MAILER_SERVICE = "mail_ses.mailer"
CERTIFICATES_SERVICE = "mail_ses.certificates"
