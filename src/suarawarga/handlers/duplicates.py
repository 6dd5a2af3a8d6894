""" "Saya juga mengalami" in chat: the offer of reports about the same thing, supporters' updates, and the
officers' `gabungkan KODE ke KODE` / `pisahkan KODE`."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from suarawarga.bot.conversation import STAY, Turn
from suarawarga.bot.messages import Attachment, Choice, NoticeKind, Outbound, OutboundFile
from suarawarga.complaints import handling
from suarawarga.complaints.model import Complaint, IdentityMode, normalise_code
from suarawarga.complaints.places import kecamatan_label
from suarawarga.complaints.supporting import (
    UNMERGE_DAYS,
    Match,
    NotMergeable,
    OtherUnit,
    TooLate,
    merge,
    unmerge,
)
from suarawarga.errors import NotAllowed, NotFound
from suarawarga.handlers.common import sender_of
from suarawarga.handlers.notify import one_line, quoted, tell_citizen, unit_recipients
from suarawarga.handlers.supporters import support_key

log = logging.getLogger(__name__)


def match_data(match: Match, kecamatan: str | None) -> dict[str, object]:
    """Return what a conversation keeps of an offered match (JSON): never a text, code or person."""
    return {
        "id": match.complaint_id,
        "street": match.street,
        "kecamatan": kecamatan,
        "metres": None if match.distance_m is None else round(match.distance_m),
        "filed": match.filed_at.isoformat(),
        "status": match.status.value,
        "supporters": match.supporters,
    }


def place_text(turn: Turn, item: dict[str, object]) -> str:
    """Return the street/area of an offered match, and how far it is (or that the address is alike)."""
    parts = [str(p) for p in (item.get("street"), item.get("kecamatan")) if p]
    metres = item.get("metres")
    if metres is not None:
        parts.append(turn.text("duplicate.place.distance", metres=str(metres)))
    else:
        parts.append(turn.text("duplicate.place.similar"))
    return ", ".join(parts)


def _when(turn: Turn, filed: str) -> str:
    days = (turn.clock.now().astimezone(turn.clock.tz).date() - _local_date(turn, filed)).days
    if days <= 0:
        return turn.text("duplicate.when.today")
    if days == 1:
        return turn.text("duplicate.when.yesterday")
    return turn.text("duplicate.when.days", days=str(days))


def _local_date(turn: Turn, iso: str) -> date:
    return datetime.fromisoformat(iso).astimezone(turn.clock.tz).date()


def supporters_text(turn: Turn, count: int) -> str:
    """Return "didukung N warga" (or that none supports it yet)."""
    if count <= 0:
        return turn.text("duplicate.supporters.none")
    return turn.text("duplicate.supporters.some", count=str(count))


def offer(turn: Turn, category: str, matches: list[dict[str, object]]) -> None:
    """Show the open reports that may be the same, each with its own "Ya, sama" button, and "Bukan"."""
    items = [
        turn.text(
            "duplicate.item",
            number=str(number),
            category=category,
            place=place_text(turn, item),
            when=_when(turn, str(item["filed"])),
            status=turn.text(f"status.label.{item['status']}"),
            supporters=supporters_text(turn, int(str(item["supporters"]))),
        )
        for number, item in enumerate(matches, 1)
    ]
    choices = [Choice(f"dup:{n}", "duplicate.same", {"number": str(n)}) for n in range(1, len(matches) + 1)]
    choices.append(Choice("dup:new", "duplicate.new"))
    turn.reply("duplicate.offer", tuple(choices), items="\n".join(items))


async def kecamatan_name(turn: Turn, unit_id: int | None) -> str | None:
    """Return a kecamatan's short name ("Padang Barat") by its unit id."""
    unit = await turn.uow.units.get(unit_id) if unit_id is not None else None
    return kecamatan_label(unit.name) if unit else None


async def announce_support(
    turn: Turn, complaint: Complaint, count: int, data: dict[str, Any], files: list[str]
) -> None:
    """Tell the OPD a citizen joined a complaint: who (as they chose to be known), their note and photos."""
    mode = IdentityMode(data["identity"])
    for key, language in await unit_recipients(turn, complaint.unit_id):
        if mode is IdentityMode.NAMED:  # one line each, as on a complaint's card
            contact = data.get("contact") or turn.catalogue.render("staff.no_contact", language, {})
            who = turn.catalogue.render(
                "staff.reporter.named", language, {"name": one_line(data.get("name", "")), "contact": one_line(contact)}
            )
        else:
            who = turn.catalogue.render(f"staff.reporter.{mode}", language, {})
        turn.notify(
            Outbound(
                key=key,
                text_key="staff.supported",
                params={
                    "code": complaint.code,
                    "count": str(count),
                    "supporter": who,
                    "photos": str(len(files)),
                    "text": quoted(data["description"]),
                },
                language=language,
                files=tuple(OutboundFile(Attachment.PHOTO, path) for path in files),
                notice=NoticeKind.STAFF_UPDATE,
            )
        )


def _two_codes(args: str) -> tuple[str | None, str | None]:
    words = [w for w in args.replace(",", " ").split() if w.casefold() not in {"ke", "dengan", "into", "to"}]
    if len(words) != 2:
        return None, None
    return normalise_code(words[0]), normalise_code(words[1])


async def merge_command(turn: Turn, args: str) -> str:
    """`gabungkan KODE ke KODE`: close the first complaint as a duplicate of the second (same OPD only)."""
    source_code, target_code = _two_codes(args)
    if source_code is None or target_code is None:
        turn.reply("usage.gabungkan")
        return STAY
    if source_code == target_code:
        turn.reply("merge.same")
        return STAY
    memberships = await handling.staff_for(turn.uow, turn.inbound.key.channel, sender_of(turn))
    try:
        staff, source = await handling.authorise(turn.uow, memberships, source_code)
        _, target = await handling.authorise(turn.uow, memberships, target_code)
        merged = await merge(turn.uow, staff, source, target, turn.clock.now())
    except NotFound as exc:
        turn.reply("staff.unknown_complaint", code=one_line(str(exc))[:20])
    except OtherUnit:
        log.warning("refused a merge across units")
        turn.reply("merge.other_unit", source=source_code, target=target_code)
    except NotMergeable:
        turn.reply("merge.not_open", source=source_code, target=target_code)
    except NotAllowed:
        log.warning("refused a merge by someone not handling both complaints")
        turn.reply("staff.not_allowed")
    else:
        unit = await turn.uow.units.get(merged.target.unit_id)
        unit_name = unit.name if unit else "-"
        told = tell_citizen(turn, source, "update.merged", target=merged.target.code, unit=unit_name)
        for support in await turn.uow.supports.of_complaint(merged.target.id):
            key = support_key(support)
            if key is not None and support.merged_from_id == source.id and support.citizen_id != source.citizen_id:
                turn.notify(
                    Outbound(
                        key=key,
                        text_key="update.merged.supporter",
                        params={"code": source.code, "target": merged.target.code},
                        language=support.language,
                        notice=NoticeKind.COMPLAINT_UPDATE,
                    )
                )
        count = (await turn.uow.supports.counts([merged.target.id])).get(merged.target.id, 0)
        turn.reply(
            "merge.done",
            source=source.code,
            target=merged.target.code,
            count=str(count),
            days=str(UNMERGE_DAYS),
            told=turn.text("merge.told" if told else "merge.not_told"),
        )
    return STAY


async def unmerge_command(turn: Turn, args: str) -> str:
    """`pisahkan KODE`: undo a merge within UNMERGE_DAYS days."""
    code = normalise_code(args) if args.strip() else None
    if code is None:
        turn.reply("usage.pisahkan", days=str(UNMERGE_DAYS))
        return STAY
    memberships = await handling.staff_for(turn.uow, turn.inbound.key.channel, sender_of(turn))
    try:
        staff, source = await handling.authorise(turn.uow, memberships, code)
        undone = await unmerge(turn.uow, staff, source, turn.clock.now())
    except NotFound:
        turn.reply("staff.unknown_complaint", code=code)
    except TooLate:
        turn.reply("unmerge.too_late", source=code, days=str(UNMERGE_DAYS))
    except NotMergeable:
        turn.reply("unmerge.not_merged", source=code)
    except NotAllowed:
        log.warning("refused an unmerge by someone not handling both complaints")
        turn.reply("staff.not_allowed")
    else:
        unit = await turn.uow.units.get(undone.source.unit_id)
        told = tell_citizen(turn, undone.source, "update.unmerged", unit=unit.name if unit else "-")
        turn.reply(
            "unmerge.done",
            source=undone.source.code,
            status=turn.text(f"status.label.{undone.source.status}"),
            told=turn.text("merge.told" if told else "merge.not_told"),
        )
    return STAY
