"""Flows of named steps, the per-turn context, and the engine that runs one inbound through them.

A flow is a dict of steps; each step has a `prompt` (asks its question) and a `handle` (uses the answer and
names the next step). The engine re-asks the current step after unusable input, so a step never needs to
repeat its own question. Step names are persisted, so they are strings (StrEnum values), never positions.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from suarawarga.bot.attachments import draft_paths
from suarawarga.bot.matching import match_choice
from suarawarga.bot.messages import Choice, ConversationKey, Inbound, Outbound, OutboundFile
from suarawarga.errors import UserInputError
from suarawarga.logging import SenderTags

if TYPE_CHECKING:
    from suarawarga.bot.attachments import MediaIntake
    from suarawarga.bot.texts import Catalogue
    from suarawarga.clock import Clock
    from suarawarga.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

END = "__end__"  # a handler returns this to finish its flow
# A step returns this to stay in its step without re-asking; a global command returns it to go back to where the
# chat was: the current step is asked again, or, with no flow active, the chat stays without one.
STAY = "__stay__"
COMMAND_CHOICE_PREFIX = "cmd:"  # a menu button that runs a global command, valid in any step
AMBIGUOUS = "__ambiguous__"  # normalise's command for a typed answer that fits several options (args: labels)


@dataclass(frozen=True, slots=True)
class Policy:
    """Limits and names the flows need, taken from the settings by the composition root."""

    city_code: str = "PDG"
    default_language: str = "id"
    complaints_per_day: int = 5
    max_photos: int = 5
    surveys_per_unit_per_day: int = 1
    tags: SenderTags = field(default_factory=SenderTags, compare=False)  # the log's sender tags (keyed)


@dataclass(slots=True)
class ConversationState:
    """What is remembered of one chat between messages."""

    flow: str | None = None
    step: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    language: str = "id"
    choices: list[list[str]] = field(default_factory=list)  # [[id, label(, means)], ...] of the last prompt
    forget: bool = False  # delete the stored row instead of saving it (the citizen erased their data)
    parked: dict[str, Any] | None = None  # a flow left with `menu` ({flow, step, data}), for `lanjut`
    parked_at: datetime | None = None

    def clear(self) -> None:
        """Leave any flow; keep the language."""
        self.flow, self.step, self.data, self.choices = None, None, {}, []


class Turn:
    """Everything a step sees while handling one inbound message."""

    def __init__(
        self,
        inbound: Inbound,
        state: ConversationState,
        uow: UnitOfWork,
        clock: Clock,
        policy: Policy,
        catalogue: Catalogue,
        media: MediaIntake | None = None,
    ) -> None:
        self.inbound = inbound
        self.state = state
        self.uow = uow
        self.clock = clock
        self.policy = policy
        self.catalogue = catalogue
        self.replies: list[Outbound] = []
        self.after_commit: list[Outbound] = []  # messages to other chats (e.g. the OPD), also via the outbox
        self.switch: tuple[str, dict[str, Any]] | None = None
        self.handoffs: list[tuple[ConversationKey, str, dict[str, Any]]] = []
        self.erase_files: list[str] = []  # attachment paths to delete once the transaction is committed
        self.media = media  # fetches and stores the files a step accepts (None where no channel can fetch)
        self.new_files: list[str] = []  # drafts-area files stored during this turn

    @property
    def data(self) -> dict[str, Any]:
        """Return the flow's persisted data (JSON-safe values only)."""
        return self.state.data

    @property
    def language(self) -> str:
        """Return the chat's language."""
        return self.state.language

    def reply(
        self,
        text_key: str,
        choices: tuple[Choice, ...] | list[Choice] = (),
        *,
        ask_location: bool = False,
        files: tuple[OutboundFile, ...] = (),
        **params: str,
    ) -> None:
        """Queue a message to this chat."""
        self.replies.append(
            Outbound(
                key=self.inbound.key,
                text_key=text_key,
                params=params,
                choices=tuple(choices),
                language=self.state.language,
                ask_location=ask_location,
                files=files,
            )
        )

    def reply_text(self, text_key: str, params: Mapping[str, str]) -> None:
        """Queue a plain message to this chat with the given parameters."""
        self.replies.append(
            Outbound(key=self.inbound.key, text_key=text_key, params=params, language=self.state.language)
        )

    def notify(self, outbound: Outbound) -> None:
        """Queue a message to another chat (an OPD's group, an officer)."""
        self.after_commit.append(outbound)

    def handoff(self, key: ConversationKey, flow: str, **data: Any) -> None:
        """Start flow `flow` in another chat (an officer's private chat), in the same transaction."""
        self.handoffs.append((key, flow, dict(data)))

    def start_flow(self, name: str, **data: Any) -> str:
        """Leave the current flow and enter flow `name` with initial data."""
        self.switch = (name, dict(data))
        return END

    def text(self, key: str, **params: str) -> str:
        """Render a catalogue text in the chat's language (for summaries built from several texts)."""
        return self.catalogue.render(key, self.state.language, params)


Prompt = Callable[[Turn], Awaitable[None]]
Handle = Callable[[Turn], Awaitable[str]]
Command = Callable[[Turn, str], Awaitable[str]]  # (turn, arguments) -> STAY (back to where it was), END or a switch


@dataclass(frozen=True, slots=True)
class Step:
    """One question of a flow: how to ask it and how to use the answer."""

    prompt: Prompt
    handle: Handle


@dataclass(frozen=True, slots=True)
class Flow:
    """A named conversation: an entry guard, a first step and its steps."""

    name: str
    first: str
    steps: Mapping[str, Step]
    enter: Handle | None = None  # runs on entry; returns the first step to ask, or END (e.g. limit reached)


class ConversationEngine:
    """Runs one inbound through global commands, the current step, and the prompt of the next step."""

    def __init__(
        self,
        flows: Mapping[str, Flow],
        commands: Mapping[str, Command],
        keywords: Mapping[str, str],
        idle: Command,
        group_commands: frozenset[str] = frozenset(),
        commands_with_arguments: frozenset[str] = frozenset(),
        argument_shapes: Mapping[str, Callable[[str], bool]] | None = None,
    ) -> None:
        self.flows = flows
        self.argument_shapes = argument_shapes or {}  # keyword -> whether typed text after it is its argument
        self.group_commands = group_commands
        self.commands_with_arguments = commands_with_arguments
        self.commands = commands
        self.keywords = keywords  # bare words typed as the whole message that act as commands
        self.idle = idle  # what to do with a message when no flow is active (show the menu)

    def normalise(self, inbound: Inbound, state: ConversationState) -> tuple[Inbound, str | None, str]:
        """Map typed numbers/labels to choices and keywords to commands; return (inbound, command, args)."""
        if inbound.command:
            name = inbound.command.lower()
            return inbound, self.keywords.get(name, name), (inbound.text or "").strip()
        if inbound.choice and inbound.choice.startswith(COMMAND_CHOICE_PREFIX):
            name, _, args = inbound.choice.removeprefix(COMMAND_CHOICE_PREFIX).partition(" ")
            return inbound, name, args
        text = (inbound.text or "").strip()
        if text and not inbound.choice:
            word, _, rest = text.partition(" ")
            command = self.keywords.get(word.lower())
            shape = self.argument_shapes.get(command or "")
            if command and (not rest or command in self.commands_with_arguments or (shape and shape(rest))):
                return inbound, command, rest.strip()
            match = match_choice(text, state.choices)
            if match.ambiguous:
                return inbound, AMBIGUOUS, "\n".join(match.ambiguous)
            picked = match.choice
            if picked is not None:
                if picked.startswith(COMMAND_CHOICE_PREFIX):
                    name, _, args = picked.removeprefix(COMMAND_CHOICE_PREFIX).partition(" ")
                    return inbound, name, args
                return dataclasses.replace(inbound, choice=picked, text=None), None, ""
        return inbound, None, ""

    async def run(self, turn: Turn) -> None:
        """Handle one inbound, leaving the new state in turn.state and the replies in turn.replies."""
        held = self.held_files(turn.state)
        await self._run(turn)
        self.remember_choices(turn)
        # A draft's files the state no longer holds (cancelled, filed, left for another flow) go after the commit;
        # a draft kept for `lanjut` (parked) still holds its files.
        turn.erase_files += sorted((held | set(turn.new_files)) - self.held_files(turn.state))

    @staticmethod
    def held_files(state: ConversationState) -> set[str]:
        """Return the drafts-area files a chat's state holds: its flow's, and those of a draft kept for later."""
        return draft_paths(state.data) | draft_paths(state.parked)

    @staticmethod
    def remember_choices(turn: Turn) -> None:
        """Keep the buttons of the last message sent, which a typed number or label refers to."""
        last = turn.replies[-1] if turn.replies else None
        if last is not None:
            turn.state.choices = offered(last, turn.catalogue)

    async def _run(self, turn: Turn) -> None:
        state = turn.state
        inbound, command, args = self.normalise(turn.inbound, state)
        turn.inbound = inbound
        if inbound.group and (command is None or command not in self.group_commands):
            return  # a group chat is for officers' buttons and commands; its chatter is not for the bot
        if command == AMBIGUOUS:  # never guess: list what the answer fits and ask again
            turn.reply("input.ambiguous", options="\n".join(f"• {label}" for label in args.splitlines()))
            if state.flow is None:
                await self.idle(turn, "")
            else:
                await self._reprompt(turn)
            return
        if command is not None:
            handler = self.commands.get(command)
            if handler is None:
                turn.reply("error.unknown_command")
                await self._reprompt(turn)
                return
            outcome = await handler(turn, args)
            if outcome == STAY and state.flow is None:
                outcome = END  # nothing to go back to: the chat is left without a flow, as after any command
            await self._after(turn, outcome, reprompt_on_stay=True)
            return
        flow = self.flows.get(state.flow or "")
        step = flow.steps.get(state.step or "") if flow else None
        if flow is None or step is None:
            state.clear()
            if inbound.choice:
                turn.reply("input.stale_choice")
            outcome = await self.idle(turn, "")
            await self._after(turn, outcome, reprompt_on_stay=False)
            return
        if inbound.choice is not None and inbound.choice not in {c[0] for c in state.choices}:
            turn.reply("input.stale_choice")
            await self._reprompt(turn)
            return
        if inbound.unsupported or inbound.is_empty:
            turn.reply("input.unsupported" if inbound.unsupported else "input.empty")
            await self._reprompt(turn)
            return
        try:
            outcome = await step.handle(turn)
        except UserInputError as exc:
            turn.reply_text(exc.text_key, exc.params)
            await self._reprompt(turn)
            return
        await self._after(turn, outcome, reprompt_on_stay=False)

    async def start(self, turn: Turn, name: str, data: dict[str, Any]) -> None:
        """Start a flow in a chat from outside it (a handoff), remembering the choices it offers as `run` does."""
        await self.enter(turn, name, data)
        self.remember_choices(turn)

    async def enter(self, turn: Turn, name: str, data: dict[str, Any]) -> None:
        """Start flow `name`: run its guard, then ask its first step."""
        flow = self.flows.get(name)
        if flow is None:  # a flow this deployment does not have (yet)
            turn.state.clear()
            turn.reply("error.unavailable")
            await self.idle(turn, "")
            return
        turn.state.flow, turn.state.step, turn.state.data, turn.state.choices = name, None, data, []
        first = await flow.enter(turn) if flow.enter else flow.first
        if turn.switch is not None:
            await self._switch(turn)
            return
        if first == END:
            turn.state.clear()
            return
        await self._goto(turn, first)

    async def _after(self, turn: Turn, outcome: str, *, reprompt_on_stay: bool) -> None:
        if turn.switch is not None:
            await self._switch(turn)
        elif outcome == END:
            turn.state.clear()
        elif outcome == STAY:
            if reprompt_on_stay:
                await self._reprompt(turn)
        else:
            await self._goto(turn, outcome)

    async def _switch(self, turn: Turn) -> None:
        if turn.switch is None:
            return
        name, data = turn.switch
        turn.switch = None
        await self.enter(turn, name, data)

    async def _goto(self, turn: Turn, step_name: str) -> None:
        flow = self.flows[turn.state.flow or ""]
        turn.state.step = step_name
        await self._ask(turn, flow.steps[step_name])

    async def _reprompt(self, turn: Turn) -> None:
        flow = self.flows.get(turn.state.flow or "")
        step = flow.steps.get(turn.state.step or "") if flow else None
        if step is not None:
            await self._ask(turn, step)

    async def _ask(self, turn: Turn, step: Step) -> None:
        await step.prompt(turn)


def offered(message: Outbound, catalogue: Catalogue) -> list[list[str]]:
    """Return a message's buttons as remembered for typed answers: [id, rendered label(, means)]."""
    return [
        [c.id, catalogue.render(c.text_key, message.language, c.params), *([c.means] if c.means else [])]
        for c in message.choices
    ]
