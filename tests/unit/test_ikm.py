"""IKM arithmetic (PermenPANRB 14/2017): hand-computed cases, band edges, weights, sample sizes, roll-ups."""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from suarawarga.surveys.definitions import (
    PROFILE_OPTIONS,
    SCORES,
    SURVEY_VERSION,
    UNSUR_ORDER,
    JenisKelamin,
    Pekerjaan,
    Pendidikan,
    ProfileField,
    UnknownCodeError,
    Unsur,
    UsiaBand,
    answer_key,
    profile_option_key,
    profile_question_key,
    question_key,
    unsur_from_label,
    unsur_label,
    unsur_name_key,
    usia_band,
)
from suarawarga.surveys.ikm import IkmResult, RollUpMethod, Weight, compute_ikm, mean_of_ikms, weight_value
from suarawarga.surveys.mutu import Mutu, classify_ikm, format_ikm, format_ni, format_nrr, round_half_up
from suarawarga.surveys.sample_size import krejcie_morgan, sample_adequate
from suarawarga.surveys.tally import EmptyDataError, IkmInputError, InvalidScoreError, UnsurTally, pool, tally_responses

CATALOGUE = Path(__file__).resolve().parents[2] / "src" / "suarawarga" / "bot" / "catalogue" / "survey.yaml"

Dist = tuple[int, int, int, int]

PROPERTY_SETTINGS = settings(deadline=None, database=None)


def uniform(distribution: Dist) -> list[UnsurTally]:
    """Nine tallies that all have the same distribution of scores 1..4."""
    return [UnsurTally.from_distribution(u, distribution) for u in UNSUR_ORDER]


def mixed(distributions: Sequence[Dist]) -> list[UnsurTally]:
    """Nine tallies, one distribution per unsur in U1..U9 order."""
    return [UnsurTally.from_distribution(u, d) for u, d in zip(UNSUR_ORDER, distributions, strict=True)]


def everyone(score: int) -> dict[Unsur, int | None]:
    """One respondent giving the same score to every unsur."""
    return dict.fromkeys(UNSUR_ORDER, score)


# --------------------------------------------------------------------------------------------- definitions


def test_unsur_order_is_regulation_order() -> None:
    """U1..U9 follow the regulation's ruang-lingkup order, with pengaduan U8 and sarana U9."""
    assert [u.value for u in UNSUR_ORDER] == [
        "persyaratan",
        "prosedur",
        "waktu",
        "biaya",
        "produk",
        "kompetensi",
        "perilaku",
        "pengaduan",
        "sarana",
    ]
    assert unsur_label(Unsur.PENGADUAN) == "U8"
    assert unsur_label(Unsur.SARANA) == "U9"
    assert SURVEY_VERSION == "permenpanrb-14-2017"


def test_unsur_labels_round_trip() -> None:
    """Every unsur maps to its U-label and back; labels are case-insensitive."""
    for index, unsur in enumerate(UNSUR_ORDER, start=1):
        assert unsur_label(unsur) == f"U{index}"
        assert unsur_from_label(f"U{index}") is unsur
    assert unsur_from_label(" u3 ") is Unsur.WAKTU


@pytest.mark.parametrize("label", ["U0", "U10", "3", "X3", "", "persyaratan"])
def test_unknown_unsur_label_rejected(label: str) -> None:
    """Labels other than U1..U9 raise UnknownCodeError, a ValueError."""
    with pytest.raises(UnknownCodeError, match="unknown unsur label"):
        unsur_from_label(label)
    assert issubclass(UnknownCodeError, ValueError)


def test_profile_codes_are_lowercase_strings() -> None:
    """Persisted profile option codes are lowercase strings, and each field lists its enum's options."""
    assert PROFILE_OPTIONS[ProfileField.GENDER] == (JenisKelamin.L, JenisKelamin.P)
    assert [p.value for p in Pendidikan] == ["sd", "smp", "sma", "diploma", "s1", "s2", "s3"]
    assert [p.value for p in Pekerjaan] == ["pns", "tni", "polri", "swasta", "wirausaha", "lainnya"]
    for options in PROFILE_OPTIONS.values():
        for option in options:
            assert option.value == option.value.lower()


@pytest.mark.parametrize(
    ("age", "band"),
    [
        (10, UsiaBand.UNDER_25),
        (24, UsiaBand.UNDER_25),
        (25, UsiaBand.FROM_25_TO_39),
        (39, UsiaBand.FROM_25_TO_39),
        (40, UsiaBand.FROM_40_TO_55),
        (55, UsiaBand.FROM_40_TO_55),
        (56, UsiaBand.OVER_55),
        (110, UsiaBand.OVER_55),
    ],
)
def test_usia_band_edges(age: int, band: UsiaBand) -> None:
    """Ages fall into <25, 25-39, 40-55 and >55 with inclusive inner edges."""
    assert usia_band(age) is band


@pytest.mark.parametrize("age", [-1, 0, 9, 111, 150, 151])
def test_usia_band_rejects_impossible_ages(age: int) -> None:
    """Ages outside 10..110 are rejected: 150 is a typing slip, not "over 55"."""
    with pytest.raises(UnknownCodeError):
        usia_band(age)


def test_catalogue_keys_are_built_from_codes() -> None:
    """Catalogue keys use unsur and option codes, never positions."""
    assert question_key(Unsur.PERSYARATAN) == "survey.q.persyaratan"
    assert answer_key(Unsur.SARANA, 4) == "survey.a.sarana.4"
    assert unsur_name_key(Unsur.BIAYA) == "survey.unsur.biaya"
    assert profile_question_key(ProfileField.GENDER) == "survey.profile.gender"
    assert profile_option_key(ProfileField.GENDER, JenisKelamin.L) == "survey.profile.gender.l"
    assert Mutu.A.catalogue_key == "ikm.mutu.A"
    assert Weight.LEGACY_0111.catalogue_key == "ikm.weight.legacy_0111"
    with pytest.raises(UnknownCodeError):
        answer_key(Unsur.SARANA, 5)
    with pytest.raises(UnknownCodeError):
        profile_option_key(ProfileField.GENDER, Pendidikan.SD)


def test_survey_catalogue_is_complete_and_consistent() -> None:
    """survey.yaml holds exactly the expected keys, each with non-empty id and en with equal placeholders."""
    loaded = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    expected = {unsur_name_key(u) for u in Unsur} | {question_key(u) for u in Unsur}
    expected |= {answer_key(u, s) for u in Unsur for s in SCORES}
    expected |= {profile_question_key(f) for f in ProfileField}
    expected |= {profile_option_key(f, o) for f, options in PROFILE_OPTIONS.items() for o in options}
    expected |= {m.catalogue_key for m in Mutu} | {w.catalogue_key for w in Weight}
    expected |= {r.catalogue_key for r in RollUpMethod}
    assert set(loaded) == expected
    for key, entry in loaded.items():
        assert isinstance(entry, dict), key
        assert set(entry) == {"id", "en"}, key
        assert all(isinstance(text, str) and text.strip() for text in entry.values()), key
        fields = [{name for _, name, _, _ in string.Formatter().parse(entry[lang]) if name} for lang in ("id", "en")]
        assert fields[0] == fields[1], key


def test_catalogue_carries_official_wording() -> None:
    """Spot-check the template wording: Q1 text, the biaya scale ending in Gratis, and the pengaduan scale."""
    loaded = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))
    assert loaded["survey.q.persyaratan"]["id"].startswith(
        "Bagaimana pendapat Saudara tentang kesesuaian persyaratan pelayanan dengan jenis pelayanannya"
    )
    assert [loaded[answer_key(Unsur.BIAYA, s)]["id"] for s in SCORES] == [
        "Sangat mahal",
        "Cukup mahal",
        "Murah",
        "Gratis",
    ]
    assert [loaded[answer_key(Unsur.PENGADUAN, s)]["id"] for s in SCORES] == [
        "Tidak ada",
        "Ada tetapi tidak berfungsi",
        "Berfungsi kurang maksimal",
        "Dikelola dengan baik",
    ]


# --------------------------------------------------------------------------------------------- basic cases


def test_all_fours_give_100_and_a() -> None:
    """Every answer 4 gives NRR 4, NI 4.0000, IKM 100.00 and mutu A (Sangat Baik)."""
    result = compute_ikm(tally_responses([everyone(4)] * 10), n_respondents=10)
    assert result.ikm == 100
    assert result.ni == 4
    assert result.ikm_display == "100.00"
    assert result.ni_display == "4.0000"
    assert result.mutu is Mutu.A
    assert result.kinerja == "Sangat Baik"
    assert result.complete
    assert result.weight is Weight.EXACT
    assert all(r.nrr_display == "4.000" for r in result.per_unsur)


def test_all_ones_give_25_and_d() -> None:
    """Every answer 1 gives IKM 25.00 and mutu D (Tidak Baik)."""
    result = compute_ikm(tally_responses([everyone(1)] * 3), n_respondents=3)
    assert result.ikm_display == "25.00"
    assert result.mutu is Mutu.D
    assert result.kinerja == "Tidak Baik"


def test_hand_computed_three_respondents_with_a_skip() -> None:
    """Three questionnaires, one skipping pengaduan: NRRs, NI 179/54, IKM 82.87 B, weakest waktu."""
    r1 = {**everyone(3), Unsur.BIAYA: 4}
    r2 = {**everyone(4), Unsur.WAKTU: 2}
    r3 = {**everyone(3), Unsur.PENGADUAN: None}
    result = compute_ikm(tally_responses([r1, r2, r3]), n_respondents=3)
    assert result.nrr(Unsur.PERSYARATAN) == Fraction(10, 3)
    assert result.nrr(Unsur.WAKTU) == Fraction(8, 3)
    assert result.nrr(Unsur.BIAYA) == Fraction(11, 3)
    assert result.nrr(Unsur.PENGADUAN) == Fraction(7, 2)  # divided by its own 2 answers, not by 3
    assert result.result_for(Unsur.PENGADUAN).answers == 2
    assert result.ni == Fraction(179, 54)
    assert result.ikm == Fraction(4475, 54)
    assert result.ni_display == "3.3148"
    assert result.ikm_display == "82.87"
    assert result.mutu is Mutu.B
    assert result.weakest == (Unsur.WAKTU,)
    assert result.result_for(Unsur.WAKTU).nrr_display == "2.667"
    assert result.complete  # every unsur has at least one answer


def test_distribution_is_reported_per_unsur() -> None:
    """Each unsur line carries its score counts and exact shares."""
    tallies = mixed([(1, 2, 3, 4)] + [(0, 0, 10, 0)] * 8)
    result = compute_ikm(tallies, n_respondents=10)
    line = result.result_for(Unsur.PERSYARATAN)
    assert line.distribution == (1, 2, 3, 4)
    assert line.label == "U1"
    assert line.share(4) == Fraction(2, 5)
    assert line.nrr == Fraction(30, 10)
    assert result.tallies == tuple(tallies)


def test_unsur_line_has_its_own_mutu() -> None:
    """An unsur's NRR × 25 is classified with the same rule (NRR 3.000 → 75.00 → C)."""
    result = compute_ikm(mixed([(0, 0, 4, 0)] + [(0, 0, 0, 4)] * 8), n_respondents=4)
    line = result.result_for(Unsur.PERSYARATAN)
    assert line.ikm_scale == 75
    assert line.mutu is Mutu.C
    assert result.result_for(Unsur.SARANA).mutu is Mutu.A


# --------------------------------------------------------------------------------------------- skipped unsur


def test_unanswered_unsur_is_reported_and_left_out() -> None:
    """An unsur nobody answered has no NRR, is listed as unanswered, and NI averages the other eight."""
    tallies = [UnsurTally.from_distribution(u, (0, 0, 0, 5)) for u in UNSUR_ORDER if u is not Unsur.SARANA]
    result = compute_ikm(tallies, n_respondents=5)
    assert result.unanswered == (Unsur.SARANA,)
    assert not result.complete
    assert result.nrr(Unsur.SARANA) is None
    assert result.result_for(Unsur.SARANA).nrr_display is None
    assert result.result_for(Unsur.SARANA).mutu is None
    assert result.result_for(Unsur.SARANA).share(4) is None
    assert result.ikm == 100  # not 8/9 of 100
    assert Unsur.SARANA not in result.weakest


def test_unanswered_unsur_with_legacy_weight_scales_the_weight() -> None:
    """With 0.111 and one unsur unanswered, the weight is scaled by 9/8, so all-4 still gives 99.90."""
    tallies = [UnsurTally.from_distribution(u, (0, 0, 0, 2)) for u in UNSUR_ORDER[:-1]]
    result = compute_ikm(tallies, n_respondents=2, weight=Weight.LEGACY_0111)
    assert result.ikm_display == "99.90"
    assert sum(r.weighted_nrr or 0 for r in result.per_unsur) == result.ni


def test_explicit_empty_tally_counts_as_unanswered() -> None:
    """An explicit zero-answer tally behaves like a missing one."""
    tallies = [*uniform((0, 0, 3, 0))[:-1], UnsurTally.empty(Unsur.SARANA)]
    result = compute_ikm(tallies, n_respondents=3)
    assert result.unanswered == (Unsur.SARANA,)
    assert result.ikm == 75


# --------------------------------------------------------------------------------------------- band edges

EDGE_CASES = [
    # n = 400, IKM = total score / 144: neighbouring totals either side of each band edge.
    pytest.param(mixed([(0, 0, 187, 213)] * 8 + [(0, 0, 188, 212)]), 400, "88.31", Mutu.A, id="88.31-A"),
    pytest.param(mixed([(0, 0, 187, 213)] * 7 + [(0, 0, 188, 212)] * 2), 400, "88.30", Mutu.B, id="88.30-B"),
    pytest.param(mixed([(0, 0, 374, 26)] * 7 + [(0, 0, 375, 25)] * 2), 400, "76.61", Mutu.B, id="76.61-B"),
    pytest.param(mixed([(0, 0, 374, 26)] * 6 + [(0, 0, 375, 25)] * 3), 400, "76.60", Mutu.C, id="76.60-C"),
    pytest.param(uniform((0, 160, 240, 0)), 400, "65.00", Mutu.C, id="65.00-C"),
    pytest.param(mixed([(0, 160, 240, 0)] * 8 + [(0, 161, 239, 0)]), 400, "64.99", Mutu.D, id="64.99-D"),
    # Exact halves: NRR 3.5322 → IKM 88.305 rounds up to 88.31 (A), although NI 3.5322 < 3.5324.
    pytest.param(uniform((0, 0, 2339, 2661)), 5000, "88.31", Mutu.A, id="88.305-A"),
    pytest.param(uniform((0, 0, 4679, 5321)), 10000, "88.30", Mutu.B, id="88.3025-B"),
    pytest.param(uniform((0, 0, 4679, 321)), 5000, "76.61", Mutu.B, id="76.605-B"),
    pytest.param(uniform((0, 0, 4680, 320)), 5000, "76.60", Mutu.C, id="76.600-C"),
    pytest.param(uniform((0, 2001, 2999, 0)), 5000, "65.00", Mutu.C, id="64.995-C"),
    pytest.param(uniform((0, 2002, 2998, 0)), 5000, "64.99", Mutu.D, id="64.990-D"),
]


@pytest.mark.parametrize(("tallies", "n", "shown", "mutu"), EDGE_CASES)
def test_band_edges_from_real_tallies(tallies: list[UnsurTally], n: int, shown: str, mutu: Mutu) -> None:
    """Tallies landing either side of 88.31 / 76.61 / 65.00 get the letter of their 2-place half-up IKM."""
    result = compute_ikm(tallies, n_respondents=n)
    assert result.ikm_display == shown
    assert result.ikm_rounded == Decimal(shown)
    assert result.mutu is mutu


def test_exact_half_values_are_exact() -> None:
    """The 88.305 case really is exactly 88.305 (no float noise) before rounding."""
    result = compute_ikm(uniform((0, 0, 2339, 2661)), n_respondents=5000)
    assert result.ni == Fraction("3.5322")
    assert result.ikm == Fraction("88.305")
    assert result.ni_display == "3.5322"


@pytest.mark.parametrize(
    ("ikm", "mutu"),
    [
        (Decimal("100"), Mutu.A),
        (Decimal("88.31"), Mutu.A),
        (Decimal("88.305"), Mutu.A),
        (Decimal("88.3049999"), Mutu.B),
        (Decimal("88.30"), Mutu.B),
        (Decimal("76.61"), Mutu.B),
        (Decimal("76.605"), Mutu.B),
        (Decimal("76.6049"), Mutu.C),
        (Decimal("76.60"), Mutu.C),
        (Decimal("65.00"), Mutu.C),
        (Decimal("64.995"), Mutu.C),
        (Decimal("64.9949"), Mutu.D),
        (Decimal("64.99"), Mutu.D),
        (Decimal("25"), Mutu.D),
        (Decimal("24.75"), Mutu.D),
    ],
)
def test_classify_ikm_band_edges(ikm: Decimal, mutu: Mutu) -> None:
    """classify_ikm rounds half-up to 2 places, then applies ≥88.31 A, ≥76.61 B, ≥65.00 C, else D."""
    assert classify_ikm(ikm) is mutu
    assert classify_ikm(Fraction(ikm)) is mutu


def test_mutu_labels_and_ranks() -> None:
    """Mutu letters carry the official kinerja labels, band floors and an order D < C < B < A."""
    assert [m.kinerja for m in Mutu] == ["Sangat Baik", "Baik", "Kurang Baik", "Tidak Baik"]
    assert [str(m.min_ikm) for m in Mutu] == ["88.31", "76.61", "65.00", "25.00"]
    assert [m.rank for m in Mutu] == [3, 2, 1, 0]


# --------------------------------------------------------------------------------------------- weights


def test_weight_values() -> None:
    """Weights are exactly 1/9, 111/1000 and 11/100, and parse from their stored strings."""
    assert weight_value(Weight.EXACT) == Fraction(1, 9)
    assert weight_value("0.111") == Fraction(111, 1000)
    assert weight_value(Weight.LEGACY_011) == Fraction(11, 100)
    with pytest.raises(IkmInputError, match="unknown weight"):
        weight_value("0.1")


@pytest.mark.parametrize(
    ("weight", "shown", "ni_shown"),
    [
        (Weight.EXACT, "100.00", "4.0000"),
        (Weight.LEGACY_0111, "99.90", "3.9960"),
        (Weight.LEGACY_011, "99.00", "3.9600"),
    ],
)
def test_maximum_ikm_per_weight(weight: Weight, shown: str, ni_shown: str) -> None:
    """All-4 answers give 100.00 / 99.90 / 99.00 under 1/9 / 0.111 / 0.11 (docs/ikm.md §3)."""
    result = compute_ikm(uniform((0, 0, 0, 7)), n_respondents=7, weight=weight)
    assert result.ikm_display == shown
    assert result.ni_display == ni_shown
    assert result.weight is weight


WEIGHT_CASES = [
    # (distribution per unsur, n, weight, shown IKM, mutu): the effect of the legacy weights (docs/ikm.md §3).
    ((0, 0, 44, 56), 100, Weight.EXACT, "89.00", Mutu.A),
    ((0, 0, 44, 56), 100, Weight.LEGACY_0111, "88.91", Mutu.A),
    ((0, 0, 44, 56), 100, Weight.LEGACY_011, "88.11", Mutu.B),
    ((0, 0, 58, 67), 125, Weight.EXACT, "88.40", Mutu.A),
    ((0, 0, 58, 67), 125, Weight.LEGACY_0111, "88.31", Mutu.A),
    ((0, 0, 58, 67), 125, Weight.LEGACY_011, "87.52", Mutu.B),
    ((0, 0, 233, 267), 500, Weight.EXACT, "88.35", Mutu.A),
    ((0, 0, 233, 267), 500, Weight.LEGACY_0111, "88.26", Mutu.B),
    ((0, 0, 233, 267), 500, Weight.LEGACY_011, "87.47", Mutu.B),
    ((0, 0, 114, 11), 125, Weight.EXACT, "77.20", Mutu.B),
    ((0, 0, 114, 11), 125, Weight.LEGACY_0111, "77.12", Mutu.B),
    ((0, 0, 114, 11), 125, Weight.LEGACY_011, "76.43", Mutu.C),
    ((0, 19, 31, 0), 50, Weight.EXACT, "65.50", Mutu.C),
    ((0, 19, 31, 0), 50, Weight.LEGACY_0111, "65.43", Mutu.C),
    ((0, 19, 31, 0), 50, Weight.LEGACY_011, "64.85", Mutu.D),
]


@pytest.mark.parametrize(("distribution", "n", "weight", "shown", "mutu"), WEIGHT_CASES)
def test_weights_can_change_the_letter(distribution: Dist, n: int, weight: Weight, shown: str, mutu: Mutu) -> None:
    """The same tallies give the §5 IKMs and letters per weight (e.g. 88.35 A exact, 88.26 B at 0.111)."""
    result = compute_ikm(uniform(distribution), n_respondents=n, weight=weight)
    assert result.ikm_display == shown
    assert result.mutu is mutu


def test_legacy_weight_matches_spreadsheet_formula() -> None:
    """With all nine unsur answered, NI = Σ NRR × 0.111 exactly as the standard sheet computes it."""
    tallies = mixed([(0, 1, 2, 1), (1, 1, 1, 1), (0, 0, 4, 0), (0, 0, 0, 4), (0, 2, 2, 0)] + [(0, 0, 2, 2)] * 4)
    result = compute_ikm(tallies, n_respondents=4, weight=Weight.LEGACY_0111)
    nrrs = [t.nrr for t in tallies]
    assert result.ni == sum((x * Fraction("0.111") for x in nrrs if x is not None), Fraction(0))
    assert [r.weighted_nrr for r in result.per_unsur] == [x * Fraction("0.111") for x in nrrs if x is not None]


# --------------------------------------------------------------------------------------------- rounding


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (Fraction("88.305"), 2, "88.31"),
        (Fraction("88.3049"), 2, "88.30"),
        (Fraction(1, 3), 3, "0.333"),
        (Fraction(2, 3), 3, "0.667"),
        (Fraction("2.5"), 0, "3"),
        (Fraction("-0.005"), 2, "-0.01"),
        (Decimal("3.53225"), 4, "3.5323"),
        (100, 2, "100.00"),
        (0, 2, "0.00"),
    ],
)
def test_round_half_up(value: Fraction | Decimal | int, places: int, expected: str) -> None:
    """round_half_up rounds exact values half away from zero to the given places."""
    assert format(round_half_up(value, places), "f") == expected


def test_round_half_up_refuses_floats() -> None:
    """Floats are refused because they cannot represent the band edges exactly."""
    with pytest.raises(TypeError, match="float"):
        round_half_up(88.305, 2)  # type: ignore[arg-type]


def test_display_helpers() -> None:
    """NRR shows 3 places, NI 4 places, IKM 2 places, all half-up."""
    assert format_nrr(Fraction(10, 3)) == "3.333"
    assert format_nrr(Fraction("3.5325")) == "3.533"
    assert format_ni(Fraction("3.53225")) == "3.5323"
    assert format_ikm(Fraction("88.305")) == "88.31"
    assert format_ikm(100) == "100.00"


# --------------------------------------------------------------------------------------------- invalid input


@pytest.mark.parametrize("score", [0, 5, -1, True, 2.5, "4"])
def test_invalid_score_rejected(score: object) -> None:
    """Scores outside the integers 1..4 raise InvalidScoreError (a ValueError)."""
    response: Mapping[Unsur, int | None] = {Unsur.WAKTU: score}  # type: ignore[dict-item]
    with pytest.raises(InvalidScoreError, match="waktu"):
        tally_responses([response])
    assert issubclass(InvalidScoreError, ValueError)


def test_unknown_unsur_in_response_rejected() -> None:
    """A response keyed by an unknown unsur code raises IkmInputError."""
    response: Mapping[Unsur, int | None] = {"maklumat": 3}  # type: ignore[dict-item]
    with pytest.raises(IkmInputError, match="unknown unsur"):
        tally_responses([response])


def test_string_unsur_keys_accepted() -> None:
    """Responses keyed by stored code strings tally like enum keys."""
    by_string: Mapping[Unsur, int | None] = {"waktu": 3}  # type: ignore[dict-item]
    assert tally_responses([by_string]) == tally_responses([{Unsur.WAKTU: 3}])


def test_empty_data_rejected() -> None:
    """No respondents, no tallies, or only empty tallies raise EmptyDataError."""
    with pytest.raises(EmptyDataError):
        compute_ikm(uniform((0, 0, 1, 0)), n_respondents=0)
    with pytest.raises(EmptyDataError):
        compute_ikm([], n_respondents=1)
    with pytest.raises(EmptyDataError):
        compute_ikm(tally_responses([{}]), n_respondents=1)
    assert issubclass(EmptyDataError, ValueError)


def test_more_answers_than_respondents_rejected() -> None:
    """A tally with more answers than respondents is inconsistent."""
    with pytest.raises(IkmInputError, match="only 2 respondents"):
        compute_ikm(uniform((0, 0, 3, 0)), n_respondents=2)


def test_duplicate_tally_rejected() -> None:
    """Two tallies for the same unsur must be pooled first."""
    tally = UnsurTally.from_distribution(Unsur.WAKTU, (0, 0, 1, 0))
    with pytest.raises(IkmInputError, match="two tallies"):
        compute_ikm([tally, tally], n_respondents=1)


@pytest.mark.parametrize(
    ("answers", "score_sum", "distribution", "message"),
    [
        (3, 9, (0, 0, 2, 0), "adds up to 2"),
        (2, 7, (0, 0, 2, 0), "gives 6"),
        (-1, 0, (0, 0, 0, 0), "must not be negative"),
        (1, 3, (0, 0, 1), "4 counts"),
        (1, 3, (0, -1, 2, 0), "must not be negative"),
    ],
)
def test_inconsistent_tally_rejected(answers: int, score_sum: int, distribution: Dist, message: str) -> None:
    """A tally whose answers or score_sum disagree with its distribution raises IkmInputError."""
    with pytest.raises(IkmInputError, match=message):
        UnsurTally(unsur=Unsur.WAKTU, answers=answers, score_sum=score_sum, distribution=distribution)


def test_tally_from_sql_row_accepts_string_unsur() -> None:
    """A tally built from a GROUP BY row with a string code normalises it to the enum."""
    tally = UnsurTally(unsur="waktu", answers=2, score_sum=7, distribution=(0, 0, 1, 1))  # type: ignore[arg-type]
    assert tally.unsur is Unsur.WAKTU
    assert tally.nrr == Fraction(7, 2)
    with pytest.raises(IkmInputError, match="unknown unsur"):
        UnsurTally(unsur="maklumat", answers=0, score_sum=0, distribution=(0, 0, 0, 0))  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------- weakest unsur


def test_weakest_lists_all_ties_in_u_order() -> None:
    """When several unsur share the lowest exact NRR, all are weakest, in U1..U9 order."""
    distributions: list[Dist] = [(0, 0, 0, 2)] * 9
    distributions[6] = (0, 1, 1, 0)  # perilaku: NRR 2.5
    distributions[1] = (1, 0, 0, 1)  # prosedur: NRR 2.5
    distributions[3] = (0, 0, 1, 1)  # biaya: NRR 3.5
    result = compute_ikm(mixed(distributions), n_respondents=2)
    assert result.weakest == (Unsur.PROSEDUR, Unsur.PERILAKU)
    assert [r.unsur for r in result.ranked()[:3]] == [Unsur.PROSEDUR, Unsur.PERILAKU, Unsur.BIAYA]


def test_weakest_compares_exact_not_displayed_nrr() -> None:
    """Two NRRs equal at 3 places but different exactly are not tied (2.001 vs 2.00133…)."""
    distributions: list[Dist] = [(0, 0, 0, 3000)] * 9
    distributions[0] = (0, 2997, 3, 0)  # NRR 6003/3000 = 2.001
    distributions[1] = (0, 2996, 4, 0)  # NRR 6004/3000 = 2.00133.. → also "2.001"
    result = compute_ikm(mixed(distributions), n_respondents=3000)
    assert result.result_for(Unsur.PERSYARATAN).nrr_display == result.result_for(Unsur.PROSEDUR).nrr_display
    assert result.weakest == (Unsur.PERSYARATAN,)


# --------------------------------------------------------------------------------------------- sample size

KREJCIE_MORGAN_TABLE = [
    (10, 10), (15, 14), (20, 19), (25, 24), (30, 28), (35, 32), (40, 36), (45, 40), (50, 44), (55, 48),
    (60, 52), (65, 56), (70, 59), (75, 63), (80, 66), (85, 70), (90, 73), (95, 76), (100, 80), (110, 86),
    (120, 92), (130, 97), (140, 103), (150, 108), (160, 113), (170, 118), (180, 123), (190, 127), (200, 132),
    (210, 136), (220, 140), (230, 144), (240, 148), (250, 152), (260, 155), (270, 159), (280, 162),
    (290, 165), (300, 169), (320, 175), (340, 181), (360, 186), (380, 191), (400, 196), (420, 201),
    (440, 205), (460, 210), (480, 214), (500, 217), (550, 226), (600, 234), (650, 242), (700, 248),
    (750, 254), (800, 260), (850, 265), (900, 269), (950, 274), (1000, 278), (1100, 285), (1200, 291),
    (1300, 297), (1400, 302), (1500, 306), (1600, 310), (1700, 313), (1800, 317), (1900, 320), (2000, 322),
    (2200, 327), (2400, 331), (2600, 335), (2800, 338), (3000, 341), (3500, 346), (4000, 351), (4500, 354),
    (5000, 357), (6000, 361), (7000, 364), (8000, 367), (9000, 368), (10000, 370), (15000, 375),
    (20000, 377), (30000, 379), (40000, 380), (50000, 381), (75000, 382), (1000000, 384),
]  # fmt: skip


def test_krejcie_morgan_table_has_all_90_rows() -> None:
    """The test table is the complete published Krejcie–Morgan table (90 rows)."""
    assert len(KREJCIE_MORGAN_TABLE) == 90


@pytest.mark.parametrize(("population", "sample"), KREJCIE_MORGAN_TABLE)
def test_krejcie_morgan_reproduces_published_table(population: int, sample: int) -> None:
    """The formula rounded to the nearest integer reproduces every published row (100→80, 1000→278, …)."""
    assert krejcie_morgan(population) == sample


def test_krejcie_morgan_small_populations() -> None:
    """A population of one needs its single member; very small populations need (almost) everyone."""
    assert krejcie_morgan(1) == 1
    assert krejcie_morgan(5) == 5


@pytest.mark.parametrize("population", [0, -5, True])
def test_krejcie_morgan_rejects_non_positive(population: int) -> None:
    """Populations must be positive integers."""
    with pytest.raises(IkmInputError, match="population"):
        krejcie_morgan(population)


def test_sample_adequate() -> None:
    """n reaches the minimum exactly at the Krejcie–Morgan value."""
    assert sample_adequate(80, 100)
    assert not sample_adequate(79, 100)
    assert sample_adequate(384, 1_000_000)
    assert not sample_adequate(383, 1_000_000)
    with pytest.raises(IkmInputError):
        sample_adequate(-1, 100)


# --------------------------------------------------------------------------------------------- roll-ups


def test_mean_of_ikms_differs_from_pooled() -> None:
    """A small all-4 unit (100) and a larger 3.2 unit (80): mean of IKMs 90.00 A, pooled 83.33 B."""
    small = compute_ikm(uniform((0, 0, 0, 1)), n_respondents=1)
    large = compute_ikm(uniform((0, 0, 4, 1)), n_respondents=5)
    mean = mean_of_ikms([small, large])
    assert mean.ikm == 90
    assert mean.ikm_display == "90.00"
    assert mean.mutu is Mutu.A
    assert mean.kinerja == "Sangat Baik"
    assert mean.n_units == 2
    assert mean.n_respondents == 6
    assert mean.method is RollUpMethod.MEAN_OF_UNIT_IKMS
    assert mean.weight is Weight.EXACT
    pooled = compute_ikm(pool([small.tallies, large.tallies]), n_respondents=6)
    assert pooled.ikm == Fraction(250, 3)
    assert pooled.ikm_display == "83.33"
    assert pooled.mutu is Mutu.B


def test_mean_of_ikms_rejects_mixed_weights_and_empty_input() -> None:
    """Averaging needs at least one unit, all computed with one weight."""
    exact = compute_ikm(uniform((0, 0, 0, 1)), n_respondents=1)
    legacy = compute_ikm(uniform((0, 0, 0, 1)), n_respondents=1, weight=Weight.LEGACY_011)
    with pytest.raises(IkmInputError, match="different weights"):
        mean_of_ikms([exact, legacy])
    with pytest.raises(EmptyDataError):
        mean_of_ikms([])


def test_pool_sums_tallies_per_unsur() -> None:
    """pool() adds answers, sums and distributions per unsur and returns all nine in U order."""
    a = [UnsurTally.from_distribution(Unsur.WAKTU, (1, 0, 2, 0))]
    b = [UnsurTally.from_distribution(Unsur.WAKTU, (0, 1, 0, 3)), UnsurTally.empty(Unsur.BIAYA)]
    pooled = pool([a, b])
    assert [t.unsur for t in pooled] == list(UNSUR_ORDER)
    waktu = next(t for t in pooled if t.unsur is Unsur.WAKTU)
    assert waktu == UnsurTally(unsur=Unsur.WAKTU, answers=7, score_sum=21, distribution=(1, 1, 2, 3))
    assert all(t.answers == 0 for t in pooled if t.unsur is not Unsur.WAKTU)


def test_merging_different_unsur_rejected() -> None:
    """Tallies of two different unsur cannot be merged."""
    with pytest.raises(IkmInputError, match="cannot merge"):
        UnsurTally.empty(Unsur.WAKTU).merged(UnsurTally.empty(Unsur.BIAYA))


# --------------------------------------------------------------------------------------------- properties

distributions = st.tuples(*[st.integers(min_value=0, max_value=40)] * 4)
tally_sets = st.lists(distributions, min_size=9, max_size=9)
responses = st.lists(
    st.fixed_dictionaries({}, optional={u: st.one_of(st.none(), st.sampled_from(SCORES)) for u in UNSUR_ORDER}),
    max_size=15,
)


def _result(dists: list[Dist], weight: Weight = Weight.EXACT) -> IkmResult:
    tallies = mixed(dists)
    n = max(t.answers for t in tallies)
    assume(n > 0)
    return compute_ikm(tallies, n_respondents=n, weight=weight)


@PROPERTY_SETTINGS
@given(tally_sets, st.sampled_from(Weight))
def test_ikm_stays_in_range(dists: list[Dist], weight: Weight) -> None:
    """IKM lies in [25, 100] with exact 1/9, and in [25, 100] × 9w with a legacy weight w."""
    result = _result(dists, weight)
    factor = 9 * weight_value(weight)
    assert 25 * factor <= result.ikm <= 100 * factor
    if weight is Weight.EXACT:
        assert 25 <= result.ikm <= 100


@PROPERTY_SETTINGS
@given(tally_sets, tally_sets)
def test_mutu_is_monotone_in_ikm(first: list[Dist], second: list[Dist]) -> None:
    """A higher IKM never gets a worse mutu letter."""
    low, high = sorted((_result(first), _result(second)), key=lambda r: r.ikm)
    assert low.mutu.rank <= high.mutu.rank


@PROPERTY_SETTINGS
@given(
    st.fractions(min_value=25, max_value=100, max_denominator=10**6),
    st.fractions(min_value=25, max_value=100, max_denominator=10**6),
)
def test_classify_is_monotone(a: Fraction, b: Fraction) -> None:
    """classify_ikm is monotone on arbitrary exact values in [25, 100]."""
    low, high = sorted((a, b))
    assert classify_ikm(low).rank <= classify_ikm(high).rank


@PROPERTY_SETTINGS
@given(tally_sets)
def test_exact_ni_is_mean_of_answered_nrrs(dists: list[Dist]) -> None:
    """With weight 1/9, NI is the plain mean of the answered unsur's NRRs and IKM = NI × 25."""
    result = _result(dists)
    nrrs = [r.nrr for r in result.per_unsur if r.nrr is not None]
    assert result.ni == sum(nrrs, Fraction(0)) / len(nrrs)
    assert result.ikm == result.ni * 25
    assert result.mutu is classify_ikm(result.ikm)
    lowest = min(nrrs)
    assert result.weakest == tuple(r.unsur for r in result.per_unsur if r.nrr == lowest)


@PROPERTY_SETTINGS
@given(responses, responses)
def test_pooling_equals_tallying_everything(a: list[dict[Unsur, int | None]], b: list[dict[Unsur, int | None]]) -> None:
    """Pooling two units' tallies equals tallying all their responses together."""
    assert pool([tally_responses(a), tally_responses(b)]) == tally_responses(a + b)


@PROPERTY_SETTINGS
@given(st.integers(min_value=1, max_value=10**7), st.integers(min_value=1, max_value=10**7))
def test_krejcie_morgan_is_monotone_and_bounded(n1: int, n2: int) -> None:
    """The minimum sample never decreases with N, never exceeds N, and never exceeds 384."""
    small, large = sorted((n1, n2))
    assert krejcie_morgan(small) <= krejcie_morgan(large) <= 384
    assert krejcie_morgan(small) <= small


@PROPERTY_SETTINGS
@given(
    st.decimals(min_value=-1000, max_value=1000, places=6, allow_nan=False, allow_infinity=False),
    st.integers(0, 4),
)
def test_round_half_up_matches_decimal(value: Decimal, places: int) -> None:
    """round_half_up agrees with Decimal.quantize(ROUND_HALF_UP)."""
    expected = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    rounded = round_half_up(value, places)
    assert rounded == expected
    assert rounded.as_tuple().exponent == -places
