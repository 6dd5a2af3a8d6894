"""Exceptions of SuaraWarga.

SuaraWargaError
├── UserInputError      a citizen's or officer's input the current step cannot use; carries a text key
├── NotFound            a unit, category, complaint or code that does not exist
├── NotAllowed          an action the actor may not take
├── ConfigError         invalid settings or seed data
└── ChannelError        a messaging platform refused or failed a request
"""

from __future__ import annotations

from collections.abc import Mapping


class SuaraWargaError(Exception):
    """Base of every error raised on purpose by SuaraWarga."""


class UserInputError(SuaraWargaError):
    """Input the current step cannot use: the user is re-prompted with `text_key` and the state is kept."""

    def __init__(self, text_key: str, **params: str) -> None:
        super().__init__(text_key)
        self.text_key = text_key
        self.params: Mapping[str, str] = params


class NotFound(SuaraWargaError):
    """A referenced record does not exist."""


class NotAllowed(SuaraWargaError):
    """The actor is not allowed to take this action."""


class ConfigError(SuaraWargaError):
    """Settings or seed data are invalid."""


class ChannelError(SuaraWargaError):
    """A messaging platform refused or failed a request."""
