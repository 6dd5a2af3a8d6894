"""The Telegram channel on python-telegram-bot 22: Bot API updates -> Inbound, Outbound -> Bot API calls.

Modules: `receiving` (webhook route, chat of an update, parser), `sender` (rendering and sending), `pacing`
(Telegram's rate limits), `pauses` (chats waiting longer than a send may block), `channel` (the client, webhook
registration, long polling, the factory), `request` (a leaner HTTP client for PTB,
`SUARAWARGA_TELEGRAM_REQUEST=tuned`).

Inbound: updates arrive by webhook (POST /telegram, secret header checked in constant time before parsing; see
`receiving.telegram_route`) or by long polling (`TelegramChannel.poll`); either way the raw update is stored in the
inbox before it is acknowledged. The parser turns a stored update into an `Inbound`: text, commands (`/cmd@bot
args`, deep links `/start payload`), button presses (answered at once; the keyboard of an answered question is
removed so an old button cannot be replayed), photos, documents, voice notes and videos (as references: `fetch`
downloads one only when a step accepts it), a shared location or contact, and anything else as "unsupported".

Outbound: a message is rendered from the catalogue in its language with HTML-escaped parameters; texts over 4 096
characters are split (the keyboard rides on the last part); choices become an inline keyboard whose callback data
is the choice id (at most 64 bytes, checked here); where a location is asked in a private chat, a reply keyboard
offers a "share location" button and the choices as text buttons; files go out with sendPhoto/sendDocument from
the attachment store, and the file_id Telegram returns is reused for the next send of the same file.

Pacing (docs/platforms.md §1.1): at most ~30 calls a second overall, a short burst then 1 a second per private chat, 20
a minute per group. Calls are spaced evenly (28 a second by default) and take their turn first come, first served,
so a large batch (the weekly digests) goes out at a steady rate without bursts that Telegram would answer with 429.
Different chats are sent concurrently, each chat in order. A wait longer than a few seconds
(a group's minute is full, or a 429 with a long `retry_after`) is not slept through: the message, and every later
one to that chat, goes back to the outbox with that wait, so the chat's order holds and other chats go on.
Errors: 429 -> retry after `retry_after`; 403 (blocked, kicked) and "chat not found" -> unreachable; other 400s ->
failed; network errors and timeouts -> retry with back-off.
"""

from suarawarga.bot.channels.telegram.channel import TelegramChannel, telegram_channel
from suarawarga.bot.channels.telegram.pacing import Limits, Pacer
from suarawarga.bot.channels.telegram.receiving import chat_of, telegram_route
from suarawarga.bot.channels.telegram.sender import TEXT_LIMIT, TelegramSender
from suarawarga.bot.channels.text import split_utf16, utf16_length

__all__ = [
    "TEXT_LIMIT",
    "Limits",
    "Pacer",
    "TelegramChannel",
    "TelegramSender",
    "chat_of",
    "split_text",
    "telegram_channel",
    "telegram_route",
    "utf16_length",
]


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split a text into parts of at most `limit` UTF-16 units (Telegram's unit), at a break where possible."""
    return split_utf16(text, limit)
