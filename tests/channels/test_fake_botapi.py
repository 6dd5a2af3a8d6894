"""The fake Bot API behaves like Telegram for real python-telegram-bot 22 clients over HTTP."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import telegram
from fakes.serving import serve_app
from fakes.telegram_server import Chat, FakeBotApi, User
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Conflict, Forbidden, RetryAfter
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

ALICE = User(1001, "Alice", "alice")
BOB = User(1002, "Bob")
PHOTO = bytes(range(256)) * 8


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's timedelta periods so RetryAfter does not emit a deprecation warning."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    """A running fake Bot API."""
    async with FakeBotApi() as fake:
        yield fake


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[telegram.Bot]:
    """A real PTB bot pointed at the fake."""
    async with telegram.Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url) as client:
        yield client


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """A raw HTTP client for requests PTB would never produce."""
    async with httpx.AsyncClient() as client:
        yield client


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    """One inline button per row from (label, callback_data) pairs."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(text, callback_data=data)] for text, data in pairs])


async def test_get_me(bot: telegram.Bot, api: FakeBotApi) -> None:
    """getMe returns the fake bot's identity."""
    me = await bot.get_me()
    assert me.is_bot
    assert me.username == api.bot_user.username
    assert me.id == 123456789


async def test_send_message_with_inline_keyboard(bot: telegram.Bot, api: FakeBotApi) -> None:
    """sendMessage stores the message and its keyboard and logs it per chat."""
    chat = api.private_chat(ALICE)
    sent = await bot.send_message(chat.id, "Pilih layanan:", reply_markup=keyboard(("Aduan", "c:new")))
    assert sent.chat.id == ALICE.id
    assert sent.reply_markup == keyboard(("Aduan", "c:new"))
    record = api.last_sent(chat.id)
    assert record["method"] == "sendMessage"
    assert record["text"] == "Pilih layanan:"
    assert record["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "c:new"
    stored = api.message(chat.id, sent.message_id)
    assert stored is not None
    assert stored["reply_markup"] == record["reply_markup"]


@pytest.mark.parametrize("encoding", ["query", "form", "json", "multipart"])
async def test_every_request_encoding_is_accepted(api: FakeBotApi, http: httpx.AsyncClient, encoding: str) -> None:
    """Parameters are read from the query string, urlencoded, JSON and multipart bodies."""
    chat = api.private_chat(ALICE)
    url = f"{api.base_url}{api.token}/SENDMESSAGE"
    params = {"chat_id": str(chat.id), "text": "halo", "disable_notification": "true"}
    if encoding == "query":
        response = await http.get(url, params=params)
    elif encoding == "form":
        response = await http.post(url, data=params)
    elif encoding == "json":
        response = await http.post(url, json={"chat_id": chat.id, "text": "halo", "disable_notification": True})
    else:
        response = await http.post(url, data=params, files={"unused": ("x.bin", b"x")})
    assert response.status_code == 200, response.text
    assert response.json()["result"]["text"] == "halo"


async def test_missing_required_field_is_rejected(api: FakeBotApi, http: httpx.AsyncClient) -> None:
    """A sendMessage without text gets Telegram's 400 error shape."""
    chat = api.private_chat(ALICE)
    response = await http.post(f"{api.base_url}{api.token}/sendMessage", json={"chat_id": chat.id})
    assert response.status_code == 400
    assert response.json() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: message text is empty",
    }
    response = await http.post(f"{api.base_url}{api.token}/sendMessage", json={"text": "x"})
    assert response.json()["description"] == "Bad Request: chat_id is empty"


@pytest.mark.parametrize(
    ("payload", "description"),
    [
        ({"chat_id": {"id": 1}, "text": "x"}, 'parameter "chat_id" must be of type Integer or String'),
        ({"chat_id": 1001, "text": "x", "disable_notification": "maybe"}, '"disable_notification"'),
        ({"chat_id": 1001, "text": "x", "reply_markup": "{not json"}, "can't parse reply keyboard markup"),
        (
            {"chat_id": 1001, "text": "x", "reply_markup": {"inline_keyboard": [[{"text": "a"}]]}},
            "Text buttons are unallowed",
        ),
        (
            {"chat_id": 1001, "text": "x", "reply_markup": {"inline_keyboard": [[{"text": 5, "url": "u"}]]}},
            'field "text" must be of type String',
        ),
        ({"chat_id": 1001, "text": "<b>x</i>", "parse_mode": "HTML"}, "can't parse entities"),
        ({"chat_id": 1001, "text": "a < b", "parse_mode": "HTML"}, "can't parse entities"),
        ({"chat_id": 1001, "text": "x" * 4097}, "message is too long"),
        ({"chat_id": 1001, "text": "<b> </b>", "parse_mode": "HTML"}, "message text is empty"),
        ({"chat_id": 4242, "text": "x"}, "chat not found"),
    ],
)
async def test_invalid_values_are_rejected(
    api: FakeBotApi, http: httpx.AsyncClient, payload: dict[str, Any], description: str
) -> None:
    """Wrong types, bad keyboards, bad HTML, over-long text and unknown chats answer 400."""
    api.private_chat(ALICE)
    response = await http.post(f"{api.base_url}{api.token}/sendMessage", json=payload)
    body = response.json()
    assert (response.status_code, body["ok"], body["error_code"]) == (400, False, 400)
    assert description in body["description"]


async def test_html_length_counts_visible_text(bot: telegram.Bot, api: FakeBotApi) -> None:
    """With parse_mode=HTML the 4096 limit applies to the text without tags and entities."""
    chat = api.private_chat(ALICE)
    await bot.send_message(chat.id, "<b>" + "&amp;" * 4096 + "</b>", parse_mode="HTML")
    assert api.last_sent(chat.id)["text"] == "&" * 4096
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(chat.id, "<i>" + "x" * 4097 + "</i>", parse_mode="HTML")


async def test_callback_data_longer_than_64_bytes_is_rejected(bot: telegram.Bot, api: FakeBotApi) -> None:
    """callback_data must be 1-64 bytes, counted in UTF-8."""
    chat = api.private_chat(ALICE)
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(chat.id, "x", reply_markup=keyboard(("a", "é" * 33)))


async def test_wrong_token_and_unknown_method(api: FakeBotApi, http: httpx.AsyncClient) -> None:
    """A wrong token answers 401, an unknown method 404, both in Telegram's error shape."""
    wrong = await http.post(f"{api.base_url}999:WRONG/getMe")
    assert wrong.status_code == 401
    assert wrong.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    unknown = await http.post(f"{api.base_url}{api.token}/sendTelepathy")
    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_get_updates_offset_limit_and_long_poll(bot: telegram.Bot, api: FakeBotApi) -> None:
    """Updates below the offset are confirmed and dropped; a long poll wakes on a new update."""
    for text in ("satu", "dua", "tiga"):
        api.user_sends_text(ALICE, None, text)
    first = await bot.get_updates()
    assert [u.message.text for u in first if u.message] == ["satu", "dua", "tiga"]
    assert len(await bot.get_updates()) == 3  # nothing confirmed yet
    assert len(await bot.get_updates(limit=2)) == 2
    rest = await bot.get_updates(offset=first[1].update_id + 1)
    assert [u.update_id for u in rest] == [first[2].update_id]
    assert await bot.get_updates(offset=first[2].update_id + 1) == ()
    assert api.pending_updates() == []

    poll = asyncio.create_task(bot.get_updates(offset=first[2].update_id + 1, timeout=10))
    await asyncio.sleep(0.2)
    assert not poll.done()
    api.user_sends_command(ALICE, None, "start")
    woke = await asyncio.wait_for(poll, timeout=2)
    assert woke[0].message is not None
    assert woke[0].message.text == "/start"
    assert woke[0].message.entities[0].type == "bot_command"


async def test_button_press_produces_callback_query(bot: telegram.Bot, api: FakeBotApi) -> None:
    """Pressing a button on the bot's message yields a callback_query the bot can answer."""
    chat = api.private_chat(ALICE)
    sent = await bot.send_message(chat.id, "Puas?", reply_markup=keyboard(("Ya", "ikm:5"), ("Tidak", "ikm:1")))
    with pytest.raises(ValueError, match=r"(?i)not on message"):
        api.user_presses_button(ALICE, chat, sent.message_id, "ikm:3")
    query_id = api.user_presses_button(ALICE, chat, sent.message_id, "ikm:5")
    (update,) = await bot.get_updates()
    assert update.callback_query is not None
    assert update.callback_query.id == query_id
    assert update.callback_query.data == "ikm:5"
    assert update.callback_query.from_user.id == ALICE.id
    assert api.callback_answer(query_id) is None
    await update.callback_query.answer("Terima kasih")
    answer = api.callback_answer(query_id)
    assert answer is not None
    assert answer["text"] == "Terima kasih"
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query_id)


async def test_edit_message_text_and_keyboard(bot: telegram.Bot, api: FakeBotApi) -> None:
    """Edits change the stored message; an identical edit is "message is not modified"."""
    chat = api.private_chat(ALICE)
    sent = await bot.send_message(chat.id, "Pilih", reply_markup=keyboard(("A", "a")))
    await bot.edit_message_reply_markup(chat.id, sent.message_id, reply_markup=keyboard(("B", "b")))
    stored = api.message(chat.id, sent.message_id)
    assert stored is not None
    assert stored["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "b"
    edited = await bot.edit_message_text("Dipilih: B", chat.id, sent.message_id)
    assert isinstance(edited, telegram.Message)
    assert edited.text == "Dipilih: B"
    assert "reply_markup" not in stored
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("Dipilih: B", chat.id, sent.message_id)
    assert await bot.delete_message(chat.id, sent.message_id)
    assert api.message(chat.id, sent.message_id) is None
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat.id, sent.message_id)


async def test_photo_upload_and_download_round_trip(bot: telegram.Bot, api: FakeBotApi) -> None:
    """Uploaded photos (by bot or user) download byte-for-byte through getFile."""
    chat = api.private_chat(ALICE)
    sent = await bot.send_photo(chat.id, photo=PHOTO, caption="Bukti")
    record = api.last_sent(chat.id)
    assert record["caption"] == "Bukti"
    assert record["files"][0]["source"] == "upload"
    assert record["files"][0]["data"] == PHOTO
    bot_file = await bot.get_file(sent.photo[-1].file_id)
    assert bytes(await bot_file.download_as_bytearray()) == PHOTO

    update = api.user_sends_photo(ALICE, chat, data=b"user photo bytes", caption="jalan rusak")
    sizes = update["message"]["photo"]
    assert len(sizes) == 2
    assert sizes[0]["width"] < sizes[1]["width"]
    user_file = await bot.get_file(sizes[-1]["file_id"])
    assert user_file.file_path is not None
    assert user_file.file_path.endswith(".jpg")
    assert bytes(await user_file.download_as_bytearray()) == b"user photo bytes"

    await bot.send_photo(chat.id, photo=sizes[-1]["file_id"])
    assert api.last_sent(chat.id)["files"][0]["source"] == "file_id"
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_photo(chat.id, photo="NO-SUCH-FILE")


async def test_document_upload_and_other_user_messages(bot: telegram.Bot, api: FakeBotApi) -> None:
    """Documents, voice notes, locations and contacts arrive as proper PTB objects."""
    chat = api.private_chat(ALICE)
    await bot.send_document(chat.id, document=b"%PDF-1.4", filename="laporan.pdf")
    assert api.last_sent(chat.id)["files"][0]["filename"] == "laporan.pdf"
    api.user_sends_document(ALICE, chat, b"data", file_name="ktp.pdf")
    api.user_sends_voice(ALICE, chat, b"OggS")
    api.user_shares_location(ALICE, chat, -6.2, 106.8)
    api.user_shares_contact(ALICE, chat, "+62811000111")
    group = api.add_chat(Chat.group(-100, "Warga RT 01"))
    api.user_sends_command(BOB, group, "lapor", "lampu mati", mention_bot=True)
    messages = [u.message for u in await bot.get_updates() if u.message]
    assert messages[0].document is not None
    assert messages[0].document.file_name == "ktp.pdf"
    assert messages[1].voice is not None
    assert bytes(await (await messages[1].voice.get_file()).download_as_bytearray()) == b"OggS"
    assert messages[2].location is not None
    assert messages[2].location.latitude == -6.2
    assert messages[3].contact is not None
    assert messages[3].contact.user_id == ALICE.id
    assert messages[4].chat.type == "group"
    assert messages[4].text == "/lapor@suarawarga_test_bot lampu mati"
    by_url = await bot.send_document(chat.id, document="https://example.org/files/perda.pdf")
    assert by_url.document is not None
    assert by_url.document.file_name == "perda.pdf"
    assert api.last_sent(chat.id)["files"][0]["source"] == "url"


async def test_ptb_application_polling_round_trip(api: FakeBotApi) -> None:
    """A PTB Application long-polls the fake, answers a command and a button press."""

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Reply with a one-button keyboard."""
        assert update.effective_message is not None
        await update.effective_message.reply_text("Halo!", reply_markup=keyboard(("Lanjut", "next")))

    async def press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer the button and edit the message."""
        assert update.callback_query is not None
        await update.callback_query.answer("Oke")
        await update.callback_query.edit_message_text("Selesai")

    app = Application.builder().token(api.token).base_url(api.base_url).base_file_url(api.base_file_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(press))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=10)
        api.user_sends_command(ALICE, None, "start")
        (reply,) = await api.wait_sent(ALICE.id)
        assert reply["text"] == "Halo!"
        query_id = api.user_presses_button(ALICE, None, reply["message_id"], "next")
        edits = await api.wait_sent(ALICE.id, method="editMessageText")
        assert edits[0]["text"] == "Selesai"
        assert api.callback_answer(query_id) == {"callback_query_id": query_id, "text": "Oke"}
        await app.updater.stop()
        await app.stop()
    assert api.pending_updates() == []


async def test_injected_429_surfaces_as_retry_after(bot: telegram.Bot, api: FakeBotApi) -> None:
    """fail_next makes PTB raise RetryAfter with the given delay, then calls succeed again."""
    chat = api.private_chat(ALICE)
    api.fail_next("sendMessage", 1, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(chat.id, "halo")
    assert caught.value.retry_after == dtm.timedelta(seconds=7)
    assert api.rate_limit_hits == 1
    await bot.send_message(chat.id, "halo")
    assert [r["text"] for r in api.sent(chat.id)] == ["halo"]


async def test_flood_limits_when_enforced() -> None:
    """With enforce_limits: a short burst then 1 msg/s per private chat, 20 msg/min per group."""
    async with (
        FakeBotApi(enforce_limits=True) as api,
        telegram.Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url) as bot,
    ):
        chat = api.private_chat(ALICE)
        for i in range(5):
            await bot.send_message(chat.id, f"pesan {i}")
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(chat.id, "satu lagi")
        assert caught.value.retry_after == dtm.timedelta(seconds=1)
        await bot.send_chat_action(chat.id, "typing")  # chat actions are not counted
        group = api.add_chat(Chat.group(-300, "RW 05"))
        for i in range(20):
            await bot.send_message(group.id, f"pengumuman {i}")
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(group.id, "satu lagi")
        assert caught.value.retry_after in (dtm.timedelta(seconds=59), dtm.timedelta(seconds=60))
        assert api.rate_limit_hits == 2


async def test_blocked_user_raises_forbidden(bot: telegram.Bot, api: FakeBotApi) -> None:
    """Sending to a user who blocked the bot raises telegram.error.Forbidden."""
    chat = api.private_chat(ALICE)
    api.block_user(ALICE.id)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(chat.id, "halo")
    api.unblock_user(ALICE.id)
    await bot.send_message(chat.id, "halo")


async def test_set_my_commands_and_get_chat(bot: telegram.Bot, api: FakeBotApi) -> None:
    """Commands are stored (and validated); getChat answers a minimal ChatFullInfo."""
    await bot.set_my_commands([("start", "Mulai"), ("lapor", "Buat aduan")])
    assert [c["command"] for c in api.commands()] == ["start", "lapor"]
    assert [c.command for c in await bot.get_my_commands()] == ["start", "lapor"]
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([("Bad Command", "x")])
    group = api.add_chat(Chat.group(-200, "Kelurahan"))
    info = await bot.get_chat(group.id)
    assert info.title == "Kelurahan"
    assert info.type == "group"


async def test_webhook_delivery_posts_with_secret_header(bot: telegram.Bot, api: FakeBotApi) -> None:
    """A set webhook receives each update with the secret header; failures are retried."""
    received: list[tuple[str | None, dict[str, Any]]] = []
    attempts = 0

    async def hook(request: Request) -> Response:
        """Fail the first delivery, record the rest."""
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            return Response(status_code=500)
        received.append((request.headers.get("x-telegram-bot-api-secret-token"), json.loads(await request.body())))
        return Response()

    async with serve_app(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as url:
        api.user_sends_text(ALICE, None, "sebelum webhook")
        assert await bot.set_webhook(f"{url}/hook", secret_token="rahasia_123", drop_pending_updates=True)
        update = api.user_sends_text(ALICE, None, "halo")
        await api.wait_for(lambda: bool(received))
        assert received == [("rahasia_123", update)]
        assert attempts == 2
        info = await bot.get_webhook_info()
        assert info.url == f"{url}/hook"
        assert info.pending_update_count == 0
        assert info.last_error_message == "Wrong response from the webhook: 500"
        with pytest.raises(Conflict):
            await bot.get_updates()
        assert await bot.delete_webhook()
    assert await bot.get_updates() == ()
