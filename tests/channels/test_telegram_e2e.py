"""End to end: real python-telegram-bot over real HTTP to the fake Bot API, by long polling and by webhook.

Each test runs the product as `poll` and `serve` do (runtime.running: inbox, dispatcher, outbox pump, retry loop)
and acts as Telegram users through the fake: a citizen in a private chat, officers in private chats and in the
OPD's group. Nothing waits by sleeping: every step waits for what the bot sends (with a timeout).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
import telegram
from fakes.serving import serve_app
from fakes.telegram_server import Chat, FakeBotApi, User
from pydantic import SecretStr

from suarawarga.bootstrap import App
from suarawarga.bot.channels.telegram import Limits, TelegramChannel
from suarawarga.bot.messages import ChannelName, OutboxStatus
from suarawarga.cli.main import build_parser
from suarawarga.cli.run import cmd_poll, cmd_process, cmd_serve
from suarawarga.complaints.handling import create_invite
from suarawarga.complaints.model import ComplaintStatus, EventKind, StaffRole
from suarawarga.runtime import Running, running, web_app
from tests.support.clock import FrozenClock
from tests.support.images import heic_with_gps, jpeg_with_gps, same_picture_without_metadata
from tests.support.ports import free_port

JSON = dict[str, Any]
CITIZEN = User(5001, "Budi", last_name="Santoso", language_code="id")
NEIGHBOUR = User(5002, "Rina", language_code="id")
OFFICER = User(6001, "Andi", last_name="Pratama", language_code="id")
HEALTH_OFFICER = User(6002, "Sari", language_code="id")
GROUP = Chat.group(-100777, "DPUPR Pengaduan")
FAST = Limits(per_second=1000, private_burst=1000, private_per_second=1000, group_per_minute=1000)
SECRET = "webhook_Secret-123"
ROAD_PHOTO = jpeg_with_gps((64, 48))
FIXED_PHOTO = heic_with_gps((48, 64))  # an iPhone's evidence photo
SENDS = ("sendMessage", "sendPhoto", "sendDocument")
CODE = re.compile(r"PDG-[A-Z0-9]{6}")


class Screen:
    """What one chat was sent by the bot, read in order."""

    def __init__(self, api: FakeBotApi, chat_id: int) -> None:
        self.api = api
        self.chat_id = chat_id
        self.seen = 0

    def all(self) -> list[JSON]:
        """Return every message (not edits) the bot sent to the chat."""
        return [r for r in self.api.sent(self.chat_id) if r["method"] in SENDS]

    async def expect(self, fragment: str) -> JSON:
        """Wait for the next message whose text contains `fragment` (skipping others) and return it."""

        def found() -> bool:
            return any(fragment in (r["text"] or r["caption"] or "") for r in self.all()[self.seen :])

        try:
            await self.api.wait_for(found, within=10)
        except TimeoutError:
            texts = [r["text"] for r in self.all()[self.seen :]]
            raise AssertionError(f"chat {self.chat_id} never got {fragment!r}; it got {texts}") from None
        for index, record in enumerate(self.all()[self.seen :], self.seen):
            if fragment in (record["text"] or record["caption"] or ""):
                self.seen = index + 1
                return record
        raise AssertionError("unreachable")

    async def photo(self) -> JSON:
        """Wait for the next photo sent to the chat and return it."""
        await self.api.wait_for(lambda: any(r["method"] == "sendPhoto" for r in self.all()[self.seen :]), within=10)
        for index, record in enumerate(self.all()[self.seen :], self.seen):
            if record["method"] == "sendPhoto":
                self.seen = index + 1
                return record
        raise AssertionError("unreachable")


@dataclass
class World:
    """The product running against the fake Bot API, and the people using it."""

    app: App
    api: FakeBotApi
    channel: TelegramChannel
    run: Running
    webhook_url: str = ""
    screens: dict[int, Screen] = field(default_factory=dict)

    def screen(self, chat_id: int) -> Screen:
        """Return the screen of a chat."""
        return self.screens.setdefault(chat_id, Screen(self.api, chat_id))

    def text(self, key: str, **params: str) -> str:
        """Return a catalogue text as the bot would show it in Indonesian (the prefix before any gap if no params)."""
        if params:
            return self.app.catalogue.render(key, "id", params)
        return self.app.catalogue.raw(key, "id").split("{", 1)[0].strip()

    def press(self, user: User, chat: Chat | None, data: str) -> str:
        """Press the button with callback data `data` on the newest bot message in the chat that has it."""
        chat_id = chat.id if chat else user.id
        for record in reversed(self.screen(chat_id).all()):
            message = self.api.message(chat_id, record["message_id"])
            rows = (message or {}).get("reply_markup", {}).get("inline_keyboard", [])
            if any(b.get("callback_data") == data for row in rows for b in row):
                return self.api.user_presses_button(user, chat, record["message_id"], data)
        raise AssertionError(f"no button {data!r} in chat {chat_id}")

    async def invite(self, unit: str, role: StaffRole = StaffRole.OFFICER) -> str:
        """Create an invite code as `suarawarga staff invite` does."""
        async with self.app.uow() as uow:
            code, _, _ = await create_invite(uow, unit, role, self.app.clock.now())
            await uow.commit()
        return code


@contextlib.asynccontextmanager
async def product(app: App, mode: str, limits: Limits = FAST, client: str = "httpx") -> AsyncIterator[World]:
    """Run the product against a fresh fake Bot API, receiving updates by `mode` ('poll' or 'webhook').

    `client` is the Bot API client (SUARAWARGA_TELEGRAM_REQUEST: 'httpx' or 'tuned').
    """
    async with FakeBotApi() as api:
        channel = TelegramChannel.connect(
            api.token,
            api.root_url,
            catalogue=app.catalogue,
            attachments=app.attachments,
            clock=app.clock,
            webhook_secret=SECRET,
            limits=limits,
            request=client,
        )
        async with running(app, [channel]) as run:
            if mode == "poll":
                await channel.delete_webhook()
                poller = asyncio.create_task(channel.poll(run.inbox.accept, wait=5))
                try:
                    yield World(app, api, channel, run)
                finally:
                    poller.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await poller
            else:
                async with serve_app(web_app(run)) as url:
                    await channel.set_webhook(f"{url}/telegram")
                    yield World(app, api, channel, run, webhook_url=f"{url}/telegram")
                    await channel.delete_webhook()


async def connect_staff(world: World) -> None:
    """An officer joins DPUPR in a private chat and links the OPD's group."""
    api, officer = world.api, world.screen(OFFICER.id)
    api.user_sends_command(OFFICER, None, "gabung", await world.invite("DPUPR"))
    await officer.expect(world.text("staff.join.ok"))
    api.add_chat(GROUP)
    api.user_sends_command(OFFICER, GROUP, "hubungkan", await world.invite("DPUPR"), mention_bot=True)
    await world.screen(GROUP.id).expect(world.text("staff.link.ok"))


async def file_complaint(world: World, citizen: User = CITIZEN, *, photo: bytes | None = ROAD_PHOTO) -> str:
    """Walk a citizen through the complaint flow with buttons, a location, a photo and a shared contact."""
    api, me = world.api, world.screen(citizen.id)
    api.user_sends_command(citizen, None, "start")
    await me.expect(world.text("menu.welcome"))
    world.press(citizen, None, "cmd:pengaduan")
    await me.expect(world.text("privacy.notice"))
    world.press(citizen, None, "consent:yes")
    await me.expect(world.text("complaint.category.ask"))
    world.press(citizen, None, "cat:jalan_rusak")
    await me.expect(world.text("complaint.description.ask"))
    api.user_sends_text(citizen, None, "Jalan di depan SD 12 berlubang besar & <berbahaya>")
    await me.expect(world.text("complaint.location.ask"))
    keyboard = api.reply_keyboard(citizen.id)
    assert keyboard is not None
    assert keyboard["keyboard"][0][0].get("request_location") is True
    api.user_shares_location(citizen, None, -0.94712, 100.41723)
    await me.expect(world.text("complaint.kecamatan.ask"))
    world.press(citizen, None, "kec:KEC-PADANG-BARAT")
    await me.expect(world.text("complaint.photos.ask"))
    if photo is not None:
        api.user_sends_photo(citizen, None, photo)
        await me.expect(world.text("complaint.photos.received"))
    world.press(citizen, None, "photos:done")
    await me.expect(world.text("complaint.identity.ask"))
    world.press(citizen, None, "id:named")
    await me.expect(world.text("complaint.name.ask"))
    api.user_sends_text(citizen, None, citizen.first_name + " Santoso")
    await me.expect(world.text("complaint.contact.ask"))
    api.user_shares_contact(citizen, None, "+6281234567890")
    summary = await me.expect(world.text("complaint.summary"))
    assert "berlubang besar & <berbahaya>" in summary["text"]  # escaped for HTML, shown verbatim
    world.press(citizen, None, "confirm:send")
    filed = await me.expect(world.text("complaint.filed").split(" {")[0])
    found = CODE.search(filed["text"])
    assert found is not None
    return found.group(0)


async def history(app: App, code: str) -> tuple[ComplaintStatus, list[EventKind]]:
    """Return a complaint's status and the kinds of its events."""
    async with app.uow() as uow:
        complaint = await uow.complaints.by_code(code)
        assert complaint is not None
        events = await uow.complaints.history(complaint.id)
    return complaint.status, [e.kind for e in events]


async def outbox_states(app: App, chat_id: int) -> dict[str, list[str]]:
    """Return the delivery states of the outbox messages to a Telegram chat, by text key."""
    found: dict[str, list[str]] = {}
    async with app.uow() as uow:
        for state in await uow.outbox.for_recipient(ChannelName.TELEGRAM, str(chat_id)):
            found.setdefault(state.message.text_key, []).append(state.status)
    return found


# ------------------------------------------------------------------------------------------- the full story


@pytest.mark.parametrize(("mode", "client"), [("poll", "httpx"), ("webhook", "httpx"), ("webhook", "tuned")])
async def test_complaint_from_filing_to_resolution(app: App, mode: str, client: str) -> None:
    """A citizen files with a photo and location; the OPD group handles it; the citizen sees every step.

    Once more on the tuned Bot API client: uploads, downloads, edits and callback answers all go through it.
    """
    async with product(app, mode, client=client) as world:
        api = world.api
        citizen, officer, group = world.screen(CITIZEN.id), world.screen(OFFICER.id), world.screen(GROUP.id)
        await connect_staff(world)
        code = await file_complaint(world)
        unit = "Dinas Pekerjaan Umum dan Penataan Ruang"

        posted = await group.expect(world.text("staff.new").split(" {")[0])
        assert code in posted["text"]
        assert "Budi Santoso (+6281234567890)" in posted["text"]
        actions = [b["callback_data"] for row in posted["reply_markup"]["inline_keyboard"] for b in row]
        assert actions == [f"cmd:st {a} {code}" for a in ("acc", "info", "reply", "xfer", "done")]
        evidence = await group.photo()
        assert same_picture_without_metadata(evidence["files"][0]["data"], ROAD_PHOTO)

        world.press(OFFICER, GROUP, f"cmd:st acc {code}")
        await group.expect(world.text("staff.accepted", code=code, officer="Andi Pratama"))
        await citizen.expect(world.text("update.accepted", code=code, unit=unit))

        world.press(OFFICER, GROUP, f"cmd:st info {code}")
        await group.expect(world.text("staff.continue_private", officer="Andi Pratama", code=code))
        await officer.expect(world.text("staff.info.ask", code=code))
        api.user_sends_text(OFFICER, None, "Di depan SD nomor berapa tepatnya?")
        await officer.expect(world.text("staff.info.sent", code=code))
        question = await citizen.expect("Di depan SD nomor berapa tepatnya?")
        assert [b["callback_data"] for row in question["reply_markup"]["inline_keyboard"] for b in row] == [
            f"cmd:jawab {code}"
        ]

        world.press(CITIZEN, None, f"cmd:jawab {code}")
        await citizen.expect(world.text("answer.ask", code=code, question="Di depan SD nomor berapa tepatnya?"))
        api.user_sends_text(CITIZEN, None, "SD Negeri 12, Jl. Sudirman")
        await citizen.expect(world.text("answer.thanks", code=code))
        await group.expect(world.text("staff.info_answer", code=code, text="│ SD Negeri 12, Jl. Sudirman"))

        world.press(OFFICER, GROUP, f"cmd:st done {code}")
        await officer.expect(world.text("staff.done.ask", code=code))
        api.user_sends_text(OFFICER, None, "Lubang sudah ditambal dengan aspal")
        await officer.expect(world.text("staff.done.photos"))
        api.user_sends_document(OFFICER, None, FIXED_PHOTO, file_name="IMG_0412.HEIC", mime_type="image/heic")
        await officer.expect(world.text("staff.done.received"))
        world.press(OFFICER, None, "evidence:send")
        await officer.expect(world.text("staff.done.sent", code=code))
        await citizen.expect("Lubang sudah ditambal dengan aspal")
        proof = await citizen.photo()
        assert same_picture_without_metadata(proof["files"][0]["data"], FIXED_PHOTO)

        api.user_sends_text(CITIZEN, None, f"status {code}")
        status = await citizen.expect(f"Pengaduan {code}\nStatus:")
        for line in ("diterima OPD", "Di depan SD nomor berapa tepatnya?", "Lubang sudah ditambal"):
            assert line in status["text"]

        assert await history(app, code) == (
            ComplaintStatus.SELESAI,
            [
                EventKind.FILED,
                EventKind.ACCEPTED,
                EventKind.INFO_REQUESTED,
                EventKind.INFO_PROVIDED,
                EventKind.RESOLVED,
            ],
        )
        # Every update was acknowledged and stored exactly once; every callback query was answered.
        await api.wait_updates_consumed()
        queries = [c[1]["callback_query_id"] for c in api.calls if c[0] == "answerCallbackQuery"]
        assert len(queries) == len(set(queries)) == sum(1 for c in api.calls if c[0] == "answerCallbackQuery")
        assert all(api.callback_answer(q) is not None for q in queries)


async def test_officer_of_another_opd_is_refused(app: App) -> None:
    """An officer of another OPD pressing a complaint's button in the group is refused and nothing changes."""
    async with product(app, "poll") as world:
        await connect_staff(world)
        world.api.user_sends_command(HEALTH_OFFICER, None, "gabung", await world.invite("DINKES"))
        await world.screen(HEALTH_OFFICER.id).expect(world.text("staff.join.ok"))
        code = await file_complaint(world, photo=None)
        group = world.screen(GROUP.id)
        await group.expect(code)
        for action in ("acc", "done"):
            world.press(HEALTH_OFFICER, GROUP, f"cmd:st {action} {code}")
            await group.expect(world.text("staff.not_allowed"))
        assert world.screen(HEALTH_OFFICER.id).all()[-1]["text"].startswith(world.text("staff.join.ok"))
        assert await history(app, code) == (ComplaintStatus.DITERIMA, [EventKind.FILED])
        world.press(OFFICER, GROUP, f"cmd:st acc {code}")  # the buttons still work for the right OPD
        await group.expect(world.text("staff.accepted", code=code, officer="Andi Pratama"))


# ------------------------------------------------------------------------------------------- webhook safety


async def test_forged_webhook_is_refused_and_repeats_change_nothing(app: App, clock: FrozenClock) -> None:
    """Without the secret the webhook answers 403 and stores nothing; the same update twice acts once."""
    async with product(app, "webhook") as world, httpx.AsyncClient() as http:
        url = world.webhook_url
        update = {
            "update_id": 900001,
            "message": {
                "message_id": 1,
                "date": 1700000000,
                "chat": {"id": NEIGHBOUR.id, "type": "private", "first_name": NEIGHBOUR.first_name},
                "from": NEIGHBOUR.to_json(),
                "text": "/start",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            },
        }
        world.api.private_chat(NEIGHBOUR)
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "guess"}):
            forged = await http.post(url, json=update, headers=headers)
            assert forged.status_code == 403
        async with app.uow() as uow:
            assert await uow.inbox.counts() == {}

        real = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        assert (await http.post(url, json=update, headers=real)).status_code == 200
        neighbour = world.screen(NEIGHBOUR.id)
        await neighbour.expect(world.text("menu.welcome"))
        assert (await http.post(url, json=update, headers=real)).status_code == 200  # Telegram retried it
        accepted_again = await world.run.inbox.accept(ChannelName.TELEGRAM, "900001", update)  # or a poller did
        assert accepted_again is False
        await world.run.inbox.drain()
        await world.run.pump.drain()
        async with app.uow() as uow:
            assert sum((await uow.inbox.counts()).values()) == 1
        assert len(neighbour.all()) == 1
        assert await outbox_states(app, NEIGHBOUR.id) == {"menu.welcome": [OutboxStatus.SENT.value]}


# ------------------------------------------------------------------------------------------- sending trouble


async def test_429_burst_delays_without_loss_or_duplicates(app: App, clock: FrozenClock) -> None:
    """Short 429s are waited out; a long one sends the chat's messages back to the outbox, delivered later in order."""
    async with product(app, "poll") as world:
        api, me = world.api, world.screen(CITIZEN.id)
        api.fail_next("sendMessage", 2, retry_after=1)
        api.user_sends_command(CITIZEN, None, "start")
        await me.expect(world.text("menu.welcome"))
        assert api.rate_limit_hits == 2
        assert len(me.all()) == 1

        async def pending() -> int:
            states = await outbox_states(app, CITIZEN.id)
            return sum(s.count(OutboxStatus.PENDING.value) for s in states.values())

        api.fail_next("sendMessage", 1, retry_after=40)
        api.user_sends_text(CITIZEN, None, "bantuan")  # help text + menu: the first gets the 429
        api.user_sends_text(CITIZEN, None, "menu")  # another menu, which must not overtake them
        await eventually(lambda: pending_is(pending, 3))
        # Stored is not yet tried: let the turn and the pump finish, or the clock jumps past a hold they still need.
        await world.run.inbox.drain()
        await world.run.pump.drain()
        assert await pending() == 3
        assert api.rate_limit_hits == 3
        assert len(me.all()) == 1

        clock.advance(timedelta(seconds=45))
        await world.app.delivery().deliver_due()
        await eventually(lambda: pending_is(pending, 0))
        render = world.app.catalogue.render
        expected = [render(key, "id") for key in ("menu.welcome", "help.text", "menu.intro", "menu.intro")]
        assert [r["text"] for r in me.all()] == expected  # each exactly once, in order
        assert await outbox_states(app, CITIZEN.id) == {
            "menu.welcome": ["sent"],
            "help.text": ["sent"],
            "menu.intro": ["sent", "sent"],
        }


async def pending_is(count: Callable[[], Awaitable[int]], expected: int) -> bool:
    """Tell whether the async count equals the expected value."""
    return await count() == expected


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    """Poll a condition in the database (which has no change events) until it holds, failing after `within` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def test_blocked_citizen_does_not_stall_the_queue(app: App) -> None:
    """A citizen who blocked the bot gets 'unreachable' messages; everyone else is served as usual."""
    async with product(app, "poll") as world:
        await connect_staff(world)
        code = await file_complaint(world, photo=None)
        await world.screen(GROUP.id).expect(code)
        world.api.block_user(CITIZEN.id)
        world.press(OFFICER, GROUP, f"cmd:st acc {code}")
        await world.screen(GROUP.id).expect(world.text("staff.accepted", code=code, officer="Andi Pratama"))
        world.api.user_sends_command(NEIGHBOUR, None, "start")
        await world.screen(NEIGHBOUR.id).expect(world.text("menu.welcome"))
        await world.run.pump.drain()
        states = await outbox_states(app, CITIZEN.id)
        assert states["update.accepted"] == [OutboxStatus.UNREACHABLE.value]
        assert states["complaint.filed"] == [OutboxStatus.SENT.value]
        assert await history(app, code) == (ComplaintStatus.DIPROSES, [EventKind.FILED, EventKind.ACCEPTED])


# ------------------------------------------------------------------------------------------- the commands


def configure(app: App, api: FakeBotApi, **extra: Any) -> None:
    """Point the app's settings at the fake Bot API."""
    values: dict[str, Any] = {"telegram_token": SecretStr(api.token), "telegram_api_url": api.root_url}
    values |= {k: SecretStr(v) if k.endswith("secret") else v for k, v in extra.items()}
    app.settings = app.settings.model_copy(update=values)


async def run_command(command: Callable[[App, argparse.Namespace], Any], app: App, *words: str) -> asyncio.Task[int]:
    """Start a CLI command as a task, with arguments parsed as the command line would."""
    args = build_parser().parse_args([*words, "--no-setup"])
    return asyncio.create_task(command(app, args))


async def stop(task: asyncio.Task[int]) -> None:
    """Stop a long-running command as Ctrl-C would (the task is cancelled and cleans up)."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_poll_command_answers_a_citizen(app: App) -> None:
    """`suarawarga poll` removes a webhook, long-polls, stores and answers."""
    async with FakeBotApi() as api:
        configure(app, api)
        async with telegram.Bot(api.token, base_url=api.base_url) as bot:
            await bot.set_webhook("https://old.example/telegram")
        task = await run_command(cmd_poll, app, "poll")
        api.user_sends_command(CITIZEN, None, "start")
        await Screen(api, CITIZEN.id).expect("Selamat datang")
        assert api.webhook is None

        async def stored_and_done() -> bool:
            async with app.uow() as uow:
                return await uow.inbox.counts() == {"done": 1}

        await eventually(stored_and_done)
        await stop(task)


async def test_serve_command_sets_the_webhook_and_answers(app: App) -> None:
    """`suarawarga serve --set-webhook` listens, registers PUBLIC_URL/telegram with the secret, and answers."""
    async with FakeBotApi() as api:
        port = free_port()
        configure(app, api, telegram_webhook_secret=SECRET, public_url=f"http://127.0.0.1:{port}")
        task = await run_command(cmd_serve, app, "serve", "--port", str(port), "--set-webhook")
        await api.wait_for(lambda: api.webhook is not None, within=10)
        assert api.webhook is not None
        assert (api.webhook.url, api.webhook.secret_token) == (f"http://127.0.0.1:{port}/telegram", SECRET)
        api.user_sends_command(CITIZEN, None, "start")
        await Screen(api, CITIZEN.id).expect("Selamat datang")
        async with httpx.AsyncClient() as http:
            health = await http.get(f"http://127.0.0.1:{port}/healthz")
        assert health.json() == {"status": "ok"}
        await stop(task)


async def test_split_layout_acknowledges_in_one_process_and_answers_from_another(app: App) -> None:
    """`serve --accept-only` stores and acknowledges but never answers; `process` answers what was stored, in order."""
    async with FakeBotApi() as api:
        port = free_port()
        configure(app, api, telegram_webhook_secret=SECRET, public_url=f"http://127.0.0.1:{port}")
        web = await run_command(cmd_serve, app, "serve", "--port", str(port), "--set-webhook", "--accept-only")
        await api.wait_for(lambda: api.webhook is not None, within=10)
        api.user_sends_command(CITIZEN, None, "start")
        api.user_sends_text(CITIZEN, None, "1")  # the menu's first entry, typed

        def inbox_is(counts: dict[str, int]) -> Callable[[], Awaitable[bool]]:
            async def check() -> bool:
                async with app.uow() as uow:
                    return await uow.inbox.counts() == counts

            return check

        await eventually(inbox_is({"pending": 2}))
        await asyncio.sleep(0.2)  # time enough for an answer, had the accepting process processed anything
        assert api.sent(CITIZEN.id) == []
        worker = await run_command(cmd_process, app, "process")
        screen = Screen(api, CITIZEN.id)
        await screen.expect("Selamat datang")
        await screen.expect(world_text(app, "privacy.notice"))
        await eventually(inbox_is({"done": 2}))
        await stop(worker)
        await stop(web)


def world_text(app: App, key: str) -> str:
    """Return the start of a catalogue text in Indonesian (up to its first parameter)."""
    return app.catalogue.raw(key, "id").split("{", 1)[0].strip()


async def test_split_layout_commands_refuse_what_they_cannot_do(app: App, capsys: pytest.CaptureFixture[str]) -> None:
    """`serve --accept-only` takes no shard (it stores every chat); `process` needs a configured channel."""
    async with FakeBotApi() as api:
        configure(app, api, telegram_webhook_secret=SECRET)
        args = build_parser().parse_args(["serve", "--no-setup", "--accept-only", "--shard", "1/2"])
        assert await cmd_serve(app, args) == 2
        assert "--shard" in capsys.readouterr().err
    app.settings = app.settings.model_copy(update={"telegram_token": None, "whatsapp_token": None})
    assert await cmd_process(app, build_parser().parse_args(["process", "--no-setup"])) == 2
    assert "no channel" in capsys.readouterr().err


async def test_serve_refuses_telegram_without_a_secret(app: App, capsys: pytest.CaptureFixture[str]) -> None:
    """`serve` will not expose a Telegram webhook without a (valid) secret; `poll` needs a token."""
    async with FakeBotApi() as api:
        configure(app, api)
        args = build_parser().parse_args(["serve", "--no-setup"])
        assert await cmd_serve(app, args) == 2
        assert "SUARAWARGA_TELEGRAM_WEBHOOK_SECRET" in capsys.readouterr().err
        configure(app, api, telegram_webhook_secret="not allowed: spaces")
        assert await cmd_serve(app, args) == 2
        assert "SUARAWARGA_TELEGRAM_WEBHOOK_SECRET" in capsys.readouterr().err
        app.settings = app.settings.model_copy(update={"telegram_token": None})
        assert await cmd_poll(app, build_parser().parse_args(["poll", "--no-setup"])) == 2


@pytest.mark.parametrize(("command", "mentions"), [("poll", "TELEGRAM"), ("serve", "TELEGRAM"), ("process", "shard")])
def test_commands_have_help(command: str, mentions: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`poll --help`, `serve --help` and `process --help` describe the command."""
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([command, "--help"])
    assert exit_info.value.code == 0
    assert mentions in capsys.readouterr().out
