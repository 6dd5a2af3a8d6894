"""Rendering for WhatsApp: an Outbound as Cloud API message bodies within every limit, or as a template."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from suarawarga.bot.messages import (
    Attachment,
    ChannelName,
    Outbound,
    OutboundFile,
)
from suarawarga.bot.texts import Catalogue
from suarawarga.config import WhatsAppTemplate

if TYPE_CHECKING:
    pass

from suarawarga.bot.channels.text import clip, split_text
from suarawarga.bot.channels.whatsapp.limits import (
    BODY_MAX,
    BUTTON_ID_MAX,
    BUTTON_TITLE_MAX,
    BUTTONS_MAX,
    CAPTION_MAX,
    LIST_BUTTON_MAX,
    LIST_ROWS_MAX,
    ROW_DESCRIPTION_MAX,
    ROW_ID_MAX,
    ROW_TITLE_MAX,
    TEMPLATE_BUTTONS_MAX,
    TEMPLATE_PARAMS_BUDGET,
    TEXT_MAX,
)

log = logging.getLogger(__name__)

CHANNEL = ChannelName.WHATSAPP


_SPACES = re.compile(r"\s+")


def template_text(value: str) -> str:
    """Make a template parameter acceptable to Meta: one line, no tabs or runs of spaces, never empty."""
    return _SPACES.sub(" ", value).strip() or "-"


def fit_params(values: Sequence[str], budget: int = TEMPLATE_PARAMS_BUDGET) -> list[str]:
    """Clip template parameters so together they fit the budget; short ones keep their full text."""
    result = list(values)
    remaining, left = budget, len(values)
    for index in sorted(range(len(values)), key=lambda i: len(values[i])):
        share = max(remaining // left, 1)
        result[index] = clip(values[index], share)
        remaining -= len(result[index])
        left -= 1
    return result


@dataclass(frozen=True, slots=True)
class Part:
    """One Cloud API message of a rendered outbound; `file` is uploaded first and its media id filled in."""

    body: dict[str, Any]
    file: OutboundFile | None = None


def _texts(text: str) -> list[Part]:
    """Return text messages of at most 4 096 characters each."""
    return [
        Part({"type": "text", "text": {"body": piece, "preview_url": False}}) for piece in split_text(text, TEXT_MAX)
    ]


def render_parts(
    text: str,
    labels: Sequence[tuple[str, str]],
    files: Sequence[OutboundFile],
    catalogue: Catalogue,
    language: str,
    *,
    ask_location: bool = False,
) -> list[Part]:
    """Turn a message (text, (choice id, label) pairs, files) into Cloud API messages within every limit."""
    parts: list[Part] = []
    caption = len(files) == 1 and not labels and not ask_location and 0 < len(text) <= CAPTION_MAX
    for item in files:
        kind = "image" if item.kind is Attachment.PHOTO else "document"
        media: dict[str, Any] = {}
        if caption:
            media["caption"] = text
        if kind == "document":
            media["filename"] = clip(item.filename or PurePosixPath(item.path).name, 240)
        parts.append(Part({"type": kind, kind: media}, item))
    if caption:
        return parts
    if not labels:
        if ask_location and text.strip() and len(text) <= BODY_MAX:
            request = {
                "type": "location_request_message",
                "body": {"text": text},
                "action": {"name": "send_location"},
            }
            return [*parts, Part({"type": "interactive", "interactive": request})]
        return parts + [
            Part({"type": "text", "text": {"body": piece, "preview_url": False}})
            for piece in split_text(text, TEXT_MAX)
        ]
    ids = [choice_id for choice_id, _ in labels]
    titles = [label for _, label in labels]
    unique = len(set(ids)) == len(ids)
    as_buttons = (
        unique
        and len(labels) <= BUTTONS_MAX
        and all(0 < len(t) <= BUTTON_TITLE_MAX for t in titles)
        and len(set(titles)) == len(titles)
        and all(len(i) <= BUTTON_ID_MAX for i in ids)
    )
    as_list = (
        not as_buttons
        and unique
        and len(labels) <= LIST_ROWS_MAX
        and all(0 < len(t) <= ROW_DESCRIPTION_MAX for t in titles)
        and all(len(i) <= ROW_ID_MAX for i in ids)
    )
    if not (as_buttons or as_list):
        hint = catalogue.render("channel.whatsapp.menu_hint", language)
        menu = "\n".join(f"{number}. {label}" for number, label in enumerate(titles, 1))
        full = f"{text}\n\n{menu}\n\n{hint}" if text else f"{menu}\n\n{hint}"
        return parts + [
            Part({"type": "text", "text": {"body": piece, "preview_url": False}})
            for piece in split_text(full, TEXT_MAX)
        ]
    if text.strip() and len(text) <= BODY_MAX:
        body = text
    else:  # too long for an interactive body, or blank (Meta requires a visible body)
        parts += [
            Part({"type": "text", "text": {"body": piece, "preview_url": False}})
            for piece in split_text(text, TEXT_MAX)
        ]
        body = catalogue.render("channel.whatsapp.choose", language)
    interactive: dict[str, Any]
    if as_buttons:
        buttons = [{"type": "reply", "reply": {"id": i, "title": t}} for i, t in labels]
        interactive = {"type": "button", "body": {"text": body}, "action": {"buttons": buttons}}
    else:
        rows = []
        for choice_id, label in labels:
            row = {"id": choice_id, "title": clip(label, ROW_TITLE_MAX)}
            if len(label) > ROW_TITLE_MAX:
                row["description"] = label  # the full label, at most 72 characters (checked above)
            rows.append(row)
        button = clip(catalogue.render("channel.whatsapp.list_button", language), LIST_BUTTON_MAX)
        interactive = {
            "type": "list",
            "body": {"text": body},
            "action": {"button": button, "sections": [{"rows": rows}]},
        }
    return [*parts, Part({"type": "interactive", "interactive": interactive})]


def render_template(spec: WhatsAppTemplate, message: Outbound, text: str) -> dict[str, Any]:
    """Return the template message for an outbound: body parameters from its params, buttons from its choices."""
    values = [template_text(text if name == "@text" else str(message.params.get(name, ""))) for name in spec.params]
    components: list[dict[str, Any]] = []
    if values:
        parameters = [{"type": "text", "text": value} for value in fit_params(values)]
        components.append({"type": "body", "parameters": parameters})
    for index, choice in enumerate(message.choices[: min(spec.buttons, TEMPLATE_BUTTONS_MAX)]):
        components.append(
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": str(index),
                "parameters": [{"type": "payload", "payload": choice.id}],
            }
        )
    template: dict[str, Any] = {"name": spec.name, "language": {"code": spec.language}}
    if components:
        template["components"] = components
    return {"type": "template", "template": template}
