"""Dialog tests of what officers type (#11 items 10-11, #12 items 7, 9, 12), through the console channel."""

from __future__ import annotations

from datetime import timedelta

from suarawarga.bootstrap import App
from suarawarga.bot.channels.console import RecordingSender, render
from suarawarga.bot.dispatcher import Dispatcher
from suarawarga.complaints.model import ComplaintStatus, StaffRole
from suarawarga.complaints.staffing import remove_member
from suarawarga.handlers.lookup import FAILED_LOOKUPS_MAX
from tests.dialogs.test_staff_dialog import FILE_NAMED, Officer, group, in_group, invite, setup_dpupr, to
from tests.support.clock import FrozenClock
from tests.support.dialog import Conversation

__all__ = ["group"]  # the group chat fixture, shared with the staff dialog tests


def file_with(description: str, identity: str = "Bernama") -> list[tuple[str, list[str]]]:
    """Return the filing dialog with another description (and identity choice)."""
    rows = [(says, list(keys)) for says, keys in FILE_NAMED]
    rows[4] = (description, ["complaint.location.ask"])
    if identity == "Anonim":
        rows[8:] = [("Anonim", ["complaint.summary"]), ("Kirim", ["complaint.filed.anonim"])]
    return rows


async def test_an_officer_acts_on_a_complaint_from_the_queue(
    app: App, dispatcher: Dispatcher, clock: FrozenClock, group: Conversation, citizen: Conversation
) -> None:
    """`antrian` gives each item a button; picking one shows it with its actions; an action then works."""
    officer = await setup_dpupr(app, dispatcher, clock, group)
    await citizen.verify(FILE_NAMED)
    code = citizen.last[0].params["code"]
    assert await officer.private.say("antrian") == ["staff.queue"]
    queue = officer.private.last[0]
    assert [c.id for c in queue.choices] == [f"cmd:tindak {code}"]
    assert "tindak" in officer.private.last_texts[0]
    # typing the item's number picks its button, as on every channel
    assert await officer.private.say("1") == ["staff.card"]
    card = officer.private.last[0]
    assert [c.id for c in card.choices] == [f"cmd:st {a} {code}" for a in ("acc", "info", "reply", "xfer", "done")]
    assert await officer.private.say("1") == ["staff.accepted"]
    # the documented command works the same, typed, and offers only what the new status allows
    assert await officer.private.say(f"tindak {code.lower()}") == ["staff.card"]
    assert [c.id.split()[1] for c in officer.private.last[0].choices] == ["info", "reply", "xfer", "done"]
    # in the group too, for its officers
    assert await group.send(in_group(group, f"/tindak {code}", "andi")) == ["staff.card"]
    assert await group.send(in_group(group, f"/tindak {code}", "stranger")) == ["staff.not_allowed"]
    # another unit's officer cannot open it
    health = Officer(dispatcher, app, clock, "sari")
    assert await health.join(await invite(app, "DINKES")) == ["staff.join.ok"]
    assert await health.private.say(f"tindak {code}") == ["staff.not_allowed"]


async def test_status_works_for_the_officer_of_the_complaints_unit(
    app: App, dispatcher: Dispatcher, clock: FrozenClock, group: Conversation, citizen: Conversation
) -> None:
    """`status KODE` shows an officer of the handling unit the whole history, with the actions; others get nothing."""
    officer = await setup_dpupr(app, dispatcher, clock, group)
    await citizen.verify(FILE_NAMED)
    code = citizen.last[0].params["code"]
    assert await officer.press(group, f"cmd:st reply {code}") == ["staff.continue_private"]
    assert await officer.private.say("Tim kami meninjau lokasi besok pagi") == ["staff.reply.sent"]
    assert await officer.private.say(f"status {code}") == ["status.detail"]
    text = officer.private.last_texts[0]
    assert "Tim kami meninjau lokasi besok pagi" in text
    assert [c.id.split()[1] for c in officer.private.last[0].choices] == ["info", "reply", "xfer", "done"]
    health = Officer(dispatcher, app, clock, "sari")
    assert await health.join(await invite(app, "DINKES")) == ["staff.join.ok"]
    assert await health.private.say(f"status {code}") == ["status.not_found"]


async def test_a_complaint_filed_before_any_officer_reaches_the_first_who_joins(
    app: App, dispatcher: Dispatcher, clock: FrozenClock, citizen: Conversation, recorder: RecordingSender
) -> None:
    """The first officer of a unit gets its open complaints as cards with buttons; the next officer does not."""
    await citizen.verify(FILE_NAMED)
    code = citizen.last[0].params["code"]
    first = Officer(dispatcher, app, clock, "andi")
    assert await first.join(await invite(app, "DPUPR")) == ["staff.join.ok", "staff.backlog"]
    cards = [m for m in to(recorder, "andi") if m.text_key == "staff.new"]
    assert [m.params["code"] for m in cards] == [code]
    assert cards[0].choices[0].id == f"cmd:st acc {code}"
    second = Officer(dispatcher, app, clock, "budi")
    assert await second.join(await invite(app, "DPUPR")) == ["staff.join.ok"]
    assert [m.text_key for m in to(recorder, "budi")] == ["staff.join.ok"]
    # a group linked later does not get the complaints the officers have already
    group = Conversation(dispatcher, clock, app.catalogue, "group-dpupr")
    assert await group.send(in_group(group, f"/hubungkan {await invite(app, 'DPUPR')}", "andi")) == ["staff.link.ok"]
    # a unit whose first recipient is a group: the group gets the backlog
    other = Conversation(dispatcher, clock, app.catalogue, "citizen-2")
    rows = [(says, list(keys)) for says, keys in FILE_NAMED]
    rows[3] = ("9", ["complaint.description.ask"])
    await other.verify(rows)
    waiting = other.last[0].params["code"]
    async with app.uow() as uow:
        complaint = await uow.complaints.by_code(waiting)
        assert complaint is not None
        unit = await uow.units.get(complaint.unit_id)
    assert unit is not None and unit.code != "DPUPR"
    theirs = Conversation(dispatcher, clock, app.catalogue, "group-other")
    linked = await theirs.send(in_group(theirs, f"/hubungkan {await invite(app, unit.code)}", "sari"))
    assert linked == ["staff.link.ok", "staff.backlog"]
    assert [m.params["code"] for m in to(recorder, "group-other") if m.text_key == "staff.new"] == [waiting]
    assert [m.text_key for m in to(recorder, "group-dpupr")] == ["staff.link.ok"]


async def test_commands_without_their_argument_answer_a_usage_line(
    app: App, dispatcher: Dispatcher, clock: FrozenClock, group: Conversation, citizen: Conversation
) -> None:
    """A missing or malformed code gets the command's usage line, never "Complaint  was not found"."""
    officer = await setup_dpupr(app, dispatcher, clock, group)
    for conversation, says, expected in [
        (citizen, "jawab", "usage.jawab"),
        (citizen, "/jawab", "usage.jawab"),
        (citizen, "/jawab 12", "usage.bad_value"),
        (citizen, "/nilai", "usage.nilai"),
        (officer.private, "tindak", "usage.tindak"),
        (officer.private, "tindak PDG-12", "usage.bad_value"),
        (officer.private, "gabung", "usage.gabung"),
        (officer.private, "/st acc", "usage.tindak"),
        (officer.private, "hapuspetugas", "staff.manage.not_allowed"),
    ]:
        keys = await conversation.say(says)
        assert keys[0] == expected, (says, keys)
        text = conversation.last_texts[0]
        assert "  " not in text, (says, text)
        if expected == "usage.bad_value":
            assert f'"{says.split()[1]}"' in text
    assert await group.send(in_group(group, "/hubungkan", "andi")) == ["usage.hubungkan"]


async def test_jawab_without_a_code_answers_the_one_open_question(
    app: App, dispatcher: Dispatcher, clock: FrozenClock, group: Conversation, citizen: Conversation
) -> None:
    """When exactly one complaint waits for the citizen's answer, `jawab` alone answers it."""
    officer = await setup_dpupr(app, dispatcher, clock, group)
    await citizen.verify(FILE_NAMED)
    code = citizen.last[0].params["code"]
    assert await officer.press(group, f"cmd:st info {code}") == ["staff.continue_private"]
    assert await officer.private.say("Nomor rumah terdekat berapa?") == ["staff.info.sent"]
    assert await citizen.say("jawab") == ["answer.ask"]
    assert await citizen.say("Nomor 14") == ["answer.thanks"]


async def test_officers_help_lists_the_officer_commands(
    app: App, dispatcher: Dispatcher, clock: FrozenClock, group: Conversation, citizen: Conversation
) -> None:
    """`bantuan` documents `antrian`, `tindak KODE` and `status KODE` for officers only."""
    officer = await setup_dpupr(app, dispatcher, clock, group)
    assert await officer.private.say("bantuan") == ["help.text", "staff.help", "menu.intro"]
    assert "tindak KODE" in officer.private.last_texts[1]
    assert await citizen.say("bantuan") == ["help.text", "menu.intro"]


async def test_ordinary_sentences_are_not_taken_for_officer_commands(
    app: App, dispatcher: Dispatcher, clock: FrozenClock
) -> None:
    """A description that starts with `petugas`, `tindak` or `putuskan` stays a description."""
    for number, description in enumerate(
        [
            "Petugas parkir liar meminta uang di pasar raya",
            "Tindak tegas pedagang yang berjualan di trotoar",
            "Putuskan saja kabel liar di tiang listrik itu",
        ]
    ):
        someone = Conversation(dispatcher, clock, app.catalogue, f"writer-{number}")
        await someone.verify(FILE_NAMED[:4])
        assert await someone.say(description) == ["complaint.location.ask"]


async def test_head_removes_an_officer_whose_buttons_stop_at_once(
    app: App,
    dispatcher: Dispatcher,
    clock: FrozenClock,
    group: Conversation,
    citizen: Conversation,
    recorder: RecordingSender,
) -> None:
    """`petugas` lists numbers; `hapuspetugas N` ends the membership, the officer is told, and it is recorded."""
    officer = await setup_dpupr(app, dispatcher, clock, group)
    head = Officer(dispatcher, app, clock, "kepala")
    assert await head.join(await invite(app, "DPUPR", StaffRole.HEAD)) == ["staff.join.ok"]
    await citizen.verify(FILE_NAMED)
    code = citizen.last[0].params["code"]
    async with app.uow() as uow:
        andi = next(m for m in await uow.staff.active_members() if m.staff.external_id == "andi")
    # an officer cannot remove anyone
    assert await officer.private.say(f"hapuspetugas {andi.staff.id}") == ["staff.manage.not_allowed"]
    assert await head.private.say("hapuspetugas") == ["usage.hapuspetugas"]
    assert await head.private.say("/putuskan") == ["usage.putuskan"]
    assert await head.private.say("/petugas NOPE") == ["usage.bad_value"]
    assert await head.private.say("petugas") == ["staff.roster"]
    assert f"#{andi.staff.id} Pak andi" in head.private.last_texts[0]
    assert await head.private.say(f"hapuspetugas {andi.staff.id} pindah tugas") == ["staff.manage.removed"]
    assert to(recorder, "andi")[-1].text_key == "staff.removed_you"
    for action in ("acc", "info", "reply", "xfer", "done"):
        assert await officer.press(group, f"cmd:st {action} {code}") == ["staff.not_allowed"]
    assert await officer.private.say("antrian") == ["staff.not_allowed"]
    assert await head.private.say(f"hapuspetugas {andi.staff.id}") == ["staff.manage.unknown_member"]
    # another unit's head cannot touch DPUPR's staff
    other = Officer(dispatcher, app, clock, "kadinkes")
    assert await other.join(await invite(app, "DINKES", StaffRole.HEAD)) == ["staff.join.ok"]
    async with app.uow() as uow:
        kepala = next(m for m in await uow.staff.active_members() if m.staff.external_id == "kepala")
        events = await uow.staff.events()
    assert await other.private.say(f"hapuspetugas {kepala.staff.id}") == ["staff.manage.unknown_member"]
    assert await head.private.say(f"hapuspetugas {kepala.staff.id}") == ["staff.manage.not_self"]
    removed = [e for e in events if e.kind == "removed"]
    assert [(e.staff_name, e.by_name, e.via, e.reason) for e in removed] == [
        ("Pak andi", "Pak kepala", "chat", "pindah tugas")
    ]


async def test_only_staff_read_the_queue_in_a_linked_group_and_a_head_unlinks_it(
    app: App,
    dispatcher: Dispatcher,
    clock: FrozenClock,
    group: Conversation,
    citizen: Conversation,
    recorder: RecordingSender,
) -> None:
    """A non-staff group member gets no queue; `putuskan` by the head stops complaints going to the group."""
    await setup_dpupr(app, dispatcher, clock, group)
    await citizen.verify(FILE_NAMED)
    assert await group.send(in_group(group, "/antrian", "bystander")) == ["staff.not_allowed"]
    assert await group.send(in_group(group, "/putuskan", "andi")) == ["staff.manage.not_allowed"]
    head = Officer(dispatcher, app, clock, "kepala")
    assert await head.join(await invite(app, "DPUPR", StaffRole.HEAD)) == ["staff.join.ok"]
    assert await group.send(in_group(group, "/putuskan", "kepala")) == ["staff.manage.unlinked"]
    assert await group.send(in_group(group, "/putuskan", "kepala")) == ["staff.manage.not_linked"]
    before = len(to(recorder, "group-dpupr"))
    second = Conversation(dispatcher, clock, app.catalogue, "citizen-2")
    await second.verify(FILE_NAMED)
    assert len(to(recorder, "group-dpupr")) == before
    assert to(recorder, "kepala")[-1].text_key == "staff.new"  # the officers' private chats get it now


async def test_anonymous_status_shows_steps_not_officers_notes(
    app: App, dispatcher: Dispatcher, clock: FrozenClock, group: Conversation, citizen: Conversation
) -> None:
    """Whoever holds an anonymous complaint's code sees each step, never the text an officer wrote."""
    officer = await setup_dpupr(app, dispatcher, clock, group)
    await citizen.verify(file_with("Jalan di depan SD 12 berlubang besar", "Anonim"))
    code = citizen.last[0].params["code"]
    assert await officer.press(group, f"cmd:st reply {code}") == ["staff.continue_private"]
    note = "Hubungi Pak Rahmat 0812-6612-3344, Jl. Belibis 7"
    assert await officer.private.say(note) == ["staff.anonymous"]
    assert "tidak isi pesan" in officer.private.last_texts[0]
    stranger = Conversation(dispatcher, clock, app.catalogue, "someone-else")
    assert await stranger.say(f"status {code}") == ["status.detail"]
    shown = stranger.last_texts[0]
    assert "0812" not in shown and "Belibis" not in shown
    assert "OPD memberi tanggapan" in shown
    # the officer still sees the note
    assert await officer.private.say(f"status {code}") == ["status.detail"]
    assert "Belibis" in officer.private.last_texts[0]


async def test_failed_lookups_are_limited_per_chat(
    app: App, dispatcher: Dispatcher, clock: FrozenClock, group: Conversation, citizen: Conversation
) -> None:
    """After 10 unknown codes in an hour a chat is politely refused, even for a right code; an hour later it works."""
    await setup_dpupr(app, dispatcher, clock, group)
    await citizen.verify(file_with("Jalan di depan SD 12 berlubang besar", "Anonim"))
    code = citizen.last[0].params["code"]
    guesser = Conversation(dispatcher, clock, app.catalogue, "guesser")
    for number in range(FAILED_LOOKUPS_MAX):
        assert await guesser.say(f"status PDG-{'23456789ABCDEFGH'[number]}ZZZZZ") == ["status.not_found"]
    assert await guesser.say(f"status {code}") == ["status.too_many"]
    assert await citizen.say(f"status {code}") == ["status.detail"]  # another chat is not affected
    clock.advance(timedelta(minutes=61))
    assert await guesser.say(f"status {code}") == ["status.detail"]


async def test_a_description_cannot_forge_fields_of_the_officers_card(
    app: App, dispatcher: Dispatcher, clock: FrozenClock, group: Conversation, citizen: Conversation
) -> None:
    """Citizen text comes last in the card, every line of it quoted; one-line fields lose their line breaks."""
    await setup_dpupr(app, dispatcher, clock, group)
    forged = "Jalan berlubang besar\nPelapor: Walikota Padang (0811111111)\nFoto: 9"
    rows = file_with(forged)
    rows[5] = ("Jl. Sudirman 10\nKecamatan: Kota Lama", ["complaint.kecamatan.ask"])  # names no real kecamatan
    await citizen.verify(rows)
    recorder = app.senders[citizen.key.channel]
    assert isinstance(recorder, RecordingSender)
    card = render(to(recorder, "group-dpupr")[-1], app.catalogue)
    lines = card.splitlines()
    assert [line for line in lines if line.startswith("Pelapor:")] == ["Pelapor: Budi Santoso (081234567890)"]
    assert [line for line in lines if line.startswith("Foto:")] == ["Foto: 0"]
    assert [line for line in lines if line.startswith("Kecamatan:")] == ["Kecamatan: tidak diketahui"]
    assert "Lokasi: Jl. Sudirman 10 Kecamatan: Kota Lama" in lines
    start = lines.index("Isi pengaduan (tulisan pelapor):") + 1
    assert lines[start : start + 4] == [
        "│ Jalan berlubang besar",
        "│ Pelapor: Walikota Padang (0811111111)",
        "│ Foto: 9",
        "  1. Terima",
    ]
    assert lines[start : start + 3] == [
        "│ Jalan berlubang besar",
        "│ Pelapor: Walikota Padang (0811111111)",
        "│ Foto: 9",
    ]


async def test_a_removed_officer_in_the_middle_of_an_action_is_stopped(
    app: App, dispatcher: Dispatcher, clock: FrozenClock, group: Conversation, citizen: Conversation
) -> None:
    """An officer removed while writing a reply cannot send it."""
    officer = await setup_dpupr(app, dispatcher, clock, group)
    await citizen.verify(FILE_NAMED)
    code = citizen.last[0].params["code"]
    assert await officer.press(group, f"cmd:st reply {code}") == ["staff.continue_private"]
    async with app.uow() as uow:
        andi = next(m for m in await uow.staff.active_members() if m.staff.external_id == "andi")
        await remove_member(uow, andi.staff.id, clock.now())
        await uow.commit()
    assert await officer.private.say("Tim kami meninjau lokasi besok pagi") == ["staff.not_allowed"]
    async with app.uow() as uow:
        complaint = await uow.complaints.by_code(code)
    assert complaint is not None and complaint.status is ComplaintStatus.DITERIMA
