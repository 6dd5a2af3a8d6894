"""Global commands (menu, cancel, help, status, language) and what happens when no flow is active."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from suarawarga.bot.attachments import MediaRefused
from suarawarga.bot.conversation import COMMAND_CHOICE_PREFIX, END, STAY, Turn
from suarawarga.bot.messages import Choice, Inbound, IncomingFile, MediaKind, MediaRef
from suarawarga.bot.texts import LANGUAGES
from suarawarga.complaints.model import DESCRIPTION_MAX, ComplaintStatus, letter_count, normalise_code
from suarawarga.complaints.services import status_for
from suarawarga.errors import NotFound
from suarawarga.handlers.notify import one_line

log = logging.getLogger(__name__)
# A message outside any flow with at least this much text is taken as a complaint (not "halo", "tes", "pagi").
COMPLAINT_WORDS_MIN, COMPLAINT_LETTERS_MIN = 5, 25


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
    MERGE = "gabungkan"
    UNMERGE = "pisahkan"
    SIGN_IN = "masuk"
    SIGN_OUT = "keluar"


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
    "gabungkan": Cmd.MERGE,
    "merge": Cmd.MERGE,
    "pisahkan": Cmd.UNMERGE,
    "unmerge": Cmd.UNMERGE,
    "masuk": Cmd.SIGN_IN,
    "login": Cmd.SIGN_IN,
    "keluar": Cmd.SIGN_OUT,
    "logout": Cmd.SIGN_OUT,
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
    Cmd.MERGE: lambda rest: normalise_code(rest.split()[0]) is not None,
    Cmd.UNMERGE: lambda rest: " " not in rest.strip(),
}
GROUP_COMMANDS = frozenset({Cmd.LINK, Cmd.QUEUE, Cmd.STAFF, Cmd.ACT, Cmd.UNLINK, Cmd.MERGE, Cmd.UNMERGE})


def menu_choices() -> tuple[Choice, ...]:
    """Return the main menu's buttons."""
    return (
        Choice(COMMAND_CHOICE_PREFIX + Cmd.COMPLAINT, "menu.complaint"),
        Choice(COMMAND_CHOICE_PREFIX + Cmd.STATUS, "menu.status"),
        Choice(COMMAND_CHOICE_PREFIX + Cmd.SURVEY, "menu.survey"),
        Choice(COMMAND_CHOICE_PREFIX + Cmd.HELP, "menu.help"),
        Choice(COMMAND_CHOICE_PREFIX + Cmd.LANGUAGE, "menu.language"),
    )


DRAFT_HOURS = 24  # how long a flow left with `menu` waits for `lanjut`
RESUMABLE = frozenset({"complaint", "survey"})  # flows whose answers are worth keeping when left
ENTRY_DATA = frozenset({"citizen", "unit"})  # what a flow knows before the citizen answered anything


def park(turn: Turn) -> None:
    """Keep the flow in progress for `lanjut` (a day) and say so; a flow with no answer yet is just left."""
    state = turn.state
    if state.flow not in RESUMABLE or state.step is None or set(state.data) <= ENTRY_DATA:
        return
    state.parked = {"flow": state.flow, "step": state.step, "data": state.data}
    state.parked_at = turn.clock.now()
    turn.reply("draft.kept", what=turn.text(f"draft.what.{state.flow}"), hours=str(DRAFT_HOURS))


def draft_files(parked: dict[str, Any] | None) -> list[str]:
    """Return the stored photos of a kept draft (to delete with it)."""
    data = (parked or {}).get("data") or {}
    return [str(photo["path"]) for photo in data.get("photos", []) if isinstance(photo, dict) and "path" in photo]


def show_menu(turn: Turn, intro: str = "menu.intro") -> None:
    """Send the main menu."""
    turn.reply(intro, menu_choices())


async def idle(turn: Turn, _args: str) -> str:
    """Greet a chat that is not in any flow with the menu; a complaint typed straight away starts one."""
    if looks_like_a_complaint(turn.inbound):
        turn.reply("complaint.from_text")
        return turn.start_flow("complaint", draft=(turn.inbound.text or "").strip()[:DESCRIPTION_MAX])
    show_menu(turn)
    return END


def looks_like_a_complaint(inbound: Inbound) -> bool:
    """Tell whether a message sent outside any flow reads as a complaint (several words of real text)."""
    text = inbound.text or ""
    if inbound.group or inbound.command or inbound.choice:
        return False
    return len(text.split()) >= COMPLAINT_WORDS_MIN and letter_count(text) >= COMPLAINT_LETTERS_MIN


async def start(turn: Turn, args: str) -> str:
    """Start over; a deep-link payload (ikm_UNIT) opens the survey for that unit."""
    park(turn)
    turn.state.clear()
    if args.lower().startswith("ikm_"):
        return turn.start_flow("survey", unit=args[4:].upper())
    show_menu(turn, "menu.welcome")
    return END


async def menu(turn: Turn, _args: str) -> str:
    """Leave any flow (keeping its answers for `lanjut`) and show the menu."""
    park(turn)
    turn.state.clear()
    show_menu(turn)
    return END


async def cancel(turn: Turn, _args: str) -> str:
    """Abandon the current flow, keeping nothing of it; with none, throw away the kept draft."""
    was_busy = turn.state.flow is not None
    had_draft = not was_busy and turn.state.parked is not None
    if had_draft:
        turn.erase_files.extend(draft_files(turn.state.parked))
        turn.state.parked, turn.state.parked_at = None, None
    turn.state.clear()
    show_menu(turn, "cancel.done" if was_busy else "draft.discarded" if had_draft else "cancel.nothing")
    return END


async def resume(turn: Turn, _args: str) -> str:
    """Ask the current question again; resume the flow left with `menu` (for a day); else show the menu."""
    state = turn.state
    if state.flow is None:
        parked, at = state.parked, state.parked_at
        state.parked, state.parked_at = None, None
        if parked is None or at is None:
            show_menu(turn)
            return END
        if turn.clock.now() - at > timedelta(hours=DRAFT_HOURS):
            turn.erase_files.extend(draft_files(parked))
            turn.reply("draft.expired", menu_choices(), hours=str(DRAFT_HOURS))
            return END
        state.flow, state.step, state.data = parked["flow"], parked["step"], dict(parked["data"])
    return STAY


async def help_(turn: Turn, _args: str) -> str:
    """Explain the commands; the current question is asked again."""
    turn.reply("help.text")
    if turn.state.flow is None:
        show_menu(turn)
    return STAY


async def language(turn: Turn, args: str) -> str:
    """Switch between Indonesian and English (or to the one named)."""
    wanted = args.strip().lower()[:2]
    turn.state.language = wanted if wanted in LANGUAGES else ("en" if turn.language == "id" else "id")
    await remember_language(turn)
    turn.reply("language.changed")
    if turn.state.flow is None:
        show_menu(turn)
    return STAY


async def remember_language(turn: Turn) -> None:
    """Store the chat's language on the citizen and the officer behind it (not before consent)."""
    channel, external_id = turn.inbound.key.channel, sender_of(turn)
    found = await turn.uow.citizens.find(channel, external_id)
    if found is not None:
        await turn.uow.citizens.set_language(found.id, channel, external_id, turn.language)
    await turn.uow.staff.set_language(channel, external_id, turn.language)


async def complaint(turn: Turn, _args: str) -> str:
    """Start filing a complaint (a flow in progress is kept for `lanjut`)."""
    park(turn)
    return turn.start_flow("complaint")


async def survey(turn: Turn, args: str) -> str:
    """Start the satisfaction survey (optionally for a unit code); a flow in progress is kept for `lanjut`."""
    park(turn)
    return turn.start_flow("survey", unit=args.strip().upper() or None)


def format_time(turn: Turn, moment: datetime) -> str:
    """Format a moment in the city's timezone as dd-mm-yyyy HH:MM."""
    return moment.astimezone(turn.clock.tz).strftime("%d-%m-%Y %H:%M")


async def status(turn: Turn, args: str) -> str:
    """Show a complaint's history (status CODE), or the citizen's recent complaints."""
    found = await turn.uow.citizens.find(turn.inbound.key.channel, sender_of(turn))
    citizen_id = found.id if found else None
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
                    note="" if view.public else event.note or "",  # an officer's words may name the reporter
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
    return STAY


def history_key(turn: Turn, kind: str, public: bool) -> str:
    """Return the text of a history line: seen by code alone, the variant without the officer's note."""
    public_key = f"history.public.{kind}"
    return public_key if public and turn.catalogue.has(public_key) else f"history.{kind}"


def sender_of(turn: Turn) -> str:
    """Return the person's id on the channel (the chat id in a private chat)."""
    return turn.inbound.sender_id or turn.inbound.key.chat_id


def sender_tag(turn: Turn) -> str:
    """Return a short, non-reversible tag of the sender for the logs (no ids or names in logs)."""
    return turn.policy.tags.tag(turn.inbound.key.channel, sender_of(turn))


def status_label(turn: Turn, status: ComplaintStatus) -> str:
    """Return a complaint's status in the chat's language."""
    return turn.text(f"status.label.{status}")


def usage(turn: Turn, usage_key: str, given: str) -> None:
    """Answer a command whose argument is missing or malformed with its usage line (and the value, if any)."""
    value = one_line(given)[:30]
    if value:
        turn.reply("usage.bad_value", value=value, usage=turn.text(usage_key))
    else:
        turn.reply(usage_key)


def photos_in(inbound: Inbound) -> list[IncomingFile]:
    """Return the images a message carries (photos, and images sent as files), not fetched yet."""
    return [m for m in inbound.media if m.kind is MediaKind.PHOTO or m.mime.startswith("image/")]


async def accept_photos(
    turn: Turn, files: list[IncomingFile], kind: str, held: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Fetch, check and re-encode images a step takes; return their attachment records (files in the drafts area).

    Nothing is downloaded before this call: a file no step takes never reaches the disk. A file that cannot be
    taken (unreadable, too many pixels, a quota) raises MediaRefused, which the engine answers and re-asks.
    """
    if turn.media is None:
        raise MediaRefused("media.unavailable")
    holds = sum(int(str(r.get("size", 0))) for r in held or [])
    records: list[dict[str, Any]] = []
    for item in files:
        ref = await turn.media.accept_image(turn.inbound.key.channel, item, holds)
        turn.new_files.append(ref.path)
        holds += ref.size
        records.append(attachment_record(ref, kind))
    return records


def keep_files(turn: Turn, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Move the files a flow files out of the drafts area; return the records with their permanent paths."""
    if turn.media is None:
        return records
    now = turn.clock.now()
    kept: list[dict[str, Any]] = []
    for record in records:
        try:
            kept.append({**record, "path": turn.media.store.keep(str(record["path"]), now)})
        except FileNotFoundError:  # the draft expired meanwhile (the files job): file what is left
            log.warning("a draft's file was gone when it was filed")
    return kept


def attachment_record(media: MediaRef, kind: str) -> dict[str, object]:
    """Return a stored image as the attachment record (NewAttachment's fields) a flow keeps until it files it."""
    return {"kind": kind, "path": media.path, "mime": media.mime, "size": media.size, "sha256": media.sha256}
