"""Settings, read from the environment (prefix SUARAWARGA_) and an optional .env file."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting of SuaraWarga; secrets are SecretStr and never printed."""

    model_config = SettingsConfigDict(
        env_prefix="SUARAWARGA_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = Field(
        default="sqlite+aiosqlite:///suarawarga.db",
        description="SQLAlchemy async URL; SQLite (aiosqlite) or PostgreSQL (psycopg).",
    )
    timezone: str = Field(default="Asia/Jakarta", description="The city's timezone.")
    language: str = Field(default="id", description="Default language of the bot: id or en.")
    city_code: str = Field(default="PDG", description="Prefix of tracking codes, e.g. PDG-7K3QX9.")
    attachments_dir: Path = Field(
        default=Path("attachments"),
        description="Directory where photos and files are stored (not web-served).",
    )
    texts_file: Path | None = Field(
        default=None, description="Optional YAML file whose texts override the built-in catalogue."
    )
    complaints_per_day: int = Field(default=5, ge=1, description="Most complaints one citizen may file a day.")
    max_photos: int = Field(default=5, ge=0, le=10, description="Most photos attached to one complaint.")
    log_level: str = Field(default="INFO", description="Logging level.")

    # Telegram
    telegram_token: SecretStr | None = Field(default=None, description="Bot token from BotFather.")
    telegram_api_url: str = Field(
        default="https://api.telegram.org", description="Root of the Bot API server (a self-hosted one works too)."
    )
    telegram_webhook_secret: SecretStr | None = Field(
        default=None, description="Secret Telegram sends in X-Telegram-Bot-Api-Secret-Token with every webhook."
    )
    public_url: str | None = Field(default=None, description="Public HTTPS root of `serve`, for webhook registration.")

    # WhatsApp Cloud API
    whatsapp_api_url: str = Field(default="https://graph.facebook.com", description="Graph API root.")
    whatsapp_api_version: str = Field(default="v21.0", description="Graph API version.")
    whatsapp_token: SecretStr | None = Field(default=None, description="System-user access token.")
    whatsapp_phone_number_id: str | None = Field(default=None, description="Phone number id of the business number.")
    whatsapp_app_secret: SecretStr | None = Field(default=None, description="App secret, for X-Hub-Signature-256.")
    whatsapp_verify_token: SecretStr | None = Field(default=None, description="Token Meta echoes when verifying.")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in ("id", "en"):
            raise ValueError("language must be 'id' or 'en'")
        return value

    @property
    def tz(self) -> ZoneInfo:
        """Return the city's timezone."""
        return ZoneInfo(self.timezone)


def load_settings(**overrides: object) -> Settings:
    """Read the settings from the environment, with explicit overrides winning."""
    return Settings(**overrides)  # type: ignore[arg-type]
