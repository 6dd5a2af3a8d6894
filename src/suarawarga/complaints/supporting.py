""" "Saya juga mengalami": finding an open complaint about the same thing, supporting it, and merging duplicates.

Use cases on an open unit of work (the caller commits). A supporter follows a complaint instead of filing it
again: no new complaint, no new deadline. An officer may merge a complaint into another of the same OPD: it
closes as a duplicate, its reporter (and its supporters) follow the other one, and the merge can be undone for
UNMERGE_DAYS days (docs/complaints.md §7).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from suarawarga.bot.messages import ChannelName
from suarawarga.complaints.duplicates import (
    MAX_SHOWN,
    RADIUS_M,
    Address,
    bounding_box,
    compare,
    haversine_m,
    parse_address,
    same_street,
    street_label,
)
from suarawarga.complaints.model import (
    OPEN_STATUSES,
    ActorKind,
    Complaint,
    ComplaintEvent,
    ComplaintStatus,
    EventKind,
    IdentityMode,
    NewAttachment,
    Staff,
)
from suarawarga.errors import NotAllowed, NotFound
from suarawarga.storage.uow import UnitOfWork

UNMERGE_DAYS = 7


@dataclass(frozen=True, slots=True)
class Match:
    """An open complaint offered as "the same": only what a citizen may judge it by (no text, photo or person)."""

    complaint_id: int
    street: str | None  # "Jl. Sudirman" (never the number or the rest of what was typed)
    kecamatan_id: int | None
    distance_m: float | None  # between shared points; None when matched by address
    filed_at: datetime
    status: ComplaintStatus
    supporters: int


async def find_duplicates(
    uow: UnitOfWork,
    category_code: str,
    now: datetime,
    *,
    latitude: float | None = None,
    longitude: float | None = None,
    address: str | None = None,
    kecamatan_code: str | None = None,
    citizen_id: int | None = None,
) -> list[Match]:
    """Return up to MAX_SHOWN open complaints of the category at the same place, newest first.

    A shared point matches the points within RADIUS_M; a typed address matches the similar addresses of the same
    kecamatan. The citizen's own complaints and those they already support are left out.
    """
    category = await uow.categories.by_code(category_code)  # the kept snapshot: no statement of its own
    if category is None or category.duplicate_days <= 0:
        return []
    category_id = category.id
    since = now - timedelta(days=category.duplicate_days)
    found: list[tuple[datetime, int, Match]] = []
    if latitude is not None and longitude is not None:
        for c in await uow.supports.near(category_id, bounding_box(latitude, longitude), since):
            if c.latitude is None or c.longitude is None:
                continue
            distance = haversine_m(latitude, longitude, c.latitude, c.longitude)
            if distance <= RADIUS_M:
                street = street_label(parse_address(c.location_text)) if c.location_text else None
                match = Match(c.id, street, c.kecamatan_id, distance, c.filed_at, ComplaintStatus(c.status), 0)
                found.append((c.filed_at, c.id, match))
    elif address and kecamatan_code:
        found_kecamatan = await uow.supports.kecamatan_places(kecamatan_code)
        if found_kecamatan is None:
            return []
        kecamatan_id, names = found_kecamatan
        mine = parse_address(address, names)
        # Only the addresses whose street can match are parsed: the same verdicts as `compare` on every one.
        keys = [k for k in await uow.supports.place_keys(category_id, kecamatan_id, since) if street_fits(mine, k)]
        for c in await uow.supports.in_kecamatan(category_id, kecamatan_id, since, keys):
            theirs = parse_address(c.location_text or "", names)
            if compare(mine, theirs).same:
                match = Match(
                    c.id, street_label(theirs), c.kecamatan_id, None, c.filed_at, ComplaintStatus(c.status), 0
                )
                found.append((c.filed_at, c.id, match))
    if not found:
        return []
    if citizen_id is not None:
        own = {c.id for c in await uow.complaints.for_citizen(citizen_id, limit=50)}
        own |= await uow.supports.supported_by(citizen_id)
        found = [item for item in found if item[2].complaint_id not in own]
    found.sort(key=lambda item: (item[0], item[1]), reverse=True)
    shown = [m for _, _, m in found[:MAX_SHOWN]]
    counts = await uow.supports.counts(m.complaint_id for m in shown)
    return [_with_count(m, counts.get(m.complaint_id, 0)) for m in shown]


def street_fits(mine: Address, key: str) -> bool:
    """Tell whether an address keyed `key` (its street) can be the same place as `mine`, as `compare` decides."""
    street = tuple(key.split())
    if mine.street:
        return same_street(mine.street, street)
    if mine.landmark:
        return True  # two alike landmarks make the same place whatever the other's street
    return same_street(street, tuple(w for w in mine.words if w in street))


def _with_count(match: Match, supporters: int) -> Match:
    return Match(
        match.complaint_id,
        match.street,
        match.kecamatan_id,
        match.distance_m,
        match.filed_at,
        match.status,
        supporters,
    )


@dataclass(frozen=True, slots=True)
class SupportDraft:
    """A citizen's "Ya, sama": who they are (as they chose to be known), their note and photos."""

    complaint_id: int
    identity_mode: IdentityMode
    channel: ChannelName
    chat_id: str
    citizen_id: int | None
    language: str
    name: str | None = None
    contact: str | None = None
    note: str | None = None
    attachments: tuple[NewAttachment, ...] = ()


@dataclass(frozen=True, slots=True)
class Supported:
    """The complaint now supported, and the support's id."""

    complaint: Complaint
    support_id: int
    supporters: int


async def support(uow: UnitOfWork, code: str, draft: SupportDraft, now: datetime) -> Supported:
    """Add the citizen as a supporter of an open complaint: an event for the OPD, no new complaint or deadline."""
    complaint = await uow.complaints.by_code(code)
    if complaint is None or complaint.id != draft.complaint_id:
        raise NotFound(code)
    if complaint.status not in OPEN_STATUSES:
        raise NotAllowed(complaint.status.value)
    anonymous = draft.identity_mode is IdentityMode.ANONIM
    support_id = await uow.supports.add(
        {
            "complaint_id": complaint.id,
            # Like an anonymous complaint, an anonymous support keeps no link: it counts, and nothing reaches them.
            "citizen_id": None if anonymous else draft.citizen_id,
            "channel": None if anonymous else draft.channel.value,
            "chat_id": None if anonymous else draft.chat_id,
            "identity_mode": draft.identity_mode.value,
            "name": None if anonymous else draft.name,
            "contact": None if anonymous else draft.contact,
            "language": draft.language,
            "created_at": now,
            "via": "chat",
        }
    )
    await uow.complaints.add_event(
        complaint.id,
        ComplaintEvent(
            now,
            EventKind.SUPPORTED,
            ActorKind.SUPPORTER,
            complaint.status,
            complaint.status,
            complaint.unit_id,
            draft.note,
            actor_id=support_id,
        ),
    )
    if draft.attachments:
        await uow.complaints.add_attachments(complaint.id, draft.attachments, ActorKind.SUPPORTER, now)
        await uow.supports.set_files(support_id, [a.path for a in draft.attachments])
    counts = await uow.supports.counts([complaint.id])
    return Supported(complaint, support_id, counts.get(complaint.id, 0))


class OtherUnit(NotAllowed):
    """The two complaints are handled by different OPDs: merging across OPDs is refused."""


class NotMergeable(NotAllowed):
    """One of the complaints cannot take part in a merge now (closed, already merged, the same one)."""


class TooLate(NotAllowed):
    """The merge is older than UNMERGE_DAYS days."""


@dataclass(frozen=True, slots=True)
class Merged:
    """A merge done or undone: the duplicate, the complaint it joined, and who follows along."""

    source: Complaint
    target: Complaint
    supporters_moved: int


async def merge(uow: UnitOfWork, staff: Staff, source: Complaint, target: Complaint, now: datetime) -> Merged:
    """Close `source` as a duplicate of `target` (same OPD): its reporter and supporters follow `target`."""
    if source.id == target.id:
        raise NotMergeable("same complaint")
    if source.unit_id != target.unit_id:
        raise OtherUnit(f"{source.code} and {target.code} are handled by different units")
    if source.status not in OPEN_STATUSES or target.status not in OPEN_STATUSES:
        raise NotMergeable("not open")
    if await uow.supports.merged_into(target.id) is not None:
        raise NotMergeable("target merged")
    moved = await uow.supports.move(source.id, target.id)
    anonymous = source.identity_mode is IdentityMode.ANONIM or source.citizen_id is None
    support_id = await uow.supports.add(
        {
            "complaint_id": target.id,
            "citizen_id": None if anonymous else source.citizen_id,
            "channel": None if anonymous else source.channel,
            "chat_id": None if anonymous else source.chat_id,
            "identity_mode": source.identity_mode.value,
            "name": source.reporter_name,
            "contact": source.reporter_contact,
            "language": source.language,
            "created_at": now,
            "merged_from_id": source.id,
            "via": "merge",
        }
    )
    await uow.supports.set_merged(source.id, target.id, now, ComplaintStatus.DITUTUP.value)
    await uow.complaints.add_event(
        source.id,
        ComplaintEvent(
            now,
            EventKind.MERGED,
            ActorKind.STAFF,
            source.status,
            ComplaintStatus.DITUTUP,
            source.unit_id,
            target.code,
            actor_id=staff.id,
        ),
    )
    await uow.complaints.add_event(
        target.id,
        ComplaintEvent(
            now,
            EventKind.SUPPORTED,
            ActorKind.SUPPORTER,
            target.status,
            target.status,
            target.unit_id,
            source.code,
            actor_id=support_id,
        ),
    )
    return Merged(await _fresh(uow, source.code), target, moved + 1)


async def unmerge(uow: UnitOfWork, staff: Staff, source: Complaint, now: datetime) -> Merged:
    """Undo a merge within UNMERGE_DAYS days: `source` is handled on its own again, in the status it had."""
    target_id = await uow.supports.merged_into(source.id)
    last = await uow.supports.last_merge(source.id)
    if target_id is None or last is None or source.status is not ComplaintStatus.DITUTUP:
        raise NotMergeable("not merged")
    merged_at, before = last
    if now - merged_at > timedelta(days=UNMERGE_DAYS):
        raise TooLate(source.code)
    target_code = await uow.supports.code_of(target_id)
    target = await uow.complaints.by_code(target_code) if target_code else None
    if target is None or target.unit_id != source.unit_id:
        raise OtherUnit(source.code)  # the other complaint went to another OPD since: not this officer's to undo
    status = ComplaintStatus(before) if before else ComplaintStatus.DITERIMA
    reporter = await uow.supports.reporter_support(source.id, target.id)
    moved = await uow.supports.move_back(source.id, target.id, reporter.id if reporter else None)
    await uow.supports.set_merged(source.id, None, now, status.value)
    await uow.complaints.add_event(
        source.id,
        ComplaintEvent(
            now,
            EventKind.UNMERGED,
            ActorKind.STAFF,
            ComplaintStatus.DITUTUP,
            status,
            source.unit_id,
            target.code,
            actor_id=staff.id,
        ),
    )
    await uow.complaints.add_event(
        target.id,
        ComplaintEvent(
            now,
            EventKind.UNMERGED,
            ActorKind.STAFF,
            target.status,
            target.status,
            target.unit_id,
            source.code,
            actor_id=staff.id,
        ),
    )
    return Merged(await _fresh(uow, source.code), target, len(moved))


async def _fresh(uow: UnitOfWork, code: str) -> Complaint:
    complaint = await uow.complaints.by_code(code)
    if complaint is None:
        raise NotFound(code)
    return complaint
