"""Settings, read from the environment and an optional ``.env`` file.

Every setting is documented in ``.env.example``. A missing or invalid value raises
:class:`SettingsError` whose message is one line naming the setting and the problem; the
value of a secret is never echoed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PREFIX = "NPSBOT_"
DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"

_TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,}$")
_USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")

if TYPE_CHECKING:
    from bot.admin.settings import AdminSettings
    from bot.ops.settings import OpsSettings
    from bot.privacy.settings import PrivacySettings
    from bot.webhooks.settings import WebhookSettings

T = TypeVar("T")


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names it."""


@dataclass(frozen=True)
class Settings:
    """Everything the bot can be configured with. Build with :func:`load_settings`."""

    token: str = field(repr=False)
    link_secret: str = field(repr=False)
    company_name: str
    api_base_url: str = DEFAULT_API_BASE_URL
    api_base_file_url: str = ""
    bot_username: str | None = None
    database_path: str = "npsbot.sqlite3"
    admin_chat_ids: tuple[int, ...] = ()
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    send_rate_per_second: float = 25.0
    per_chat_per_second: float = 1.0
    poll_timeout_seconds: int = 25
    log_level: str = "INFO"
    # The questionnaire file (None: the built-in one, English and Chinese, no drivers), the
    # customers' language when no file says otherwise, and the admin side's language.
    questionnaire_path: str | None = None
    default_language: str = "en"
    admin_language: str = "en"
    # Settings of the ops side (API, contact rules) and the admin side (digest, alerts),
    # parsed by their own modules from the same NPSBOT_* variables.
    ops: OpsSettings = field(default_factory=lambda: _default_ops())
    admin: AdminSettings = field(default_factory=lambda: _default_admin())
    webhooks: WebhookSettings = field(default_factory=lambda: _default_webhooks())
    privacy: PrivacySettings = field(default_factory=lambda: _default_privacy())

    def __post_init__(self) -> None:
        if not self.api_base_file_url:
            object.__setattr__(self, "api_base_file_url", _file_url_for(self.api_base_url))


def _default_ops() -> OpsSettings:
    from bot.ops.settings import ops_settings_from_mapping

    return ops_settings_from_mapping({})


def _default_admin() -> AdminSettings:
    from bot.admin.settings import admin_settings_from_mapping

    return admin_settings_from_mapping({})


def _default_webhooks() -> WebhookSettings:
    from bot.webhooks.settings import WebhookSettings

    return WebhookSettings()


def _default_privacy() -> PrivacySettings:
    from bot.privacy.settings import PrivacySettings

    return PrivacySettings()


def _file_url_for(base_url: str) -> str:
    # PTB wants the file URL separately; Telegram and the stand-in both serve files under
    # /file/bot<token>, a sibling of /bot<token>.
    if base_url.endswith("/bot"):
        return base_url[: -len("bot")] + "file/bot"
    return base_url.rstrip("/") + "/file/bot"


def read_env_file(path: Path) -> dict[str, str]:
    """Parse a ``.env`` file: ``KEY=value`` lines, ``#`` comments, optional quotes."""
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].strip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise SettingsError(f"{path}:{number}: expected KEY=value")
        value = value.strip()
        quoted = re.fullmatch(r"""(["'])(.*?)\1(\s+#.*)?""", value)
        if quoted:
            value = quoted.group(2)
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    return values


def required_setting(env: Mapping[str, str], name: str) -> str:
    value = env.get(PREFIX + name, "").strip()
    if not value:
        raise SettingsError(f"{PREFIX}{name} is required but not set")
    return value


def optional_setting(env: Mapping[str, str], name: str, parse: Callable[[str], T], default: T) -> T:
    raw = env.get(PREFIX + name, "").strip()
    if not raw:
        return default
    try:
        return parse(raw)
    except (ValueError, ZoneInfoNotFoundError) as exc:
        raise SettingsError(f"{PREFIX}{name} is invalid: {exc}") from None


def positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0 or value != value or value == float("inf"):
        raise ValueError(f"expected a positive number, got {raw!r}")
    return value


def int_range(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        value = int(raw)
        if not low <= value <= high:
            raise ValueError(f"expected a whole number from {low} to {high}, got {raw!r}")
        return value

    return parse


def chat_ids(raw: str) -> tuple[int, ...]:
    ids = []
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        if not re.fullmatch(r"-?\d{1,20}", part):
            raise ValueError(f"expected comma-separated chat ids (integers), got {part!r}")
        ids.append(int(part))
    return tuple(ids)


def timezone_name(raw: str) -> ZoneInfo:
    try:
        return ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe" is a directory
        raise ValueError(
            f"unknown time zone {raw!r} (use an IANA name such as Europe/Berlin)"
        ) from None


def http_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"expected an http(s) URL, got {raw!r}")
    return raw


def _username(raw: str) -> str:
    name = raw.removeprefix("@")
    if not _USERNAME_RE.fullmatch(name):
        raise ValueError("expected a Telegram bot username such as my_nps_bot")
    return name


def _log_level(raw: str) -> str:
    level = raw.upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ValueError(f"expected DEBUG, INFO, WARNING or ERROR, got {raw!r}")
    return level


ADMIN_LANGUAGES = ("en", "zh")


def _builtin_language(raw: str) -> str:
    # Without a questionnaire file only the built-in languages have texts; a file that adds
    # languages names its own default_language, which wins over this setting.
    code = raw.strip().lower()
    if code not in ADMIN_LANGUAGES:
        raise ValueError(
            f"expected one of {', '.join(ADMIN_LANGUAGES)} (a questionnaire file sets its own "
            f"default_language), got {raw!r}"
        )
    return code


def _admin_language(raw: str) -> str:
    code = raw.strip().lower()
    if code not in ADMIN_LANGUAGES:
        raise ValueError(f"expected one of {', '.join(ADMIN_LANGUAGES)}, got {raw!r}")
    return code


def settings_from_mapping(env: Mapping[str, str]) -> Settings:
    """Build settings from a mapping of ``NPSBOT_*`` variables, validating each."""
    token = required_setting(env, "TOKEN")
    if not _TOKEN_RE.fullmatch(token):
        # Never echo the value: it is a secret even when malformed.
        raise SettingsError(
            f"{PREFIX}TOKEN is invalid: expected the form 123456:ABC... from BotFather"
        )
    secret = required_setting(env, "LINK_SECRET")
    if len(secret) < 32:
        raise SettingsError(f"{PREFIX}LINK_SECRET is invalid: use at least 32 random characters")
    company = required_setting(env, "COMPANY_NAME")
    if len(company) > 100:
        raise SettingsError(f"{PREFIX}COMPANY_NAME is invalid: at most 100 characters")
    base_url = optional_setting(env, "API_BASE_URL", http_url, DEFAULT_API_BASE_URL)
    from bot.admin.settings import admin_settings_from_mapping
    from bot.ops.settings import ops_settings_from_mapping
    from bot.privacy.settings import privacy_settings_from_mapping
    from bot.webhooks.settings import webhook_settings_from_mapping

    return Settings(
        token=token,
        link_secret=secret,
        company_name=company,
        api_base_url=base_url,
        api_base_file_url=optional_setting(env, "API_BASE_FILE_URL", http_url, ""),
        bot_username=optional_setting(env, "BOT_USERNAME", _username, None),
        database_path=optional_setting(env, "DATABASE", str, "npsbot.sqlite3"),
        admin_chat_ids=optional_setting(env, "ADMIN_CHAT_IDS", chat_ids, ()),
        timezone=optional_setting(env, "TIMEZONE", timezone_name, ZoneInfo("UTC")),
        send_rate_per_second=optional_setting(env, "SEND_RATE", positive_float, 25.0),
        per_chat_per_second=optional_setting(env, "PER_CHAT_RATE", positive_float, 1.0),
        poll_timeout_seconds=optional_setting(env, "POLL_TIMEOUT", int_range(0, 50), 25),
        log_level=optional_setting(env, "LOG_LEVEL", _log_level, "INFO"),
        questionnaire_path=optional_setting(env, "QUESTIONNAIRE", str, None),
        default_language=optional_setting(env, "DEFAULT_LANGUAGE", _builtin_language, "en"),
        admin_language=optional_setting(env, "ADMIN_LANGUAGE", _admin_language, "en"),
        ops=ops_settings_from_mapping(env),
        admin=admin_settings_from_mapping(env),
        webhooks=webhook_settings_from_mapping(env),
        privacy=privacy_settings_from_mapping(env),
    )


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from ``.env`` (path in ``NPSBOT_ENV_FILE``, default ``./.env``) and the
    environment; the environment wins where both set a value."""
    environ = dict(os.environ if environ is None else environ)
    env_file = Path(environ.get(PREFIX + "ENV_FILE", ".env"))
    merged: dict[str, str] = {}
    if env_file.exists() and not env_file.is_dir():
        merged.update(read_env_file(env_file))
    elif PREFIX + "ENV_FILE" in environ:
        raise SettingsError(f"{PREFIX}ENV_FILE is invalid: no file at {env_file}")
    merged.update({k: v for k, v in environ.items() if k.startswith(PREFIX)})
    return settings_from_mapping(merged)
