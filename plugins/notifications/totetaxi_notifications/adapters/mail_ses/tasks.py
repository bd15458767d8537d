"""The SES adapter's background task: confirming an SNS subscription after commit."""

from __future__ import annotations

import logging
import urllib.error

from pyramid.config import Configurator

from totetaxi_core.plugin_api import Context

from ... import sns

log = logging.getLogger("totetaxi.mail_ses")

CONFIRM_TASK = "mail_ses.confirm_subscription"


def confirm_subscription(
    ctx: Context, subscribe_url: str, signing_cert_url: str, topic_arn: str = ""
) -> None:
    """GET the ``SubscribeURL`` of a verified ``SubscriptionConfirmation`` (a background task).

    The URL is checked again against the current settings before the GET. A failure to reach
    SNS raises (the outbox retries); a URL refused by the settings is logged and dropped.
    """
    try:
        sns.check_subscribe_url(
            subscribe_url, signing_cert_url, ctx.settings["mail_ses.certificate_url_pattern"]
        )
    except sns.SnsError as exc:
        log.error("not confirming the SNS subscription to %s: %s", topic_arn, exc.description)
        return
    try:
        sns.http_get(subscribe_url, ctx.settings["mail_ses.timeout_seconds"])
    except urllib.error.HTTPError as exc:
        if 400 <= exc.code < 500:
            # The token expired or was used: SNS sends a new confirmation when asked again.
            log.error(
                "SNS refused the subscription confirmation of %s: HTTP %s", topic_arn, exc.code
            )
            return
        raise
    log.info("confirmed the SNS subscription of this endpoint to %s", topic_arn)


def includeme(config: Configurator) -> None:
    config.add_task(confirm_subscription, name=CONFIRM_TASK, max_retries=3, backoff_seconds=30)
