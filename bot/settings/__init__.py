"""One settings model for the whole bot, read from ``NPSBOT_*`` variables.

``Settings`` holds the bot's own settings and one section per concern (``ops``, ``admin``,
``privacy``, ``webhooks``, ``receiving``). Build it with :func:`load_settings`
(environment and ``.env``) or :meth:`Settings.from_env` (a mapping, for tests and tools).
A bad value raises :class:`SettingsError` whose message is one line naming the variable,
never its value.

The package imports only pydantic, pydantic-settings, the standard library and
the core (:mod:`bot.core`): every layer above the core may depend on it.
"""

from bot.core.contact_rules import QuietHours
from bot.settings.admin import AdminSettings
from bot.settings.errors import PREFIX, SettingsError
from bot.settings.ops import SCOPES, ApiToken, OpsSettings
from bot.settings.parsing import read_env_file
from bot.settings.privacy import PrivacySettings
from bot.settings.receiving import ReceivingSettings
from bot.settings.root import DEFAULT_API_BASE_URL, Settings, env_file_path, load_settings
from bot.settings.webhooks import EVENT_TYPES, Endpoint, WebhookSettings

__all__ = [
    "DEFAULT_API_BASE_URL",
    "EVENT_TYPES",
    "PREFIX",
    "SCOPES",
    "AdminSettings",
    "ApiToken",
    "Endpoint",
    "OpsSettings",
    "PrivacySettings",
    "QuietHours",
    "ReceivingSettings",
    "Settings",
    "SettingsError",
    "WebhookSettings",
    "env_file_path",
    "load_settings",
    "read_env_file",
]
