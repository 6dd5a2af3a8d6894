"""Files attached to the city digest: a PNG chart and an xlsx workbook of every unit's figures."""

from __future__ import annotations

from pathlib import Path

from suarawarga.reports.digest import CityDigest
from suarawarga.surveys.cells import append_row
from suarawarga.surveys.graphics import BANDS  # the mutu bands on the IKM scale, from the arithmetic's thresholds


def write_chart(digest: CityDigest, target: Path) -> None:
    """Draw the quarter-to-date IKM per unit over the A–D bands, and overdue complaints per unit."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    ranked = digest.ranking()
    names = [line.unit.code for line in ranked]
    height = max(4.0, 0.28 * len(names) + 1.5)
    figure, (left, right) = pyplot.subplots(1, 2, figsize=(13, height), sharey=True, width_ratios=(3, 1))
    positions = list(range(len(names)))
    for mutu, low, high, colour in BANDS:
        left.axvspan(low, high, color=colour, zorder=0)
        left.text((low + high) / 2, -1.2, mutu.value, ha="center", va="center", fontsize=10, fontweight="bold")
    values = [float(line.ikm_quarter.ikm) if line.ikm_quarter.ikm is not None else 0.0 for line in ranked]
    left.barh(positions, values, color="#3c78d8", zorder=2)
    for y, line in zip(positions, ranked, strict=True):
        label = f"{line.ikm_quarter.ikm:.2f} (n={line.ikm_quarter.n})" if line.ikm_quarter.ikm is not None else "n=0"
        left.text(max(values[y], 25.0) + 0.5, y, label, va="center", fontsize=7, zorder=3)
    left.set_xlim(25, 100)
    left.set_yticks(positions, names, fontsize=7)
    left.invert_yaxis()
    left.set_xlabel("IKM (triwulan berjalan)")
    left.set_title(f"IKM per unit — {digest.week.label}")
    right.barh(positions, [line.overdue for line in ranked], color="#cc0000")
    right.set_xlabel("Pengaduan melewati tenggat")
    right.set_title("Terlambat")
    figure.tight_layout()
    figure.savefig(target, dpi=110)
    pyplot.close(figure)


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
    append_row(sheet, header)
    for place, line in enumerate(digest.ranking(), 1):
        append_row(
            sheet,
            [
                place,
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
