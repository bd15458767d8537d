"""The ``mailer`` slot: what a mail provider plugin implements.

A provider plugin answers the ``totetaxi_mailer`` hook with an object offering
:meth:`Mailer.send`. The notifications plugin renders every message itself (SES's own templates
are not used), so a mailer only delivers finished content.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Message:
    """One rendered email to one recipient.

    ``reference`` is the notification's id: a provider may use it to tag the message (an SES
    message tag, a file name) so that its later events can be matched.
    """

    to: str
    from_address: str
    subject: str
    text: str
    html: str = ""
    reply_to: str = ""
    reference: str = ""
    headers: dict[str, str] = field(default_factory=dict)


class MailerError(Exception):
    """The provider did not take the message.

    ``permanent`` says that trying again cannot help (the address is refused, the sender is not
    verified): the notification fails at once instead of being retried with backoff.
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@runtime_checkable
class Mailer(Protocol):
    """The interface of the ``mailer`` slot."""

    #: Short provider name, kept on each notification and delivery log row (``console``, ``ses``).
    name: str

    def send(self, message: Message) -> str:
        """Deliver ``message``; return the provider's id for it.

        Raise :class:`MailerError` when the provider refuses or cannot be reached. Must not
        retry by itself: the notifications plugin counts attempts and backs off.
        """
        ...
