"""The log's sender tags are keyed (HMAC): trying every phone number no longer finds who a tag is."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import logging
import re

import pytest
from pydantic import SecretStr, ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from suarawarga.bootstrap import SENDER_TAG_ROW, App, build
from suarawarga.config import Settings
from suarawarga.handlers.notify import Action
from suarawarga.logging import SenderTags, redact
from tests.dialogs.test_complaint_dialog import file_anonymous
from tests.support.clock import FrozenClock
from tests.support.dialog import Conversation


async def test_a_refused_staff_action_is_logged_under_a_keyed_tag(
    app: App, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    """The tag of a citizen pressing an officer's button is HMAC(stored key), not sha256(channel:id) of old."""
    await app.load_log_key()
    async with app.dispatcher() as running:
        code = await file_anonymous(Conversation(running, clock, app.catalogue, "reporter"))
        intruder = Conversation(running, clock, app.catalogue, "6281234567890")
        caplog.set_level(logging.WARNING, logger="suarawarga.handlers.staff")
        button = dataclasses.replace(intruder.inbound("x"), text=None, choice=f"cmd:st {Action.ACCEPT} {code}")
        await intruder.send(button)
    [line] = [r.getMessage() for r in caplog.records if "refused staff action" in r.getMessage()]
    tag = line.rsplit(" ", 1)[-1]
    sender = intruder.key.chat_id
    unsalted = hashlib.sha256(f"console:{sender}".encode()).hexdigest()
    assert not unsalted.startswith(tag)  # the old tag, reversed by trying every number
    async with app.uow() as uow:
        key = await uow.secrets.get_or_add(SENDER_TAG_ROW, "not used: one is stored", clock.now())
    assert tag == "s" + hmac.new(bytes.fromhex(key), f"console:{sender}".encode(), hashlib.sha256).hexdigest()[:12]
    assert key not in caplog.text


async def test_every_process_on_the_database_tags_alike(
    settings: Settings, db: AsyncEngine, clock: FrozenClock
) -> None:
    """The key made on first setup is stored once; a second process reads the same one; a configured one wins."""
    first, second = build(settings, clock=clock, db=db), build(settings, clock=clock, db=db)
    before = first.policy.tags.tag("telegram", "42")
    await first.load_log_key()
    await second.load_log_key()
    assert first.policy.tags.tag("telegram", "42") == second.policy.tags.tag("telegram", "42") != before
    assert re.fullmatch(r"s[0-9a-f]{12}", first.policy.tags.tag("whatsapp", "6281234567890"))
    configured = build(settings.model_copy(update={"log_tag_secret": SecretStr("s" * 32)}), clock=clock, db=db)
    await configured.load_log_key()
    expected = "s" + hmac.new(b"s" * 32, b"telegram:42", hashlib.sha256).hexdigest()[:12]
    assert configured.policy.tags.tag("telegram", "42") == expected


def test_short_keys_are_refused_and_the_key_is_never_shown() -> None:
    """A key under 16 bytes is refused, in the settings and in code; repr never shows a key."""
    with pytest.raises(ValidationError):
        Settings(log_tag_secret=SecretStr("short"))
    with pytest.raises(ValueError, match="16 bytes"):
        SenderTags(b"short")
    assert "0123456789abcdef" not in repr(SenderTags(b"0123456789abcdef"))


def test_a_tag_of_decimal_digits_alone_survives_the_log_redaction() -> None:
    """About 1 sender in 280 hashes to 12 decimal digits: the tag still reads as a tag, not as a phone number."""
    tags = SenderTags(b"k" * 32)
    sender = next(str(n) for n in range(100_000) if tags.tag("telegram", str(n))[1:].isdecimal())
    line = f"refused staff action on PDG-1 by {tags.tag('telegram', sender)}"
    assert redact(line) == line
