"""What a city prints or publishes: the IKM charts, the QR poster, the admin digest and the workbook (#11 item 17).

Charts are checked on the matplotlib figure the product saves (its texts, bars and layers), the poster on the
texts it draws and on its pixels, so each check reads what a reader of the picture sees.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from openpyxl import load_workbook
from PIL import Image, ImageDraw

from suarawarga.bootstrap import App
from suarawarga.cli.main import main
from suarawarga.jobs.digests import city_params, write_files
from suarawarga.reports.digest import gather
from suarawarga.surveys.definitions import Unsur
from suarawarga.surveys.model import NewResponse, ResponseSource
from suarawarga.surveys.periods import parse_period
from tests.support.clock import JAKARTA
from tests.surveys.test_cli_surveys import ROWS, database, write_csv

__all__ = ["database"]  # the CLI fixture, shared with test_cli_surveys

MANY = [f"2025-11-{1 + i % 28:02d},4,3,3,4,3,4,4,3,3,," for i in range(40)]  # 40 answers: not a small sample


@pytest.fixture
def figures(monkeypatch: pytest.MonkeyPatch) -> list[Figure]:
    """Collect every matplotlib figure the product saves."""
    saved: list[Figure] = []
    original = Figure.savefig

    def savefig(self: Figure, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        saved.append(self)

    monkeypatch.setattr(Figure, "savefig", savefig)
    return saved


def texts(figure: Figure) -> list[Text]:
    """Return every visible, non-empty text of a drawn figure (titles, labels, tick labels, legend, notes)."""
    return [t for t in figure.findobj(Text) if t.get_visible() and t.get_text().strip()]


def words(figure: Figure) -> str:
    """Return all the figure's texts as one string."""
    return "\n".join(t.get_text() for t in texts(figure))


def depth(text: str) -> int:
    """Return how deep brackets nest in a text."""
    level = deepest = 0
    for char in text:
        level += {"(": 1, ")": -1}.get(char, 0)
        deepest = max(deepest, level)
    return deepest


def hatched(figure: Figure) -> list[Rectangle]:
    """Return the hatched bars of a figure."""
    return [p for p in figure.findobj(Rectangle) if p.get_hatch()]


def chart(args: list[str], figures: list[Figure]) -> Figure:
    """Run `report chart` and return the figure it saved."""
    assert main(["report", "chart", *args, "--output", "chart.png"]) == 0
    return figures[-1]


def test_unit_chart_reads_as_indonesian(database: Path, tmp_path: Path, figures: list[Figure]) -> None:
    """Indonesian labels, decimal commas, flat titles, and every figure drawn above the dashed IKM line."""
    assert main(["survey", "import", str(write_csv(tmp_path, MANY)), "--unit", "PKM-ANDALAS"]) == 0
    figure = chart(["--unit", "PKM-ANDALAS", "--period", "2025-Q4"], figures)
    all_words = words(figure)
    for english in ("label", "answers", "dashed", "line", "number"):
        assert english not in all_words.lower(), english
    assert "Nilai per unsur" in all_words
    assert re.findall(r"\d\.\d", all_words) == []  # no decimal point on an Indonesian chart
    values = [t for t in texts(figure) if re.fullmatch(r"\d,\d{3} \(\d+\)", t.get_text())]
    assert len(values) == len(Unsur)
    assert re.search(r"IKM 2025-Q4: \d{2},\d{2}", all_words)
    assert max(depth(t.get_text()) for t in texts(figure)) <= 1
    ikm_line = next(line for line in figure.findobj(Line2D) if line.get_linestyle() == "--")
    for value in values:  # on an opaque box above the line: never struck through
        box = value.get_bbox_patch()
        assert box is not None and box.get_facecolor()[:3] == (1.0, 1.0, 1.0)
        assert value.get_zorder() > ikm_line.get_zorder()
    assert hatched(figure) == [] and "sampel" not in all_words  # 40 answers: not flagged


def test_charts_follow_the_language_asked(database: Path, tmp_path: Path, figures: list[Figure]) -> None:
    """`--language en` gives English labels and decimal points on the unit chart and the ranking."""
    assert main(["survey", "import", str(write_csv(tmp_path, MANY)), "--unit", "PKM-ANDALAS"]) == 0
    unit = words(chart(["--unit", "PKM-ANDALAS", "--period", "2025-Q4", "--language", "en"], figures))
    assert "Score per element" in unit and "Nilai" not in unit and not re.search(r"\bresponden\b", unit)
    assert re.search(r"\d\.\d{3} \(40\)", unit) and not re.search(r"\d,\d", unit)
    ranking = words(chart(["--period", "2025-Q4", "--language", "en"], figures))
    assert "by agency" in ranking and "Whole city" in ranking and re.search(r"\d{2}\.\d{2}", ranking)
    assert not re.search(r"\d,\d", ranking) and "Seluruh kota" not in ranking


def test_small_samples_are_flagged(database: Path, tmp_path: Path, figures: list[Figure]) -> None:
    """Three answers: the unit chart and the OPD ranking hatch the bars and say the sample is small."""
    assert main(["survey", "import", str(write_csv(tmp_path, ROWS)), "--unit", "PKM-ANDALAS"]) == 0
    unit = chart(["--unit", "PKM-ANDALAS", "--period", "2025-Q4"], figures)
    assert len(hatched(unit)) == len(Unsur) and "sampel kecil" in words(unit)
    ranking = chart(["--period", "2025-Q4"], figures)
    assert "Dinas Kesehatan (n=4)" in words(ranking)
    assert len(hatched(ranking)) == 1 and "sampel kecil" in words(ranking) and "Batang berarsir" in words(ranking)
    assert max(depth(t.get_text()) for t in texts(ranking)) <= 1


@pytest.fixture
def drawn_texts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Collect every text Pillow draws."""
    seen: list[str] = []
    original = ImageDraw.ImageDraw.text

    def text(self: ImageDraw.ImageDraw, xy: object, words: str, *args: object, **kwargs: object) -> None:
        seen.append(words)
        original(self, xy, words, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ImageDraw.ImageDraw, "text", text)
    return seen


def blank_share(png: Path) -> float:
    """Return the tallest band of pure white rows of a page, as a share of its height."""
    with Image.open(png) as image:
        grey = image.convert("L")
        width, height = grey.size
        run = tallest = 0
        for y in range(height):
            row = grey.crop((0, y, width, y + 1))
            if row.getextrema() == (255, 255):
                run += 1
                tallest = max(tallest, run)
            else:
                run = 0
    return tallest / height


def test_poster_names_the_seeded_city_fills_the_page_and_prints_typeable_links(
    database: Path, tmp_path: Path, drawn_texts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The city of the seed heads the poster; no large empty band; printed links have no %20 and no stray space."""
    seed = (Path(__file__).parents[2] / "src/suarawarga/data/padang.yaml").read_text(encoding="utf-8")
    other = tmp_path / "kota.yaml"
    other.write_text(seed.replace("name: Kota Padang", "name: Kota Bukittinggi", 1), encoding="utf-8")
    assert main(["seed", str(other)]) == 0
    monkeypatch.setenv("SUARAWARGA_WHATSAPP_PHONE_NUMBER", "+62 812-3456-7890")
    assert main(["qr", "PKM-ANDALAS", "--bot-username", "SuaraWargaPadangBot", "--output", "p.png"]) == 0
    assert any("Kota Bukittinggi" in t for t in drawn_texts) and not any("Kota Padang" in t for t in drawn_texts)
    assert [t for t in drawn_texts if "%20" in t or " ?" in t or "? " in t] == []
    printed = "".join(t for t in drawn_texts if t.startswith(("t.me", "?start", "wa.me")))
    assert "t.me/SuaraWargaPadangBot?start=ikm_PKM-ANDALAS" in printed and "wa.me/6281234567890" in printed
    assert any("mulai ikm_PKM-ANDALAS" in t for t in drawn_texts)  # what to send on WhatsApp, as typed
    assert blank_share(tmp_path / "p.png") < 0.12
    assert (tmp_path / "p.pdf").read_bytes().startswith(b"%PDF")
    drawn_texts.clear()
    monkeypatch.delenv("SUARAWARGA_WHATSAPP_PHONE_NUMBER")
    assert main(["qr", "PKM-ANDALAS", "--bot-username", "SuaraWargaPadangBot", "--output", "one.png"]) == 0
    assert blank_share(tmp_path / "one.png") < 0.12  # one code alone is drawn larger, not left in white space


def test_summary_sheet_headings_are_words(database: Path, tmp_path: Path) -> None:
    """The xlsx summary sheet heads its columns in the report's language, not with field names."""
    assert main(["survey", "import", str(write_csv(tmp_path, ROWS)), "--unit", "PKM-ANDALAS"]) == 0
    for language, expected in (("id", "Jumlah responden"), ("en", "Respondents")):
        out = f"r-{language}.xlsx"
        args = ["report", "ikm", "--unit", "DINKES", "--period", "2025-Q4", "--format", "xlsx", "--output", out]
        assert main([*args, "--language", language]) == 0
        sheet = load_workbook(tmp_path / out)["Ringkasan"]
        header = [c.value for c in sheet[4]]
        assert expected in header and "NRR U1 " + ("Persyaratan" if language == "id" else "Requirements") in header
        assert [h for h in header if not isinstance(h, str) or "_" in h] == []


async def test_admin_digest_lists_units_with_data_by_name(app: App, figures: list[Figure]) -> None:
    """Only units with an IKM are ranked, by name; units with nothing are one line; the chart shows the same."""
    async with app.uow() as uow:
        unit = await uow.units.by_code("DPUPR")
        assert unit is not None
        await uow.surveys.add_many(
            [
                NewResponse(
                    unit_id=unit.id,
                    submitted_at=datetime(2026, 11, 23 + day, 10, 0, tzinfo=JAKARTA),
                    answers=dict.fromkeys(Unsur, 3),
                    source=ResponseSource.CHAT,
                )
                for day in range(3)
            ]
        )
        await uow.commit()
    week = parse_period("2026-W48", JAKARTA)
    async with app.uow() as uow:
        digest = await gather(uow, app.calendar, week, datetime(2026, 11, 30, 7, 0, tzinfo=JAKARTA))
    text = app.catalogue.render("digest.city", "id", city_params(digest, app.catalogue))
    lines = text.splitlines()
    assert "1. Dinas Pekerjaan Umum dan Penataan Ruang: IKM 75,00 (C, n=3, sampel kecil)" in text
    assert "IKM -" not in text and "n=0" not in text
    idle = [line for line in lines if line.startswith("Belum ada jawaban survei maupun pengaduan")]
    assert len(idle) == 1 and f"({len(digest.units) - 1} unit)" in idle[0]
    assert len(lines) <= 4  # header, one ranked unit, the one line of the rest, the attachment note
    write_files(app, digest)
    drawn = figures[-1]
    names = [t.get_text() for t in drawn.axes[0].get_yticklabels()]
    assert names == ["Dinas Pekerjaan Umum dan Penataan Ruang (n=3)"]
    chart_words = words(drawn)
    assert "75,00" in chart_words and "sampel kecil" in chart_words and not re.search(r"\d\.\d", chart_words)
    overdue_ticks = [t.get_text() for t in drawn.axes[1].get_xticklabels()]
    assert all(re.fullmatch(r"\d+", t.replace("−", "-")) for t in overdue_ticks), overdue_ticks
