"""Typed settings: declaration, environment overrides and validation (DESIGN §2).

The core and every plugin declare the settings they read as :class:`Setting` objects (a plugin
in its manifest). At start-up each declared key is read from the ``.ini``, overridden from the
environment when a variable is set, converted to its type and validated; the first bad value of
each key stops start-up with a sentence naming the key. Undeclared keys under a plugin's prefix
are refused too: a typo must not silently fall back to a default.

Environment overrides: every key ``prefix.some_key`` can be set with ``TOTETAXI_PREFIX__SOME_KEY``;
the core's most common keys also have short names (see :data:`ENV_ALIASES`).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from .errors import SettingsError
from .origins import check_trusted_origins

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})

#: Short environment variable names for core settings.
ENV_ALIASES: dict[str, str] = {
    "TOTETAXI_DATABASE_URL": "sqlalchemy.url",
    "TOTETAXI_SECRET": "totetaxi.secret",
    "TOTETAXI_PREVIOUS_SECRETS": "totetaxi.previous_secrets",
    "TOTETAXI_BROKER_URL": "totetaxi.broker_url",
    "TOTETAXI_ENVIRONMENT": "totetaxi.environment",
    "TOTETAXI_PLUGINS": "totetaxi.plugins",
    "TOTETAXI_TASKS_MODE": "totetaxi.tasks_mode",
    "TOTETAXI_REDIS_URL": "totetaxi.redis_url",
    "TOTETAXI_PUBLIC_URL": "totetaxi.public_url",
    "TOTETAXI_TRUSTED_ORIGINS": "totetaxi.trusted_origins",
    "TOTETAXI_METRICS_DIR": "totetaxi.metrics_dir",
    "TOTETAXI_METRICS_TOKEN": "totetaxi.metrics_token",
}

#: Words that mark a placeholder somebody forgot to replace: a secret containing one is refused
#: (a random 32+ character token contains one by chance about once in a few hundred thousand).
WEAK_SECRETS = frozenset(
    {"changeme", "change-me", "secret", "password", "totetaxi", "development", "test", "seekrit"}
)
MIN_SECRET_LENGTH = 32


@dataclass(frozen=True)
class Setting:
    """One setting a plugin (or the core) reads.

    ``kind`` is one of ``str``, ``int``, ``bool``, ``choice``, ``list`` and ``secret``.
    ``default`` is used when the key is absent; ``required=True`` means there is no default.
    ``minimum``/``maximum`` bound an ``int``; ``choices`` lists the values of a ``choice``.
    ``check`` is an extra validator returning an error sentence, or ``None`` when the value is fine.
    """

    key: str
    default: Any = None
    kind: str = "str"
    help: str = ""
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    required: bool = False
    check: Callable[[Any], str | None] | None = field(default=None, compare=False)

    @property
    def env_var(self) -> str:
        """The environment variable that overrides this key."""
        prefix, _, rest = self.key.partition(".")
        return f"TOTETAXI_{prefix.upper()}__{rest.upper().replace('.', '__')}"

    def parse(self, raw: Any) -> Any:
        """Convert ``raw`` (a string from the .ini or the environment) to this setting's type."""
        if raw is None or (isinstance(raw, str) and raw.strip() == "" and self.kind != "str"):
            if self.required:
                raise SettingsError(
                    f"Setting '{self.key}' is required ({self.help or 'no default'})."
                )
            return self.default
        value = self._convert(raw)
        if self.check is not None:
            problem = self.check(value)
            if problem:
                raise SettingsError(f"Setting '{self.key}' {problem}.")
        return value

    def _convert(self, raw: Any) -> Any:
        text = raw.strip() if isinstance(raw, str) else raw
        if self.kind in ("str", "secret"):
            if self.required and not str(text):
                raise SettingsError(
                    f"Setting '{self.key}' is required ({self.help or 'no default'})."
                )
            return str(text)
        if self.kind == "int":
            try:
                value = int(text)
            except (TypeError, ValueError):
                raise SettingsError(
                    f"Setting '{self.key}' must be a whole number, got {raw!r}."
                ) from None
            if self.minimum is not None and value < self.minimum:
                raise SettingsError(
                    f"Setting '{self.key}' must be at least {self.minimum}, got {value}."
                )
            if self.maximum is not None and value > self.maximum:
                raise SettingsError(
                    f"Setting '{self.key}' must be at most {self.maximum}, got {value}."
                )
            return value
        if self.kind == "bool":
            if isinstance(text, bool):
                return text
            word = str(text).lower()
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
            raise SettingsError(f"Setting '{self.key}' must be true or false, got {raw!r}.")
        if self.kind == "choice":
            if text not in self.choices:
                raise SettingsError(
                    f"Setting '{self.key}' must be one of {', '.join(self.choices)}, got {raw!r}."
                )
            return text
        if self.kind == "list":
            if isinstance(text, list | tuple):
                return list(text)
            return [part for part in str(text).replace(",", " ").split() if part]
        raise SettingsError(f"Setting '{self.key}' declares unknown kind {self.kind!r}.")


def _check_broker_url(value: str) -> str | None:
    if value and not value.startswith(("redis://", "rediss://", "memory://", "amqp://")):
        return f"must be a redis://, rediss://, amqp:// or memory:// URL, got {value!r}"
    return None


def _check_redis_url(value: str) -> str | None:
    if value and not value.startswith(("redis://", "rediss://", "unix://")):
        return f"must be a redis://, rediss:// or unix:// URL, got {value!r}"
    return None


def _check_metrics_token(value: str) -> str | None:
    if value and (len(value) < MIN_SECRET_LENGTH or len(set(value)) < 10):
        return (
            f"must be at least {MIN_SECRET_LENGTH} random characters (python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))'), or empty: loopback scrapes only"
        )
    return None


def _check_allowed_hosts(value: list[str]) -> str | None:
    for entry in value:
        bracketed = entry.startswith("[") and entry.endswith("]")  # an IPv6 address
        if entry != "*" and (
            not entry.strip(".")
            or any(character in entry for character in "/@?#")
            or (":" in entry and not bracketed)
        ):
            return (
                "must list host names (example.com; .example.com for it and its subdomains; or *) "
                f"without scheme, port or path, got {entry!r}"
            )
    return None


#: The settings the core itself reads.
CORE_SETTINGS: tuple[Setting, ...] = (
    Setting("sqlalchemy.url", required=True, help="the database URL"),
    Setting(
        "totetaxi.environment",
        "development",
        kind="choice",
        choices=("development", "test", "production"),
        help="production refuses development-only plugins and weak secrets",
    ),
    Setting("totetaxi.secret", "", kind="secret", help="signs sessions and tokens"),
    Setting(
        "totetaxi.previous_secrets",
        [],
        kind="list",
        help="secrets replaced by totetaxi.secret that are still accepted, never used to sign "
        "(a rotation's overlap)",
    ),
    Setting("totetaxi.plugins", [], kind="list", help="plugins to enable"),
    Setting(
        "totetaxi.tasks_mode",
        "eager",
        kind="choice",
        choices=("eager", "broker"),
        help="eager runs background tasks in-process after commit; broker hands them to Celery",
    ),
    Setting("totetaxi.broker_url", "", help="Celery broker URL", check=_check_broker_url),
    Setting("totetaxi.task_queue", "totetaxi", help="the Celery queue tasks are sent to"),
    Setting(
        "totetaxi.outbox_sweep_seconds",
        30,
        kind="int",
        minimum=1,
        maximum=86400,
        help="how often the beat process re-sends outbox rows the relay did not hand over",
    ),
    Setting(
        "totetaxi.outbox_max_attempts",
        8,
        kind="int",
        minimum=1,
        maximum=100,
        help="runs of a task before its outbox row is given up as failed",
    ),
    Setting(
        "totetaxi.check_schema",
        True,
        kind="bool",
        help="refuse to serve when the database schema is behind the code",
    ),
    Setting(
        "totetaxi.trace_hooks",
        False,
        kind="bool",
        help="log every hook call with its implementations and duration",
    ),
    Setting(
        "totetaxi.state_backend",
        "database",
        kind="choice",
        choices=("database", "redis"),
        help="where sessions and throttle counters live",
    ),
    Setting(
        "totetaxi.redis_url", "", help="Redis URL for state_backend = redis", check=_check_redis_url
    ),
    Setting(
        "totetaxi.public_url",
        "http://127.0.0.1:6543",
        help="the customer site's address, for links in emails",
    ),
    Setting(
        "totetaxi.allowed_hosts",
        [],
        kind="list",
        help="host names the app answers for (a leading dot: the domain and its subdomains; "
        "* any); any other Host header is a 400. Empty: any host, except in production, where "
        "it defaults to public_url's host",
        check=_check_allowed_hosts,
    ),
    Setting(
        "totetaxi.hsts_max_age_seconds",
        365 * 86400,
        kind="int",
        minimum=0,
        maximum=2 * 365 * 86400,
        help="production only: max-age of Strict-Transport-Security, how long browsers keep to "
        "HTTPS for this host (0 makes them forget it)",
    ),
    Setting(
        "totetaxi.trusted_origins",
        [],
        kind="list",
        help="other sites (scheme://host[:port]) whose pages may call the API with the "
        "visitor's session: CORS, unsafe requests, live updates (e.g. the React customer site "
        "on another host); never *",
        check=check_trusted_origins,
    ),
    Setting(
        "totetaxi.password_reset_path",
        "/reset-password?token={token}",
        help="path on public_url of the password-reset page; {token} is replaced",
    ),
    Setting(
        "totetaxi.session_max_age_seconds",
        14 * 86400,
        kind="int",
        minimum=300,
        maximum=90 * 86400,
        help="a session ends after this long without use",
    ),
    Setting(
        "totetaxi.token_max_age_seconds",
        30 * 86400,
        kind="int",
        minimum=60,
        maximum=365 * 86400,
        help="lifetime of a bearer token",
    ),
    Setting(
        "totetaxi.cookie_secure",
        None,
        kind="bool",
        help="Secure flag on the session cookie (default: on in production)",
    ),
    Setting(
        "totetaxi.login_limit_per_account",
        5,
        kind="int",
        minimum=1,
        maximum=1000,
        help="failed logins per account per login window before 429",
    ),
    Setting(
        "totetaxi.login_limit_per_address",
        20,
        kind="int",
        minimum=1,
        maximum=10000,
        help="failed logins per client address per login window before 429",
    ),
    Setting(
        "totetaxi.login_window_seconds",
        900,
        kind="int",
        minimum=1,
        maximum=86400,
        help="the login throttle's window",
    ),
    Setting(
        "totetaxi.reset_limit_per_account",
        3,
        kind="int",
        minimum=1,
        maximum=1000,
        help="password-reset requests per account per hour",
    ),
    Setting(
        "totetaxi.reset_limit_per_address",
        10,
        kind="int",
        minimum=1,
        maximum=10000,
        help="password-reset and sign-up requests per client address per hour",
    ),
    Setting(
        "totetaxi.outbox_grace_seconds",
        10,
        kind="int",
        minimum=0,
        maximum=3600,
        help="age of a pending outbox row before the sweep takes it over from the relay",
    ),
    Setting(
        "totetaxi.outbox_resend_seconds",
        900,
        kind="int",
        minimum=1,
        maximum=86400,
        help="age of a sent but unfinished outbox row before the sweep sends it again",
    ),
    Setting(
        "totetaxi.idempotency_hours",
        24,
        kind="int",
        minimum=1,
        maximum=24 * 30,
        help="how long an Idempotency-Key and its answer are kept",
    ),
    Setting(
        "totetaxi.password_hash_profile",
        "production",
        kind="choice",
        choices=("production", "fast"),
        help="argon2 cost: production (t=3, 64 MiB) or fast (test suites only; refused when "
        "totetaxi.environment = production)",
    ),
    Setting(
        "totetaxi.max_body_bytes",
        1_048_576,
        kind="int",
        minimum=1024,
        maximum=1_073_741_824,
        help="the largest request body accepted (bytes); a longer one is a 413 before it is read",
    ),
    Setting(
        "totetaxi.live_backend",
        "memory",
        kind="choice",
        choices=("memory", "redis"),
        help="live updates: memory (web and live app in one process, the embedded default) or "
        "redis (pub/sub between any number of web and live processes)",
    ),
    Setting(
        "totetaxi.live_redis_url",
        "",
        help="Redis of the live updates (default: totetaxi.redis_url)",
        check=_check_redis_url,
    ),
    Setting(
        "totetaxi.live_prefix",
        "totetaxi:live",
        help="prefix of the live updates' Redis channel and keys",
    ),
    Setting(
        "totetaxi.live_replay_size",
        200,
        kind="int",
        minimum=1,
        maximum=100_000,
        help="events kept per stream for clients that reconnect with their last event id",
    ),
    Setting(
        "totetaxi.live_replay_seconds",
        300,
        kind="int",
        minimum=5,
        maximum=86400,
        help="how long events are kept for replay; an older last event id gets resync",
    ),
    Setting(
        "totetaxi.live_heartbeat_seconds",
        15,
        kind="int",
        minimum=1,
        maximum=300,
        help="a live connection with nothing to send gets a heartbeat this often",
    ),
    Setting(
        "totetaxi.live_queue_size",
        256,
        kind="int",
        minimum=1,
        maximum=100_000,
        help="events waiting for one live connection before it is dropped as too slow",
    ),
    Setting(
        "totetaxi.live_send_timeout_seconds",
        10,
        kind="int",
        minimum=1,
        maximum=300,
        help="a live connection whose send takes longer is dropped as too slow",
    ),
    Setting(
        "totetaxi.live_max_connections_per_principal",
        10,
        kind="int",
        minimum=1,
        maximum=10_000,
        help="open live connections per staff member, customer or guest booking (per live process)",
    ),
    Setting(
        "totetaxi.metrics_dir",
        "",
        help="multiprocess metrics: the folder every process of the deployment (web workers, "
        "worker, beat) writes its metrics to, emptied before it starts "
        "(PROMETHEUS_MULTIPROC_DIR); empty: each process keeps its own in memory",
    ),
    Setting(
        "totetaxi.metrics_token",
        "",
        kind="secret",
        help="bearer token that lets a remote scraper read /metrics (loopback clients need "
        "none); empty: loopback only",
        check=_check_metrics_token,
    ),
    Setting(
        "totetaxi.eager_sweep",
        True,
        kind="bool",
        help="eager mode: sweep from the request path once a period (no beat in development)",
    ),
)


def apply_environment(
    settings: MutableMapping[str, Any],
    declared: Iterable[Setting],
    environ: Mapping[str, str] | None = None,
) -> None:
    """Override the ``declared`` keys of ``settings`` in place from environment variables.

    A short alias (:data:`ENV_ALIASES`) only applies when its key is among ``declared``: a second
    pass for plugin settings must not put raw strings back over already validated core keys.
    """
    environ = os.environ if environ is None else environ
    declared = list(declared)
    keys = {setting.key for setting in declared}
    for var, key in ENV_ALIASES.items():
        if var in environ and key in keys:
            settings[key] = environ[var]
    for setting in declared:
        if setting.env_var in environ:
            settings[setting.key] = environ[setting.env_var]


def validate(settings: MutableMapping[str, Any], declared: Iterable[Setting]) -> list[str]:
    """Parse every declared key in place; return one sentence per bad key."""
    problems: list[str] = []
    for setting in declared:
        try:
            settings[setting.key] = setting.parse(settings.get(setting.key))
        except SettingsError as exc:
            problems.extend(exc.problems)
    return problems


def undeclared_keys(
    settings: Mapping[str, Any], prefixes: Iterable[str], declared: Iterable[Setting]
) -> list[str]:
    """Sentences for keys under one of ``prefixes`` that nobody declared (likely typos)."""
    known = {s.key for s in declared}
    by_prefix: dict[str, list[str]] = {}
    for s in declared:
        by_prefix.setdefault(s.key.partition(".")[0], []).append(s.key)
    problems = []
    for prefix in prefixes:
        for key in sorted(settings):
            if key.startswith(prefix + ".") and key not in known:
                names = ", ".join(sorted(by_prefix.get(prefix, []))) or "none"
                problems.append(
                    f"Setting '{key}' is not declared by plugin '{prefix}' (it declares: {names})."
                )
    return problems


def check_password_profile(settings: Mapping[str, Any]) -> None:
    """Refuse the cheap ``fast`` password-hash profile outside ``totetaxi.environment = test``:
    it exists for test suites, and a deployment (production, or a development or staging copy
    that may hold real accounts) keeps argon2's full parameters whatever the file says."""
    environment = settings.get("totetaxi.environment")
    if (
        environment != "test"
        and settings.get("totetaxi.password_hash_profile", "production") != "production"
    ):
        raise SettingsError(
            "Setting 'totetaxi.password_hash_profile' must be 'production' when "
            f"totetaxi.environment = {environment} (the 'fast' profile is for test suites only: "
            "totetaxi.environment = test)."
        )


def check_secret(settings: MutableMapping[str, Any]) -> None:
    """Refuse a missing or weak secret in production; make a throwaway one elsewhere."""
    secret = settings.get("totetaxi.secret") or ""
    if settings.get("totetaxi.environment") == "production":
        if not secret:
            raise SettingsError(
                "Setting 'totetaxi.secret' is missing: production needs TOTETAXI_SECRET set to at "
                f"least {MIN_SECRET_LENGTH} random characters (python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))')."
            )
        if (
            len(secret) < MIN_SECRET_LENGTH
            or any(word in secret.lower() for word in WEAK_SECRETS)
            or len(set(secret)) < 10
        ):
            raise SettingsError(
                f"Setting 'totetaxi.secret' is too weak for production: use at least "
                f"{MIN_SECRET_LENGTH} random characters from TOTETAXI_SECRET."
            )
    elif not secret:
        # Development and tests get a per-process secret: sessions end on restart, and no
        # well-known value can ever sign anything.
        settings["totetaxi.secret"] = secrets.token_urlsafe(48)
