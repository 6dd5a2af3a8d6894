"""The duplicate matcher: distance, the SQL prefilter box, Indonesian address normalisation and its verdicts."""

from __future__ import annotations

import pytest
from benchmarks.duplicate_quality import load_pairs, precision_recall, score

from suarawarga.complaints.duplicates import (
    RADIUS_M,
    bounding_box,
    compare,
    haversine_m,
    normalise,
    parse_address,
    place_key,
    street_label,
)
from suarawarga.complaints.supporting import street_fits

MASJID_RAYA = (-0.92434, 100.36256)  # Masjid Raya Sumatera Barat, Jl. Khatib Sulaiman


def test_haversine_matches_known_distances() -> None:
    """One degree of latitude is about 111.2 km; a point is 0 m from itself; 0.001° of latitude is ~111 m."""
    assert haversine_m(0.0, 100.0, 1.0, 100.0) == pytest.approx(111_195, rel=1e-4)
    assert haversine_m(*MASJID_RAYA, *MASJID_RAYA) == 0.0
    assert haversine_m(-0.95, 100.35, -0.951, 100.35) == pytest.approx(111.2, abs=0.5)


def test_the_box_holds_every_point_of_the_circle_and_not_much_more() -> None:
    """Points at 150 m in every direction lie inside the box; its corners lie outside the circle."""
    lat, lon = MASJID_RAYA
    box = bounding_box(lat, lon)
    for dlat, dlon in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        step_lat = (box.north - lat) * 0.999 * dlat
        step_lon = (box.east - lon) * 0.999 * dlon
        assert box.contains(lat + step_lat, lon + step_lon)
        assert haversine_m(lat, lon, lat + step_lat, lon + step_lon) <= RADIUS_M
    assert haversine_m(lat, lon, box.north, box.east) > RADIUS_M
    assert haversine_m(lat, lon, box.north, lon) == pytest.approx(RADIUS_M, rel=1e-3)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Jl. Jend. Sudirman No.10", "jalan jend sudirman nomor 10"),
        ("JLN KHATIB SULAIMAN no 8, Padang", "jalan khatib sulaiman nomor 8 padang"),
        ("jl.hamka nmr 3 kota padang", "jalan hamka nomor 3"),
        ("Gg. Mawar RT03 Kel. Ulak Karang", "gang mawar rt 03 kelurahan ulak karang"),
        ("dpn mesjid raya, simp. haru", "depan masjid raya simpang haru"),
    ],
)
def test_normalise_unifies_indonesian_spellings(typed: str, expected: str) -> None:
    """jl./jln. → jalan, no./nmr → nomor, gg. → gang, case and punctuation gone, the city's name dropped."""
    assert normalise(typed) == expected


def test_titles_and_initials_do_not_make_another_street() -> None:
    """ "Jl. A. Yani" is "Jl. Ahmad Yani"; "Jl. Prof. Dr. Hamka" is "Jl. Hamka"; "Sulaeman" is a typo of "Sulaiman"."""
    assert compare(parse_address("Jl. A. Yani no.15"), parse_address("Jl. Ahmad Yani No. 17")).same
    assert compare(parse_address("Jl. Prof. Dr. Hamka"), parse_address("jl hamka")).same
    assert compare(parse_address("Jl. Khatib Sulaeman"), parse_address("Jl. Khatib Sulaiman")).same


@pytest.mark.parametrize(
    ("a", "b", "reason"),
    [
        ("Jl. Veteran", "Jl. Veteran Dalam", "jalan"),
        ("Jl. Sudirman No. 5", "Jl. Sudirman No. 98", "nomor"),
        ("Jl. By Pass Km 7", "Jl. By Pass Km 15", "km"),
        ("Jl. Rasuna Said RT 02", "Jl. Rasuna Said RT 05", "rt"),
        ("Gg. Mawar", "Gg. Melati", "gang"),
        ("Jl. Sudirman depan Kantor Gubernur", "Jl. Sudirman dekat Masjid Raya", "patokan"),
    ],
)
def test_each_not_the_same_names_the_part_that_differs(a: str, b: str, reason: str) -> None:
    """The verdict is explainable: the part that tells the two places apart is named."""
    verdict = compare(parse_address(a), parse_address(b))
    assert not verdict.same
    assert verdict.reason == reason


def test_a_different_kelurahan_is_another_place() -> None:
    """The same street name in two kelurahan (the seed's names) is two places."""
    names = ["Ulak Karang Utara", "Ulak Karang Selatan"]
    a = parse_address("Jl. Ulak Karang, Kel. Ulak Karang Selatan", names)
    b = parse_address("Jl. Ulak Karang, Kel. Ulak Karang Utara", names)
    assert (a.kelurahan, b.kelurahan) == ("ulak karang selatan", "ulak karang utara")
    assert compare(a, b).reason == "kelurahan"


def test_a_street_label_never_carries_a_number_or_a_person() -> None:
    """Shown to other citizens: the street only, never the house number or "rumah Pak Budi"."""
    assert street_label(parse_address("Jl. Sudirman No. 10")) == "Jl. Sudirman"
    assert street_label(parse_address("Jl. Damar rumah Pak Budi no 21")) == "Jl. Damar"
    assert street_label(parse_address("jalan olo ladang dekat warung bu ani")) == "Jl. Olo Ladang"
    assert street_label(parse_address("dekat masjid")) is None
    assert street_label(parse_address("jl jend sudirman no 3")) == "Jl. Jend. Sudirman"
    assert street_label(parse_address("Jl. A. Yani")) == "Jl. A. Yani"
    assert street_label(parse_address("jalan purus iii")) == "Jl. Purus III"


def test_the_labelled_padang_pairs_meet_the_quality_target() -> None:
    """On the labelled pairs (at least 60, both kinds): precision ≥ 0.95 at recall ≥ 0.8, as measured."""
    pairs = load_pairs()
    assert len(pairs) >= 60
    assert {bool(p["same"]) for p in pairs} == {True, False}
    precision, recall, *_ = precision_recall(score(pairs))
    assert precision >= 0.95
    assert recall >= 0.8


def test_the_street_key_prefilter_never_drops_a_match() -> None:
    """Every pair `compare` calls the same passes the look-up's key filter, both ways round."""
    checked = 0
    for pair in load_pairs():
        for mine, theirs in ((pair["a"], pair["b"]), (pair["b"], pair["a"])):
            if compare(parse_address(mine), parse_address(theirs)).same:
                key = place_key(theirs)
                assert key is None or street_fits(parse_address(mine), key), (mine, theirs)
                checked += 1
    assert checked >= 60
