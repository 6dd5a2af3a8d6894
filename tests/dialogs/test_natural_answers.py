"""Dialog tests: answers typed the way people write in chat are understood, and ambiguous ones are asked again."""

from __future__ import annotations

from suarawarga.bootstrap import App
from suarawarga.bot.channels.console import console_key
from suarawarga.complaints.model import IdentityMode
from tests.support.dialog import Conversation

CATEGORIES = ["privacy.thanks", "complaint.category.ask"]


async def stored_profile(app: App) -> dict[str, str] | None:
    """Return the survey profile kept in the citizen's conversation so far."""
    async with app.uow() as uow:
        states = await uow.conversations.load_many([console_key("citizen-1")])
    state = next(iter(states.values()))
    profile: dict[str, str] | None = state.data.get("profile")
    return profile


async def test_yes_words_labels_without_prefix_and_loose_numbers(app: App, citizen: Conversation) -> None:
    """`ya`, `lampu`, `padang barat`, ` 3. ` and `ya` at the summary file a complaint without one refusal."""
    await citizen.verify(
        [
            ("pengaduan", ["privacy.notice"]),
            ("ya", CATEGORIES),
            ("lampu", ["complaint.description.ask"]),
        ]
    )
    assert "Lampu jalan mati" in citizen.last_texts[0]
    await citizen.verify(
        [
            ("Lampu jalan di depan masjid mati sejak Senin", ["complaint.location.ask"]),
            ("tanpa lokasi", ["complaint.kecamatan.ask"]),
            ("padang barat", ["complaint.photos.ask"]),
            ("selesai", ["complaint.identity.ask"]),
            (" 3. ", ["complaint.summary"]),
        ]
    )
    summary = citizen.last_texts[0]
    assert "Kecamatan: Padang Barat\n" in summary and "anonim" in summary
    assert await citizen.say("ya") == ["complaint.filed.anonim"]
    async with app.uow() as uow:
        complaint = await uow.complaints.by_code(citizen.last[0].params["code"])
    assert complaint is not None and complaint.identity_mode is IdentityMode.ANONIM


async def test_no_words_decline(citizen: Conversation) -> None:
    """`nggak` at the privacy notice declines it; nothing is asked further."""
    await citizen.verify([("pengaduan", ["privacy.notice"]), ("nggak", ["privacy.declined"])])


async def test_an_answer_that_fits_several_options_is_asked_again(citizen: Conversation) -> None:
    """`padang` fits four kecamatan: the bot lists them and asks again, it never guesses."""
    await citizen.verify(
        [
            ("pengaduan", ["privacy.notice"]),
            ("setuju", CATEGORIES),
            ("sampah", ["complaint.description.ask"]),
            ("Sampah menumpuk di pinggir jalan sudah seminggu", ["complaint.location.ask"]),
            ("Tanpa lokasi", ["complaint.kecamatan.ask"]),
            ("padang", ["input.ambiguous", "complaint.kecamatan.ask"]),
        ]
    )
    listed = citizen.last_texts[0]
    assert all(f"Kecamatan Padang {side}" in listed for side in ("Barat", "Selatan", "Timur", "Utara"))
    assert "Pauh" not in listed
    await citizen.verify([("kec. padang timur", ["complaint.photos.ask"])])


async def test_survey_profile_in_natural_words(app: App, citizen: Conversation) -> None:
    """`laki laki` is Laki-laki, `iya` fills the profile, a 1–4 answer may be typed as ` 3. `; age 150 is refused."""
    await citizen.verify(
        [
            ("/start ikm_PKM-ANDALAS", ["survey.privacy.notice"]),
            ("ok", ["privacy.thanks", "survey.service.ask"]),
            ("Poli umum", ["survey.profile.ask"]),
            ("iya", ["survey.profile.gender.ask"]),
            ("laki laki", ["survey.profile.age.ask"]),
            ("150", ["survey.profile.age.invalid", "survey.profile.age.ask"]),
            ("37", ["survey.profile.education.ask"]),
            ("diploma", ["survey.profile.occupation.ask"]),
            ("wira", ["survey.question"]),
            (" 3. ", ["survey.question"]),
        ]
    )
    assert await stored_profile(app) == {
        "gender": "l",
        "age": "25_39",
        "education": "diploma",
        "occupation": "wirausaha",
    }


async def test_a_complaint_typed_at_the_menu_starts_a_complaint_with_that_text(app: App, citizen: Conversation) -> None:
    """A long free text outside any flow becomes the description draft, offered after the category."""
    text = "Lampu jalan di depan rumah saya di Jl. Sudirman sudah mati seminggu, mohon diperbaiki"
    await citizen.verify(
        [
            ("/start", ["menu.welcome"]),
            (text, ["complaint.from_text", "privacy.notice"]),
            ("1", CATEGORIES),
            ("4", ["complaint.description.draft"]),
        ]
    )
    assert text in citizen.last_texts[0]
    await citizen.verify([("1", ["complaint.location.ask"])])
    await citizen.verify(
        [
            ("Tanpa lokasi", ["complaint.kecamatan.ask"]),
            ("Tidak tahu", ["complaint.photos.ask"]),
            ("Selesai", ["complaint.identity.ask"]),
            ("Anonim", ["complaint.summary"]),
        ]
    )
    assert text in citizen.last_texts[0]
    # A greeting is not a complaint: it gets the menu.
    await citizen.verify([("batal", ["cancel.done"]), ("selamat pagi", ["menu.intro"])])


async def test_a_description_needs_letters_not_emoji(citizen: Conversation) -> None:
    """Ten emoji do not make the ten letters a description needs."""
    await citizen.verify(
        [
            ("pengaduan", ["privacy.notice"]),
            ("1", CATEGORIES),
            ("1", ["complaint.description.ask"]),
            ("😀😀😀😀😀😀😀😀😀😀", ["complaint.description.too_short", "complaint.description.ask"]),
            ("!!! ... ??? !!!", ["complaint.description.too_short", "complaint.description.ask"]),
            ("Jalan berlubang", ["complaint.location.ask"]),
        ]
    )


LOCATION = [
    ("pengaduan", ["privacy.notice"]),
    ("1", CATEGORIES),
    ("1", ["complaint.description.ask"]),
    ("Jalan berlubang besar di depan sekolah dasar", ["complaint.location.ask"]),
]


async def test_a_location_far_outside_the_city_is_questioned(citizen: Conversation) -> None:
    """A point in Jakarta gets a warning: `tidak` asks for the location again, `ya` keeps it."""
    await citizen.verify(
        [
            *LOCATION,
            ("/lokasi -6.2,106.8", ["complaint.location.outside"]),
            ("tidak", ["complaint.location.ask"]),
            ("/lokasi -6.2,106.8", ["complaint.location.outside"]),
            ("ya", ["complaint.kecamatan.ask"]),
        ]
    )


async def test_a_location_in_the_city_is_not_questioned(citizen: Conversation) -> None:
    """A point in Padang (and one on an island of the city) goes straight to the kecamatan question."""
    await citizen.verify([*LOCATION, ("/lokasi -0.9471,100.4172", ["complaint.kecamatan.ask"])])


async def test_the_kecamatan_is_taken_from_a_typed_address(citizen: Conversation) -> None:
    """An address naming a kecamatan or a kelurahan of the seed fills the kecamatan; an unclear one is asked."""
    await citizen.verify(
        [
            *LOCATION,
            ("Jl. Sudirman No. 10, Padang Barat", ["complaint.kecamatan.inferred", "complaint.photos.ask"]),
            ("Selesai", ["complaint.identity.ask"]),
            ("Anonim", ["complaint.summary"]),
        ]
    )
    assert "Kecamatan: Padang Barat\n" in citizen.last_texts[0]
    await citizen.verify([("batal", ["cancel.done"]), ("pengaduan", ["complaint.category.ask"]), *LOCATION[2:]])
    await citizen.verify(
        [("Gang Mawar, Kelurahan Ulak Karang Selatan", ["complaint.kecamatan.inferred", "complaint.photos.ask"])]
    )
    assert "Padang Utara" in citizen.last_texts[0]
    await citizen.verify([("batal", ["cancel.done"]), ("pengaduan", ["complaint.category.ask"]), *LOCATION[2:]])
    await citizen.verify([("Jl. Raya Padang - Bukittinggi km 5", ["complaint.kecamatan.ask"])])


async def test_no_means_no_photos_no_phone_no_suggestion(citizen: Conversation) -> None:
    """ "Ada foto?" "gak", a phone number "tidak", a suggestion "nggak": each goes on without one."""
    await citizen.verify(
        [
            *LOCATION,
            ("Tanpa lokasi", ["complaint.kecamatan.ask"]),
            ("Tidak tahu", ["complaint.photos.ask"]),
            ("gak", ["complaint.identity.ask"]),
            ("bernama", ["complaint.name.ask"]),
            ("Siti Rahma", ["complaint.contact.ask"]),
            ("tidak", ["complaint.summary"]),
            ("batal", ["cancel.done"]),
            ("/start ikm_PKM-ANDALAS", ["survey.privacy.notice"]),  # the survey has its own consent
            ("ya", ["privacy.thanks", "survey.service.ask"]),
            ("Imunisasi", ["survey.profile.ask"]),
            ("tidak", ["survey.question"]),
            *[("4", ["survey.question"])] * 8,
            ("4", ["survey.saran.ask"]),
            ("nggak", ["survey.summary"]),
        ]
    )
