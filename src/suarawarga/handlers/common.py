"""Global commands (menu, cancel, help, status, language) and what happens when no flow is active."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

from suarawarga.bot.conversation import COMMAND_CHOICE_PREFIX, END, STAY, Turn
from suarawarga.bot.messages import Choice, Inbound, MediaKind, MediaRef
from suarawarga.bot.texts import LANGUAGES
from suarawarga.complaints.model import normalise_code
from suarawarga.complaints.services import status_for
from suarawarga.errors import NotFound


class Cmd(StrEnum):
    """Canonical names of the global commands."""

    START = "start"
    MENU = "menu"
    CANCEL = "batal"
    HELP = "bantuan"
    STATUS = "status"
    COMPLAINT = "pengaduan"
    SURVEY = "survei"
    LANGUAGE = "bahasa"
    RESUME = "lanjut"
    JOIN = "gabung"
    LINK = "hubungkan"
    QUEUE = "antrian"
    STAFF = "st"
    ANSWER = "jawab"
    RATE = "nilai"
    MY_DATA = "dataku"
    ERASE = "hapusdata"
    ACT = "tindak"
    STAFF_LIST = "petugas"
    STAFF_REMOVE = "hapuspetugas"
    UNLINK = "putuskan"


# Words a citizen may type as the whole message (WhatsApp has no slash commands).
KEYWORDS: dict[str, str] = {
    "start": Cmd.START,
    "mulai": Cmd.START,
    "menu": Cmd.MENU,
    "batal": Cmd.CANCEL,
    "cancel": Cmd.CANCEL,
    "bantuan": Cmd.HELP,
    "help": Cmd.HELP,
    "status": Cmd.STATUS,
    "cek": Cmd.STATUS,
    "pengaduan": Cmd.COMPLAINT,
    "lapor": Cmd.COMPLAINT,
    "complaint": Cmd.COMPLAINT,
    "survei": Cmd.SURVEY,
    "survey": Cmd.SURVEY,
    "bahasa": Cmd.LANGUAGE,
    "language": Cmd.LANGUAGE,
    "lanjut": Cmd.RESUME,
    "continue": Cmd.RESUME,
    "gabung": Cmd.JOIN,
    "join": Cmd.JOIN,
    "hubungkan": Cmd.LINK,
    "antrian": Cmd.QUEUE,
    "queue": Cmd.QUEUE,
    "jawab": Cmd.ANSWER,
    "answer": Cmd.ANSWER,
    "nilai": Cmd.RATE,
    "dataku": Cmd.MY_DATA,
    "mydata": Cmd.MY_DATA,
    "hapusdata": Cmd.ERASE,
    "deletemydata": Cmd.ERASE,
    "tindak": Cmd.ACT,
    "act": Cmd.ACT,
    "petugas": Cmd.STAFF_LIST,
    "staff": Cmd.STAFF_LIST,
    "hapuspetugas": Cmd.STAFF_REMOVE,
    "removestaff": Cmd.STAFF_REMOVE,
    "putuskan": Cmd.UNLINK,
    "unlink": Cmd.UNLINK,
}
COMMANDS_WITH_ARGUMENTS = frozenset(
    {Cmd.STATUS, Cmd.START, Cmd.JOIN, Cmd.LINK, Cmd.ANSWER, Cmd.RATE, Cmd.SURVEY, Cmd.STAFF_REMOVE}
)
# Keywords common in ordinary sentences ("petugas parkir ...", "tindak tegas ..."): typed without a slash they
# are commands only when their argument has the command's shape, so a complaint's text is never taken for one.
ARGUMENT_SHAPES: dict[str, Callable[[str], bool]] = {
    Cmd.ACT: lambda rest: " " not in rest.strip(),
    Cmd.STAFF_LIST: lambda rest: " " not in rest.strip(),
    Cmd.UNLINK: lambda rest: rest.split()[0].isdigit(),
}
GROUP_COMMANDS = frozenset({Cmd.LINK, Cmd.QUEUE, Cmd.STAFF, Cmd.ACT, Cmd.UNLINK})


def menu_choices() -> tuple[Choice, ...]:
    """Return the main menu's buttons."""
    return (
        Choice(COMMAND_CHOICE_PREFIX + Cmd.COMPLAINT, "menu.complaint"),
        Choice(COMMAND_CHOICE_PREFIX + Cmd.STATUS, "menu.status"),
        Choice(COMMAND_CHOICE_PREFIX + Cmd.SURVEY, "menu.survey"),
        Choice(COMMAND_CHOICE_PREFIX + Cmd.HELP, "menu.help"),
        Choice(COMMAND_CHOICE_PREFIX + Cmd.LANGUAGE, "menu.language"),
    )


def show_menu(turn: Turn, intro: str = "menu.intro") -> None:
    """Send the main menu."""
    turn.reply(intro, menu_choices())


async def idle(turn: Turn, _args: str) -> str:
    """Greet a chat that is not in any flow with the menu."""
    show_menu(turn)
    return END


async def start(turn: Turn, args: str) -> str:
    """Start over; a deep-link payload (ikm_UNIT) opens the survey for that unit."""
    turn.state.clear()
    if args.lower().startswith("ikm_"):
        return turn.start_flow("survey", unit=args[4:].upper())
    show_menu(turn, "menu.welcome")
    return END


async def menu(turn: Turn, _args: str) -> str:
    """Leave any flow and show the menu."""
    turn.state.clear()
    show_menu(turn)
    return END


async def cancel(turn: Turn, _args: str) -> str:
    """Abandon the current flow, keeping nothing of it."""
    was_busy = turn.state.flow is not None
    turn.state.clear()
    show_menu(turn, "cancel.done" if was_busy else "cancel.nothing")
    return END


async def resume(turn: Turn, _args: str) -> str:
    """Ask the current question again, or show the menu when nothing is in progress."""
    if turn.state.flow is None:
        show_menu(turn)
        return END
    return STAY


async def help_(turn: Turn, _args: str) -> str:
    """Explain the commands; the current question is asked again."""
    turn.reply("help.text")
    if turn.state.flow is None:
        show_menu(turn)
        return END
    return STAY


async def language(turn: Turn, args: str) -> str:
    """Switch between Indonesian and English (or to the one named)."""
    wanted = args.strip().lower()[:2]
    turn.state.language = wanted if wanted in LANGUAGES else ("en" if turn.language == "id" else "id")
    turn.reply("language.changed")
    if turn.state.flow is None:
        show_menu(turn)
        return END
    return STAY


async def complaint(turn: Turn, _args: str) -> str:
    """Start filing a complaint."""
    return turn.start_flow("complaint")


async def survey(turn: Turn, args: str) -> str:
    """Start the satisfaction survey (optionally for a unit code)."""
    return turn.start_flow("survey", unit=args.strip().upper() or None)


def format_time(turn: Turn, moment: datetime) -> str:
    """Format a moment in the city's timezone as dd-mm-yyyy HH:MM."""
    return moment.astimezone(turn.clock.tz).strftime("%d-%m-%Y %H:%M")


async def status(turn: Turn, args: str) -> str:
    """Show a complaint's history (status CODE), or the citizen's recent complaints."""
    found = await turn.uow.citizens.find(turn.inbound.key.channel, sender_of(turn))
    citizen_id = found[0] if found else None
    if args:
        code = normalise_code(args)
        try:
            if code is None:
                raise NotFound(args)
            view = await status_for(turn.uow, code, citizen_id)
        except NotFound:
            turn.reply("status.not_found", code=args.strip()[:20])
        else:
            lines = [
                turn.text(
                    history_key(turn, event.kind, view.public),
                    at=format_time(turn, event.at),
                    note=event.note or "",
                )
                for event in view.history
            ]
            turn.reply(
                "status.detail",
                code=view.complaint.code,
                status=turn.text(f"status.label.{view.complaint.status}"),
                category=view.category.name(turn.language),
                unit=view.unit.name,
                filed=format_time(turn, view.complaint.filed_at),
                history="\n".join(lines),
            )
    else:
        mine = await turn.uow.complaints.for_citizen(citizen_id) if citizen_id else []
        if mine:
            turn.reply(
                "status.list",
                items="\n".join(
                    turn.text(
                        "status.list_item",
                        code=c.code,
                        status=turn.text(f"status.label.{c.status}"),
                        filed=format_time(turn, c.filed_at),
                    )
                    for c in mine
                ),
            )
        else:
            turn.reply("status.none")
    if turn.state.flow is None:
        return END
    return STAY


def history_key(turn: Turn, kind: str, public: bool) -> str:
    """Return the text of a history line: seen by code alone, the variant without the officer's note."""
    public_key = f"history.public.{kind}"
    return public_key if public and turn.catalogue.has(public_key) else f"history.{kind}"


def sender_of(turn: Turn) -> str:
    """Return the person's id on the channel (the chat id in a private chat)."""
    return turn.inbound.sender_id or turn.inbound.key.chat_id


def photos_in(inbound: Inbound) -> list[MediaRef]:
    """Return the images a message carries: photos, and images sent as files."""
    return [m for m in inbound.media if m.kind is MediaKind.PHOTO or m.mime.startswith("image/")]


def attachment_record(media: MediaRef, kind: str) -> dict[str, object]:
    """Return a stored image as the attachment record (NewAttachment's fields) a flow keeps until it files it."""
    return {"kind": kind, "path": media.path, "mime": media.mime, "size": media.size, "sha256": media.sha256}
