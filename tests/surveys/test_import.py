"""Importing paper or legacy results: bad rows with line numbers, --skip-bad, idempotency, U1..U9 mapping."""

from __future__ import annotations

from datetime import datetime

import pytest

from suarawarga.bootstrap import App
from suarawarga.surveys.definitions import UNSUR_ORDER, JenisKelamin, Pekerjaan, Unsur, UsiaBand
from suarawarga.surveys.importing import ImportFileError, ParsedFile, parse_csv, parse_mapping
from suarawarga.surveys.periods import parse_period
from suarawarga.surveys.services import ImportOutcome, import_responses
from tests.support.clock import JAKARTA

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=JAKARTA)
UNITS = {"PKM-ANDALAS", "DISDUKCAPIL"}
HEADER = (
    "submitted_at,persyaratan,prosedur,waktu,biaya,produk,kompetensi,perilaku,pengaduan,sarana,"
    "unit,usia,jenis_kelamin,pekerjaan,saran"
)

MIXED = "\n".join(
    [
        HEADER,
        "2026-10-05 09:30,4,3,3,4,3,4,4,2,3,,34,L,swasta,Tambah kursi",  # line 2: good
        "2026-10-06,3,5,3,4,3,4,4,2,3,,,,,",  # line 3: score 5
        '2026-10-07,a,b,c,d,3,4,4,,3,,,P,,"Dua baris',  # lines 4-5: good, a quoted saran over two lines
        'saran"',
        "07/13/2026,3,3,3,3,3,3,3,3,3,,,,,",  # line 6: month 13
        "2026-10-08,3,3,3,3,3,3,3,3,3,DINAS-X,,,,",  # line 7: unknown unit
        "2026-12-01,3,3,3,3,3,3,3,3,3,,,,,",  # line 8: after 'now'
        "2026-10-09,,,,,,,,,,DISDUKCAPIL,,,,",  # line 9: nothing answered
        "2026-10-10,4,4,4,4,4,4,4,4,4,DISDUKCAPIL,200,,,",  # line 10: age out of range
        "12/10/2026 14:05,2,2,2,2,2,2,2,2,2,disdukcapil,,perempuan,pns,",  # line 11: good (dd/mm/yyyy)
    ]
)


def parse(text: str, mapping: str | None = None) -> ParsedFile:
    """Parse a CSV text for Puskesmas Andalas as of NOW."""
    return parse_csv(text, "PKM-ANDALAS", UNITS, JAKARTA, NOW, parse_mapping(mapping))


async def stored_count(app: App) -> int:
    """Return how many questionnaires are stored."""
    async with app.uow() as uow:
        return await uow.surveys.count()


async def run_import(app: App, parsed: ParsedFile, skip_bad: bool = False) -> ImportOutcome:
    """Import parsed rows in batches of 2 and commit."""
    async with app.uow() as uow:
        outcome = await import_responses(uow, parsed, skip_bad=skip_bad, batch=2)
        await uow.commit()
    return outcome


def test_bad_rows_are_reported_with_their_line_numbers() -> None:
    """Every bad row is named by the line it starts on, with what is wrong; good rows are parsed exactly."""
    parsed = parse(MIXED)
    assert [p.line for p in parsed.problems] == [3, 6, 7, 8, 9, 10]
    messages = [p.message for p in parsed.problems]
    assert "prosedur: score '5' is outside 1–4" in messages[0]
    assert "is not a date" in messages[1]
    assert "unknown unit 'DINAS-X'" in messages[2]
    assert "in the future" in messages[3]
    assert messages[4] == "no unsur answered"
    assert str(parsed.problems[5]).startswith("line 10: age must be")
    assert [r.line for r in parsed.rows] == [2, 4, 11]
    first, second, third = parsed.rows
    assert first.submitted_at == datetime(2026, 10, 5, 9, 30, tzinfo=JAKARTA)
    assert first.profile.age_band is UsiaBand.FROM_25_TO_39 and first.profile.gender is JenisKelamin.L
    assert [second.answers[u] for u in UNSUR_ORDER] == [1, 2, 3, 4, 3, 4, 4, None, 3]
    assert second.saran == "Dua baris saran"
    assert third.unit_code == "DISDUKCAPIL" and third.submitted_at == datetime(2026, 10, 12, 14, 5, tzinfo=JAKARTA)
    assert third.profile.occupation is Pekerjaan.PNS and third.profile.gender is JenisKelamin.P


async def test_nothing_is_stored_when_a_row_is_bad(app: App) -> None:
    """Without --skip-bad a file with bad rows stores nothing at all."""
    outcome = await run_import(app, parse(MIXED))
    assert (outcome.inserted, outcome.bad) == (0, 6)
    assert await stored_count(app) == 0


async def test_skip_bad_stores_the_good_rows_and_a_second_import_adds_nothing(app: App) -> None:
    """--skip-bad stores the good rows; importing the same file again (or with one more row) does not double."""
    first = await run_import(app, parse(MIXED), skip_bad=True)
    assert (first.rows, first.inserted, first.already, first.bad) == (3, 3, 0, 6)
    again = await run_import(app, parse(MIXED), skip_bad=True)
    assert (again.inserted, again.already) == (0, 3)
    grown = await run_import(app, parse(MIXED + "\n2026-10-20,1,1,1,1,1,1,1,1,1,,,,,"), skip_bad=True)
    assert (grown.inserted, grown.already) == (1, 3)
    assert await stored_count(app) == 4
    async with app.uow() as uow:
        period = parse_period("2026-Q4", JAKARTA)
        responses = await uow.surveys.responses(period.start, period.end)
    assert [r.answers[Unsur.PERSYARATAN] for r in responses] == [4, 1, 2, 1]  # oldest first


async def test_identical_rows_are_distinct_respondents(app: App) -> None:
    """Two identical rows are two respondents; a re-import still adds neither again."""
    text = "\n".join([HEADER, *["2026-10-05,3,3,3,3,3,3,3,3,3,,,,,"] * 2])
    parsed = parse(text)
    assert len({r.import_key for r in parsed.rows}) == 2
    assert (await run_import(app, parsed)).inserted == 2
    assert (await run_import(app, parse(text))).inserted == 0
    assert await stored_count(app) == 2


def test_u1_to_u9_headers_need_a_mapping_and_then_land_by_code() -> None:
    """U1..U9 headers are refused without --map (U8/U9 are ambiguous); with it, each lands on its code."""
    text = "Tanggal;U1;U2;U3;U4;U5;U6;U7;U8;U9\n2026-10-05;1;2;3;4;1;2;3;4;1\n"
    with pytest.raises(ImportFileError, match="U8=pengaduan"):
        parse(text)
    swapped = "U1=persyaratan,U2=prosedur,U3=waktu,U4=biaya,U5=produk,U6=kompetensi,U7=perilaku,U8=sarana,U9=pengaduan"
    [row] = parse(text, swapped).rows
    assert row.answers[Unsur.SARANA] == 4 and row.answers[Unsur.PENGADUAN] == 1
    assert row.answers[Unsur.PERSYARATAN] == 1 and row.answers[Unsur.BIAYA] == 4


def test_unusable_files_and_mappings_are_refused() -> None:
    """A missing unsur column, an empty file and a mapping to an unknown field are file-level errors."""
    with pytest.raises(ImportFileError, match="missing column"):
        parse("submitted_at,persyaratan\n2026-10-05,3\n")
    with pytest.raises(ImportFileError, match="empty"):
        parse("")
    with pytest.raises(ImportFileError, match="unknown field"):
        parse_mapping("U1=kepuasan")
    with pytest.raises(ImportFileError, match="HEADER=FIELD"):
        parse_mapping("U1")
