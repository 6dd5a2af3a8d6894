"""Declarative SQLAlchemy 2 models: the schema that Alembic migrations must reproduce; every model is `<Thing>Row`.

One module per aggregate; importing the package registers every table on ``Base.metadata`` (Alembic and the
repositories need them all), and every table class is re-exported here.
"""

from __future__ import annotations

from suarawarga.storage.orm.base import NAMING, AwareDateTime, Base
from suarawarga.storage.orm.bookkeeping import AppSecretRow, IdentityViewRow, JobMarkRow, LookupFailureRow
from suarawarga.storage.orm.citizens import ChannelIdentityRow, CitizenRow, ConsentRow
from suarawarga.storage.orm.complaints import AttachmentRow, ComplaintEventRow, ComplaintRow, RatingRow, SupportRow
from suarawarga.storage.orm.messaging import ChatActivityRow, ConversationRow, InboxRow, OutboxRow, ProcessedInboundRow
from suarawarga.storage.orm.staff import (
    StaffEventRow,
    StaffInviteRow,
    StaffLoginTokenRow,
    StaffMemberRow,
    StaffSessionRow,
    UnitChatRow,
)
from suarawarga.storage.orm.surveys import (
    SCORES_PER_UNSUR,
    SURVEY_DAILY,
    SURVEY_DAILY_COUNT_COLUMNS,
    SURVEY_MONTHLY,
    SURVEY_UNSUR_COLUMNS,
    SurveyResponseRow,
)
from suarawarga.storage.orm.units import CategoryRow, CityAreaRow, CityRow, PlaceNameRow, UnitRow

__all__ = [
    "NAMING",
    "SCORES_PER_UNSUR",
    "SURVEY_DAILY",
    "SURVEY_DAILY_COUNT_COLUMNS",
    "SURVEY_MONTHLY",
    "SURVEY_UNSUR_COLUMNS",
    "AppSecretRow",
    "AttachmentRow",
    "AwareDateTime",
    "Base",
    "CategoryRow",
    "ChannelIdentityRow",
    "ChatActivityRow",
    "CitizenRow",
    "CityAreaRow",
    "CityRow",
    "ComplaintEventRow",
    "ComplaintRow",
    "ConsentRow",
    "ConversationRow",
    "IdentityViewRow",
    "InboxRow",
    "JobMarkRow",
    "LookupFailureRow",
    "OutboxRow",
    "PlaceNameRow",
    "ProcessedInboundRow",
    "RatingRow",
    "StaffEventRow",
    "StaffInviteRow",
    "StaffLoginTokenRow",
    "StaffMemberRow",
    "StaffSessionRow",
    "SupportRow",
    "SurveyResponseRow",
    "UnitChatRow",
    "UnitRow",
]
