"""SQL repository of citizens, their channel identities and their consents."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, insert, select, text, update

from suarawarga.bot.messages import ChannelName
from suarawarga.complaints.model import (
    Consent,
    ConsentPurpose,
)
from suarawarga.storage.base_sql import (
    CITIZENS,
    COMPLAINTS,
    CONSENTS,
    IDENTITIES,
    SqlRepo,
    upsert_text,
)
from suarawarga.storage.citizens import ChatAccount, KnownCitizen

# Read at the start of most chat flows (consent): built once (a statement built at each call costs a new cache key).
_FIND = (
    select(CITIZENS.c.id, CITIZENS.c.consent_at, CITIZENS.c.language)
    .join(IDENTITIES, IDENTITIES.c.citizen_id == CITIZENS.c.id)
    .where(IDENTITIES.c.channel == bindparam("channel"), IDENTITIES.c.external_id == bindparam("external_id"))
)

# A new citizen: built once, as the consent below.
_NEW_CITIZEN = insert(CITIZENS).returning(CITIZENS.c.id)
_NEW_IDENTITY = insert(IDENTITIES)

# Every new citizen's first complaint or survey records a consent: compiled once (base_sql.upsert_text).
_CONSENT = upsert_text(
    CONSENTS,
    ("citizen_id", "purpose", "given_at", "text_version"),
    ("citizen_id", "purpose"),
    {"given_at": "excluded.given_at", "text_version": "excluded.text_version"},
)


# A new citizen who consents, their channel identity and the consent, in one statement on PostgreSQL (a
# data-modifying WITH): every citizen's first complaint or survey stored them with three (docs/performance.md).
_NEW_CONSENTING_PG = (
    text(
        "WITH citizen AS ("
        " INSERT INTO citizens (created_at, consent_at, language) VALUES (:now, :now, :language) RETURNING id"
        "), identity AS ("
        " INSERT INTO channel_identities (citizen_id, channel, external_id, language, created_at, last_inbound_at)"
        " SELECT id, :channel, :external_id, :language, :now, :now FROM citizen"
        "), consent AS ("
        " INSERT INTO consents (citizen_id, purpose, given_at, text_version)"
        " SELECT id, :purpose, :now, :text_version FROM citizen"
        ") SELECT id FROM citizen"
    )
    .bindparams(
        bindparam("now", type_=CITIZENS.c.created_at.type),
        bindparam("language", type_=CITIZENS.c.language.type),
        bindparam("channel", type_=IDENTITIES.c.channel.type),
        bindparam("external_id", type_=IDENTITIES.c.external_id.type),
        bindparam("purpose", type_=CONSENTS.c.purpose.type),
        bindparam("text_version", type_=CONSENTS.c.text_version.type),
    )
    .columns(CITIZENS.c.id)
)


class CitizenRepo(SqlRepo):
    """Citizens and their identities on each channel."""

    async def find(self, channel: ChannelName, external_id: str) -> KnownCitizen | None:
        """Return the citizen behind a channel identity, if known."""
        row = (await self.conn.execute(_FIND, {"channel": channel.value, "external_id": external_id})).first()
        return KnownCitizen(int(row.id), row.consent_at, row.language) if row else None

    async def register(
        self, channel: ChannelName, external_id: str, language: str, now: datetime, consent: bool
    ) -> int:
        """Create a citizen with one channel identity and return the citizen's id."""
        citizen = {"created_at": now, "consent_at": now if consent else None, "language": language}
        citizen_id = (await self.conn.execute(_NEW_CITIZEN, citizen)).scalar_one()
        identity = {
            "citizen_id": citizen_id,
            "channel": channel.value,
            "external_id": external_id,
            "language": language,
            "created_at": now,
            "last_inbound_at": now,
        }
        await self.conn.execute(_NEW_IDENTITY, identity)
        return int(citizen_id)

    async def register_consenting(
        self,
        channel: ChannelName,
        external_id: str,
        language: str,
        now: datetime,
        purpose: ConsentPurpose,
        text_version: str,
    ) -> int:
        """Create a citizen who consents to a purpose (identity and consent stored too); return the citizen's id."""
        if self.conn.dialect.name != "postgresql":  # SQLite has no INSERT inside WITH
            citizen_id = await self.register(channel, external_id, language, now, consent=True)
            await self.give_consent(citizen_id, purpose, now, text_version)
            return citizen_id
        params = {
            "now": now,
            "language": language,
            "channel": channel.value,
            "external_id": external_id,
            "purpose": purpose.value,
            "text_version": text_version,
        }
        return int((await self.conn.execute(_NEW_CONSENTING_PG, params)).scalar_one())

    async def identities(self, citizen_id: int) -> list[ChatAccount]:
        """Return a citizen's chat accounts, first registered first."""
        query = (
            select(IDENTITIES.c.channel, IDENTITIES.c.external_id, IDENTITIES.c.created_at)
            .where(IDENTITIES.c.citizen_id == citizen_id)
            .order_by(IDENTITIES.c.id)
        )
        return [
            ChatAccount(ChannelName(r.channel), r.external_id, r.created_at) for r in await self.conn.execute(query)
        ]

    async def delete(self, citizen_id: int) -> None:
        """Delete a citizen, their consents and their channel identities."""
        await self.conn.execute(delete(CONSENTS).where(CONSENTS.c.citizen_id == citizen_id))
        await self.conn.execute(delete(IDENTITIES).where(IDENTITIES.c.citizen_id == citizen_id))
        await self.conn.execute(delete(CITIZENS).where(CITIZENS.c.id == citizen_id))

    async def set_consent(self, citizen_id: int, at: datetime | None) -> None:
        """Record (or withdraw, with None) a citizen's consent."""
        await self.conn.execute(update(CITIZENS).where(CITIZENS.c.id == citizen_id).values(consent_at=at))

    async def consents(self, citizen_id: int) -> list[Consent]:
        """Return the purposes a citizen consented to, oldest first."""
        query = select(CONSENTS).where(CONSENTS.c.citizen_id == citizen_id).order_by(CONSENTS.c.given_at, CONSENTS.c.id)
        return [Consent(ConsentPurpose(r.purpose), r.given_at, r.text_version) for r in await self.conn.execute(query)]

    async def give_consent(self, citizen_id: int, purpose: ConsentPurpose, at: datetime, text_version: str) -> None:
        """Record a citizen's consent to a purpose (a renewed consent replaces the time and text version)."""
        params = {"citizen_id": citizen_id, "purpose": purpose.value, "given_at": at, "text_version": text_version}
        await self.conn.execute(_CONSENT, params)

    async def set_language(self, citizen_id: int, channel: ChannelName, external_id: str, language: str) -> None:
        """Store a citizen's language: on them, on this chat account, and on their complaints' updates."""
        await self.conn.execute(update(CITIZENS).where(CITIZENS.c.id == citizen_id).values(language=language))
        await self.conn.execute(
            update(IDENTITIES)
            .where(IDENTITIES.c.channel == channel.value, IDENTITIES.c.external_id == external_id)
            .values(language=language)
        )
        # complaints.language is the language the reporter is written to in (jobs and officers' actions).
        await self.conn.execute(
            update(COMPLAINTS).where(COMPLAINTS.c.citizen_id == citizen_id).values(language=language)
        )
