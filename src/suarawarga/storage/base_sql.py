"""What every SQL repository shares: the tables as Core objects, the dialect's upsert and the repository base."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Executable, String, Table, TextClause, bindparam, insert, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from suarawarga.storage.orm.base import AwareDateTime, Base
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


def upsert_text(
    table: Table,
    columns: Sequence[str],
    conflict: Sequence[str],
    update: Mapping[str, str] | None = None,
    returning: Sequence[str] = (),
) -> Executable:
    """Return INSERT ... ON CONFLICT as a text statement that SQLAlchemy compiles once, typed by the table's columns.

    For the statements every chat turn runs: SQLAlchemy 2.0 gives a dialect INSERT with an ON CONFLICT clause no
    cache key, so it compiles it again at each execution (0.1-0.4 ms of CPU measured for the conversation upsert).
    PostgreSQL and SQLite share this syntax. `update` maps a column to its new value's SQL (`excluded.<column>` is
    the row offered); without it a conflict does nothing. With `returning`, execute it with one row at a time
    (SQLAlchemy batches several rows with RETURNING only for its own INSERT constructs).
    """
    sql = upsert_sql(table, columns, conflict, update, returning)
    stmt = text(sql).bindparams(*(bindparam(c, type_=table.c[c].type) for c in columns))
    return stmt.columns(*(table.c[c] for c in returning)) if returning else stmt


def upsert_sql(
    table: Table,
    columns: Sequence[str],
    conflict: Sequence[str],
    update: Mapping[str, str] | None = None,
    returning: Sequence[str] = (),
) -> str:
    """Return the SQL of `upsert_text` (a value `:column` for each column), for a statement built around it."""
    for name in (*columns, *conflict, *(update or {}), *returning):
        table.c[name]  # only a column of the table (a KeyError otherwise)
    # Names come from the table's own columns (checked above) and `update` from the repositories' code, never from
    # input; every value is a bound parameter.
    names, params = ", ".join(columns), ", ".join(f":{c}" for c in columns)
    into = f"INSERT INTO {table.name} ({names}) VALUES ({params})"  # noqa: S608
    action = f"DO UPDATE SET {', '.join(f'{c} = {v}' for c, v in update.items())}" if update else "DO NOTHING"
    return f"{into} ON CONFLICT ({', '.join(conflict)}) {action}" + (
        f" RETURNING {', '.join(returning)}" if returning else ""
    )


class SqlRepo:
    """A repository on one connection (it never commits: the unit of work's owner does)."""

    def __init__(self, conn: AsyncConnection) -> None:
        """Work on `conn`."""
        self.conn = conn


@dataclass(frozen=True, slots=True)
class BatchInsert:
    """A batch INSERT: on PostgreSQL every row as one JSON array (see `json_insert`), elsewhere executemany."""

    statement: TextClause
    json_columns: tuple[str, ...]  # columns of type JSON: each value goes as its own JSON text
    time_columns: tuple[str, ...]  # timestamps: each goes as ISO 8601 text, and must be timezone-aware
    each: Executable  # the same, one row at a time (executemany): SQLite, the local console's database

    async def run(self, conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
        """Insert the rows (converted in place on PostgreSQL); nothing to do for none."""
        if not rows:
            return
        if conn.dialect.name == "postgresql":
            await conn.execute(self.statement, self.params(rows))
        else:
            await conn.execute(self.each, rows)

    def params(self, rows: Sequence[dict[str, Any]]) -> dict[str, str]:
        """Return the statement's one parameter, the rows as a JSON array (the rows' values are converted in place).

        A JSON column's value is sent as its JSON text, cast back by the statement: PostgreSQL stores that text
        as an executemany would send it (json_to_recordset refuses a nested "\\u0000" that `json` keeps).
        """
        dumps = json.dumps
        times: dict[datetime, str] = {}  # a batch's rows mostly share one time: converted once
        for row in rows:
            for name in self.json_columns:
                row[name] = dumps(row[name])
            for name in self.time_columns:
                value = row[name]
                if value is not None:
                    iso = times.get(value)
                    row[name] = iso if iso is not None else times.setdefault(value, _aware_iso(value))
        return {"rows": dumps(rows)}


def json_insert(
    table: Table, columns: Sequence[str], conflict: Sequence[str] = (), update: Mapping[str, str] | None = None
) -> BatchInsert:
    """Return an INSERT of a batch: on PostgreSQL every row given as one JSON array (`BatchInsert.params`).

    For the batches every chat turn writes (states, processed ids, replies): executemany costs the client about
    48 µs per row through SQLAlchemy and psycopg, this statement about 10 (measured with 95 rows, docs/
    architecture.md §3). Each row's fields are typed by the table's columns, so PostgreSQL converts and checks them
    as for a row given alone (a too long id is refused, not cut). `conflict` and `update` as in `upsert_text`;
    a batch must not hold one key twice.
    """
    for name in (*columns, *conflict, *(update or {})):
        table.c[name]  # only a column of the table (a KeyError otherwise)
    # Names and types come from the table's own columns (checked above) and `update` from the repositories' code,
    # never from input; the rows are one bound parameter.
    dialect = postgresql.psycopg.dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves it untyped
    json_columns = tuple(c for c in columns if isinstance(table.c[c].type, JSON))
    time_columns = tuple(c for c in columns if isinstance(table.c[c].type, AwareDateTime))
    fields = ", ".join(
        f"{c} {'text' if c in json_columns else table.c[c].type.compile(dialect=dialect)}" for c in columns
    )
    values = ", ".join(f"CAST({c} AS json)" if c in json_columns else c for c in columns)
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT {values} FROM json_to_recordset(CAST(:rows AS json)) AS x({fields})"  # noqa: S608,E501
    if conflict:
        action = f"DO UPDATE SET {', '.join(f'{c} = {v}' for c, v in update.items())}" if update else "DO NOTHING"
        sql += f" ON CONFLICT ({', '.join(conflict)}) {action}"
    each = upsert_text(table, columns, conflict, update) if conflict else insert(table)
    return BatchInsert(text(sql).bindparams(bindparam("rows", type_=String())), json_columns, time_columns, each)


def _aware_iso(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime given to an aware column")
    return value.isoformat()
