"""The public site as the public reads it: figures equal the report, nothing private, errors as pages."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook

from suarawarga.bootstrap import App
from suarawarga.cli.main import main
from suarawarga.config import Settings
from tests.site.support import PRIVATE, client, populate


def _cli_report(settings: Settings, unit: str | None, period: str) -> list[dict[str, object]]:
    """Run `suarawarga report ikm --format json` on the test database and return its lines."""
    words = ["report", "ikm", "--period", period, "--format", "json"] + (["--unit", unit] if unit else [])
    output = io.StringIO()
    import contextlib
    import os

    os.environ["SUARAWARGA_DATABASE_URL"] = settings.database_url
    try:
        with contextlib.redirect_stdout(output):
            assert main(words) == 0
    finally:
        del os.environ["SUARAWARGA_DATABASE_URL"]
    return list(json.loads(output.getvalue()))


def _text(html: str) -> str:
    """Return a page's visible text, tags removed and spaces folded."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _row(html: str, attribute: str, value: str) -> str:
    """Return the text of the table row marked data-ATTRIBUTE="value"."""
    match = re.search(rf'<tr data-{attribute}="{re.escape(value)}">(.*?)</tr>', html, re.S)
    assert match, f"no row {attribute}={value}"
    return _text(match.group(1)).strip()


async def test_the_city_page_shows_the_reports_figures_and_nothing_private(app: App, settings: Settings) -> None:
    """GET / shows the city's and each OPD's IKM as `report ikm` computes them, and complaint figures."""
    await populate(app)
    async with client(app) as http:
        page = await http.get("/")
    assert page.status_code == 200
    html = page.text
    city = (await asyncio.to_thread(_cli_report, settings, None, "2026-Q4"))[0]
    disdukcapil = (await asyncio.to_thread(_cli_report, settings, "DISDUKCAPIL", "2026-Q4"))[0]
    dinkes = (await asyncio.to_thread(_cli_report, settings, "DINKES", "2026-Q4"))[0]
    before = (await asyncio.to_thread(_cli_report, settings, "DISDUKCAPIL", "2026-Q3"))[0]
    assert f'data-ikm="{city["ikm"]}"' in html
    row = _row(html, "unit", "DISDUKCAPIL")
    assert str(disdukcapil["ikm"]).replace(".", ",") in row
    assert f" {disdukcapil['mutu']} " in f" {row} "
    assert str(disdukcapil["n"]) in row
    change = float(str(disdukcapil["ikm"])) - float(str(before["ikm"]))
    assert f"{abs(change):.2f}".replace(".", ",") in row
    assert "belum cukup responden" in _row(html, "unit", "DINKES")
    assert str(dinkes["ikm"]).replace(".", ",") not in _row(html, "unit", "DINKES")
    complaints = re.search(r'<table class="complaints[^"]*">.*?</table>', html, re.S)
    assert complaints
    dpupr = _row(complaints.group(0), "unit", "DPUPR")
    # Received 3, no supporters, resolved 1 (on time, after 8 days), 2 open, of which the one filed 10 days ago
    # and never accepted is past its 3 working days.
    assert dpupr.endswith("3 0 1 100,0 % 8,0 2 1"), dpupr
    for secret in PRIVATE:
        assert secret not in html
    assert "set-cookie" not in page.headers
    assert "script-src" not in page.headers["content-security-policy"]
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"


async def test_the_site_speaks_english_when_asked(app: App) -> None:
    """?lang=en turns every text English, keeps the choice in links, and uses decimal points."""
    await populate(app)
    async with client(app) as http:
        page = (await http.get("/?lang=en")).text
    assert "Agencies ranked by IKM" in page and "Peringkat" not in page
    assert "not enough respondents" in page
    assert 'href="/ikm/DISDUKCAPIL?lang=en"' in page
    assert re.search(r'<td class="num" data-label="IKM">\d+\.\d\d</td>', page)


async def test_a_unit_page_matches_the_report_per_unsur(app: App, settings: Settings) -> None:
    """GET /ikm/{unit} (any case) shows the NRR of every unsur as the report gives them, and the weakest."""
    await populate(app)
    async with client(app) as http:
        page = await http.get("/ikm/disdukcapil?periode=2026-Q4")
        chart = await http.get("/ikm/DISDUKCAPIL/grafik.svg?periode=2026-Q4")
    assert page.status_code == 200
    report = (await asyncio.to_thread(_cli_report, settings, "DISDUKCAPIL", "2026-Q4"))[0]
    nrr = report["nrr"]
    assert isinstance(nrr, dict)
    for unsur, value in nrr.items():
        assert str(value).replace(".", ",") in _row(page.text, "unsur", unsur), unsur
    assert "Unsur terlemah:" in page.text
    assert chart.status_code == 200
    assert chart.headers["content-type"].startswith("image/svg+xml")
    assert chart.content.lstrip().startswith(b"<?xml") or b"<svg" in chart.content[:400]


async def test_the_downloads_are_the_reports_without_suggestions(app: App, settings: Settings, tmp_path: Path) -> None:
    """The CSV is the report's; the xlsx has the respondents' scores but none of their free-text suggestions."""
    city = await populate(app)
    async with client(app) as http:
        got_csv = await http.get("/ikm/DISDUKCAPIL/unduh.csv?periode=2026-Q4")
        got_xlsx = await http.get("/ikm/DISDUKCAPIL/unduh.xlsx?periode=2026-Q4")
        nope = await http.get("/ikm/DISDUKCAPIL/unduh.exe")
    assert got_csv.status_code == 200
    rows = list(csv.DictReader(io.StringIO(got_csv.text)))
    report = (await asyncio.to_thread(_cli_report, settings, "DISDUKCAPIL", "2026-Q4"))[0]
    assert rows[0]["ikm"] == report["ikm"]
    assert got_xlsx.status_code == 200
    path = tmp_path / "got.xlsx"
    path.write_bytes(got_xlsx.content)
    book = load_workbook(path, read_only=True)
    cells = {str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for c in row if c}
    assert not any(c.startswith("saran ") for c in cells)
    assert len([m for m in city.made if m.unit == "DISDUKCAPIL"]) > 0
    assert nope.status_code == 404


@pytest.mark.parametrize(
    ("path", "status", "text"),
    [
        ("/ikm/NOPE", 404, "Halaman tidak ditemukan"),
        ("/ikm/DISDUKCAPIL?periode=2026-Q9", 400, "Periode 2026-Q9 tidak dikenal"),
        ("/ikm/DISDUKCAPIL?periode=2026-W48", 400, "tidak dikenal"),
        ("/tidak/ada", 404, "Halaman tidak ditemukan"),
        ("/ikm/NOPE/grafik.svg", 404, "Halaman tidak ditemukan"),
        ("/ikm/NOPE?lang=en", 404, "Page not found"),
    ],
)
async def test_wrong_addresses_get_a_page_not_a_trace(app: App, path: str, status: int, text: str) -> None:
    """An unknown unit or address gives the 404 page, a bad period the 400 page, in the visitor's language."""
    async with client(app) as http:
        page = await http.get(path)
    assert page.status_code == status
    assert text in page.text
    assert "Traceback" not in page.text
    assert page.headers["content-type"].startswith("text/html")


async def test_tracking_shows_public_steps_only(app: App) -> None:
    """/lacak/{CODE} shows category, OPD, status and dated steps; never the reporter, text or officer's note."""
    city = await populate(app)
    code = city.filed[0].code
    async with client(app) as http:
        form = await http.get("/lacak")
        redirect = await http.get(f"/lacak?kode={code.lower()}", follow_redirects=False)
        page = await http.get(f"/lacak/{code}")
    assert form.status_code == 200 and 'name="kode"' in form.text
    assert redirect.status_code == 303 and redirect.headers["location"] == f"/lacak/{code}"
    assert page.status_code == 200
    text = _text(page.text)
    assert "Selesai ditangani" in text
    assert "Jalan rusak atau berlubang" in text
    assert "Dinas Pekerjaan Umum" in text
    assert "Diterima oleh OPD" in text and "Selesai ditangani oleh OPD" in text
    for secret in (*PRIVATE, "0812", "Sudah ditambal", "petugas"):
        assert secret not in page.text, secret
    assert page.headers["cache-control"] == "no-store"


async def test_guessing_codes_is_slowed_to_ten_wrong_codes_an_hour(app: App) -> None:
    """After ten wrong codes a client gets 429 for an hour, even for a right code; then it may try again."""
    from datetime import timedelta

    city = await populate(app)
    async with client(app) as http:
        wrong = [await http.get(f"/lacak/PDG-2345{n}{n}") for n in range(2, 9)]
        wrong += [await http.get(f"/lacak/PDG-3456{n}{n}") for n in range(2, 5)]
        blocked = await http.get(f"/lacak/{city.filed[1].code}")
        app.clock.advance(timedelta(hours=1, seconds=1))  # type: ignore[attr-defined]
        later = await http.get(f"/lacak/{city.filed[1].code}")
    assert [r.status_code for r in wrong] == [404] * 10
    assert blocked.status_code == 429 and blocked.headers["retry-after"] == "3600"
    assert later.status_code == 200


async def test_every_unit_page_opens(app: App) -> None:
    """The page of every unit, with or without answers, with or without sub-units, renders in both languages."""
    await populate(app)
    async with app.uow() as uow:
        codes = [unit.code for unit in await uow.units.list()]
    async with client(app) as http:
        for code in codes:
            for lang in ("id", "en"):
                page = await http.get(f"/ikm/{code}?lang={lang}")
                assert page.status_code == 200, (code, lang)
    dinkes = (await _get(app, "/ikm/DINKES?periode=2026-Q4")).text
    assert "belum cukup responden" in _row(dinkes, "unit", "PKM-ANDALAS")
    assert "belum ada responden" in _row(dinkes, "period", "2026-Q1")


async def test_a_failing_page_is_a_page_not_a_trace(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected error gives the visitor the 500 page in their language; the trace goes to the log only."""
    from suarawarga.site import web

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(web, "city_page", broken)
    async with client(app) as http:
        page = await http.get("/?lang=en")
    assert page.status_code == 500
    assert "Something went wrong" in page.text
    assert "database on fire" not in page.text and "Traceback" not in page.text


async def _get(app: App, path: str) -> httpx.Response:
    async with client(app) as http:
        return await http.get(path)


def test_every_status_and_step_has_its_public_text(app: App) -> None:
    """The tracking page names every complaint status and every public step in both languages."""
    from suarawarga.complaints.model import ComplaintStatus
    from suarawarga.complaints.public import PUBLIC_STEPS

    keys = [f"site.status.{s}" for s in ComplaintStatus] + [f"site.step.{k}" for k in PUBLIC_STEPS]
    assert sorted(k for k in keys if not app.catalogue.has(k)) == []


async def test_static_files_are_cached_and_carry_the_security_headers(app: App) -> None:
    """The stylesheet is served from the package with a day's public caching, no cookie and the strict headers."""
    async with client(app) as http:
        sheet = await http.get("/static/site.css")
        missing = await http.get("/static/nope.js")
    assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("text/css")
    assert sheet.headers["cache-control"] == "public, max-age=86400"
    assert sheet.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in sheet.headers["content-security-policy"]
    assert "set-cookie" not in sheet.headers
    assert missing.status_code == 404
