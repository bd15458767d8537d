"""Typed settings: environment overrides, validation, undeclared keys and the secret (DESIGN §2).

Everything goes through ``platform.prepare`` with an explicit ``environ`` so the real environment
never leaks in; ``prepare`` does not touch the database, so the SQLite file is never created.
"""

from __future__ import annotations

import secrets

import pytest

from totetaxi_core.errors import SettingsError, StartupError
from totetaxi_core.platform import prepare
from totetaxi_core.settings import (
    CORE_SETTINGS,
    ENV_ALIASES,
    MIN_SECRET_LENGTH,
    WEAK_SECRETS,
    Setting,
)
from totetaxi_core.testing import base_settings

STRONG = secrets.token_urlsafe(48)


@pytest.fixture
def url(tmp_path):
    return "sqlite:///" + str(tmp_path / "x.sqlite")


def refused(settings, environ=None):
    """The SettingsError ``prepare`` raises for ``settings`` (fails the test if it starts)."""
    with pytest.raises(SettingsError) as info:
        prepare(settings, environ={} if environ is None else environ)
    assert isinstance(info.value, StartupError)
    return info.value


def only_problem(exc):
    assert len(exc.problems) == 1, exc.problems
    return exc.problems[0]


# --- defaults and conversion ---


def test_defaults_are_filled_in_and_typed(url, tmp_path):
    platform = prepare(base_settings(url), environ={})
    s = platform.settings
    assert s["sqlalchemy.url"] == url
    assert s["totetaxi.environment"] == "test"
    assert s["totetaxi.plugins"] == ["example"]
    assert s["totetaxi.tasks_mode"] == "eager"
    assert s["totetaxi.broker_url"] == ""
    assert s["totetaxi.outbox_sweep_seconds"] == 30
    assert s["totetaxi.outbox_max_attempts"] == 8
    assert s["totetaxi.check_schema"] is True
    assert s["totetaxi.trace_hooks"] is False
    assert s["totetaxi.eager_sweep"] is False  # base_settings (the test kit) switches it off
    assert s["example.greeting"] == "hello"
    assert s["example.max_notes"] == 100
    assert s["totetaxi.enabled_plugins"] == ["example", "example_glue"]
    assert not (tmp_path / "x.sqlite").exists()


def test_ini_strings_are_converted(url):
    s = prepare(
        base_settings(
            url,
            **{
                "totetaxi.plugins": " example ,  ",
                "totetaxi.check_schema": "no",
                "totetaxi.trace_hooks": " On ",
                "totetaxi.outbox_sweep_seconds": " 45 ",
                "example.max_notes": "1000",
                "example.greeting": "  good day  ",
            },
        ),
        environ={},
    ).settings
    assert s["totetaxi.plugins"] == ["example"]
    assert s["totetaxi.check_schema"] is False
    assert s["totetaxi.trace_hooks"] is True
    assert s["totetaxi.outbox_sweep_seconds"] == 45
    assert s["example.max_notes"] == 1000
    assert s["example.greeting"] == "good day"


def test_prepare_does_not_change_the_settings_it_is_given(url):
    given = base_settings(url, **{"example.max_notes": "5"})
    before = dict(given)
    prepare(given, environ={"TOTETAXI_EXAMPLE__GREETING": "hi"})
    assert given == before


@pytest.mark.parametrize(
    ("key", "var"),
    [
        ("example.greeting", "TOTETAXI_EXAMPLE__GREETING"),
        ("example.max_notes", "TOTETAXI_EXAMPLE__MAX_NOTES"),
        ("totetaxi.check_schema", "TOTETAXI_TOTETAXI__CHECK_SCHEMA"),
        ("shop.payment.api_key", "TOTETAXI_SHOP__PAYMENT__API_KEY"),
    ],
)
def test_env_var_name_of_a_setting(key, var):
    assert Setting(key).env_var == var


# --- environment overrides ---


def test_every_alias_names_a_core_setting():
    core_keys = {s.key for s in CORE_SETTINGS}
    assert set(ENV_ALIASES.values()) <= core_keys
    assert ENV_ALIASES["TOTETAXI_DATABASE_URL"] == "sqlalchemy.url"


def test_database_url_from_the_environment(url, tmp_path):
    other = "sqlite:///" + str(tmp_path / "other.sqlite")
    s = prepare(base_settings(url), environ={"TOTETAXI_DATABASE_URL": other}).settings
    assert s["sqlalchemy.url"] == other


def test_database_url_from_the_environment_when_the_ini_has_none(url):
    settings = base_settings(url)
    del settings["sqlalchemy.url"]
    s = prepare(settings, environ={"TOTETAXI_DATABASE_URL": url}).settings
    assert s["sqlalchemy.url"] == url


def test_secret_from_the_environment(url):
    s = prepare(
        base_settings(url, **{"totetaxi.secret": "from-the-ini-file"}),
        environ={"TOTETAXI_SECRET": STRONG},
    ).settings
    assert s["totetaxi.secret"] == STRONG


def test_broker_url_from_the_environment(url):
    s = prepare(
        base_settings(url, **{"totetaxi.tasks_mode": "broker"}),
        environ={"TOTETAXI_BROKER_URL": "redis://queue.internal:6379/2"},
    ).settings
    assert s["totetaxi.broker_url"] == "redis://queue.internal:6379/2"
    assert s["totetaxi.tasks_mode"] == "broker"


def test_tasks_mode_and_environment_aliases(url):
    s = prepare(
        # A development environment refuses the kit's cheap password-hash profile.
        base_settings(url, **{"totetaxi.password_hash_profile": "production"}),
        environ={
            "TOTETAXI_TASKS_MODE": "broker",
            "TOTETAXI_BROKER_URL": "memory://",
            "TOTETAXI_ENVIRONMENT": "development",
        },
    ).settings
    assert s["totetaxi.tasks_mode"] == "broker"
    assert s["totetaxi.environment"] == "development"


def test_plugins_from_the_environment_switch_plugins_off(url):
    platform = prepare(base_settings(url), environ={"TOTETAXI_PLUGINS": ""})
    assert platform.enabled_names == []
    assert platform.settings["totetaxi.plugins"] == []
    assert "example.greeting" not in platform.settings


def test_plugins_from_the_environment_switch_plugins_on(url):
    platform = prepare(
        base_settings(url, **{"totetaxi.plugins": ""}), environ={"TOTETAXI_PLUGINS": "example"}
    )
    assert platform.enabled_names == ["example", "example_glue"]
    # The parsed list stays a list: the pass over plugin settings must not put the raw string back.
    assert platform.settings["totetaxi.plugins"] == ["example"]
    assert platform.settings["example.greeting"] == "hello"


def test_plugin_setting_from_its_generic_variable(url):
    s = prepare(
        base_settings(url, **{"example.greeting": "from the ini"}),
        environ={"TOTETAXI_EXAMPLE__GREETING": "bonjour", "TOTETAXI_EXAMPLE__MAX_NOTES": "7"},
    ).settings
    assert s["example.greeting"] == "bonjour"
    assert s["example.max_notes"] == 7


def test_core_setting_from_its_generic_variable(url):
    s = prepare(
        base_settings(url),
        environ={
            "TOTETAXI_TOTETAXI__CHECK_SCHEMA": "false",
            "TOTETAXI_TOTETAXI__OUTBOX_MAX_ATTEMPTS": "3",
        },
    ).settings
    assert s["totetaxi.check_schema"] is False
    assert s["totetaxi.outbox_max_attempts"] == 3


def test_variable_of_a_plugin_that_is_not_enabled_is_ignored(url):
    s = prepare(
        base_settings(url, **{"totetaxi.plugins": ""}),
        environ={"TOTETAXI_EXAMPLE__GREETING": "nobody reads this"},
    ).settings
    assert "example.greeting" not in s


def test_bad_value_from_the_environment_names_the_key(url):
    exc = refused(base_settings(url), {"TOTETAXI_EXAMPLE__MAX_NOTES": "lots"})
    assert only_problem(exc) == "Setting 'example.max_notes' must be a whole number, got 'lots'."


# --- bad values ---


@pytest.mark.parametrize(
    ("overrides", "sentence"),
    [
        (
            {"example.max_notes": "lots"},
            "Setting 'example.max_notes' must be a whole number, got 'lots'.",
        ),
        (
            {"example.max_notes": "2.5"},
            "Setting 'example.max_notes' must be a whole number, got '2.5'.",
        ),
        ({"example.max_notes": "0"}, "Setting 'example.max_notes' must be at least 1, got 0."),
        (
            {"example.max_notes": "5000"},
            "Setting 'example.max_notes' must be at most 1000, got 5000.",
        ),
        (
            {"totetaxi.outbox_sweep_seconds": "soon"},
            "Setting 'totetaxi.outbox_sweep_seconds' must be a whole number, got 'soon'.",
        ),
        (
            {"totetaxi.outbox_max_attempts": "101"},
            "Setting 'totetaxi.outbox_max_attempts' must be at most 100, got 101.",
        ),
        (
            {"totetaxi.check_schema": "maybe"},
            "Setting 'totetaxi.check_schema' must be true or false, got 'maybe'.",
        ),
        (
            {"totetaxi.environment": "staging"},
            "Setting 'totetaxi.environment' must be one of development, test, production, "
            "got 'staging'.",
        ),
        (
            {"totetaxi.tasks_mode": "x"},
            "Setting 'totetaxi.tasks_mode' must be one of eager, broker, got 'x'.",
        ),
        (
            {"totetaxi.eager_sweep": "sometimes"},
            "Setting 'totetaxi.eager_sweep' must be true or false, got 'sometimes'.",
        ),
        (
            {"totetaxi.tasks_mode": "broker", "totetaxi.broker_url": "http://queue:6379/0"},
            "Setting 'totetaxi.broker_url' must be a redis://, rediss://, amqp:// or memory:// "
            "URL, got 'http://queue:6379/0'.",
        ),
    ],
)
def test_bad_value_stops_start_up_naming_the_key(url, overrides, sentence):
    exc = refused(base_settings(url, **overrides))
    assert only_problem(exc) == sentence


@pytest.mark.parametrize("word", ["1", "true", "YES", "on"])
def test_true_words(url, word):
    s = prepare(base_settings(url, **{"totetaxi.trace_hooks": word}), environ={}).settings
    assert s["totetaxi.trace_hooks"] is True


@pytest.mark.parametrize("word", ["0", "false", "No", "off"])
def test_false_words(url, word):
    s = prepare(base_settings(url, **{"totetaxi.check_schema": word}), environ={}).settings
    assert s["totetaxi.check_schema"] is False


@pytest.mark.parametrize(
    "scheme", ["redis://h:6379/0", "rediss://h:6380/0", "amqp://h//", "memory://"]
)
def test_accepted_broker_urls(url, scheme):
    s = prepare(
        base_settings(url, **{"totetaxi.tasks_mode": "broker", "totetaxi.broker_url": scheme}),
        environ={},
    ).settings
    assert s["totetaxi.broker_url"] == scheme


def test_broker_mode_without_broker_url(url):
    exc = refused(base_settings(url, **{"totetaxi.tasks_mode": "broker"}))
    sentence = only_problem(exc)
    assert sentence.startswith("Setting 'totetaxi.broker_url' is required when")
    assert "totetaxi.tasks_mode = broker" in sentence
    assert "TOTETAXI_BROKER_URL" in sentence


def test_broker_url_is_optional_in_eager_mode(url):
    s = prepare(base_settings(url, **{"totetaxi.tasks_mode": "eager"}), environ={}).settings
    assert s["totetaxi.broker_url"] == ""


@pytest.mark.parametrize("value", [None, "", "   "])
def test_missing_database_url(url, value):
    settings = base_settings(url)
    if value is None:
        del settings["sqlalchemy.url"]
    else:
        settings["sqlalchemy.url"] = value
    exc = refused(settings)
    assert only_problem(exc) == "Setting 'sqlalchemy.url' is required (the database URL)."


def test_empty_database_url_from_the_environment_is_refused(url):
    exc = refused(base_settings(url), {"TOTETAXI_DATABASE_URL": ""})
    assert only_problem(exc) == "Setting 'sqlalchemy.url' is required (the database URL)."


# --- undeclared keys ---


def test_undeclared_key_under_a_plugin_prefix_is_refused(url):
    exc = refused(base_settings(url, **{"example.greetng": "hi"}))
    assert only_problem(exc) == (
        "Setting 'example.greetng' is not declared by plugin 'example' "
        "(it declares: example.counter_delay_ms, example.greeting, example.max_notes)."
    )


def test_undeclared_key_of_a_plugin_that_declares_nothing(url):
    exc = refused(base_settings(url, **{"example_glue.colour": "red"}))
    assert only_problem(exc) == (
        "Setting 'example_glue.colour' is not declared by plugin 'example_glue' "
        "(it declares: none)."
    )


def test_keys_of_plugins_that_are_not_enabled_are_not_checked(url):
    s = prepare(
        base_settings(url, **{"totetaxi.plugins": "", "example.greetng": "hi"}), environ={}
    ).settings
    assert s["example.greetng"] == "hi"


def test_keys_outside_plugin_prefixes_pass_through(url):
    s = prepare(base_settings(url, **{"examples.anything": "1"}), environ={}).settings
    assert s["examples.anything"] == "1"
    assert s["retry.attempts"] == "3"


# --- the secret ---


def production(url, **overrides):
    return base_settings(url, **{"totetaxi.environment": "production", **overrides})


def test_production_without_secret_is_refused(url):
    sentence = only_problem(refused(production(url)))
    assert sentence.startswith("Setting 'totetaxi.secret' is missing")
    assert "TOTETAXI_SECRET" in sentence
    assert str(MIN_SECRET_LENGTH) in sentence


def test_production_with_empty_secret_variable_is_refused(url):
    sentence = only_problem(refused(production(url), {"TOTETAXI_SECRET": ""}))
    assert sentence.startswith("Setting 'totetaxi.secret' is missing")


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param("s3cr3t-But-Short!", id="short"),
        pytest.param("Ab1" * 10 + "Z", id="one-short-of-minimum"),
        pytest.param("changeme" * 5, id="low-variety"),
        pytest.param("ab" * 40, id="two-characters"),
        pytest.param("changeme", id="weak-word"),
        pytest.param("PASSWORD", id="weak-word-upper"),
    ],
)
def test_production_refuses_weak_secrets(url, secret):
    sentence = only_problem(refused(production(url, **{"totetaxi.secret": secret})))
    assert sentence.startswith("Setting 'totetaxi.secret' is too weak for production")
    assert "TOTETAXI_SECRET" in sentence
    assert secret not in sentence  # never echo the secret itself


def test_every_weak_word_is_refused_in_production(url):
    for word in sorted(WEAK_SECRETS):
        exc = refused(production(url), {"TOTETAXI_SECRET": word})
        assert "too weak" in only_problem(exc), word


def test_long_secrets_made_of_a_weak_word_are_refused(url):
    for secret in ("password1234567890password1234567890", "Xy7-ChangeMe-" + "q9Z!w3Lk" * 4):
        exc = refused(production(url), {"TOTETAXI_SECRET": secret})
        assert "too weak" in only_problem(exc), secret


def test_production_accepts_a_strong_secret(url):
    s = prepare(production(url), environ={"TOTETAXI_SECRET": STRONG}).settings
    assert s["totetaxi.secret"] == STRONG
    assert s["totetaxi.environment"] == "production"


def test_production_accepts_a_secret_of_exactly_the_minimum_length(url):
    secret = secrets.token_hex(MIN_SECRET_LENGTH)[:MIN_SECRET_LENGTH]
    assert len(set(secret)) >= 10
    s = prepare(production(url, **{"totetaxi.secret": secret}), environ={}).settings
    assert s["totetaxi.secret"] == secret


@pytest.mark.parametrize("environment", ["development", "test"])
def test_throwaway_secret_outside_production(url, environment):
    first = prepare(base_settings(url, **{"totetaxi.environment": environment}), environ={})
    second = prepare(base_settings(url, **{"totetaxi.environment": environment}), environ={})
    one, two = first.settings["totetaxi.secret"], second.settings["totetaxi.secret"]
    assert len(one) >= MIN_SECRET_LENGTH and len(two) >= MIN_SECRET_LENGTH
    assert one != two
    assert one.lower() not in WEAK_SECRETS


def test_empty_secret_variable_outside_production_gets_a_throwaway_secret(url):
    s = prepare(
        base_settings(url, **{"totetaxi.environment": "development"}),
        environ={"TOTETAXI_SECRET": ""},
    ).settings
    assert len(s["totetaxi.secret"]) >= MIN_SECRET_LENGTH


def test_given_secret_is_kept_outside_production(url):
    s = prepare(base_settings(url, **{"totetaxi.secret": "changeme"}), environ={}).settings
    assert s["totetaxi.secret"] == "changeme"


# --- several problems at once ---


def test_all_bad_core_keys_are_reported_together(url):
    exc = refused(
        base_settings(url, **{"totetaxi.environment": "staging", "totetaxi.tasks_mode": "x"})
    )
    assert exc.problems == [
        "Setting 'totetaxi.environment' must be one of development, test, production, "
        "got 'staging'.",
        "Setting 'totetaxi.tasks_mode' must be one of eager, broker, got 'x'.",
    ]
    assert str(exc) == "\n".join(exc.problems)


def test_all_bad_plugin_keys_are_reported_together(url):
    exc = refused(
        base_settings(url, **{"example.greetng": "hi"}),
        {"TOTETAXI_EXAMPLE__MAX_NOTES": "0"},
    )
    assert sorted(exc.problems) == [
        "Setting 'example.greetng' is not declared by plugin 'example' "
        "(it declares: example.counter_delay_ms, example.greeting, example.max_notes).",
        "Setting 'example.max_notes' must be at least 1, got 0.",
    ]


def test_missing_url_and_bad_int_are_reported_together(url):
    settings = base_settings(url, **{"totetaxi.outbox_sweep_seconds": "0"})
    del settings["sqlalchemy.url"]
    exc = refused(settings)
    assert exc.problems == [
        "Setting 'sqlalchemy.url' is required (the database URL).",
        "Setting 'totetaxi.outbox_sweep_seconds' must be at least 1, got 0.",
    ]


# --- the password-hash profile ---


def test_production_refuses_the_fast_password_hash_profile(url):
    settings = production(url, **{"totetaxi.password_hash_profile": "fast"})
    sentence = only_problem(refused(settings, {"TOTETAXI_SECRET": STRONG}))
    assert sentence.startswith("Setting 'totetaxi.password_hash_profile' must be 'production'")


@pytest.mark.parametrize("environment", ["development", "production"])
def test_only_the_test_environment_accepts_the_fast_profile(url, environment):
    settings = base_settings(
        url,
        **{"totetaxi.environment": environment, "totetaxi.password_hash_profile": "fast"},
    )
    with pytest.raises(SettingsError) as refusal:
        prepare(settings, environ={"TOTETAXI_SECRET": STRONG})
    assert f"when totetaxi.environment = {environment}" in str(refusal.value)


def test_production_hashes_with_the_full_argon2_parameters(url):
    from totetaxi_core.identity import passwords

    settings = prepare(production(url), environ={"TOTETAXI_SECRET": STRONG}).settings
    assert settings["totetaxi.password_hash_profile"] == "production"
    assert passwords.current_parameters() == {
        "time_cost": 3,
        "memory_cost": 65536,
        "parallelism": 4,
    }
    assert passwords.hash_password(STRONG).startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_the_fast_profile_is_what_the_test_kit_asks_for(url):
    from totetaxi_core.identity import passwords

    assert (
        prepare(base_settings(url), environ={}).settings["totetaxi.password_hash_profile"] == "fast"
    )
    assert passwords.current_parameters()["time_cost"] == 1
    stored = passwords.hash_password(STRONG)
    assert passwords.verify_password(stored, STRONG) == (True, None)
    # A hash made cheaply is upgraded at the next sign-in once production parameters apply.
    passwords.use_profile("production")
    try:
        ok, upgraded = passwords.verify_password(stored, STRONG)
        assert ok and upgraded and upgraded.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    finally:
        passwords.use_profile("fast")
