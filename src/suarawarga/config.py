"""Settings, read from the environment (prefix SUARAWARGA_) and an optional .env file."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
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
