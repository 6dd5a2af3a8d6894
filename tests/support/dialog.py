"""Dialog testing: tables of (citizen says -> bot answers), run through the console channel.

Modelled on zulip_bots' `verify_dialog`: each row is one line typed in the console and the catalogue keys of
the messages the bot answers with, in order. Keys rather than full texts keep the tables valid when staff
edit the wording; `Conversation.last_texts` gives the rendered texts where a test checks them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from suarawarga.bot.attachments import AttachmentStore
from suarawarga.bot.channels.console import console_key, parse_line, render
from suarawarga.bot.dispatcher import Dispatcher
from suarawarga.bot.messages import Inbound, Outbound
from suarawarga.bot.texts import Catalogue
from suarawarga.clock import Clock


class Conversation:
    """One console chat driven by a test."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        clock: Clock,
        catalogue: Catalogue,
        chat_id: str = "citizen-1",
        store: AttachmentStore | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.store = store
        self.clock = clock
        self.catalogue = catalogue
        self.key = console_key(chat_id)
        self.last: list[Outbound] = []

    def inbound(self, line: str) -> Inbound:
        """Parse a typed line into an inbound for this chat."""
        parsed = parse_line(line, self.key, self.clock)
        assert isinstance(parsed, Inbound), parsed
        return parsed

    async def say(self, line: str) -> list[str]:
        """Type a line and return the catalogue keys of the answers."""
        return await self.send(self.inbound(line))

    async def send(self, inbound: Inbound) -> list[str]:
        """Deliver an inbound and return the catalogue keys of the answers."""
        self.last = await self.dispatcher.handle(inbound)
        for message in self.last:
            self.check_numbering(message)
        return [m.text_key for m in self.last]

    def check_numbering(self, message: Outbound) -> None:
        """Fail when an option is labelled with the number of another option: typed n must mean option n."""
        count = len(message.choices)
        for position, choice in enumerate(message.choices, 1):
            label = self.catalogue.render(choice.text_key, message.language, choice.params)
            leading = re.match(r"\s*(\d+)\b", label)
            number = int(leading.group(1)) if leading else position
            assert number == position or number > count, (
                f"{message.text_key}: option {position} is labelled {label!r}; typing {number} picks option {number}"
            )

    @property
    def last_texts(self) -> list[str]:
        """Return the rendered texts of the last answers."""
        return [render(m, self.catalogue) for m in self.last]

    async def verify(self, rows: Sequence[tuple[str, Sequence[str]]]) -> None:
        """Run each (says, answer keys) row and fail on the first answer that differs."""
        for number, (says, expected) in enumerate(rows, 1):
            got = await self.say(says)
            assert got == list(expected), (
                f"row {number}: citizen says {says!r}; bot answered {got}, expected {list(expected)}"
            )
