"""WhatsApp Cloud API channel: the verified webhook, the parser of stored messages, and the sender.

Modules: `receiving` (webhook, statuses, chat of a delivery, parser), `sender` (parcels, the window, uploads),
`render` (message bodies and templates), `limits` (the Cloud API's limits), `api` (the Graph API client and
Meta's error codes), `transport` (its calls on httpx or on the toolkit's keep-alive client), `channel` (the
parts wired on one transport, the factory).

Inbound: Meta POSTs to /whatsapp. The X-Hub-Signature-256 HMAC of the raw body is checked before anything is
parsed; each message is stored in the inbox under its wamid (a repeated delivery stops there), and delivery
statuses update the outbox row that was sent as that wamid. The parser keeps media as references that `fetch`
downloads only when a step accepts the file (a fresh URL is asked for then: Meta's expire within minutes), and
marks a message as opening the 24-hour window (`Inbound.opens_window`): the turn that handles it stores when the
chat last wrote, as free-form messages may only be sent within 24 hours of that.

Outbound: choices become reply buttons (at most 3, titles of at most 20 characters), a list (at most 10
rows) or a numbered text menu the citizen answers by typing the number; text is split at 4 096 characters;
files are uploaded and sent as image or document messages. Every limit is enforced here, before Meta sees
the request. Outside the 24-hour window a message goes out as the approved template configured for its kind
(`Outbound.notice`). Meta's error codes decide between a retry, a switch to the template, unreachable and
failed (docs/platforms.md §2).
"""

from suarawarga.bot.channels.whatsapp.api import GraphApi, GraphError, classify
from suarawarga.bot.channels.whatsapp.channel import WhatsAppChannel, whatsapp_channel
from suarawarga.bot.channels.whatsapp.receiving import chat_of, signature_ok
from suarawarga.bot.channels.whatsapp.render import render_parts, render_template

__all__ = [
    "GraphApi",
    "GraphError",
    "WhatsAppChannel",
    "chat_of",
    "classify",
    "render_parts",
    "render_template",
    "signature_ok",
    "whatsapp_channel",
]
