"""Pictures of the IKM: a PNG chart with the A–D bands, and the QR poster a unit puts on its counter.

matplotlib (Agg, no pyplot state), qrcode and Pillow are imported inside the functions, so importing this
module costs nothing to code that does not draw.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from suarawarga.surveys.definitions import unsur_name_key
from suarawarga.surveys.ikm import IKM_SCALE, MUTU_MIN_IKM, IkmResult, Mutu, format_ikm

__all__ = [
    "BANDS",
    "Poster",
    "QrCode",
    "ikm_ranking_chart",
    "nrr_chart",
    "qr_matrix",
    "qr_poster",
    "telegram_link",
    "whatsapp_link",
]

if TYPE_CHECKING:
    from PIL import ImageDraw, ImageFont

    Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

Label = Callable[[str], str]

# Band colours, worst to best: red, orange, yellow-green, green (light, so bars stay readable on them).
BANDS: tuple[tuple[Mutu, float, float, str], ...] = (
    (Mutu.D, 25.0, float(MUTU_MIN_IKM[Mutu.C]), "#f4c7c3"),
    (Mutu.C, float(MUTU_MIN_IKM[Mutu.C]), float(MUTU_MIN_IKM[Mutu.B]), "#fce8b2"),
    (Mutu.B, float(MUTU_MIN_IKM[Mutu.B]), float(MUTU_MIN_IKM[Mutu.A]), "#d9ead3"),
    (Mutu.A, float(MUTU_MIN_IKM[Mutu.A]), 100.0, "#b7e1cd"),
)
"""(mutu, lower IKM, upper IKM, colour) of each band on the 25–100 scale."""


def nrr_chart(path: Path, title: str, result: IkmResult, label: Label) -> None:
    """Draw one unit's NRR per unsur (as NRR × 25, on the IKM scale) over the A–D bands, and its IKM."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 6.5), layout="constrained")
    axes = figure.subplots()
    for mutu, low, high, colour in BANDS:
        axes.axvspan(low, high, color=colour, zorder=0)
        axes.text((low + high) / 2, -0.9, mutu.value, ha="center", va="center", fontsize=11, weight="bold")
    rows = list(reversed(result.per_unsur))  # U1 on top
    names = [f"{r.label} {label(unsur_name_key(r.unsur))}" for r in rows]
    values = [float(r.nrr * IKM_SCALE) if r.nrr is not None else 0.0 for r in rows]
    bars = axes.barh(names, values, height=0.6, color="#3c78d8", zorder=2)
    for bar, r in zip(bars, rows, strict=True):
        text = f"{r.nrr_display} ({r.answers})" if r.nrr is not None else "—"
        axes.text(bar.get_width() + 0.4, bar.get_y() + bar.get_height() / 2, text, va="center", fontsize=9)
    axes.axvline(float(result.ikm), color="#202124", linestyle="--", zorder=3)
    axes.set_xlim(25, 104)
    axes.set_ylim(-1.4, len(rows) - 0.4)
    axes.set_xlabel("NRR × 25 (label: NRR and number of answers); dashed line: IKM")
    axes.set_title(title, fontsize=12)
    figure.savefig(path, dpi=120)


def ikm_ranking_chart(path: Path, title: str, entries: Sequence[tuple[str, Fraction, int]]) -> None:
    """Draw IKM per unit or OPD, ranked best on top, over the A–D bands; entries are (name, IKM, n)."""
    from matplotlib.figure import Figure

    ranked = sorted(entries, key=lambda e: e[1])
    figure = Figure(figsize=(10, max(3.0, 0.38 * len(ranked) + 1.8)), layout="constrained")
    axes = figure.subplots()
    for mutu, low, high, colour in BANDS:
        axes.axvspan(low, high, color=colour, zorder=0)
        axes.text((low + high) / 2, len(ranked) - 0.2, mutu.value, ha="center", fontsize=11, weight="bold")
    names = [f"{name[:48]} (n={n})" for name, _, n in ranked]
    bars = axes.barh(names, [float(ikm) for _, ikm, _ in ranked], height=0.6, color="#3c78d8", zorder=2)
    for bar, (_, ikm, _) in zip(bars, ranked, strict=True):
        axes.text(
            bar.get_width() + 0.4,
            bar.get_y() + bar.get_height() / 2,
            format_ikm(ikm),  # half-up like every report, not float rounding
            va="center",
            fontsize=9,
        )
    axes.set_xlim(25, 104)
    axes.set_ylim(-0.6, len(ranked) + 0.4)
    axes.set_xlabel("IKM")
    axes.set_title(title, fontsize=12)
    figure.savefig(path, dpi=120)


# --------------------------------------------------------------------------------------------- QR poster


def telegram_link(bot_username: str, unit_code: str) -> str:
    """Return the Telegram deep link that opens the survey of a unit."""
    return f"https://t.me/{bot_username.lstrip('@')}?start=ikm_{unit_code}"


def whatsapp_link(phone_number: str, unit_code: str) -> str:
    """Return the wa.me link whose prefilled text starts the survey of a unit ("mulai ikm_CODE")."""
    digits = "".join(c for c in phone_number if c.isdigit())
    return f"https://wa.me/{digits}?text={quote(f'mulai ikm_{unit_code}')}"


def qr_matrix(data: str) -> list[list[bool]]:
    """Return the QR code modules of a text (error correction M, 4-module quiet zone included)."""
    import qrcode  # type: ignore[import-untyped]
    from qrcode.constants import ERROR_CORRECT_M  # type: ignore[import-untyped]

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
    code.add_data(data)
    code.make(fit=True)
    return [[bool(cell) for cell in row] for row in code.get_matrix()]


@dataclass(frozen=True, slots=True)
class QrCode:
    """One QR code on a poster: what it holds and where it was drawn."""

    caption: str
    url: str
    left: int
    top: int
    module: int  # pixels per module
    modules: int  # modules per side, quiet zone included


@dataclass(frozen=True, slots=True)
class Poster:
    """The files written and the layout, so a test can check the codes without a QR decoder."""

    png: Path
    pdf: Path
    size: tuple[int, int]
    codes: tuple[QrCode, ...]


A4_150DPI = (1240, 1754)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: Font, width: int) -> list[str]:
    """Split a text into lines no wider than `width` pixels."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split():
            trial = f"{current} {word}".strip()
            if current and draw.textlength(trial, font=font) > width:
                lines.append(current)
                current = word
            else:
                current = trial
        lines.append(current)
    return lines


def qr_poster(
    png: Path, title: str, unit_name: str, invite: str, footer: str, codes: Sequence[tuple[str, str]]
) -> Poster:
    """Write an A4 poster (PNG, and PDF beside it) with the unit's name and one QR code per (caption, url)."""
    from PIL import Image, ImageDraw, ImageFont

    if not codes:
        raise ValueError("a poster needs at least one link")
    width, height = A4_150DPI
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    margin = 90
    y = 90

    def block(text: str, size: int, fill: str, gap: int) -> None:
        """Draw a centred, wrapped paragraph and move down past it."""
        nonlocal y
        font = ImageFont.load_default(size=size)
        for line in _wrap(draw, text, font, width - 2 * margin):
            line_width = draw.textlength(line, font=font)
            draw.text(((width - line_width) / 2, y), line, font=font, fill=fill)
            y += int(size * 1.25)
        y += gap

    block(title, 64, "#0b5394", 20)
    block(unit_name, 52, "#202124", 30)
    block(invite, 34, "#3c4043", 40)
    placed: list[QrCode] = []
    slot = (width - 2 * margin) // len(codes)
    side_limit = min(slot - 40, 760)
    caption_font = ImageFont.load_default(size=40)
    url_font = ImageFont.load_default(size=22)
    for index, (caption, url) in enumerate(codes):
        matrix = qr_matrix(url)
        modules = len(matrix)
        module = max(side_limit // modules, 1)
        side = module * modules
        left = margin + index * slot + (slot - side) // 2
        for row, cells in enumerate(matrix):
            for col, dark in enumerate(cells):
                if dark:
                    x0, y0 = left + col * module, y + row * module
                    draw.rectangle((x0, y0, x0 + module - 1, y0 + module - 1), fill="black")
        caption_width = draw.textlength(caption, font=caption_font)
        draw.text((left + (side - caption_width) / 2, y + side + 10), caption, font=caption_font, fill="#202124")
        shown = url.removeprefix("https://")
        url_lines = _wrap(draw, shown.replace("?", " ?").replace("&", " &"), url_font, slot - 20)
        for number, text in enumerate(url_lines):
            text_width = draw.textlength(text, font=url_font)
            draw.text(
                (margin + index * slot + (slot - text_width) / 2, y + side + 64 + number * 28),
                text,
                font=url_font,
                fill="#5f6368",
            )
        placed.append(QrCode(caption, url, left, y, module, modules))
    footer_font = ImageFont.load_default(size=28)
    footer_width = draw.textlength(footer, font=footer_font)
    draw.text(((width - footer_width) / 2, height - 110), footer, font=footer_font, fill="#5f6368")
    png.parent.mkdir(parents=True, exist_ok=True)
    image.save(png, "PNG")
    pdf = png.with_suffix(".pdf")
    image.save(pdf, "PDF", resolution=150.0)
    return Poster(png, pdf, (width, height), tuple(placed))
