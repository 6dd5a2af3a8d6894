"""Filing returns the complaint as stored (INSERT ... RETURNING): the same record a later read gives."""

from __future__ import annotations

import pytest

from suarawarga.bootstrap import App
from suarawarga.bot.messages import ChannelName
from suarawarga.complaints import services
from suarawarga.complaints.model import (
    ActorKind,
    ComplaintEvent,
    ComplaintStatus,
    EventKind,
    IdentityMode,
    NewAttachment,
)
from suarawarga.complaints.services import ComplaintDraft, file_complaint

PHOTO = NewAttachment(kind="photo", path="2026/12/ab.jpg", mime="image/jpeg", size=1234, sha256="ab" * 32)


@pytest.mark.parametrize("mode", [IdentityMode.NAMED, IdentityMode.RAHASIA, IdentityMode.ANONIM])
async def test_the_filed_complaint_is_the_stored_one(app: App, mode: IdentityMode) -> None:
    now = app.clock.now()
    async with app.uow() as uow:
        citizen_id = await uow.citizens.register(ChannelName.CONSOLE, "warga-9", "id", now, True)
        filed = await file_complaint(
            uow,
            ComplaintDraft(
                category_code="jalan_rusak",
                description="Jalan berlubang di depan pasar",
                identity_mode=mode,
                channel=ChannelName.CONSOLE,
                chat_id="warga-9",
                citizen_id=citizen_id,
                language="id",
                location_text="Jl. Sudirman No. 5",
                latitude=-0.9492,
                longitude=100.3543,
                kecamatan_code="KEC-PADANG-BARAT",
                reporter_name="Ani" if mode is not IdentityMode.ANONIM else None,
                reporter_contact="08123456789" if mode is not IdentityMode.ANONIM else None,
                attachments=(PHOTO,),
            ),
            now,
            "PDG",
        )
        await uow.commit()
    async with app.uow() as uow:
        stored = await uow.complaints.by_code(filed.code)
        files = await uow.complaints.attachments(filed.complaint_id, ActorKind.CITIZEN)
        history = await uow.complaints.history(filed.complaint_id)
    assert stored is not None
    assert filed.complaint == stored
    assert filed.complaint.filed_at == now and filed.complaint.filed_at.tzinfo is not None
    assert filed.complaint.kecamatan_id is not None and filed.complaint.latitude == -0.9492
    assert (filed.complaint.citizen_id is None) == (mode is IdentityMode.ANONIM)
    assert files == [PHOTO]
    assert history == [
        ComplaintEvent(now, EventKind.FILED, ActorKind.CITIZEN, None, ComplaintStatus.DITERIMA, filed.unit.id)
    ]


async def test_a_taken_tracking_code_is_drawn_again(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    """The unique code decides in the insert itself: a taken code stores nothing, and the next one is used."""
    codes = iter(["PDG-7K3QX9", "PDG-7K3QX9", "PDG-M4RT2B"])
    monkeypatch.setattr(services, "new_tracking_code", lambda prefix: next(codes))
    draft = ComplaintDraft(
        category_code="jalan_rusak",
        description="Jalan berlubang",
        identity_mode=IdentityMode.ANONIM,
        channel=ChannelName.CONSOLE,
        chat_id="warga-9",
        citizen_id=None,
        language="id",
    )
    async with app.uow() as uow:
        first = await file_complaint(uow, draft, app.clock.now(), "PDG")
        second = await file_complaint(uow, draft, app.clock.now(), "PDG")
        await uow.commit()
    async with app.uow() as uow:
        assert await uow.complaints.count() == 2
        stored = await uow.complaints.by_code("PDG-M4RT2B")
        histories = [await uow.complaints.history(f.complaint_id) for f in (first, second)]
    assert (first.code, second.code) == ("PDG-7K3QX9", "PDG-M4RT2B")
    assert stored == second.complaint and first.complaint_id != second.complaint_id
    assert [[e.kind for e in h] for h in histories] == [[EventKind.FILED], [EventKind.FILED]]  # none for the taken draw
