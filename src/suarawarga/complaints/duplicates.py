"""Is this the same place? Distance between shared points, and the likeness of two typed Padang addresses.

Deterministic and explainable (docs/complaints.md §7): two shared points are the same place within RADIUS_M
metres (haversine); two typed addresses are compared part by part after Indonesian normalisation (jl./jln. →
jalan, no. → nomor, titles and initials dropped from street names), and every "not the same" names the part
that differs. No I/O here.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz

from suarawarga.complaints.model import Area

RADIUS_M = 150.0
MAX_SHOWN = 3
EARTH_RADIUS_M = 6_371_008.8  # the mean Earth radius (IUGG)
HOUSE_NUMBERS_APART = 20  # house numbers further apart than this are different stretches of a street
STREET_TYPO_RATIO = 85.0  # rapidfuzz ratio from which two street names are one name mistyped
LANDMARK_RATIO = 75.0  # token-set ratio from which two landmarks ("depan Masjid Raya") are the same one
WORDS_RATIO = 90.0  # token-set ratio of two street-less addresses from which they are the same place


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle distance between two points in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def bounding_box(lat: float, lon: float, radius_m: float = RADIUS_M) -> Area:
    """Return a rectangle of degrees that holds every point within `radius_m` of (lat, lon) (a SQL prefilter)."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    dlon = math.degrees(radius_m / (EARTH_RADIUS_M * max(math.cos(math.radians(lat)), 1e-6)))
    return Area(lat - dlat, lon - dlon, lat + dlat, lon + dlon)


# --- normalisation -------------------------------------------------------------------------------------------

_SPELLINGS = {
    "jl": "jalan",
    "jln": "jalan",
    "jaln": "jalan",
    "jalan": "jalan",
    "no": "nomor",
    "nmr": "nomor",
    "nomer": "nomor",
    "nomor": "nomor",
    "gg": "gang",
    "gn": "gunung",
    "btg": "batang",
    "kel": "kelurahan",
    "kec": "kecamatan",
    "simp": "simpang",
    "smpg": "simpang",
    "spg": "simpang",
    "psr": "pasar",
    "mesjid": "masjid",
    "msjd": "masjid",
    "mushola": "musala",
    "musholla": "musala",
    "mushala": "musala",
    "sdn": "sd",
    "smpn": "smp",
    "sman": "sma",
    "dpn": "depan",
    "dkt": "dekat",
    "dkat": "dekat",
    "sblh": "sebelah",
    "sbl": "sebelah",
    "samping": "samping",
    "smping": "samping",
    "komp": "komplek",
    "kompleks": "komplek",
    "perum": "perumahan",
    "jemb": "jembatan",
    "kantor": "kantor",
    "kt": "kantor",
}
_TITLES = frozenset({"jend", "jenderal", "jendral", "prof", "dr", "drs", "ir", "h", "hj", "kh", "st", "mr", "sutan"})
# Dropped from street names: "Jl. Raya Lubuk Minturun" is "Jl. Lubuk Minturun"; "By Pass" is written both ways.
_GENERIC = frozenset({"raya"})
# Words that make another street of a similar name: "Jl. Veteran Dalam" is not "Jl. Veteran".
_DISTINGUISHING = frozenset(
    {"dalam", "ujung", "baru", "lama", "timur", "barat", "utara", "selatan", "i", "ii", "iii", "iv", "v"}
)
_LANDMARK_WORDS = frozenset({"depan", "dekat", "samping", "sebelah", "seberang", "belakang", "simpang", "persis"})
_STOP = frozenset(
    {
        "nomor",
        "rt",
        "rw",
        "km",
        "gang",
        "kelurahan",
        "kecamatan",
        "di",
        "ke",
        "dan",
        "yang",
        "arah",
        "sekitar",
        "kota",
        "padang",
        "komplek",
        "perumahan",
        "blok",
        ",",
        # Words after which a street's name has ended and something about a person may follow: a street label
        # is shown to other citizens, so it must never carry "rumah Pak Budi".
        "rumah",
        "pak",
        "bapak",
        "bu",
        "ibu",
        "toko",
        "warung",
        "kos",
        "kost",
        "milik",
        "punya",
    }
    | _LANDMARK_WORDS
)
STREET_WORDS_MAX = 4
_FILLER = frozenset({"di", "ke", "dan", "yang", "arah", "sekitar", "ada", "pas", "tepat", "persis", "sini", "itu"})
_CITY_TAIL = re.compile(r"\b(?:kota padang|sumatera barat|sumatra barat|sumbar)\b")
_SPLIT_DIGITS = re.compile(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])")
_NOT_WORD = re.compile(r"[^\w]+|_")
_SEGMENTS = re.compile(r"[,;\n]+")


def _tokens(segment: str) -> list[str]:
    text = _CITY_TAIL.sub(" ", segment.casefold())
    text = text.replace("by pass", "bypass").replace("by-pass", "bypass")
    text = _SPLIT_DIGITS.sub(" ", _NOT_WORD.sub(" ", text))
    return [_SPELLINGS.get(word, word) for word in text.split()]


def normalise(text: str) -> str:
    """Return an address in the compared form: lower case, no punctuation, common spellings unified."""
    return " ".join(word for segment in _SEGMENTS.split(text) for word in _tokens(segment))


@dataclass(frozen=True, slots=True)
class Address:
    """The parts of a typed address that tell places apart."""

    text: str  # normalised
    street: tuple[str, ...] = ()  # the street's name words, titles and initials dropped ("sudirman")
    street_words: tuple[str, ...] = ()  # the name as typed (normalised), for a label ("jend sudirman")
    lane: tuple[str, ...] = ()  # a gang's name
    number: int | None = None
    km: int | None = None
    rt: int | None = None
    landmark: tuple[str, ...] = ()  # what follows depan/dekat/samping/...: "masjid raya ganting"
    kelurahan: str | None = None
    words: tuple[str, ...] = ()  # every meaningful word, for addresses without a street


def _run(tokens: list[str], start: int) -> list[str]:
    """Return the words from `start` up to a stop word or a number."""
    words: list[str] = []
    for word in tokens[start:]:
        if word in _STOP or word.isdigit() or word == "jalan" or len(words) == STREET_WORDS_MAX:
            break
        words.append(word)
    return words


def _number_after(tokens: list[str], marker: str) -> int | None:
    for i, word in enumerate(tokens[:-1]):
        if word == marker and tokens[i + 1].isdigit() and len(tokens[i + 1]) <= 5:
            return int(tokens[i + 1])
    return None


@functools.lru_cache(maxsize=64)
def _normalised_names(names: tuple[str, ...]) -> tuple[str, ...]:
    """Return kelurahan names in the compared form, padded for whole-word search (a look-up parses many)."""
    return tuple(f" {n} " for n in (normalise(name) for name in names) if n)


def _kelurahan(text: str, names: Iterable[str]) -> str | None:
    """Return the longest kelurahan name found in the normalised text (the seed's names)."""
    padded = f" {text} "
    found = [n for n in _normalised_names(tuple(names)) if n in padded]
    return max(found, key=len).strip() if found else None


def parse_address(text: str, kelurahan_names: Iterable[str] = ()) -> Address:
    """Split a typed address into street, lane, house number, km, RT, landmark and kelurahan."""
    tokens = [word for segment in _SEGMENTS.split(text) for word in (*_tokens(segment), ",")]
    street_words: list[str] = []
    lane: list[str] = []
    landmark: list[str] = []
    for i, word in enumerate(tokens):
        if word == "jalan" and not street_words:
            street_words = _run(tokens, i + 1)
        elif word == "gang" and not lane:
            lane = _run(tokens, i + 1)
        elif word in _LANDMARK_WORDS and not landmark:
            after = _run(tokens, i + 1)
            landmark = ([word] if word == "simpang" else []) + after
    plain = [w for w in tokens if w != ","]
    # The kelurahan is looked for outside the street's name: "Jl. Andalas" lies in Kubu Dalam, not in Andalas.
    rest = " ".join(plain).replace(" ".join(["jalan", *street_words]), " ", 1) if street_words else " ".join(plain)
    street = tuple(w for w in street_words if w not in _TITLES and w not in _GENERIC and len(w) > 1)
    normal = " ".join(plain)
    words = tuple(
        w for w in plain if w not in _FILLER and w not in _STOP and w not in {"jalan", "nomor"} and not w.isdigit()
    )
    return Address(
        text=normal,
        street=street,
        street_words=tuple(street_words),
        lane=tuple(lane),
        number=_number_after(plain, "nomor"),
        km=_number_after(plain, "km"),
        rt=_number_after(plain, "rt"),
        landmark=tuple(w for w in landmark if w not in _FILLER),
        kelurahan=_kelurahan(" ".join(rest.split()), kelurahan_names),
        words=words,
    )


# --- comparison ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether two addresses are the same place, and why (the part that decided)."""

    same: bool
    reason: str


def same_street(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Tell whether two street names (titles and initials dropped) name one street, allowing for a typo."""
    if not a or not b:
        return False
    if a == b:
        return True
    small, large = (set(a), set(b)) if len(set(a)) <= len(set(b)) else (set(b), set(a))
    if small < large:  # "yani" in "ahmad yani"; but "veteran" is not "veteran dalam"
        return not (large - small) & _DISTINGUISHING and any(len(w) >= 4 for w in small)
    if (set(a) ^ set(b)) & _DISTINGUISHING:
        return False
    return fuzz.ratio(" ".join(a), " ".join(b)) >= STREET_TYPO_RATIO


def compare(a: Address, b: Address) -> Verdict:
    """Decide whether two addresses of the same category and kecamatan are the same place."""
    if a.kelurahan and b.kelurahan and a.kelurahan != b.kelurahan:
        return Verdict(False, "kelurahan")
    if a.rt is not None and b.rt is not None and a.rt != b.rt:
        return Verdict(False, "rt")
    if a.lane and b.lane and not same_street(a.lane, b.lane):
        return Verdict(False, "gang")
    if a.number is not None and b.number is not None and abs(a.number - b.number) > HOUSE_NUMBERS_APART:
        return Verdict(False, "nomor")
    if a.km is not None and b.km is not None and abs(a.km - b.km) > 1:
        return Verdict(False, "km")
    landmarks = bool(a.landmark and b.landmark)
    if landmarks and fuzz.token_set_ratio(" ".join(a.landmark), " ".join(b.landmark)) < LANDMARK_RATIO:
        return Verdict(False, "patokan")
    if a.street and b.street:
        return Verdict(True, "jalan") if same_street(a.street, b.street) else Verdict(False, "jalan")
    if landmarks:
        return Verdict(True, "patokan")
    if a.street or b.street:
        # One names a street, the other only places: the same when the other's words hold that street's name.
        named, other = (a, b) if a.street else (b, a)
        inside = same_street(named.street, tuple(w for w in other.words if w in named.street))
        return Verdict(inside, "jalan")
    shared = set(a.words) & set(b.words)
    likeness = fuzz.token_set_ratio(" ".join(a.words), " ".join(b.words))
    return Verdict(len(shared) >= 2 and likeness >= WORDS_RATIO, "kata")


PLACE_KEY_MAX = 120


def place_key(text: str | None) -> str | None:
    """Return the stored key of a typed address: its street's name words (None without a street).

    The look-up compares the few distinct keys of a kecamatan first and parses only the addresses whose key can
    match, which gives the same verdicts as comparing every address (docs/complaints.md §7).
    """
    street = parse_address(text).street if text else ()
    return " ".join(street)[:PLACE_KEY_MAX] or None


def _label_word(word: str) -> str:
    """Return a street-name word as written on a sign: "Jend.", "Dr.", "A." for titles and initials."""
    if word in _TITLES or len(word) == 1:
        return word.capitalize() + "."
    return word.upper() if word in {"ii", "iii", "iv"} else word.capitalize()


def street_label(address: Address) -> str | None:
    """Return the street (or lane) of an address as a citizen may be shown it: "Jl. Jend Sudirman", no number."""
    if address.street_words:
        return "Jl. " + " ".join(_label_word(w) for w in address.street_words)
    if address.lane:
        return "Gg. " + " ".join(w.capitalize() for w in address.lane)
    return None
