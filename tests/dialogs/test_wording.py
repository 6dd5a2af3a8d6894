"""Wording a citizen or an officer reads: no bare dashes, no English on Indonesian screens, one meaning per word."""

from __future__ import annotations

import re

from suarawarga.bootstrap import App
from suarawarga.bot.channels.console import RecordingSender, render
from suarawarga.bot.dispatcher import Dispatcher
from suarawarga.bot.texts import Catalogue
from tests.dialogs.test_staff_dialog import FILE_NAMED, setup_dpupr, to
from tests.support.clock import FrozenClock
from tests.support.dialog import Conversation


async def test_a_named_complaint_without_a_phone_shows_no_bare_dash(
    app: App, dispatcher: Dispatcher, clock: FrozenClock, recorder: RecordingSender, citizen: Conversation
) -> None:
    """The officer's card says "tanpa nomor telepon" and "tidak diketahui" where it showed `(-)` and `-`."""
    group = Conversation(dispatcher, clock, app.catalogue, "group-dpupr")
    await setup_dpupr(app, dispatcher, clock, group)
    await citizen.verify([*FILE_NAMED[:10], ("Lewati", ["complaint.summary"])])
    assert "Kecamatan: tidak diketahui" in citizen.last_texts[0]
    await citizen.verify([("Kirim", ["complaint.filed"])])
    card = render(to(recorder, "group-dpupr")[-1], app.catalogue)
    assert "Pelapor: Budi Santoso (tanpa nomor telepon)" in card
    assert "Kecamatan: tidak diketahui" in card
    assert not re.search(r"\(-\)|: -$", card, re.MULTILINE)


def test_help_lists_every_command_a_citizen_has(app: App) -> None:
    """`bantuan` lists dataku and hapusdata (mydata, deletemydata in English) besides the others."""
    for language, words in (("id", ("dataku", "hapusdata", "lanjut")), ("en", ("mydata", "deletemydata"))):
        help_text = app.catalogue.render("help.text", language, {})
        assert all(f"• {word} —" in help_text for word in words), language


def test_recorded_and_accepted_are_two_words(app: App) -> None:
    """Filing says *tercatat*; only the OPD's acceptance says *diterima*."""
    catalogue: Catalogue = app.catalogue
    for key in ("complaint.filed", "complaint.filed.anonim", "history.filed", "status.label.diterima"):
        text = catalogue.render(key, "id", {"code": "PDG-X", "unit": "U", "at": "t"})
        assert "tercatat" in text.lower() and "diterima dengan" not in text, key
    assert "diterima" in catalogue.render("update.accepted", "id", {"code": "PDG-X", "unit": "DPUPR"})
    assert "diterima" in catalogue.render("history.accepted", "id", {"at": "t"})


def test_texts_that_read_badly_are_gone(app: App) -> None:
    """The phrases the trial found awkward or wrong are no longer in any Indonesian text."""
    bad = ("identitas Anda ditangani", "itu batasnya", "pertanyaan pilihan", "Kirim tanpa foto", "reset")
    texts = [app.catalogue.raw(key, "id") for key in sorted(app.catalogue.keys())]
    assert [phrase for phrase in bad if any(phrase in text for text in texts)] == []


async def test_typed_answers_to_a_resolution_refer_to_its_options(
    app: App, dispatcher: Dispatcher, clock: FrozenClock, recorder: RecordingSender, citizen: Conversation
) -> None:
    """The citizen types `1` at "is it solved?" (sent from the officer's turn): that is "Ya", then `1` is score 1."""
    group = Conversation(dispatcher, clock, app.catalogue, "group-dpupr")
    officer = await setup_dpupr(app, dispatcher, clock, group)
    await citizen.verify(FILE_NAMED)
    code = citizen.last[0].params["code"]
    assert await officer.press(group, f"cmd:st acc {code}") == ["staff.accepted"]
    assert await officer.press(officer.private, f"cmd:st done {code}", group=False) == ["staff.done.ask"]
    assert await officer.private.say("Lubang sudah ditambal dengan aspal") == ["staff.done.photos"]
    assert await officer.private.say("Kirim") == ["staff.done.sent"]
    assert to(recorder, citizen.key.chat_id)[-1].text_key == "update.resolved"
    assert await citizen.say("1") == ["rating.ask_score"]
    assert await citizen.say("1") == ["rating.reopened"]
