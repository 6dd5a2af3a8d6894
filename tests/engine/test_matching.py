"""Unit tests of typed-answer matching (bot.matching): loose labels, yes/no words, never a guess."""

from __future__ import annotations

import pytest

from suarawarga.bot.matching import Means, match_choice

KECAMATAN = [
    ["kec:PB", "Kecamatan Padang Barat"],
    ["kec:PT", "Kecamatan Padang Timur"],
    ["kec:PAUH", "Kecamatan Pauh"],
    ["kec:unknown", "Tidak tahu"],
]
CONSENT = [["consent:yes", "Setuju", Means.YES], ["consent:no", "Tidak setuju", Means.NO]]
SOLVED = [["y", "Ya, sudah selesai", Means.YES], ["n", "Belum", Means.NO], ["p", "Sebagian"]]
CATEGORIES = [["cat:jalan", "Jalan rusak atau berlubang"], ["cat:lampu", "Lampu jalan mati"], ["cat:x", "Lainnya"]]
SURVEY = [["score:1", "Tidak cepat"], ["score:2", "Kurang cepat"], ["score:3", "Cepat"], ["score:4", "Sangat cepat"]]


@pytest.mark.parametrize(
    ("typed", "choices", "picked"),
    [
        ("3", KECAMATAN, "kec:PAUH"),
        (" 3. ", KECAMATAN, "kec:PAUH"),
        ("no. 2", KECAMATAN, "kec:PT"),
        ("padang barat", KECAMATAN, "kec:PB"),
        ("PADANG-BARAT!", KECAMATAN, "kec:PB"),
        ("kec. pauh", KECAMATAN, "kec:PAUH"),
        ("barat", KECAMATAN, "kec:PB"),
        ("tidak", KECAMATAN, "kec:unknown"),
        ("ya", CONSENT, "consent:yes"),
        ("Iya", CONSENT, "consent:yes"),
        ("ok", CONSENT, "consent:yes"),
        ("gak", CONSENT, "consent:no"),
        ("tidak setuju", CONSENT, "consent:no"),
        ("y", SOLVED, "y"),
        ("nggak", SOLVED, "n"),
        ("sudah selesai", SOLVED, "y"),
        ("lampu", CATEGORIES, "cat:lampu"),
        ("rusak", CATEGORIES, "cat:jalan"),
        ("sangat cepat", SURVEY, "score:4"),
    ],
)
def test_typed_answers_pick_their_option(typed: str, choices: list[list[str]], picked: str) -> None:
    """Numbers, loose labels, unit names without their prefix, word runs and yes/no words pick one option."""
    assert match_choice(typed, choices).choice == picked


@pytest.mark.parametrize(
    ("typed", "choices"),
    [("padang", KECAMATAN), ("jalan", CATEGORIES), ("air", [["a", "Saluran air tersumbat"], ["b", "Air bersih mati"]])],
)
def test_an_answer_fitting_several_options_is_ambiguous(typed: str, choices: list[list[str]]) -> None:
    """An answer that fits several options picks none and names them."""
    match = match_choice(typed, choices)
    assert match.choice is None and len(match.ambiguous) >= 2


@pytest.mark.parametrize(
    ("typed", "choices"),
    [
        ("9", KECAMATAN),  # out of range: left to the step (e.g. an age)
        ("c", SURVEY),  # a letter a–d is the survey step's own answer
        ("ya", CATEGORIES),  # no option is a yes
        ("tidak", CATEGORIES),  # "Sampah tidak diangkut"-like labels are not a no
        ("Jl. Sudirman No. 10", [["loc:skip", "Tanpa lokasi"]]),
    ],
)
def test_other_text_is_left_to_the_step(typed: str, choices: list[list[str]]) -> None:
    """Text that matches no option is handed to the step unchanged."""
    assert match_choice(typed, choices).choice is None and not match_choice(typed, choices).ambiguous
