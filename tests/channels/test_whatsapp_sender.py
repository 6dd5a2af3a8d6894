"""Sending on WhatsApp: buttons, lists and menus within Meta's limits, files, templates, and Meta's error codes."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from fakes.whatsapp_server import DEFAULT_TEMPLATES, MetaError, WaUser, check_message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suarawarga.bootstrap import App
from suarawarga.bot.channels.whatsapp import render_parts, render_template
from suarawarga.bot.channels.whatsapp.limits import RecentContacts
from suarawarga.bot.messages import (
    Attachment,
    ChannelName,
    Choice,
    ConversationKey,
    MediaKind,
    NoticeKind,
    Outbound,
    OutboundFile,
)
from suarawarga.bot.sender import SendReport
from suarawarga.bot.texts import Catalogue
from suarawarga.cli.main import build_parser
from suarawarga.cli.messages import cmd_outbox_list
from suarawarga.config import WhatsAppTemplate, default_whatsapp_templates
from suarawarga.storage.outbox import OutboxEntry
from tests.support.clock import FrozenClock
from tests.support.images import jpeg_with_gps
from tests.support.whatsapp import Rig, whatsapp_rig

SITI = WaUser("6281234567890", "Siti")
BUDI = WaUser("6281298765432", "Budi")
CATALOGUE = Catalogue.load()
TEMPLATES = {t.name: t for t in DEFAULT_TEMPLATES}


@pytest.fixture
async def rig(app: App, clock: FrozenClock) -> AsyncIterator[Rig]:
    """The product with its WhatsApp channel, against the fake Graph API."""
    async with whatsapp_rig(app, clock) as running:
        yield running


def message(user: WaUser, text: str, *labels: str, notice: NoticeKind | None = None, **extra: object) -> Outbound:
    """Return an outbound whose text and choice labels are given literally (catalogue key "label")."""
    choices = tuple(Choice(f"c{i}", "label", {"label": label}) for i, label in enumerate(labels))
    return Outbound(
        key=ConversationKey(ChannelName.WHATSAPP, user.address),
        text_key="label",
        params={"label": text},
        choices=choices,
        notice=notice,
        **extra,  # type: ignore[arg-type]
    )


async def open_window(rig: Rig, *users: WaUser) -> None:
    """Make both the product and the fake see a recent message from each user."""
    now = rig.app.clock.now()
    async with rig.app.uow() as uow:
        for user in users:
            await uow.contacts.note_contact(ChannelName.WHATSAPP, user.address, now)
            rig.api.last_inbound[user.address] = now
        await uow.commit()


async def deliver(rig: Rig, *messages: Outbound) -> tuple[SendReport, list[str]]:
    """Write messages to the outbox and deliver them now; return the report and their outbox ids."""
    async with rig.app.uow() as uow:
        stored = await uow.outbox.add_many(messages, rig.app.clock.now())
        await uow.commit()
    return await rig.app.delivery().deliver(stored), [m.id for m in stored]


async def entries(rig: Rig) -> dict[str, OutboxEntry]:
    """Return every outbox row by id."""
    async with rig.app.uow() as uow:
        return {e.id: e for e in await uow.outbox.listing(limit=1000)}


async def test_choices_become_buttons_a_list_or_a_numbered_menu(rig: Rig) -> None:
    """≤ 3 short labels: buttons; ≤ 10: a list (long labels in the description); more: numbered text."""
    await open_window(rig, SITI)
    long_label = "Dinas Pekerjaan Umum dan Penataan Ruang Kota"
    await deliver(
        rig,
        message(SITI, "Setuju?", "Setuju", "Tidak setuju"),
        message(SITI, "Pilih dinas:", "Dinkes", long_label, "Dishub", "DLH"),
        message(SITI, "Pilih kecamatan:", *(f"Kecamatan {n}" for n in range(12))),
    )
    buttons, listing, menu = rig.api.to(SITI)
    assert (buttons.kind, buttons.choices) == ("button", [("c0", "Setuju"), ("c1", "Tidak setuju")])
    assert listing.kind == "list"
    rows = listing.body["interactive"]["action"]["sections"][0]["rows"]
    assert rows[1] == {"id": "c1", "title": "Dinas Pekerjaan Umum da…", "description": long_label}
    assert listing.body["interactive"]["action"]["button"] == "Pilih"
    assert menu.kind == "text"
    assert "1. Kecamatan 0\n2. Kecamatan 1" in menu.text and "12. Kecamatan 11" in menu.text
    assert menu.text.endswith("Balas dengan nomor pilihan Anda.")


async def test_long_texts_are_split_and_long_bodies_leave_the_interactive(rig: Rig) -> None:
    """Text is split at 4 096 characters on word boundaries; a body over 1 024 goes ahead as text."""
    await open_window(rig, SITI)
    words = " ".join(f"kata{n}" for n in range(1800))  # about 13 000 characters
    await deliver(rig, message(SITI, words), message(SITI, "x" * 2000, "Ya", "Tidak"))
    sent = rig.api.to(SITI)
    assert [s.kind for s in sent] == ["text"] * 4 + ["text", "button"]
    assert all(len(s.text) <= 4096 for s in sent)
    assert " ".join(s.text for s in sent[:4]) == words
    assert sent[4].text == "x" * 2000
    assert sent[5].text == "Silakan pilih:"


async def test_plain_texts_merge_into_the_next_message_to_the_same_chat(rig: Rig) -> None:
    """A burst to one chat is merged (Meta's pair rate limit): the thanks rides in the question's body."""
    await open_window(rig, SITI)
    report, ids = await deliver(rig, message(SITI, "Terima kasih."), message(SITI, "Lanjut?", "Ya", "Tidak"))
    (sent,) = rig.api.to(SITI)
    assert sent.text == "Terima kasih.\n\nLanjut?"
    assert sorted(report.sent) == sorted(ids)
    rows = await entries(rig)
    assert {rows[i].platform_id for i in ids} == {sent.wamid}


async def test_files_are_uploaded_once_and_sent_as_image_or_document(rig: Rig, app: App, clock: FrozenClock) -> None:
    """A photo is uploaded and sent as an image (with the text as caption when alone); uploads are reused."""
    await open_window(rig, SITI, BUDI)
    photo = app.attachments.save(jpeg_with_gps(), "image/jpeg", MediaKind.PHOTO, clock.now())
    sheet = app.attachments.save(b"PK\x03\x04 sheet", "application/pdf", MediaKind.DOCUMENT, clock.now())
    with_photo = (OutboundFile(Attachment.PHOTO, photo.path),)
    await deliver(
        rig,
        message(SITI, "Bukti perbaikan", files=with_photo),
        message(BUDI, "Laporan baru", "Terima", "Tolak", files=with_photo),
        message(BUDI, "Rekap", files=(OutboundFile(Attachment.DOCUMENT, sheet.path, "rekap.pdf"),)),
    )
    (image,) = rig.api.to(SITI)
    assert (image.kind, image.text) == ("image", "Bukti perbaikan")
    assert rig.api.media[image.body["image"]["id"]].data == app.attachments.path_of(photo.path).read_bytes()
    kinds = [(s.kind, s.text) for s in rig.api.to(BUDI)]
    assert kinds == [("image", ""), ("button", "Laporan baru"), ("document", "Rekap")]
    assert rig.api.to(BUDI)[2].body["document"]["filename"] == "rekap.pdf"
    assert len(rig.api.uploads) == 2  # the photo once, the PDF once


async def test_a_file_missing_from_the_store_does_not_swallow_the_text(rig: Rig) -> None:
    """A photo deleted from the store is skipped; the text it would have carried as caption still goes."""
    await open_window(rig, SITI)
    gone = (OutboundFile(Attachment.PHOTO, "2026/11/gone.jpg"),)
    report, (notice,) = await deliver(rig, message(SITI, "Bukti perbaikan", files=gone))
    assert report.sent == [notice]
    assert [(s.kind, s.text) for s in rig.api.to(SITI)] == [("text", "Bukti perbaikan")]


labels = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=90)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.text(max_size=6000),
    choices=st.lists(labels, max_size=14),
    location=st.booleans(),
)
def test_every_rendering_passes_the_documented_limits(text: str, choices: list[str], location: bool) -> None:
    """Whatever the text and labels, every request the renderer builds is one Meta accepts."""
    pairs = [(f"cmd:pilih {n}", label.strip() or "-") for n, label in enumerate(choices)]
    for part in render_parts(text, pairs, (), CATALOGUE, "id", ask_location=location):
        check_message({"messaging_product": "whatsapp", "to": "6281234567890", **part.body}, TEMPLATES)


@given(params=st.dictionaries(st.sampled_from(["code", "question", "unit"]), st.text(max_size=3000)))
@settings(max_examples=60, deadline=None)
def test_every_template_passes_meta_parameter_rules(params: dict[str, str]) -> None:
    """Template parameters are one line, never empty, never over the body limit; buttons carry the choices."""
    outbound = Outbound(
        key=ConversationKey(ChannelName.WHATSAPP, "6281234567890"),
        text_key="label",
        params=params,
        choices=(Choice("cmd:jawab PDG-234567", "update.answer_button"),),
    )
    for spec in default_whatsapp_templates().values():
        body = render_template(spec, outbound, "line one\n\nline\ttwo     three")
        check_message({"messaging_product": "whatsapp", "to": "6281234567890", **body}, TEMPLATES)


async def test_outside_the_window_the_kind_s_template_is_sent(rig: Rig) -> None:
    """A message to a chat silent for over 24 hours goes out as its kind's template, with quick replies."""
    question = Outbound(
        key=ConversationKey(ChannelName.WHATSAPP, SITI.address),
        text_key="update.info_requested",
        params={"code": "PDG-234567", "question": "Di mana\ntepatnya?"},
        choices=(Choice("cmd:jawab PDG-234567", "update.answer_button"),),
        notice=NoticeKind.INFO_REQUEST,
    )
    reply = message(SITI, "Baik.")  # a plain reply has no template: it cannot go out any more
    report, (asked, replied) = await deliver(rig, question, reply)
    (sent,) = rig.api.to(SITI)
    assert sent.body["template"]["name"] == "sw_permintaan_info"
    assert sent.text == "PDG-234567 | Di mana tepatnya?"
    assert sent.choices == [("cmd:jawab PDG-234567", "")]
    assert report.sent == [asked]
    assert "no template for kind -" in report.failed[replied]


async def test_window_closed_at_meta_switches_to_the_template(rig: Rig, app: App) -> None:
    """If Meta answers 131047 although we thought the window open, the template goes instead and we learn."""
    async with app.uow() as uow:
        await uow.contacts.note_contact(ChannelName.WHATSAPP, SITI.address, app.clock.now())
        await uow.commit()
    report, (update,) = await deliver(rig, message(SITI, "Sudah diterima", notice=NoticeKind.COMPLAINT_UPDATE))
    assert report.sent == [update]
    assert [e.code for e in rig.api.refused] == [131047]
    (sent,) = rig.api.to(SITI)
    assert sent.body["template"]["name"] == "sw_pembaruan_pengaduan"
    async with app.uow() as uow:
        assert await uow.contacts.last_contacts(ChannelName.WHATSAPP, [SITI.address]) == {}


async def test_throughput_limit_holds_back_the_whole_batch(rig: Rig, clock: FrozenClock) -> None:
    """130429: nothing more is sent in that batch; the messages are retried later, in order."""
    await open_window(rig, SITI, BUDI)
    rig.channel.parallel = asyncio.Semaphore(1)  # one chat at a time, so the second one starts after the error
    rig.api.fail_next(130429)
    report, ids = await deliver(rig, message(SITI, "satu"), message(BUDI, "dua"))
    assert sorted(report.retry) == sorted(ids) and not report.sent
    assert all("130429" in error for error, _ in report.retry.values())
    clock.advance(timedelta(minutes=1))
    rig.api.last_inbound.update(dict.fromkeys((SITI.address, BUDI.address), clock.now()))
    again = await rig.app.delivery().deliver_due()
    assert sorted(again.sent) == sorted(ids)


async def test_pair_rate_limit_delays_only_that_chat_and_keeps_its_order(rig: Rig) -> None:
    """131056 for one citizen: their later messages wait too; other chats are sent."""
    await open_window(rig, SITI, BUDI)
    rig.api.fail_next(131056, recipient=SITI.address)
    first, second = message(SITI, "satu", "A", "B"), message(SITI, "dua", "C", "D")
    report, (one, two, three) = await deliver(rig, first, second, message(BUDI, "tiga"))
    assert list(report.retry) == [one]
    assert list(report.deferred) == [two]  # not tried (no attempt counted): it waits behind `one`
    assert report.sent == [three]
    assert rig.api.to(SITI) == []


async def test_undeliverable_recipients_are_marked_unreachable(rig: Rig) -> None:
    """131026 (not on WhatsApp / undeliverable): unreachable, and the chat's later messages are not tried."""
    await open_window(rig, SITI)
    rig.api.fail_next(131026)
    report, ids = await deliver(rig, message(SITI, "satu", "A", "B"), message(SITI, "dua", "C", "D"))
    assert sorted(report.unreachable) == sorted(ids)
    rows = await entries(rig)
    assert {rows[i].status for i in ids} == {"unreachable"}
    assert len(rig.api.refused) == 1


async def test_other_errors_fail_or_retry_as_meta_documents(rig: Rig) -> None:
    """An invalid parameter fails that message only; a server error (131000, HTTP 500) is retried."""
    await open_window(rig, SITI)
    rig.api.fail_next(131009)
    rig.api.fail_next(131000, http_status=500, skip=1)
    report, (bad, good, flaky) = await deliver(
        rig, message(SITI, "satu", "A", "B"), message(SITI, "dua", "C", "D"), message(SITI, "tiga", "E", "F")
    )
    assert list(report.failed) == [bad] and "131009" in report.failed[bad]
    assert report.sent == [good]
    assert list(report.retry) == [flaky]


async def test_a_retry_resumes_after_the_parts_already_delivered(rig: Rig, app: App, clock: FrozenClock) -> None:
    """A photo then a list: when the list fails, the retry sends only the list, not the photo again."""
    await open_window(rig, SITI)
    photo = app.attachments.save(jpeg_with_gps(), "image/jpeg", MediaKind.PHOTO, clock.now())
    rig.api.fail_next(131000, skip=1)
    files = (OutboundFile(Attachment.PHOTO, photo.path),)
    report, (notice,) = await deliver(rig, message(SITI, "Laporan baru", "A", "B", "C", "D", files=files))
    assert list(report.retry) == [notice]
    clock.advance(timedelta(minutes=5))
    rig.api.last_inbound[SITI.address] = clock.now()
    assert (await app.delivery().deliver_due()).sent == [notice]
    assert [s.kind for s in rig.api.to(SITI)] == ["image", "list"]


async def test_delivery_statuses_update_the_outbox_and_failures_show_to_admins(
    rig: Rig, app: App, clock: FrozenClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """Statuses move forward only; a failed one marks the message (outbox list); unknown wamids are ignored."""
    await open_window(rig, SITI, BUDI)
    _, (read_id, failed_id, gone_id) = await deliver(
        rig, message(SITI, "satu", "A", "B"), message(BUDI, "dua", "A", "B"), message(SITI, "tiga", "C", "D")
    )
    rows = await entries(rig)
    read_wamid, failed_wamid, gone_wamid = (rows[i].platform_id or "" for i in (read_id, failed_id, gone_id))
    for status in ("delivered", "read", "sent"):
        assert (await rig.api.post_status(read_wamid, status, SITI)).status_code == 200
    assert (await rig.api.post_status(failed_wamid, "failed", BUDI, error_code=132001)).status_code == 200
    assert (await rig.api.post_status(gone_wamid, "failed", SITI, error_code=131026)).status_code == 200
    assert (await rig.api.post_status("wamid.NOT-OURS", "failed", SITI, error_code=131026)).status_code == 200
    assert (await rig.api.post_status("wamid.NOT-OURS", "read", SITI)).status_code == 200
    rows = await entries(rig)
    assert (rows[read_id].status, rows[read_id].platform_status) == ("sent", "read")
    assert (rows[failed_id].status, rows[failed_id].platform_status) == ("failed", "failed")
    assert "132001" in (rows[failed_id].last_error or "")
    assert rows[gone_id].status == "unreachable"
    assert len(rows) == 3

    args = argparse.Namespace(status="failed", channel="whatsapp", limit=50, format="json")
    assert await cmd_outbox_list(app, args) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert (listed["id"], listed["status"], listed["recipient"]) == (failed_id, "failed", "…5432")
    assert "132001" in listed["error"]
    assert build_parser().parse_args(["outbox", "list", "--status", "failed"]).handler is cmd_outbox_list


async def test_failed_statuses_that_a_retry_can_fix_requeue_the_message(rig: Rig, app: App, clock: FrozenClock) -> None:
    """A late 131047 (window closed) requeues the message, which then goes out as its template."""
    await open_window(rig, SITI)
    _, (update,) = await deliver(rig, message(SITI, "Sudah diterima", "Lihat", notice=NoticeKind.COMPLAINT_UPDATE))
    wamid = (await entries(rig))[update].platform_id or ""
    assert (await rig.api.post_status(wamid, "failed", SITI, error_code=131047)).status_code == 200
    row = (await entries(rig))[update]
    assert (row.status, row.platform_id) == ("pending", None)
    clock.advance(timedelta(minutes=1))
    assert (await app.delivery().deliver_due()).sent == [update]
    assert [s.kind for s in rig.api.to(SITI)] == ["button", "template"]
    assert (await rig.api.post_status(wamid, "failed", SITI, error_code=131047)).status_code == 200  # a replay
    assert (await entries(rig))[update].status == "sent"


def test_configured_templates_are_read_from_json(monkeypatch: pytest.MonkeyPatch) -> None:
    """SUARAWARGA_WHATSAPP_TEMPLATES is a JSON object of kind -> name, language, params, buttons."""
    from suarawarga.config import Settings

    raw = {"complaint_update": {"name": "pembaruan_pengaduan", "language": "id", "params": ["code"]}}
    monkeypatch.setenv("SUARAWARGA_WHATSAPP_TEMPLATES", json.dumps(raw))
    loaded = Settings(_env_file=None)  # type: ignore[call-arg]
    assert loaded.whatsapp_templates == {
        "complaint_update": WhatsAppTemplate(name="pembaruan_pengaduan", params=["code"])
    }
    with pytest.raises(MetaError):
        check_message({"messaging_product": "whatsapp", "to": "1", "type": "text", "text": {"body": "x"}}, TEMPLATES)


async def test_a_chat_this_process_saw_write_needs_no_query_and_meta_s_refusal_is_learnt(rig: Rig, app: App) -> None:
    """The receiver's memory opens the window for this process's sends; Meta's 131047 makes it forget the chat."""
    rig.api.last_inbound[SITI.address] = app.clock.now()  # Meta sees the window open; the database knows nothing
    rig.channel.receiver.recent.note(SITI.address, app.clock.now())
    report, (reply,) = await deliver(rig, message(SITI, "Baik."))  # a plain reply: only inside the window
    assert report.sent == [reply]
    assert "template" not in rig.api.to(SITI)[0].body
    rig.api.last_inbound.pop(SITI.address)  # the window closed at Meta
    report, (update,) = await deliver(rig, message(SITI, "Sudah diterima", notice=NoticeKind.COMPLAINT_UPDATE))
    assert report.sent == [update] and [e.code for e in rig.api.refused] == [131047]
    assert rig.channel.receiver.recent.get(SITI.address) is None
    rig.api.refused.clear()
    report, (again,) = await deliver(rig, message(SITI, "Lagi", notice=NoticeKind.COMPLAINT_UPDATE))
    assert report.sent == [again] and rig.api.refused == []  # straight to the template: nothing to refuse


def test_recent_contacts_keep_the_latest_time_and_a_bounded_number_of_chats() -> None:
    """A later message moves a chat's time forward, never back; past `most` chats the oldest is forgotten."""
    recent = RecentContacts(most=2)
    early, late = datetime(2026, 12, 1, 8, tzinfo=UTC), datetime(2026, 12, 1, 9, tzinfo=UTC)
    recent.note("a", late)
    recent.note("a", early)
    assert recent.get("a") == late
    recent.note("b", early)
    recent.note("c", early)
    assert recent.get("a") is None and recent.get("b") == early and recent.get("c") == early
