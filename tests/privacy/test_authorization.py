"""Authorization across OPDs and roles: every staff action and listing, and what one citizen may do with another's.

The cast: officers and heads of DPUPR (unit A, where the complaint is routed) and of DINKES (unit B), the city
admin unit BAG-ORGANISASI (an admin and an officer), an ordinary citizen with a complaint of their own, and a
stranger. Each OPD has linked its group. Everyone presses every action button on a confidential complaint in
A's group and in their own chat: A's staff and the city admin unit complete the action, everyone else is
refused with nothing changed and a warning in the log that names no one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest

from suarawarga.bootstrap import App
from suarawarga.bot.channels.console import RecordingSender, console_key, render
from suarawarga.bot.dispatcher import Dispatcher
from suarawarga.complaints.model import Complaint, ComplaintEvent, ComplaintStatus, Staff, StaffRole
from suarawarga.handlers.notify import Action
from suarawarga.handlers.staff import ACTION_EVENTS
from tests.dialogs.test_staff_dialog import Officer, in_group, invite
from tests.support.clock import FrozenClock
from tests.support.dialog import Conversation

A, B, CITY = "DPUPR", "DINKES", "BAG-ORGANISASI"
ROLES = {
    "officer_a": (A, StaffRole.OFFICER),
    "head_a": (A, StaffRole.HEAD),
    "officer_b": (B, StaffRole.OFFICER),
    "head_b": (B, StaffRole.HEAD),
    "city_admin": (CITY, StaffRole.ADMIN),
    "city_officer": (CITY, StaffRole.OFFICER),
}
ALLOWED = ("officer_a", "head_a", "city_admin", "city_officer")
REFUSED = ("officer_b", "head_b", "citizen", "stranger")
ACTIONS = [action.value for action in Action]
REPORTER_NAME, REPORTER_PHONE = "Siti Aminah", "081298765432"
DESCRIPTION = "Jalan di depan SD 12 berlubang besar"


def filing(category: str, identity: str, name: str, contact: str) -> list[tuple[str, list[str]]]:
    """Return the dialog rows of filing a complaint in a category with an identity mode."""
    return [
        ("/start", ["menu.welcome"]),
        ("1", ["privacy.notice"]),
        ("1", ["privacy.thanks", "complaint.category.ask"]),
        (category, ["complaint.description.ask"]),
        (DESCRIPTION if category == "1" else "Antrean puskesmas Andalas lama sekali", ["complaint.location.ask"]),
        ("Jl. Sudirman No. 10", ["complaint.kecamatan.ask"]),
        ("Tidak tahu", ["complaint.photos.ask"]),
        ("Selesai", ["complaint.identity.ask"]),
        (identity, ["complaint.name.ask"]),
        (name, ["complaint.contact.ask"]),
        (contact, ["complaint.summary"]),
        ("Kirim", ["complaint.filed"]),
    ]


@dataclass
class Cast:
    """Everyone, the two OPD groups, and the complaints routed to A (confidential) and to B."""

    app: App
    recorder: RecordingSender
    reporter: Conversation
    people: dict[str, Officer]
    group_a: Conversation
    group_b: Conversation
    code_a: str
    code_b: str

    async def complaint(self, code: str) -> tuple[Complaint, list[ComplaintEvent]]:
        """Return a complaint as stored, with its history."""
        async with self.app.uow() as uow:
            complaint = await uow.complaints.by_code(code)
            assert complaint is not None
            return complaint, await uow.complaints.history(complaint.id)

    async def staff(self, who: str) -> list[Staff]:
        """Return the unit memberships of a person."""
        async with self.app.uow() as uow:
            return await uow.staff.memberships(self.reporter.key.channel, who)

    async def snapshot(self) -> tuple[object, ...]:
        """Return everything an action could change: both complaints, their histories, views, ratings, states."""
        a, a_history = await self.complaint(self.code_a)
        b, b_history = await self.complaint(self.code_b)
        async with self.app.uow() as uow:
            views = await uow.audit.identity_views()
            ratings = [await uow.ratings.rating(c.id, 1) for c in (a, b)]
            keys = [console_key(name) for name in (*self.people, self.reporter.key.chat_id)]
            states = await uow.conversations.load_many(keys)
        return (
            a,
            a_history,
            b,
            b_history,
            views,
            ratings,
            sorted((k.chat_id, s.flow, s.step) for k, s in states.items() if s.flow),
        )

    def sent_since(self, start: int) -> list[tuple[str, str]]:
        """Return (chat, text key) of every message sent since the recorder held `start` messages."""
        return [(m.key.chat_id, m.text_key) for m in self.recorder.sent[start:]]

    def texts_to(self, chat_id: str) -> str:
        """Return everything rendered to a chat so far."""
        return "\n".join(render(m, self.app.catalogue) for m in self.recorder.sent if m.key.chat_id == chat_id)


@pytest.fixture
async def cast(
    app: App, dispatcher: Dispatcher, clock: FrozenClock, citizen: Conversation, recorder: RecordingSender
) -> Cast:
    """Set up both OPDs with a linked group each, the city admin unit, and one complaint routed to each OPD."""
    people = {name: Officer(dispatcher, app, clock, name) for name in (*ROLES, "citizen", "stranger")}
    for name, (unit, role) in ROLES.items():
        assert await people[name].join(await invite(app, unit, role)) == ["staff.join.ok"]
    group_a = Conversation(dispatcher, clock, app.catalogue, "group-a")
    group_b = Conversation(dispatcher, clock, app.catalogue, "group-b")
    for group, unit, linker in ((group_a, A, "officer_a"), (group_b, B, "officer_b")):
        linked = await group.send(in_group(group, f"/hubungkan {await invite(app, unit)}", linker))
        assert linked == ["staff.link.ok"]
    await citizen.verify(filing("1", "Rahasia", REPORTER_NAME, REPORTER_PHONE))
    code_a = citizen.last[0].params["code"]
    other = people["citizen"].private
    await other.verify(filing("Layanan kesehatan dan puskesmas", "Bernama", "Rina Marlina", "082211113333"))
    code_b = other.last[0].params["code"]
    return Cast(app, recorder, citizen, people, group_a, group_b, code_a, code_b)


# ------------------------------------------------------------------------------------------- staff actions


async def finish(cast: Cast, person: Officer, action: str) -> None:
    """Complete an action the officer started from a button, in their private chat."""
    private = person.private
    if action == "info":
        assert await private.say("Di depan SD nomor berapa tepatnya?") == ["staff.info.sent"]
    elif action == "reply":
        assert await private.say("Tim kami akan meninjau lokasi besok pagi") == ["staff.reply.sent"]
    elif action == "xfer":
        assert await private.say("Dinas Kesehatan") == ["staff.xfer.reason"]
        assert await private.say("Ini soal genangan yang jadi sarang nyamuk") == ["staff.xfer.done"]
    elif action == "done":
        assert await private.say("Lubang sudah ditambal dengan aspal") == ["staff.done.photos"]
        assert await private.say("Kirim") == ["staff.done.sent"]


@pytest.mark.parametrize("action", ACTIONS)
async def test_the_routed_opd_and_the_city_admin_unit_may_take_the_action(cast: Cast, action: str) -> None:
    """A's officer and head, and the city admin unit's admin and officer, each complete it on a complaint of A's."""
    for who in ALLOWED:
        reporter = Conversation(cast.reporter.dispatcher, cast.reporter.clock, cast.app.catalogue, f"reporter-{who}")
        await reporter.verify(filing("1", "Rahasia", REPORTER_NAME, REPORTER_PHONE))
        code = reporter.last[0].params["code"]
        person = cast.people[who]
        answer = {"acc": "staff.accepted", "who": "staff.identity.sent_private"}.get(action, "staff.continue_private")
        assert await person.press(cast.group_a, f"cmd:st {action} {code}") == [answer], who
        await finish(cast, person, action)
        (staff,) = await cast.staff(who)
        complaint, history = await cast.complaint(code)
        if action == Action.IDENTITY:
            assert cast.recorder.sent[-1].key == console_key(who), who
            assert cast.recorder.sent[-1].text_key == "staff.identity", who
            assert REPORTER_NAME in render(cast.recorder.sent[-1], cast.app.catalogue), who
            async with cast.app.uow() as uow:
                views = await uow.audit.identity_views()
            assert (staff.name, code) in [(v.officer, v.complaint_code) for v in views], who
        else:
            assert (history[-1].kind, history[-1].actor_id) == (ACTION_EVENTS[Action(action)], staff.id), who
        b_unit = (await cast.complaint(cast.code_b))[0].unit_id
        assert (complaint.unit_id == b_unit) is (action == Action.TRANSFER), who


@pytest.mark.parametrize("action", ACTIONS)
async def test_everyone_else_is_refused_the_action_and_nothing_changes(
    cast: Cast, action: str, caplog: pytest.LogCaptureFixture
) -> None:
    """B's officer and head, a citizen and a stranger are refused in A's group and privately; a warning names no one."""
    for who in REFUSED:
        person = cast.people[who]
        before, start = await cast.snapshot(), len(cast.recorder.sent)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="suarawarga.handlers.staff"):
            assert await person.press(cast.group_a, f"cmd:st {action} {cast.code_a}") == ["staff.not_allowed"], who
            assert await person.press(person.private, f"cmd:st {action} {cast.code_a}", group=False) == [
                "staff.not_allowed"
            ], who
        assert await cast.snapshot() == before, who
        assert cast.sent_since(start) == [("group-a", "staff.not_allowed"), (who, "staff.not_allowed")]
        warnings = [r for r in caplog.records if r.name == "suarawarga.handlers.staff"]
        assert [r.levelno for r in warnings] == [logging.WARNING, logging.WARNING], who
        for record in warnings:
            message = record.getMessage()
            assert message.startswith(f"refused staff action on {cast.code_a} by "), message
            for personal in (who, f"Pak {who}", REPORTER_NAME, REPORTER_PHONE, DESCRIPTION, "Rina Marlina"):
                assert personal not in message


async def test_a_refused_officer_cannot_finish_an_action_started_before_a_transfer(cast: Cast) -> None:
    """Rights are checked again when the action completes: after a transfer away, A's pending reply is refused."""
    officer = cast.people["officer_a"]
    assert await officer.press(cast.group_a, f"cmd:st reply {cast.code_a}") == ["staff.continue_private"]
    head = cast.people["head_a"]
    assert await head.press(cast.group_a, f"cmd:st xfer {cast.code_a}") == ["staff.continue_private"]
    await finish(cast, head, "xfer")
    _, before = await cast.complaint(cast.code_a)
    assert await officer.private.say("Tim kami akan meninjau lokasi besok pagi") == ["staff.not_allowed"]
    assert (await cast.complaint(cast.code_a))[1] == before
    assert await cast.people["officer_b"].press(cast.group_b, f"cmd:st acc {cast.code_a}") == ["staff.accepted"]


# ------------------------------------------------------------------------------------------- listings


QUEUES = {
    "officer_a": ("staff.queue", "a"),
    "head_a": ("staff.queue", "a"),
    "officer_b": ("staff.queue", "b"),
    "head_b": ("staff.queue", "b"),
    "city_admin": ("staff.queue.empty", ""),
    "city_officer": ("staff.queue.empty", ""),
    "citizen": ("staff.not_allowed", ""),
    "stranger": ("staff.not_allowed", ""),
}


async def test_antrian_lists_only_the_officers_own_units(cast: Cast) -> None:
    """`antrian` shows an officer their own units' open complaints only; a citizen or a stranger is refused."""
    for who, (key, sees) in QUEUES.items():
        person = cast.people[who]
        assert await person.private.say("antrian") == [key], who
        text = "\n".join(person.private.last_texts)
        assert (cast.code_a in text, cast.code_b in text) == ("a" in sees, "b" in sees), who


async def test_a_groups_queue_is_its_own_units(cast: Cast) -> None:
    """`/antrian` in a linked group lists that group's unit: B's group never sees A's codes, nor A's group B's."""
    for group, member, mine, theirs in (
        (cast.group_a, "officer_a", cast.code_a, cast.code_b),
        (cast.group_b, "officer_b", cast.code_b, cast.code_a),
    ):
        assert await group.send(in_group(group, "/antrian", member)) == ["staff.queue"]
        assert mine in group.last_texts[0]
        assert theirs not in group.last_texts[0]


async def test_a_group_linked_to_b_never_receives_a_complaints(cast: Cast) -> None:
    """Through filing, questions, answers, replies, resolution and reopening, A's complaint never reaches B."""
    officer = cast.people["officer_a"]
    reporter = cast.reporter
    for action, steps in (
        ("acc", ()),
        ("info", ("Di depan SD nomor berapa tepatnya?",)),
    ):
        await officer.press(cast.group_a, f"cmd:st {action} {cast.code_a}")
        for step in steps:
            await officer.private.say(step)
    assert await reporter.say(f"jawab {cast.code_a}") == ["answer.ask"]
    assert await reporter.say("SD Negeri 12, Jl. Sudirman") == ["answer.thanks"]
    await officer.press(cast.group_a, f"cmd:st reply {cast.code_a}")
    await officer.private.say("Tim kami akan meninjau lokasi besok pagi")
    await officer.press(cast.group_a, f"cmd:st done {cast.code_a}")
    await finish(cast, officer, "done")
    assert await reporter.say(f"/nilai {cast.code_a} belum") == ["rating.reopened", "rating.ask_score"]
    assert await officer.press(cast.group_a, f"cmd:st who {cast.code_a}") == ["staff.identity.sent_private"]

    b_chats = {"group-b", "officer_b", "head_b"}
    a_chats = {"group-a", "officer_a", "head_a"}
    to_b = [m for m in cast.recorder.sent if m.key.chat_id in b_chats]
    to_a = [m for m in cast.recorder.sent if m.key.chat_id in a_chats]
    assert {m.text_key for m in to_a} >= {"staff.new", "staff.info_answer", "staff.reopened"}
    assert all(cast.code_a not in render(m, cast.app.catalogue) for m in to_b)
    assert all(REPORTER_NAME not in render(m, cast.app.catalogue) for m in to_b)
    assert any(cast.code_b in render(m, cast.app.catalogue) for m in to_b)  # B's own complaint did reach B
    assert all(cast.code_b not in render(m, cast.app.catalogue) for m in to_a)


# ------------------------------------------------------------------------------------------- citizens


async def test_a_citizen_cannot_see_answer_or_rate_someone_elses_complaint(cast: Cast) -> None:
    """Another citizen (or a stranger) gets "not found" for `status`, `jawab` and `nilai` on A's complaint."""
    officer, reporter = cast.people["officer_a"], cast.reporter
    await officer.press(cast.group_a, f"cmd:st info {cast.code_a}")
    await officer.private.say("Di depan SD nomor berapa tepatnya?")
    unknown = "PDG-ZZZZZZ"
    for who in ("citizen", "stranger", "officer_b"):
        chat = cast.people[who].private
        before = await cast.snapshot()
        assert await chat.say(f"status {unknown}") == ["status.not_found"]
        assert await chat.say(f"status {cast.code_a}") == ["status.not_found"]  # the same as an unknown code
        assert await chat.say(f"jawab {cast.code_a}") == ["status.not_found"]
        assert await cast.people[who].press(chat, f"cmd:jawab {cast.code_a}", group=False) == ["status.not_found"]
        assert await cast.snapshot() == before
    assert await reporter.say(f"jawab {cast.code_a}") == ["answer.ask"]  # the reporter can
    assert await reporter.say("SD Negeri 12, Jl. Sudirman") == ["answer.thanks"]

    await officer.press(cast.group_a, f"cmd:st done {cast.code_a}")
    await finish(cast, officer, "done")
    for who in ("citizen", "stranger", "officer_b"):
        chat = cast.people[who].private
        before = await cast.snapshot()
        for answer in ("ya", "belum", "4", "1"):
            assert await cast.people[who].press(chat, f"cmd:nilai {cast.code_a} {answer}", group=False) == [
                "status.not_found"
            ]
            assert await chat.say(f"/nilai {cast.code_a} {answer}") == ["status.not_found"]
        assert await cast.snapshot() == before
    complaint, _ = await cast.complaint(cast.code_a)
    assert complaint.status is ComplaintStatus.SELESAI
    assert await reporter.say(f"status {cast.code_a}") == ["status.detail"]  # the reporter can
    assert await reporter.say(f"/nilai {cast.code_a} ya") == ["rating.ask_score"]
    assert await reporter.say(f"/nilai {cast.code_a} 4") == ["rating.closed"]
