"""The IKM commands of `suarawarga`: report ikm, report chart, survey import and qr."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from suarawarga.bot.texts import LANGUAGES
from suarawarga.cli.output import fail, note, out, output_file, refuse, unit_code, unknown_unit, whole_number
from suarawarga.surveys.ikm import Weight
from suarawarga.surveys.periods import Period, PeriodError, parse_period, period_between, period_containing

# The database layer, the exports and the charts load when a command runs, not for `suarawarga --help`.
if TYPE_CHECKING:
    from suarawarga.bootstrap import App
    from suarawarga.surveys.services import IkmReport

MAX_BATCH = 100_000
BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def _label(app: App, language: str | None = None) -> Callable[..., str]:
    lang = language or app.settings.language

    def label(key: str, **params: str) -> str:
        """Render a catalogue text in the chosen language."""
        return app.catalogue.render(key, lang, params)

    return label


def _period(app: App, args: argparse.Namespace) -> Period:
    """Return the period asked for: --period, --from/--to, or the current year in the city's timezone."""
    tz = app.clock.tz
    if args.period and (args.date_from or args.date_to):
        raise PeriodError("give either --period or --from/--to, not both")
    if args.period:
        return parse_period(args.period, tz)
    if args.date_from or args.date_to:
        if not (args.date_from and args.date_to):
            raise PeriodError("--from and --to go together")
        try:
            first, last = date.fromisoformat(args.date_from), date.fromisoformat(args.date_to)
        except ValueError as exc:
            raise PeriodError(f"dates are written 2026-10-01: {exc}") from None
        return period_between(first, last, tz)
    return period_containing("year", app.clock.now(), tz)


async def _report(app: App, args: argparse.Namespace) -> IkmReport:
    from suarawarga.errors import NotFound
    from suarawarga.surveys.services import ikm_report

    try:
        period = _period(app, args)
    except PeriodError as exc:
        given = f"--period {args.period!r}" if args.period else f"--from {args.date_from!r} --to {args.date_to!r}"
        fail(f"{given}: {exc} (expected e.g. --period 2026-Q4, or --from 2026-10-01 --to 2026-12-31)")
    try:
        async with app.uow() as uow:
            return await ikm_report(
                uow,
                period,
                Weight(args.weight),
                args.unit,
                (app.settings.city_code, _label(app, getattr(args, "language", None))("survey.report.city")),
                getattr(args, "population", None),
            )
    except NotFound:
        fail(unknown_unit(args.unit))


async def cmd_report_ikm(app: App, args: argparse.Namespace) -> int:
    """Print or write the IKM of a unit, an OPD (pooled with its sub-units) or the whole city."""
    from suarawarga.surveys.export import report_csv, report_json, report_table, write_xlsx
    from suarawarga.surveys.services import profile_counts, responses_in

    output = output_file("--output", args.output) if args.output else None
    if args.format == "xlsx" and output is None:
        fail("--format xlsx needs --output FILE.xlsx")
    report = await _report(app, args)
    label = _label(app, args.language)
    if args.format == "xlsx" and output is not None:
        async with app.uow() as uow:
            responses = await responses_in(uow, report.period, report.first())
            profile = await profile_counts(uow, report.period, report.first())
        await asyncio.to_thread(write_xlsx, output, report, responses, profile, label, app.clock.tz)
        out(f"wrote {output}")
        return 0
    if args.format == "json":
        text = report_json(report) + "\n"
    elif args.format == "csv":
        text = report_csv(report)
    else:
        text = report_table(report, label)
    if output is not None:
        await asyncio.to_thread(output.write_text, text, encoding="utf-8")
        out(f"wrote {output}")
    else:
        out(text)
    return 0


async def cmd_report_chart(app: App, args: argparse.Namespace) -> int:
    """Draw a PNG: NRR per unsur of a unit, or the IKM of every OPD ranked, over the A–D bands."""
    from suarawarga.surveys.graphics import Ranked, decimal, ikm_ranking_chart, nrr_chart, sample_short
    from suarawarga.surveys.services import Scope

    output = output_file("--output", args.output)
    report = await _report(app, args)
    language = args.language or app.settings.language
    label = _label(app, language)
    weight = label(report.weight.catalogue_key)
    if args.unit:
        main = report.first()
        if main.result is None:
            return refuse(args, f"no responses for {main.code} in {report.period.label}", 1)
        await asyncio.to_thread(nrr_chart, output, main, report.period.label, weight, label, language)
    else:
        heads = [
            Ranked(line.name, line.result.ikm, line.n_respondents, sample_short(line.n_respondents, line.sample_ok))
            for line in report.lines
            if line.result is not None
            and line.scope is not Scope.CITY
            and report.units.get(line.unit_ids[0]) is not None
            and report.units[line.unit_ids[0]].parent_id is None
        ]
        if not heads:
            return refuse(args, f"no responses in {report.period.label}", 1)
        city = report.first()
        title = label("survey.chart.ranking_title", period=report.period.label)
        if city.result is not None:
            title += "\n" + label(
                "survey.chart.city_line",
                city=city.name,
                ikm=decimal(city.result.ikm_display, language),
                mutu=city.result.mutu.value,
                n=str(city.n_respondents),
                weight=weight,
            )
        await asyncio.to_thread(ikm_ranking_chart, output, title, heads, label, language)
    out(f"wrote {output}")
    return 0


async def cmd_survey_import(app: App, args: argparse.Namespace) -> int:
    """Import paper or legacy IKM results from a CSV file (idempotent; nothing stored if a row is bad)."""
    from suarawarga.surveys.importing import ImportFileError, parse_csv, parse_mapping
    from suarawarga.surveys.services import import_responses

    path = Path(args.file)
    try:
        text = decode_csv(await asyncio.to_thread(path.read_bytes))
        mapping = parse_mapping(args.map)
    except OSError as exc:
        fail(f"cannot read {args.file!r}: {exc.strerror or exc} (expected a CSV file)")
    except (UnicodeDecodeError, ImportFileError) as exc:
        fail(f"{args.file!r}: {exc}")
    async with app.uow() as uow:
        unit = await uow.units.by_code(args.unit) if args.unit else None
        known = {u.code for u in await uow.units.list()}
    if args.unit and unit is None:
        fail(unknown_unit(args.unit))
    default = unit.code if unit is not None else ""
    try:
        parsed = parse_csv(text, default, known | {default} - {""}, app.clock.tz, app.clock.now(), mapping)
    except ImportFileError as exc:
        fail(f"{args.file!r}: {exc}")
    for problem in parsed.problems:
        note(f"{path}: {problem}")
    if parsed.problems and not args.skip_bad:
        note(f"nothing stored: {len(parsed.problems)} bad row(s); fix them, or pass --skip-bad to leave them out")
        return 1
    total = len(parsed.rows)

    def progress(done: int, of: int) -> None:
        """Show how far a large import is."""
        if of > args.batch:  # only large files are worth a progress line
            sys.stderr.write(f"\rimporting {done}/{of}")
            if done == of:
                sys.stderr.write("\n")
            sys.stderr.flush()

    async with app.uow() as uow:
        outcome = await import_responses(uow, parsed, skip_bad=args.skip_bad, batch=args.batch, progress=progress)
        await uow.commit()
    out(
        f"{path}: {total} good row(s): {outcome.inserted} imported, {outcome.already} already imported"
        + (f", {outcome.bad} bad row(s) left out" if outcome.bad else "")
    )
    return 0


def decode_csv(data: bytes) -> str:
    """Decode a CSV file: UTF-8 (with or without Excel's BOM) or UTF-16 with its BOM (Excel's "Unicode text")."""
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return data.decode(encoding)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnicodeDecodeError(
            exc.encoding, exc.object, exc.start, exc.end, "not UTF-8 or UTF-16 text (save the CSV as UTF-8)"
        ) from None


async def cmd_qr(app: App, args: argparse.Namespace) -> int:
    """Write a counter poster (PNG and PDF) with QR codes that open the unit's survey."""
    from suarawarga.surveys.graphics import (
        PosterLink,
        PosterText,
        qr_poster,
        telegram_link,
        whatsapp_link,
        whatsapp_message,
        whatsapp_number,
    )

    async with app.uow() as uow:
        unit = await uow.units.by_code(args.unit)
    if unit is None:
        fail(unknown_unit(args.unit))
    label = _label(app, args.language)
    links: list[PosterLink] = []
    bot = args.bot_username or app.settings.telegram_bot_username
    if bot:
        url = telegram_link(bot, unit.code)
        links.append(PosterLink("Telegram", url, (url.removeprefix("https://"),)))
    if app.settings.whatsapp_phone_number:
        number = whatsapp_number(app.settings.whatsapp_phone_number)
        url = whatsapp_link(number, unit.code)
        typed = label("survey.poster.whatsapp_send", text=whatsapp_message(unit.code))
        links.append(PosterLink("WhatsApp", url, (f"wa.me/{number}", typed)))
    if not links:
        fail("no link to print: pass --bot-username or set SUARAWARGA_TELEGRAM_BOT_USERNAME (and/or ...PHONE_NUMBER)")
    async with app.uow() as uow:
        city = await uow.units.city_name()
    output = output_file("--output", args.output or f"qr-{unit.code}.png").with_suffix(".png")
    text = PosterText(
        city=label("survey.poster.city", city=city) if city else "",
        title=label("survey.poster.title"),
        unit=unit.name,
        invite=label("survey.poster.invite"),
        steps=label("survey.poster.steps"),
        footer=label("survey.poster.footer", code=unit.code),
    )
    poster = await asyncio.to_thread(qr_poster, output, text, links)
    out(f"wrote {poster.png} and {poster.pdf}")
    for link in links:
        out(f"  {link.caption}: {link.url}")
    return 0


def _period_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--unit",
        type=unit_code,
        help="unit or OPD code, e.g. DINKES (default: the whole city and every unit; see suarawarga unit list)",
    )
    parser.add_argument(
        "--period", help="2026-W48, 2026-11, 2026-Q4 (triwulan), 2026-S2 or 2026 (default: the current year)"
    )
    parser.add_argument("--from", dest="date_from", metavar="DATE", help="first day, e.g. 2026-10-01 (with --to)")
    parser.add_argument("--to", dest="date_to", metavar="DATE", help="last day, inclusive (with --from)")
    parser.add_argument(
        "--weight",
        choices=[w.value for w in Weight],
        default=Weight.EXACT.value,
        help="weight per unsur: exact 1/9 (default), or 0.111 / 0.11 to reproduce a legacy spreadsheet",
    )
    parser.add_argument("--language", choices=LANGUAGES, help="language of labels (default: the bot's)")


def register(subparsers: Any) -> None:
    """Add the report, survey and qr commands to the CLI."""
    report = subparsers.add_parser("report", help="IKM reports", description="IKM reports and charts.")
    r_sub = report.add_subparsers(dest="report_command", required=True, metavar="ACTION")
    ikm = r_sub.add_parser(
        "ikm",
        help="IKM of a unit, an OPD or the city",
        description="Compute the IKM (PermenPANRB 14/2017) of a unit, an OPD pooled with its sub-units, or "
        "the city, from the stored questionnaires.",
    )
    _period_options(ikm)
    ikm.add_argument("--format", choices=["table", "json", "csv", "xlsx"], default="table", help="output format")
    ikm.add_argument("--output", help="write to this file (required for xlsx; default: print)")
    ikm.add_argument(
        "--population",
        type=whole_number(1, 100_000_000),
        help="service users of the unit in the period, for the Krejcie–Morgan check",
    )
    ikm.set_defaults(handler=cmd_report_ikm)
    chart = r_sub.add_parser(
        "chart",
        help="PNG chart with the A–D bands",
        description="Draw NRR per unsur of a unit (--unit), or the IKM of every OPD ranked.",
    )
    _period_options(chart)
    chart.add_argument("--output", required=True, help="PNG file to write")
    chart.set_defaults(handler=cmd_report_chart)

    survey = subparsers.add_parser("survey", help="IKM questionnaires", description="Manage IKM questionnaires.")
    s_sub = survey.add_subparsers(dest="survey_command", required=True, metavar="ACTION")
    imp = s_sub.add_parser(
        "import",
        help="import paper or legacy results from CSV",
        description="Import one row per respondent: submitted_at and one column per unsur code (persyaratan, "
        "prosedur, waktu, biaya, produk, kompetensi, perilaku, pengaduan, sarana), optional unit, service, "
        "gender, age, education, occupation and saran. Importing the same rows again stores nothing twice.",
    )
    imp.add_argument("file", help="CSV file (comma, semicolon or tab separated; UTF-8 or Excel's UTF-16)")
    imp.add_argument(
        "--unit", type=unit_code, help="unit of the rows without a unit (needed when the file has no unit column)"
    )
    imp.add_argument(
        "--map",
        help="which column holds which field, e.g. U1=persyaratan,U2=prosedur,...,U8=pengaduan,U9=sarana",
    )
    imp.add_argument("--skip-bad", action="store_true", help="store the good rows even if some rows are bad")
    imp.add_argument("--batch", type=whole_number(1, MAX_BATCH), default=5000, help="rows per insert (default: 5000)")
    imp.set_defaults(handler=cmd_survey_import)

    qr = subparsers.add_parser(
        "qr",
        help="QR poster for a unit's counter",
        description="Write a PNG and a PDF poster with QR codes of the unit's survey links (Telegram deep link; "
        "WhatsApp wa.me link when SUARAWARGA_WHATSAPP_PHONE_NUMBER is set).",
    )
    qr.add_argument("unit", metavar="UNITCODE", type=unit_code, help="unit code, e.g. PKM-ANDALAS")
    qr.add_argument("--output", help="PNG file; the PDF is written beside it (default: qr-UNITCODE.png)")
    qr.add_argument("--bot-username", help="the Telegram bot's username (default: SUARAWARGA_TELEGRAM_BOT_USERNAME)")
    qr.add_argument("--language", choices=LANGUAGES, help="language of the poster (default: the bot's)")
    qr.set_defaults(handler=cmd_qr)
