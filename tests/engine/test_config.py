"""Settings come from SUARAWARGA_* variables and are validated."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from suarawarga.config import Settings


def test_defaults_are_the_local_sqlite_file_and_jakarta(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without any variable the bot uses ./suarawarga.db, Asia/Jakarta and Indonesian."""
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.database_url == "sqlite+aiosqlite:///suarawarga.db"
    assert settings.timezone == "Asia/Jakarta"
    assert settings.language == "id"


def test_environment_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """SUARAWARGA_-prefixed variables override the defaults."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SUARAWARGA_LANGUAGE", "en")
    monkeypatch.setenv("SUARAWARGA_COMPLAINTS_PER_DAY", "9")
    settings = Settings()
    assert (settings.language, settings.complaints_per_day) == ("en", 9)


def test_dotenv_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A .env file in the working directory is read."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("SUARAWARGA_TIMEZONE=Asia/Makassar\n", encoding="utf-8")
    assert Settings().timezone == "Asia/Makassar"


@pytest.mark.parametrize(("name", "value"), [("timezone", "Mars/Olympus"), ("language", "fr")])
def test_invalid_values_are_refused(name: str, value: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An unknown timezone or language stops start-up."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(f"SUARAWARGA_{name.upper()}", value)
    with pytest.raises(ValidationError):
        Settings()


def test_a_proxy_in_the_environment_chooses_the_httpx_client(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The tuned Bot API client cannot use a proxy: with HTTPS_PROXY set, httpx is the default; a setting wins."""
    monkeypatch.chdir(tmp_path)
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "SUARAWARGA_TELEGRAM_REQUEST"):
        monkeypatch.delenv(name, raising=False)
    assert Settings().telegram_request == "tuned"
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.padang.go.id:3128")
    assert Settings().telegram_request == "httpx"
    monkeypatch.setenv("SUARAWARGA_TELEGRAM_REQUEST", "tuned")
    assert Settings().telegram_request == "tuned"


def test_a_proxy_in_the_environment_chooses_httpx_for_whatsapp_too(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The tuned Graph API client cannot use a proxy either: ALL_PROXY or HTTPS_PROXY makes httpx the default."""
    monkeypatch.chdir(tmp_path)
    names = ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "SUARAWARGA_WHATSAPP_CLIENT")
    for name in (*names, "SUARAWARGA_TELEGRAM_REQUEST"):
        monkeypatch.delenv(name, raising=False)
    assert Settings().whatsapp_client == "tuned"
    monkeypatch.setenv("all_proxy", "socks5://proxy.padang.go.id:1080")
    assert (Settings().whatsapp_client, Settings().telegram_request) == ("httpx", "httpx")
    monkeypatch.setenv("SUARAWARGA_WHATSAPP_CLIENT", "tuned")
    assert (Settings().whatsapp_client, Settings().telegram_request) == ("tuned", "httpx")
    monkeypatch.delenv("all_proxy")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.padang.go.id:3128")
    monkeypatch.setenv("SUARAWARGA_WHATSAPP_CLIENT", "httpx")
    monkeypatch.setenv("SUARAWARGA_TELEGRAM_REQUEST", "tuned")
    assert (Settings().whatsapp_client, Settings().telegram_request) == ("httpx", "tuned")
