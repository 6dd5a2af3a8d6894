"""`suarawarga audit` lists the views of confidential reporters made in the staff console, marked `web`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from suarawarga.bootstrap import build
from suarawarga.complaints import access
from suarawarga.complaints.model import IdentityMode, StaffRole
from suarawarga.config import load_settings
from tests.cli.support import prepare, run
from tests.jobs.support import officer
from tests.staffweb.support import filed


def test_audit_lists_web_views_next_to_chat_views(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """One view in chat, one in the console: both listed, newest first, the console's as channel `web`."""
    prepare(tmp_path, monkeypatch, capsys)

    async def views() -> str:
        app = build(load_settings())
        try:
            staff = await officer(app, "DPUPR", "petugas-1", StaffRole.OFFICER)
            complaint = await filed(app, identity=IdentityMode.RAHASIA, photo=False)
            async with app.uow() as uow:
                now = app.clock.now()
                await access.view_reporter(uow, staff, complaint, now, access.Face.CHAT)
                await access.view_reporter(uow, staff, complaint, now, access.Face.WEB)
                await uow.commit()
            return complaint.code
        finally:
            await app.aclose()

    code = asyncio.run(views())
    listed = run(capsys, "audit", "--format", "json")
    assert listed.code == 0, listed.err
    rows = json.loads(listed.out)
    assert sorted(r["channel"] for r in rows) == ["console", "web"]
    assert {r["complaint"] for r in rows} == {code}
    table = run(capsys, "audit")
    assert "(web)" in table.out and "2 identity view(s)" in table.out
