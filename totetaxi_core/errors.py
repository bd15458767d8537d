"""Errors that stop the application from starting.

Each carries one or more sentences meant for an operator: what is wrong, where, and what to do.
The CLI prints them without a traceback.
"""

from __future__ import annotations


class StartupError(Exception):
    """The application cannot start; ``problems`` holds one sentence per problem found."""

    def __init__(self, problems: str | list[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class SettingsError(StartupError):
    """A setting is missing, malformed or unsafe."""


class PluginError(StartupError):
    """The set of enabled plugins cannot be assembled."""


class SchemaBehindError(StartupError):
    """The database schema is older than the code of an enabled plugin."""


class RegistrationError(StartupError, ValueError):
    """A plugin's ``includeme`` registered something the platform cannot accept: a task, a
    periodic task or a hookspec twice, a period that is no positive number of seconds.

    A :class:`StartupError` (the CLI prints the sentence, no traceback) and a ``ValueError``
    (what ``config.add_task`` raised before it existed)."""


class InvalidDraft(ValueError):
    """Input a plugin cannot work with; the API answers 400 naming ``field``."""

    def __init__(self, field: str, description: str, location: str = "body") -> None:
        self.field = field
        self.description = description
        self.location = location
        super().__init__(f"{field}: {description}")


class CapacityExhausted(Exception):
    """A day has no capacity left for a booking; the API answers 409."""

    def __init__(self, field: str, description: str) -> None:
        self.field = field
        self.description = description
        super().__init__(description)


class Refused(Exception):
    """A request the rules refuse: the API answers ``status`` (4xx) naming ``field``.

    For plugins: ``raise Refused(409, "status", "Only a booking waiting for payment can be
    paid.")`` gives the client the API's one error body, and the transaction rolls back.
    """

    def __init__(self, status: int, field: str, description: str, location: str = "body") -> None:
        if not 400 <= status < 500:
            raise ValueError("Refused is for 4xx answers")
        self.status, self.field = status, field
        self.description, self.location = description, location
        super().__init__(f"{field}: {description}")
