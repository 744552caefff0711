"""The root settings model: the bot's own settings, its sections, and how they are loaded.

Every field's validation alias is its environment variable (``NPSBOT_*``, documented in
``.env.example``), so the model validates the flat mapping of variables directly: the
sections (``ops``, ``admin``, ``privacy``, ``webhooks``, ``receiving``) each pick their
own variables out of the same mapping.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from bot.settings.admin import AdminSettings
from bot.settings.errors import PREFIX, SettingsError, settings_error
from bot.settings.ops import OpsSettings
from bot.settings.parsing import (
    chat_ids,
    database_location,
    http_url,
    int_range,
    on_off,
    parsed,
    positive_float,
    read_env_file,
    timezone_name,
    var,
)
from bot.settings.privacy import PrivacySettings
from bot.settings.receiving import ReceivingSettings
from bot.settings.webhooks import WebhookSettings

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
ADMIN_LANGUAGES = ("en", "zh")
ENV_FILE_VARIABLE = var("ENV_FILE")
_SECTIONS = ("ops", "admin", "privacy", "webhooks", "receiving")
_TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,}$")
_USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")


def _bot_token(raw: str) -> SecretStr:
    if not _TOKEN_RE.fullmatch(raw):
        # Never echo the value: it is a secret even when malformed.
        raise ValueError("expected the form 123456:ABC... from BotFather")
    return SecretStr(raw)


def _link_secret(raw: str) -> SecretStr:
    if len(raw) < 32:
        raise ValueError("use at least 32 random characters")
    return SecretStr(raw)


def _company_name(raw: str) -> str:
    if len(raw) > 100:
        raise ValueError("at most 100 characters")
    return raw


def _username(raw: str) -> str:
    name = raw.removeprefix("@")
    if not _USERNAME_RE.fullmatch(name):
        raise ValueError("expected a Telegram bot username such as my_nps_bot")
    return name


def _press_answer_seconds(raw: str) -> float:
    value = positive_float(raw)
    if value > 14:
        raise ValueError("expected seconds under Telegram's 15 s deadline for a press")
    return value


def _log_level(raw: str) -> str:
    level = raw.upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ValueError(f"expected DEBUG, INFO, WARNING or ERROR, got {raw!r}")
    return level


def _log_format(raw: str) -> str:
    value = raw.strip().lower()
    if value not in ("text", "json"):
        raise ValueError(f"expected text or json, got {raw!r}")
    return value


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


def _file_url_for(base_url: str) -> str:
    # PTB wants the file URL separately; Telegram and the stand-in both serve files under
    # /file/bot<token>, a sibling of /bot<token>.
    if base_url.endswith("/bot"):
        return base_url[: -len("bot")] + "file/bot"
    return base_url.rstrip("/") + "/file/bot"


class _Variables(PydanticBaseSettingsSource):
    """The ``NPSBOT_*`` variables of one mapping, keyed by name (the fields' aliases)."""

    def __init__(self, settings_cls: type[BaseSettings], variables: Mapping[str, str | None]):
        super().__init__(settings_cls)
        self._variables = variables

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        # Unused: __call__ hands over the whole mapping, which the model validates by alias.
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self._variables.items() if k.startswith(PREFIX) and v is not None}


class Settings(BaseSettings):
    """Everything the bot can be configured with.

    Build it with :func:`load_settings` (environment and ``.env`` file) or
    :meth:`Settings.from_env` (a mapping of variables only). Secrets are :class:`SecretStr`:
    ``repr`` and error messages never show them; call sites use ``.get_secret_value()``.
    """

    model_config = SettingsConfigDict(
        frozen=True,
        extra="ignore",
        case_sensitive=True,
        validate_by_alias=True,
        validate_by_name=True,
        hide_input_in_errors=True,
        env_file=None,
        # Defaults are already typed values (pydantic-settings validates them by default).
        validate_default=False,
    )

    token: Annotated[SecretStr, parsed(_bot_token)] = Field(validation_alias=var("TOKEN"))
    link_secret: Annotated[SecretStr, parsed(_link_secret)] = Field(
        validation_alias=var("LINK_SECRET")
    )
    # How long a deep link works after it was minted (it links one chat, once).
    link_ttl_days: Annotated[int, parsed(int_range(1, 3650))] = Field(
        30, validation_alias=var("LINK_TTL_DAYS")
    )
    company_name: Annotated[str, parsed(_company_name)] = Field(
        validation_alias=var("COMPANY_NAME")
    )
    api_base_url: Annotated[str, parsed(http_url)] = Field(
        DEFAULT_API_BASE_URL, validation_alias=var("API_BASE_URL")
    )
    # Empty: derived from api_base_url (see _file_url_for).
    api_base_file_url: Annotated[str, parsed(http_url)] = Field(
        "", validation_alias=var("API_BASE_FILE_URL")
    )
    bot_username: Annotated[str | None, parsed(_username)] = Field(
        None, validation_alias=var("BOT_USERNAME")
    )
    # A SQLite file path (the default), sqlite:///path, or postgresql://... (README, "Scaling").
    database_path: Annotated[str, parsed(database_location)] = Field(
        "npsbot.sqlite3", validation_alias=var("DATABASE")
    )
    admin_chat_ids: Annotated[tuple[int, ...], parsed(chat_ids)] = Field(
        (), validation_alias=var("ADMIN_CHAT_IDS")
    )
    timezone: Annotated[ZoneInfo, parsed(timezone_name)] = Field(
        default_factory=lambda: ZoneInfo("UTC"), validation_alias=var("TIMEZONE")
    )
    send_rate_per_second: Annotated[float, parsed(positive_float)] = Field(
        25.0, validation_alias=var("SEND_RATE")
    )
    per_chat_per_second: Annotated[float, parsed(positive_float)] = Field(
        1.0, validation_alias=var("PER_CHAT_RATE")
    )
    # Flood limits per chat (bot.core.flood): updates waiting in a chat's queue before
    # presses collapse, texts a minute before one "slow down" reply and drops, replies
    # queued in the outbox before more are dropped; and how long a press may wait behind
    # a chat's backlog before it is answered "one moment" (Telegram: within 15 s).
    flood_pending_updates: Annotated[int, parsed(int_range(1, 10_000))] = Field(
        20, validation_alias=var("FLOOD_PENDING_UPDATES")
    )
    flood_texts_per_minute: Annotated[int, parsed(int_range(1, 1_000))] = Field(
        20, validation_alias=var("FLOOD_TEXTS_PER_MINUTE")
    )
    flood_outbox_per_chat: Annotated[int, parsed(int_range(1, 10_000))] = Field(
        20, validation_alias=var("FLOOD_OUTBOX_PER_CHAT")
    )
    press_answer_seconds: Annotated[float, parsed(_press_answer_seconds)] = Field(
        5.0, validation_alias=var("PRESS_ANSWER_SECONDS")
    )
    poll_timeout_seconds: Annotated[int, parsed(int_range(0, 50))] = Field(
        25, validation_alias=var("POLL_TIMEOUT")
    )
    log_level: Annotated[str, parsed(_log_level)] = Field("INFO", validation_alias=var("LOG_LEVEL"))
    # text: one readable line a record; json: one JSON object a line (log collectors).
    log_format: Annotated[str, parsed(_log_format)] = Field(
        "text", validation_alias=var("LOG_FORMAT")
    )
    # One DEBUG line per update and per outbox call with the time of each stage (logger
    # bot.timing): what the answers benchmark's breakdown reads; off in production.
    timing_log: Annotated[bool, parsed(on_off)] = Field(False, validation_alias=var("TIMING_LOG"))
    # The questionnaire file (None: the built-in one, English and Chinese, no drivers), the
    # customers' language when no file says otherwise, and the admin side's language.
    questionnaire_path: str | None = Field(None, validation_alias=var("QUESTIONNAIRE"))
    default_language: Annotated[str, parsed(_builtin_language)] = Field(
        "en", validation_alias=var("DEFAULT_LANGUAGE")
    )
    admin_language: Annotated[str, parsed(_admin_language)] = Field(
        "en", validation_alias=var("ADMIN_LANGUAGE")
    )
    ops: OpsSettings = Field(default_factory=OpsSettings)
    admin: AdminSettings = Field(default_factory=AdminSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    receiving: ReceivingSettings = Field(default_factory=ReceivingSettings)

    @classmethod
    def from_env(cls, variables: Mapping[str, str]) -> Settings:
        """Settings from ``NPSBOT_*`` variables alone: no environment, no ``.env`` file.

        The one way tests and tools build settings from a mapping; raises
        :class:`SettingsError` exactly as :func:`load_settings` does.
        """
        try:
            return cls.model_validate(dict(variables))
        except ValidationError as exc:
            raise settings_error(exc) from None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keyword arguments, then the environment, then the ``.env`` file (earlier wins).

        Both sources hand over every ``NPSBOT_*`` variable by name because the sections
        read flat variables (``NPSBOT_API_PORT``, not ``NPSBOT_OPS__API_PORT``). The file is
        read with :func:`read_env_file`, which reports a malformed line instead of skipping
        it as python-dotenv does.
        """
        environ = env_settings.env_vars if isinstance(env_settings, EnvSettingsSource) else {}
        env_file = getattr(dotenv_settings, "env_file", None)
        from_file = read_env_file(Path(env_file)) if isinstance(env_file, str | Path) else {}
        return (
            init_settings,
            _Variables(settings_cls, environ),
            _Variables(settings_cls, from_file),
        )

    @model_validator(mode="before")
    @classmethod
    def _from_variables(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key.startswith(PREFIX) and isinstance(value, str):
                value = value.strip()
                if not value:
                    continue  # blank is unset: the default, or "required but not set"
            values[key] = value
        variables = {k: v for k, v in values.items() if k.startswith(PREFIX)}
        for section in _SECTIONS:
            values.setdefault(section, variables)
        return values

    @model_validator(mode="after")
    def _derive_file_url(self) -> Settings:
        if not self.api_base_file_url:
            # The model is frozen; this is its construction, so setting the field is safe.
            object.__setattr__(self, "api_base_file_url", _file_url_for(self.api_base_url))
        return self


def env_file_path(environ: Mapping[str, str]) -> Path | None:
    """The ``.env`` file to read: ``NPSBOT_ENV_FILE`` (which must exist), else ``./.env``
    when there is one, else none."""
    path = Path(environ.get(ENV_FILE_VARIABLE, ".env"))
    if path.exists() and not path.is_dir():
        return path
    if ENV_FILE_VARIABLE in environ:
        raise SettingsError(f"{ENV_FILE_VARIABLE} is invalid: no file at {path}")
    return None


def load_settings() -> Settings:
    """Settings from the process environment and the ``.env`` file (see
    :func:`env_file_path`); the environment wins where both set a value.

    Raises :class:`SettingsError` with one line naming the first bad variable.
    """
    try:
        return Settings(_env_file=env_file_path(os.environ))
    except ValidationError as exc:
        raise settings_error(exc) from None
