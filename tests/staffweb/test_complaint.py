"""The complaint page of the staff console: who may see and act, what each action does and tells the citizen."""

from __future__ import annotations

import asyncio
import io

import httpx
import pytest
from PIL import Image

from suarawarga.bootstrap import App
from suarawarga.bot.messages import Outbound
from suarawarga.complaints.model import ActorKind, EventKind, IdentityMode, StaffRole
from tests.jobs.support import officer, outbox_to
from tests.staffweb.support import console_client, csrf_of, filed, say, seen_of, sign_in, state
from tests.support.images import MODEL, jpeg_with_gps

# Who is signed in -> (may open a DPUPR complaint and act on it). The complaint is routed to DPUPR (OPD A).
MATRIX = {
    "petugas-dpupr": ("DPUPR", StaffRole.OFFICER, True),  # officer of the handling OPD
    "kepala-dpupr": ("DPUPR", StaffRole.HEAD, True),  # head of the handling OPD
    "petugas-disdik": ("DISDIK", StaffRole.OFFICER, False),  # officer of another OPD (OPD B)
    "kepala-disdik": ("DISDIK", StaffRole.HEAD, False),  # head of another OPD
    "admin-kota": ("BAG-ORGANISASI", StaffRole.ADMIN, True),  # city admin
    "petugas-organisasi": ("BAG-ORGANISASI", StaffRole.OFFICER, True),  # officer of the city admin unit
}
ACTIONS = {
    "terima": {},
    "minta-info": {"pertanyaan": "Di sisi jalan sebelah mana tepatnya?"},
    "tanggapi": {"tanggapan": "Tim kami akan memeriksa besok pagi."},
    "alihkan": {"tujuan": "DISHUB", "alasan": "Ini rambu lalu lintas, wewenang Dishub."},
    "selesai": {"catatan": "Lubang sudah ditambal dengan aspal."},
}


async def _signed(app: App, http: httpx.AsyncClient, name: str) -> str:
    unit, role, _ = MATRIX[name]
    await officer(app, unit, name, role)
    return await sign_in(app, http, name)


@pytest.mark.parametrize("name", list(MATRIX))
async def test_who_may_open_a_complaint_and_its_photos(app: App, name: str) -> None:
    """Officers and the head of the handling OPD and city admins open it; another OPD's staff get 403."""
    complaint = await filed(app)
    allowed = MATRIX[name][2]
    async with console_client(app) as http:
        await _signed(app, http, name)
        page = await http.get(f"/staf/aduan/{complaint.code}")
        photo = await http.get(f"/staf/aduan/{complaint.code}/foto/1")
    if allowed:
        assert page.status_code == 200
        assert "Jalan berlubang besar" in page.text and "Rahasia Warga" in page.text  # a named reporter
        assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
        assert "no-store" in photo.headers["cache-control"]
    else:
        assert page.status_code == 403 and photo.status_code == 403
        for secret in ("Jalan berlubang", "Rahasia Warga", "081234567890", "Sudirman"):
            assert secret not in page.text
        assert "Tidak diizinkan" in page.text


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("name", list(MATRIX))
async def test_who_may_act_and_that_a_refusal_changes_nothing(app: App, name: str, action: str) -> None:
    """Every action: allowed for the handling OPD's staff and city admins; 403 and no change for another OPD."""
    complaint = await filed(app)
    async with console_client(app) as http:
        csrf = await _signed(app, http, name)
        before = await state(app, complaint.code)
        data = {"csrf": csrf, "seen": f"diterima:{complaint.unit_id}", **ACTIONS[action]}
        response = await http.post(f"/staf/aduan/{complaint.code}/{action}", data=data)
    after = await state(app, complaint.code)
    if MATRIX[name][2]:
        assert response.status_code == 303, response.text
        assert response.headers["location"] == f"/staf/aduan/{complaint.code}?ok={action}"
        assert after[2] == before[2] + 1  # one more history entry
    else:
        assert response.status_code == 403
        assert after == before


async def test_signed_out_actions_are_redirected_and_change_nothing(app: App) -> None:
    """Without a session every action redirects to the sign-in page and does nothing."""
    complaint = await filed(app)
    before = await state(app, complaint.code)
    async with console_client(app) as http:
        for action, extra in ACTIONS.items():
            data = {"csrf": "0" * 64, "seen": f"diterima:{complaint.unit_id}", **extra}
            response = await http.post(f"/staf/aduan/{complaint.code}/{action}", data=data)
            assert response.status_code == 303 and response.headers["location"] == "/staf/masuk"
        assert (await http.get(f"/staf/aduan/{complaint.code}/foto/1")).status_code == 303
    assert await state(app, complaint.code) == before


async def test_an_action_without_the_form_token_is_refused(app: App) -> None:
    """A missing or foreign form token: 403, nothing changed, no message to the citizen."""
    complaint = await filed(app)
    async with console_client(app) as http, console_client(app) as other:
        await _signed(app, http, "petugas-dpupr")
        foreign = await _signed(app, other, "kepala-dpupr")  # a valid token, of another session
        before = await state(app, complaint.code)
        for token in (None, "", foreign):
            data = {"seen": f"diterima:{complaint.unit_id}"} | ({"csrf": token} if token is not None else {})
            response = await http.post(f"/staf/aduan/{complaint.code}/terima", data=data)
            assert response.status_code == 403
    assert await state(app, complaint.code) == before


async def test_the_citizen_is_told_exactly_as_when_the_officer_acts_in_chat(app: App) -> None:
    """Accept, ask and answer, reply, resolve: the citizen's messages from the web equal those from chat."""
    await officer(app, "DPUPR", "petugas-dpupr")
    by_chat = await filed(app, chat="warga-chat")
    by_web = await filed(app, chat="warga-web")
    chat_steps = [
        f"tindak {by_chat.code}",
        f"/st acc {by_chat.code}",
        f"/st info {by_chat.code}",
        "Di sisi jalan sebelah mana tepatnya?",
        f"/st reply {by_chat.code}",
        "Tim kami akan memeriksa besok pagi.",
    ]
    for line in chat_steps:
        await say(app, "petugas-dpupr", line)
    async with console_client(app) as http:
        csrf = await sign_in(app, http, "petugas-dpupr")
        for action in ("terima", "minta-info", "tanggapi"):
            page = await http.get(f"/staf/aduan/{by_web.code}")
            data = {"csrf": csrf, "seen": seen_of(page.text), **ACTIONS[action]}
            assert (await http.post(f"/staf/aduan/{by_web.code}/{action}", data=data)).status_code == 303
    from_chat = await outbox_to(app, "warga-chat")
    from_web = await outbox_to(app, "warga-web")

    def shape(messages: list[Outbound], code: str) -> list[tuple[object, ...]]:
        return [
            (
                m.text_key,
                {k: v.replace(code, "CODE") for k, v in m.params.items()},
                [(c.id.replace(code, "CODE"), c.text_key) for c in m.choices],
                m.notice,
                m.language,
            )
            for m in messages
        ]

    assert shape(from_web, by_web.code) == shape(from_chat, by_chat.code)
    assert [m.text_key for m in from_web] == ["update.accepted", "update.info_requested", "update.replied"]


async def test_the_citizen_answers_in_chat_and_the_officer_resolves_with_a_photo(app: App) -> None:
    """The answer shows in the history; the evidence photo is re-encoded (no EXIF) and goes to the citizen."""
    complaint = await filed(app)
    async with console_client(app) as http:
        csrf = await _signed(app, http, "petugas-dpupr")
        for action in ("terima", "minta-info"):
            page = await http.get(f"/staf/aduan/{complaint.code}")
            data = {"csrf": csrf, "seen": seen_of(page.text), **ACTIONS[action]}
            assert (await http.post(f"/staf/aduan/{complaint.code}/{action}", data=data)).status_code == 303
        await say(app, "warga-1", f"jawab {complaint.code}")
        await say(app, "warga-1", "Sebelah kiri, dekat tiang listrik")
        page = await http.get(f"/staf/aduan/{complaint.code}")
        assert "Sebelah kiri, dekat tiang listrik" in page.text and "Pelapor menjawab" in page.text
        files = [("foto", ("bukti.jpg", jpeg_with_gps((320, 240)), "image/jpeg"))]
        data = {"csrf": csrf, "seen": seen_of(page.text), **ACTIONS["selesai"]}
        done = await http.post(f"/staf/aduan/{complaint.code}/selesai", data=data, files=files)
        assert done.status_code == 303, done.text
        page = await http.get(done.headers["location"])
        assert "Pengaduan dinyatakan selesai. Pelapor diberi tahu lewat chat." in page.text
        evidence = await http.get(f"/staf/aduan/{complaint.code}/foto/2")
    assert evidence.status_code == 200
    image = Image.open(io.BytesIO(evidence.content))
    assert image.size == (320, 240) and not image.getexif()
    assert MODEL.encode() not in evidence.content
    async with app.uow() as uow:
        stored = await uow.complaints.attachments(complaint.id, ActorKind.STAFF)
    assert [a.kind for a in stored] == ["evidence"]
    told = await outbox_to(app, "warga-1")
    resolved = [m for m in told if m.text_key == "update.resolved"]
    assert len(resolved) == 1 and [f.path for f in resolved[0].files] == [stored[0].path]
    assert [c.text_key for c in resolved[0].choices] == [
        "rating.solved.ya",
        "rating.solved.belum",
        "rating.solved.sebagian",
    ]


async def test_an_unreadable_photo_is_refused_and_nothing_changes(app: App) -> None:
    """A file that is no image: 400 with the chat's wording, the complaint unchanged, no file left behind."""
    complaint = await filed(app)
    async with console_client(app) as http:
        csrf = await _signed(app, http, "petugas-dpupr")
        before = await state(app, complaint.code)
        stored_before = sorted(p for p, _, _ in app.attachments.files())
        files = [("foto", ("bukti.jpg", b"not an image at all", "image/jpeg"))]
        data = {"csrf": csrf, "seen": f"diterima:{complaint.unit_id}", **ACTIONS["selesai"]}
        response = await http.post(f"/staf/aduan/{complaint.code}/selesai", data=data, files=files)
    assert response.status_code == 400
    assert "Foto tidak bisa dibaca" in response.text
    assert "Lubang sudah ditambal dengan aspal." in response.text  # what the officer typed is kept
    assert await state(app, complaint.code) == before
    assert sorted(p for p, _, _ in app.attachments.files()) == stored_before


async def test_a_text_too_short_is_refused_with_the_chat_rule(app: App) -> None:
    """The chat's length rule (3 to 2000 letters): the page says so and nothing is sent."""
    complaint = await filed(app)
    async with console_client(app) as http:
        csrf = await _signed(app, http, "petugas-dpupr")
        before = await state(app, complaint.code)
        data = {"csrf": csrf, "seen": f"diterima:{complaint.unit_id}", "tanggapan": "ok"}
        response = await http.post(f"/staf/aduan/{complaint.code}/tanggapi", data=data)
    assert response.status_code == 400 and "Mohon tulis 3 sampai 2000 huruf." in response.text
    assert await state(app, complaint.code) == before


async def test_two_officers_accepting_at_once_one_wins_the_other_is_told(app: App) -> None:
    """Two accepts sent together: one is done, the other gets a clear message; one event, one message."""
    complaint = await filed(app)
    async with console_client(app) as first, console_client(app) as second:
        csrf_a = await _signed(app, first, "petugas-dpupr")
        csrf_b = await _signed(app, second, "kepala-dpupr")
        seen = f"diterima:{complaint.unit_id}"
        path = f"/staf/aduan/{complaint.code}/terima"
        answers = await asyncio.gather(
            first.post(path, data={"csrf": csrf_a, "seen": seen}),
            second.post(path, data={"csrf": csrf_b, "seen": seen}),
        )
    assert sorted(a.status_code for a in answers) == [303, 409]
    loser = next(a for a in answers if a.status_code == 409)
    assert "baru saja diubah oleh petugas lain" in loser.text and "Sedang diproses" in loser.text
    async with app.uow() as uow:
        history = await uow.complaints.history(complaint.id)
    assert [e.kind for e in history].count(EventKind.ACCEPTED) == 1
    assert [m.text_key for m in await outbox_to(app, "warga-1")] == ["update.accepted"]


async def test_an_action_from_a_stale_page_is_not_done(app: App) -> None:
    """An officer whose page is older than another's action is told, and their action waits for them."""
    complaint = await filed(app)
    async with console_client(app) as first, console_client(app) as second:
        csrf_a = await _signed(app, first, "petugas-dpupr")
        csrf_b = await _signed(app, second, "kepala-dpupr")
        stale = seen_of((await second.get(f"/staf/aduan/{complaint.code}")).text)
        page = await first.get(f"/staf/aduan/{complaint.code}")
        data = {"csrf": csrf_a, "seen": seen_of(page.text), **ACTIONS["alihkan"]}
        assert (await first.post(f"/staf/aduan/{complaint.code}/alihkan", data=data)).status_code == 303
        before = await state(app, complaint.code)
        data = {"csrf": csrf_b, "seen": stale, **ACTIONS["tanggapi"]}
        late = await second.post(f"/staf/aduan/{complaint.code}/tanggapi", data=data)
    # The complaint went to Dishub: the head of DPUPR may no longer act on it at all.
    assert late.status_code == 403
    assert await state(app, complaint.code) == before


async def test_a_stale_page_of_an_allowed_officer_gets_the_conflict_message(app: App) -> None:
    """Same unit, status moved on: 409 with the new status; what was typed stays in the form."""
    complaint = await filed(app)
    async with console_client(app) as first, console_client(app) as second:
        csrf_a = await _signed(app, first, "petugas-dpupr")
        csrf_b = await _signed(app, second, "kepala-dpupr")
        stale = seen_of((await second.get(f"/staf/aduan/{complaint.code}")).text)
        data = {"csrf": csrf_a, "seen": stale}
        assert (await first.post(f"/staf/aduan/{complaint.code}/terima", data=data)).status_code == 303
        before = await state(app, complaint.code)
        data = {"csrf": csrf_b, "seen": stale, **ACTIONS["tanggapi"]}
        late = await second.post(f"/staf/aduan/{complaint.code}/tanggapi", data=data)
    assert late.status_code == 409
    assert "Sedang diproses" in late.text and "Tim kami akan memeriksa besok pagi." in late.text
    assert await state(app, complaint.code) == before


async def test_a_transfer_reaches_the_new_opd_as_from_chat(app: App) -> None:
    """Alihkan: the complaint goes to the chosen OPD, whose officer gets its card and the reason."""
    complaint = await filed(app)
    await officer(app, "DISHUB", "petugas-dishub")
    async with console_client(app) as http:
        csrf = await _signed(app, http, "petugas-dpupr")
        data = {"csrf": csrf, "seen": f"diterima:{complaint.unit_id}", **ACTIONS["alihkan"]}
        assert (await http.post(f"/staf/aduan/{complaint.code}/alihkan", data=data)).status_code == 303
        after = await http.get(f"/staf/aduan/{complaint.code}")
    assert after.status_code == 403  # no longer DPUPR's
    keys = [m.text_key for m in await outbox_to(app, "petugas-dishub")]
    assert keys == ["staff.new_transferred", "staff.transfer_note"]
    assert [m.text_key for m in await outbox_to(app, "warga-1")] == ["update.transferred"]


async def test_a_confidential_reporter_is_shown_only_on_request_and_audited(app: App) -> None:
    """Rahasia: the page hides the reporter; the explicit button shows them and records a web view."""
    complaint = await filed(app, identity=IdentityMode.RAHASIA)
    async with console_client(app) as http:
        csrf = await _signed(app, http, "petugas-dpupr")
        page = await http.get(f"/staf/aduan/{complaint.code}")
        assert "Rahasia Warga" not in page.text and "081234567890" not in page.text
        assert "Lihat identitas pelapor" in page.text
        assert (await http.post(f"/staf/aduan/{complaint.code}/identitas", data={})).status_code == 403
        shown = await http.post(f"/staf/aduan/{complaint.code}/identitas", data={"csrf": csrf_of(page.text)})
        assert csrf == csrf_of(page.text)
    assert shown.status_code == 200
    assert "Rahasia Warga" in shown.text and "081234567890" in shown.text
    assert "no-store" in shown.headers["cache-control"]
    async with app.uow() as uow:
        views = await uow.audit.identity_views()
    assert [(v.officer, v.channel, v.complaint_code) for v in views] == [("Petugas-Dpupr", "web", complaint.code)]


async def test_the_page_shows_the_map_link_deadlines_and_history(app: App) -> None:
    """Location as an OpenStreetMap link, the three deadlines, the history with the officer's name; English too."""
    complaint = await filed(app)
    async with console_client(app) as http:
        csrf = await _signed(app, http, "petugas-dpupr")
        data = {"csrf": csrf, "seen": f"diterima:{complaint.unit_id}"}
        await http.post(f"/staf/aduan/{complaint.code}/terima", data=data)
        page = await http.get(f"/staf/aduan/{complaint.code}")
        english = await http.get(f"/staf/aduan/{complaint.code}?lang=en")
    assert "https://www.openstreetmap.org/?mlat=-0.949200&amp;mlon=100.354300" in page.text
    for text in ("Diterima OPD", "Tanggapan pertama", "Selesai ditangani", "terpenuhi", "sisa"):
        assert text in page.text
    assert "Diterima" in page.text and "Petugas-Dpupr" in page.text
    assert "Jl. Sudirman depan SD 05" in page.text and "Padang Barat" in page.text
    assert "Deadlines" in english.text and "Accepted by the agency" in english.text
    assert "Batas waktu" not in english.text


async def test_unknown_codes_and_photos_are_404_pages(app: App) -> None:
    """A code nobody filed, a photo number out of range, a malformed code: 404 pages in Indonesian."""
    complaint = await filed(app)
    async with console_client(app) as http:
        await _signed(app, http, "petugas-dpupr")
        for path in (
            "/staf/aduan/PDG-222222",
            f"/staf/aduan/{complaint.code}/foto/9",
            "/staf/aduan?kode=halo",
            "/staf/tidak-ada",
        ):
            response = await http.get(path)
            assert response.status_code == 404, path
            assert "Tidak ditemukan" in response.text
        found = await http.get(f"/staf/aduan?kode={complaint.code.lower()}")
        assert found.status_code == 303 and found.headers["location"] == f"/staf/aduan/{complaint.code}"


async def test_an_anonymous_reporter_is_not_told_and_the_officer_knows_it(app: App) -> None:
    """Anonim: nobody to tell; the page says so after the action, and shows no reporter."""
    complaint = await filed(app, identity=IdentityMode.ANONIM)
    async with console_client(app) as http:
        csrf = await _signed(app, http, "petugas-dpupr")
        page = await http.get(f"/staf/aduan/{complaint.code}")
        assert "anonim — tidak dapat dihubungi" in page.text and "Lihat identitas" not in page.text
        data = {"csrf": csrf, "seen": seen_of(page.text), **ACTIONS["tanggapi"]}
        done = await http.post(f"/staf/aduan/{complaint.code}/tanggapi", data=data)
        assert done.headers["location"] == f"/staf/aduan/{complaint.code}?ok=tanggapi-anonim"
        after = await http.get(done.headers["location"])
    assert "Tanggapan terkirim. Pelapor anonim, jadi tidak dapat diberi tahu." in after.text
    async with app.uow() as uow:
        assert await uow.outbox.counts() == {"sent": 1}  # only the officer's sign-in link
