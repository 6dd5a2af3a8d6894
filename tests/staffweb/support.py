"""Helpers for the staff console's tests: an HTTP client on the console, and signing in through the real link.

`sign_in(app, http, chat)` does what an officer does: sends `masuk` in their (console) chat, takes the link
from the bot's answer, opens it and presses the button. It returns the form token of the new session, which
every POST must carry (`csrf`).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import httpx

from suarawarga.bootstrap import App
from suarawarga.bot.channels.console import console_key, parse_line
from suarawarga.bot.messages import ChannelName, Inbound, MediaKind, Outbound
from suarawarga.bot.web import create_web_app
from suarawarga.complaints.model import Complaint, IdentityMode, NewAttachment
from suarawarga.complaints.services import ComplaintDraft, file_complaint
from suarawarga.site.web import site_routes
from suarawarga.staffweb.web import staff_routes
from tests.support.images import jpeg_with_gps

BASE = "http://suarawarga.test"
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


@asynccontextmanager
async def console_client(app: App) -> AsyncIterator[httpx.AsyncClient]:
    """Yield an HTTP client on the web app with the staff console and the public site, as `serve` mounts them."""
    web = create_web_app([], None, [*staff_routes(app), *site_routes(app)])
    transport = httpx.ASGITransport(app=web, client=("203.0.113.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        yield http


async def say(app: App, chat: str, line: str) -> list[Outbound]:
    """Type a line in a console chat and return the bot's answers."""
    inbound = parse_line(line, console_key(chat), app.clock)
    assert isinstance(inbound, Inbound), inbound
    async with app.dispatcher() as dispatcher:
        return await dispatcher.handle(inbound)


async def ask_link(app: App, chat: str) -> str:
    """Send `masuk` in a staff member's chat and return the path of the link the bot answered with."""
    answers = await say(app, chat, "masuk")
    assert [a.text_key for a in answers] == ["staffweb.link"], [a.text_key for a in answers]
    return urlsplit(answers[0].params["link"]).path


def csrf_of(html: str) -> str:
    """Return the form token a console page carries."""
    found = CSRF.search(html)
    assert found is not None, "no form token on the page"
    return found.group(1)


async def open_link(http: httpx.AsyncClient, path: str) -> httpx.Response:
    """Open a sign-in link and press its button, as a browser does; return the button's answer."""
    page = await http.get(path)
    assert page.status_code == 200, page.status_code
    return await http.post(path)


async def sign_in(app: App, http: httpx.AsyncClient, chat: str) -> str:
    """Sign a joined staff member in through the real link flow; return the session's form token."""
    pressed = await open_link(http, await ask_link(app, chat))
    assert pressed.status_code == 303 and pressed.headers["location"] == "/staf/", pressed.status_code
    home = await http.get("/staf/")
    assert home.status_code == 200, home.status_code
    return csrf_of(home.text)


async def filed(
    app: App,
    *,
    chat: str = "warga-1",
    identity: IdentityMode = IdentityMode.NAMED,
    category: str = "jalan_rusak",
    photo: bool = True,
    channel: ChannelName = ChannelName.CONSOLE,
    name: str = "Rahasia Warga",
    description: str = "Jalan berlubang besar di depan sekolah,\nsudah dua minggu.",
) -> Complaint:
    """File a complaint from a citizen's chat (console by default), with a located photo and a map position."""
    now = app.clock.now()
    attachments: tuple[NewAttachment, ...] = ()
    if photo:
        ref = app.attachments.save(jpeg_with_gps(), "image/jpeg", MediaKind.PHOTO, now)
        attachments = (NewAttachment("photo", ref.path, ref.mime, ref.size, ref.sha256),)
    async with app.uow() as uow:
        found = await uow.citizens.find(channel, chat)
        citizen = found.id if found else await uow.citizens.register(channel, chat, "id", now, True)
        result = await file_complaint(
            uow,
            ComplaintDraft(
                category_code=category,
                description=description,
                identity_mode=identity,
                channel=channel,
                chat_id=chat,
                citizen_id=citizen if identity is not IdentityMode.ANONIM else None,
                language="id",
                location_text="Jl. Sudirman depan SD 05",
                latitude=-0.9492,
                longitude=100.3543,
                kecamatan_code="KEC-PADANG-BARAT",
                reporter_name=None if identity is IdentityMode.ANONIM else name,
                reporter_contact=None if identity is IdentityMode.ANONIM else "081234567890",
                attachments=attachments,
            ),
            now,
            "PDG",
        )
        await uow.commit()
        complaint = await uow.complaints.by_code(result.code)
    assert complaint is not None
    return complaint


async def state(app: App, code: str) -> tuple[str, int, int, int]:
    """Return what an action changes: (status, unit id, history length, outbox messages)."""
    async with app.uow() as uow:
        complaint = await uow.complaints.by_code(code)
        assert complaint is not None
        history = await uow.complaints.history(complaint.id)
        counts = await uow.outbox.counts()
    return complaint.status.value, complaint.unit_id, len(history), sum(counts.values())


def seen_of(html: str) -> str:
    """Return the status and unit a complaint page's forms carry."""
    found = re.search(r'name="seen" value="([^"]+)"', html)
    assert found is not None, "no action form on the page"
    return found.group(1)
