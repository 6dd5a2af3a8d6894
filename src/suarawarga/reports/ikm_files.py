"""What the IKM files of the CLI and the staff console share: the poster's links and words, the ranking's bars.

`suarawarga qr` and the console's poster download print the same poster from `poster_links` and `poster_text`;
`suarawarga report chart` and the console's city chart draw the same bars from `ranking_entries`.
"""

from __future__ import annotations

from suarawarga.complaints.model import Unit
from suarawarga.surveys.graphics import (
    Label,
    PosterLink,
    PosterText,
    Ranked,
    sample_short,
    telegram_link,
    whatsapp_link,
    whatsapp_message,
    whatsapp_number,
)
from suarawarga.surveys.services import IkmReport, Scope


def poster_links(unit_code: str, bot_username: str | None, phone_number: str | None, label: Label) -> list[PosterLink]:
    """Return the QR codes of a unit's poster: Telegram and/or WhatsApp (none when neither is configured)."""
    links: list[PosterLink] = []
    if bot_username:
        url = telegram_link(bot_username, unit_code)
        links.append(PosterLink("Telegram", url, (url.removeprefix("https://"),)))
    if phone_number:
        number = whatsapp_number(phone_number)
        url = whatsapp_link(number, unit_code)
        typed = label("survey.poster.whatsapp_send", text=whatsapp_message(unit_code))
        links.append(PosterLink("WhatsApp", url, (f"wa.me/{number}", typed)))
    return links


def poster_text(unit: Unit, city: str | None, label: Label) -> PosterText:
    """Return the words of a unit's poster in the label's language."""
    return PosterText(
        city=label("survey.poster.city", city=city) if city else "",
        title=label("survey.poster.title"),
        unit=unit.name,
        invite=label("survey.poster.invite"),
        steps=label("survey.poster.steps"),
        footer=label("survey.poster.footer", code=unit.code),
    )


def ranking_entries(report: IkmReport) -> list[Ranked]:
    """Return the bars of the city ranking: every top-level unit with answers, with its sample warning."""
    return [
        Ranked(line.name, line.result.ikm, line.n_respondents, sample_short(line.n_respondents, line.sample_ok))
        for line in report.lines
        if line.result is not None
        and line.scope is not Scope.CITY
        and report.units.get(line.unit_ids[0]) is not None
        and report.units[line.unit_ids[0]].parent_id is None
    ]


def ranking_title(report: IkmReport, label: Label, language: str) -> str:
    """Return the city ranking chart's title: the period, and the city's IKM when it has answers."""
    from suarawarga.surveys.graphics import decimal

    title = label("survey.chart.ranking_title", period=report.period.label)
    city = report.first()
    if city.result is not None:
        title += "\n" + label(
            "survey.chart.city_line",
            city=city.name,
            ikm=decimal(city.result.ikm_display, language),
            mutu=city.result.mutu.value,
            n=str(city.n_respondents),
            weight=label(report.weight.catalogue_key),
        )
    return title
