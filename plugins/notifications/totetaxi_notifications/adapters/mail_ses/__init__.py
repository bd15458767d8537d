"""``mail_ses``: production's mailer, Amazon SES (API v2), with its bounce/complaint webhook.

* :class:`SesMailer` sends each rendered message with SES v2 ``SendEmail`` (simple content:
  subject, text and HTML parts, Reply-To, the notification's id as an email tag, the
  configuration set when one is set) and returns SES's MessageId, which SES's later events
  carry as ``mail.messageId``. It never retries by itself (the notifications plugin counts
  attempts and backs off) and maps SES's refusals to :class:`~totetaxi_notifications.interfaces.
  MailerError`: permanent when sending again cannot help (the message or sender is refused, the
  account is suspended or paused, the request is invalid), transient otherwise (throttling,
  quotas, 5xx, network, credentials that ops can fix).
* Credentials come from boto3's default chain (``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``
  in the environment, a profile, the instance or task role), never from the ``.ini``.
* ``POST /api/v1/notifications/ses/events`` (:mod:`.api`) takes SES's bounce, complaint
  and delivery events from an SNS topic: a permanent bounce or a complaint holds the address.

Importing this package does no network I/O; the SES client is built on the first send. One
module per room: :mod:`.mailer`, :mod:`.hooks`, :mod:`.api` (the webhook), :mod:`.tasks`.
"""

from __future__ import annotations

import re

from pyramid.config import Configurator

from totetaxi_core.plugin_api import Manifest, Setting

from ...sns import DEFAULT_CERTIFICATE_URL_PATTERN, CertificateStore
from .mailer import CERTIFICATES_SERVICE, MAILER_SERVICE, SesMailer, mailer_error

__all__ = [
    "CERTIFICATES_SERVICE",
    "MAILER_SERVICE",
    "SesMailer",
    "includeme",
    "mailer_error",
    "manifest",
]

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
        return (
            "must list SNS topic ARNs (arn:aws:sns:<region>:<account>:<topic>), got "
            + ", ".join(repr(arn) for arn in wrong)
        )
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
        Setting(
            "mail_ses.region",
            "us-east-1",
            check=_check_region,
            help="the AWS region of the SES identity (and of its SNS topic)",
        ),
        Setting(
            "mail_ses.endpoint_url",
            "",
            check=_check_endpoint,
            help="the SES API address; empty for AWS's own (a local stand-in in tests)",
        ),
        Setting(
            "mail_ses.configuration_set",
            "",
            check=_check_configuration_set,
            help="SES configuration set every message is sent with (empty: none); its "
            "event destination may publish bounces and complaints to SNS",
        ),
        Setting(
            "mail_ses.topic_arns",
            [],
            kind="list",
            check=_check_topic_arns,
            help="comma-separated ARNs of the SNS topics whose messages the events webhook "
            "accepts; empty: it refuses every message (403)",
        ),
        Setting(
            "mail_ses.certificate_url_pattern",
            DEFAULT_CERTIFICATE_URL_PATTERN,
            check=_check_pattern,
            help="regular expression the whole SigningCertURL of an SNS message must match "
            "before it is fetched (a SubscribeURL must be on the same host)",
        ),
        Setting(
            "mail_ses.timeout_seconds",
            10,
            kind="int",
            minimum=1,
            maximum=120,
            help="connect and read timeout of each call to SES and SNS",
        ),
    ),
)


def includeme(config: Configurator) -> None:
    from . import api, hooks

    settings = config.get_settings()
    config.register_service(SesMailer.from_settings(settings), name=MAILER_SERVICE)
    # Per app (not per process): a test app on another stand-in never sees another's keys.
    config.register_service(
        CertificateStore(timeout=settings["mail_ses.timeout_seconds"]), name=CERTIFICATES_SERVICE
    )
    config.add_hookimpls(hooks, name="mail_ses")
    config.include(".tasks")
    config.include(".api")
    # SNS posts its JSON as text/plain and cannot be told otherwise; the webhook checks the
    # SNS signature and uses no cookie, so the core's JSON-only CSRF rule has nothing to guard.
    config.accept_any_body(api.PATH)
