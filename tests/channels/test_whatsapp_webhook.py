"""The WhatsApp webhook: Meta's verification, signatures checked before parsing, and what each message becomes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fakes.whatsapp_server import VERIFY_TOKEN, WaUser
from sqlalchemy import func, select

from suarawarga.bootstrap import App
from suarawarga.bot.attachments import MediaRefused
from suarawarga.bot.channels.whatsapp import signature_ok, whatsapp_channel
from suarawarga.bot.messages import ChannelName
from suarawarga.storage.orm import ChannelIdentityRow, ChatActivityRow, ComplaintRow, InboxRow
from tests.support.clock import FrozenClock
from tests.support.whatsapp import Rig, whatsapp_rig

SITI = WaUser("6281234567890", "Siti Aminah")
PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 16


@pytest.fixture
async def rig(app: App, clock: FrozenClock) -> AsyncIterator[Rig]:
    """The product with its WhatsApp channel, against the fake Graph API."""
    async with whatsapp_rig(app, clock) as running:
        yield running


async def count(app: App, model: type) -> int:
    """Return how many rows a table has."""
    async with app.db.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(model))).scalar_one())


async def start_complaint(rig: Rig, user: WaUser) -> None:
    """Open the complaint flow and consent, so the citizen is asked for a category."""
    await rig.api.user_sends_text(user, "lapor")
    await rig.settle()
    await rig.api.user_taps_button(user, rig.api.to(user)[-1], "Setuju")
    await rig.settle()


def test_signature_check_is_hmac_sha256_of_the_raw_body() -> None:
    """Only "sha256=" + the hex HMAC of exactly these bytes with the app secret is accepted."""
    body = b'{"object":"whatsapp_business_account"}'
    good = "sha256=" + __import__("hmac").new(b"secret", body, "sha256").hexdigest()
    assert signature_ok(b"secret", body, good)
    assert not signature_ok(b"other", body, good)
    assert not signature_ok(b"secret", body + b" ", good)
    assert not signature_ok(b"secret", body, good.removeprefix("sha256="))
    assert not signature_ok(b"secret", body, "sha256=zz\u00e9")


async def test_verification_echoes_the_challenge_only_for_the_verify_token(rig: Rig) -> None:
    """GET /whatsapp answers hub.challenge for mode=subscribe and the right token, 403 otherwise."""
    async with httpx.AsyncClient() as http:
        ok = await http.get(
            rig.api.webhook_url or "",
            params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"},
        )
        assert (ok.status_code, ok.text) == (200, "1158201444")
        for params in (
            {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
            {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
            {"hub.challenge": "1"},
        ):
            assert (await http.get(rig.api.webhook_url or "", params=params)).status_code == 403


async def test_bad_or_missing_signatures_are_refused_before_parsing(rig: Rig, app: App) -> None:
    """A delivery without the right X-Hub-Signature-256 gets 401 and stores nothing, even if it is not JSON."""
    body = json.dumps(rig.api.envelope({"messages": []})).encode()
    assert (await rig.api.post(body, signature=None)).status_code == 401
    assert (await rig.api.post(body, signature=rig.api.sign(body, secret="not-the-secret"))).status_code == 401
    assert (await rig.api.post(body, signature=rig.api.sign(body + b"x"))).status_code == 401
    assert (await rig.api.post(b"{not json", signature="sha256=00")).status_code == 401
    assert (await rig.api.post(body, signature="md5=abc")).status_code == 401
    assert await count(app, InboxRow) == 0


async def test_malformed_json_and_shapes_get_400_and_oversized_bodies_413(rig: Rig, app: App) -> None:
    """Correctly signed garbage is a 400, a body over the size limit a 413; nothing is stored."""
    for body in (b"{not json", b"\xff\xfe", b"[1, 2, 3]", b'{"entry": "nope"}'):
        assert (await rig.api.post(body)).status_code == 400
    big = b'{"entry": [], "pad": "' + b"x" * 1_100_000 + b'"}'
    assert (await rig.api.post(big)).status_code == 413
    assert await count(app, InboxRow) == 0


async def test_other_fields_and_other_numbers_are_acknowledged_and_ignored(rig: Rig, app: App) -> None:
    """Template status changes, other phone numbers and messages without an id are answered 200 and skipped."""
    other_field = {"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "account_update"}]}]}
    other_number = rig.api.envelope({"messages": [{"from": "1", "id": "wamid.X", "type": "text"}]})
    other_number["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999"
    no_id = rig.api.envelope({"messages": [{"from": "1", "type": "text", "text": {"body": "hi"}}]})
    for delivery in (other_field, other_number, no_id):
        assert (await rig.api.post(json.dumps(delivery).encode())).status_code == 200
    assert await count(app, InboxRow) == 0


async def test_a_replayed_delivery_is_stored_and_answered_once(rig: Rig, app: App) -> None:
    """Meta delivering the same wamid again (before or after processing) yields one inbox row and one reply."""
    first = await rig.api.user_sends_text(SITI, "halo")
    again = await rig.api.replay(first)
    assert (first.status, again.status) == (200, 200)
    await rig.settle()
    assert (await rig.api.replay(first)).status == 200
    await rig.settle()
    assert await count(app, InboxRow) == 1
    assert [s.kind for s in rig.api.to(SITI)] == ["list"]


async def test_one_delivery_may_batch_several_messages(rig: Rig, app: App) -> None:
    """Every message of every entry and change is stored, in order."""
    messages = [
        {"from": SITI.wa_id, "id": f"wamid.B{i}", "timestamp": "1795400000", "type": "text", "text": {"body": t}}
        for i, t in enumerate(("halo", "menu"))
    ]
    delivery = rig.api.envelope({"contacts": [{"wa_id": SITI.wa_id, "profile": {"name": "Siti"}}]})
    delivery["entry"][0]["changes"][0]["value"]["messages"] = messages
    rig.api.last_inbound[SITI.address] = rig.api.clock()
    assert (await rig.api.post(json.dumps(delivery).encode())).status_code == 200
    await rig.settle()
    assert await count(app, InboxRow) == 2
    assert [s.kind for s in rig.api.to(SITI)] == ["list", "list"]


async def test_unknown_message_types_get_a_polite_reprompt(rig: Rig, app: App) -> None:
    """Stickers, reactions, contacts and types Meta cannot show are answered "input.unsupported" mid-flow."""
    await start_complaint(rig, SITI)
    for kind, content in (
        ("sticker", {"id": "123", "mime_type": "image/webp", "animated": False}),
        ("reaction", {"message_id": rig.api.to(SITI)[-1].wamid, "emoji": "👍"}),
        ("contacts", [{"name": {"formatted_name": "Budi"}, "phones": [{"phone": "+62 812"}]}]),
        ("unsupported", {}),
        ("order", {"catalog_id": "1"}),
    ):
        delivery = await rig.api.user_sends(SITI, kind, content)  # type: ignore[arg-type]
        assert delivery.status == 200
    await rig.settle()
    sorry = app.catalogue.render("input.unsupported", "id")
    replies = rig.api.to(SITI)[-5:]
    assert all(s.text.startswith(sorry) and "1. Jalan rusak" in s.text for s in replies), [s.text for s in replies]
    assert sorted(await rig.keys(SITI.address)).count("input.unsupported") == 5
    assert await count(app, ComplaintRow) == 0


async def test_a_photo_is_a_reference_fetched_with_the_token_only_on_demand(rig: Rig, app: App) -> None:
    """Parsing an image downloads nothing; fetch gets it (media id -> URL -> bytes, both with the bearer token)."""
    parsed = await rig.channel.parse(
        {
            "message": {
                "from": SITI.wa_id,
                "id": "wamid.P1",
                "timestamp": "1795400000",
                "type": "image",
                "image": {"id": rig.api.add_media(PHOTO, "image/jpeg"), "mime_type": "image/jpeg", "caption": "ini"},
            },
            "contacts": [{"wa_id": SITI.wa_id, "profile": {"name": "Siti"}}],
        }
    )
    assert parsed is not None
    (media,) = parsed.media
    assert (media.kind, media.mime, parsed.text) == ("photo", "image/jpeg", "ini")
    assert [path for method, path in rig.api.requests if method == "GET"] == []
    assert list(app.attachments.files()) == []
    assert await rig.channel.fetch(media, 1024 * 1024) == PHOTO
    gets = [path for method, path in rig.api.requests if method == "GET"]
    assert len(gets) == 2 and gets[-1].startswith("/download/")
    with pytest.raises(MediaRefused) as refused:
        await rig.channel.fetch(media, 100)
    assert refused.value.text_key == "media.too_large"


async def test_media_that_cannot_be_fetched_is_refused_with_a_reason(rig: Rig) -> None:
    """A media id Meta no longer knows is not retried for ever: the step tells the citizen to send it again."""
    parsed = await rig.channel.parse(
        {"message": {"from": SITI.wa_id, "id": "wamid.P2", "type": "document", "document": {"id": "404404"}}}
    )
    assert parsed is not None
    (media,) = parsed.media
    with pytest.raises(MediaRefused) as refused:
        await rig.channel.fetch(media, 1024 * 1024)
    assert refused.value.text_key == "media.unavailable"


async def test_interactive_replies_locations_and_template_buttons_are_parsed(rig: Rig) -> None:
    """Button and list replies and template quick replies become choices; a location becomes a point."""
    base = {"from": SITI.wa_id, "timestamp": "1795400000"}
    cases = [
        (
            {"type": "interactive", "interactive": {"type": "button_reply", "button_reply": {"id": "a", "title": "A"}}},
            "a",
        ),
        ({"type": "interactive", "interactive": {"type": "list_reply", "list_reply": {"id": "b", "title": "B"}}}, "b"),
        ({"type": "button", "button": {"payload": "cmd:jawab PDG-234567", "text": "Jawab"}}, "cmd:jawab PDG-234567"),
    ]
    for number, (message, choice) in enumerate(cases):
        parsed = await rig.channel.parse({"message": {**base, **message, "id": f"wamid.C{number}"}})
        assert parsed is not None and parsed.choice == choice
    place = {"latitude": -0.9471, "longitude": 100.4172, "name": "Masjid Raya", "address": "Jl. Khatib"}
    parsed = await rig.channel.parse({"message": {**base, "id": "wamid.L", "type": "location", "location": place}})
    assert parsed is not None and parsed.location == (-0.9471, 100.4172)
    typed = await rig.channel.parse({"message": {**base, "id": "wamid.T", "type": "text", "text": {"body": "/start"}}})
    assert typed is not None and typed.command == "start"
    lines = {"body": "/status\nPDG-123456"}  # a command and its argument on two lines, as phones send them
    typed = await rig.channel.parse({"message": {**base, "id": "wamid.T2", "type": "text", "text": lines}})
    assert typed is not None and (typed.command, typed.text) == ("status", "PDG-123456")
    system = {**base, "id": "wamid.S", "type": "system", "system": {"body": "changed number"}}
    assert await rig.channel.parse({"message": system}) is None


async def test_users_without_a_phone_number_are_keyed_on_their_business_scoped_id(rig: Rig) -> None:
    """When Meta withholds the phone number, the chat is keyed on the BSUID and replies go to `recipient`."""
    ghost = WaUser(None, "Anon", user_id="ID.13491208655302741918")
    assert (await rig.api.user_sends_text(ghost, "halo")).status == 200
    await rig.settle()
    (menu,) = rig.api.to(ghost)
    assert "recipient" in menu.body and "to" not in menu.body
    assert await rig.keys(ghost.address) == ["menu.intro"]


async def test_each_message_opens_the_window_for_the_chat_and_the_citizen(
    rig: Rig, app: App, clock: FrozenClock
) -> None:
    """The last inbound time is kept per chat (monotonic) and on the citizen's channel identity."""
    await start_complaint(rig, SITI)
    clock.advance(timedelta(hours=2))
    await rig.api.user_sends_text(SITI, "1")
    await rig.settle()
    async with app.db.connect() as conn:
        chat = (await conn.execute(select(ChatActivityRow.last_inbound_at))).scalar_one()
        identity = (await conn.execute(select(ChannelIdentityRow.last_inbound_at))).scalar_one()
    assert chat == identity == clock.now().replace(microsecond=0)
    async with app.uow() as uow:  # an older timestamp (a late retry of Meta) does not move it back
        await uow.contacts.note_contact(ChannelName.WHATSAPP, SITI.address, clock.now() - timedelta(days=1))
        assert (await uow.contacts.last_contacts(ChannelName.WHATSAPP, [SITI.address]))[SITI.address] == chat


async def test_the_channel_is_built_only_when_configured(app: App) -> None:
    """Without a token, phone number id and app secret there is no WhatsApp channel."""
    assert whatsapp_channel(app) is None
