"""The notice kind of an outbox payload, as older and newer versions stored it."""

from __future__ import annotations

import pytest

from suarawarga.bot.messages import NoticeKind, notice_kind


def test_older_rows_and_unknown_kinds_are_read_without_failing(caplog: pytest.LogCaptureFixture) -> None:
    """ "template" (before NoticeKind) is still read; a kind this version does not know is a reply, with a warning."""
    assert notice_kind({"template": "digest"}) is NoticeKind.DIGEST
    assert notice_kind({"notice": "complaint_update"}) is NoticeKind.COMPLAINT_UPDATE
    assert notice_kind({}) is None
    assert notice_kind({"notice": "from_a_newer_version"}) is None
    assert "unknown notice kind" in caplog.text
