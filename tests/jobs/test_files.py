"""The files job: idle drafts expire, and files no draft and no attachment row refers to are deleted."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

from suarawarga.bootstrap import App
from suarawarga.bot.conversation import ConversationState
from suarawarga.bot.messages import MediaKind
from suarawarga.cli.main import build_parser
from suarawarga.complaints.model import ActorKind, NewAttachment
from suarawarga.jobs.files import clean_files
from suarawarga.jobs.scheduler import JobName, build_scheduler, jobs
from tests.jobs.support import file
from tests.support.clock import FrozenClock
from tests.support.dialog import Conversation
from tests.support.images import jpeg_with_gps


def touch(app: App, path: str, at: datetime) -> None:
    """Set when a stored file was written (the job compares file times with its `now`)."""
    os.utime(app.attachments.path_of(path), (at.timestamp(), at.timestamp()))


async def test_orphans_go_referenced_files_stay(
    app: App, clock: FrozenClock, citizen: Conversation, tmp_path: Path
) -> None:
    """Only old files that neither a chat's draft nor an attachment row refers to are deleted; digests stay."""
    photo = tmp_path / "foto.jpg"
    photo.write_bytes(jpeg_with_gps())
    for says in ("/start", "1", "1", "1", "Jalan di depan SD 12 berlubang besar", "Tanpa lokasi", "Tidak tahu"):
        await citizen.say(says)
    assert await citizen.say(f"/foto {photo}") == ["complaint.photos.received"]
    ((held, _, _),) = app.attachments.files("drafts")

    complaint = await file(app, clock.now())
    filed = app.attachments.save(jpeg_with_gps(), "image/jpeg", MediaKind.PHOTO, clock.now())
    async with app.uow() as uow:
        await uow.complaints.add_attachments(
            complaint.id,
            [NewAttachment("photo", filed.path, filed.mime, filed.size, filed.sha256)],
            ActorKind.CITIZEN,
            clock.now(),
        )
        await uow.commit()
    lost_draft = app.attachments.save_draft_image(jpeg_with_gps())  # e.g. a rolled-back turn's
    lost_filed = app.attachments.save(jpeg_with_gps(), "image/jpeg", MediaKind.PHOTO, clock.now())
    young = app.attachments.save_draft_image(jpeg_with_gps())  # its transaction may still be running
    digest = app.attachments.root / "digests" / "2026-W47" / "ikm-2026-W47.png"
    digest.parent.mkdir(parents=True)
    digest.write_bytes(b"chart")
    now = clock.now()
    for path in (held, filed.path, lost_draft.path, lost_filed.path):
        touch(app, path, now - timedelta(hours=2))
    touch(app, young.path, now - timedelta(minutes=5))
    os.utime(digest, (0, 0))

    result = await clean_files(app, now)
    left = {path for path, _, _ in app.attachments.files()}
    assert left == {held, filed.path, young.path, "digests/2026-W47/ikm-2026-W47.png"}
    assert "2 unreferenced file(s) deleted" in result.summary()
    # The draft still works: the citizen goes on and files it with its photo.
    for says in ("Selesai", "Anonim", "Kirim"):
        await citizen.say(says)
    assert citizen.last[0].text_key == "complaint.filed.anonim"


async def test_an_idle_draft_expires_with_its_files(
    app: App, clock: FrozenClock, citizen: Conversation, tmp_path: Path
) -> None:
    """A draft untouched for `draft_days` is dropped: its photos are deleted and the chat is back at the menu."""
    photo = tmp_path / "foto.jpg"
    photo.write_bytes(jpeg_with_gps())
    for says in ("/start", "1", "1", "1", "Jalan di depan SD 12 berlubang besar", "Tanpa lokasi", "Tidak tahu"):
        await citizen.say(says)
    assert await citizen.say(f"/foto {photo}") == ["complaint.photos.received"]
    assert len(list(app.attachments.files("drafts"))) == 1

    six_days = await clean_files(app, clock.now() + timedelta(days=6))
    assert six_days.done == 0
    assert len(list(app.attachments.files("drafts"))) == 1
    later = await clean_files(app, clock.now() + timedelta(days=8))
    assert later.done == 1
    assert list(app.attachments.files()) == []
    async with app.uow() as uow:
        state = (await uow.conversations.load_many([citizen.key]))[citizen.key]
    assert (state.flow, state.step, state.data) == (None, None, {})
    assert isinstance(state, ConversationState) and state.language == "id"


def test_the_files_job_is_registered_and_scheduled_daily(app: App) -> None:
    """`run-job files` exists, and the scheduler runs it once a day."""
    assert jobs()[JobName.FILES] is clean_files
    scheduled = {job.id: job for job in build_scheduler(app).get_jobs()}
    assert str(scheduled["files"].trigger).startswith("cron[")
    assert "hour='3'" in str(scheduled["files"].trigger)
    assert build_parser().parse_args(["run-job", "files"]).name == "files"
