"""A seeded city for the staff console's tests: complaints of several OPDs, kecamatan, modes, ages and states."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from suarawarga.bootstrap import App
from suarawarga.bot.messages import ChannelName
from suarawarga.complaints import handling
from suarawarga.complaints.model import Complaint, IdentityMode, Staff, StaffRole
from suarawarga.complaints.services import ComplaintDraft, file_complaint
from tests.jobs.support import officer

# Private values that must never show up in a queue page or an export.
REPORTERS = ("Siti Rahmawati", "Budi Santoso", "Rina Kurnia")
CONTACTS = ("081234567001", "081234567002", "081234567003")
KECAMATAN = ("KEC-PADANG-BARAT", "KEC-KURANJI", "KEC-PAUH", None)
CATEGORIES = ("jalan_rusak", "drainase_banjir", "sampah", "adminduk")  # DPUPR, DPUPR, DLH, DISDUKCAPIL
DESCRIPTIONS = (
    "Jalan berlubang di depan pasar, sudah tiga bulan",
    "Saluran air tersumbat dan meluap saat hujan",
    '=HYPERLINK("http://contoh.invalid","klik") sampah menumpuk',
    "Lampu dan jalan rusak dekat sekolah dasar",
)


def _text(rnd: random.Random, category: str, number: int, demo: bool) -> str:
    if demo:
        return rnd.choice(DEMO[category])
    return f"{DESCRIPTIONS[rnd.randrange(len(DESCRIPTIONS))]} (no {number})"


@dataclass
class Staffed:
    """The members of the test city."""

    officer: Staff  # DPUPR
    head: Staff  # DPUPR
    other: Staff  # DLH officer
    admin: Staff  # BAG-ORGANISASI (the city admin unit)


@dataclass
class Seeded:
    """What the test city holds."""

    complaints: list[Complaint]
    staff: Staffed


DEMO = {  # for screenshots of demo data: a fitting text per category, no numbering, no formula
    "jalan_rusak": (
        "Jalan berlubang besar di depan pasar, motor sering terjatuh saat hujan.",
        "Aspal mengelupas sepanjang 50 meter di dekat sekolah dasar.",
    ),
    "drainase_banjir": (
        "Saluran air tersumbat sampah dan meluap ke jalan setiap hujan deras.",
        "Gorong-gorong ambruk di tikungan, air menggenang sampai ke rumah warga.",
    ),
    "sampah": ("Sampah di TPS belum diangkut sejak Senin, baunya sampai ke rumah warga.",),
    "adminduk": ("Antrean cetak KTP sangat panjang, sudah tiga kali datang belum selesai.",),
}


async def seed_city(app: App, count: int = 40, rnd_seed: int = 7, demo: bool = False) -> Seeded:
    """File `count` complaints over the last 80 days and handle some of them (accept, ask, resolve, close)."""
    rnd = random.Random(rnd_seed)
    now = app.clock.now()
    staff = Staffed(
        officer=await officer(app, "DPUPR", "petugas-pu"),
        head=await officer(app, "DPUPR", "kepala-pu", StaffRole.HEAD),
        other=await officer(app, "DLH", "petugas-dlh"),
        admin=await officer(app, "BAG-ORGANISASI", "admin-kota", StaffRole.ADMIN),
    )
    filed: list[Complaint] = []
    for number in range(count):
        at = now - timedelta(days=rnd.uniform(0.2, 80), hours=rnd.uniform(0, 5))
        mode = rnd.choice(list(IdentityMode))
        who = rnd.randrange(3)
        async with app.uow() as uow:
            chat = f"warga-{number}"
            citizen_id = await uow.citizens.register(ChannelName.CONSOLE, chat, "id", at, True)
            made = await file_complaint(
                uow,
                ComplaintDraft(
                    category_code=CATEGORIES[number % len(CATEGORIES)],
                    description=_text(rnd, CATEGORIES[number % len(CATEGORIES)], number, demo),
                    identity_mode=mode,
                    channel=ChannelName.CONSOLE,
                    chat_id=chat,
                    citizen_id=citizen_id,
                    language="id",
                    kecamatan_code=KECAMATAN[number % len(KECAMATAN)],
                    reporter_name=REPORTERS[who],
                    reporter_contact=CONTACTS[who],
                    location_text="Jl. Contoh No. 1",
                ),
                at,
                "PDG",
            )
            complaint = await uow.complaints.by_code(made.code)
            assert complaint is not None
            handler = staff.other if complaint.unit_id == staff.other.unit_id else staff.officer
            step = rnd.randrange(5)

            def by(delta: timedelta, at: datetime = at) -> datetime:
                return min(at + delta, now - timedelta(minutes=5))

            if step >= 1 and handler.unit_id == complaint.unit_id:
                done = await handling.accept(uow, handler, complaint, by(timedelta(hours=rnd.uniform(1, 100))))
                complaint = done.complaint
                if step == 2:
                    complaint = (
                        await handling.request_info(uow, handler, complaint, "Di mana?", by(timedelta(days=4)))
                    ).complaint
                if step >= 3:
                    complaint = (
                        await handling.resolve(
                            uow, handler, complaint, "Sudah", (), by(timedelta(days=rnd.uniform(5, 70)))
                        )
                    ).complaint
                if step == 4:
                    complaint = (
                        await handling.close(uow, complaint, "ok", by(timedelta(days=75)), by_citizen=True)
                    ).complaint
            await uow.commit()
            final = await uow.complaints.by_code(made.code)
            assert final is not None
            filed.append(final)
    return Seeded(filed, staff)
