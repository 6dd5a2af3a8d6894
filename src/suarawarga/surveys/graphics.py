"""Pictures of the IKM: a PNG chart with the A–D bands, and the QR poster a unit puts on its counter.

matplotlib (Agg, no pyplot state), qrcode and Pillow are imported inside the functions, so importing this
module costs nothing to code that does not draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from suarawarga.surveys.definitions import unsur_name_key
from suarawarga.surveys.mutu import IKM_SCALE, MUTU_MIN_IKM, Mutu, format_ikm
from suarawarga.surveys.services import IkmLine

__all__ = [
    "BANDS",
    "Poster",
    "PosterLink",
    "PosterText",
    "QrCode",
    "Ranked",
    "decimal",
    "ikm_ranking_chart",
    "nrr_chart",
    "qr_matrix",
    "qr_poster",
    "ranking_bars",
    "sample_short",
    "telegram_link",
    "whatsapp_link",
    "whatsapp_message",
    "whatsapp_number",
]

if TYPE_CHECKING:
    from PIL import ImageDraw, ImageFont

    Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


class Label(Protocol):
    """Renders a catalogue text in the chart's language, with its parameters."""

    def __call__(self, key: str, /, **params: str) -> str:
        """Return the text of `key`."""
        ...


# Band colours, worst to best: red, orange, yellow-green, green (light, so bars stay readable on them).
BANDS: tuple[tuple[Mutu, float, float, str], ...] = (
    (Mutu.D, 25.0, float(MUTU_MIN_IKM[Mutu.C]), "#f4c7c3"),
    (Mutu.C, float(MUTU_MIN_IKM[Mutu.C]), float(MUTU_MIN_IKM[Mutu.B]), "#fce8b2"),
    (Mutu.B, float(MUTU_MIN_IKM[Mutu.B]), float(MUTU_MIN_IKM[Mutu.A]), "#d9ead3"),
    (Mutu.A, float(MUTU_MIN_IKM[Mutu.A]), 100.0, "#b7e1cd"),
)
"""(mutu, lower IKM, upper IKM, colour) of each band on the 25–100 scale."""


SMALL_SAMPLE = 30
"""Fewest respondents shown without a warning when the unit's population (hence its Krejcie–Morgan minimum)
is unknown: below about 30 answers the mean's margin is wider than a mutu band."""

SHORT_COLOUR = "#c5221f"


def sample_short(n: int, sample_ok: bool | None) -> bool:
    """Return whether a figure's sample is too small: under the Krejcie–Morgan minimum, or under 30 without one."""
    return not sample_ok if sample_ok is not None else n < SMALL_SAMPLE


def decimal(text: str, language: str) -> str:
    """Write a figure with the language's decimal mark: a comma in Indonesian (67,59), a point in English."""
    return text.replace(".", ",") if language == "id" else text


@dataclass(frozen=True, slots=True)
class Ranked:
    """One bar of a ranking chart: a unit or OPD with its IKM (None: no answers) and sample."""

    name: str
    ikm: Fraction | Decimal | None
    n: int
    short: bool


def _bands(axes: Any, y: float) -> None:
    """Shade the A–D bands and write their letters at height `y`."""
    for mutu, low, high, colour in BANDS:
        axes.axvspan(low, high, color=colour, zorder=0)
        axes.text((low + high) / 2, y, mutu.value, ha="center", va="center", fontsize=11, weight="bold", zorder=1)


def _value(axes: Any, x: float, y: float, text: str, colour: str = "#202124") -> None:
    """Write a bar's figure right of its end, on a white box above any reference line."""
    box = {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.9}
    axes.text(x + 0.6, y, text, va="center", fontsize=9, color=colour, bbox=box, zorder=5)


def _ikm_axis(axes: Any, text: str) -> None:
    """Scale the x axis on 25–100 with room right of 100 for the figures."""
    axes.set_xlim(25, 116)
    axes.set_xticks(range(30, 101, 10))
    axes.set_xlabel(text)


def nrr_chart(path: Path, line: IkmLine, period_label: str, weight_text: str, label: Label, language: str) -> None:
    """Draw one unit's NRR per unsur (as NRR × 25, on the IKM scale) over the A–D bands, and its IKM."""
    from matplotlib.figure import Figure

    result = line.result
    if result is None:
        raise ValueError("a chart needs at least one answer")
    short = sample_short(line.n_respondents, line.sample_ok)
    figure = Figure(figsize=(10, 7.2), layout="constrained")
    axes = figure.subplots()
    _bands(axes, -0.9)
    rows = list(reversed(result.per_unsur))  # U1 on top
    names = [f"{r.label} {label(unsur_name_key(r.unsur))}" for r in rows]
    values = [float(r.nrr * IKM_SCALE) if r.nrr is not None else 25.0 for r in rows]
    bars = axes.barh(
        names, values, height=0.6, color="#3c78d8", zorder=2, hatch="//" if short else None, edgecolor="white"
    )
    for bar, r in zip(bars, rows, strict=True):
        text = f"{decimal(r.nrr_display, language)} ({r.answers})" if r.nrr_display is not None else "—"
        _value(axes, bar.get_width(), bar.get_y() + bar.get_height() / 2, text)
    ikm = decimal(result.ikm_display, language)
    axes.axvline(
        float(result.ikm), color="#202124", linestyle="--", zorder=3, label=label("survey.chart.ikm_line", ikm=ikm)
    )
    axes.legend(loc="upper right", fontsize=9, framealpha=0.95)  # in the empty row above U1
    axes.set_ylim(-1.4, len(rows) + 0.5)
    _ikm_axis(axes, label("survey.chart.nrr_axis"))
    mutu = label(result.mutu.catalogue_key)
    figure.suptitle(line.name, fontsize=13, weight="bold")
    sample = label("survey.chart.sample", n=str(line.n_respondents))
    axes.set_title(
        f"IKM {period_label}: {ikm} · {label('survey.chart.mutu')} {mutu}\n{sample} · {weight_text}", fontsize=11
    )
    if short:
        figure.supxlabel(_short_text(line.min_sample, label), color=SHORT_COLOUR, fontsize=10)
    figure.savefig(path, dpi=120)


def _short_text(minimum: int | None, label: Label) -> str:
    """Say why a sample is flagged: under its Krejcie–Morgan minimum, or small with no population known."""
    if minimum is not None:
        return label("survey.chart.sample_short", minimum=str(minimum))
    return label("survey.chart.sample_small", minimum=str(SMALL_SAMPLE))


def ranking_bars(axes: Any, entries: Sequence[Ranked], label: Label, language: str) -> None:
    """Draw ranked IKM bars (best on top, as given) over the A–D bands; small samples hatched and marked."""
    positions = list(range(len(entries)))
    _bands(axes, -0.9)
    for y, entry in zip(positions, entries, strict=True):
        if entry.ikm is None:
            _value(axes, 25.0, y, label("survey.chart.no_answers"), "#5f6368")
            continue
        axes.barh(
            y,
            float(entry.ikm),
            height=0.6,
            color="#3c78d8",
            zorder=2,
            hatch="//" if entry.short else None,
            edgecolor="white",
        )
        text = decimal(format_ikm(entry.ikm), language)  # half-up like every report, not float rounding
        if entry.short:
            text += " · " + label("survey.chart.small")
        _value(axes, float(entry.ikm), y, text, SHORT_COLOUR if entry.short else "#202124")
    axes.set_yticks(positions, [_ranked_name(e) for e in entries], fontsize=9)
    axes.set_ylim(len(entries) - 0.4, -1.5)  # first entry on top, band letters above it


def _ranked_name(entry: Ranked) -> str:
    name = entry.name if len(entry.name) <= 48 else entry.name[:47] + "…"
    return name if entry.ikm is None else f"{name} (n={entry.n})"


def ranking_note(entries: Sequence[Ranked], label: Label) -> str | None:
    """Return the footnote explaining hatched bars, when a chart has any."""
    if not any(e.short and e.ikm is not None for e in entries):
        return None
    return label("survey.chart.hatch_note", minimum=str(SMALL_SAMPLE))


def ikm_ranking_chart(path: Path, title: str, entries: Sequence[Ranked], label: Label, language: str) -> None:
    """Draw IKM per unit or OPD, ranked best on top, over the A–D bands."""
    from matplotlib.figure import Figure

    ranked = sorted(entries, key=lambda e: (-(e.ikm or 0), e.name))
    figure = Figure(figsize=(10, max(3.4, 0.42 * len(ranked) + 2.2)), layout="constrained")
    axes = figure.subplots()
    ranking_bars(axes, ranked, label, language)
    _ikm_axis(axes, label("survey.chart.ikm_axis"))
    axes.set_title(title, fontsize=12)
    note = ranking_note(ranked, label)
    if note:
        figure.supxlabel(note, color=SHORT_COLOUR, fontsize=9, wrap=True)
    figure.savefig(path, dpi=120)


# --------------------------------------------------------------------------------------------- QR poster


def telegram_link(bot_username: str, unit_code: str) -> str:
    """Return the Telegram deep link that opens the survey of a unit."""
    return f"https://t.me/{bot_username.lstrip('@')}?start=ikm_{unit_code}"


def whatsapp_message(unit_code: str) -> str:
    """Return the text that starts a unit's survey on WhatsApp (prefilled by the wa.me link)."""
    return f"mulai ikm_{unit_code}"


def whatsapp_link(phone_number: str, unit_code: str) -> str:
    """Return the wa.me link whose prefilled text starts the survey of a unit ("mulai ikm_CODE")."""
    return f"https://wa.me/{whatsapp_number(phone_number)}?text={quote(whatsapp_message(unit_code))}"


def whatsapp_number(phone_number: str) -> str:
    """Return the business number's digits, as wa.me wants them."""
    return "".join(c for c in phone_number if c.isdigit())


def qr_matrix(data: str) -> list[list[bool]]:
    """Return the QR code modules of a text (error correction M, 4-module quiet zone included)."""
    import qrcode  # type: ignore[import-untyped]
    from qrcode.constants import ERROR_CORRECT_M  # type: ignore[import-untyped]

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
    code.add_data(data)
    code.make(fit=True)
    return [[bool(cell) for cell in row] for row in code.get_matrix()]


@dataclass(frozen=True, slots=True)
class PosterLink:
    """One QR code to print: its caption, the link it holds, and the lines printed under it for typing."""

    caption: str
    url: str
    printed: tuple[str, ...]


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
    """The files written and the layout, so a test can check the codes and texts without a decoder or OCR."""

    png: Path
    pdf: Path
    size: tuple[int, int]
    codes: tuple[QrCode, ...]
    texts: tuple[str, ...]  # every line of text drawn, top to bottom


@dataclass(frozen=True, slots=True)
class PosterText:
    """The words of a poster, in its language."""

    city: str  # e.g. "Pemerintah Kota Padang"
    title: str
    unit: str
    invite: str
    steps: str  # one step a line
    footer: str


A4_150DPI = (1240, 1754)
BLUE = "#0b5394"


def _font(size: int, bold: bool = False) -> Font:
    """Return DejaVu Sans (shipped with matplotlib; it has every Indonesian glyph), or Pillow's default."""
    from PIL import ImageFont

    try:
        from matplotlib import get_data_path

        name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
        return ImageFont.truetype(str(Path(get_data_path()) / "fonts" / "ttf" / name), size)
    except (ImportError, OSError):  # pragma: no cover - matplotlib is a dependency
        return ImageFont.load_default(size=size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: Font, width: int) -> list[str]:
    """Split a text into lines no wider than `width` pixels, at spaces."""
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


def _break_link(draw: ImageDraw.ImageDraw, link: str, font: Font, width: int) -> list[str]:
    """Split a printed link before '?', '&' or after '/' when it is too wide, never adding a character."""
    lines: list[str] = []
    rest = link
    while draw.textlength(rest, font=font) > width:
        cuts = [i for i, c in enumerate(rest) if c in "?&" and i > 0] + [i + 1 for i, c in enumerate(rest) if c == "/"]
        fitting = [i for i in cuts if 0 < i < len(rest) and draw.textlength(rest[:i], font=font) <= width]
        if not fitting:
            break
        cut = max(fitting)
        lines.append(rest[:cut])
        rest = rest[cut:]
    return [*lines, rest]


def _numbered(draw: ImageDraw.ImageDraw, text: str, font: Font, width: int) -> list[tuple[str, int]]:
    """Wrap a list whose lines may start "1. ": return (line, indent in pixels), continuations under the text."""
    out: list[tuple[str, int]] = []
    for item in text.split("\n"):
        head, space, rest = item.partition(" ")
        if space and head.endswith(".") and head[:-1].isdigit():
            indent = int(draw.textlength(head + " ", font=font))
            lines = _wrap(draw, rest, font, width - indent)
            out += [(f"{head} {lines[0]}", 0), *((line, indent) for line in lines[1:])]
        else:
            out += [(line, 0) for line in _wrap(draw, item, font, width)]
    return out


def qr_poster(png: Path, text: PosterText, links: Sequence[PosterLink]) -> Poster:
    """Write an A4 poster (PNG, and PDF beside it): city, title, unit, QR codes with their links, steps."""
    from PIL import Image, ImageDraw

    if not links:
        raise ValueError("a poster needs at least one link")
    width, height = A4_150DPI
    margin = 90
    inner = width - 2 * margin
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    drawn: list[str] = []

    def paragraph(words: str, size: int, bold: bool = False) -> list[tuple[str, Font, int]]:
        """Return a wrapped paragraph's lines with their font and line height."""
        font = _font(size, bold)
        return [(line, font, int(size * 1.3)) for line in _wrap(draw, words, font, inner)]

    def height_of(lines: list[tuple[str, Font, int]]) -> int:
        return sum(step for _, _, step in lines)

    # The band: the city's name in white on blue, so a reader knows at once whose survey this is.
    band = 150
    draw.rectangle((0, 0, width, band), fill=BLUE)
    city_font = _font(46, bold=True)
    city_lines = _wrap(draw, text.city, city_font, inner)[:2]
    y0 = (band - len(city_lines) * 56) // 2
    for number, line in enumerate(city_lines):
        draw.text(
            ((width - draw.textlength(line, font=city_font)) / 2, y0 + number * 56), line, font=city_font, fill="white"
        )
        drawn.append(line)

    title = paragraph(text.title, 54, bold=True)
    unit = paragraph(text.unit, 50, bold=True)
    invite = paragraph(text.invite, 32)
    step_font = _font(28)
    steps = _numbered(draw, text.steps, step_font, inner - 20)
    footer_font = _font(24)
    footer = _wrap(draw, text.footer, footer_font, inner)

    slot = inner // len(links)
    caption_font, link_font = _font(40, bold=True), _font(24)
    printed = [
        [ln for shown in link.printed for ln in _break_link(draw, shown, link_font, slot - 30)] for link in links
    ]
    below_code = 64 + max(len(p) for p in printed) * 32
    fixed = height_of(title) + height_of(unit) + height_of(invite) + len(steps) * 36 + below_code + len(footer) * 32
    room = height - band - 60 - fixed  # what the QR codes and the gaps may share
    gaps = 5
    side_limit = min(slot - 40, room - gaps * 40, 900)
    matrices = [qr_matrix(link.url) for link in links]
    module = max(side_limit // max(len(m) for m in matrices), 4)
    side = module * max(len(m) for m in matrices)
    gap = max((room - side) // gaps, 20)  # spread what is left evenly: no empty half page
    y = band + gap

    def put(lines: list[tuple[str, Font, int]], fill: str, left: int | None = None) -> None:
        """Draw lines centred (or from `left`) and move down past them."""
        nonlocal y
        for line, font, step in lines:
            x = (width - draw.textlength(line, font=font)) / 2 if left is None else left
            draw.text((x, y), line, font=font, fill=fill)
            drawn.append(line)
            y += step

    put(title, BLUE)
    put(unit, "#202124")
    y += gap // 2
    put(invite, "#3c4043")
    y += gap
    placed: list[QrCode] = []
    for index, (link, matrix) in enumerate(zip(links, matrices, strict=True)):
        modules = len(matrix)
        code_side = module * modules
        left = margin + index * slot + (slot - code_side) // 2
        top = y + (side - code_side) // 2
        for row, cells in enumerate(matrix):
            for col, dark in enumerate(cells):
                if dark:
                    x0, y1 = left + col * module, top + row * module
                    draw.rectangle((x0, y1, x0 + module - 1, y1 + module - 1), fill="black")
        centre = margin + index * slot + slot / 2
        draw.text(
            (centre - draw.textlength(link.caption, font=caption_font) / 2, y + side + 8),
            link.caption,
            font=caption_font,
            fill="#202124",
        )
        drawn.append(link.caption)
        for number, line in enumerate(printed[index]):
            draw.text(
                (centre - draw.textlength(line, font=link_font) / 2, y + side + 64 + number * 32),
                line,
                font=link_font,
                fill="#3c4043",
            )
            drawn.append(line)
        placed.append(QrCode(link.caption, link.url, left, top, module, modules))
    y += side + below_code + gap
    box_top = y - gap // 3
    for line, indent in steps:  # a numbered list reads best left-aligned, wrapped lines under their text
        draw.text((margin + 10 + indent, y), line, font=step_font, fill="#202124")
        drawn.append(line)
        y += 36
    draw.rounded_rectangle((margin - 20, box_top, width - margin + 20, y + 10), radius=18, outline=BLUE, width=3)
    y = height - 50 - len(footer) * 32
    draw.line((margin, y - 16, width - margin, y - 16), fill="#dadce0", width=2)
    for line in footer:
        draw.text(((width - draw.textlength(line, font=footer_font)) / 2, y), line, font=footer_font, fill="#5f6368")
        drawn.append(line)
        y += 32
    png.parent.mkdir(parents=True, exist_ok=True)
    image.save(png, "PNG")
    pdf = png.with_suffix(".pdf")
    image.save(pdf, "PDF", resolution=150.0)
    return Poster(png, pdf, (width, height), tuple(placed), tuple(drawn))
