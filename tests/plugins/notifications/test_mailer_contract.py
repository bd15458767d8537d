"""The ``mailer`` slot's contract: one suite, run against every mailer.

Each mailer joins through a *harness* (:class:`Harness`): the mailer, a sender it accepts, a way
to read back what it delivered, and the same mailer pointed at a destination it cannot reach.

* ``console``: :class:`~totetaxi_notifications.adapters.mail_console.ConsoleMailer` writing to a
  temporary folder, read back with ``ConsoleMailer.read``.
* ``ses``: :class:`~totetaxi_notifications.adapters.mail_ses.SesMailer` against moto's SES
  served in this process (``sns_stub.MotoSes``), read back from moto.

SES-only behaviour (a refused sender, the mapping of SES's errors, the request's tags and
configuration set) follows the contract.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from support.sns_stub import MotoSes, aws_environment, decoded, mailbox
from totetaxi_notifications.adapters.mail_console import ConsoleMailer
from totetaxi_notifications.adapters.mail_ses import SesMailer, mailer_error
from totetaxi_notifications.interfaces import Mailer, MailerError, Message

from totetaxi_core.testing import SlotContract

SENDER = "ToteTaxi <bookings@totetaxi.example>"


@dataclass(frozen=True)
class Received:
    """A delivered message as the provider keeps it."""

    to: str
    from_address: str
    subject: str
    text: str
    html: str
    reply_to: str


@dataclass
class Harness:
    """One mailer under contract."""

    name: str
    mailer: Mailer
    #: ``read(provider id)`` -> the message as delivered, or ``None``.
    read: Callable[[str], Received | None]
    #: The same kind of mailer, pointed at a destination it cannot reach.
    broken: Callable[[], Mailer]


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _console_harness(tmp_path: Path) -> Iterator[Harness]:
    mailer = ConsoleMailer(tmp_path / "mail")

    def read(provider_id: str) -> Received | None:
        found = mailer.read(provider_id)
        if found is None:
            return None
        html = found.get_body(("html",))
        return Received(
            to=str(found["To"]),
            from_address=str(found["From"]),
            subject=str(found["Subject"]),
            text=found.get_body(("plain",)).get_content(),
            html=html.get_content() if html is not None else "",
            reply_to=str(found["Reply-To"] or ""),
        )

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    yield Harness("console", mailer, read, broken=lambda: ConsoleMailer(blocker / "mail"))


def _ses_harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    aws_environment(monkeypatch, tmp_path)
    with MotoSes(recording=tmp_path / "moto-recording.jsonl") as moto:
        moto.verify(parseaddr(SENDER)[1])
        mailer = SesMailer(endpoint_url=moto.url, timeout_seconds=5)

        def read(provider_id: str) -> Received | None:
            found = moto.sent(provider_id)
            if found is None:
                return None
            return Received(
                to=found.to,
                from_address=found.from_address,
                subject=found.subject,
                text=found.text,
                html=found.html,
                reply_to=found.reply_to,
            )

        harness = Harness(
            "ses",
            mailer,
            read,
            broken=lambda: SesMailer(
                endpoint_url=f"http://127.0.0.1:{closed_port()}", timeout_seconds=2
            ),
        )
        harness.moto = moto  # type: ignore[attr-defined]  # for the SES-only tests
        yield harness


@pytest.fixture
def ses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    yield from _ses_harness(tmp_path, monkeypatch)


def message(**changes: str) -> Message:
    reference = str(uuid.uuid4())
    fields = dict(
        to="jane@example.com",
        from_address=SENDER,
        subject=f"Your booking TT-000123 ({reference[:8]})",
        text=f"Hello Jane,\nyour booking is confirmed.\n{reference}\n",
        html=f"<p>Hello Jane,</p><p>your booking is confirmed.</p><p>{reference}</p>",
        reply_to="",
        reference=reference,
    )
    fields.update(changes)
    return Message(**fields)


def same_text(received: str, sent: str) -> bool:
    # MIME ends every text part with a line break; the content before it must be unchanged.
    return received.replace("\r\n", "\n").rstrip("\n") == sent.rstrip("\n")


# --- the contract -----------------------------------------------------------------------------


# --- SES only ---------------------------------------------------------------------------------


def test_ses_unverified_sender_is_a_permanent_error(ses: Harness) -> None:
    before = ses.moto.sent_ids()  # type: ignore[attr-defined]
    with pytest.raises(MailerError) as raised:
        ses.mailer.send(message(from_address="ToteTaxi <nobody@unverified.example>"))
    assert raised.value.permanent is True
    assert "MessageRejected" in str(raised.value)
    assert ses.moto.sent_ids() == before  # type: ignore[attr-defined]


def test_ses_request_carries_the_reference_and_configuration_set(ses: Harness) -> None:
    moto = ses.moto  # type: ignore[attr-defined]
    mailer = SesMailer(endpoint_url=moto.url, configuration_set="totetaxi-events")
    sent = message()
    found = moto.sent(mailer.send(sent))
    assert found is not None
    assert found.tags == {"notification": sent.reference}
    assert found.configuration_set == "totetaxi-events"
    without = moto.sent(ses.mailer.send(message()))
    assert without is not None and without.configuration_set == ""


def test_ses_client_is_built_once(ses: Harness) -> None:
    mailer = ses.mailer
    assert isinstance(mailer, SesMailer)
    mailer.send(message())
    first = mailer.client
    mailer.send(message())
    assert mailer.client is first


def test_ses_refuses_a_malformed_address_without_calling_ses(ses: Harness) -> None:
    moto = ses.moto  # type: ignore[attr-defined]
    requests_before = len(moto.requests())
    with pytest.raises(MailerError) as raised:
        ses.mailer.send(message(to="not an address"))
    assert raised.value.permanent is True
    assert len(moto.requests()) == requests_before


def _client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": f"{code} happened"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        "SendEmail",
    )


@pytest.mark.parametrize(
    ("code", "status", "permanent"),
    [
        ("MessageRejected", 400, True),
        ("MailFromDomainNotVerifiedException", 400, True),
        ("AccountSuspendedException", 400, True),
        ("SendingPausedException", 400, True),
        ("BadRequestException", 400, True),
        ("NotFoundException", 404, True),
        ("TooManyRequestsException", 429, False),
        ("LimitExceededException", 400, False),
        ("Throttling", 400, False),
        ("InternalFailure", 500, False),
        ("ServiceUnavailable", 503, False),
        ("ExpiredTokenException", 403, False),
        ("SomethingNew", 502, False),
        ("SomethingNew", 400, True),
    ],
)
def test_ses_error_mapping(code: str, status: int, permanent: bool) -> None:
    error = mailer_error(_client_error(code, status))
    assert error.permanent is permanent
    assert code in str(error)


def test_decoded_helper_reads_encoded_words() -> None:
    # The read-back of SES's From relies on it; a sanity check of the helper itself.
    assert decoded("=?utf-8?b?VMO2dMOr?= <a@b.example>") == "Tötë <a@b.example>"


class TestMailerContract(SlotContract):
    """The contract of the ``mailer`` slot, run against the console mailer and SES (moto).

    A mailer kept in another distribution runs it by subclassing with its own ``providers``
    and a :meth:`provide` yielding its :class:`Harness`.
    """

    slot = "mailer"
    providers = ("console", "ses")

    def provide(self, name: str, request: pytest.FixtureRequest) -> Iterator[Harness]:
        tmp_path = request.getfixturevalue("tmp_path")
        if name == "console":
            yield from _console_harness(tmp_path)
        else:
            yield from _ses_harness(tmp_path, request.getfixturevalue("monkeypatch"))

    def test_is_a_mailer_with_a_name(self, harness: Harness) -> None:
        assert isinstance(harness.mailer, Mailer)
        assert harness.mailer.name == harness.name

    def test_send_returns_a_provider_id_unique_per_message(self, harness: Harness) -> None:
        ids = [harness.mailer.send(message()) for _ in range(3)]
        assert all(isinstance(i, str) and i for i in ids)
        assert len(set(ids)) == 3
        assert all(harness.read(i) is not None for i in ids)

    def test_delivered_message_has_every_part(self, harness: Harness) -> None:
        sent = message(reply_to="help@totetaxi.example")
        received = harness.read(harness.mailer.send(sent))
        assert received is not None
        assert parseaddr(received.to)[1] == "jane@example.com"
        assert mailbox(received.from_address) == ("ToteTaxi", "bookings@totetaxi.example")
        assert received.subject == sent.subject
        assert same_text(received.text, sent.text)
        assert same_text(received.html, sent.html)
        assert parseaddr(received.reply_to)[1] == "help@totetaxi.example"

    def test_text_only_message_without_reply_to(self, harness: Harness) -> None:
        sent = message(html="")
        received = harness.read(harness.mailer.send(sent))
        assert received is not None
        assert same_text(received.text, sent.text)
        assert received.html == ""
        assert received.reply_to == ""

    def test_unicode_survives(self, harness: Harness) -> None:
        sent = message(
            from_address="Tötë Taxi ✓ <bookings@totetaxi.example>",
            subject="Déménagement confirmé ✓ — 東京 🚚",
            text="Bonjour Zoë,\nvotre réservation est confirmée ✓ 🚚\n",
            html="<p>Bonjour Zoë, réservation confirmée ✓ 🚚</p>",
            reply_to="Équipe Support <help@totetaxi.example>",
        )
        received = harness.read(harness.mailer.send(sent))
        assert received is not None
        assert received.subject == sent.subject
        assert same_text(received.text, sent.text)
        assert same_text(received.html, sent.html)
        assert mailbox(received.from_address) == ("Tötë Taxi ✓", "bookings@totetaxi.example")
        assert mailbox(received.reply_to) == ("Équipe Support", "help@totetaxi.example")

    def test_unreachable_destination_is_a_transient_error(self, harness: Harness) -> None:
        with pytest.raises(MailerError) as raised:
            harness.broken().send(message())
        assert raised.value.permanent is False
        assert str(raised.value)
