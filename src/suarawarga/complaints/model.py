"""Complaint domain records and rules; no I/O."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class UnitKind(StrEnum):
    """What a service unit is."""

    OPD = "opd"
    KECAMATAN = "kecamatan"
    KELURAHAN = "kelurahan"
    PUSKESMAS = "puskesmas"
    OTHER = "other"


class ComplaintStatus(StrEnum):
    """Where a complaint is in its life; persisted by name."""

    DITERIMA = "diterima"  # filed and routed, waiting for the OPD to accept it
    DIPROSES = "diproses"  # accepted by the OPD
    MENUNGGU_INFO = "menunggu_info"  # the OPD asked the citizen for information
    PERLU_DISPOSISI = "perlu_disposisi"  # transferred back ("bukan wewenang"), waiting for the city admin
    SELESAI = "selesai"  # resolved by the OPD, waiting for the citizen's confirmation
    DITUTUP = "ditutup"  # closed


OPEN_STATUSES = frozenset(
    {
        ComplaintStatus.DITERIMA,
        ComplaintStatus.DIPROSES,
        ComplaintStatus.MENUNGGU_INFO,
        ComplaintStatus.PERLU_DISPOSISI,
    }
)


class IdentityMode(StrEnum):
    """Who may know who filed a complaint."""

    NAMED = "named"  # the OPD sees the name and contact
    RAHASIA = "rahasia"  # confidential: only the handling OPD sees who; never published
    ANONIM = "anonim"  # nobody sees who; no contact is kept


class EventKind(StrEnum):
    """Something that happened to a complaint."""

    FILED = "filed"
    ACCEPTED = "accepted"
    INFO_REQUESTED = "info_requested"
    INFO_PROVIDED = "info_provided"
    REPLIED = "replied"
    TRANSFERRED = "transferred"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    CLOSED = "closed"
    REMINDER = "reminder"
    ESCALATED = "escalated"
    SUPPORTED = "supported"  # a citizen said "saya juga mengalami" (or a merged complaint's reporter joined)
    MERGED = "merged"  # closed as a duplicate of another complaint of the same OPD
    UNMERGED = "unmerged"  # a merge undone: the complaint is handled on its own again


class ActorKind(StrEnum):
    """Who caused an event."""

    CITIZEN = "citizen"
    STAFF = "staff"
    SYSTEM = "system"
    SUPPORTER = "supporter"  # a citizen who follows someone else's complaint (actor_id: the support)


@dataclass(frozen=True, slots=True)
class Unit:
    """A service unit: an OPD or one of its sub-units, with a stable code."""

    id: int
    code: str
    name: str
    kind: UnitKind
    parent_id: int | None = None
    oversight: bool = False
    city_admin: bool = False
    population: int | None = None


@dataclass(frozen=True, slots=True)
class Area:
    """A rectangle of latitudes and longitudes (degrees) around the city."""

    south: float
    west: float
    north: float
    east: float

    def contains(self, latitude: float, longitude: float) -> bool:
        """Tell whether a point lies inside the rectangle."""
        return self.south <= latitude <= self.north and self.west <= longitude <= self.east


@dataclass(frozen=True, slots=True)
class Category:
    """A plain-language complaint category and the unit it is routed to."""

    id: int
    code: str
    name_id: str
    name_en: str
    unit_id: int
    sensitive: bool = False
    hint_id: str = ""
    hint_en: str = ""
    accept_working_days: int = 3
    respond_working_days: int = 5
    resolve_days: int = 60
    duplicate_days: int = 30  # open complaints filed this many days back are offered as "the same" (0: never)

    def name(self, language: str) -> str:
        """Return the category's name in a language."""
        return self.name_en if language == "en" else self.name_id


@dataclass(frozen=True, slots=True)
class Complaint:
    """A filed complaint as stored."""

    id: int
    code: str
    status: ComplaintStatus
    category_id: int
    unit_id: int
    description: str
    identity_mode: IdentityMode
    filed_at: datetime
    citizen_id: int | None
    channel: str | None
    chat_id: str | None
    location_text: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    kecamatan_id: int | None = None
    reporter_name: str | None = None
    reporter_contact: str | None = None
    language: str = "id"


@dataclass(frozen=True, slots=True)
class ComplaintEvent:
    """One entry of a complaint's history."""

    at: datetime
    kind: EventKind
    actor: ActorKind
    from_status: ComplaintStatus | None
    to_status: ComplaintStatus | None
    unit_id: int | None
    note: str | None = None
    actor_id: int | None = None


@dataclass(frozen=True, slots=True)
class NewAttachment:
    """An attachment to record with a complaint."""

    kind: str
    path: str
    mime: str
    size: int
    sha256: str


# Crockford-style alphabet without 0/O, 1/I/L, U: easy to read aloud and type on a phone.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 6
_CODE_RE = re.compile(rf"^[A-Z]{{2,5}}-[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
DESCRIPTION_MIN, DESCRIPTION_MAX = 10, 4000  # the minimum counts letters and digits (letter_count)
NAME_MIN, NAME_MAX = 2, 100
ADDRESS_MIN, ADDRESS_MAX = 5, 300


def letter_count(text: str) -> int:
    """Count the letters and digits of a text: what a "minimal N huruf" rule measures (emoji and dots are not)."""
    return sum(1 for ch in text if ch.isalnum())


def new_tracking_code(prefix: str) -> str:
    """Return a fresh non-guessable tracking code such as PDG-7K3QX9 (30^6 ≈ 7.3e8 values)."""
    return f"{prefix}-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str | None:
    """Return a tracking code typed by a citizen in canonical form, or None if it cannot be one."""
    cleaned = re.sub(r"[\s_]", "", text.strip().upper())
    if "-" not in cleaned and len(cleaned) > CODE_LENGTH:
        cleaned = f"{cleaned[:-CODE_LENGTH]}-{cleaned[-CODE_LENGTH:]}"
    return cleaned if _CODE_RE.match(cleaned) else None


def route(category: Category, oversight_unit: Unit | None) -> int:
    """Return the unit a complaint of this category goes to; reports about officials go to oversight."""
    if category.sensitive:
        if oversight_unit is None:
            raise ValueError("a sensitive category needs an oversight unit (Inspektorat)")
        return oversight_unit.id
    return category.unit_id


class StaffRole(StrEnum):
    """What an officer may do; persisted by name."""

    OFFICER = "officer"  # handles the unit's complaints
    HEAD = "head"  # head of the OPD: handles, and receives escalations
    ADMIN = "admin"  # city admin: may handle every unit's complaints


@dataclass(frozen=True, slots=True)
class Staff:
    """An officer of a unit on one channel."""

    id: int
    unit_id: int
    role: StaffRole
    channel: str
    external_id: str
    chat_id: str  # the officer's private chat with the bot
    name: str
    language: str = "id"  # what the officer chose with `bahasa`; their notifications use it


class ConsentPurpose(StrEnum):
    """What a citizen consented to; each purpose has its own privacy notice, asked once."""

    COMPLAINT = "complaint"
    SURVEY = "survey"


@dataclass(frozen=True, slots=True)
class Consent:
    """A citizen's consent to one purpose: when, and the version of the notice text they agreed to."""

    purpose: ConsentPurpose
    given_at: datetime
    text_version: str


def is_city_admin(staff: Staff, city_admin_unit_id: int | None) -> bool:
    """Tell whether a membership acts for the whole city (role admin, or a member of the city admin unit)."""
    return staff.role is StaffRole.ADMIN or (city_admin_unit_id is not None and staff.unit_id == city_admin_unit_id)


def can_handle(staff: Staff, complaint_unit_id: int, city_admin_unit_id: int | None) -> bool:
    """Tell whether an officer may see and act on a complaint routed to a unit."""
    return is_city_admin(staff, city_admin_unit_id) or staff.unit_id == complaint_unit_id


INVITE_LENGTH = 8


def new_invite_code() -> str:
    """Return a fresh one-time invite code (30^8 ≈ 6.6e11 values, stored only as a hash)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(INVITE_LENGTH))


def hash_invite(code: str) -> str:
    """Return the stored form of an invite code (typed codes are upper-cased and stripped first)."""
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()
