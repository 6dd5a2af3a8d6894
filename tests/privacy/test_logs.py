"""Full end-to-end runs at DEBUG level: the log lines written carry no token, secret, phone number, name or text.

The product is configured as `serve` configures it (`configure_logging`, uvicorn with `server_options()`, the
app's own access log) and its handler writes into a buffer, so the assertions read exactly what would reach
stderr or a log file. Every logger is at DEBUG except the few `configure_logging` itself keeps at WARNING. A
citizen and officers then use the bot on Telegram (webhook, through the fake Bot API) and on WhatsApp (signed
webhooks, Meta's verification request, a failed delivery), with distinctive names, numbers and words that must not
appear.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import uvicorn
from fakes.telegram_server import Chat, FakeBotApi, User
from fakes.whatsapp_server import PHONE_NUMBER_ID, VERSION, FakeGraphApi, WaUser
from PIL import Image
from PIL.ExifTags import Base
from pydantic import SecretStr
from starlette.types import ASGIApp

from suarawarga import logging as sw_logging
from suarawarga.bootstrap import App
from suarawarga.bot.channels.telegram import telegram_channel
from suarawarga.bot.channels.whatsapp import whatsapp_channel
from suarawarga.complaints.handling import create_invite
from suarawarga.complaints.model import StaffRole
from suarawarga.httpserver import server_options
from suarawarga.runtime import running, web_app
from tests.channels.test_telegram_e2e import CODE, FAST, World
from tests.channels.test_whatsapp_e2e import Phone
from tests.support.clock import FrozenClock
from tests.support.whatsapp import Rig

TG_TOKEN = "7654321098:AAHswPrivacyLogTestToken_9x8y7z6w5v4u"
TG_SECRET = "hook_Secret-LogTest-8c1f2e"
WA_TOKEN = "EAAGswLogTestSystemUserToken9d8e7f6a"
WA_APP_SECRET = "wa-app-secret-logtest-5b2c7d"
WA_VERIFY = "wa-verify-token-logtest-3e7a1f"

SITI = User(7001, "Siti", last_name="Aminah", language_code="id")
ANDI = User(7002, "Andi", last_name="Pratama", language_code="id")
RUDI = User(7003, "Rudi", last_name="Hartono", language_code="id")
GROUP = Chat.group(-100888, "DPUPR Pengaduan")
SITI_PHONE = "081298765432"
DESCRIPTION = "Selokan di Gang Kenanga tersumbat sampah dan meluap ke rumah warga"
QUESTION = "Rumah nomor berapa yang paling parah terdampak?"
ANSWER = "Rumah nomor 17 di samping musala Nurul Iman"
NOTE = "Selokan sudah dikeruk petugas kebersihan kemarin sore"

WA_CITIZEN = WaUser("6281377778888", "Maria Magdalena Sitompul")
WA_OFFICER = WaUser("6281366665555", "Yusuf Harahap")
WA_DESCRIPTION = "Lampu penerangan jalan di Simpang Haru mati sejak sebulan lalu"
WA_NAME = "Maria Sitompul"
WA_CONTACT = "082155554444"
WA_QUESTION = "Tiang lampu yang mana tepatnya, dekat toko apa?"
WA_ANSWER = "Tiang ketiga dari toko bangunan Sinar Jaya"

TELEGRAM_SECRETS = {
    "bot token": TG_TOKEN,
    "bot token secret part": TG_TOKEN.split(":", 1)[1],
    "webhook secret": TG_SECRET,
    "citizen's phone": SITI_PHONE,
    "citizen's phone, international": "6281298765432",
    "citizen's name": "Siti Aminah",
    "citizen's last name": "Aminah",
    "officer's name": "Andi Pratama",
    "officer's last name": "Pratama",
    "other officer's name": "Rudi Hartono",
    "other officer's last name": "Hartono",
    "complaint text": DESCRIPTION,
    "complaint words": "Gang Kenanga",
    "officer's question": QUESTION,
    "citizen's answer": ANSWER,
    "answer words": "Nurul Iman",
    "resolution note": NOTE,
}
WHATSAPP_SECRETS = {
    "access token": WA_TOKEN,
    "app secret": WA_APP_SECRET,
    "verify token": WA_VERIFY,
    "citizen's WhatsApp number": WA_CITIZEN.address,
    "citizen's number, local form": "081377778888",
    "officer's WhatsApp number": WA_OFFICER.address,
    "citizen's profile name": WA_CITIZEN.name,
    "citizen's surname": "Sitompul",
    "officer's profile name": WA_OFFICER.name,
    "officer's surname": "Harahap",
    "name typed": WA_NAME,
    "contact typed": WA_CONTACT,
    "complaint text": WA_DESCRIPTION,
    "complaint words": "Simpang Haru",
    "officer's question": WA_QUESTION,
    "citizen's answer": WA_ANSWER,
    "answer words": "Sinar Jaya",
}


# ------------------------------------------------------------------------------------------- capturing


class _NotTheFakes(logging.Filter):
    """Drop the fake platforms' own access lines (they share uvicorn's logger): in production they are not ours."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep every line but a request to the fake Bot API or Graph API."""
        args = record.args
        path = str(args[2]) if isinstance(args, tuple) and len(args) > 2 else ""
        return not path.startswith(("/bot", "/file/bot", f"/{VERSION}/", "/download/"))


@contextlib.contextmanager
def debug_log(fmt: str) -> Iterator[io.StringIO]:
    """Configure logging as the product does at DEBUG, write the real handler's output to a buffer; restore after."""
    root = logging.getLogger()
    saved_root = (root.level, root.handlers[:])
    saved = {
        name: (logger.level, logger.propagate, logger.disabled, logger.handlers[:])
        for name, logger in logging.Logger.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    sw_logging.configure_logging("DEBUG", fmt)
    (handler,) = root.handlers
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    handler.setStream(buffer)
    fakes = _NotTheFakes()
    logging.getLogger("uvicorn.access").addFilter(fakes)
    try:
        yield buffer
    finally:
        logging.getLogger("uvicorn.access").removeFilter(fakes)
        root.setLevel(saved_root[0])
        root.handlers[:] = saved_root[1]
        for name, logger in logging.Logger.manager.loggerDict.items():
            if isinstance(logger, logging.Logger):
                level, propagate, disabled, handlers = saved.get(name, (logging.NOTSET, True, False, []))
                logger.setLevel(level)
                logger.propagate, logger.disabled, logger.handlers[:] = propagate, disabled, handlers


def everything_at_debug() -> None:
    """Put every logger at DEBUG (inheriting from the root) except those configure_logging keeps quiet.

    The fake servers' uvicorn settings quiet uvicorn's loggers process-wide; `serve` leaves them at the root's
    level, so they are reset here, after every server was configured, all but uvicorn's access log, which
    `serve` turns off (`server_options`: the app writes its own, `suarawarga.access`).
    """
    for name, logger in logging.Logger.manager.loggerDict.items():
        if isinstance(logger, logging.Logger) and name not in sw_logging._QUIET:
            logger.setLevel(logging.NOTSET)
            logger.disabled = False
            logger.propagate = True
    logging.getLogger("uvicorn.access").propagate = False  # as uvicorn leaves it with access_log=False
    assert logging.getLogger("suarawarga").getEffectiveLevel() == logging.DEBUG


class _Server(uvicorn.Server):
    """uvicorn as `serve` runs it, without touching the test process's signal handlers."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Install no signal handlers."""
        yield


@contextlib.asynccontextmanager
async def serve_as_in_production(app: ASGIApp) -> AsyncIterator[str]:
    """Serve the web app with the uvicorn settings of `suarawarga serve` (the app's access log); yield its URL."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, lifespan="off", log_config=None, server_header=False, **server_options()
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("uvicorn stopped during startup")
            await asyncio.sleep(0.005)
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        await task


def leaks(written: str, secrets: dict[str, str]) -> dict[str, list[str]]:
    """Return, for each secret found in the written log, the lines that carry it."""
    lowered = written.lower()
    return {
        what: [line for line in written.splitlines() if value.lower() in line.lower()][:3]
        for what, value in secrets.items()
        if value.lower() in lowered
    }


def check(buffer: io.StringIO, fmt: str, secrets: dict[str, str], expected: list[str], canary: str) -> None:
    """Assert the log has the expected events and none of the secrets, and that it would show a leak."""
    written = buffer.getvalue()
    if fmt == "json":
        assert all(json.loads(line)["message"] for line in written.splitlines())
    for fragment in expected:
        assert fragment in written, f"{fragment!r} was not logged"
    assert leaks(written, secrets) == {}
    # The capture is real and at DEBUG: a line that does carry a name is seen (no filter can recognise names).
    logging.getLogger("suarawarga.bot").debug("canary %s", secrets[canary])
    assert canary in leaks(buffer.getvalue(), secrets)


def photo_with_owner() -> bytes:
    """Return a JPEG whose EXIF names its owner and camera, as many phones write it."""
    image = Image.new("RGB", (40, 30), (20, 120, 200))
    exif = Image.Exif()
    exif[Base.Artist] = "Siti Aminah"
    exif[Base.Model] = "Ponsel Siti Aminah"
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


OWNED_PHOTO = photo_with_owner()


# ------------------------------------------------------------------------------------------- Telegram


async def telegram_story(world: World, url: str) -> None:
    """Officers join and link a group; a citizen files a named complaint with a photo; it is handled to the end."""
    api = world.api
    me, officer, other, group = (world.screen(u.id) for u in (SITI, ANDI, RUDI, GROUP))
    api.user_sends_command(ANDI, None, "gabung", await world.invite("DPUPR"))
    await officer.expect(world.text("staff.join.ok"))
    api.user_sends_command(RUDI, None, "gabung", "SALAHKODE")  # a wrong invite code: logged as a warning
    await other.expect(world.text("staff.invite_invalid"))
    api.user_sends_command(RUDI, None, "gabung", await world.invite("DINKES"))
    await other.expect(world.text("staff.join.ok"))
    api.add_chat(GROUP)
    api.user_sends_command(ANDI, GROUP, "hubungkan", await world.invite("DPUPR"), mention_bot=True)
    await group.expect(world.text("staff.link.ok"))

    api.user_sends_command(SITI, None, "start")
    await me.expect(world.text("menu.welcome"))
    for button, answer in (
        ("cmd:pengaduan", "privacy.notice"),
        ("consent:yes", "complaint.category.ask"),
        ("cat:drainase_banjir", "complaint.description.ask"),
    ):
        world.press(SITI, None, button)
        await me.expect(world.text(answer))
    api.user_sends_text(SITI, None, DESCRIPTION)
    await me.expect(world.text("complaint.location.ask"))
    api.user_shares_location(SITI, None, -0.94712, 100.41723)
    await me.expect(world.text("complaint.kecamatan.ask"))
    world.press(SITI, None, "kec:KEC-PADANG-BARAT")
    await me.expect(world.text("complaint.photos.ask"))
    api.user_sends_photo(SITI, None, OWNED_PHOTO)
    await me.expect(world.text("complaint.photos.received"))
    world.press(SITI, None, "photos:done")
    await me.expect(world.text("complaint.identity.ask"))
    world.press(SITI, None, "id:named")
    await me.expect(world.text("complaint.name.ask"))
    api.user_sends_text(SITI, None, "Siti Aminah")
    await me.expect(world.text("complaint.contact.ask"))
    api.user_shares_contact(SITI, None, SITI_PHONE)
    await me.expect(world.text("complaint.summary"))
    world.press(SITI, None, "confirm:send")
    filed = await me.expect(world.text("complaint.filed").split(" {")[0])
    found = CODE.search(filed["text"])
    assert found is not None
    code = found.group(0)
    posted = await group.expect(code)
    assert "Siti Aminah" in posted["text"]  # the officers do see the reporter, only the logs must not

    world.press(RUDI, GROUP, f"cmd:st acc {code}")  # another OPD's officer: refused, logged as a warning
    await group.expect(world.text("staff.not_allowed"))
    api.fail_next("sendMessage", 1, retry_after=1)  # a short 429, waited out (and logged)
    world.press(ANDI, GROUP, f"cmd:st acc {code}")
    await group.expect(world.text("staff.accepted", code=code, officer="Andi Pratama"))
    world.press(ANDI, GROUP, f"cmd:st info {code}")
    await officer.expect(world.text("staff.info.ask", code=code))
    api.user_sends_text(ANDI, None, QUESTION)
    await officer.expect(world.text("staff.info.sent", code=code))
    await me.expect(QUESTION)
    world.press(SITI, None, f"cmd:jawab {code}")
    await me.expect(world.text("answer.ask", code=code, question=QUESTION))
    api.user_sends_text(SITI, None, ANSWER)
    await me.expect(world.text("answer.thanks", code=code))
    await group.expect(ANSWER)
    api.user_sends_text(SITI, None, f"status {code}")
    await me.expect(f"Pengaduan {code}")
    api.user_sends_text(SITI, None, "dataku")
    await me.expect("Siti Aminah")
    async with httpx.AsyncClient() as http:  # a forged delivery, and a malformed one with the right secret
        forged = await http.post(f"{url}/telegram", json={"update_id": 1, "message": {"text": DESCRIPTION}})
        assert forged.status_code == 403
        headers = {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}
        bad = await http.post(f"{url}/telegram", content=b"Siti Aminah " + SITI_PHONE.encode(), headers=headers)
        assert bad.status_code == 400

    api.block_user(SITI.id)  # the citizen blocked the bot: the resolution is unreachable (and that is logged)
    world.press(ANDI, GROUP, f"cmd:st done {code}")
    await officer.expect(world.text("staff.done.ask", code=code))
    api.user_sends_text(ANDI, None, NOTE)
    await officer.expect(world.text("staff.done.photos"))
    world.press(ANDI, None, "evidence:send")
    await officer.expect(world.text("staff.done.sent", code=code))
    await world.run.pump.drain()


@pytest.mark.parametrize("fmt", ["text", "json"])
async def test_telegram_run_at_debug_logs_no_secret_or_personal_data(app: App, fmt: str) -> None:
    """Over the Telegram webhook, a complaint filed, refused to another OPD and handled logs none of its data."""
    with debug_log(fmt) as buffer:
        async with FakeBotApi(TG_TOKEN) as api:
            secrets = {"telegram_webhook_secret": SecretStr(TG_SECRET), "telegram_api_url": api.root_url}
            app.settings = app.settings.model_copy(update={"telegram_token": SecretStr(TG_TOKEN), **secrets})
            channel = telegram_channel(app, limits=FAST)
            assert channel is not None
            async with running(app, [channel]) as run, serve_as_in_production(web_app(run)) as url:
                everything_at_debug()
                await channel.set_webhook(f"{url}/telegram")
                await telegram_story(World(app, api, channel, run, webhook_url=f"{url}/telegram"), url)
                await channel.delete_webhook()
        expected = ['POST /telegram HTTP/1.1\\" 403' if fmt == "json" else 'POST /telegram HTTP/1.1" 403']
        expected += ["refused staff action on PDG-", "invalid invite code"]
        check(buffer, fmt, TELEGRAM_SECRETS, expected, canary="citizen's name")
        assert 'POST /telegram HTTP/1.1" 200' not in buffer.getvalue().replace('\\"', '"')  # accepted: no line


# ------------------------------------------------------------------------------------------- WhatsApp


async def whatsapp_story(rig: Rig) -> None:
    """Meta verifies the webhook; an officer joins; a citizen files a named complaint; it is handled to the end."""
    async with httpx.AsyncClient() as http:
        params = {"hub.mode": "subscribe", "hub.verify_token": WA_VERIFY, "hub.challenge": "1158201444"}
        verified = await http.get(f"{rig.url}/whatsapp", params=params)
        assert (verified.status_code, verified.text) == (200, "1158201444")
    forged = await rig.api.post(json.dumps({"entry": [{"changes": [WA_DESCRIPTION]}]}).encode(), "sha256=00")
    assert forged.status_code == 401
    citizen, officer = Phone(rig, WA_CITIZEN), Phone(rig, WA_OFFICER)
    async with rig.app.uow() as uow:
        invite, _, _ = await create_invite(uow, "DPUPR", StaffRole.OFFICER, rig.app.clock.now())
        await uow.commit()
    (welcome,) = await officer.says(f"gabung {invite}")
    assert "Dinas Pekerjaan Umum" in welcome.text

    await citizen.says("halo")
    await citizen.taps("Buat pengaduan")
    await citizen.taps("Setuju")
    await citizen.says("1")
    await citizen.says(WA_DESCRIPTION)
    await citizen.shares_location(-0.95, 100.36)
    await citizen.says("Tidak tahu")
    await citizen.sends_photo(OWNED_PHOTO)
    await citizen.taps("Selesai")
    await citizen.taps("Bernama")
    await citizen.says(WA_NAME)
    (summary,) = await citizen.says(WA_CONTACT)
    assert WA_DESCRIPTION in summary.text
    (filed,) = await citizen.taps("Kirim")
    code = filed.text.split("kode ")[1].split()[0]

    _photo, notice = officer.new()
    assert code in notice.text and WA_NAME in notice.text
    await officer.taps("Terima", notice)
    (update,) = citizen.new()
    await rig.api.post_status(update.wamid, "failed", WA_CITIZEN, error_code=131026)  # Meta could not deliver it
    await officer.taps("Minta info", notice)
    await officer.says(WA_QUESTION)
    (question,) = citizen.new()
    await citizen.taps("Jawab", question)
    await citizen.says(WA_ANSWER)
    (relayed,) = officer.new()
    assert WA_ANSWER in relayed.text
    rig.api.fail_next(131000, recipient=WA_CITIZEN.address)  # a failed send, retried later
    await officer.taps("Selesai", notice)
    await officer.says("Lampu sudah diganti oleh petugas")
    await officer.taps("Kirim")
    await citizen.says("dataku")


@pytest.mark.parametrize("fmt", ["text", "json"])
async def test_whatsapp_run_at_debug_logs_no_secret_or_personal_data(app: App, clock: FrozenClock, fmt: str) -> None:
    """Over signed WhatsApp webhooks, Meta's verification, a complaint's handling and failed deliveries log no data."""
    with debug_log(fmt) as buffer:
        async with FakeGraphApi(clock.now, token=WA_TOKEN, app_secret=WA_APP_SECRET) as api:
            app.settings = app.settings.model_copy(
                update={
                    "whatsapp_api_url": api.root_url,
                    "whatsapp_api_version": VERSION,
                    "whatsapp_token": SecretStr(WA_TOKEN),
                    "whatsapp_phone_number_id": PHONE_NUMBER_ID,
                    "whatsapp_app_secret": SecretStr(WA_APP_SECRET),
                    "whatsapp_verify_token": SecretStr(WA_VERIFY),
                }
            )
            channel = whatsapp_channel(app)
            assert channel is not None
            async with running(app, [channel], retries=False) as run, serve_as_in_production(web_app(run)) as url:
                everything_at_debug()
                api.webhook_url = f"{url}/whatsapp"
                await whatsapp_story(Rig(app, api, run, channel, url))
        expected = [
            "POST /whatsapp HTTP/1.1",
            "GET /whatsapp?hub.mode=subscribe&hub.verify_token=<secret>",
            "could not deliver outbox message",
        ]
        check(buffer, fmt, WHATSAPP_SECRETS, expected, canary="citizen's profile name")
