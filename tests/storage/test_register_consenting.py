"""A consenting citizen is stored with their chat account and the consent (one statement on PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from suarawarga.bootstrap import App
from suarawarga.bot.messages import ChannelName
from suarawarga.complaints.model import ConsentPurpose


async def test_citizen_account_and_consent_are_stored_together(app: App) -> None:
    now = app.clock.now()
    async with app.uow() as uow:
        citizen_id = await uow.citizens.register_consenting(
            ChannelName.TELEGRAM, "4242", "en", now, ConsentPurpose.SURVEY, "survey.privacy.notice@abc"
        )
        await uow.commit()
    async with app.uow() as uow:
        found = await uow.citizens.find(ChannelName.TELEGRAM, "4242")
        accounts = await uow.citizens.identities(citizen_id)
        consents = await uow.citizens.consents(citizen_id)
    assert found is not None
    assert (found.id, found.consent_at, found.language) == (citizen_id, now, "en")
    assert [(a.channel, a.external_id, a.since) for a in accounts] == [(ChannelName.TELEGRAM, "4242", now)]
    assert [(c.purpose, c.given_at, c.text_version) for c in consents] == [
        (ConsentPurpose.SURVEY, now, "survey.privacy.notice@abc")
    ]
    assert found.consent_at is not None and found.consent_at.tzinfo is not None


async def test_a_taken_account_is_refused_and_the_first_stays_as_it_was(app: App) -> None:
    now = app.clock.now()
    async with app.uow() as uow:
        first = await uow.citizens.register_consenting(
            ChannelName.WHATSAPP, "6281200000001", "id", now, ConsentPurpose.COMPLAINT, "v1"
        )
        await uow.commit()
    later = now + timedelta(minutes=1)
    async with app.uow() as uow:
        with pytest.raises(IntegrityError):
            await uow.citizens.register_consenting(
                ChannelName.WHATSAPP, "6281200000001", "id", later, ConsentPurpose.COMPLAINT, "v2"
            )
        await uow.rollback()
    async with app.uow() as uow:
        found = await uow.citizens.find(ChannelName.WHATSAPP, "6281200000001")
        consents = await uow.citizens.consents(first)
    assert found is not None and found.id == first
    assert [c.text_version for c in consents] == ["v1"]
