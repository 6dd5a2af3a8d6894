"""What every SQL repository shares: the tables as Core objects, the dialect's upsert and the repository base."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from suarawarga.storage.orm.base import Base
from suarawarga.storage.orm.bookkeeping import AppSecretRow, IdentityViewRow, JobMarkRow, LookupFailureRow
from suarawarga.storage.orm.citizens import ChannelIdentityRow, CitizenRow, ConsentRow
from suarawarga.storage.orm.complaints import AttachmentRow, ComplaintEventRow, ComplaintRow, RatingRow
from suarawarga.storage.orm.messaging import ChatActivityRow, ConversationRow, InboxRow, OutboxRow, ProcessedInboundRow
from suarawarga.storage.orm.staff import StaffEventRow, StaffInviteRow, StaffMemberRow, UnitChatRow
from suarawarga.storage.orm.units import CategoryRow, CityAreaRow, CityRow, PlaceNameRow, UnitRow


def _table(model: type[Base]) -> Table:
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(model)
    return table


UNITS = _table(UnitRow)


CITY = _table(CityRow)


CATEGORIES = _table(CategoryRow)


CITIZENS = _table(CitizenRow)


IDENTITIES = _table(ChannelIdentityRow)


CONVERSATIONS = _table(ConversationRow)


PROCESSED = _table(ProcessedInboundRow)


COMPLAINTS = _table(ComplaintRow)


EVENTS = _table(ComplaintEventRow)


ATTACHMENTS = _table(AttachmentRow)


OUTBOX = _table(OutboxRow)


ACTIVITY = _table(ChatActivityRow)


INBOX = _table(InboxRow)


STAFF = _table(StaffMemberRow)


INVITES = _table(StaffInviteRow)


UNIT_CHATS = _table(UnitChatRow)


JOB_MARKS = _table(JobMarkRow)


IDENTITY_VIEWS = _table(IdentityViewRow)


RATINGS = _table(RatingRow)


PLACES = _table(PlaceNameRow)


CITY_AREA = _table(CityAreaRow)


CONSENTS = _table(ConsentRow)


STAFF_EVENTS = _table(StaffEventRow)


LOOKUP_FAILURES = _table(LookupFailureRow)


APP_SECRETS = _table(AppSecretRow)


def upsert(conn: AsyncConnection, table: Any) -> Any:
    """Return an INSERT that can take ON CONFLICT clauses for this connection's dialect."""
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


class SqlRepo:
    """A repository on one connection (it never commits: the unit of work's owner does)."""

    def __init__(self, conn: AsyncConnection) -> None:
        """Work on `conn`."""
        self.conn = conn
