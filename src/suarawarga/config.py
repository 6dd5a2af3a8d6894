"""Settings, read from the environment (prefix SUARAWARGA_) and an optional .env file."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from suarawarga.bot.messages import NoticeKind


class WhatsAppTemplate(BaseModel):
    """An approved WhatsApp message template used for one kind of message outside the 24-hour window."""

    name: str = Field(description="Template name as approved in WhatsApp Manager.")
    language: str = Field(default="id", description="Template language code, e.g. id or en_US.")
    params: list[str] = Field(
        default_factory=list,
        description="Body parameters {{1}}, {{2}}, ... by message parameter name; '@text' is the whole message.",
    )
    buttons: int = Field(default=0, ge=0, le=10, description="Quick-reply buttons; their payloads are the choices.")


def default_whatsapp_templates() -> dict[str, WhatsAppTemplate]:
    """Return the suggested templates (README, section WhatsApp), by notice kind."""
    return {
        NoticeKind.COMPLAINT_UPDATE.value: WhatsAppTemplate(name="sw_pembaruan_pengaduan", params=["code", "@text"]),
        NoticeKind.INFO_REQUEST.value: WhatsAppTemplate(
            name="sw_permintaan_info", params=["code", "question"], buttons=1
        ),
        NoticeKind.COMPLAINT_NEW.value: WhatsAppTemplate(
            name="sw_pengaduan_baru", params=["code", "unit", "category", "description", "location"], buttons=5
        ),
        NoticeKind.STAFF_UPDATE.value: WhatsAppTemplate(name="sw_kabar_petugas", params=["code", "@text"]),
        NoticeKind.SURVEY_INVITATION.value: WhatsAppTemplate(name="sw_undangan_survei", params=["unit"], buttons=1),
        NoticeKind.DIGEST.value: WhatsAppTemplate(name="sw_ringkasan_mingguan", params=["@text"]),
    }


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
    image_max_megapixels: int = Field(
        default=40, ge=1, le=180, description="Images with more pixels than this (millions) are refused undecoded."
    )
    image_max_side: int = Field(
        default=2560, ge=320, le=8192, description="Images are stored downscaled to this many pixels on the long side."
    )
    image_decoders: int = Field(
        default=2, ge=1, le=16, description="Images decoded at once per process (each may take ~4 bytes a pixel)."
    )
    attachment_max_mb: int = Field(default=20, ge=1, le=100, description="Largest file (MB) a chat may send.")
    attachments_chat_quota_mb: int = Field(
        default=25, ge=1, description="Most a chat's unfiled drafts may hold on disk (MB); beyond it files are refused."
    )
    attachments_total_quota_mb: int = Field(
        default=10240, ge=1, description="Most the attachment directory may hold (MB); beyond it files are refused."
    )
    attachments_min_free_mb: int = Field(
        default=512, ge=0, description="Free disk space (MB) that must remain; below it files are refused."
    )
    draft_days: int = Field(
        default=7, ge=1, description="Days a chat may leave a draft untouched before it and its files are dropped."
    )
    texts_file: Path | None = Field(
        default=None, description="Optional YAML file whose texts override the built-in catalogue."
    )
    complaints_per_day: int = Field(default=5, ge=1, description="Most complaints one citizen may file a day.")
    max_photos: int = Field(default=5, ge=0, le=10, description="Most photos attached to one complaint.")
    surveys_per_unit_per_day: int = Field(
        default=1, ge=1, description="Most IKM questionnaires one citizen may give for one unit a day."
    )
    log_level: str = Field(default="INFO", description="Logging level.")
    log_format: str = Field(default="text", description="Log format: text, or json (one object per line).")
    log_tag_secret: SecretStr | None = Field(
        default=None,
        description="Key (at least 16 characters) of the keyed hash that tags senders in the logs. Unset: a random "
        "key is made on first setup and kept in the database (table app_secrets).",
    )
    retention_days: int = Field(
        default=730, ge=30, description="Days after closure before a complaint's files and personal data are erased."
    )
    message_log_days: int = Field(
        default=30, ge=1, description="Days raw updates and sent messages are kept (they carry ids and names)."
    )
    extra_days_off: list[date] = Field(
        default_factory=list, description="City days off besides national holidays and cuti bersama (JSON list)."
    )
    digest_day: str = Field(default="mon", description="Day of the weekly digest (mon..sun).")
    digest_time: str = Field(default="07:00", description="Time of the weekly digest, city time (HH:MM).")

    # Telegram
    telegram_token: SecretStr | None = Field(default=None, description="Bot token from BotFather.")
    telegram_api_url: str = Field(
        default="https://api.telegram.org", description="Root of the Bot API server (a self-hosted one works too)."
    )
    telegram_webhook_secret: SecretStr | None = Field(
        default=None, description="Secret Telegram sends in X-Telegram-Bot-Api-Secret-Token with every webhook."
    )
    telegram_bot_username: str | None = Field(
        default=None, description="The bot's @username without @, for t.me deep links on survey QR posters."
    )
    telegram_send_rate: int | None = Field(
        default=None,
        ge=1,
        description="Bot API calls a second, overall, per process (default 28: Telegram allows about 30). "
        "Raise it only against a test server without Telegram's limits, e.g. the load benchmark's fake.",
    )
    telegram_request: Literal["httpx", "tuned"] = Field(
        default="tuned",
        description="HTTP client of the Bot API calls: `tuned` (long-lived keep-alive connections on asyncio streams, "
        "less CPU per call, no proxy) or `httpx` (python-telegram-bot's own; chosen by default when HTTPS_PROXY or "
        "ALL_PROXY is set).",
    )
    public_url: str | None = Field(
        default=None,
        description="Public HTTPS root of `serve`, for webhook registration and the staff console's sign-in links "
        "(default for the links: http://127.0.0.1:8080).",
    )

    # WhatsApp Cloud API
    whatsapp_api_url: str = Field(default="https://graph.facebook.com", description="Graph API root.")
    whatsapp_api_version: str = Field(default="v21.0", description="Graph API version.")
    whatsapp_token: SecretStr | None = Field(default=None, description="System-user access token.")
    whatsapp_phone_number_id: str | None = Field(default=None, description="Phone number id of the business number.")
    whatsapp_phone_number: str | None = Field(
        default=None, description="The business number in international form (e.g. 6281234567890), for wa.me links."
    )
    whatsapp_app_secret: SecretStr | None = Field(default=None, description="App secret, for X-Hub-Signature-256.")
    whatsapp_verify_token: SecretStr | None = Field(default=None, description="Token Meta echoes when verifying.")
    whatsapp_client: Literal["httpx", "tuned"] = Field(
        default="tuned",
        description="HTTP client of the Graph API calls: `tuned` (long-lived keep-alive connections on asyncio "
        "streams, less CPU per call, no proxy) or `httpx` (chosen by default when HTTPS_PROXY or ALL_PROXY is set).",
    )
    whatsapp_templates: dict[str, WhatsAppTemplate] = Field(
        default_factory=default_whatsapp_templates,
        description="Message kind -> approved template, for sends outside the 24-hour customer-service window.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("unknown timezone (expected an IANA name, e.g. Asia/Jakarta)") from exc
        return value

    @field_validator("log_tag_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < 16:
            raise ValueError("log_tag_secret must have at least 16 characters")
        return value

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in ("id", "en"):
            raise ValueError("unknown language (expected id or en)")
        return value

    @model_validator(mode="after")
    def _proxy_needs_httpx(self) -> Settings:
        # The tuned clients speak to the Bot API and the Graph API directly; behind an HTTPS proxy only httpx gets
        # through, so a proxy in the environment chooses httpx unless SUARAWARGA_TELEGRAM_REQUEST (for Telegram)
        # or SUARAWARGA_WHATSAPP_CLIENT (for WhatsApp) says otherwise.
        if any(os.environ.get(name) for name in PROXY_VARIABLES):
            if "telegram_request" not in self.model_fields_set:
                self.telegram_request = "httpx"
            if "whatsapp_client" not in self.model_fields_set:
                self.whatsapp_client = "httpx"
        return self

    @property
    def tz(self) -> ZoneInfo:
        """Return the city's timezone."""
        return ZoneInfo(self.timezone)


PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")  # the ones httpx honours for HTTPS

SECRET_FIELDS = frozenset(
    {"telegram_token", "telegram_webhook_secret", "whatsapp_token", "whatsapp_app_secret", "whatsapp_verify_token"}
)


def describe_invalid(error: ValidationError) -> str:
    """Return invalid settings as one line: each variable, its value (never a secret's) and what is expected."""
    parts = []
    for problem in error.errors():
        field = str(problem["loc"][0]) if problem["loc"] else "?"
        message = str(problem["msg"]).removeprefix("Value error, ")
        value = "" if field in SECRET_FIELDS else f"={problem.get('input')!r}"
        parts.append(f"SUARAWARGA_{field.upper()}{value}: {message}")
    return "; ".join(parts)


def load_settings(**overrides: object) -> Settings:
    """Read the settings from the environment, with explicit overrides winning."""
    return Settings(**overrides)  # type: ignore[arg-type]
