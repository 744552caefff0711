"""Specification of settings loading (bot.settings).

Tests and tools build settings from a mapping with :meth:`Settings.from_env`; the helpers
here (``env``, ``with_required``) give it the minimal valid set of required variables.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.database_url import parse_target
from bot.settings import DEFAULT_API_BASE_URL, Settings, SettingsError, load_settings, read_env_file

SECRET_MARKER = "SUPERSECRETxyz987"
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

VALID = {
    "NPSBOT_TOKEN": TOKEN,
    "NPSBOT_LINK_SECRET": "k" * 32,
    "NPSBOT_COMPANY_NAME": "Acme",
}


def env(**overrides: str) -> dict[str, str]:
    """The valid minimal environment with some ``NPSBOT_*`` values replaced."""
    result = dict(VALID)
    for key, value in overrides.items():
        result["NPSBOT_" + key] = value
    return result


def with_required(variables: Mapping[str, str]) -> dict[str, str]:
    """``variables`` (full ``NPSBOT_*`` names) plus the required ones they do not set."""
    return {**VALID, **variables}


def error_for(mapping: dict[str, str]) -> str:
    with pytest.raises(SettingsError) as info:
        Settings.from_env(mapping)
    return str(info.value)


# --- required settings -------------------------------------------------------------------


def test_minimal_valid_environment_gives_documented_defaults() -> None:
    s = Settings.from_env(VALID)
    assert s.token.get_secret_value() == TOKEN
    assert s.company_name == "Acme"
    assert s.api_base_url == DEFAULT_API_BASE_URL
    assert s.api_base_file_url == "https://api.telegram.org/file/bot"
    assert s.bot_username is None
    assert s.database_path == "npsbot.sqlite3"
    assert s.admin_chat_ids == ()
    assert s.timezone.key == "UTC"
    assert s.send_rate_per_second == 25.0
    assert s.per_chat_per_second == 1.0
    assert s.poll_timeout_seconds == 25
    assert s.log_level == "INFO"


@pytest.mark.parametrize("name", ["TOKEN", "LINK_SECRET", "COMPANY_NAME"])
@pytest.mark.parametrize("blank", [None, "", "   "])
def test_missing_required_setting_is_named(name: str, blank: str | None) -> None:
    mapping = dict(VALID)
    if blank is None:
        del mapping["NPSBOT_" + name]
    else:
        mapping["NPSBOT_" + name] = blank
    message = error_for(mapping)
    assert f"NPSBOT_{name}" in message
    assert "required" in message
    assert "\n" not in message


# --- invalid values name their setting ------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TOKEN", "not-a-token"),
        ("TOKEN", "123456:short"),
        ("TOKEN", "abc:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"),
        ("LINK_SECRET", "k" * 31),
        ("COMPANY_NAME", "x" * 101),
        ("API_BASE_URL", "ftp://example.com/bot"),
        ("API_BASE_URL", "not a url"),
        ("API_BASE_URL", "http://"),
        ("API_BASE_FILE_URL", "example.com/file"),
        ("BOT_USERNAME", "a b"),
        ("BOT_USERNAME", "1bot"),
        ("ADMIN_CHAT_IDS", "12,abc"),
        ("ADMIN_CHAT_IDS", "1.5"),
        ("TIMEZONE", "Mars/Olympus_Mons"),
        ("TIMEZONE", "../../etc/passwd"),
        ("SEND_RATE", "0"),
        ("SEND_RATE", "-3"),
        ("SEND_RATE", "fast"),
        ("SEND_RATE", "nan"),
        ("SEND_RATE", "inf"),
        ("PER_CHAT_RATE", "0"),
        ("POLL_TIMEOUT", "51"),
        ("POLL_TIMEOUT", "-1"),
        ("POLL_TIMEOUT", "2.5"),
        ("LOG_LEVEL", "VERBOSE"),
    ],
)
def test_invalid_value_error_names_the_setting(name: str, value: str) -> None:
    message = error_for(env(**{name: value}))
    assert message.startswith(f"NPSBOT_{name} is invalid")
    assert "\n" not in message


def test_timezone_naming_a_zone_directory_is_a_settings_error() -> None:
    message = error_for(env(TIMEZONE="Europe"))
    assert message.startswith("NPSBOT_TIMEZONE is invalid")


@pytest.mark.parametrize(
    "token",
    [
        f"{SECRET_MARKER}",
        f"123456:{SECRET_MARKER}",  # too short after the colon
        f"12345a:{SECRET_MARKER}{SECRET_MARKER}",
        f"123456:{SECRET_MARKER}!!{SECRET_MARKER}",
        f"123456 {SECRET_MARKER}{SECRET_MARKER}",
    ],
)
def test_malformed_token_is_never_echoed(token: str) -> None:
    message = error_for(env(TOKEN=token))
    assert message.startswith("NPSBOT_TOKEN is invalid")
    assert SECRET_MARKER not in message


def test_short_link_secret_is_never_echoed() -> None:
    message = error_for(env(LINK_SECRET=SECRET_MARKER))
    assert "NPSBOT_LINK_SECRET" in message
    assert SECRET_MARKER not in message


def test_token_is_absent_from_errors_about_other_settings() -> None:
    token = f"123456:{SECRET_MARKER}{SECRET_MARKER}"
    for name, value in [("SEND_RATE", "x"), ("TIMEZONE", "Nowhere/Land"), ("LOG_LEVEL", "x")]:
        message = error_for(env(TOKEN=token, **{name: value}))
        assert SECRET_MARKER not in message


def test_settings_repr_hides_token_and_link_secret() -> None:
    s = Settings.from_env(
        env(TOKEN=f"123456:{SECRET_MARKER}{SECRET_MARKER}", LINK_SECRET=SECRET_MARKER * 3)
    )
    assert SECRET_MARKER not in repr(s)


# --- valid values are parsed ----------------------------------------------------------


def test_optional_values_are_parsed() -> None:
    s = Settings.from_env(
        env(
            BOT_USERNAME="@my_nps_bot",
            ADMIN_CHAT_IDS=" 42, -1001234567890 ,,7 ",
            TIMEZONE="Europe/Berlin",
            SEND_RATE="12.5",
            PER_CHAT_RATE="0.5",
            POLL_TIMEOUT="0",
            LOG_LEVEL="debug",
            DATABASE="/data/nps.db",
        )
    )
    assert s.bot_username == "my_nps_bot"
    assert s.admin_chat_ids == (42, -1001234567890, 7)
    assert s.timezone.key == "Europe/Berlin"
    assert s.send_rate_per_second == 12.5
    assert s.per_chat_per_second == 0.5
    assert s.poll_timeout_seconds == 0
    assert s.log_level == "DEBUG"
    assert s.database_path == "/data/nps.db"


@pytest.mark.parametrize(
    ("value", "engine", "location"),
    [
        ("npsbot.sqlite3", "sqlite", "npsbot.sqlite3"),
        ("/var/lib/npsbot/nps.db", "sqlite", "/var/lib/npsbot/nps.db"),
        ("sqlite:///data/nps.db", "sqlite", "data/nps.db"),
        ("sqlite:////data/nps.db", "sqlite", "/data/nps.db"),
        ("postgresql://bot:pw@db:5432/nps", "postgresql", "postgresql://bot:pw@db:5432/nps"),
        ("postgres://db/nps?sslmode=require", "postgresql", "postgres://db/nps?sslmode=require"),
    ],
)
def test_database_is_a_sqlite_path_or_url_or_a_postgresql_url(
    value: str, engine: str, location: str
) -> None:
    s = Settings.from_env(env(DATABASE=value))
    target = parse_target(s.database_path)
    assert (target.engine, target.location) == (engine, location)


@pytest.mark.parametrize(
    "value", ["mysql://bot:hunter2@db/nps", "sqlite://relative.db", "postgresql://"]
)
def test_a_database_of_another_kind_is_refused_without_echoing_a_password(value: str) -> None:
    message = error_for(env(DATABASE=value))
    assert "NPSBOT_DATABASE" in message
    assert "hunter2" not in message


def test_a_postgresql_url_is_described_without_its_password() -> None:
    target = parse_target("postgresql://bot:hunter2@db:5432/nps")
    assert target.describe() == "postgresql://bot:***@db:5432/nps"


@pytest.mark.parametrize(
    ("base", "file_url"),
    [
        ("https://api.telegram.org/bot", "https://api.telegram.org/file/bot"),
        ("http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/file/bot"),
        ("http://localhost:9000/api/", "http://localhost:9000/api/file/bot"),
        ("http://localhost:9000", "http://localhost:9000/file/bot"),
    ],
)
def test_file_url_is_derived_from_base_url(base: str, file_url: str) -> None:
    assert Settings.from_env(env(API_BASE_URL=base)).api_base_file_url == file_url


def test_explicit_file_url_is_kept() -> None:
    s = Settings.from_env(
        env(API_BASE_URL="http://a.example/bot", API_BASE_FILE_URL="http://files.example/x")
    )
    assert s.api_base_file_url == "http://files.example/x"


def test_settings_built_directly_derive_file_url(environ: pytest.MonkeyPatch) -> None:
    s = Settings(token=TOKEN, link_secret="k" * 32, company_name="A", api_base_url="http://h:1/bot")
    assert s.api_base_file_url == "http://h:1/file/bot"


# --- .env files -----------------------------------------------------------------------


def test_env_file_comments_quotes_and_export(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text(
        "# a comment\n"
        "\n"
        "   # indented comment\n"
        "PLAIN=value\n"
        'DOUBLE="quoted # not a comment"\n'
        "SINGLE='single quoted'\n"
        "export EXPORTED=yes\n"
        "INLINE=kept # dropped\n"
        "HASH=a#b\n"
        "EMPTY=\n"
        "  SPACED  =  padded  \n"
        "EQUALS=a=b=c\n",
        encoding="utf-8",
    )
    assert read_env_file(path) == {
        "PLAIN": "value",
        "DOUBLE": "quoted # not a comment",
        "SINGLE": "single quoted",
        "EXPORTED": "yes",
        "INLINE": "kept",
        "HASH": "a#b",
        "EMPTY": "",
        "SPACED": "padded",
        "EQUALS": "a=b=c",
    }


def test_env_file_quoted_value_with_trailing_comment(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text('NAME="Acme Inc" # the company\n', encoding="utf-8")
    assert read_env_file(path) == {"NAME": "Acme Inc"}


@pytest.mark.parametrize(
    ("lines", "bad_line"),
    [
        (["A=1", "no equals sign here"], 2),
        (["# c", "", "1ABC=x"], 3),
        (["BAD-KEY=x"], 1),
        (["A=1", "B=2", "=value"], 3),
    ],
)
def test_env_file_bad_line_names_file_and_line(
    tmp_path: Path, lines: list[str], bad_line: int
) -> None:
    path = tmp_path / "settings.env"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(SettingsError) as info:
        read_env_file(path)
    assert str(info.value).startswith(f"{path}:{bad_line}:")


def test_env_file_bad_line_does_not_echo_its_content(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text(f"NPSBOT_TOKEN 123456:{SECRET_MARKER}{SECRET_MARKER}\n", encoding="utf-8")
    with pytest.raises(SettingsError) as info:
        read_env_file(path)
    assert SECRET_MARKER not in str(info.value)


def write_env(tmp_path: Path, values: dict[str, str]) -> Path:
    path = tmp_path / "bot.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()), encoding="utf-8")
    return path


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """The process environment without any ``NPSBOT_*`` variable of the machine running the
    tests; set variables with ``environ.setenv``."""
    for key in [k for k in os.environ if k.startswith("NPSBOT_")]:
        monkeypatch.delenv(key)
    yield monkeypatch


def test_load_settings_reads_env_file(tmp_path: Path, environ: pytest.MonkeyPatch) -> None:
    path = write_env(tmp_path, {**VALID, "NPSBOT_LOG_LEVEL": "warning"})
    environ.setenv("NPSBOT_ENV_FILE", str(path))
    s = load_settings()
    assert s.token.get_secret_value() == TOKEN
    assert s.log_level == "WARNING"


def test_environment_overrides_env_file(tmp_path: Path, environ: pytest.MonkeyPatch) -> None:
    path = write_env(
        tmp_path, {**VALID, "NPSBOT_COMPANY_NAME": "FromFile", "NPSBOT_SEND_RATE": "5"}
    )
    environ.setenv("NPSBOT_ENV_FILE", str(path))
    environ.setenv("NPSBOT_COMPANY_NAME", "FromEnv")
    s = load_settings()
    assert s.company_name == "FromEnv"
    assert s.send_rate_per_second == 5.0


def test_environment_overrides_env_file_in_sections_too(
    tmp_path: Path, environ: pytest.MonkeyPatch
) -> None:
    path = write_env(tmp_path, {**VALID, "NPSBOT_API_PORT": "9000", "NPSBOT_RETENTION_DAYS": "30"})
    environ.setenv("NPSBOT_ENV_FILE", str(path))
    environ.setenv("NPSBOT_API_PORT", "9100")
    s = load_settings()
    assert s.ops.api_port == 9100
    assert s.privacy.retention_days == 30


def test_an_invalid_environment_value_wins_over_a_valid_file_value(
    tmp_path: Path, environ: pytest.MonkeyPatch
) -> None:
    environ.setenv("NPSBOT_ENV_FILE", str(write_env(tmp_path, VALID)))
    environ.setenv("NPSBOT_POLL_TIMEOUT", "99")
    with pytest.raises(SettingsError, match=r"^NPSBOT_POLL_TIMEOUT is invalid"):
        load_settings()


def test_unprefixed_environment_variables_are_ignored(
    tmp_path: Path, environ: pytest.MonkeyPatch
) -> None:
    environ.setenv("NPSBOT_ENV_FILE", str(write_env(tmp_path, VALID)))
    environ.setenv("COMPANY_NAME", "Other")
    environ.setenv("TOKEN", "x")
    s = load_settings()
    assert s.company_name == "Acme"
    assert s.token.get_secret_value() == TOKEN


def test_env_file_setting_pointing_at_missing_file_is_an_error(
    tmp_path: Path, environ: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nope.env"
    for key, value in {**VALID, "NPSBOT_ENV_FILE": str(missing)}.items():
        environ.setenv(key, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert str(info.value).startswith("NPSBOT_ENV_FILE is invalid")
    assert str(missing) in str(info.value)


def test_env_file_setting_pointing_at_directory_is_an_error(
    tmp_path: Path, environ: pytest.MonkeyPatch
) -> None:
    for key, value in {**VALID, "NPSBOT_ENV_FILE": str(tmp_path)}.items():
        environ.setenv(key, value)
    with pytest.raises(SettingsError, match="NPSBOT_ENV_FILE"):
        load_settings()


def test_missing_default_env_file_is_fine(tmp_path: Path, environ: pytest.MonkeyPatch) -> None:
    environ.chdir(tmp_path)
    for key, value in VALID.items():
        environ.setenv(key, value)
    assert load_settings().company_name == "Acme"


def test_default_env_file_in_working_directory_is_read(
    tmp_path: Path, environ: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text(
        "".join(f"{k}={v}\n" for k, v in VALID.items()), encoding="utf-8"
    )
    environ.chdir(tmp_path)
    assert load_settings().token.get_secret_value() == TOKEN


def test_env_file_error_surfaces_through_load_settings(
    tmp_path: Path, environ: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "broken.env"
    path.write_text("NPSBOT_TOKEN\n", encoding="utf-8")
    environ.setenv("NPSBOT_ENV_FILE", str(path))
    with pytest.raises(SettingsError, match=r"broken\.env:1:"):
        load_settings()


# --- one line, no secrets -------------------------------------------------------------


def test_several_bad_values_give_one_line_naming_the_first() -> None:
    message = error_for(env(SEND_RATE="fast", POLL_TIMEOUT="99", API_PORT="0"))
    assert message.startswith("NPSBOT_SEND_RATE is invalid")
    assert "\n" not in message
    assert "POLL_TIMEOUT" not in message and "API_PORT" not in message


def test_a_bad_section_value_is_one_line_naming_its_variable() -> None:
    message = error_for(env(RELAY_HOURS="0"))
    assert message == (
        "NPSBOT_RELAY_HOURS is invalid: expected a whole number from 1 to 720, got '0'"
    )


@pytest.mark.parametrize(
    "variables",
    [
        {"NPSBOT_API_TOKENS": f"{SECRET_MARKER}-but-not-a-valid!token"},
        {"NPSBOT_API_TOKENS": f"{SECRET_MARKER}{SECRET_MARKER}:admin"},
        {"NPSBOT_WEBHOOK_1_URL": "https://x.example", "NPSBOT_WEBHOOK_1_SECRET": SECRET_MARKER},
        {"NPSBOT_WEBHOOK_1_URL": "nope", "NPSBOT_WEBHOOK_1_SECRET": SECRET_MARKER * 3},
        {"NPSBOT_LINK_SECRET": SECRET_MARKER},
        {"NPSBOT_TOKEN": f"123:{SECRET_MARKER}", "NPSBOT_LINK_SECRET": SECRET_MARKER},
    ],
)
def test_no_secret_appears_in_an_error(variables: dict[str, str]) -> None:
    message = error_for(with_required(variables))
    assert message.startswith("NPSBOT_")
    assert SECRET_MARKER not in message


def test_no_secret_appears_in_the_repr_of_the_settings() -> None:
    s = Settings.from_env(
        env(
            TOKEN=f"123456:{SECRET_MARKER}{SECRET_MARKER}",
            LINK_SECRET=SECRET_MARKER * 3,
            API_TOKENS=f"{SECRET_MARKER}{SECRET_MARKER}:read",
            WEBHOOK_1_URL="https://crm.example/hook",
            WEBHOOK_1_SECRET=SECRET_MARKER * 3,
        )
    )
    assert SECRET_MARKER not in repr(s)
    assert SECRET_MARKER not in str(s)
    # ... yet each secret is there for the code that needs it.
    assert s.ops.api_tokens[0].secret.get_secret_value() == SECRET_MARKER * 2
    secret = s.webhooks.secret_for("https://crm.example/hook")
    assert secret is not None and secret.get_secret_value() == SECRET_MARKER * 3


def test_sections_take_their_defaults_when_built_in_code(environ: pytest.MonkeyPatch) -> None:
    s = Settings(token=TOKEN, link_secret="k" * 32, company_name="A")
    assert s.ops.api_port == 8088 and s.admin.relay_hours == 72
    assert s.webhooks.endpoints == () and s.privacy.retention_days is None


def test_cli_stops_with_one_line_naming_the_variable(
    environ: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    environ.chdir(tmp_path)  # no ./.env
    for key, value in env(LINK_SECRET=SECRET_MARKER * 3, SEND_RATE="fast").items():
        environ.setenv(key, value)
    with pytest.raises(SystemExit) as exit_info:
        main(["link", "customer-1"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err == (
        "npsbot: configuration error: NPSBOT_SEND_RATE is invalid: "
        "could not convert string to float: 'fast'\n"
    )


def test_link_ttl_days_defaults_to_30_and_is_bounded() -> None:
    assert Settings.from_env(with_required({})).link_ttl_days == 30
    assert Settings.from_env(with_required({"NPSBOT_LINK_TTL_DAYS": "7"})).link_ttl_days == 7
    for bad in ("0", "-1", "3651", "soon"):
        assert "NPSBOT_LINK_TTL_DAYS" in error_for(with_required({"NPSBOT_LINK_TTL_DAYS": bad}))


# --- receiving: long polling or a webhook -------------------------------------------------


def test_long_polling_is_the_default_and_a_url_with_its_secret_means_webhook_mode() -> None:
    assert not Settings.from_env(VALID).receiving.webhook
    s = Settings.from_env(
        env(
            TELEGRAM_WEBHOOK_URL="https://bot.example.com/telegram",
            TELEGRAM_WEBHOOK_SECRET="a-Secret_token-0123",
        )
    ).receiving
    assert s.webhook and s.path == "/telegram"
    assert (s.listen_host, s.listen_port, s.max_connections) == ("127.0.0.1", 8089, 40)
    assert s.webhook_secret is not None
    assert s.webhook_secret.get_secret_value() == "a-Secret_token-0123"
    explicit = Settings.from_env(
        env(
            TELEGRAM_WEBHOOK_URL="https://bot.example.com",
            TELEGRAM_WEBHOOK_SECRET="x",
            TELEGRAM_WEBHOOK_PATH="/hooks/tg",
            TELEGRAM_WEBHOOK_LISTEN="0.0.0.0",
            TELEGRAM_WEBHOOK_PORT="9000",
            TELEGRAM_WEBHOOK_MAX_CONNECTIONS="100",
        )
    ).receiving
    assert (explicit.path, explicit.listen_host, explicit.listen_port) == (
        "/hooks/tg",
        "0.0.0.0",
        9000,
    )
    assert (
        Settings.from_env(
            env(TELEGRAM_WEBHOOK_URL="https://bot.example.com", TELEGRAM_WEBHOOK_SECRET="x")
        ).receiving.path
        == "/"
    )


@pytest.mark.parametrize(
    ("variables", "named", "says"),
    [
        ({"TELEGRAM_WEBHOOK_URL": "https://b.example/t"}, "SECRET", "required when"),
        ({"TELEGRAM_WEBHOOK_URL": "b.example/t", "TELEGRAM_WEBHOOK_SECRET": "x"}, "URL", "URL"),
        ({"TELEGRAM_WEBHOOK_SECRET": "has space"}, "SECRET", "1-256 characters"),
        ({"TELEGRAM_WEBHOOK_SECRET": "x" * 257}, "SECRET", "1-256 characters"),
        ({"TELEGRAM_WEBHOOK_SECRET": "bad:char"}, "SECRET", "1-256 characters"),
        ({"TELEGRAM_WEBHOOK_MAX_CONNECTIONS": "0"}, "MAX_CONNECTIONS", "1 to 100"),
        ({"TELEGRAM_WEBHOOK_MAX_CONNECTIONS": "101"}, "MAX_CONNECTIONS", "1 to 100"),
        ({"TELEGRAM_WEBHOOK_PORT": "70000"}, "PORT", "1 to 65535"),
        ({"TELEGRAM_WEBHOOK_PATH": "telegram"}, "PATH", "a path"),
        ({"TELEGRAM_WEBHOOK_LISTEN": "bad host"}, "LISTEN", "host"),
    ],
    ids=[
        "secret-missing",
        "url",
        "secret-space",
        "secret-long",
        "secret-colon",
        "connections-0",
        "connections-101",
        "port",
        "path",
        "listen",
    ],
)
def test_webhook_settings_are_validated_and_the_secret_never_echoed(
    variables: dict[str, str], named: str, says: str
) -> None:
    message = error_for(env(**variables))
    assert message.startswith(f"NPSBOT_TELEGRAM_WEBHOOK_{named} is invalid"), message
    assert says in message
    assert "has space" not in message and "bad:char" not in message


def test_the_webhook_secret_is_not_in_the_repr() -> None:
    s = Settings.from_env(
        env(TELEGRAM_WEBHOOK_URL="https://b.example/t", TELEGRAM_WEBHOOK_SECRET=SECRET_MARKER)
    )
    assert SECRET_MARKER not in repr(s) and SECRET_MARKER not in str(s)
