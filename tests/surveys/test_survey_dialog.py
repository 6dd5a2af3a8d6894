"""Dialog tests of the IKM survey flow, run through the console channel on a real database."""

from __future__ import annotations

from datetime import timedelta

from suarawarga.bootstrap import App
from suarawarga.surveys.definitions import UNSUR_ORDER, JenisKelamin, Pendidikan, Unsur, UsiaBand
from suarawarga.surveys.model import NewResponse, ResponseSource, StoredResponse
from suarawarga.surveys.periods import period_containing
from tests.support.clock import FrozenClock
from tests.support.dialog import Conversation

NINE_QUESTIONS = ["survey.question"] * 9
CONSENT = ("1", ["privacy.thanks", "survey.service.ask"])


async def stored(app: App) -> list[StoredResponse]:
    """Return every stored response of the current year."""
    period = period_containing("year", app.clock.now())
    async with app.uow() as uow:
        return await uow.surveys.responses(period.start, period.end)


async def answer_nine(citizen: Conversation, answers: list[str]) -> None:
    """Answer the nine questions; each answer but the last gets the next question."""
    assert len(answers) == 9
    for index, answer in enumerate(answers):
        expected = ["survey.question"] if index < 8 else ["survey.saran.ask"]
        assert await citizen.say(answer) == expected, f"question {index + 1}"


async def test_deep_link_survey_with_profile_and_saran_is_stored_by_unsur_code(app: App, citizen: Conversation) -> None:
    """A QR deep link names the unit; every answer is stored under its unsur code with profile and saran."""
    await citizen.verify(
        [
            ("/start ikm_PKM-ANDALAS", ["survey.privacy.notice"]),
            CONSENT,
        ]
    )
    assert "Survei Kepuasan Masyarakat — Puskesmas Andalas" in citizen.last_texts[-1]
    await citizen.verify(
        [
            ("Poli umum", ["survey.profile.ask"]),
            ("Isi profil", ["survey.profile.gender.ask"]),
            ("Perempuan", ["survey.profile.age.ask"]),
            ("34", ["survey.profile.education.ask"]),
            ("S1", ["survey.profile.occupation.ask"]),
            ("Lewati", ["survey.question"]),
        ]
    )
    assert citizen.last_texts[0].startswith("Pertanyaan 1 dari 9 — Persyaratan\nBagaimana pendapat Saudara")
    await answer_nine(citizen, ["4", "3", "d", "Gratis", "2", "4", "4", "1", "3"])
    await citizen.verify([("Antrean terlalu panjang di pagi hari", ["survey.summary"])])
    summary = citizen.last_texts[0]
    assert "Poli umum" in summary and "Perempuan" in summary and "Antrean terlalu panjang" in summary
    assert "U9 Sarana dan Prasarana: Baik" in summary and "U4 Biaya/Tarif: Gratis" in summary
    await citizen.verify([("Kirim", ["survey.thanks"])])
    [response] = await stored(app)
    assert [response.answers[u] for u in UNSUR_ORDER] == [4, 3, 4, 4, 2, 4, 4, 1, 3]
    assert response.answers[Unsur.PENGADUAN] == 1 and response.answers[Unsur.SARANA] == 3
    assert response.profile.gender is JenisKelamin.P and response.profile.age_band is UsiaBand.FROM_25_TO_39
    assert response.profile.education is Pendidikan.S1 and response.profile.occupation is None
    assert response.service == "Poli umum" and response.saran == "Antrean terlalu panjang di pagi hari"
    assert response.source is ResponseSource.CHAT
    assert response.submitted_at == app.clock.now()
    async with app.uow() as uow:
        unit = await uow.units.get(response.unit_id)
    assert unit is not None and unit.code == "PKM-ANDALAS"


async def test_menu_entry_picks_opd_then_subunit_and_skips_the_profile(app: App, citizen: Conversation) -> None:
    """From the menu the citizen picks an OPD, then its sub-unit; skipping the profile stores no profile."""
    await citizen.verify(
        [
            ("/start", ["menu.welcome"]),
            ("Isi survei kepuasan", ["survey.privacy.notice"]),
            ("Setuju", ["privacy.thanks", "survey.unit.opd.ask"]),
            ("Dinas Kesehatan", ["survey.unit.sub.ask"]),
            ("Puskesmas Andalas", ["survey.service.ask"]),
            ("Imunisasi anak", ["survey.profile.ask"]),
            ("Lewati profil", ["survey.question"]),
        ]
    )
    await answer_nine(citizen, ["3"] * 9)
    await citizen.verify([("Lewati", ["survey.summary"])])
    assert "Profil: tidak diisi" in citizen.last_texts[0] and "Saran: tidak diisi" in citizen.last_texts[0]
    await citizen.verify([("1", ["survey.thanks"])])
    [response] = await stored(app)
    assert response.profile.gender is None and response.profile.age_band is None
    assert response.saran is None and all(response.answers[u] == 3 for u in UNSUR_ORDER)


async def test_unit_without_subunits_is_taken_directly_and_a_code_may_be_typed(app: App, citizen: Conversation) -> None:
    """A unit with no sub-units needs no second choice; typing a code from the poster also works."""
    await citizen.verify(
        [
            ("survei", ["survey.privacy.notice"]),
            ("1", ["privacy.thanks", "survey.unit.opd.ask"]),
            ("Dinas Kependudukan dan Pencatatan Sipil", ["survey.service.ask"]),
            ("batal", ["cancel.done"]),
            ("survei", ["survey.unit.opd.ask"]),
            ("pkm-andalas", ["survey.service.ask"]),
        ]
    )
    assert "Puskesmas Andalas" in citizen.last_texts[0]


async def test_bad_answers_are_refused_and_the_question_repeated(app: App, citizen: Conversation) -> None:
    """Scores outside 1–4, free text and a too-short service are refused; the same question comes back."""
    await citizen.verify(
        [
            ("/start ikm_DISDUKCAPIL", ["survey.privacy.notice"]),
            ("mungkin", ["input.pick_button", "survey.privacy.notice"]),
            CONSENT,
            ("x", ["survey.service.invalid", "survey.service.ask"]),
            ("KTP elektronik", ["survey.profile.ask"]),
            ("barangkali", ["input.pick_button", "survey.profile.ask"]),
            ("ya", ["survey.profile.gender.ask"]),
            ("Lewati", ["survey.profile.age.ask"]),
            ("200", ["survey.profile.age.invalid", "survey.profile.age.ask"]),
            ("Lewati", ["survey.profile.education.ask"]),
            ("Lewati", ["survey.profile.occupation.ask"]),
            ("Lewati", ["survey.question"]),
            ("5", ["survey.answer.pick", "survey.question"]),
            ("0", ["survey.answer.pick", "survey.question"]),
            ("sangat bagus", ["survey.answer.pick", "survey.question"]),
        ]
    )
    assert citizen.last_texts[-1].startswith("Pertanyaan 1 dari 9")
    await answer_nine(citizen, ["2"] * 9)
    await citizen.verify([("Lewati", ["survey.summary"]), ("mungkin", ["input.pick_button", "survey.summary"])])
    assert await stored(app) == []


async def test_cancelling_stores_nothing(app: App, citizen: Conversation) -> None:
    """Cancelling midway (command) or at the summary (button) stores nothing and shows the menu."""
    await citizen.verify(
        [
            ("/start ikm_DISDUKCAPIL", ["survey.privacy.notice"]),
            CONSENT,
            ("KTP", ["survey.profile.ask"]),
            ("Lewati profil", ["survey.question"]),
            ("4", ["survey.question"]),
            ("/batal", ["cancel.done"]),
            ("/start ikm_DISDUKCAPIL", ["survey.service.ask"]),
            ("KTP", ["survey.profile.ask"]),
            ("Lewati profil", ["survey.question"]),
        ]
    )
    await answer_nine(citizen, ["4"] * 9)
    await citizen.verify([("Lewati", ["survey.summary"]), ("Batalkan", ["cancel.done"])])
    assert await stored(app) == []


async def test_declining_consent_stores_nothing(app: App, citizen: Conversation) -> None:
    """A citizen who declines the privacy notice is not registered and no survey starts."""
    await citizen.verify(
        [("/start ikm_DISDUKCAPIL", ["survey.privacy.notice"]), ("Tidak setuju", ["survey.privacy.declined"])]
    )
    async with app.uow() as uow:
        assert await uow.citizens.find(citizen.key.channel, citizen.key.chat_id) is None


async def test_second_answer_same_day_is_refused_and_allowed_the_next_day(
    app: App, citizen: Conversation, clock: FrozenClock
) -> None:
    """One questionnaire per citizen per unit per day (city time); another unit or the next day is fine."""
    await citizen.verify(
        [("/start ikm_DISDUKCAPIL", ["survey.privacy.notice"]), CONSENT, ("KTP", ["survey.profile.ask"])]
    )
    await citizen.verify([("Lewati profil", ["survey.question"])])
    await answer_nine(citizen, ["4"] * 9)
    await citizen.verify([("Lewati", ["survey.summary"]), ("Kirim", ["survey.thanks"])])
    clock.advance(timedelta(hours=14, minutes=59))  # 23:59 in Padang: still the same day
    await citizen.verify([("/start ikm_DISDUKCAPIL", ["survey.limit"])])
    assert "Dinas Kependudukan dan Pencatatan Sipil" in citizen.last_texts[0]
    await citizen.verify([("/start ikm_PKM-ANDALAS", ["survey.service.ask"])])  # another unit
    clock.advance(timedelta(minutes=1))  # midnight in Padang (17:00 UTC): a new day
    await citizen.verify(
        [
            ("/start ikm_DISDUKCAPIL", ["survey.service.ask"]),
            ("KTP", ["survey.profile.ask"]),
            ("Lewati profil", ["survey.question"]),
        ]
    )
    await answer_nine(citizen, ["3"] * 9)
    await citizen.verify([("Lewati", ["survey.summary"]), ("Kirim", ["survey.thanks"])])
    responses = await stored(app)
    assert [r.submitted_at for r in responses] == [
        clock.now() - timedelta(hours=15),
        clock.now(),
    ]


async def test_limit_is_checked_again_at_confirmation(app: App, citizen: Conversation, clock: FrozenClock) -> None:
    """An answer stored for the unit while the citizen was still answering makes the confirmation refused."""
    await citizen.verify([("/start ikm_DISDUKCAPIL", ["survey.privacy.notice"]), CONSENT])
    await citizen.verify([("KTP", ["survey.profile.ask"]), ("Lewati profil", ["survey.question"])])
    await answer_nine(citizen, ["4"] * 9)
    await citizen.verify([("Lewati", ["survey.summary"])])
    async with app.uow() as uow:  # meanwhile the same citizen's answer arrived by another route
        found = await uow.citizens.find(citizen.key.channel, citizen.key.chat_id)
        assert found is not None
        unit = await uow.units.by_code("DISDUKCAPIL")
        assert unit is not None
        await uow.surveys.add(
            NewResponse(
                unit_id=unit.id,
                submitted_at=clock.now(),
                answers=dict.fromkeys(UNSUR_ORDER, 2),
                source=ResponseSource.CHAT,
                citizen_id=found.id,
            )
        )
        await uow.commit()
    await citizen.verify([("Kirim", ["survey.limit"])])
    assert len(await stored(app)) == 1


async def test_english_chat_gets_english_questions(app: App, citizen: Conversation) -> None:
    """After switching language, the questions and answers come from the English catalogue."""
    await citizen.verify(
        [
            ("/bahasa en", ["language.changed", "menu.intro"]),
            ("/start ikm_DISDUKCAPIL", ["survey.privacy.notice"]),
            ("I agree", ["privacy.thanks", "survey.service.ask"]),
            ("ID card", ["survey.profile.ask"]),
            ("Skip the profile", ["survey.question"]),
        ]
    )
    text = citizen.last_texts[0]
    assert text.startswith("Question 1 of 9 — Requirements") and "Very suitable" in text
    assert await citizen.say("Very suitable") == ["survey.question"]


async def test_unknown_unit_in_the_link_falls_back_to_the_unit_list(app: App, citizen: Conversation) -> None:
    """A deep link with a code we do not know says so and lets the citizen pick the unit."""
    await citizen.verify([("/start ikm_NOPE-123", ["survey.unit.unknown", "survey.privacy.notice"])])
    assert "NOPE-123" in citizen.last_texts[0]
    await citizen.verify(
        [
            ("Setuju", ["privacy.thanks", "survey.unit.opd.ask"]),
            ("tidak ada", ["survey.unit.pick", "survey.unit.opd.ask"]),
            ("Kecamatan Pauh", ["survey.service.ask"]),
        ]
    )
    assert "Kecamatan Pauh" in citizen.last_texts[0]
