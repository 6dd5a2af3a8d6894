"""Dialog tests of the OPD officers' workflow and the citizen's side of it, through the console channel."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from suarawarga.bootstrap import App
from suarawarga.bot.channels.console import RecordingSender
from suarawarga.bot.dispatcher import Dispatcher
from suarawarga.bot.messages import Inbound, Outbound
from suarawarga.complaints.handling import create_invite
from suarawarga.complaints.model import ComplaintStatus, EventKind, StaffRole
from tests.support.clock import FrozenClock
from tests.support.dialog import Conversation
from tests.support.images import exif_of, jpeg_with_gps

FILE_NAMED = [
    ("/start", ["menu.welcome"]),
    ("1", ["privacy.notice"]),
    ("1", ["privacy.thanks", "complaint.category.ask"]),
    ("1", ["complaint.description.ask"]),
    ("Jalan di depan SD 12 berlubang besar", ["complaint.location.ask"]),
    ("Jl. Sudirman No. 10", ["complaint.kecamatan.ask"]),
    ("Tidak tahu", ["complaint.photos.ask"]),
    ("Selesai", ["complaint.identity.ask"]),
    ("Bernama", ["complaint.name.ask"]),
    ("Budi Santoso", ["complaint.contact.ask"]),
    ("081234567890", ["complaint.summary"]),
    ("Kirim", ["complaint.filed"]),
]


async def invite(app: App, unit: str, role: StaffRole = StaffRole.OFFICER) -> str:
    """Create an invite code the way `suarawarga staff invite` does."""
    async with app.uow() as uow:
        code, _, _ = await create_invite(uow, unit, role, app.clock.now())
        await uow.commit()
    return code


def to(recorder: RecordingSender, chat_id: str) -> list[Outbound]:
    """Return what was delivered to one chat."""
    return [m for m in recorder.sent if m.key.chat_id == chat_id]


class Officer:
    """An officer with a private console chat, who may also press buttons in a group."""

    def __init__(self, dispatcher: Dispatcher, app: App, clock: FrozenClock, name: str) -> None:
        self.private = Conversation(dispatcher, clock, app.catalogue, name)
        self.name = name

    async def join(self, code: str) -> list[str]:
        """Send `gabung CODE` in the private chat, with a display name."""
        inbound = dataclasses.replace(self.private.inbound(f"gabung {code}"), sender_name=f"Pak {self.name}")
        return await self.private.send(inbound)

    async def press(self, where: Conversation, choice: str, group: bool = True) -> list[str]:
        """Press a button in a chat (a group by default) as this officer."""
        inbound = dataclasses.replace(where.inbound("x"), text=None, choice=choice, sender_id=self.name, group=group)
        return await where.send(inbound)


@pytest.fixture
def group(app: App, dispatcher: Dispatcher, clock: FrozenClock) -> Conversation:
    """Return the DPUPR officers' group chat."""
    return Conversation(dispatcher, clock, app.catalogue, "group-dpupr")


def in_group(conversation: Conversation, line: str, sender: str) -> Inbound:
    """Return a line typed in a group chat by a member."""
    return dataclasses.replace(conversation.inbound(line), group=True, sender_id=sender)


async def setup_dpupr(app: App, dispatcher: Dispatcher, clock: FrozenClock, group: Conversation) -> Officer:
    """Register an officer of DPUPR and link its group."""
    officer = Officer(dispatcher, app, clock, "andi")
    assert await officer.join(await invite(app, "DPUPR")) == ["staff.join.ok"]
    assert await group.send(in_group(group, f"/hubungkan {await invite(app, 'DPUPR')}", "andi")) == ["staff.link.ok"]
    return officer


async def test_invites_are_single_use_and_expire(app: App, dispatcher: Dispatcher, clock: FrozenClock) -> None:
    """An invite works once; a used or expired code is refused."""
    code = await invite(app, "DINKES")
    first = Officer(dispatcher, app, clock, "sari")
    assert await first.join(code) == ["staff.join.ok"]
    assert "Dinas Kesehatan" in first.private.last_texts[0]
    second = Officer(dispatcher, app, clock, "rudi")
    assert await second.join(code) == ["staff.invite_invalid"]
    late = await invite(app, "DINKES")
    clock.advance(timedelta(hours=73))
    assert await second.join(late) == ["staff.invite_invalid"]
    assert await second.join("NOTACODE") == ["staff.invite_invalid"]


async def test_group_chatter_is_ignored(group: Conversation) -> None:
    """In a group the bot answers only officers' commands and buttons, not conversation."""
    assert await group.send(in_group(group, "selamat pagi semua", "someone")) == []
    assert await group.send(in_group(group, "/start", "someone")) == []
    assert await group.send(in_group(group, "/gabung ABC", "someone")) == []


async def test_full_handling_with_info_request_and_resolution(
    app: App,
    dispatcher: Dispatcher,
    clock: FrozenClock,
    group: Conversation,
    citizen: Conversation,
    recorder: RecordingSender,
    tmp_path: Path,
) -> None:
    """The group gets the complaint; an officer accepts, asks for info, gets the answer, resolves with a photo."""
    officer = await setup_dpupr(app, dispatcher, clock, group)
    await citizen.verify(FILE_NAMED)
    code = citizen.last[0].params["code"]
    posted = to(recorder, "group-dpupr")[-1]
    assert posted.text_key == "staff.new"
    assert posted.params["reporter"] == "Budi Santoso (081234567890)"
    assert [c.id for c in posted.choices] == [f"cmd:st {a} {code}" for a in ("acc", "info", "reply", "xfer", "done")]

    assert await officer.press(group, f"cmd:st acc {code}") == ["staff.accepted"]
    assert to(recorder, citizen.key.chat_id)[-1].text_key == "update.accepted"

    assert await officer.press(group, f"cmd:st info {code}") == ["staff.continue_private"]
    assert to(recorder, "andi")[-1].text_key == "staff.info.ask"
    assert await officer.private.say("Di depan SD nomor berapa tepatnya?") == ["staff.info.sent"]
    question = to(recorder, citizen.key.chat_id)[-1]
    assert question.text_key == "update.info_requested"
    assert question.params["question"] == "Di depan SD nomor berapa tepatnya?"

    pressed = dataclasses.replace(citizen.inbound("x"), text=None, choice=question.choices[0].id)
    assert await citizen.send(pressed) == ["answer.ask"]
    assert await citizen.say("SD Negeri 12, Jl. Sudirman") == ["answer.thanks"]
    assert to(recorder, "group-dpupr")[-1].params["answer"] == "SD Negeri 12, Jl. Sudirman"

    assert await officer.press(officer.private, f"cmd:st done {code}", group=False) == ["staff.done.ask"]
    assert await officer.private.say("Lubang sudah ditambal dengan aspal") == ["staff.done.photos"]
    photo = tmp_path / "selesai.jpg"
    photo.write_bytes(jpeg_with_gps())
    assert await officer.private.say(f"/foto {photo}") == ["staff.done.received"]
    assert await officer.private.say("Kirim") == ["staff.done.sent"]
    resolved = to(recorder, citizen.key.chat_id)[-1]
    assert resolved.text_key == "update.resolved"
    (evidence,) = resolved.files
    assert not evidence.path.startswith("drafts/")
    assert exif_of(app.attachments.path_of(evidence.path).read_bytes()) == {}

    assert await citizen.say(f"status {code}") == ["status.detail"]
    async with app.uow() as uow:
        complaint = await uow.complaints.by_code(code)
        assert complaint is not None
        history = await uow.complaints.history(complaint.id)
    assert complaint.status is ComplaintStatus.SELESAI
    assert [e.kind for e in history] == [
        EventKind.FILED,
        EventKind.ACCEPTED,
        EventKind.INFO_REQUESTED,
        EventKind.INFO_PROVIDED,
        EventKind.RESOLVED,
    ]
    assert await officer.press(group, f"cmd:st acc {code}") == ["staff.wrong_status"]


async def test_officers_of_other_units_and_strangers_are_refused(
    app: App, dispatcher: Dispatcher, clock: FrozenClock, group: Conversation, citizen: Conversation
) -> None:
    """Only the routed OPD's officers (and city admins) can act; others are refused and nothing changes."""
    await setup_dpupr(app, dispatcher, clock, group)
    await citizen.verify(FILE_NAMED)
    code = citizen.last[0].params["code"]
    health = Officer(dispatcher, app, clock, "sari")
    assert await health.join(await invite(app, "DINKES")) == ["staff.join.ok"]
    stranger = Officer(dispatcher, app, clock, "orang")
    for who in (health, stranger):
        for action in ("acc", "info", "reply", "xfer", "done"):
            assert await who.press(group, f"cmd:st {action} {code}") == ["staff.not_allowed"]
    admin = Officer(dispatcher, app, clock, "admin")
    assert await admin.join(await invite(app, "BAG-ORGANISASI", StaffRole.ADMIN)) == ["staff.join.ok"]
    assert await admin.press(admin.private, f"cmd:st acc {code}", group=False) == ["staff.accepted"]
    async with app.uow() as uow:
        complaint = await uow.complaints.by_code(code)
        assert complaint is not None
        history = await uow.complaints.history(complaint.id)
    assert [e.kind for e in history] == [EventKind.FILED, EventKind.ACCEPTED]


async def test_transfer_to_another_opd(
    app: App,
    dispatcher: Dispatcher,
    clock: FrozenClock,
    group: Conversation,
    citizen: Conversation,
    recorder: RecordingSender,
) -> None:
    """'Bukan wewenang' moves the complaint to the chosen OPD, which gets it with the reason; the citizen is told."""
    officer = await setup_dpupr(app, dispatcher, clock, group)
    health = Officer(dispatcher, app, clock, "sari")
    assert await health.join(await invite(app, "DINKES")) == ["staff.join.ok"]
    await citizen.verify(FILE_NAMED)
    code = citizen.last[0].params["code"]
    assert await officer.press(group, f"cmd:st xfer {code}") == ["staff.continue_private"]
    assert await officer.private.say("Dinas Kesehatan") == ["staff.xfer.reason"]
    assert await officer.private.say("Ini soal genangan yang jadi sarang nyamuk") == ["staff.xfer.done"]
    received = [m.text_key for m in to(recorder, "sari")]
    assert received[-2:] == ["staff.new_transferred", "staff.transfer_note"]
    assert to(recorder, citizen.key.chat_id)[-1].text_key == "update.transferred"
    assert await health.press(health.private, f"cmd:st acc {code}", group=False) == ["staff.accepted"]
    assert await officer.press(group, f"cmd:st acc {code}") == ["staff.not_allowed"]


async def test_transfer_back_to_the_city_admin(
    app: App, dispatcher: Dispatcher, clock: FrozenClock, group: Conversation, citizen: Conversation
) -> None:
    """Sending a complaint back to the city admin leaves it waiting for disposition."""
    officer = await setup_dpupr(app, dispatcher, clock, group)
    await citizen.verify(FILE_NAMED)
    code = citizen.last[0].params["code"]
    assert await officer.press(officer.private, f"cmd:st xfer {code}", group=False) == ["staff.xfer.ask"]
    assert await officer.private.say("1") == ["staff.xfer.reason"]
    assert await officer.private.say("Bukan jalan kota, ini jalan provinsi") == ["staff.xfer.done"]
    async with app.uow() as uow:
        complaint = await uow.complaints.by_code(code)
        admin = await uow.units.city_admin()
    assert complaint is not None and admin is not None
    assert (complaint.status, complaint.unit_id) == (ComplaintStatus.PERLU_DISPOSISI, admin.id)


async def test_reply_and_queue(
    app: App,
    dispatcher: Dispatcher,
    clock: FrozenClock,
    group: Conversation,
    citizen: Conversation,
    recorder: RecordingSender,
) -> None:
    """A reply reaches the citizen; `antrian` lists open complaints oldest first in the group and privately."""
    officer = await setup_dpupr(app, dispatcher, clock, group)
    await citizen.verify(FILE_NAMED)
    code = citizen.last[0].params["code"]
    assert await group.send(in_group(group, "/antrian", "andi")) == ["staff.queue"]
    assert code in group.last_texts[0]
    assert await officer.press(group, f"cmd:st reply {code}") == ["staff.continue_private"]
    assert await officer.private.say("x") == ["staff.text_length", "staff.reply.ask"]
    assert await officer.private.say("Tim kami akan meninjau lokasi besok pagi") == ["staff.reply.sent"]
    assert to(recorder, citizen.key.chat_id)[-1].params["text"] == "Tim kami akan meninjau lokasi besok pagi"
    assert await officer.private.say("antrian") == ["staff.queue"]
    outsider = Conversation(dispatcher, clock, app.catalogue, "outsider")
    assert await outsider.say("antrian") == ["staff.not_allowed"]


async def test_citizen_cannot_answer_someone_elses_question(
    app: App, dispatcher: Dispatcher, clock: FrozenClock, group: Conversation, citizen: Conversation
) -> None:
    """`jawab CODE` works only for the complaint's own reporter, and only while a question is open."""
    await setup_dpupr(app, dispatcher, clock, group)
    await citizen.verify(FILE_NAMED)
    code = citizen.last[0].params["code"]
    assert await citizen.say(f"jawab {code}") == ["answer.not_waiting"]
    other = Conversation(dispatcher, clock, app.catalogue, "other-citizen")
    assert await other.say(f"jawab {code}") == ["status.not_found"]
