"""The queue, report and staff pages through HTTP, signed in through the real chat link, for every role.

The authorization matrix: an officer and a head of DPUPR, an officer of DLH (another OPD), a city admin, and a
browser that is not signed in. Figures are checked against the seeded rows, the CLI's report and the chat's
texts; private fields (reporter names and contacts) are searched for in every page and download.
"""

from __future__ import annotations

import asyncio
import csv
import io
import random
import re

from openpyxl import load_workbook

from suarawarga.bootstrap import App
from suarawarga.bot.messages import ChannelName
from suarawarga.complaints.model import OPEN_STATUSES, ComplaintStatus
from suarawarga.config import Settings
from tests.site.support import QUARTER
from tests.site.test_pages import _cli_report
from tests.staffweb.seeding import CONTACTS, REPORTERS, seed_city
from tests.staffweb.support import console_client, say, sign_in
from tests.surveys.support import spread, store

CODE = re.compile(r'<tr data-code="(PDG-[0-9A-Z]{6})"')
PAGES = (
    "/staf/",
    "/staf/unduh.csv",
    "/staf/unduh.xlsx",
    "/staf/laporan",
    "/staf/laporan/ikm",
    "/staf/laporan/ringkasan",
    "/staf/laporan/statistik",
    "/staf/laporan/poster",
    "/staf/staf",
)


def _codes(html: str) -> list[str]:
    return CODE.findall(html)


def _private(text: str) -> list[str]:
    return [secret for secret in (*REPORTERS, *CONTACTS) if secret in text]


async def test_signed_out_every_page_sends_to_the_sign_in_page(app: App) -> None:
    """Without a session each page (and each action) redirects to the page that says how to get a link."""
    async with console_client(app) as http:
        for path in PAGES:
            response = await http.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/staf/masuk"), path
        for path in ("/staf/staf/undangan", "/staf/staf/hapus"):
            response = await http.post(path, data={"unit": "DPUPR", "peran": "officer", "jam": "72"})
            assert response.status_code == 303 and response.headers["location"].startswith("/staf/masuk")


async def test_the_queue_shows_each_member_their_units_only(app: App) -> None:
    """Officer and head of DPUPR see DPUPR's complaints, DLH's officer DLH's, the admin every one; counts agree."""
    seeded = await seed_city(app)
    units = {
        "petugas-pu": seeded.staff.officer.unit_id,
        "kepala-pu": seeded.staff.officer.unit_id,
        "petugas-dlh": seeded.staff.other.unit_id,
    }
    for chat in ("petugas-pu", "kepala-pu", "petugas-dlh", "admin-kota"):
        async with console_client(app) as http:
            await sign_in(app, http, chat)
            page = await http.get("/staf/", params={"per": "100", "status": "semua"})
            landing = await http.get("/staf/", params={"per": "100"})
        assert page.status_code == 200
        expected = [c for c in seeded.complaints if chat not in units or c.unit_id == units[chat]]
        assert sorted(_codes(page.text)) == sorted(c.code for c in expected), chat
        waiting = sorted(c.code for c in expected if c.status in OPEN_STATUSES)
        assert sorted(_codes(landing.text)) == waiting, chat  # the landing page: what still needs the OPD
        assert f'data-count="open">{len(waiting)}<' in landing.text
        assert f'data-total="{len(expected)}"' in page.text
        for status in ComplaintStatus:
            count = sum(1 for c in expected if c.status is status)
            assert f'data-count="{status.value}">{count}<' in page.text, (chat, status)
        assert _private(page.text) == [], chat
        assert page.headers["cache-control"] == "no-store"


async def test_filters_search_and_paging_through_the_address(app: App) -> None:
    """Status, kecamatan, identity, overdue, search and paging narrow the list as the seeded data says."""
    seeded = await seed_city(app)
    async with console_client(app) as http:
        await sign_in(app, http, "admin-kota")
        page = await http.get("/staf/", params={"status": "diterima", "kecamatan": "KEC-KURANJI", "per": "100"})
        async with app.uow() as uow:
            kuranji = await uow.units.by_code("KEC-KURANJI")
        assert kuranji is not None
        expected = [
            c.code for c in seeded.complaints if c.status is ComplaintStatus.DITERIMA and c.kecamatan_id == kuranji.id
        ]
        assert sorted(_codes(page.text)) == sorted(expected)
        overdue = await http.get("/staf/", params={"terlambat": "1", "per": "100"})
        marked = re.findall(r'data-code="([^"]+)" data-deadline="overdue"', overdue.text)
        assert marked and sorted(marked) == sorted(_codes(overdue.text))  # every row of the filter is marked
        assert all(c.status in OPEN_STATUSES for c in seeded.complaints if c.code in marked)
        one = seeded.complaints[3]
        found = await http.get("/staf/", params={"cari": one.code.lower(), "status": "semua"})
        assert _codes(found.text) == [one.code]
        first = await http.get("/staf/", params={"status": "semua", "urut": "terbaru"})
        second = await http.get("/staf/", params={"status": "semua", "urut": "terbaru", "hal": "2"})
        assert len(_codes(first.text)) == 25 and len(_codes(second.text)) == len(seeded.complaints) - 25
        assert not set(_codes(first.text)) & set(_codes(second.text))
        assert 'rel="next" href="?status=semua&amp;urut=terbaru&amp;hal=2"' in first.text
        bad = await http.get("/staf/", params={"dari": "kemarin"})
        assert bad.status_code == 400 and "kemarin" in bad.text
        wrong = await http.get("/staf/", params={"kategori": "tidak_ada"})
        assert wrong.status_code == 400
        english = await http.get("/staf/", params={"lang": "en"})
        assert "Complaint queue" in english.text and "Antrian pengaduan" not in english.text


async def test_exports_hold_what_the_member_may_see_and_no_formula(app: App) -> None:
    """CSV and xlsx list the filtered complaints of the member's units; text is text; no reporter is named."""
    seeded = await seed_city(app)
    dpupr = seeded.staff.officer.unit_id
    async with console_client(app) as http:
        await sign_in(app, http, "petugas-pu")
        data = await http.get("/staf/unduh.csv", params={"status": "diterima"})
        book = await http.get("/staf/unduh.xlsx", params={"status": "semua"})
        other = await http.get("/staf/unduh.csv", params={"kategori": "sampah"})  # another OPD's category
    assert data.status_code == 200 and data.headers["content-type"].startswith("text/csv")
    assert "attachment" in data.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(data.content.decode("utf-8-sig"))))
    expected = [c for c in seeded.complaints if c.unit_id == dpupr and c.status is ComplaintStatus.DITERIMA]
    assert sorted(r[0] for r in rows[1:]) == sorted(c.code for c in expected)
    assert _private(data.text) == [] and _private(book.content.decode("latin-1")) == []
    descriptions = [r[-1] for r in rows[1:]]
    assert all(not d.startswith("=") for d in descriptions)
    assert any(d.startswith("'=HYPERLINK") for d in descriptions) or not any("HYPERLINK" in d for d in descriptions)
    assert list(csv.reader(io.StringIO(other.content.decode("utf-8-sig"))))[1:] == []
    sheet = load_workbook(io.BytesIO(book.content)).active
    assert sheet is not None
    values = list(sheet.iter_rows(min_row=2, values_only=True))
    assert sorted(str(v[0]) for v in values) == sorted(c.code for c in seeded.complaints if c.unit_id == dpupr)
    for row in sheet.iter_rows(min_row=2):
        assert row[-1].data_type == "s"  # the description is a string cell, never a formula


async def _with_answers(app: App) -> None:
    rnd = random.Random(3)
    await store(app, spread(rnd, ["DPUPR"], 45, QUARTER, 50) + spread(rnd, ["DLH"], 35, QUARTER, 50), saran_every=4)


async def test_ikm_reports_follow_the_chat_roles_and_equal_the_cli(app: App, settings: Settings) -> None:
    """Heads read their OPD's IKM (page, chart, xlsx), the admin any unit and the city; an officer none."""
    await seed_city(app, count=8)
    await _with_answers(app)
    cli = (await asyncio.to_thread(_cli_report, settings, "DPUPR", "2026-Q4"))[0]
    async with console_client(app) as http:
        await sign_in(app, http, "petugas-pu")
        assert (await http.get("/staf/laporan/ikm")).status_code == 403
        assert (await http.get("/staf/laporan/ikm", params={"unit": "DPUPR"})).status_code == 403
        assert (await http.get("/staf/laporan/ikm/unduh.xlsx", params={"unit": "DPUPR"})).status_code == 403
        index = await http.get("/staf/laporan")
        assert "/staf/laporan/ikm" not in index.text and "/staf/laporan/statistik" in index.text
    async with console_client(app) as http:
        await sign_in(app, http, "kepala-pu")
        page = await http.get("/staf/laporan/ikm", params={"periode": "2026-Q4"})
        assert page.status_code == 200 and f'data-ikm="{cli["ikm"]}"' in page.text
        assert (await http.get("/staf/laporan/ikm", params={"unit": "DLH"})).status_code == 403
        assert (await http.get("/staf/laporan/ikm", params={"unit": "NOPE"})).status_code == 404
        assert (await http.get("/staf/laporan/ikm", params={"periode": "2026-Q9"})).status_code == 400
        chart = await http.get("/staf/laporan/ikm/grafik.png", params={"unit": "DPUPR", "periode": "2026-Q4"})
        assert chart.status_code == 200 and chart.content.startswith(b"\x89PNG")
        book = await http.get("/staf/laporan/ikm/unduh.xlsx", params={"unit": "DPUPR", "periode": "2026-Q4"})
        assert book.status_code == 200
        assert "Saran" in load_workbook(io.BytesIO(book.content)).sheetnames
        ranged = await http.get("/staf/laporan/ikm", params={"dari": "2026-10-01", "sampai": "2026-12-31"})
        assert f'data-ikm="{cli["ikm"]}"' in ranged.text  # the same days as 2026-Q4
    city = (await asyncio.to_thread(_cli_report, settings, None, "2026-Q4"))[0]
    async with console_client(app) as http:
        await sign_in(app, http, "admin-kota")
        page = await http.get("/staf/laporan/ikm", params={"periode": "2026-Q4"})
        assert page.status_code == 200 and f'data-ikm="{city["ikm"]}"' in page.text
        assert 'data-unit="DPUPR"' in page.text and 'data-unit="DLH"' in page.text
        chart = await http.get("/staf/laporan/ikm/grafik.png", params={"periode": "2026-Q4"})
        assert chart.content.startswith(b"\x89PNG")
        assert (await http.get("/staf/laporan/ikm", params={"unit": "DLH"})).status_code == 200


async def test_digest_and_statistics_as_chat_sends_them(app: App) -> None:
    """A unit's members read its digest (the chat's text) and its statistics; only admins the city's."""
    seeded = await seed_city(app)
    async with console_client(app) as http:
        await sign_in(app, http, "petugas-pu")
        digest = await http.get("/staf/laporan/ringkasan", params={"minggu": "2026-W47"})
        assert digest.status_code == 200
        assert 'data-digest="DPUPR"' in digest.text and 'data-digest="DLH"' not in digest.text
        assert 'data-digest="city"' not in digest.text
        assert "Ringkasan mingguan 2026-W47" in digest.text
        assert (await http.get("/staf/laporan/ringkasan/unduh.xlsx", params={"minggu": "2026-W47"})).status_code == 403
        assert (await http.get("/staf/laporan/ringkasan", params={"minggu": "2026-W48"})).status_code == 400
        stats = await http.get("/staf/laporan/statistik", params={"dari": "2026-09-01", "sampai": "2026-11-23"})
        assert stats.status_code == 200
        table = re.search(r'data-by="category".*?</table>', stats.text, re.S)
        assert table is not None
        received = re.findall(r'<tr data-key="\d*"><td>[^<]*</td><td class="num"[^>]*>(\d+)</td>', table.group(0))
        mine = [c for c in seeded.complaints if c.unit_id == seeded.staff.officer.unit_id]
        assert received and sum(int(n) for n in received) == len(mine)  # all filed since 2026-09-04
        assert _private(stats.text) == []
    async with console_client(app) as http:
        await sign_in(app, http, "admin-kota")
        digest = await http.get("/staf/laporan/ringkasan", params={"minggu": "2026-W47"})
        assert 'data-digest="city"' in digest.text
        book = await http.get("/staf/laporan/ringkasan/unduh.xlsx", params={"minggu": "2026-W47"})
        assert book.status_code == 200 and load_workbook(io.BytesIO(book.content)).sheetnames == ["Ringkasan"]
        chart = await http.get("/staf/laporan/ringkasan/grafik.png", params={"minggu": "2026-W47"})
        assert chart.content.startswith(b"\x89PNG")


async def test_posters_for_heads_and_admins(app: App) -> None:
    """A head prints the posters of their units, the admin any; an officer and another OPD's unit are refused."""
    await seed_city(app, count=2)
    app.settings.telegram_bot_username = "SuaraWargaPadangBot"
    async with console_client(app) as http:
        await sign_in(app, http, "petugas-pu")
        assert (await http.get("/staf/laporan/poster")).status_code == 403
        assert (await http.get("/staf/laporan/poster/DPUPR.png")).status_code == 403
    async with console_client(app) as http:
        await sign_in(app, http, "kepala-pu")
        listing = await http.get("/staf/laporan/poster")
        assert 'data-unit="DPUPR"' in listing.text and 'data-unit="DLH"' not in listing.text
        png = await http.get("/staf/laporan/poster/dpupr.png")
        pdf = await http.get("/staf/laporan/poster/DPUPR.pdf")
        assert png.content.startswith(b"\x89PNG") and pdf.content.startswith(b"%PDF")
        assert (await http.get("/staf/laporan/poster/DLH.png")).status_code == 403


async def test_staff_page_lists_invites_and_removes_as_chat_does(app: App) -> None:
    """Heads manage their OPD, admins every unit; officers are refused; a removed officer is signed out and told."""
    seeded = await seed_city(app, count=2)
    async with console_client(app) as officer_http:
        await sign_in(app, officer_http, "petugas-pu")
        assert (await officer_http.get("/staf/staf")).status_code == 403
        async with console_client(app) as http:
            csrf = await sign_in(app, http, "kepala-pu")
            page = await http.get("/staf/staf")
            assert page.status_code == 200
            assert f'data-staff="{seeded.staff.officer.id}"' in page.text
            assert f'data-staff="{seeded.staff.other.id}"' not in page.text  # DLH's officer
            refused = await http.post("/staf/staf/undangan", data={"unit": "DPUPR", "peran": "officer", "jam": "72"})
            assert refused.status_code == 403 and "data-invite" not in refused.text  # no form token
            admin_invite = {"unit": "DPUPR", "peran": "admin", "jam": "72", "csrf": csrf}
            assert (await http.post("/staf/staf/undangan", data=admin_invite)).status_code == 403
            other = {"unit": "DLH", "peran": "officer", "jam": "72", "csrf": csrf}
            assert (await http.post("/staf/staf/undangan", data=other)).status_code == 403
            made = await http.post("/staf/staf/undangan", data={**admin_invite, "peran": "officer"})
            code = re.search(r'data-invite="([0-9A-Z]{8})"', made.text)
            assert made.status_code == 200 and code is not None
            joined = await say(app, "petugas-baru", f"gabung {code.group(1)}")
            assert joined and joined[0].text_key.startswith("staff.join")
            gone = await http.post("/staf/staf/hapus", data={"id": str(seeded.staff.other.id), "csrf": csrf})
            assert gone.status_code == 404
            self_ = await http.post("/staf/staf/hapus", data={"id": str(seeded.staff.head.id), "csrf": csrf})
            assert self_.status_code == 403
            removed = await http.post(
                "/staf/staf/hapus", data={"id": str(seeded.staff.officer.id), "alasan": "pindah", "csrf": csrf}
            )
            assert removed.status_code == 200 and "dihapus" in removed.text
        async with app.uow() as uow:
            assert await uow.staff.get(seeded.staff.officer.id) is None
            assert await uow.staff.get(seeded.staff.other.id) is not None
            told = [s.message.text_key for s in await uow.outbox.for_recipient(ChannelName.CONSOLE, "petugas-pu")]
        assert "staff.removed_you" in told
        after = await officer_http.get("/staf/")
        assert after.status_code == 303  # their console session ended with the membership
    async with console_client(app) as http:
        await sign_in(app, http, "admin-kota")
        page = await http.get("/staf/staf", params={"unit": "DLH"})
        assert f'data-staff="{seeded.staff.other.id}"' in page.text
        assert 'value="admin"' in page.text  # an admin may invite admins
