"""Shared fixtures and helpers of the notifications plugin's tests.

Not a test module of its own (it holds no tests): the other modules import the ``app`` fixture
and the helpers from here. The app is the payments tests' one (pricing, the mock gateway, tasks
eager, the clock on Monday 2026-11-23 10:00 New York, bookings for Thursday ``DAY`` at the Petite
price) with the console mailer (``mail_console``, which brings ``notifications``) writing to a
folder of the test's own.

With eager tasks, a notification's send task runs right after the transaction that queued it
commits, so the email is in the folder as soon as the request returns. Every helper that reads
the database does so in a transaction of its own and returns plain values or detached rows.
"""

from __future__ import annotations

import dataclasses
import email.policy
import uuid
from collections.abc import Callable, Iterator
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from totetaxi_notifications import services
from totetaxi_notifications.interfaces import MailerError, Message
from totetaxi_notifications.models import (
    DeliveryLog,
    EmailTemplate,
    HeldAddress,
    Notification,
)
from webtest import TestApp

from support.payments import (
    APP_SETTINGS,
    NOW,
    base_settings,
    cheap_passwords,
    count,
    fetch,
    run,
    set_clock,
)
from totetaxi_core import make_app
from totetaxi_core.platform import prepare
from totetaxi_core.plugin_api import find_service

__all__ = [
    "APP_SETTINGS",
    "NOW",
    "count",
    "fetch",
    "run",
    "set_clock",
]

PLUGINS = "pricing payments_mock mail_console"
MY_NOTIFICATIONS = "/api/v1/me/notifications"


def app_settings(folder: Path, **overrides: Any) -> dict[str, Any]:
    """The settings of the notifications tests' app: payments' plus the console mailer."""
    return {
        **APP_SETTINGS,
        "totetaxi.plugins": PLUGINS,
        "mail_console.folder": str(folder),
        **overrides,
    }


@pytest.fixture
def app(make_testapp, monkeypatch, tmp_path) -> TestApp:
    """Pricing + payments_mock + notifications + mail_console on SQLite and on PostgreSQL,
    the clock on ``NOW``, mail written under ``tmp_path / "mail"``."""
    cheap_passwords(monkeypatch)
    testapp = make_testapp(**app_settings(tmp_path / "mail"))
    set_clock(testapp, NOW)
    return testapp


@pytest.fixture
def pg_app(pg_backend: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[TestApp]:
    """The same app on a fresh PostgreSQL database only, with a connection for every racer."""
    cheap_passwords(monkeypatch)
    url = pg_backend.new_url()
    settings = base_settings(
        url, **app_settings(tmp_path / "mail"), **{"sqlalchemy.pool_size": "10"}
    )
    application = make_app(prepare(settings, environ={}))
    testapp = TestApp(application, extra_environ={"REMOTE_ADDR": "127.0.0.1"})
    set_clock(testapp, NOW)
    yield testapp
    application.registry["dbengine"].dispose()
    pg_backend.drop(url)


# --- the mail folder -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Email:
    """One ``.eml`` file the console mailer wrote, parsed."""

    id: str
    to: str
    from_address: str
    subject: str
    text: str
    html: str
    notification: str  # the X-Totetaxi-Notification header: the notification's id


def mailer(app: TestApp) -> Any:
    return find_service(app.app.registry, "mail_console.mailer")


def _parse(path: Path) -> Email:
    mime = BytesParser(policy=email.policy.default).parsebytes(path.read_bytes())
    text = mime.get_body(preferencelist=("plain",))
    html = mime.get_body(preferencelist=("html",))
    return Email(
        id=path.stem,
        to=str(mime["To"]),
        from_address=str(mime["From"]),
        subject=str(mime["Subject"]),
        text=_lines(text),
        html=_lines(html),
        notification=str(mime["X-Totetaxi-Notification"] or ""),
    )


def _lines(part: Any) -> str:
    return part.get_content().replace("\r\n", "\n") if part is not None else ""


def emails(app: TestApp) -> list[Email]:
    """Every email in the mail folder, by file time (names break ties: emails written within
    one clock tick of the file system come in no particular order; when the order matters,
    match them to their notifications by ``Email.notification``)."""
    folder = mailer(app).folder
    if not folder.is_dir():
        return []
    paths = sorted(folder.glob("console-*.eml"), key=lambda p: (p.stat().st_mtime_ns, p.name))
    return [_parse(path) for path in paths]


def email_files(app: TestApp) -> list[str]:
    """The names of every file in the mail folder (partial files included)."""
    folder = mailer(app).folder
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def email_for(app: TestApp, template_key: str) -> Email:
    """The one email sent for the one notification of ``template_key``."""
    [row] = notifications(app, Notification.template_key == template_key)
    [found] = [e for e in emails(app) if e.notification == str(row.id)]
    return found


# --- the database --------------------------------------------------------------------------


def notifications(app: TestApp, *where: Any) -> list[Notification]:
    """Notifications (matching ``where``), detached, oldest first (template key breaks ties)."""
    return fetch(
        app,
        select(Notification)
        .where(*where)
        .order_by(Notification.created_at, Notification.template_key),
    )


def notification(app: TestApp, notification_id: Any) -> Notification:
    [row] = notifications(app, Notification.id == uuid.UUID(str(notification_id)))
    return row


def templates_of(app: TestApp, *where: Any) -> list[str]:
    """The template keys of the notifications (matching ``where``), sorted."""
    return sorted(row.template_key for row in notifications(app, *where))


def logs(app: TestApp, notification_id: Any = None) -> list[DeliveryLog]:
    """Delivery log rows (of one notification), detached, in time order."""
    statement = select(DeliveryLog).order_by(DeliveryLog.at, DeliveryLog.kind)
    if notification_id is not None:
        statement = statement.where(DeliveryLog.notification_id == uuid.UUID(str(notification_id)))
    return fetch(app, statement)


def template(app: TestApp, key: str) -> EmailTemplate:
    [row] = fetch(app, select(EmailTemplate).where(EmailTemplate.key == key))
    return row


def edit_template(app: TestApp, key: str, **fields: str) -> None:
    """Change a stored template directly (as a staff edit would have)."""

    def change(ctx: Any) -> None:
        row = ctx.dbsession.scalars(select(EmailTemplate).where(EmailTemplate.key == key)).one()
        for name, value in fields.items():
            setattr(row, name, value)

    run(app, change)


def hold(app: TestApp, address: str, reason: str = "bounce") -> None:
    run(app, lambda ctx: services.hold_address(ctx, address, reason, "test"))


def held(app: TestApp) -> list[str]:
    return sorted(row.email for row in fetch(app, select(HeldAddress)))


def fire(app: TestApp, hook: str, booking_id: Any = None, **kwargs: Any) -> None:
    """Fire ``hook`` in a committed transaction of its own, with the booking loaded in it
    (its send tasks then run after commit, as after a request)."""
    from totetaxi_core.bookings.models import Booking

    def work(ctx: Any) -> None:
        extra = dict(kwargs)
        if booking_id is not None:
            extra["booking"] = ctx.dbsession.get(Booking, uuid.UUID(str(booking_id)))
        ctx.call_hook(hook, **extra)

    run(app, work)


def send_now(app: TestApp, notification_id: Any) -> str:
    """Run the send task's body for one notification in a transaction of its own."""
    return run(app, lambda ctx: services.send(ctx, str(notification_id)))


def send_due(app: TestApp) -> int:
    """The periodic retry sweep: queues a send for each due retry (run after commit)."""
    return run(app, lambda ctx: services.send_due(ctx))


# --- a provider that fails -----------------------------------------------------------------


class FlakyMailer:
    """Stands in for the ``mail_console.mailer`` service's ``send``: raises
    :class:`MailerError` for the first ``failures`` calls (``permanent`` as told), then hands the
    message to the real mailer. Every call's message is kept in ``calls``."""

    def __init__(
        self,
        real: Callable[[Message], str],
        failures: int,
        permanent: bool = False,
        error: str = "Throttling: maximum send rate exceeded",
    ) -> None:
        self.real = real
        self.failures = failures
        self.permanent = permanent
        self.error = error
        self.calls: list[Message] = []

    def __call__(self, message: Message) -> str:
        self.calls.append(message)
        if len(self.calls) <= self.failures:
            raise MailerError(f"{self.error} ({len(self.calls)})", permanent=self.permanent)
        return self.real(message)


def flaky(
    app: TestApp, monkeypatch: pytest.MonkeyPatch, failures: int, permanent: bool = False
) -> FlakyMailer:
    """Make the console mailer fail ``failures`` times (for this test only)."""
    console = mailer(app)
    wrapper = FlakyMailer(console.send, failures, permanent)
    monkeypatch.setattr(console, "send", wrapper)
    return wrapper
