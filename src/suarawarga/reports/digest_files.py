"""Files attached to the city digest: a PNG chart and an xlsx workbook of every unit's figures."""

from __future__ import annotations

from pathlib import Path

from suarawarga.reports.digest import CityDigest
from suarawarga.surveys.cells import append_row, heading_row
from suarawarga.surveys.graphics import Label, Ranked, ranking_bars, ranking_note, sample_short


def write_chart(digest: CityDigest, target: Path, label: Label, language: str) -> None:
    """Draw the quarter-to-date IKM of the units with data over the A–D bands, and their overdue complaints."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    shown = digest.ranking() + digest.unrated()
    entries = [
        Ranked(
            line.unit.name,
            line.ikm_quarter.ikm,
            line.ikm_quarter.n,
            sample_short(line.ikm_quarter.n, line.ikm_quarter.sample_ok),
        )
        for line in shown
    ]
    figure = Figure(figsize=(13, max(3.6, 0.42 * len(entries) + 2.4)), layout="constrained")
    left, right = figure.subplots(1, 2, sharey=True, width_ratios=(3, 1))
    ranking_bars(left, entries, label, language)
    left.set_xlim(25, 116)
    left.set_xticks(range(30, 101, 10))
    left.set_xlabel(label("digest.chart.ikm_axis"))
    left.set_title(label("digest.chart.title", week=digest.week.label))
    overdue = [line.overdue for line in shown]
    right.barh(range(len(shown)), overdue, height=0.6, color="#cc0000")
    for y, count in enumerate(overdue):
        right.text(count, y, f" {count}", va="center", fontsize=9)
    right.set_xlim(0, max([*overdue, 1]) * 1.25)
    right.xaxis.set_major_locator(MaxNLocator(integer=True))  # whole complaints, never -0.04
    right.set_xlabel(label("digest.chart.overdue_axis"))
    right.set_title(label("digest.chart.overdue_title"))
    notes = [note for note in (ranking_note(entries, label),) if note]
    idle = digest.idle()
    if idle:
        notes.append(label("digest.chart.idle", count=str(len(idle))))
    if notes:
        figure.supxlabel("\n".join(notes), fontsize=9, color="#3c4043")
    figure.savefig(target, dpi=110)


def write_workbook(digest: CityDigest, target: Path) -> None:
    """Write one row per unit with every digest figure."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.create_sheet("Ringkasan", 0)
    del workbook[workbook.sheetnames[1]]  # the default empty sheet
    append_row(sheet, [f"Ringkasan mingguan {digest.week.label}", f"dibuat {digest.generated_at.isoformat()}"])
    header = [
        "Peringkat",
        "Kode",
        "Unit",
        "Masuk",
        "Diterima",
        "Selesai",
        "Dibuka kembali",
        "Terlambat",
        "Terlama",
        "Median jam sampai diterima",
        "Median hari sampai selesai",
        "Nilai penanganan (1-4)",
        "n nilai",
        "IKM minggu ini",
        "n minggu ini",
        "IKM triwulan",
        "Mutu triwulan",
        "n triwulan",
        "Sampel cukup",
        "Unsur terlemah",
    ]
    heading_row(sheet, header)
    ranked = len(digest.ranking())
    for place, line in enumerate(digest.ordered(), 1):
        append_row(
            sheet,
            [
                place if place <= ranked else None,
                line.unit.code,
                line.unit.name,
                line.received,
                line.accepted,
                line.resolved,
                line.reopened,
                line.overdue,
                ", ".join(line.oldest_overdue),
                float(line.median_accept_hours) if line.median_accept_hours is not None else None,
                float(line.median_resolve_days) if line.median_resolve_days is not None else None,
                float(line.rating_mean) if line.rating_mean is not None else None,
                line.rating_n,
                float(line.ikm_week.ikm) if line.ikm_week.ikm is not None else None,
                line.ikm_week.n,
                float(line.ikm_quarter.ikm) if line.ikm_quarter.ikm is not None else None,
                line.ikm_quarter.mutu,
                line.ikm_quarter.n,
                {True: "ya", False: "tidak", None: "-"}[line.ikm_quarter.sample_ok],
                ", ".join(line.ikm_quarter.weakest),
            ],
        )
    workbook.save(target)
