"""Complaint use cases; they run inside a unit of work owned by the caller, who commits once."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, tzinfo

from suarawarga.bot.messages import ChannelName
from suarawarga.clock import day_start
from suarawarga.complaints.duplicates import place_key
from suarawarga.complaints.model import (
    ActorKind,
    Category,
    Complaint,
    ComplaintEvent,
    ComplaintStatus,
    EventKind,
    IdentityMode,
    NewAttachment,
    Unit,
    new_tracking_code,
    route,
)
from suarawarga.complaints.seed import Seed
from suarawarga.errors import NotFound
from suarawarga.storage.complaints import NewComplaint
from suarawarga.storage.units import NewCategory, NewUnit
from suarawarga.storage.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class ComplaintDraft:
    """Everything a citizen gave for a new complaint."""

    category_code: str
    description: str
    identity_mode: IdentityMode
    channel: ChannelName
    chat_id: str
    citizen_id: int | None
    language: str
    location_text: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    kecamatan_code: str | None = None
    reporter_name: str | None = None
    reporter_contact: str | None = None
    attachments: tuple[NewAttachment, ...] = ()


CODE_DRAWS = 10  # tracking codes drawn at most for one complaint (each taken with a chance well under 1 in 1 000)


@dataclass(frozen=True, slots=True)
class Filed:
    """The result of filing: the complaint as stored and where it went."""

    complaint: Complaint
    unit: Unit
    category: Category

    @property
    def complaint_id(self) -> int:
        """Return the stored complaint's id."""
        return self.complaint.id

    @property
    def code(self) -> str:
        """Return the tracking code."""
        return self.complaint.code


async def filed_today(uow: UnitOfWork, citizen_id: int, now: datetime, tz: tzinfo) -> int:
    """Return how many complaints the citizen filed since local midnight (in the city's tz)."""
    return await uow.complaints.count_filed_since(citizen_id, day_start(now, tz))


async def file_complaint(uow: UnitOfWork, draft: ComplaintDraft, now: datetime, code_prefix: str) -> Filed:
    """Store a complaint, route it, record its first events and attachments; the caller commits."""
    category = await uow.categories.by_code(draft.category_code)
    if category is None:
        raise NotFound(f"category {draft.category_code}")
    unit_id = route(category, await uow.units.oversight() if category.sensitive else None)
    unit = await uow.units.get(unit_id)
    if unit is None:
        raise NotFound(f"unit {unit_id}")
    kecamatan = await uow.units.by_code(draft.kecamatan_code) if draft.kecamatan_code else None
    anonymous = draft.identity_mode is IdentityMode.ANONIM
    new = NewComplaint(
        code=new_tracking_code(code_prefix),
        status=ComplaintStatus.DITERIMA,
        category_id=category.id,
        unit_id=unit.id,
        kecamatan_id=kecamatan.id if kecamatan else None,
        description=draft.description,
        identity_mode=draft.identity_mode,
        # An anonymous complaint keeps no link to its reporter: the code alone shows its status.
        citizen_id=None if anonymous else draft.citizen_id,
        channel=None if anonymous else draft.channel,
        chat_id=None if anonymous else draft.chat_id,
        # Rahasia keeps the name for the handling OPD (revealed on request only); anonim keeps nothing.
        reporter_name=None if anonymous else draft.reporter_name,
        reporter_contact=None if anonymous else draft.reporter_contact,
        location_text=draft.location_text,
        place_key=place_key(draft.location_text),  # the duplicate look-up's key (docs/complaints.md §7)
        latitude=draft.latitude,
        longitude=draft.longitude,
        language=draft.language,
        filed_at=now,
    )
    filed = ComplaintEvent(now, EventKind.FILED, ActorKind.CITIZEN, None, ComplaintStatus.DITERIMA, unit.id)
    # A taken code stores nothing and is drawn again (docs/complaints.md §5: 1 draw in ~7 000 at 100 000 complaints).
    for _ in range(CODE_DRAWS):
        complaint = await uow.complaints.add(new, filed)
        if complaint is not None:
            break
        new = dataclasses.replace(new, code=new_tracking_code(code_prefix))
    else:
        raise RuntimeError(f"{CODE_DRAWS} tracking codes in a row were taken: is the code generator broken?")
    await uow.complaints.add_attachments(complaint.id, draft.attachments, ActorKind.CITIZEN, now)
    return Filed(complaint, unit, category)


@dataclass(frozen=True, slots=True)
class StatusView:
    """What a citizen sees of a complaint; `public`: seen by whoever holds the code, so no free-text notes."""

    complaint: Complaint
    unit: Unit
    category: Category
    history: list[ComplaintEvent]
    public: bool = False  # seen through the code alone (anonymous, erased or not the reporter's): no notes


async def status_for(uow: UnitOfWork, code: str, citizen_id: int | None) -> StatusView:
    """Return a complaint's status for its reporter; an anonymous or erased one to whoever has the code."""
    complaint = await uow.complaints.by_code(code)
    if complaint is None:
        raise NotFound(code)
    # After `hapusdata` no one is linked any more: like an anonymous complaint, the code alone shows it.
    anonymous = complaint.identity_mode is IdentityMode.ANONIM
    erased = not anonymous and complaint.citizen_id is None
    supporter = citizen_id is not None and complaint.id in await uow.supports.supported_by(citizen_id)
    if not (anonymous or erased or supporter) and complaint.citizen_id != citizen_id:
        raise NotFound(code)  # same answer as an unknown code: do not confirm that it exists
    unit = await uow.units.get(complaint.unit_id)
    category = await uow.categories.get(complaint.category_id)
    if unit is None or category is None:
        raise NotFound(code)
    history = await uow.complaints.history(complaint.id)
    public = citizen_id is None or complaint.citizen_id != citizen_id
    if public:  # officers' notes may hold names, numbers, addresses: the code alone shows only the steps
        history = [dataclasses.replace(event, note=None) for event in history]
    else:  # a supporter's note is for the OPD, not for the reporter
        history = [dataclasses.replace(e, note=None) if e.actor is ActorKind.SUPPORTER else e for e in history]
    return StatusView(complaint, unit, category, history, public)


@dataclass(frozen=True, slots=True)
class SeedResult:
    """How many rows a seed load touched."""

    units: int
    categories: int
    deactivated: int


async def load_seed(uow: UnitOfWork, seed: Seed) -> SeedResult:
    """Insert or update units and categories by code (idempotent); categories not in the seed are hidden."""
    ids: dict[str, int] = {}
    if seed.city_name:
        await uow.units.set_city(seed.city_code, seed.city_name)
    for unit in seed.units:
        ids[unit.code] = unit_id = await uow.units.upsert(
            NewUnit(
                code=unit.code,
                name=unit.name,
                kind=unit.kind,
                parent_id=ids[unit.parent] if unit.parent else None,
                oversight=unit.oversight,
                city_admin=unit.city_admin,
                population=unit.population,
            )
        )
        await uow.units.set_places(unit_id, unit.places)
    await uow.units.set_city_area(seed.area)
    for order, category in enumerate(seed.categories):
        await uow.categories.upsert(
            NewCategory(
                code=category.code,
                name_id=category.name_id,
                name_en=category.name_en,
                hint_id=category.hint_id,
                hint_en=category.hint_en,
                unit_id=ids[category.unit],
                sensitive=category.sensitive,
                accept_working_days=category.accept_working_days,
                respond_working_days=category.respond_working_days,
                resolve_days=category.resolve_days,
                duplicate_days=category.duplicate_days,
                sort_order=order,
            )
        )
    deactivated = await uow.categories.deactivate_except(c.code for c in seed.categories)
    return SeedResult(len(seed.units), len(seed.categories), deactivated)
