"""The Graph API on both HTTP clients (`SUARAWARGA_WHATSAPP_CLIENT`: httpx, tuned): the same calls, limits, errors.

Every test runs on both transports against the same fakes, with the same expectations, so that a difference
between them (a send, an upload, a download, the size limit, an error's code, status, message or verdict) fails.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from fakes.whatsapp_server import PHONE_NUMBER_ID, TOKEN, VERSION, FakeGraphApi, WaUser
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from suarawarga.bootstrap import App
from suarawarga.bot.attachments import MediaRefused
from suarawarga.bot.channels.ordered import Verdict
from suarawarga.bot.channels.whatsapp import GraphApi, GraphError, classify, whatsapp_channel
from suarawarga.bot.channels.whatsapp.transport import HttpxTransport, TunedTransport, open_transport
from suarawarga.bot.messages import Attachment, ChannelName, Choice, ConversationKey, MediaKind, Outbound, OutboundFile
from tests.support.clock import FrozenClock
from tests.support.images import jpeg_with_gps
from tests.support.scripted_http import THEN_STALL, Server, answer, serving
from tests.support.whatsapp import configure, whatsapp_rig

SITI = WaUser("6281234567890", "Siti")
PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 64
KINDS = ["httpx", "tuned"]
PAIR_RATE_TITLE = "(Business Account, Consumer Account) pair rate limit hit"
TRANSPORTS = {"httpx": HttpxTransport, "tuned": TunedTransport}


class UndeclaredSizes(FakeGraphApi):
    """The fake Graph API, leaving out the size of media (the download itself must then keep to the limit)."""

    async def _media_info(self, request: Request) -> Response:
        answered = await super()._media_info(request)
        info = json.loads(bytes(answered.body))
        info.pop("file_size", None)
        return JSONResponse(info, answered.status_code)


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    """Return each HTTP client kind in turn."""
    return str(request.param)


@pytest.fixture
async def graph(kind: str, clock: FrozenClock) -> AsyncIterator[tuple[GraphApi, FakeGraphApi]]:
    """Yield a Graph API client on a transport of the kind, and the fake it calls."""
    async with FakeGraphApi(clock.now) as fake:
        api = GraphApi(fake.root_url, VERSION, PHONE_NUMBER_ID, TOKEN)
        api.transport = open_transport(kind)
        try:
            yield api, fake
        finally:
            await api.transport.aclose()


def text(to: str, body: str = "Halo") -> dict[str, object]:
    """Return a free-form text message body."""
    return {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": body}}


def photo_from(user: WaUser, media_id: str) -> dict[str, object]:
    """Return a stored delivery of a photo from a user."""
    return {"message": {"from": user.wa_id, "id": f"wamid.{media_id}", "type": "image", "image": {"id": media_id}}}


def outcome(error: GraphError) -> tuple[int | None, int, str, Verdict, timedelta | None]:
    """Return what the product keeps of an error: code, status, message, and the verdict with its wait."""
    return (error.code, error.status, error.message, *classify(error))


async def test_the_setting_picks_the_transport(app: App, clock: FrozenClock, kind: str) -> None:
    """SUARAWARGA_WHATSAPP_CLIENT decides the transport the started channel uses; an unknown kind is refused."""
    async with FakeGraphApi(clock.now) as fake:
        configure(app, fake, kind)
        channel = whatsapp_channel(app)
        assert channel is not None and channel.api.transport is None
        await channel.start()
        assert isinstance(channel.api.transport, TRANSPORTS[kind])
        await channel.stop()
        assert channel.api.transport is None
    with pytest.raises(ValueError, match="unknown WhatsApp client"):
        open_transport("aiohttp")


async def test_sends_uploads_and_downloads_go_through_either_client(app: App, clock: FrozenClock, kind: str) -> None:
    """Buttons, an uploaded photo and document are sent; a received photo is fetched whole, or refused if too big."""
    async with whatsapp_rig(app, clock, kind) as rig:
        assert isinstance(rig.channel.api.transport, TRANSPORTS[kind])
        async with app.uow() as uow:
            await uow.contacts.note_contact(ChannelName.WHATSAPP, SITI.address, clock.now())
            await uow.commit()
        rig.api.last_inbound[SITI.address] = clock.now()
        photo = app.attachments.save(jpeg_with_gps(), "image/jpeg", MediaKind.PHOTO, clock.now())
        sheet = app.attachments.save(b"%PDF-1.4 rekap", "application/pdf", MediaKind.DOCUMENT, clock.now())
        key = ConversationKey(ChannelName.WHATSAPP, SITI.address)
        messages = [
            Outbound(key, "label", {"label": "Pilih"}, choices=(Choice("a", "label", {"label": "Ya"}),)),
            Outbound(key, "label", {"label": "Bukti"}, files=(OutboundFile(Attachment.PHOTO, photo.path),)),
            Outbound(key, "label", {"label": "Rekap"}, files=(OutboundFile(Attachment.DOCUMENT, sheet.path, "r.pdf"),)),
        ]
        async with app.uow() as uow:
            stored = await uow.outbox.add_many(messages, clock.now())
            await uow.commit()
        report = await app.delivery().deliver(stored)
        assert sorted(report.sent) == sorted(m.id for m in stored)
        got = rig.api.to(SITI)
        assert [(s.kind, s.text) for s in got] == [("button", "Pilih"), ("image", "Bukti"), ("document", "Rekap")]
        assert rig.api.media[got[1].body["image"]["id"]].data == app.attachments.path_of(photo.path).read_bytes()
        assert rig.api.media[got[2].body["document"]["id"]].filename == "r.pdf"

        parsed = await rig.channel.parse(photo_from(SITI, rig.api.add_media(PHOTO, "image/jpeg")))
        assert parsed is not None
        (media,) = parsed.media
        assert await rig.channel.fetch(media, len(PHOTO)) == PHOTO
        with pytest.raises(MediaRefused) as refused:
            await rig.channel.fetch(media, len(PHOTO) - 1)
        assert refused.value.text_key == "media.too_large"


async def test_a_download_without_a_declared_size_keeps_to_the_limit(app: App, clock: FrozenClock, kind: str) -> None:
    """When Meta does not say the size, the download itself stops at the limit: too large, not the whole file."""
    async with whatsapp_rig(app, clock, kind, fake=UndeclaredSizes) as rig:
        parsed = await rig.channel.parse(photo_from(SITI, rig.api.add_media(PHOTO, "image/jpeg")))
        assert parsed is not None
        (media,) = parsed.media
        assert await rig.channel.fetch(media, len(PHOTO)) == PHOTO
        with pytest.raises(MediaRefused) as refused:
            await rig.channel.fetch(media, len(PHOTO) - 1)
        assert refused.value.text_key == "media.too_large"


@pytest.mark.parametrize("framing", ["declared", "chunked"])
async def test_an_endless_media_body_is_refused_at_the_limit(kind: str, framing: str) -> None:
    """A media host sending far more than the limit (then stalling) is refused as too large, not read on and on."""
    limit = 50_000
    piece = b"x" * 16_384
    if framing == "declared":
        media = answer(piece * 8, f"Content-Length: {10**12}") + THEN_STALL
    else:
        media = answer(b"", "Transfer-Encoding: chunked") + (b"4000\r\n" + piece + b"\r\n") * 8 + THEN_STALL
    holder: list[Server] = []

    def script(connection: int, nth: int) -> bytes:
        if b" /download " in holder[0].requests[-1].split(b"\r\n", 1)[0]:
            return media
        return answer(json.dumps({"url": f"{holder[0].url}/download", "mime_type": "image/jpeg"}).encode())

    async with serving(script) as server:
        holder.append(server)
        api = GraphApi(server.url, VERSION, PHONE_NUMBER_ID, TOKEN)
        api.transport = open_transport(kind)
        started = time.monotonic()
        with pytest.raises(GraphError) as caught:
            await api.download("123", limit)
        assert time.monotonic() - started < 5  # the read timeout (20 s) did not end it
        await api.transport.aclose()
    assert (caught.value.code, caught.value.status) == (None, 413)
    assert all(b"Bearer " + TOKEN.encode() in request for request in server.requests)


async def test_graph_errors_map_the_same_on_either_client(graph: tuple[GraphApi, FakeGraphApi]) -> None:
    """Meta's error objects, statuses without one, and answers without an id give the same errors and verdicts."""
    api, fake = graph
    fake.enforce_window = False
    assert (await api.send(text(SITI.wa_id or ""))).startswith("wamid.")
    outcomes = []
    for code, status in ((131056, 400), (131000, 500), (131026, 400), (131047, 400), (100, 400)):
        fake.fail_next(code, http_status=status)
        with pytest.raises(GraphError) as caught:
            await api.send(text(SITI.wa_id or ""))
        outcomes.append(outcome(caught.value))
    with pytest.raises(GraphError) as caught:
        await api.download("404404", 1000)
    outcomes.append(outcome(caught.value))
    intruder = GraphApi(fake.root_url, VERSION, PHONE_NUMBER_ID, "wrong")
    intruder.transport = api.transport
    with pytest.raises(GraphError) as caught:
        await intruder.send(text(SITI.wa_id or ""))
    outcomes.append(outcome(caught.value))
    assert outcomes == [
        (131056, 400, f"(#131056) {PAIR_RATE_TITLE}: injected by the test", Verdict.RETRY, None),
        (131000, 500, "(#131000) Something went wrong: injected by the test", Verdict.RETRY, None),
        (131026, 400, "(#131026) Message undeliverable: injected by the test", Verdict.UNREACHABLE, None),
        (131047, 400, "(#131047) Re-engagement message: injected by the test", Verdict.WINDOW, None),
        (100, 400, "(#100) Invalid parameter: injected by the test", Verdict.FAILED, None),
        (
            100,
            400,
            "(#100) Invalid parameter: Unsupported get request. Object with ID '404404' does not exist",
            Verdict.FAILED,
            None,
        ),
        (190, 401, "(#190) Invalid OAuth access token: Malformed access token", Verdict.RETRY, timedelta(minutes=5)),
    ]


async def test_answers_without_meta_s_shape_and_no_answer_map_the_same(kind: str) -> None:
    """A status without JSON keeps its reason phrase; missing ids are handled; no answer at all is status 0."""
    script = [
        answer(b"<html>busy</html>", status="503 Service Unavailable"),
        answer(b'{"messaging_product":"whatsapp"}'),
        answer(b"{}"),
        answer(b"", status="401 Unauthorized"),
    ]
    async with serving(lambda c, n: script[min(n, len(script)) - 1]) as server:
        api = GraphApi(server.url, VERSION, PHONE_NUMBER_ID, TOKEN)
        api.transport = open_transport(kind)
        with pytest.raises(GraphError) as caught:
            await api.send(text("6281234567890"))
        assert outcome(caught.value) == (None, 503, "Service Unavailable", Verdict.RETRY, None)
        assert await api.send(text("6281234567890")) == ""
        with pytest.raises(GraphError) as caught:
            await api.upload(b"\x89PNG", "image/png", "a.png")
        assert outcome(caught.value) == (None, 502, "media upload answered without an id", Verdict.RETRY, None)
        with pytest.raises(GraphError) as caught:
            await api.download("1", 1000)
        assert outcome(caught.value) == (None, 401, "Unauthorized", Verdict.FAILED, None)
        await api.transport.aclose()
        broken = GraphApi(server.url, VERSION, PHONE_NUMBER_ID, "token\r\nX-Evil: 1")  # a token pasted with a newline
        broken.transport = open_transport(kind)
        with pytest.raises(GraphError) as caught:
            await broken.send(text("6281234567890"))
        await broken.transport.aclose()
        assert (caught.value.code, caught.value.status) == (None, 0)
    assert len(server.requests) == 4  # the request with the broken header never left
    upload = server.requests[2]
    assert b"multipart/form-data; boundary=" in upload and b'name="messaging_product"\r\n\r\nwhatsapp' in upload
    assert json.loads(server.requests[0].split(b"\r\n\r\n", 1)[1]) == text("6281234567890")

    nowhere = GraphApi("http://127.0.0.1:9", VERSION, PHONE_NUMBER_ID, TOKEN)
    nowhere.transport = open_transport(kind)
    with pytest.raises(GraphError) as caught:
        await nowhere.send(text("6281234567890"))
    await nowhere.transport.aclose()
    assert (caught.value.code, caught.value.status, classify(caught.value)) == (None, 0, (Verdict.RETRY, None))
