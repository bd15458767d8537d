"""``mail_ses``: production's mailer, Amazon SES (API v2), with its bounce/complaint webhook.

* :class:`SesMailer` sends each rendered message with SES v2 ``SendEmail`` (simple content:
  subject, text and HTML parts, Reply-To, the notification's id as an email tag, the
  configuration set when one is set) and returns SES's MessageId, which SES's later events
  carry as ``mail.messageId``. It never retries by itself (the notifications plugin counts
  attempts and backs off) and maps SES's refusals to :class:`~totetaxi_notifications.mailer.
  MailerError`: permanent when sending again cannot help (the message or sender is refused, the
  account is suspended or paused, the request is invalid), transient otherwise (throttling,
  quotas, 5xx, network, credentials that ops can fix).
* Credentials come from boto3's default chain (``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``
  in the environment, a profile, the instance or task role), never from the ``.ini``.
* ``POST /api/v1/notifications/ses/events`` (:mod:`.ses_webhook`) takes SES's bounce, complaint
  and delivery events from an SNS topic: a permanent bounce or a complaint holds the address.

Importing this module does no network I/O; the SES client is built on the first send.
"""

from __future__ import annotations

import logging
import re
import sys
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
from pyramid.config import Configurator

from totetaxi_core.plugin_api import Manifest, Setting, find_service, hookimpl

from ..mailer import MailerError, Message
from ..sns import DEFAULT_CERTIFICATE_URL_PATTERN, CertificateStore

__all__ = ["SesMailer", "includeme", "mailer_error", "manifest"]

log = logging.getLogger("totetaxi.mail_ses")

#: SES error codes that sending the same message again cannot get past.
PERMANENT_CODES = frozenset({
    "MessageRejected",  # refused content, or an unverified sender / recipient in the sandbox
    "MailFromDomainNotVerifiedException", "MailFromDomainNotVerified",
    "AccountSuspendedException", "AccountSuspended",
    "SendingPausedException", "SendingPaused", "ConfigurationSetSendingPausedException",
    "BadRequestException", "BadRequest", "ValidationException", "ValidationError",
    "InvalidParameterValue", "NotFoundException",  # e.g. the configuration set does not exist
    "ConfigurationSetDoesNotExist", "ConfigurationSetDoesNotExistException",
})
#: SES error codes that a later attempt can get past: throttling, quotas, AWS's own failures,
#: and credential problems (ops fix the role or rotate the key; the queued mail then goes out).
TRANSIENT_CODES = frozenset({
    "TooManyRequestsException", "LimitExceededException", "Throttling", "ThrottlingException",
    "RequestThrottled", "SlowDown", "RequestTimeout", "RequestTimeoutException",
    "ServiceUnavailable", "ServiceUnavailableException", "InternalFailure",
    "InternalServerError", "InternalServiceError", "ExpiredToken", "ExpiredTokenException",
    "RequestExpired", "UnrecognizedClientException", "InvalidClientTokenId",
    "InvalidSignatureException", "SignatureDoesNotMatch", "IncompleteSignature",
    "AccessDenied", "AccessDeniedException", "MissingAuthenticationTokenException",
})

#: SES email tag values allow only letters, digits, ``_`` and ``-`` (256 at most).
_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_TOPIC_ARN = re.compile(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?")


def _check_region(value: str) -> str | None:
    if not _REGION.fullmatch(value):
        return f"must be an AWS region such as us-east-1, got {value!r}"
    return None


def _check_endpoint(value: str) -> str | None:
    if value and not value.startswith(("https://", "http://")):
        return f"must be an http(s):// URL or empty, got {value!r}"
    return None


def _check_configuration_set(value: str) -> str | None:
    if value and not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value):
        return f"must be an SES configuration set name (letters, digits, _ and -), got {value!r}"
    return None


def _check_topic_arns(value: list[str]) -> str | None:
    wrong = [arn for arn in value if not _TOPIC_ARN.fullmatch(arn)]
    if wrong:
        return ("must list SNS topic ARNs (arn:aws:sns:<region>:<account>:<topic>), got "
                + ", ".join(repr(arn) for arn in wrong))
    return None


def _check_pattern(value: str) -> str | None:
    try:
        re.compile(value)
    except re.error as exc:
        return f"must be a regular expression ({exc})"
    if not re.match(r"\^?https?://[A-Za-z0-9\\]", value):
        # A pattern such as ".*" or "https://.*" would let any host serve the key that "signs"
        # messages: the host must start with literal characters.
        return "must start with the scheme and a literal host (https://sns\\.<region>...)"
    return None


manifest = Manifest(
    name="mail_ses",
    version="1.0.0",
    summary="Amazon SES as the mailer; bounces and complaints (via SNS) hold the address",
    depends=("notifications",),
    provides=("mailer",),
    settings=(
        Setting("mail_ses.region", "us-east-1", check=_check_region,
                help="the AWS region of the SES identity (and of its SNS topic)"),
        Setting("mail_ses.endpoint_url", "", check=_check_endpoint,
                help="the SES API address; empty for AWS's own (a local stand-in in tests)"),
        Setting("mail_ses.configuration_set", "", check=_check_configuration_set,
                help="SES configuration set every message is sent with (empty: none); its "
                     "event destination may publish bounces and complaints to SNS"),
        Setting("mail_ses.topic_arns", [], kind="list", check=_check_topic_arns,
                help="comma-separated ARNs of the SNS topics whose messages the events webhook "
                     "accepts; empty: it refuses every message (403)"),
        Setting("mail_ses.certificate_url_pattern", DEFAULT_CERTIFICATE_URL_PATTERN,
                check=_check_pattern,
                help="regular expression the whole SigningCertURL of an SNS message must match "
                     "before it is fetched (a SubscribeURL must be on the same host)"),
        Setting("mail_ses.timeout_seconds", 10, kind="int", minimum=1, maximum=120,
                help="connect and read timeout of each call to SES and SNS"),
    ),
)


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

    def __init__(self, *, region: str = "us-east-1", endpoint_url: str = "",
                 configuration_set: str = "", timeout_seconds: float = 10,
                 client: Any = None) -> None:
        self.region = region
        self.endpoint_url = endpoint_url
        self.configuration_set = configuration_set
        self.timeout_seconds = timeout_seconds
        self._client = client
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> SesMailer:
        """A mailer configured by the validated ``mail_ses.*`` settings."""
        return cls(region=settings["mail_ses.region"],
                   endpoint_url=settings["mail_ses.endpoint_url"],
                   configuration_set=settings["mail_ses.configuration_set"],
                   timeout_seconds=settings["mail_ses.timeout_seconds"])

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
                        "sesv2", region_name=self.region,
                        endpoint_url=self.endpoint_url or None, config=config)
        return self._client

    def request(self, message: Message) -> dict[str, Any]:
        """The ``SendEmail`` parameters for ``message``."""
        charset = "UTF-8"
        body: dict[str, Any] = {"Text": {"Data": message.text, "Charset": charset}}
        if message.html:
            body["Html"] = {"Data": message.html, "Charset": charset}
        simple: dict[str, Any] = {"Subject": {"Data": message.subject, "Charset": charset},
                                  "Body": body}
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
            params["EmailTags"] = [{"Name": "notification",
                                    "Value": _TAG_UNSAFE.sub("_", message.reference)[:256]}]
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
            raise MailerError(f"no AWS credentials for SES (set AWS_ACCESS_KEY_ID and "
                              f"AWS_SECRET_ACCESS_KEY, or give the host a role): {exc}") from exc
        except BotoCoreError as exc:  # endpoint unreachable, timeouts, connection closed
            raise MailerError(f"SES could not be reached: {exc}") from exc
        message_id = answer.get("MessageId")
        if not message_id:
            raise MailerError("SES answered without a MessageId")
        log.info("email %s to %s sent with SES (notification %s)", message_id, message.to,
                 message.reference)
        return str(message_id)


#: The services holding this app's :class:`SesMailer` and SNS :class:`CertificateStore`.
MAILER_SERVICE = "mail_ses.mailer"
CERTIFICATES_SERVICE = "mail_ses.certificates"


@hookimpl
def totetaxi_mailer(ctx: Any) -> SesMailer:
    mailer: SesMailer = find_service(ctx, MAILER_SERVICE)
    return mailer


def includeme(config: Configurator) -> None:
    from . import ses_webhook

    settings = config.get_settings()
    config.register_service(SesMailer.from_settings(settings), name=MAILER_SERVICE)
    # Per app (not per process): a test app on another stand-in never sees another's keys.
    config.register_service(CertificateStore(timeout=settings["mail_ses.timeout_seconds"]),
                            name=CERTIFICATES_SERVICE)
    config.add_hookimpls(sys.modules[__name__], name="mail_ses")
    config.add_task(ses_webhook.confirm_subscription, name=ses_webhook.CONFIRM_TASK,
                    max_retries=3, backoff_seconds=30)
    config.include(ses_webhook)
    # SNS posts its JSON as text/plain and cannot be told otherwise; the webhook checks the
    # SNS signature and uses no cookie, so the core's JSON-only CSRF rule has nothing to guard.
    config.accept_any_body(ses_webhook.PATH)
