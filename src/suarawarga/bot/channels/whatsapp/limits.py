"""The Cloud API's documented limits (docs/platforms.md §2.6, §2.7), and the check of a message body against them."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from suarawarga.bot.messages import (
    ChannelName,
    MediaKind,
)

if TYPE_CHECKING:
    pass


log = logging.getLogger(__name__)

CHANNEL = ChannelName.WHATSAPP

# Limits of the Cloud API (docs/platforms.md §2.6, §2.7); every request is checked against them before it is sent.
TEXT_MAX = 4096
BODY_MAX = 1024  # interactive body
CAPTION_MAX = 1024
HEADER_MAX = FOOTER_MAX = 60
BUTTONS_MAX = 3
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
LIST_ROWS_MAX = 10
LIST_SECTIONS_MAX = 10
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
ROW_ID_MAX = 200
LIST_BUTTON_MAX = 20
SECTION_TITLE_MAX = 24
TEMPLATE_PARAMS_BUDGET = 900  # characters shared by a template's parameters (its whole body is at most 1 024)
TEMPLATE_BUTTONS_MAX = 10
IMAGE_MAX = 5 * 1024 * 1024
DOCUMENT_MAX = 100 * 1024 * 1024
MEDIA_MAX = {"image": IMAGE_MAX, "audio": 16 * 1024 * 1024, "video": 16 * 1024 * 1024, "document": DOCUMENT_MAX}
IMAGE_MIMES = frozenset({"image/jpeg", "image/png"})
MEDIA_KINDS = {
    "image": MediaKind.PHOTO,
    "document": MediaKind.DOCUMENT,
    "audio": MediaKind.VOICE,
    "video": MediaKind.VIDEO,
}
MEDIA_ID_TTL = timedelta(days=25)  # uploaded media live 30 days at Meta

WINDOW = timedelta(hours=24)  # the customer-service window after a chat's last message
WINDOW_MARGIN = timedelta(minutes=5)  # a send takes a moment: do not start one at the window's last second
RECENT_CONTACTS_MOST = 20_000  # chats whose last message this process remembers (about 2 MB)


class RecentContacts:
    """When chats last wrote, as this process parsed it: never later than what the database holds.

    All of a chat's updates are parsed by the process of its shard, which also sends the replies: for them the
    window is known here without a query. A chat not remembered (or whose window looks closed) is asked of the
    database, which may know a later message.
    """

    def __init__(self, most: int = RECENT_CONTACTS_MOST) -> None:
        self.most = most
        self._last: dict[str, datetime] = {}

    def note(self, chat_id: str, at: datetime) -> None:
        """Remember that a chat wrote at `at` (the oldest remembered chat is forgotten past `most`)."""
        previous = self._last.pop(chat_id, None)
        self._last[chat_id] = at if previous is None else max(previous, at)
        if len(self._last) > self.most:
            del self._last[next(iter(self._last))]

    def forget(self, chat_id: str) -> None:
        """Forget a chat (Meta said its window is closed, whatever we saw)."""
        self._last.pop(chat_id, None)

    def get(self, chat_id: str) -> datetime | None:
        """Return when the chat last wrote, as far as this process saw."""
        return self._last.get(chat_id)


def limit_problems(body: Mapping[str, Any]) -> list[str]:
    """Return every documented limit a message body breaks (an empty list when it may be sent)."""
    problems: list[str] = []

    def check(value: Any, limit: int, what: str, *, required: bool = True) -> None:
        """Note a missing or over-long text field."""
        if value is None and not required:
            return
        if not isinstance(value, str) or (required and not value.strip()):
            problems.append(f"{what} missing")
        elif len(value) > limit:
            problems.append(f"{what} longer than {limit}")

    kind = body.get("type")
    if kind == "text":
        check(body.get("text", {}).get("body"), TEXT_MAX, "text body")
    elif kind in ("image", "document"):
        media = body.get(kind, {})
        if bool(media.get("id")) == bool(media.get("link")):
            problems.append(f"{kind} needs exactly one of id and link")
        check(media.get("caption"), CAPTION_MAX, "caption", required=False)
    elif kind == "interactive":
        interactive = body.get("interactive", {})
        check(interactive.get("body", {}).get("text"), BODY_MAX, "interactive body")
        if "header" in interactive:
            check(interactive["header"].get("text"), HEADER_MAX, "header")
        if "footer" in interactive:
            check(interactive["footer"].get("text"), FOOTER_MAX, "footer")
        action = interactive.get("action", {})
        if interactive.get("type") == "button":
            buttons = action.get("buttons", [])
            if not 1 <= len(buttons) <= BUTTONS_MAX:
                problems.append(f"{len(buttons)} buttons")
            for button in buttons:
                check(button.get("reply", {}).get("title"), BUTTON_TITLE_MAX, "button title")
                check(button.get("reply", {}).get("id"), BUTTON_ID_MAX, "button id")
            titles = [b.get("reply", {}).get("title") for b in buttons]
            if len(set(titles)) != len(titles):
                problems.append("button titles not unique")
        elif interactive.get("type") == "list":
            check(action.get("button"), LIST_BUTTON_MAX, "list button")
            sections = action.get("sections", [])
            rows = [row for section in sections for row in section.get("rows", [])]
            if not 1 <= len(sections) <= LIST_SECTIONS_MAX or not 1 <= len(rows) <= LIST_ROWS_MAX:
                problems.append(f"{len(sections)} sections with {len(rows)} rows")
            for section in sections:
                check(section.get("title"), SECTION_TITLE_MAX, "section title", required=len(sections) > 1)
            for row in rows:
                check(row.get("title"), ROW_TITLE_MAX, "row title")
                check(row.get("id"), ROW_ID_MAX, "row id")
                check(row.get("description"), ROW_DESCRIPTION_MAX, "row description", required=False)
            ids = [row.get("id") for row in rows]
            if len(set(ids)) != len(ids):
                problems.append("row ids not unique")
        elif interactive.get("type") != "location_request_message":
            problems.append(f"interactive type {interactive.get('type')!r}")
    elif kind == "template":
        template = body.get("template", {})
        check(template.get("name"), 512, "template name")
        for component in template.get("components", []):
            for parameter in component.get("parameters", []):
                text = parameter.get("text")
                if text is not None and (not text.strip() or "\n" in text or "\t" in text or "     " in text):
                    problems.append("template parameter empty or with new lines, tabs or 5 spaces")
        buttons = [c for c in template.get("components", []) if c.get("type") == "button"]
        if len(buttons) > TEMPLATE_BUTTONS_MAX:
            problems.append("too many template buttons")
    else:
        problems.append(f"message type {kind!r}")
    return problems
