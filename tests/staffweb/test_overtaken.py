"""Two officers acting on one complaint at the same moment: the database lets one action through (chat and web)."""

from __future__ import annotations

import pytest

from suarawarga.bootstrap import App
from suarawarga.complaints import access, handling
from suarawarga.complaints.model import ComplaintStatus, EventKind, StaffRole
from tests.jobs.support import officer
from tests.staffweb.support import filed


@pytest.mark.parametrize("second", ["accept", "transfer", "resolve"])
async def test_an_action_on_a_complaint_changed_since_it_was_read_is_refused(app: App, second: str) -> None:
    """Both read the complaint as new; the first accepts and commits; the second action raises Overtaken."""
    complaint = await filed(app, photo=False)
    first_officer = await officer(app, "DPUPR", "petugas-1")
    second_officer = await officer(app, "DPUPR", "kepala-1", StaffRole.HEAD)
    now = app.clock.now()
    async with app.uow() as first, app.uow() as late:
        _, seen_first = await access.authorise(first, [first_officer], complaint.code)
        _, seen_late = await access.authorise(late, [second_officer], complaint.code)
        await handling.accept(first, first_officer, seen_first, now)
        await first.commit()
        dishub = await late.units.by_code("DISHUB")
        actions = {
            "accept": lambda: handling.accept(late, second_officer, seen_late, now),
            "transfer": lambda: handling.transfer(late, second_officer, seen_late, dishub, "Bukan wewenang", now),
            "resolve": lambda: handling.resolve(late, second_officer, seen_late, "Sudah ditambal", (), now),
        }
        with pytest.raises(handling.Overtaken) as refused:
            await actions[second]()
        assert refused.value.status is ComplaintStatus.DIPROSES  # what the complaint is now, for the message
    async with app.uow() as uow:
        stored = await uow.complaints.by_code(complaint.code)
        assert stored is not None
        kinds = [e.kind for e in await uow.complaints.history(stored.id)]
    assert stored.status is ComplaintStatus.DIPROSES and stored.unit_id == complaint.unit_id
    assert kinds.count(EventKind.ACCEPTED) == 1
    assert EventKind.TRANSFERRED not in kinds and EventKind.RESOLVED not in kinds
