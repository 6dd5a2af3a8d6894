"""The complaint page of the staff console: details, photos, history, deadlines, and the officers' actions.

Who may open a complaint and act on it is decided by `complaints.access.authorise`, the rule chat uses. Each
action calls the function chat calls (`handlers/acting.py`), so the citizen is told exactly as from chat, and
its messages are committed with the change through the outbox. A form carries the status and unit the officer
saw: if someone changed the complaint since, nothing is done and the page says so (no lost update); two
requests at the same moment are decided by the database (`handling.Overtaken`). Photos are the stored,
re-encoded copies (no EXIF), sent only through the authorised `/foto/{n}` route.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute

from suarawarga.bot.attachments import MB, MediaRefused
from suarawarga.bot.messages import MediaKind, Outbound
from suarawarga.bot.texts import Catalogue
from suarawarga.complaints import access
from suarawarga.complaints.deadlines import Clock, clocks
from suarawarga.complaints.handling import WrongStatus, allows
from suarawarga.complaints.model import (
    ActorKind,
    Complaint,
    ComplaintEvent,
    EventKind,
    IdentityMode,
    NewAttachment,
    Staff,
    Unit,
    UnitKind,
    letter_count,
    normalise_code,
)
from suarawarga.complaints.places import kecamatan_label
from suarawarga.complaints.signin import SignedIn
from suarawarga.errors import NotAllowed, NotFound, UserInputError
from suarawarga.handlers import acting
from suarawarga.handlers.staff import MAX_EVIDENCE, TEXT_MAX, TEXT_MIN
from suarawarga.site.web import SECURITY_HEADERS, language_of

if TYPE_CHECKING:
    from suarawarga.staffweb.web import Console
    from suarawarga.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

# The actions of the page: the path after /staf/aduan/{CODE}/ and the event each one records.
ACTIONS = {
    "terima": EventKind.ACCEPTED,
    "minta-info": EventKind.INFO_REQUESTED,
    "tanggapi": EventKind.REPLIED,
    "alihkan": EventKind.TRANSFERRED,
    "selesai": EventKind.RESOLVED,
}
SLUGS = {kind: slug for slug, kind in ACTIONS.items()}
MAP_URL = "https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lon:.6f}#map=18/{lat:.6f}/{lon:.6f}"


@dataclass
class WebNotifier:
    """What the shared actions queue messages on: written to the outbox with the change, sent after the commit."""

    uow: UnitOfWork
    catalogue: Catalogue
    messages: list[Outbound] = field(default_factory=list)

    def notify(self, outbound: Outbound) -> None:
        """Queue a message to some chat."""
        self.messages.append(outbound)


@dataclass(frozen=True, slots=True)
class Photo:
    """A stored photo of the complaint: its number in the address, and its number among the reporter's or staff's."""

    number: int
    by_staff: bool
    label: int


@dataclass(frozen=True, slots=True)
class Step:
    """One line of the history as staff see it."""

    at: datetime
    kind: EventKind
    what: str  # what happened, in the page's language
    by: str  # who did it: an officer's name, the reporter, or the system
    note: str  # the words that went with it (a question, a reply, the citizen's answer), if any


@dataclass(frozen=True, slots=True)
class Deadline:
    """One of the complaint's three deadlines as the page shows it."""

    name: str  # ClockName value
    due: datetime  # the last moment shown (a deadline at midnight is shown as 23:59 of the day before)
    state: str  # met, running or missed
    met_at: datetime | None
    days: int  # whole days left (running) or late (missed), rounded up


def deadline_view(clock: Clock, now: datetime, tz: tzinfo) -> Deadline:
    """Return a deadline in the words staff read: the last minute it allows, and how much is left or late."""
    local = clock.due.astimezone(tz)
    shown = clock.due - timedelta(minutes=1) if (local.hour, local.minute) == (0, 0) else clock.due
    if clock.met_at is not None:
        return Deadline(clock.name.value, shown, "met", clock.met_at, 0)
    gap = (clock.due - now) if now < clock.due else (now - clock.due)
    days = max(1, math.ceil(gap / timedelta(days=1)))
    return Deadline(clock.name.value, shown, "missed" if clock.missed(now) else "running", None, days)


@dataclass
class View:
    """Everything the complaint page shows."""

    complaint: Complaint
    staff: Staff
    unit: Unit
    category: str
    kecamatan: str | None
    photos: list[Photo]
    steps: list[Step]
    deadlines: list[Deadline]
    actions: list[str]
    targets: list[Unit]
    map_url: str | None
    seen: str


def seen_mark(complaint: Complaint) -> str:
    """Return what a form remembers of the complaint it was shown with (its status and unit)."""
    return f"{complaint.status.value}:{complaint.unit_id}"


def possible_actions(complaint: Complaint) -> list[str]:
    """Return the actions the complaint's status allows (the domain's rule, as for chat's buttons)."""
    return [slug for slug, kind in ACTIONS.items() if allows(kind, complaint.status)]


async def build_view(console: Console, uow: UnitOfWork, staff: Staff, complaint: Complaint, lang: str) -> View:
    """Gather the page's contents in one unit of work."""
    unit = await uow.units.get(complaint.unit_id)
    if unit is None:
        raise NotFound(f"unit {complaint.unit_id}")
    category = await uow.categories.get(complaint.category_id)
    kecamatan = await uow.units.get(complaint.kecamatan_id) if complaint.kecamatan_id else None
    every = await uow.complaints.attachments(complaint.id)
    from_staff = {a.path for a in await uow.complaints.attachments(complaint.id, ActorKind.STAFF)}
    history = await uow.complaints.history(complaint.id)
    names = await uow.staff_sessions.staff_names([e.actor_id for e in history if e.actor_id is not None])
    units = {u.id: u.name for u in await uow.units.list()}
    t = console.site.text(lang)
    steps = [_step(t, e, names, units) for e in history]
    actions = possible_actions(complaint)
    targets = []
    if "alihkan" in actions:
        targets = [u for u in await uow.units.list(UnitKind.OPD) if u.id != complaint.unit_id]
    map_url = None
    if complaint.latitude is not None and complaint.longitude is not None:
        map_url = MAP_URL.format(lat=complaint.latitude, lon=complaint.longitude)
    return View(
        complaint=complaint,
        staff=staff,
        unit=unit,
        category=category.name(lang) if category else "-",
        kecamatan=kecamatan_label(kecamatan.name) if kecamatan else None,
        photos=_photos([a.path in from_staff for a in every]),
        steps=steps,
        deadlines=[
            deadline_view(k, console.app.clock.now(), console.app.clock.tz)
            for k in (clocks(complaint.filed_at, category, history, console.app.calendar) if category else [])
        ],
        actions=actions,
        targets=targets,
        map_url=map_url,
        seen=seen_mark(complaint),
    )


def _photos(by_staff: list[bool]) -> list[Photo]:
    """Number the photos for their addresses, and separately for the reporter's and the officers' labels."""
    counted = {True: 0, False: 0}
    photos = []
    for number, staff in enumerate(by_staff, 1):
        counted[staff] += 1
        photos.append(Photo(number, staff, counted[staff]))
    return photos


def _step(t: Callable[..., str], event: ComplaintEvent, names: dict[int, str], units: dict[int, str]) -> Step:
    """Return one history entry in words: alerts name their deadline and who they went to."""
    unit = units.get(event.unit_id or 0, "-")
    if event.kind in (EventKind.REMINDER, EventKind.ESCALATED):
        clock, _, rung = (event.note or "").partition(": ")
        what = t(
            f"staffweb.event.{event.kind.value}", clock=t(f"staffweb.clock.{clock}"), rung=t(f"staffweb.rung.{rung}")
        )
        note = ""
    else:
        what = t(f"staffweb.event.{event.kind.value}", unit=unit)
        note = event.note or ""
    if event.actor is ActorKind.STAFF:
        by = names.get(event.actor_id or 0, t("staffweb.by.staff"))
    else:
        by = t(f"staffweb.by.{event.actor.value}")
    return Step(event.at, event.kind, what, by, note)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    text = value.strip() if isinstance(value, str) else ""
    if letter_count(text) < TEXT_MIN or len(text) > TEXT_MAX:
        raise UserInputError("staff.text_length", min=str(TEXT_MIN), max=str(TEXT_MAX))
    return text


def routes(console: Console) -> list[BaseRoute]:
    """Return the complaint page, its photos, and its actions."""
    app = console.app

    async def show(
        request: Request,
        who: SignedIn,
        code: str,
        status: int = 200,
        *,
        message: str = "",
        problem: str = "",
        values: dict[str, str] | None = None,
        reporter: tuple[str, str] | None = None,
    ) -> Response:
        """Render the page (after an action: with what happened, or what went wrong and what was typed)."""
        async with app.uow() as uow:
            await console.site.read_city(uow)
            try:
                staff, complaint = await access.authorise(uow, who.memberships, code)
            except NotFound:
                return console.refused(request, 404)
            except NotAllowed:
                log.warning("staff console: member %d refused complaint %s", who.staff.id, code)
                return console.refused(request, 403)
            view = await build_view(console, uow, staff, complaint, language_of(request))
        return console.render(
            request,
            "staff_complaint.html",
            status,
            view=view,
            message=message,
            problem=problem,
            values=values or {},
            reporter=reporter,
            slugs=SLUGS,
            max_photos=MAX_EVIDENCE,
            text_min=TEXT_MIN,
            text_max=TEXT_MAX,
            now=app.clock.now(),
        )

    def code_of(request: Request) -> str:
        return normalise_code(request.path_params["code"]) or request.path_params["code"][:20]

    async def find(request: Request, who: SignedIn) -> Response:
        code = normalise_code(request.query_params.get("kode", ""))
        if code is None:
            t = console.text(request)
            return console.notice(request, 404, t("staffweb.error.404.heading"), t("staffweb.complaint.bad_code"))
        return console.redirect(request, f"/staf/aduan/{code}")

    async def page(request: Request, who: SignedIn) -> Response:
        t = console.text(request)
        done = request.query_params.get("ok", "")
        message = ""
        if done.removesuffix("-anonim") in ACTIONS:
            told = "staffweb.done.anonymous" if done.endswith("-anonim") else "staffweb.done.told"
            message = f"{t('staffweb.done.' + done.removesuffix('-anonim'))} {t(told)}"
        return await show(request, who, code_of(request), message=message)

    async def photo(request: Request, who: SignedIn) -> Response:
        number = request.path_params["number"]
        async with app.uow() as uow:
            try:
                _staff, complaint = await access.authorise(uow, who.memberships, code_of(request))
            except NotFound:
                return console.refused(request, 404)
            except NotAllowed:
                return console.refused(request, 403)
            files = await uow.complaints.attachments(complaint.id)
        if not 1 <= number <= len(files):
            return console.refused(request, 404)
        stored = files[number - 1]
        try:
            path = app.attachments.path_of(stored.path)
        except ValueError:
            return console.refused(request, 404)
        if not path.is_file():  # erased with the citizen's data, or after the retention period
            return console.refused(request, 404)
        headers = {**SECURITY_HEADERS, "cache-control": "private, no-store", "content-disposition": "inline"}
        return FileResponse(path, media_type=stored.mime, headers=headers)

    Run = Callable[[WebNotifier, Staff, Complaint, datetime], Awaitable[acting.Done]]

    async def act(request: Request, who: SignedIn, form: FormData, kind: EventKind, run: Run) -> Response:
        """Run one action on the complaint, if it is still as the officer saw it; tell the citizen after commit."""
        code = code_of(request)
        t = console.text(request)
        typed = {k: v for k, v in form.multi_items() if isinstance(v, str) and k not in ("csrf", "seen")}
        async with console.lock(code), app.uow() as uow:
            try:
                staff, complaint = await access.authorise(uow, who.memberships, code)
            except NotFound:
                return console.refused(request, 404)
            except NotAllowed:
                log.warning("staff console: member %d refused an action on %s", who.staff.id, code)
                return console.refused(request, 403)
            label = t(f"status.label.{complaint.status.value}")
            if form.get("seen") != seen_mark(complaint):
                problem = t("staffweb.conflict.changed", status=label)
                return await show(request, who, code, 409, problem=problem, values=typed)
            if not allows(kind, complaint.status):
                problem = t("staffweb.conflict.status", status=label)
                return await show(request, who, code, 409, problem=problem, values=typed)
            ctx = WebNotifier(uow, app.catalogue)
            try:
                done = await run(ctx, staff, complaint, app.clock.now())
            except UserInputError as error:
                problem = t(error.text_key, **dict(error.params))
                return await show(request, who, code, 400, problem=problem, values=typed)
            except WrongStatus as error:  # another officer's action was committed first
                await uow.rollback()
                status = t(f"status.label.{error.status.value}")
                return await show(request, who, code, 409, problem=t("staffweb.conflict.changed", status=status))
            await console.commit(uow, ctx.messages)
        log.info("officer %d acted on complaint %d in the console (%s)", staff.id, complaint.id, kind.value)
        suffix = "" if done.reached else "-anonim"
        return console.redirect(request, f"/staf/aduan/{code}", ok=SLUGS[kind] + suffix)

    async def accept(request: Request, who: SignedIn, form: FormData) -> Response:
        async def run(ctx: WebNotifier, staff: Staff, complaint: Complaint, now: datetime) -> acting.Done:
            return await acting.accept(ctx, staff, complaint, now)

        return await act(request, who, form, EventKind.ACCEPTED, run)

    async def ask_info(request: Request, who: SignedIn, form: FormData) -> Response:
        async def run(ctx: WebNotifier, staff: Staff, complaint: Complaint, now: datetime) -> acting.Done:
            return await acting.request_info(ctx, staff, complaint, _text(form, "pertanyaan"), now)

        return await act(request, who, form, EventKind.INFO_REQUESTED, run)

    async def reply(request: Request, who: SignedIn, form: FormData) -> Response:
        async def run(ctx: WebNotifier, staff: Staff, complaint: Complaint, now: datetime) -> acting.Done:
            return await acting.reply(ctx, staff, complaint, _text(form, "tanggapan"), now)

        return await act(request, who, form, EventKind.REPLIED, run)

    async def transfer(request: Request, who: SignedIn, form: FormData) -> Response:
        async def run(ctx: WebNotifier, staff: Staff, complaint: Complaint, now: datetime) -> acting.Done:
            chosen = form.get("tujuan")
            if not isinstance(chosen, str) or not chosen:
                raise UserInputError("staffweb.transfer.pick")
            target = None if chosen == acting.ADMIN_TARGET else await ctx.uow.units.by_code(chosen)
            if chosen != acting.ADMIN_TARGET and (target is None or target.kind is not UnitKind.OPD):
                raise UserInputError("staffweb.transfer.pick")
            if target is not None and target.id == complaint.unit_id:
                raise UserInputError("staffweb.transfer.same")
            return await acting.transfer(ctx, staff, complaint, target, _text(form, "alasan"), now)

        return await act(request, who, form, EventKind.TRANSFERRED, run)

    async def resolve(request: Request, who: SignedIn, form: FormData) -> Response:
        stored: list[NewAttachment] = []

        async def run(ctx: WebNotifier, staff: Staff, complaint: Complaint, now: datetime) -> acting.Done:
            note = _text(form, "catatan")
            stored.extend(await _evidence(console, form, now))
            return await acting.resolve(ctx, staff, complaint, note, tuple(stored), now)

        try:
            response = await act(request, who, form, EventKind.RESOLVED, run)
        except BaseException:
            app.attachments.delete_all([a.path for a in stored])
            raise
        if response.status_code != 303:  # refused or overtaken: the photos belong to nothing
            app.attachments.delete_all([a.path for a in stored])
        return response

    async def identity(request: Request, who: SignedIn, form: FormData) -> Response:
        """Show a confidential reporter's name and contact: an explicit step, recorded in the audit log."""
        code = code_of(request)
        async with app.uow() as uow:
            try:
                staff, complaint = await access.authorise(uow, who.memberships, code)
            except NotFound:
                return console.refused(request, 404)
            except NotAllowed:
                return console.refused(request, 403)
            if complaint.identity_mode is not IdentityMode.RAHASIA:
                return console.refused(request, 404)
            await access.view_reporter(uow, staff, complaint, app.clock.now(), access.Face.WEB)
            await uow.commit()
        log.info("officer %d viewed the reporter of a confidential complaint in the console", staff.id)
        t = console.text(request)
        contact = complaint.reporter_contact or t("staff.no_contact")
        return await show(request, who, code, reporter=(complaint.reporter_name or "-", contact))

    upload_limit = MAX_EVIDENCE * app.attachments.rules.max_bytes + MB  # the photos and the form around them
    return [
        console.page("/aduan", find),
        console.page("/aduan/{code}", page),
        console.page("/aduan/{code}/foto/{number:int}", photo),
        console.action("/aduan/{code}/terima", accept),
        console.action("/aduan/{code}/minta-info", ask_info),
        console.action("/aduan/{code}/tanggapi", reply),
        console.action("/aduan/{code}/alihkan", transfer),
        console.action("/aduan/{code}/selesai", resolve, max_files=MAX_EVIDENCE, max_bytes=upload_limit),
        console.action("/aduan/{code}/identitas", identity),
    ]


async def _evidence(console: Console, form: FormData, now: datetime) -> list[NewAttachment]:
    """Store the evidence photos of a form, each re-encoded without metadata like a photo from chat."""
    store = console.app.attachments
    rules = store.rules
    uploads = [f for f in form.getlist("foto") if isinstance(f, UploadFile) and (f.filename or f.size)]
    if len(uploads) > MAX_EVIDENCE:
        raise UserInputError("staffweb.resolve.too_many", max=str(MAX_EVIDENCE))
    kept: list[NewAttachment] = []
    try:
        for upload in uploads:
            data = await upload.read(rules.max_bytes + 1)
            if len(data) > rules.max_bytes:
                raise MediaRefused("media.too_large", max=str(rules.max_bytes // MB))
            held = sum(a.size for a in kept)
            await asyncio.to_thread(store.check_room, len(data), held)
            ref = await asyncio.to_thread(store.save, data, "image/*", MediaKind.PHOTO, now)
            kept.append(NewAttachment("evidence", ref.path, ref.mime, ref.size, ref.sha256))
    except BaseException:
        store.delete_all([a.path for a in kept])
        raise
    return kept
