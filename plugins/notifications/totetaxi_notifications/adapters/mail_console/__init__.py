"""``mail_console``: development's mailer. Every message goes to the log and to a folder.

Each message is written as a standard ``.eml`` file (open it in any mail client) under
``mail_console.folder``; the console's "Mailbox" page lists and shows them. Nothing leaves the
machine. Development only.

One module per room: :mod:`.mailer` (the mailer), :mod:`.hooks` (the slot and the navigation
entry), :mod:`.pages` (the Mailbox pages).
"""

from __future__ import annotations

from pyramid.config import Configurator

from totetaxi_core.plugin_api import Manifest, Setting

from .mailer import MAILER_SERVICE, ConsoleMailer

__all__ = ["MAILER_SERVICE", "ConsoleMailer", "includeme", "manifest"]

manifest = Manifest(
    name="mail_console",
    version="1.0.0",
    summary="Development mailer: writes each email to the log and to a folder under var/",
    depends=("notifications",),
    provides=("mailer",),
    development_only=True,
    settings=(
        Setting(
            "mail_console.folder",
            "var/mail",
            help="where messages are written (.eml files); relative to the working directory",
        ),
    ),
)


def includeme(config: Configurator) -> None:
    from . import hooks

    config.register_service(
        ConsoleMailer(config.get_settings()["mail_console.folder"]), name=MAILER_SERVICE
    )
    config.add_hookimpls(hooks, name="mail_console")
    config.include(".pages")
