"""The peer that `python -m benchmarks.load --baseline ptb` measures SuaraWarga against: an in-memory PTB bot.

What a team would otherwise deploy, run as its own process so that its CPU is counted like a `serve` process's:

- python-telegram-bot's `Application` with its defaults (HTTPXRequest; updates handled one at a time, as the
  `ConversationHandler` documentation asks; `--concurrency N` lets N run at once), no `Updater`;
- a webhook on a minimal Starlette route (uvicorn with uvloop and httptools, as `suarawarga serve`): it checks
  the secret header in constant time and puts the update on `application.update_queue`;
- a 3-state `ConversationHandler` (MENU, FORM, CONFIRM) keeping the conversation and the form in memory
  (`user_data`); the filed complaints go to a list;
- the dialog the load benchmark's Telegram citizens follow, with the same texts (SuaraWarga's catalogue, rendered
  with the same parameters) and keyboards (the seed's categories and kecamatan), and the same Bot API calls per
  update: a button press is answered (answerCallbackQuery) and the keyboard of the question it answered removed
  (editMessageReplyMarkup), then the next question is sent. No pacing: the fake Bot API has no limits.

`GET /stats` returns what the benchmark needs: updates received and processed, and the times of the first
received and the last processed (wall clock, seconds). Run by the benchmark; by hand:
`python -m benchmarks.ptb_baseline --port 18090 --api-url http://127.0.0.1:PORT --token T --secret S`.
"""

from __future__ import annotations

import argparse
import contextlib
import hmac
import html
import itertools
import logging
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import uvicorn
import uvloop
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LinkPreviewOptions,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from suarawarga.bot.texts import Catalogue
from suarawarga.complaints.model import UnitKind
from suarawarga.complaints.seed import read_seed

MENU, FORM, CONFIRM = range(3)
LANGUAGE = "id"
MIN_DESCRIPTION = 10  # letters, as SuaraWarga asks
PREFIXES = {"category": "cat:", "kecamatan": "kec:", "photos": "photos:", "identity": "id:", "contact": "contact:"}
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


@dataclass
class Stats:
    """What the benchmark reads at GET /stats."""

    received: int = 0
    processed: int = 0
    first_received: float = 0.0
    last_processed: float = 0.0
    complaints: list[dict[str, str]] = field(default_factory=list)


class Texts:
    """The bot's texts and keyboards, built once from SuaraWarga's catalogue and seed (a team's constants)."""

    def __init__(self) -> None:
        self.catalogue = Catalogue.load()
        seed = read_seed()
        self.units = {u.code: u.name for u in seed.units}
        self.categories = {c.code: c for c in seed.categories}
        t = self.text

        def inline(rows: Sequence[Sequence[tuple[str, str]]]) -> InlineKeyboardMarkup:
            return InlineKeyboardMarkup([[InlineKeyboardButton(text, callback_data=d) for d, text in r] for r in rows])

        self.menu = inline(
            [
                [("cmd:pengaduan", t("menu.complaint")), ("cmd:status", t("menu.status"))],
                [("cmd:survei", t("menu.survey")), ("cmd:bantuan", t("menu.help"))],
                [("cmd:bahasa", "English")],
            ]
        )
        self.consent = inline([[("consent:yes", t("privacy.agree"))], [("consent:no", t("privacy.decline"))]])
        self.category = inline([[(f"cat:{c.code}", c.name_id)] for c in seed.categories])
        location = KeyboardButton("📍 Kirim lokasi saya", request_location=True)
        self.location = ReplyKeyboardMarkup(
            [[location], [KeyboardButton(t("complaint.location.skip"))]], resize_keyboard=True, one_time_keyboard=True
        )
        kecamatan = [u for u in seed.units if u.kind is UnitKind.KECAMATAN]
        self.kecamatan = inline(
            [[(f"kec:{u.code}", u.name)] for u in kecamatan] + [[("kec:unknown", t("complaint.kecamatan.unknown"))]]
        )
        self.photos = inline([[("photos:done", t("complaint.photos.done"))]])
        self.identity = inline([[(f"id:{k}", t(f"complaint.identity.{k}"))] for k in ("rahasia", "named", "anonim")])
        self.contact = inline([[("contact:skip", t("complaint.contact.skip"))]])
        self.confirm = inline(
            [[("confirm:send", t("complaint.confirm.send"))], [("confirm:cancel", t("complaint.confirm.cancel"))]]
        )

    def text(self, key: str, **params: Any) -> str:
        """Render a catalogue text in Indonesian (parameters HTML-escaped, as the messages go out as HTML)."""
        return self.catalogue.render(key, LANGUAGE, {k: html.escape(str(v)) for k, v in params.items()})


class Bot:
    """The conversation: handlers of a 3-state ConversationHandler over in-memory user_data."""

    # The form's questions in order: (field, kind of answer, question key, keyboard attribute or None).
    FORM = (
        ("category", "button", "complaint.category.ask", "category"),
        ("description", "text", "complaint.description.ask", None),
        ("location", "text", "complaint.location.ask", "location"),
        ("kecamatan", "button", "complaint.kecamatan.ask", "kecamatan"),
        ("photos", "button", "complaint.photos.ask", "photos"),
        ("identity", "button", "complaint.identity.ask", "identity"),
        ("name", "text", "complaint.name.ask", None),
        ("contact", "button", "complaint.contact.ask", "contact"),
    )

    def __init__(self, texts: Texts, stats: Stats) -> None:
        self.t = texts
        self.stats = stats
        self.codes = itertools.count(1)

    def handler(self) -> ConversationHandler[Any]:
        """Return the ConversationHandler."""
        with warnings.catch_warnings():
            # per_message=False with CallbackQueryHandlers: the conversation is per chat, which is what is wanted.
            warnings.simplefilter("ignore", PTBUserWarning)
            return ConversationHandler(
                entry_points=[CommandHandler("start", self.start)],
                states={
                    MENU: [CallbackQueryHandler(self.menu, pattern=r"^(cmd:pengaduan|consent:yes)$")],
                    FORM: [
                        CallbackQueryHandler(self.form_button),
                        MessageHandler(filters.TEXT & ~filters.COMMAND, self.form_text),
                    ],
                    CONFIRM: [CallbackQueryHandler(self.confirm, pattern=r"^confirm:send$")],
                },
                fallbacks=[CommandHandler("start", self.start)],
            )

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """/start: greet with the menu."""
        if update.effective_message is None:
            return ConversationHandler.END
        await update.effective_message.reply_text(self.t.text("menu.welcome"), reply_markup=self.t.menu)
        return MENU

    async def menu(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """The menu's complaint button asks for consent; consent starts the form."""
        query = update.callback_query
        if query is None or query.message is None or context.user_data is None:
            return MENU
        await query.answer()
        chat = query.message.chat
        if query.data == "cmd:pengaduan":
            await chat.send_message(self.t.text("privacy.notice"), reply_markup=self.t.consent)
            return MENU
        await query.edit_message_reply_markup(None)
        await chat.send_message(self.t.text("privacy.thanks"))
        context.user_data.clear()
        context.user_data["step"] = 0
        await self.ask(update, context)
        return FORM

    async def form_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """A button answering the form's current question."""
        query = update.callback_query
        if query is None or context.user_data is None:
            return FORM
        await query.answer()
        name, kind, _, _ = self.FORM[context.user_data["step"]]
        if kind != "button" or not (query.data or "").startswith(PREFIXES[name]):
            return FORM
        await query.edit_message_reply_markup(None)
        context.user_data[name] = (query.data or "").split(":", 1)[1]
        return await self.next(update, context)

    async def form_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """A typed answer to the form's current question."""
        message = update.effective_message
        if message is None or message.text is None or context.user_data is None:
            return FORM
        name, kind, key, _ = self.FORM[context.user_data["step"]]
        text = message.text.strip()
        if kind != "text" or (name == "description" and sum(c.isalpha() for c in text) < MIN_DESCRIPTION):
            await message.reply_text(self.t.text(key, **self.params(name, context.user_data)))
            return FORM
        context.user_data[name] = text
        return await self.next(update, context)

    async def next(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """Ask the next question, or show the summary."""
        data = context.user_data
        chat = update.effective_chat
        if data is None or chat is None:
            return FORM
        data["step"] += 1
        if data["step"] < len(self.FORM):
            await self.ask(update, context)
            return FORM
        category = self.t.categories[data["category"]]
        location = data["location"]
        identity = f"{data['identity']} ({data['name']}, hanya untuk OPD yang menangani)"
        summary = self.t.text(
            "complaint.summary",
            category=category.name_id,
            description=data["description"],
            location=self.t.text("complaint.summary.no_location") if location == "Tanpa lokasi" else location,
            kecamatan="tidak diketahui" if data["kecamatan"] == "unknown" else self.t.units[data["kecamatan"]],
            photos=0,
            identity=identity,
        )
        await chat.send_message(summary, reply_markup=self.t.confirm)
        return CONFIRM

    def params(self, name: str, data: dict[Any, Any]) -> dict[str, Any]:
        """Return the parameters of a question's text."""
        if name == "description":
            category = self.t.categories[data["category"]]
            return {"category": category.name_id, "min": MIN_DESCRIPTION, "hint": category.hint_id}
        if name == "photos":
            return {"max": 5}
        return {}

    async def ask(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Send the form's current question with its keyboard."""
        data, chat = context.user_data, update.effective_chat
        if data is None or chat is None:
            return
        name, _, key, keyboard = self.FORM[data["step"]]
        markup: Markup | None = getattr(self.t, keyboard) if keyboard else None
        if name == "name":
            markup = ReplyKeyboardRemove()  # the location question's reply keyboard goes away
        await chat.send_message(self.t.text(key, **self.params(name, data)), reply_markup=markup)

    async def confirm(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """Send: the complaint is kept in memory and its code given."""
        query, data = update.callback_query, context.user_data
        if query is None or query.message is None or data is None:
            return CONFIRM
        await query.answer()
        await query.edit_message_reply_markup(None)
        category = self.t.categories[data["category"]]
        code = f"PDG-{next(self.codes):06d}"
        self.stats.complaints.append({"code": code, "description": data["description"], "name": data["name"]})
        text = self.t.text("complaint.filed", code=code, unit=self.t.units[category.unit])
        await query.message.chat.send_message(text)
        data.clear()
        return ConversationHandler.END

    async def processed(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Count an update whose handling ended (a handler in a later group runs after the conversation's)."""
        self.stats.processed += 1
        self.stats.last_processed = time.time()


def web(application: Application[Any, Any, Any, Any, Any, Any], secret: str, stats: Stats) -> Starlette:
    """Return the webhook app: POST /telegram (secret checked) onto the update queue, GET /stats, GET /healthz."""

    async def telegram(request: Request) -> Response:
        given = request.headers.get("x-telegram-bot-api-secret-token", "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return Response(status_code=403)
        update = Update.de_json(await request.json(), application.bot)
        stats.received += 1
        stats.first_received = stats.first_received or time.time()
        await application.update_queue.put(update)
        return Response()

    async def report(request: Request) -> Response:
        counters = {k: v for k, v in vars(stats).items() if k != "complaints"}
        return JSONResponse(counters | {"filed": len(stats.complaints)})

    async def healthz(request: Request) -> Response:
        return Response("ok")

    return Starlette(
        routes=[
            Route("/telegram", telegram, methods=["POST"]),
            Route("/stats", report),
            Route("/healthz", healthz),
        ]
    )


async def serve(args: argparse.Namespace) -> None:
    """Run the bot and its webhook server until SIGTERM/SIGINT."""
    stats = Stats()
    bot = Bot(Texts(), stats)
    defaults = Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True))
    application = (
        Application.builder()
        .token(args.token)
        .base_url(f"{args.api_url.rstrip('/')}/bot")
        .base_file_url(f"{args.api_url.rstrip('/')}/file/bot")
        .defaults(defaults)
        .updater(None)
        .concurrent_updates(args.concurrency or False)
        .build()
    )
    application.add_handler(bot.handler())
    application.add_handler(TypeHandler(Update, bot.processed), group=1)
    config = uvicorn.Config(
        web(application, args.secret, stats),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_keep_alive=5,
    )
    server = uvicorn.Server(config)
    async with application:
        await application.start()
        try:
            await server.serve()
        finally:
            await application.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ptb_baseline", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-url", required=True, help="root of the (fake) Bot API")
    parser.add_argument("--token", required=True)
    parser.add_argument("--secret", required=True, help="the webhook's secret header")
    parser.add_argument(
        "--concurrency", type=int, default=0, help="updates handled at once (default 0: one at a time, PTB's default)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    with contextlib.suppress(KeyboardInterrupt):
        uvloop.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
