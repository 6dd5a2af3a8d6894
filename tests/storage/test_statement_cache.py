"""The statements of every chat turn are compiled once, not at each execution."""

from __future__ import annotations

import logging

import pytest

from suarawarga.bootstrap import App
from suarawarga.bot.dispatcher import Dispatcher
from suarawarga.storage.base_sql import CONVERSATIONS, upsert_text
from tests.support.clock import FrozenClock
from tests.support.dialog import Conversation


async def test_a_menu_turn_runs_only_cached_statements(
    app: App, citizen: Conversation, caplog: pytest.LogCaptureFixture
) -> None:
    """SQLAlchemy logs "[no key ...]" for a statement it must compile every time; a turn has none."""
    await citizen.say("/start")
    await citizen.say("menu")
    lines = await _engine_log(caplog, citizen, "menu")
    statements = [line for line in lines if line.startswith("[")]
    assert statements, "the turn ran no statement at all"
    assert _uncached(lines) == []


async def test_a_new_citizens_consent_turn_runs_only_cached_statements(
    app: App, citizen: Conversation, dispatcher: Dispatcher, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    """The turn that registers a citizen and records the consent (once per citizen) compiles nothing either."""
    for text in ("/start", "1", "1"):  # menu, complaint, consent: every statement compiled once here
        await citizen.say(text)
    other = Conversation(dispatcher, clock, app.catalogue, "citizen-2", app.attachments)
    await other.say("/start")
    await other.say("1")
    lines = await _engine_log(caplog, other, "1")
    assert any("INSERT INTO consents" in line for line in lines)
    assert _uncached(lines) == []


async def _engine_log(caplog: pytest.LogCaptureFixture, chat: Conversation, text: str) -> list[str]:
    """Say `text` in the chat and return what SQLAlchemy's engine logged meanwhile."""
    engine_log = logging.getLogger("sqlalchemy.engine.Engine")
    with caplog.at_level(logging.INFO, logger="sqlalchemy.engine.Engine"):
        engine_log.setLevel(logging.INFO)
        try:
            await chat.say(text)
        finally:
            engine_log.setLevel(logging.WARNING)
    return [r.getMessage() for r in caplog.records if r.name == "sqlalchemy.engine.Engine"]


def _uncached(lines: list[str]) -> list[str]:
    """Return the statements SQLAlchemy compiled for this execution ("[no key ...]" or a first "[generated ...]")."""
    return [lines[i - 1][:80] for i, line in enumerate(lines) if line.startswith(("[no key", "[generated"))]


def test_upsert_text_takes_only_the_tables_columns() -> None:
    """A name that is not a column is refused at once (the SQL is built from the names)."""
    with pytest.raises(KeyError):
        upsert_text(CONVERSATIONS, ("channel", "chat_id; DROP TABLE x"), ("channel", "chat_id"))
    statement = upsert_text(CONVERSATIONS, ("channel", "chat_id"), ("channel", "chat_id"))
    assert "ON CONFLICT (channel, chat_id) DO NOTHING" in str(statement)
