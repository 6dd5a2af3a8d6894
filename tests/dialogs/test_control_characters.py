"""Control characters at input: removed in one place (the Inbound), for every channel; new lines and tabs stay."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from suarawarga.bootstrap import App
from suarawarga.bot.messages import ChannelName, ConversationKey, Inbound
from tests.dialogs.test_complaint_dialog import CONSENTED
from tests.support.dialog import Conversation

KEY = ConversationKey(ChannelName.TELEGRAM, "42")
AT = datetime(2026, 1, 5, tzinfo=UTC)


def test_free_text_keeps_new_lines_and_tabs_and_loses_other_controls() -> None:
    """NUL, escape sequences, DEL, C1 controls and lone surrogates go; CR LF becomes LF; emoji joiners stay."""
    inbound = Inbound(KEY, "1", AT, text="a\x00b\x1b[31mc\x7f\x85d\ud800\r\ne\tf\rg 👩\u200d🔧")
    assert inbound.text == "ab[31mcd\ne\tf\ng 👩\u200d🔧"


def test_one_line_fields_lose_every_control_character() -> None:
    """One-line fields (names, commands, choices, contacts, hints) hold no control character; a break is a space."""
    inbound = Inbound(
        KEY,
        "1",
        AT,
        command="start\x00",
        choice="cmd:\x1bmenu",
        contact="+62\n812\x00",
        sender_name="Budi\nPejabat: Walikota\x00\ud83d",
        language="id\x00",
        unsupported="sticker\x07",
    )
    assert (inbound.command, inbound.choice, inbound.contact) == ("start", "cmd:menu", "+62 812")
    assert (inbound.sender_name, inbound.language, inbound.unsupported) == ("Budi Pejabat: Walikota", "id", "sticker")
    assert dataclasses.replace(inbound, text="x\x00").text == "x"  # a copy is cleaned too


async def test_a_nul_or_lone_surrogate_in_the_description_no_longer_loses_the_draft(
    app: App, citizen: Conversation
) -> None:
    """A description holding NUL and a lone surrogate is filed at "Kirim" (it failed there, and lost the draft)."""
    await citizen.verify(
        [
            *CONSENTED,
            ("2", ["complaint.description.ask"]),
            ("Sampah\x00 menumpuk di pinggir jalan\ud800 sudah seminggu\r\nbaris dua", ["complaint.location.ask"]),
            ("Tanpa lokasi", ["complaint.kecamatan.ask"]),
            ("Tidak tahu", ["complaint.photos.ask"]),
            ("Selesai", ["complaint.identity.ask"]),
            ("Anonim", ["complaint.summary"]),
            ("Kirim", ["complaint.filed.anonim"]),
        ]
    )
    code = citizen.last[0].params["code"]
    async with app.uow() as uow:
        complaint = await uow.complaints.by_code(code)
    assert complaint is not None
    assert complaint.description == "Sampah menumpuk di pinggir jalan sudah seminggu\nbaris dua"
