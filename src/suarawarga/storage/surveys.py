"""The port of IKM survey responses and their daily and monthly roll-up.

No SQLAlchemy here: the SQL implementation is in `survey_sql.py`; a test or a fake may implement these too.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime
from typing import Protocol

from suarawarga.surveys.definitions import ProfileField
from suarawarga.surveys.model import NewResponse, StoredResponse, UnitTallies


class SurveyRepository(Protocol):
    """IKM survey responses and their daily and monthly roll-up."""

    async def add(self, response: NewResponse) -> int:
        """Store one response (and its roll-up counts) and return its id."""
        ...

    async def add_many(self, responses: Sequence[NewResponse]) -> None:
        """Store many responses in one executemany, and their roll-up counts."""
        ...

    async def existing_import_keys(self, keys: Iterable[str]) -> set[str]:
        """Return which of the import keys are already stored."""
        ...

    async def count_since(self, citizen_id: int, unit_id: int, since: datetime) -> int:
        """Return how many responses a citizen gave for a unit since a moment."""
        ...

    async def tallies(
        self, start: datetime, end: datetime, unit_ids: Collection[int] | None = None
    ) -> list[UnitTallies]:
        """Return, per unit with responses in [start, end), its respondents and per-unsur score counts.

        Whole city-local days are summed from the roll-up (whole months from the monthly one); other bounds scan
        the answers.
        """
        ...

    async def daily_tallies(
        self, first: date, after: date, unit_ids: Collection[int] | None = None
    ) -> list[UnitTallies]:
        """Return the roll-up's tallies per unit for the local days first <= day < after (whole months by month)."""
        ...

    async def scan_tallies(
        self, start: datetime, end: datetime, unit_ids: Collection[int] | None = None
    ) -> list[UnitTallies]:
        """Return the tallies per unit computed from the answers themselves (no roll-up)."""
        ...

    def day_bounds(self, day: date) -> tuple[datetime, datetime]:
        """Return the moments a city-local day starts and the next one starts."""
        ...

    async def replace_daily(self, day: date, tallies: Sequence[UnitTallies]) -> None:
        """Rewrite one day's roll-up rows from the given tallies, and its month's from its days (the repair)."""
        ...

    async def month_differences(self, month: date) -> list[tuple[int, int, int]]:
        """Return (unit, respondents in the month's row, respondents in its days) where the month's counts differ."""
        ...

    async def rebuild_month(self, month: date) -> None:
        """Rewrite a month's rows as the sum of its days' rows."""
        ...

    async def responses(
        self, start: datetime, end: datetime, unit_ids: Collection[int] | None = None
    ) -> list[StoredResponse]:
        """Return the responses in [start, end), oldest first (for the per-respondent sheet)."""
        ...

    async def profile_counts(
        self, start: datetime, end: datetime, unit_ids: Collection[int] | None = None
    ) -> dict[ProfileField, dict[str | None, int]]:
        """Return, per profile question, how many respondents gave each answer (None = not answered)."""
        ...

    async def for_citizen(self, citizen_id: int) -> list[StoredResponse]:
        """Return a citizen's questionnaires, oldest first (what `dataku` shows)."""
        ...

    async def count_for_citizen(self, citizen_id: int) -> int:
        """Return how many questionnaires a citizen gave."""
        ...

    async def unlink_citizen(self, citizen_id: int) -> int:
        """Detach a citizen's questionnaires from them (scores stay for the IKM) and return how many.

        The free-text saran goes too: it is the one field that may name or describe the citizen.
        """
        ...

    async def count(self) -> int:
        """Return how many responses are stored."""
        ...
