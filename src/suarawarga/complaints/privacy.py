"""A citizen's data rights under UU PDP 27/2022: see everything stored about them, and have it erased.

Erasure keeps each complaint for the OPD's handling and the city's statistics, but cuts every link to the
person: no citizen record, no chat, no name or contact, none of their photos, none of their own words in
the history (the answers they gave to officers). Survey answers stay, without the link to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from suarawarga.bot.messages import ChannelName
from suarawarga.complaints.model import ActorKind, Complaint, Consent, EventKind
from suarawarga.storage.citizens import ChatAccount
from suarawarga.storage.complaints import Rating
from suarawarga.storage.uow import UnitOfWork
from suarawarga.surveys.model import StoredResponse


@dataclass(frozen=True, slots=True)
class ComplaintData:
    """What is stored about one of the citizen's complaints."""

    complaint: Complaint
    photos: int
    kecamatan: str | None = None
    answers: list[tuple[datetime, str]] = field(default_factory=list)  # their words to officers
    ratings: list[Rating] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SurveyData:
    """One of the citizen's questionnaires, with the unit's name."""

    unit: str
    response: StoredResponse


@dataclass(frozen=True, slots=True)
class CitizenData:
    """Everything stored about a citizen."""

    citizen_id: int
    consent_at: datetime | None
    language: str
    identities: list[ChatAccount]
    complaints: list[ComplaintData]
    survey_answers: int
    consents: list[Consent] = field(default_factory=list)
    surveys: list[SurveyData] = field(default_factory=list)


@dataclass
class Erasure:
    """What an erasure removed and kept."""

    complaints_kept: int = 0
    codes: list[str] = field(default_factory=list)  # the kept complaints' codes: `status CODE` still works
    files: list[str] = field(default_factory=list)  # to delete from disk after the commit
    survey_answers_kept: int = 0


async def citizen_data(uow: UnitOfWork, channel: ChannelName, external_id: str) -> CitizenData | None:
    """Return everything stored about the citizen behind a chat account (None if nothing is)."""
    citizen = await uow.citizens.find(channel, external_id)
    if citizen is None:
        return None
    citizen_id = citizen.id
    complaints = [await _complaint_data(uow, c) for c in await uow.complaints.for_citizen(citizen_id, limit=None)]
    surveys = []
    for response in await uow.surveys.for_citizen(citizen_id):
        unit = await uow.units.get(response.unit_id)
        surveys.append(SurveyData(unit.name if unit else "-", response))
    return CitizenData(
        citizen_id=citizen_id,
        consent_at=citizen.consent_at,
        language=citizen.language,
        identities=await uow.citizens.identities(citizen_id),
        complaints=complaints,
        survey_answers=len(surveys),
        consents=await uow.citizens.consents(citizen_id),
        surveys=surveys,
    )


async def _complaint_data(uow: UnitOfWork, complaint: Complaint) -> ComplaintData:
    kecamatan = await uow.units.get(complaint.kecamatan_id) if complaint.kecamatan_id else None
    answers = [
        (event.at, event.note)
        for event in await uow.complaints.history(complaint.id)
        if event.kind is EventKind.INFO_PROVIDED and event.actor is ActorKind.CITIZEN and event.note
    ]
    return ComplaintData(
        complaint,
        len(await uow.complaints.attachments(complaint.id, ActorKind.CITIZEN)),
        kecamatan.name if kecamatan else None,
        answers,
        await uow.ratings.ratings(complaint.id),
    )


async def erase_citizen(uow: UnitOfWork, citizen_id: int, now: datetime) -> Erasure:
    """Erase a citizen's personal data; the caller commits, then deletes `files` from disk."""
    result = Erasure()
    identities = await uow.citizens.identities(citizen_id)
    for complaint in await uow.complaints.for_citizen(citizen_id, limit=None):
        result.files += [a.path for a in await uow.complaints.attachments(complaint.id, ActorKind.CITIZEN)]
        await uow.complaints.unlink_citizen(complaint.id, now)
        result.complaints_kept += 1
        result.codes.append(complaint.code)
    result.survey_answers_kept = await uow.surveys.unlink_citizen(citizen_id)
    for account in identities:
        await uow.outbox.cancel_for(account.channel, account.external_id, "recipient erased their data")
    await uow.citizens.delete(citizen_id)
    return result
