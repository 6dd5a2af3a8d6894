"""Signing staff in to the web console without passwords: a one-time link asked for in chat, then a session.

A joined officer sends `masuk`; the bot answers with a link holding a random token, valid `LINK_LIFETIME`
and usable once. Opening it starts a session whose random token is the browser's cookie. Only SHA-256 hashes
of both tokens are stored, so a copy of the database signs nobody in. A session ends when the officer signs
out (web or chat), after `IDLE_LIFETIME` without use, `MAX_LIFETIME` after it began, or when the officer is
removed from their unit. Every request re-reads the memberships, so a changed role counts at once.
Use cases on an open unit of work (the caller commits).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from suarawarga.bot.messages import ChannelName
from suarawarga.complaints.access import Reach, reach
from suarawarga.complaints.model import Staff
from suarawarga.storage.uow import UnitOfWork

LINK_LIFETIME = timedelta(minutes=10)
IDLE_LIFETIME = timedelta(hours=8)
MAX_LIFETIME = timedelta(days=7)
TOUCH_EVERY = timedelta(minutes=1)  # a session's last use is written at most this often (not on every page)
TOKEN_BYTES = 32


def new_token() -> str:
    """Return a fresh random token for a link or a session (256 bits, URL-safe)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """Return the stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(session_token: str) -> str:
    """Return the form token of a session: derived from its secret cookie, so it needs no storage of its own."""
    return hmac.new(session_token.encode(), b"suarawarga-staff-form", hashlib.sha256).hexdigest()


def csrf_valid(session_token: str, given: str) -> bool:
    """Tell, in constant time, whether a form carried its session's token."""
    return hmac.compare_digest(csrf_token(session_token).encode(), given.encode())


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The member of staff behind a console session, with what they may see and do."""

    session_id: int
    staff: Staff  # the membership that asked for the link
    reach: Reach  # every active membership of the same chat account

    @property
    def memberships(self) -> tuple[Staff, ...]:
        """Return the person's active memberships."""
        return self.reach.memberships


async def issue_link(uow: UnitOfWork, staff: Staff, now: datetime) -> str:
    """Store a new one-time sign-in link for a member of staff and return its token (shown once, in chat)."""
    token = new_token()
    await uow.staff_sessions.add_link(hash_token(token), staff.id, now, now + LINK_LIFETIME)
    return token


async def open_link(uow: UnitOfWork, token: str, now: datetime) -> tuple[str, Staff] | None:
    """Use up a sign-in link and start a session: return the session's token and the member; None if unusable."""
    staff_id = await uow.staff_sessions.use_link(hash_token(token[:100]), now)
    if staff_id is None:
        return None
    staff = await uow.staff.get(staff_id)
    if staff is None:  # removed after asking for the link
        return None
    session = new_token()
    await uow.staff_sessions.add(hash_token(session), staff.id, now)
    return session, staff


async def signed_in(uow: UnitOfWork, session_token: str, now: datetime) -> SignedIn | None:
    """Return who a session cookie belongs to, or None when it is unknown, ended, idle too long or too old."""
    stored = await uow.staff_sessions.get(hash_token(session_token[:100]))
    if stored is None or stored.ended_at is not None:
        return None
    if now - stored.last_seen_at >= IDLE_LIFETIME or now - stored.created_at >= MAX_LIFETIME:
        await uow.staff_sessions.end(stored.id, now)
        return None
    staff = await uow.staff.get(stored.staff_id)
    if staff is None:
        await uow.staff_sessions.end(stored.id, now)
        return None
    if now - stored.last_seen_at >= TOUCH_EVERY:
        await uow.staff_sessions.touch(stored.id, now)
    memberships = await uow.staff.memberships(ChannelName(staff.channel), staff.external_id)
    return SignedIn(stored.id, staff, await reach(uow, memberships))


async def sign_out(uow: UnitOfWork, session_id: int, now: datetime) -> None:
    """End one console session (the officer pressed Keluar)."""
    await uow.staff_sessions.end(session_id, now)


async def sign_out_everywhere(uow: UnitOfWork, memberships: list[Staff], now: datetime) -> int:
    """End every console session and unused link of a person's memberships; return how many sessions ended."""
    return await uow.staff_sessions.end_for_staff([m.id for m in memberships], now)
