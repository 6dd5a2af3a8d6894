"""Helpers for the survey tests: random questionnaires stored through the repository, kept for comparison."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from suarawarga.bootstrap import App
from suarawarga.surveys.definitions import UNSUR_ORDER, JenisKelamin, Pendidikan, Unsur, UsiaBand
from suarawarga.surveys.model import NewResponse, Profile, ResponseSource


@dataclass(frozen=True, slots=True)
class Made:
    """A questionnaire as the test made it (unit code, moment, answers by unsur)."""

    unit: str
    at: datetime
    answers: dict[Unsur, int | None]


def random_answers(rnd: random.Random, skip_chance: float = 0.1) -> dict[Unsur, int | None]:
    """Return nine scores leaning towards 3 and 4, some skipped, at least one answered."""
    answers: dict[Unsur, int | None] = {
        u: None if rnd.random() < skip_chance else rnd.choice((1, 2, 2, 3, 3, 3, 4, 4, 4, 4)) for u in UNSUR_ORDER
    }
    if all(v is None for v in answers.values()):
        answers[UNSUR_ORDER[0]] = 3
    return answers


async def store(app: App, made: list[Made], saran_every: int = 0) -> None:
    """Store the questionnaires (with a varied profile) in one transaction."""
    async with app.uow() as uow:
        ids = {}
        for code in {m.unit for m in made}:
            unit = await uow.units.by_code(code)
            assert unit is not None, code
            ids[code] = unit.id
        responses = [
            NewResponse(
                unit_id=ids[m.unit],
                submitted_at=m.at,
                answers=m.answers,
                source=ResponseSource.IMPORT,
                service="KTP",
                profile=Profile(
                    gender=(JenisKelamin.L, JenisKelamin.P, None)[index % 3],
                    age_band=(UsiaBand.UNDER_25, UsiaBand.OVER_55)[index % 2],
                    education=Pendidikan.SMA if index % 4 else None,
                ),
                saran=f"saran {index}" if saran_every and index % saran_every == 0 else None,
            )
            for index, m in enumerate(made)
        ]
        await uow.surveys.add_many(responses)
        await uow.commit()


def spread(rnd: random.Random, units: list[str], count: int, start: datetime, days: int) -> list[Made]:
    """Return `count` random questionnaires over `days` days from `start`, spread over the units."""
    return [
        Made(
            rnd.choice(units),
            start + timedelta(seconds=rnd.randrange(days * 86400)),
            random_answers(rnd),
        )
        for _ in range(count)
    ]
