"""Reading paper or legacy IKM results from CSV: one row per respondent, one column per unsur code.

Columns: ``submitted_at`` and the nine unsur codes (``persyaratan`` … ``sarana``) are required; ``unit``,
``service``, ``gender``, ``age``, ``education``, ``occupation`` and ``saran`` are optional (Indonesian names
such as ``tanggal``, ``jenis_kelamin``, ``usia``, ``pendidikan``, ``pekerjaan``, ``layanan`` work too).
Spreadsheets with U1..U9 headers must say which column is which unsur (``U8=pengaduan,U9=sarana``), because
sources disagree on whether U8 is pengaduan or sarana (docs/ikm.md §2).

Every row gets an import key derived from its unit and content (and how many identical rows came before it
in the file), so importing the same file again stores nothing twice. Pure; no I/O.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from suarawarga.surveys.definitions import (
    UNSUR_ORDER,
    JenisKelamin,
    Pekerjaan,
    Pendidikan,
    Unsur,
    UsiaBand,
    usia_band,
)
from suarawarga.surveys.model import NewResponse, Profile, ResponseSource

__all__ = [
    "ImportFileError",
    "ParsedFile",
    "ParsedRow",
    "RowProblem",
    "parse_csv",
    "parse_mapping",
]

SUBMITTED_AT = "submitted_at"
UNIT = "unit"
SERVICE = "service"
SARAN = "saran"
GENDER = "gender"
AGE = "age"
EDUCATION = "education"
OCCUPATION = "occupation"
OPTIONAL_FIELDS = (UNIT, SERVICE, SARAN, GENDER, AGE, EDUCATION, OCCUPATION)
FIELDS = (SUBMITTED_AT, *(u.value for u in UNSUR_ORDER), *OPTIONAL_FIELDS)

ALIASES: Mapping[str, str] = {
    "tanggal": SUBMITTED_AT,
    "tanggal_survei": SUBMITTED_AT,
    "date": SUBMITTED_AT,
    "unit_code": UNIT,
    "kode_unit": UNIT,
    "layanan": SERVICE,
    "jenis_layanan": SERVICE,
    "jenis_kelamin": GENDER,
    "usia": AGE,
    "umur": AGE,
    "pendidikan": EDUCATION,
    "pekerjaan": OCCUPATION,
    "saran_masukan": SARAN,
}

GENDER_WORDS: Mapping[str, JenisKelamin] = {
    "l": JenisKelamin.L,
    "laki-laki": JenisKelamin.L,
    "laki laki": JenisKelamin.L,
    "pria": JenisKelamin.L,
    "m": JenisKelamin.L,
    "male": JenisKelamin.L,
    "p": JenisKelamin.P,
    "perempuan": JenisKelamin.P,
    "wanita": JenisKelamin.P,
    "f": JenisKelamin.P,
    "female": JenisKelamin.P,
}

SERVICE_MAX = 200
SARAN_MAX = 2000
_LABEL = re.compile(r"u[1-9]")
_DMY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ T](\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?)?")


class ImportFileError(ValueError):
    """A file (or mapping) that cannot be read at all: missing columns, unknown mapping targets."""


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A row that cannot be imported, with its line number in the file."""

    line: int
    message: str

    def __str__(self) -> str:
        """Return "line N: message"."""
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True, slots=True)
class ParsedRow:
    """A good row, ready to store."""

    line: int
    unit_code: str
    submitted_at: datetime
    answers: Mapping[Unsur, int | None]
    profile: Profile
    service: str | None
    saran: str | None
    import_key: str

    def to_response(self, unit_id: int) -> NewResponse:
        """Return the row as a response of the given unit."""
        return NewResponse(
            unit_id=unit_id,
            submitted_at=self.submitted_at,
            answers=self.answers,
            source=ResponseSource.IMPORT,
            service=self.service,
            profile=self.profile,
            saran=self.saran,
            import_key=self.import_key,
        )


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """The good rows and the problems of a file."""

    rows: list[ParsedRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


def _normalise_header(text: str) -> str:
    return re.sub(r"[\s-]+", "_", text.strip().lower())


def parse_mapping(text: str | None) -> dict[str, str]:
    """Parse ``U1=persyaratan,U2=prosedur,...`` into {normalised header: field}."""
    mapping: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        header, sep, target = part.partition("=")
        target = _normalise_header(target)
        target = ALIASES.get(target, target)
        if not sep or not header.strip():
            raise ImportFileError(f"mapping {part.strip()!r} must look like HEADER=FIELD, e.g. U1=persyaratan")
        if target not in FIELDS:
            raise ImportFileError(f"mapping {part.strip()!r}: unknown field {target!r}; use one of {FIELDS}")
        mapping[_normalise_header(header)] = target
    return mapping


def _columns(headers: list[str], mapping: Mapping[str, str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    unmapped_labels = []
    for index, raw in enumerate(headers):
        header = _normalise_header(raw)
        target = mapping.get(header) or ALIASES.get(header, header)
        if target in FIELDS:
            if target in columns:
                raise ImportFileError(f"two columns hold {target!r}: check the headers and --map")
            columns[target] = index
        elif _LABEL.fullmatch(header):
            unmapped_labels.append(raw.strip())
    if unmapped_labels:
        raise ImportFileError(
            f"columns {', '.join(unmapped_labels)} need a mapping such as "
            "--map U1=persyaratan,...,U8=pengaduan,U9=sarana (sources disagree on which unsur U8 and U9 are)"
        )
    missing = [f for f in (SUBMITTED_AT, *(u.value for u in UNSUR_ORDER)) if f not in columns]
    if missing:
        raise ImportFileError(f"missing column(s): {', '.join(missing)}")
    return columns


def _parse_time(text: str, tz: tzinfo) -> datetime:
    value = text.strip()
    match = _DMY.fullmatch(value)
    if match:
        day, month, year, hour, minute, second = match.groups()
        return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), tzinfo=tz)
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=tz) if parsed.tzinfo is None else parsed


def _score(unsur: Unsur, text: str) -> int | None:
    value = text.strip()
    if not value:
        return None
    if value in ("1", "2", "3", "4"):
        return int(value)
    if value.lower() in ("a", "b", "c", "d"):  # the questionnaire's option letters: a = 1 ... d = 4
        return "abcd".index(value.lower()) + 1
    try:
        float(value.replace(",", "."))
    except ValueError:
        raise ValueError(f"{unsur.value}: score {value!r} is not a number (write 1–4, or a–d)") from None
    raise ValueError(f"{unsur.value}: score {value!r} is outside 1–4")


def _enum_value(options: Mapping[str, object], text: str, name: str) -> object | None:
    value = text.strip().lower()
    if not value:
        return None
    if value not in options:
        raise ValueError(f"{name}: unknown value {text.strip()!r}; use one of {sorted(options)}")
    return options[value]


def _profile(values: Mapping[str, str]) -> Profile:
    gender = _enum_value(GENDER_WORDS, values.get(GENDER, ""), GENDER)
    age_text = values.get(AGE, "").strip()
    age: UsiaBand | None = None
    if age_text:
        if age_text.isdigit():
            age = usia_band(int(age_text))
        else:
            picked = _enum_value({b.value: b for b in UsiaBand}, age_text, AGE)
            age = picked if isinstance(picked, UsiaBand) else None
    education = _enum_value({e.value: e for e in Pendidikan}, values.get(EDUCATION, ""), EDUCATION)
    occupation = _enum_value({o.value: o for o in Pekerjaan}, values.get(OCCUPATION, ""), OCCUPATION)
    return Profile(
        gender=gender if isinstance(gender, JenisKelamin) else None,
        age_band=age,
        education=education if isinstance(education, Pendidikan) else None,
        occupation=occupation if isinstance(occupation, Pekerjaan) else None,
    )


def _text(values: Mapping[str, str], name: str, limit: int) -> str | None:
    text = " ".join(values.get(name, "").split())
    if len(text) > limit:
        raise ValueError(f"{name}: longer than {limit} characters")
    return text or None


def _content_key(row: ParsedRow) -> str:
    """Return the text that identifies a row's content (its unit, moment, answers and free texts)."""
    answers = ",".join("" if row.answers[u] is None else str(row.answers[u]) for u in UNSUR_ORDER)
    profile = ",".join(
        p.value if p is not None else ""
        for p in (row.profile.gender, row.profile.age_band, row.profile.education, row.profile.occupation)
    )
    return "\x1f".join(
        (row.unit_code, row.submitted_at.isoformat(), answers, profile, row.service or "", row.saran or "")
    )


def parse_csv(
    text: str,
    default_unit: str,
    known_units: set[str],
    tz: tzinfo,
    now: datetime,
    mapping: Mapping[str, str] | None = None,
) -> ParsedFile:
    """Check every row of a CSV text; return the good rows (with import keys) and the bad rows' problems.

    The delimiter (comma, semicolon or tab) is detected. A date without a time means local midnight in tz;
    a date after `now` is refused. Raises :class:`ImportFileError` when the header itself is unusable.
    """
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        headers = next(reader)
    except StopIteration:
        raise ImportFileError("the file is empty") from None
    columns = _columns(headers, mapping or {})
    if not default_unit and UNIT not in columns:
        raise ImportFileError("no unit column: pass --unit UNITCODE for the unit these rows are about")
    parsed = ParsedFile()
    seen: Counter[str] = Counter()
    line = reader.line_num
    while True:
        start_line = line + 1  # a quoted field may span lines: report where the row starts
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            parsed.problems.append(RowProblem(start_line, f"unreadable CSV: {exc}"))
            line = reader.line_num
            continue
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        values = {name: cells[index] if index < len(cells) else "" for name, index in columns.items()}
        try:
            row = _parse_row(start_line, values, default_unit, known_units, tz, now)
        except ValueError as exc:
            parsed.problems.append(RowProblem(start_line, str(exc)))
            continue
        content = _content_key(row)
        seen[content] += 1
        key = hashlib.sha256(f"{content}\x1f{seen[content]}".encode()).hexdigest()
        parsed.rows.append(dataclasses.replace(row, import_key=key))
    return parsed


def _parse_row(
    line: int,
    values: Mapping[str, str],
    default_unit: str,
    known_units: set[str],
    tz: tzinfo,
    now: datetime,
) -> ParsedRow:
    problems: list[str] = []
    unit_code = (values.get(UNIT, "").strip() or default_unit).upper()
    if not unit_code:
        problems.append("no unit: fill in the unit column, or pass --unit for the rows without one")
    elif unit_code not in known_units:
        problems.append(f"unknown unit {unit_code!r}")
    submitted_at = now
    raw_time = values.get(SUBMITTED_AT, "")
    try:
        submitted_at = _parse_time(raw_time, tz)
        if submitted_at > now:
            problems.append(f"submitted_at {raw_time.strip()!r} is in the future")
    except ValueError:
        problems.append(
            f"submitted_at {raw_time.strip()!r} is not a date (write 2026-10-05, 2026-10-05 09:30 or 05/10/2026)"
        )
    answers: dict[Unsur, int | None] = {}
    for unsur in UNSUR_ORDER:
        try:
            answers[unsur] = _score(unsur, values.get(unsur.value, ""))
        except ValueError as exc:
            problems.append(str(exc))
    if not problems and all(score is None for score in answers.values()):
        problems.append("no unsur answered")
    profile = Profile()
    service = saran = None
    try:
        profile = _profile(values)
        service = _text(values, SERVICE, SERVICE_MAX)
        saran = _text(values, SARAN, SARAN_MAX)
    except ValueError as exc:
        problems.append(str(exc))
    if problems:
        raise ValueError("; ".join(problems))
    return ParsedRow(line, unit_code, submitted_at, answers, profile, service, saran, "")
